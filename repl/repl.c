/* repl.c — the interactive REPL: libedit line editing and history, multi-line input, Ctrl-C,
 * meta-commands (:help :time :doc ...) and completion. Uses only the public API in sx.h.
 *
 * Global state: one session per process, in `R` below. The Ctrl-C thread and the script-output
 * callback need to reach it, and neither can be handed a pointer to it.
 *
 * Ctrl-C: SIGINT stays blocked in every thread and one thread of ours takes it with sigwait.
 * A handler would not do: libgccjit runs GCC's driver in-process for every native compile, and
 * the driver installs its own SIGINT handler (delete temp files, then die) process-wide. With
 * the signal blocked everywhere, whatever handler is installed never runs. During an
 * evaluation the thread calls sx_interrupt; at the prompt it wakes libedit's read through a
 * pipe, since a blocked signal cannot interrupt read(). SIGCONT (after Ctrl-Z) and SIGWINCH
 * take the same road, so the line is redrawn in raw mode or at the new width. */
#include <errno.h>
#include <histedit.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "repl.h"

#define PROMPT "sx> "
#define PROMPT_MORE "... "
#define HISTORY_SIZE 1000
#define CHUNK "<repl>"

typedef struct {
  char *s;
  size_t len, cap;
} text;

static struct {
  sx_state *S;
  EditLine *el;
  History *hist;
  char *hist_path; /* NULL: history is not saved */
  const char *prompt;
  text pending;   /* the input read so far for the current, incomplete expression */
  int at_bol;     /* the terminal's cursor is at the start of a line */
  int quit;
  int wake[2];    /* the Ctrl-C thread writes here to end a read at the prompt */
  pthread_mutex_t lock; /* orders Ctrl-C against the start and end of evaluations */
  int evaluating;       /* an evaluation is running: Ctrl-C interrupts it */
  int eval_sigints;     /* Ctrl-Cs during this evaluation */
  volatile int sigint;  /* Ctrl-C seen since the main loop last cleared it */
} R = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = {-1, -1}};

/* ---- text buffers and output ---------------------------------------------------------------- */

static void text_add(text *t, const char *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + n + 1) cap *= 2;
    char *ns = realloc(t->s, cap);
    if (!ns) {
      fputs("sx: out of memory\n", stderr);
      exit(70);
    }
    t->s = ns;
    t->cap = cap;
  }
  memcpy(t->s + t->len, s, n);
  t->len += n;
  t->s[t->len] = 0;
}

static void put_n(const char *s, size_t n) {
  if (!n) return;
  fwrite(s, 1, n, stdout);
  R.at_bol = s[n - 1] == '\n';
}

static void put(const char *s) { put_n(s, strlen(s)); }

static void putf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void putf(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  put(buf);
}

/* Output that did not end its line gets one before the REPL prints, so results and prompts
 * always start in the first column. */
static void fresh_line(void) {
  if (!R.at_bol) put("\n");
}

static void script_output(void *ud, const char *s, size_t n) {
  (void)ud;
  put_n(s, n);
}

static void watched_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGCONT);
  sigaddset(set, SIGWINCH);
}

void repl_configure(sx_config *cfg) {
  cfg->write = script_output;
  cfg->write_ud = NULL;
  /* before sx_open starts any thread, so that every thread inherits the mask */
  sigset_t set;
  watched_signals(&set);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* ---- reading ahead: is the input complete? -------------------------------------------------- */

/* What a scan of the input so far found. The reader decides what the forms are; this only tells
 * whether to ask for another line: brackets are counted outside strings, comments and character
 * literals like #\( . */
typedef struct {
  int depth;     /* open brackets */
  int in_string;
  int block;     /* nesting of #| |# comments */
  int prefix;    /* a ' ` , ,@ or #; still waits for its datum */
  int comment;   /* a ; comment was seen */
} scan_state;

static int is_delim(int c) {
  return c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '(' ||
         c == ')' || c == '[' || c == ']' || c == '{' || c == '}' || c == '"' || c == ';' ||
         c == '\'' || c == '`' || c == ',';
}

static void scan(scan_state *st, const char *s, size_t n) {
  const char *end = s + n;
  while (s < end) {
    char c = *s++;
    if (st->in_string) {
      if (c == '\\' && s < end) s++;
      else if (c == '"') st->in_string = 0;
    } else if (st->block) {
      if (c == '|' && s < end && *s == '#') s++, st->block--;
      else if (c == '#' && s < end && *s == '|') s++, st->block++;
    } else if (c == ';') {
      st->comment = 1;
      while (s < end && *s != '\n') s++;
    } else if (c == '"') {
      st->in_string = 1;
      st->prefix = 0;
    } else if (c == '#' && s < end && *s == '|') {
      s++, st->block = 1;
    } else if (c == '#' && s < end && *s == ';') {
      s++, st->prefix = 1;
    } else if (c == '#' && s < end && *s == '\\') {
      s++;
      if (s < end) s++;
      while (s < end && ((unsigned char)*s & 0xc0) == 0x80) s++; /* rest of a UTF-8 char */
      st->prefix = 0;
    } else if (c == '\'' || c == '`' || c == ',') {
      if (c == ',' && s < end && *s == '@') s++;
      st->prefix = 1;
    } else if (c == '(' || c == '[' || c == '{') {
      st->depth++;
      st->prefix = 0;
    } else if (c == ')' || c == ']' || c == '}') {
      st->depth--;
      st->prefix = 0;
    } else if (!is_delim((unsigned char)c)) {
      st->prefix = 0;
    }
  }
}

static int input_complete(const char *s, size_t n) {
  scan_state st = {0};
  scan(&st, s, n);
  return !st.in_string && !st.block && !st.prefix && st.depth <= 0;
}

static const char *skip_blanks(const char *s) {
  for (;;) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    if (*s != ';') return s;
    while (*s && *s != '\n') s++;
  }
}

