/* repl_pty.c — drives the `sx` REPL through a pseudo-terminal as a person would: typing, Tab,
 * arrow keys, Ctrl-C, Ctrl-D. Every check waits (with a timeout, so a hang is a failure) for
 * text to appear on the terminal, escape sequences stripped. Run from the repository root;
 * prints "N passed, N failed" last. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 10000
#ifndef SX
#define SX "./sx" /* run from the repository root */
#endif

typedef struct {
  pid_t pid;
  int fd;
  char *screen; /* everything shown so far, escape sequences and \r removed */
  size_t len, cap;
  size_t mark;  /* checks look at the text after the previous match */
  int esc;      /* inside an escape sequence: 1 after ESC, 2 in CSI, 3 in OSC */
} session;

static int passed, failed;
static char tmpdir[] = "/tmp/sx-repl-test-XXXXXX";
static session *live; /* killed if the whole test runs out of time */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void show(session *s, size_t from) {
  size_t start = s->len - from > 600 ? s->len - 600 : from;
  fprintf(stdout, "    --- terminal (from the last match) ---\n%.*s\n    ---\n",
          (int)(s->len - start), s->screen + start);
}

static void check(session *s, int ok, const char *what, ...) {
  va_list ap;
  va_start(ap, what);
  if (ok) {
    passed++;
  } else {
    failed++;
    printf("FAIL: ");
    vprintf(what, ap);
    printf("\n");
    if (s) show(s, s->mark);
  }
  va_end(ap);
}

static void add_char(session *s, char c) {
  if (s->len + 2 > s->cap) {
    s->cap = s->cap ? s->cap * 2 : 65536;
    s->screen = realloc(s->screen, s->cap);
    if (!s->screen) abort();
  }
  s->screen[s->len++] = c;
  s->screen[s->len] = 0;
}

/* What a person would read: printable text and newlines; cursor movement and colours dropped. */
static void feed(session *s, const char *buf, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)buf[i];
    switch (s->esc) {
    case 1:
      s->esc = c == '[' ? 2 : c == ']' ? 3 : 0;
      continue;
    case 2:
      if (c >= 0x40 && c <= 0x7e) s->esc = 0;
      continue;
    case 3:
      if (c == 7) s->esc = 0;
      else if (c == 0x1b) s->esc = 1;
      continue;
    }
    if (c == 0x1b) s->esc = 1;
    else if (c == '\n' || c == '\t' || c >= 0x20) add_char(s, (char)c);
  }
}

/* Reads what the terminal shows for up to ms milliseconds; false once the child closed it. */
static int pump(session *s, int ms) {
  struct pollfd p = {.fd = s->fd, .events = POLLIN};
  int r = poll(&p, 1, ms);
  if (r <= 0) return 1;
  char buf[4096];
  ssize_t k = read(s->fd, buf, sizeof buf);
  if (k <= 0) return 0;
  feed(s, buf, (size_t)k);
  return 1;
}

/* Collects what the terminal shows for ms milliseconds. */
static void settle(session *s, int ms) {
  double end = now_ms() + ms;
  for (double left; (left = end - now_ms()) > 0;)
    if (!pump(s, (int)left + 1)) return;
}

/* Waits until text appears after the mark; the mark moves past it. */
static int expect_within(session *s, const char *text, int ms) {
  double end = now_ms() + ms;
  for (;;) {
    char *hit = strstr(s->screen ? s->screen + s->mark : "", text);
    if (hit) {
      s->mark = (size_t)(hit - s->screen) + strlen(text);
      return 1;
    }
    double left = end - now_ms();
    if (left <= 0) return 0;
    if (!pump(s, left > 50 ? 50 : (int)left + 1) && !strstr(s->screen + s->mark, text)) {
      /* the child has gone; one last look */
      return strstr(s->screen ? s->screen + s->mark : "", text) != NULL;
    }
  }
}

static int expect(session *s, const char *text) { return expect_within(s, text, TIMEOUT_MS); }

static void type(session *s, const char *keys) {
  size_t n = strlen(keys);
  while (n) {
    ssize_t k = write(s->fd, keys, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return;
    keys += k;
    n -= (size_t)k;
  }
}

/* Waits for the prompt: libedit has the terminal in raw mode only from then on, and keys typed
 * earlier meet the line discipline instead (where Ctrl-R means "reprint"). */
static int prompt(session *s) { return expect(s, "sx> "); }

/* Types a line and waits for its result line (the text after a newline). */
static int eval(session *s, const char *line, const char *result) {
  type(s, line);
  type(s, "\r");
  return expect(s, result);
}

static int start(session *s, const char *history, const char *const *args) {
  memset(s, 0, sizeof *s);
  struct winsize ws = {.ws_row = 40, .ws_col = 100};
  const char *argv[16] = {SX};
  int n = 1;
  for (; args && args[n - 1] && n < 15; n++) argv[n] = args[n - 1];
  argv[n] = NULL;
  s->pid = forkpty(&s->fd, NULL, NULL, &ws);
  if (s->pid < 0) return 0;
  if (s->pid == 0) {
    setenv("TERM", "xterm", 1);
    setenv("HOME", tmpdir, 1); /* no ~/.editrc, no real ~/.sx_history */
    setenv("LC_ALL", "C.UTF-8", 1);
    if (history) setenv("SX_HISTORY", history, 1);
    else unsetenv("SX_HISTORY");
    execv(SX, (char **)argv);
    _exit(127);
  }
  live = s;
  return 1;
}

/* Waits for the child to exit; its exit status, or -1 on a timeout (it is then killed). */
static int finish(session *s, int ms) {
  double end = now_ms() + ms;
  int status = 0, rc = -1;
  for (;;) {
    pid_t r = waitpid(s->pid, &status, WNOHANG);
    if (r == s->pid) {
      rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (now_ms() > end) {
      kill(s->pid, SIGKILL);
      waitpid(s->pid, &status, 0);
      break;
    }
    pump(s, 20);
  }
  for (;;) { /* what the child wrote last */
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0 || !pump(s, 0)) break;
  }
  close(s->fd);
  free(s->screen);
  live = NULL;
  return rc;
}

static void on_alarm(int sig) {
  (void)sig;
  if (live) kill(live->pid, SIGKILL);
  static const char msg[] = "FAIL: the whole test ran out of time\n";
  ssize_t w = write(1, msg, sizeof msg - 1);
  (void)w;
  char line[64];
  int n = snprintf(line, sizeof line, "%d passed, %d failed\n", passed, failed + 1);
  w = write(1, line, (size_t)n);
  _exit(1);
}

/* ---- the cases ------------------------------------------------------------------------------ */

static void basics(void) {
  session s;
  const char *args[] = {"--no-jit", "--no-history", NULL};
  if (!start(&s, NULL, args)) {
    check(NULL, 0, "forkpty failed: %s", strerror(errno));
    return;
  }
  check(&s, expect(&s, "SX ") && expect(&s, "sx> "), "banner and prompt");

  type(&s, "(define (sq x)\r");
  check(&s, expect(&s, "\n... "), "an open bracket asks for more with the continuation prompt");
  type(&s, "  (* x x))\r");
  check(&s, expect(&s, "\nsx> "), "the definition completes and prints nothing");
  check(&s, eval(&s, "(sq 12)", "\n144\n"), "the multi-line definition works");

  check(&s, eval(&s, "1 (+ 1 1) \"three\"", "\n1\n2\n\"three\"\n"),
        "several expressions on one line are all evaluated and written");
  check(&s, eval(&s, "(string-length \"(((\") (char->integer #\\() ; (", "\n3\n40\n"),
        "brackets in strings, character literals and comments are not counted");
  type(&s, "\"ab\r");
  check(&s, expect(&s, "\n... "), "an unterminated string keeps reading");
  check(&s, eval(&s, "cd\"", "\n\"ab\\ncd\"\n"), "the string spans the lines");

  check(&s, eval(&s, "(car 1)", "error: car: expected pair"), "an error is shown");
  check(&s, expect(&s, "sx> "), "the REPL continues after an error");
  check(&s, eval(&s, "(+ 1 2)", "\n3\n"), "a good expression after the error");
  check(&s, eval(&s, "(define (g x) (+ 1 (car x)))", "sx> ") &&
                eval(&s, "(g 5)", "error: car:") && expect(&s, "backtrace:") && expect(&s, "g (<repl>"),
        "an error in a procedure shows the SX backtrace");
  check(&s, eval(&s, "(list $1 $2)", "\n(3 \"ab\\ncd\")\n"), "$1 and $2 hold the last results");

  check(&s, eval(&s, ":time (sq 5)", "\n25\n") && expect(&s, " ms wall"),
        ":time prints the value and the wall time");
  check(&s, eval(&s, ":stats", "memory: heap "), ":stats shows memory figures");
  type(&s, ":doc car\r");
  check(&s, expect(&s, "(car pair)") && expect(&s, "First element of a pair."),
        ":doc shows the spec's one-line doc");
  check(&s, eval(&s, ":doc map", "List of the results of a procedure"), ":doc covers :lib procedures");
  check(&s, eval(&s, ":doc if", "special form: (if test then [else])"), ":doc covers special forms");
  type(&s, ":reset\r");
  check(&s, expect(&s, "\nnative ") && expect(&s, "sx> "), ":reset answers");
  check(&s, eval(&s, ":disasm sq", "lambda") && expect(&s, "MUL") && expect(&s, "RETURN"),
        ":disasm lists bytecode");
  check(&s, eval(&s, ":env", "  sq ") && expect(&s, "#<procedure sq>"), ":env lists definitions");
  check(&s, eval(&s, ":size", "\n:size\n"), "a keyword that is not a command evaluates to itself");

  prompt(&s);
  type(&s, "(string-up\t");
  check(&s, expect(&s, "string-upcase "), "Tab completes a unique global name");
  check(&s, eval(&s, "\"abc\")", "\n\"ABC\"\n"), "the completed call runs");
  prompt(&s);
  type(&s, "(defi\t");
  check(&s, expect(&s, "define"), "Tab completes special forms");
  type(&s, "\003");
  check(&s, expect(&s, "sx> "), "Ctrl-C at the prompt gives a fresh prompt");
  check(&s, eval(&s, "(sq 3)", "\n9\n"), "Ctrl-C cleared the unfinished line");
  prompt(&s);
  type(&s, ":he\t");
  check(&s, expect(&s, ":help "), "Tab completes meta-commands");
  check(&s, eval(&s, "", "$1 $2 $3") && expect(&s, ":disasm"), ":help lists commands and $1 $2 $3");

  prompt(&s);
  type(&s, "\004");
  check(&s, finish(&s, TIMEOUT_MS) == 0, "Ctrl-D at an empty prompt exits with status 0");
}

/* An endless loop stopped by Ctrl-C within 100 ms; the state survives. */
static void interrupt(const char *mode, const char *const *args) {
  session s;
  if (!start(&s, NULL, args)) {
    check(NULL, 0, "forkpty failed: %s", strerror(errno));
    return;
  }
  check(&s, expect(&s, "sx> ") && eval(&s, "(define (sq x) (* x x))", "sx> "), "%s: start", mode);
  double best = 1e9;
  for (int attempt = 0; attempt < 2 && best > 100; attempt++) {
    type(&s, "(let loop () (loop))\r");
    settle(&s, 400); /* let it spin (and compile, when native) */
    double t0 = now_ms();
    type(&s, "\003");
    int ok = expect(&s, "error: interrupted");
    double dt = now_ms() - t0;
    if (!ok) {
      check(&s, 0, "%s: Ctrl-C stops an endless loop", mode);
      kill(s.pid, SIGKILL);
      finish(&s, 1000);
      return;
    }
    if (dt < best) best = dt;
    expect(&s, "sx> ");
  }
  check(&s, best <= 100, "%s: Ctrl-C stops an endless loop within 100 ms (took %.1f ms)", mode,
        best);
  printf("%s: Ctrl-C to \"error: interrupted\" on the terminal in %.1f ms\n", mode, best);
  check(&s, eval(&s, "(sq 11)", "\n121\n"), "%s: earlier definitions work after the interrupt",
        mode);
  prompt(&s);
  type(&s, "\004");
  int rc = finish(&s, TIMEOUT_MS);
  check(NULL, rc == 0, "%s: Ctrl-D exits 0 (got %d; -1 = still running after %d ms)", mode, rc,
        TIMEOUT_MS);
}

static int file_contains(const char *path, const char *text) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return strstr(buf, text) != NULL;
}