/* (define ...) and (define-macro ...) print nothing when they succeed, as in Guile or Racket. */
static int is_definition(const char *form) {
  const char *p = skip_blanks(form);
  if (strncmp(p, "(define", 7)) return 0;
  p += 7;
  if (!strncmp(p, "-macro", 6)) p += 6;
  return is_delim((unsigned char)*p);
}

/* ---- Ctrl-C --------------------------------------------------------------------------------- */

/* Wake-up bytes for the prompt's read. */
#define WAKE_INTERRUPT 'i'
#define WAKE_CONTINUE 'c'
#define WAKE_RESIZE 'w'

static void wake(char why) {
  ssize_t w = write(R.wake[1], &why, 1);
  (void)w;
}

static void *signal_thread(void *ud) {
  (void)ud;
  sigset_t set;
  watched_signals(&set);
  for (;;) {
    int sig;
    if (sigwait(&set, &sig)) continue;
    pthread_mutex_lock(&R.lock);
    if (sig != SIGINT) {
      if (!R.evaluating) wake(sig == SIGCONT ? WAKE_CONTINUE : WAKE_RESIZE);
      pthread_mutex_unlock(&R.lock);
      continue;
    }
    R.sigint = 1;
    if (R.evaluating) {
      /* A third Ctrl-C means the evaluation is stuck where the VM does not poll (inside one
       * long C call): leave rather than hold the terminal hostage. */
      if (++R.eval_sigints >= 3) {
        static const char msg[] = "\nsx: the evaluation does not answer Ctrl-C; leaving\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(130);
      }
      sx_interrupt(R.S);
    } else {
      wake(WAKE_INTERRUPT);
    }
    pthread_mutex_unlock(&R.lock);
  }
  return NULL;
}

static void start_signal_thread(void) {
  pthread_t t;
  if (pipe(R.wake) == 0 && pthread_create(&t, NULL, signal_thread, NULL) == 0) {
    pthread_detach(t);
    return;
  }
  fputs("sx: cannot watch for Ctrl-C; it will end the session\n", stderr);
  sigset_t set;
  watched_signals(&set);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static void begin_eval(void) {
  pthread_mutex_lock(&R.lock);
  sx_clear_interrupt(R.S);
  R.sigint = 0;
  R.eval_sigints = 0;
  R.evaluating = 1;
  pthread_mutex_unlock(&R.lock);
}

static void end_eval(void) {
  pthread_mutex_lock(&R.lock);
  R.evaluating = 0;
  sx_clear_interrupt(R.S); /* a Ctrl-C that came after the VM's last poll */
  if (R.sigint) R.at_bol = 0; /* the terminal echoed ^C */
  pthread_mutex_unlock(&R.lock);
  fflush(stdout);
}

/* libedit's character reader, made to return "interrupted" when Ctrl-C is pressed, and to
 * redraw the line after a resize or a Ctrl-Z and fg (the shell leaves the terminal cooked). */
static int read_key(EditLine *el, wchar_t *wc) {
  char buf[MB_LEN_MAX];
  size_t n = 0;
  for (;;) {
    struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = R.wake[0], .events = POLLIN}};
    if (poll(fds, R.wake[0] >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (R.wake[0] >= 0 && (fds[1].revents & POLLIN)) {
      char why[64];
      ssize_t k = read(R.wake[0], why, sizeof why);
      if (k > 0 && memchr(why, WAKE_INTERRUPT, (size_t)k)) {
        errno = EINTR;
        return -1;
      }
      if (k > 0 && memchr(why, WAKE_RESIZE, (size_t)k)) el_resize(el); /* as libedit does */
      if (k > 0 && memchr(why, WAKE_CONTINUE, (size_t)k)) {
        el_set(el, EL_PREP_TERM, 0); /* forget the mode libedit believes in, then set raw */
        el_set(el, EL_PREP_TERM, 1);
        el_set(el, EL_REFRESH);
      }
      continue;
    }
    if (!fds[0].revents) continue;
    ssize_t k = read(0, buf + n, 1);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k <= 0) return (int)k;
    n++;
    mbstate_t mbs;
    memset(&mbs, 0, sizeof mbs);
    size_t m = mbrtowc(wc, buf, n, &mbs);
    if (m == (size_t)-2 && n < sizeof buf) continue; /* more bytes of one character */
    if (m == (size_t)-1 || m == (size_t)-2) { /* not UTF-8: drop it */
      n = 0;
      continue;
    }
    return 1;
  }
}

/* Drops a Ctrl-C pressed between prompts (while the REPL itself was busy), and wake-ups the
 * next el_gets makes moot. */
static void drain_wake(void) {
  pthread_mutex_lock(&R.lock);
  R.sigint = 0;
  if (R.wake[0] >= 0) {
    struct pollfd p = {.fd = R.wake[0], .events = POLLIN};
    char drain[64];
    while (poll(&p, 1, 0) > 0 && read(R.wake[0], drain, sizeof drain) > 0) {
    }
  }
  pthread_mutex_unlock(&R.lock);
}

/* ---- evaluating and printing ---------------------------------------------------------------- */

static void show_error(void) {
  const char *msg = sx_error_message(R.S);
  const char *e = strstr(msg, "error: ");
  fflush(stdout);
  fresh_line();
  if (!e) {
    putf("error: %s\n", msg);
  } else {
    put(e);
    put("\n");
    /* "FILE:LINE:COL: error: ..." — the position helps for loaded files, not for the line
     * just typed */
    if (e - msg > 2 && strncmp(msg, CHUNK ":", strlen(CHUNK) + 1))
      putf("  at %.*s\n", (int)(e - msg - 2), msg);
  }
  /* The outermost frame is the REPL's own top-level form: leave it out. */
  const char *bt = sx_error_backtrace(R.S);
  size_t n = bt ? strlen(bt) : 0;
  const char *last = n ? strrchr(bt, '\n') : NULL;
  if (last && !strncmp(last, "\n  <lambda> (" CHUNK ":", strlen(CHUNK) + 14)) n = (size_t)(last - bt);
  if (n && strchr(bt, '\n') && strchr(bt, '\n') < bt + n) {
    put_n(bt, n);
    put("\n");
  }
}

static void show_value(sx_value v) {
  fflush(stdout);
  fresh_line();
  put(sx_to_string(R.S, v, 1));
  put("\n");
}

/* $1 $2 $3: the last three results. */
static void remember(sx_value v) {
  sx_value old;
  if (sx_get_global(R.S, "$2", &old) == SX_OK) sx_set_global(R.S, "$3", old);
  if (sx_get_global(R.S, "$1", &old) == SX_OK) sx_set_global(R.S, "$2", old);
  sx_set_global(R.S, "$1", v);
}

static sx_status eval_source(const char *src, sx_value *out) {
  begin_eval();
  sx_status st = sx_eval_string(R.S, src, CHUNK, out);
  end_eval();
  return st;
}

/* Evaluates the forms of an input one by one, printing each value; stops at the first error. */
static void run_forms(const char *src, size_t len) {
  size_t pos = 0, end;
  for (;;) {
    int r = sx_next_form(R.S, src, len, pos, CHUNK, &end);
    if (r == 0) return;
    if (r < 0) {
      show_error();
      return;
    }
    char *form = strndup(src + pos, end - pos);
    if (!form) return;
    sx_value v;
    sx_status st = eval_source(form, &v);
    if (st != SX_OK) {
      show_error();
      free(form);
      return;
    }
    if (!is_definition(form) || strcmp(sx_to_string(R.S, v, 1), "nil")) {
      show_value(v);
      remember(v);
    }
    free(form);
    pos = end;
  }
}

static int has_global(const char *name) { return sx_get_global(R.S, name, NULL) == SX_OK; }

/* ---- meta-commands -------------------------------------------------------------------------- */

typedef struct {
  const char *name, *args, *help;
  void (*run)(const char *arg);
} meta_cmd;

static void cmd_help(const char *arg);
static void cmd_quit(const char *arg);
static void cmd_load(const char *arg);
static void cmd_time(const char *arg);
static void cmd_stats(const char *arg);
static void cmd_jit(const char *arg);
static void cmd_reset(const char *arg);
static void cmd_disasm(const char *arg);
static void cmd_doc(const char *arg);
static void cmd_env(const char *arg);