static void history(void) {
  char path[256], nowrite[256];
  snprintf(path, sizeof path, "%s/history", tmpdir);
  session s;
  const char *quiet[] = {"--no-jit", "--quiet", NULL};
  if (!start(&s, path, quiet)) return;
  check(&s, expect(&s, "sx> ") && eval(&s, "(* 6 7)", "\n42\n") &&
                eval(&s, "(define (twice x)\r  (* 2 x))", "sx> "),
        "history: first session");
  prompt(&s);
  type(&s, "\004");
  int rc = finish(&s, TIMEOUT_MS);
  check(NULL, rc == 0, "history: first session exits 0 (got %d)", rc);
  check(NULL, file_contains(path, "(*"), "history: SX_HISTORY file written");

  if (!start(&s, path, quiet)) return;
  check(&s, expect(&s, "sx> "), "history: second session");
  type(&s, "\033[A");
  check(&s, expect(&s, "(define (twice x) (* 2 x))"),
        "history: up arrow recalls a multi-line input as one line");
  type(&s, "\r");
  check(&s, expect(&s, "sx> ") && eval(&s, "(twice 4)", "\n8\n"), "history: recalled definition runs");
  prompt(&s);
  type(&s, "\033[A\033[A\033[A\r");
  check(&s, expect(&s, "\n42\n"), "history: up arrow three times recalls the first session's line");
  prompt(&s);
  type(&s, "\022(* 6");
  check(&s, expect(&s, "(* 6 7)"), "history: Ctrl-R finds an earlier line");
  type(&s, "\r");
  check(&s, expect(&s, "\n42\n"), "history: the found line runs");
  prompt(&s);
  type(&s, "\004");
  finish(&s, TIMEOUT_MS);

  const char *nohist[] = {"--no-jit", "--no-history", NULL};
  if (!start(&s, path, nohist)) return;
  check(&s, expect(&s, "sx> ") && eval(&s, "(+ 1000 1)", "\n1001\n"), "--no-history session");
  prompt(&s);
  type(&s, "\004");
  finish(&s, TIMEOUT_MS);
  check(NULL, !file_contains(path, "1000"), "--no-history: nothing saved");

  snprintf(nowrite, sizeof nowrite, "%s/no/such/dir/history", tmpdir);
  if (!start(&s, nowrite, quiet)) return;
  check(&s, expect(&s, "sx> ") && eval(&s, "(+ 2 2)", "\n4\n") && expect(&s, "sx> "),
        "an unwritable history file is skipped");
  check(&s, strstr(s.screen, "rror") == NULL, "no complaint about an unwritable history file");
  prompt(&s);
  type(&s, "\004");
  check(&s, finish(&s, TIMEOUT_MS) == 0, "unwritable history: Ctrl-D exits 0");
}

/* With standard input not a terminal, sx runs it as a program: no prompt, no banner. */
static void piped(void) {
  FILE *p = popen("printf '(display (+ 2 3))' | " SX " --no-history 2>&1", "r");
  if (!p) {
    check(NULL, 0, "popen failed");
    return;
  }
  char buf[256];
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  buf[n] = 0;
  int rc = pclose(p);
  check(NULL, !strcmp(buf, "5") && rc == 0, "piped input runs as a program (got \"%s\")", buf);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGALRM, on_alarm);
  alarm(240);
  if (access(SX, X_OK)) {
    printf("FAIL: %s not built (run from the repository root)\n0 passed, 1 failed\n", SX);
    return 1;
  }
  if (!mkdtemp(tmpdir)) {
    printf("FAIL: mkdtemp\n0 passed, 1 failed\n");
    return 1;
  }
  basics();
  const char *off[] = {"--no-jit", "--no-history", NULL};
  interrupt("native tier off", off);
  const char *forced[] = {"--jit-threshold=1", "--jit-sync", "--no-history", NULL};
  interrupt("native tier forced", forced);
  history();
  piped();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd)) {
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