static const meta_cmd metas[] = {
    {":help", "", "this text", cmd_help},
    {":quit", "", "leave (so do Ctrl-D on an empty line and (exit))", cmd_quit},
    {":load", "FILE", "evaluate the forms of FILE here", cmd_load},
    {":time", "EXPR", "evaluate EXPR; its value, wall time and bytes allocated", cmd_time},
    {":stats", "", "the native tier's report and key memory figures", cmd_stats},
    {":jit", "", "the native tier's full statistics (jit-stats)", cmd_jit},
    {":reset", "", "drop the unpinned native code (jit-reset!)", cmd_reset},
    {":disasm", "NAME", "the bytecode of a procedure (NAME or an expression)", cmd_disasm},
    {":doc", "NAME", "one-line doc of a primitive, special form or command", cmd_doc},
    {":env", "[PREFIX]", "the globals you have defined, with their values", cmd_env},
    {NULL, NULL, NULL, NULL},
};

static void cmd_help(const char *arg) {
  (void)arg;
  put("Type an expression to evaluate it; its value is printed with write. An unfinished\n"
      "expression continues on the next line (prompt \"" PROMPT_MORE "\"); several on one line\n"
      "are all evaluated. $1 $2 $3 hold the last three results ($1 the latest).\n\n");
  for (const meta_cmd *m = metas; m->name; m++) {
    char head[40];
    snprintf(head, sizeof head, "%s %s", m->name, m->args);
    putf("  %-20s %s\n", head, m->help);
  }
  put("\nKeys: Tab completes names; Up/Down walk the history and Ctrl-R searches it; Emacs\n"
      "editing keys; Ctrl-C interrupts an evaluation or clears the line; Ctrl-D on an empty\n"
      "line leaves. History is kept in ~/.sx_history ($SX_HISTORY; sx --no-history keeps none).\n"
      "Other input that starts with a colon is SX: keywords evaluate to themselves.\n");
}

static void cmd_quit(const char *arg) {
  (void)arg;
  R.quit = 1;
}

static char *expand_path(const char *arg) {
  size_t n = strlen(arg);
  if (n >= 2 && arg[0] == '"' && arg[n - 1] == '"') return strndup(arg + 1, n - 2);
  const char *home = getenv("HOME");
  if (arg[0] == '~' && arg[1] == '/' && home) {
    char *p = malloc(strlen(home) + n);
    if (p) sprintf(p, "%s%s", home, arg + 1);
    return p;
  }
  return strdup(arg);
}

static void cmd_load(const char *arg) {
  if (!*arg) {
    put("usage: :load FILE\n");
    return;
  }
  char *path = expand_path(arg);
  if (!path) return;
  begin_eval();
  sx_status st = sx_eval_file(R.S, path, NULL);
  end_eval();
  if (st == SX_OK) putf("loaded %s\n", path);
  else show_error();
  free(path);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void human_bytes(char *out, size_t n, double b) {
  if (b < 1024) snprintf(out, n, "%.0f bytes", b);
  else if (b < 1024 * 1024) snprintf(out, n, "%.1f KiB", b / 1024);
  else snprintf(out, n, "%.1f MiB", b / (1024 * 1024));
}

static void cmd_time(const char *arg) {
  if (!*arg) {
    put("usage: :time EXPR\n");
    return;
  }
  sx_value v;
  uint64_t a0 = sx_allocated_bytes(R.S);
  double t0 = now_ms();
  sx_status st = eval_source(arg, &v);
  double t1 = now_ms();
  uint64_t a1 = sx_allocated_bytes(R.S);
  if (st == SX_OK) {
    show_value(v);
    remember(v);
  } else {
    show_error();
  }
  char alloc[64];
  human_bytes(alloc, sizeof alloc, (double)(a1 - a0));
  putf("time: %.3f ms wall, %s allocated\n", t1 - t0, alloc);
}

/* Evaluates a fixed expression of the REPL's own and shows its value (display form for a
 * string, nothing for nil). */
static int show_expr(const char *src) {
  sx_value v;
  if (eval_source(src, &v) != SX_OK) return 0;
  const char *s = sx_to_string(R.S, v, 0);
  if (strcmp(sx_to_string(R.S, v, 1), "nil")) {
    fresh_line();
    put(s);
    put("\n");
  }
  return 1;
}

static void cmd_stats(const char *arg) {
  (void)arg;
  if (!has_global("jit-report")) put("native tier: off\n");
  else if (!show_expr("(jit-report)")) show_error();
  static const char memory[] =
      "(let* ((m (memory-stats))"
      "       (size (fn (b) (if (< b 1048576) (str (quotient b 1024) \" KiB\")"
      "                         (str (/ (round (/ b 104857.6)) 10) \" MiB\"))))"
      "       (some (fn (k) (let ((v (get m k))) (and v (> v 0) v)))))"
      "  (str \"memory: heap \" (size (get m :heap-bytes 0))"
      "       \" (\" (size (get m :heap-free-bytes 0)) \" free), rss \" (size (get m :rss-bytes 0))"
      "       \", gc count \" (get m :gc-count 0)"
      "       (if (some :live-arrays)"
      "           (str \", \" (get m :live-arrays) \" arrays (\" (size (get m :live-array-bytes 0)) \")\")"
      "           \"\")"
      "       (if (some :wasm-bytes) (str \", wasm memory \" (size (get m :wasm-bytes))) \"\")))";
  if (!show_expr(memory) && !show_expr("(memory-stats)")) show_error();
}

static void cmd_jit(const char *arg) {
  (void)arg;
  if (!has_global("jit-stats")) {
    put("native tier: off\n");
    return;
  }
  sx_value v;
  if (eval_source("(jit-stats)", &v) == SX_OK) show_value(v);
  else show_error();
}

static void cmd_reset(const char *arg) {
  (void)arg;
  if (!has_global("jit-reset!")) {
    put("native tier: off (no native code to reset)\n");
    return;
  }
  sx_value v;
  if (eval_source("(jit-reset!)", &v) != SX_OK) {
    show_error();
    return;
  }
  put("native code cache reset\n");
}

/* A name's value, or an expression's: `:disasm f` and `:disasm (fn (x) x)` both work. */
static int value_of(const char *arg, sx_value *v) {
  return sx_get_global(R.S, arg, v) == SX_OK || eval_source(arg, v) == SX_OK;
}

static void cmd_disasm(const char *arg) {
  sx_value v;
  if (!*arg) {
    put("usage: :disasm NAME (or an expression giving a procedure)\n");
    return;
  }
  if (!value_of(arg, &v)) {
    show_error();
    return;
  }
  const char *listing = sx_disassemble(R.S, v);
  if (!listing) {
    show_error();
    return;
  }
  put(listing);
  fresh_line();
}

static const struct {
  const char *name, *doc;
} special_docs[] = {
    {"quote", "(quote datum) or 'datum  The datum itself, not evaluated."},
    {"quasiquote", "(quasiquote template) or `template  The template with ,x and ,@xs filled in."},
    {"unquote", ",x  Inside a quasiquote: the value of x."},
    {"unquote-splicing", ",@xs  Inside a quasiquote: the elements of the list xs, spliced."},
    {"if", "(if test then [else])  then when test is truthy (not false or nil), else else or nil."},
    {"define", "(define name value) or (define (name params...) body...)  A definition; nil."},
    {"set!", "(set! name value)  Assigns an existing variable; nil."},
    {"fn", "(fn (params...) body...)  A procedure; rest parameter as (a & rest) or (a . rest)."},
    {"lambda", "(lambda (params...) body...)  The same as fn."},
    {"let", "(let ((name value)...) body...), or named: (let loop ((name init)...) body...)."},
    {"let*", "(let* ((name value)...) body...)  Bindings made in order, each seeing the ones before."},
    {"letrec", "(letrec ((name value)...) body...)  Mutually recursive local bindings."},
    {"letrec*", "(letrec* ((name value)...) body...)  letrec, evaluated in order."},
    {"do", "(do body...)  Evaluates in sequence; the last value (as Clojure's do; alias begin)."},
    {"begin", "(begin body...)  Evaluates in sequence; the last value."},
    {"cond", "(cond (test body...)... [(else body...)])  The first clause whose test is truthy."},
    {"case", "(case key ((datum...) body...)... [(else body...)])  The clause listing key (eqv?)."},
    {"when", "(when test body...)  body when test is truthy, else nil."},
    {"unless", "(unless test body...)  body when test is falsy, else nil."},
    {"and", "(and x...)  The first falsy value, else the last; true with none."},
    {"or", "(or x...)  The first truthy value, else the last; false with none."},
    {"define-macro", "(define-macro (name params...) body...)  body builds the code each use runs."},
    {"try", "(try body... (catch e handler...) (finally cleanup...))  Handles errors raised in body."},
    {NULL, NULL},
};

static const meta_cmd *find_meta(const char *name, size_t n);

static void cmd_doc(const char *arg) {
  if (!*arg) {
    put("usage: :doc NAME\n");
    return;
  }
  for (int i = 0; special_docs[i].name; i++)
    if (!strcmp(special_docs[i].name, arg)) {
      putf("special form: %s\n", special_docs[i].doc);
      return;
    }
  const meta_cmd *m = arg[0] == ':' ? find_meta(arg, strlen(arg)) : NULL;
  if (m) {
    putf("%s %s  %s\n", m->name, m->args, m->help);
    return;
  }
  const char *doc = sx_doc(R.S, arg);
  if (doc) {
    putf("%s\n", doc);
    return;
  }
  sx_value v;
  if (sx_get_global(R.S, arg, &v) == SX_OK)
    putf("%s: %.60s%s (no documentation)\n", arg, sx_to_string(R.S, v, 1),
         strlen(sx_to_string(R.S, v, 1)) > 60 ? "..." : "");
  else putf("no documentation for %s: not a primitive, special form or global\n", arg);
}

typedef struct {
  char **v;
  size_t n, cap;
  const char *prefix;
  size_t plen;
} names;

static void names_add(names *ns, const char *s) {
  if (strncmp(s, ns->prefix, ns->plen)) return;
  if (ns->n == ns->cap) {
    size_t cap = ns->cap ? ns->cap * 2 : 64;
    char **nv = realloc(ns->v, cap * sizeof *nv);
    if (!nv) return;
    ns->v = nv;
    ns->cap = cap;
  }
  char *copy = strdup(s);
  if (copy) ns->v[ns->n++] = copy;
}

static void names_free(names *ns) {
  for (size_t i = 0; i < ns->n; i++) free(ns->v[i]);
  free(ns->v);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_sort(names *ns) {
  if (!ns->n) return;
  qsort(ns->v, ns->n, sizeof *ns->v, cmp_str);
  size_t k = 1;
  for (size_t i = 1; i < ns->n; i++) {
    if (strcmp(ns->v[i], ns->v[k - 1])) ns->v[k++] = ns->v[i];
    else free(ns->v[i]);
  }
  ns->n = k;
}

static int is_result_var(const char *name) {
  return name[0] == '$' && name[1] >= '1' && name[1] <= '3' && !name[2];
}

static void env_entry(void *ud, const char *name, sx_value v) {
  (void)v;
  if (!is_result_var(name)) names_add(ud, name);
}

static void cmd_env(const char *arg) {
  names ns = {.prefix = arg, .plen = strlen(arg)};
  sx_globals(R.S, SX_GLOBALS_USER, env_entry, &ns);
  names_sort(&ns);
  if (!ns.n) put(*arg ? "no definitions with that prefix\n" : "no definitions yet\n");
  for (size_t i = 0; i < ns.n; i++) {
    sx_value v;
    if (sx_get_global(R.S, ns.v[i], &v) != SX_OK) continue;
    const char *s = sx_to_string(R.S, v, 1);
    size_t len = strlen(s);
    if (len > 60) putf("  %-20s %.57s...\n", ns.v[i], s);
    else putf("  %-20s %s\n", ns.v[i], s);
  }
  names_free(&ns);
}


static const struct {
  const char *alias, *name;
} meta_aliases[] = {{":q", ":quit"}, {":exit", ":quit"}, {":h", ":help"}, {":?", ":help"}};

static const meta_cmd *find_meta(const char *name, size_t n) {
  for (size_t i = 0; i < sizeof meta_aliases / sizeof meta_aliases[0]; i++)
    if (strlen(meta_aliases[i].alias) == n && !strncmp(meta_aliases[i].alias, name, n))
      return find_meta(meta_aliases[i].name, strlen(meta_aliases[i].name));
  for (const meta_cmd *m = metas; m->name; m++)
    if (strlen(m->name) == n && !strncmp(m->name, name, n)) return m;
  return NULL;
}

/* Runs a complete input: a meta-command when it starts with one (anything else that starts with
 * a colon is a keyword, and keywords evaluate to themselves), else SX forms. */
static void run_input(const char *src, size_t len) {
  const char *p = skip_blanks(src);
  if (*p == ':') {
    const char *q = p;
    while (*q && !is_delim((unsigned char)*q)) q++;
    const meta_cmd *m = find_meta(p, (size_t)(q - p));
    if (m) {
      char *arg = strdup(skip_blanks(q));
      if (!arg) return;
      size_t n = strlen(arg);
      while (n && (arg[n - 1] == '\n' || arg[n - 1] == ' ' || arg[n - 1] == '\t')) arg[--n] = 0;
      m->run(arg);
      free(arg);
      fflush(stdout);
      return;
    }
  }
  run_forms(src, len);
  fflush(stdout);
}

/* ---- completion ----------------------------------------------------------------------------- */

static void collect_name(void *ud, const char *name, sx_value v) {
  (void)v;
  names_add(ud, name);
}

static void list_names(const names *ns) {
  size_t w = 0;
  for (size_t i = 0; i < ns->n; i++)
    if (strlen(ns->v[i]) > w) w = strlen(ns->v[i]);
  w += 2;
  struct winsize ws;
  size_t width = ioctl(fileno(stdout), TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 80;
  size_t cols = width / w ? width / w : 1;
  size_t rows = (ns->n + cols - 1) / cols;
  fputs("\n", stdout);
  for (size_t r = 0; r < rows; r++) {
    for (size_t c = 0; c < cols; c++) {
      size_t i = c * rows + r;
      if (i < ns->n) fprintf(stdout, "%-*s", (int)w, ns->v[i]);
    }
    fputs("\n", stdout);
  }
  fflush(stdout);
}

static unsigned char complete(EditLine *el, int ch) {
  const LineInfo *li = el_line(el);
  const char *cur = li->cursor;
  scan_state st = {0};
  scan(&st, R.pending.s ? R.pending.s : "", R.pending.len);
  scan(&st, li->buffer, (size_t)(cur - li->buffer));
  if (st.in_string) return _el_fn_complete(el, ch); /* a file name, likely */
  const char *word = cur;
  while (word > li->buffer && !is_delim((unsigned char)word[-1])) word--;
  size_t wlen = (size_t)(cur - word);
  /* the meta-command this line starts with, if any */
  const char *line = li->buffer;
  while (line < cur && (*line == ' ' || *line == '\t')) line++;
  int first_word = !R.pending.len && line == word;
  const meta_cmd *m = NULL;
  if (!R.pending.len && *line == ':' && !first_word) {
    const char *q = line;
    while (q < cur && !is_delim((unsigned char)*q)) q++;
    m = find_meta(line, (size_t)(q - line));
    if (m && m->run == cmd_load) return _el_fn_complete(el, ch);
  }
  if (!wlen) {
    if (el_insertstr(el, "  ") == -1) return CC_ERROR; /* Tab at a word start indents */
    return CC_REFRESH;
  }
  char *prefix = strndup(word, wlen);
  if (!prefix) return CC_ERROR;
  names ns = {.prefix = prefix, .plen = wlen};
  if (prefix[0] == ':' && (first_word || (m && m->run == cmd_doc))) {
    for (const meta_cmd *c = metas; c->name; c++) names_add(&ns, c->name);
  } else {
    sx_globals(R.S, SX_GLOBALS_USER | SX_GLOBALS_BUILTIN | SX_GLOBALS_SPECIAL, collect_name, &ns);
  }
  names_sort(&ns);
  unsigned char rc = CC_REFRESH;
  if (ns.n == 0) {
    rc = CC_REFRESH_BEEP;
  } else {
    size_t common = strlen(ns.v[0]);
    for (size_t i = 1; i < ns.n; i++) {
      size_t k = 0;
      while (k < common && ns.v[i][k] == ns.v[0][k]) k++;
      common = k;
    }
    if (ns.n == 1) {
      char *add = malloc(common - wlen + 2);
      if (add) {
        sprintf(add, "%s ", ns.v[0] + wlen);
        el_insertstr(el, add);
        free(add);
      }
    } else if (common > wlen) {
      char *add = strndup(ns.v[0] + wlen, common - wlen);
      if (add) el_insertstr(el, add);
      free(add);
    } else {
      list_names(&ns);
      rc = CC_REDISPLAY;
    }
  }
  names_free(&ns);
  free(prefix);
  return rc;
}

/* ---- history -------------------------------------------------------------------------------- */

static char *history_path(void) {
  const char *env = getenv("SX_HISTORY");
  if (env) return *env ? strdup(env) : NULL;
  const char *home = getenv("HOME");
  if (!home || !*home) {
    struct passwd *pw = getpwuid(getuid());
    home = pw ? pw->pw_dir : NULL;
  }
  if (!home) return NULL;
  char *p = malloc(strlen(home) + sizeof "/.sx_history");
  if (p) sprintf(p, "%s/.sx_history", home);
  return p;
}

static void history_add(const char *s) {
  HistEvent ev;
  history(R.hist, &ev, H_ENTER, s);
}

/* One entry per input. A multi-line input is joined into one line when that keeps its meaning
 * (no ; comment, no string or block comment across lines), else each line is its own entry. */
static void remember_input(const char *src, size_t len) {
  text joined = {0};
  scan_state st = {0};
  int one_line = 1;
  const char *p = src, *end = src + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    if (st.in_string || st.block) one_line = 0;
    scan(&st, p, (size_t)(e - p));
    const char *a = p, *b = e;
    while (a < b && (*a == ' ' || *a == '\t')) a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r')) b--;
    if (b > a) {
      if (joined.len) text_add(&joined, " ", 1);
      text_add(&joined, a, (size_t)(b - a));
    }
    p = nl ? nl + 1 : end;
  }
  if (st.comment) one_line = 0;
  if (!joined.len) {
    free(joined.s);
    return;
  }
  if (one_line) {
    history_add(joined.s);
  } else {
    for (p = src; p < end;) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      const char *e = nl ? nl : end;
      char *line = strndup(p, (size_t)(e - p));
      if (line && *skip_blanks(line)) history_add(line);
      free(line);
      p = nl ? nl + 1 : end;
    }
  }
  free(joined.s);
  /* Saved after every input, so a session that ends by (exit) or a closed terminal keeps it;
   * an unwritable file is skipped without a word. */
  if (R.hist_path) {
    HistEvent ev;
    history(R.hist, &ev, H_SAVE, R.hist_path);
  }
}

/* ---- the loop ------------------------------------------------------------------------------- */

static char *prompt_fn(EditLine *el) {
  (void)el;
  return (char *)R.prompt;
}

static void setup_editline(const repl_options *opt) {
  /* libedit decodes input with the C library's locale; a UTF-8 one keeps non-ASCII keys */
  const char *loc = setlocale(LC_CTYPE, "");
  if (!loc || !strcmp(loc, "C") || !strcmp(loc, "POSIX")) setlocale(LC_CTYPE, "C.UTF-8");

  R.hist = history_init();
  HistEvent ev;
  history(R.hist, &ev, H_SETSIZE, HISTORY_SIZE);
  history(R.hist, &ev, H_SETUNIQUE, 1);
  R.hist_path = opt->history ? history_path() : NULL;
  if (R.hist_path) history(R.hist, &ev, H_LOAD, R.hist_path);

  EditLine *el = el_init("sx", stdin, stdout, stderr);
  R.el = el;
  if (!el) return;
  el_set(el, EL_EDITOR, "emacs");
  el_set(el, EL_PROMPT, prompt_fn);
  el_set(el, EL_HIST, history, R.hist);
  el_set(el, EL_GETCFN, read_key);
  el_set(el, EL_ADDFN, "sx-complete", "complete an SX name or command", complete);
  el_set(el, EL_BIND, "^I", "sx-complete", NULL);
  el_set(el, EL_BIND, "^R", "em-inc-search-prev", NULL);
  el_set(el, EL_BIND, "\033[1;5D", "ed-prev-word", NULL); /* Ctrl-Left */
  el_set(el, EL_BIND, "\033[1;5C", "em-next-word", NULL); /* Ctrl-Right */
  el_set(el, EL_BIND, "\033[3~", "ed-delete-next-char", NULL);
  el_set(el, EL_BIND, "\033[H", "ed-move-to-beg", NULL);
  el_set(el, EL_BIND, "\033[F", "ed-move-to-end", NULL);
  el_set(el, EL_BIND, "\033[1~", "ed-move-to-beg", NULL);
  el_set(el, EL_BIND, "\033[4~", "ed-move-to-end", NULL);
  el_source(el, NULL); /* the person's ~/.editrc has the last word */
}

int repl_run(sx_state *S, const repl_options *opt) {
  R.S = S;
  R.at_bol = 1;
  setup_editline(opt);
  if (!R.el) {
    fputs("sx: cannot set up line editing on this terminal\n", stderr);
    return 70;
  }
  sx_eval_string(S, "(define $1 nil) (define $2 nil) (define $3 nil)", CHUNK, NULL);
  if (!opt->quiet) printf("SX %s — :help for help, Ctrl-D to leave\n", sx_version());
  start_signal_thread();
  while (!R.quit) {
    R.prompt = R.pending.len ? PROMPT_MORE : PROMPT;
    fflush(stdout);
    fresh_line();
    drain_wake();
    /* Raw mode before the prompt shows: libedit prints the prompt first, and a key typed in
     * between would meet the line discipline (^D becoming an EOF marker, ^R "reprint"). */
    el_set(R.el, EL_PREP_TERM, 1);
    int count = 0;
    errno = 0;
    const char *line = el_gets(R.el, &count);
    R.at_bol = 1;
    if (!line) {
      if (count < 0 && errno == EINTR) {
        if (R.sigint) { /* Ctrl-C at the prompt drops the line and any unfinished input */
          put("^C\n");
          R.pending.len = 0;
        }
        continue;
      }
      if (R.pending.len && count == 0) {
        /* Ctrl-D inside an unfinished expression: show why it is unfinished */
        put("\n");
        run_forms(R.pending.s, R.pending.len);
        R.pending.len = 0;
        continue;
      }
      put("\n");
      break;
    }
    text_add(&R.pending, line, (size_t)count);
    if (!input_complete(R.pending.s, R.pending.len)) continue;
    remember_input(R.pending.s, R.pending.len);
    char *src = R.pending.s;
    size_t len = R.pending.len;
    R.pending = (text){0};
    run_input(src, len);
    free(src);
  }
  fflush(stdout);
  el_end(R.el);
  history_end(R.hist);
  free(R.hist_path);
  free(R.pending.s);
  return 0;
}
