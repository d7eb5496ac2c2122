/* reader.c — text to data. Iterative: nesting lives on an explicit stack, not the C stack, so a
 * 100,000-deep list literal reads fine. Pairs made here carry their line and column. */
#include <stdlib.h>
#include <string.h>

#include <gc/gc.h>

#include "state.h"

void vm_reader_init(vm_reader *r, const char *src, size_t n, sx_val file) {
  r->src = r->p = src;
  r->end = src + n;
  r->line = 1;
  r->col = 1;
  r->file = file;
}

static SX_NORETURN void read_error(sx_state *S, vm_reader *r, int line, int col, const char *fmt,
                                   ...) __attribute__((format(printf, 5, 6)));

static void read_error(sx_state *S, vm_reader *r, int line, int col, const char *fmt, ...) {
  char msg[512], where[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  size_t n = strlen(msg), nchars;
  while (!vm_utf8_valid(msg, n, &nchars)) msg[--n] = 0;
  sx_val e = vm_make_error(S, vm_string(S, msg, n), SX_EMPTY);
  snprintf(where, sizeof where, "%s:%d:%d",
           sx_is_string(r->file) ? STR(r->file)->data : "<input>", line, col);
  ERR(e)->where = vm_cstring(S, where);
  ERR(e)->backtrace = SX_NIL; /* a read error has no SX frames */
  ERR(e)->h.flags = ERR_SYNTAX | ERR_SHOWN; /* the API reports it as a syntax error */
  vm_raise(S, e);
}

static int peekc(vm_reader *r) { return r->p < r->end ? (unsigned char)*r->p : -1; }

static int nextc(vm_reader *r) {
  if (r->p >= r->end) return -1;
  int c = (unsigned char)*r->p++;
  if (c == '\n') {
    r->line++;
    r->col = 1;
  } else if ((c & 0xc0) != 0x80) {
    r->col++;
  }
  return c;
}

static bool is_delim(int c) {
  return c == -1 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '(' ||
         c == ')' || c == '[' || c == ']' || c == '{' || c == '}' || c == '"' || c == ';' ||
         c == '\'' || c == '`' || c == ',';
}

/* Skips white space and comments; false at end of input. */
static void skip_space(sx_state *S, vm_reader *r) {
  for (;;) {
    int c = peekc(r);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      nextc(r);
    } else if (c == ';') {
      while (peekc(r) != -1 && peekc(r) != '\n') nextc(r);
    } else if (c == '#' && r->p + 1 < r->end && r->p[1] == '|') {
      int line = r->line, col = r->col, depth = 0;
      do {
        c = nextc(r);
        if (c == -1) read_error(S, r, line, col, "unterminated block comment");
        if (c == '#' && peekc(r) == '|') nextc(r), depth++;
        else if (c == '|' && peekc(r) == '#') nextc(r), depth--;
      } while (depth > 0);
    } else {
      return;
    }
  }
}

static sx_val located(sx_state *S, sx_val a, sx_val d, int line, int col) {
  sx_val p = vm_cons(S, a, d);
  PAIR(p)->h.aux = (uint32_t)line;
  PAIR(p)->h.extra = (uint16_t)(col > 65535 ? 65535 : col);
  return p;
}

static uint32_t read_hex(sx_state *S, vm_reader *r, int line, int col, int stop) {
  uint32_t v = 0;
  int digits = 0;
  for (;;) {
    int c = peekc(r);
    int d = c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) break;
    nextc(r);
    if (++digits > 8) read_error(S, r, line, col, "hex escape too long");
    v = v * 16 + (uint32_t)d;
  }
  if (!digits) read_error(S, r, line, col, "bad hex escape");
  if (stop && peekc(r) == stop) nextc(r);
  if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
    read_error(S, r, line, col, "invalid code point in escape: #x%x", v);
  return v;
}

static sx_val read_string(sx_state *S, vm_reader *r) {
  int line = r->line, col = r->col;
  nextc(r); /* " */
  vm_buf b = {0};
  for (;;) {
    int c = nextc(r);
    if (c == -1) {
      vm_buf_free(&b);
      read_error(S, r, line, col, "unterminated string");
    }
    if (c == '"') break;
    if (c != '\\') {
      vm_buf_addc(&b, (char)c);
      continue;
    }
    int eline = r->line, ecol = r->col - 1;
    c = nextc(r);
    char u[4];
    switch (c) {
    case 'n': vm_buf_addc(&b, '\n'); break;
    case 't': vm_buf_addc(&b, '\t'); break;
    case 'r': vm_buf_addc(&b, '\r'); break;
    case 'a': vm_buf_addc(&b, '\a'); break;
    case 'b': vm_buf_addc(&b, '\b'); break;
    case '0': vm_buf_addc(&b, '\0'); break;
    case '\\': vm_buf_addc(&b, '\\'); break;
    case '"': vm_buf_addc(&b, '"'); break;
    case 'x':
    case 'u': {
      int brace = c == 'u' && peekc(r) == '{';
      if (brace) nextc(r);
      uint32_t cp = read_hex(S, r, eline, ecol, brace ? '}' : ';');
      vm_buf_add(&b, u, (size_t)vm_utf8_encode(cp, u));
      break;
    }
    case '\n': /* line continuation: skip leading white space of the next line */
      while (peekc(r) == ' ' || peekc(r) == '\t') nextc(r);
      break;
    default:
      vm_buf_free(&b);
      if (c == -1) read_error(S, r, line, col, "unterminated string");
      read_error(S, r, eline, ecol, "invalid escape \\%c in string", c);
    }
  }
  sx_val s = vm_string(S, b.buf ? b.buf : "", b.len);
  vm_buf_free(&b);
  return s;
}

static const struct {
  const char *name;
  uint32_t code;
} char_names[] = {{"space", ' '},    {"newline", '\n'}, {"tab", '\t'},       {"nul", 0},
                  {"null", 0},       {"return", '\r'},  {"linefeed", '\n'},  {"alarm", 7},
                  {"backspace", 8},  {"delete", 127},   {"escape", 27},      {"altmode", 27},
                  {"page", 12},      {NULL, 0}};

static sx_val read_char(sx_state *S, vm_reader *r, int line, int col) {
  /* after #\ : one character, then more if it is a name */
  if (peekc(r) == -1) read_error(S, r, line, col, "end of input in character literal");
  const char *start = r->p;
  const char *q = r->p;
  /* input may not have been checked as UTF-8 (sx_next_form): never decode past its end */
  unsigned char lead = (unsigned char)*start;
  size_t len = lead < 0x80 ? 1 : (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 : 4;
  size_t nchars;
  if ((size_t)(r->end - start) < len || !vm_utf8_valid(start, len, &nchars))
    read_error(S, r, line, col, "invalid UTF-8 in character literal");
  uint32_t first = vm_utf8_decode(&q);
  while (r->p < q) nextc(r);
  while (!is_delim(peekc(r))) nextc(r);
  size_t n = (size_t)(r->p - start);
  if (r->p == q) return sx_mkchar(first);
  if ((start[0] == 'x' || start[0] == 'U' || start[0] == 'u') && n > 1) {
    uint32_t v = 0;
    bool ok = n <= 9;
    for (size_t i = 1; i < n && ok; i++) {
      char c = start[i];
      int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) ok = false;
      v = v * 16 + (uint32_t)(d < 0 ? 0 : d);
    }
    if (ok && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff)) return sx_mkchar(v);
  }
  for (int i = 0; char_names[i].name; i++)
    if (strlen(char_names[i].name) == n && !strncmp(char_names[i].name, start, n))
      return sx_mkchar(char_names[i].code);
  read_error(S, r, line, col, "unknown character name #\\%.*s", (int)(n > 40 ? 40 : n), start);
}

static sx_val read_atom(sx_state *S, vm_reader *r, int line, int col) {
  const char *start = r->p;
  while (!is_delim(peekc(r))) nextc(r);
  size_t n = (size_t)(r->p - start);
  bool ok, overflow;
  sx_val num = vm_parse_number(S, start, n, 10, &ok, &overflow);
  if (ok) return num;
  if (overflow) read_error(S, r, line, col, "integer literal too large: %.*s", (int)(n > 60 ? 60 : n), start);
  if (n == 3 && !memcmp(start, "nil", 3)) return SX_NIL;
  if (n == 4 && !memcmp(start, "true", 4)) return SX_TRUE;
  if (n == 5 && !memcmp(start, "false", 5)) return SX_FALSE;
  if (start[0] == ':' && n > 1) return vm_intern(S, start + 1, n - 1, T_KEYWORD);
  if (start[0] == '#') read_error(S, r, line, col, "bad syntax %.*s", (int)(n > 40 ? 40 : n), start);
  return vm_intern(S, start, n, T_SYMBOL);
}

enum { F_LIST, F_VECTOR, F_DICT, F_QUOTE, F_DISCARD };

typedef struct {
  int kind;
  int line, col;
  sx_val items; /* reversed */
  sx_val tail;  /* dotted tail, or 0 */
  int dot;      /* 1: a '.' was read, waiting for the tail; 2: tail read */
  sx_val quote; /* symbol for F_QUOTE */
} rframe;

typedef struct {
  rframe *f;
  size_t n, cap;
} rstack;

static void push_frame(sx_state *S, rstack *st, rframe fr) {
  if (st->n == st->cap) {
    size_t ncap = st->cap ? st->cap * 2 : 32;
    /* frames hold heap values, so the stack lives in the collected heap */
    rframe *nf = GC_MALLOC(ncap * sizeof(rframe));
    if (!nf) vm_error(S, "out of memory");
    if (st->n) memcpy(nf, st->f, st->n * sizeof(rframe));
    st->f = nf;
    st->cap = ncap;
  }
  st->f[st->n++] = fr;
}

static sx_val close_frame(sx_state *S, vm_reader *r, rframe *fr) {
  if (fr->kind == F_LIST) {
    if (fr->dot == 1) read_error(S, r, fr->line, fr->col, "missing datum after '.'");
    sx_val l = fr->dot == 2 ? fr->tail : SX_EMPTY;
    sx_val items = fr->items;
    if (items == SX_EMPTY) return SX_EMPTY;
    /* the outermost pair gets the opening parenthesis' position */
    while (sx_cdr(items) != SX_EMPTY) {
      l = located(S, sx_car(items), l, PAIR(items)->h.aux, PAIR(items)->h.extra);
      items = sx_cdr(items);
    }
    return located(S, sx_car(items), l, fr->line, fr->col);
  }
  size_t n = vm_list_length(fr->items);
  if (fr->kind == F_VECTOR) {
    sx_val v = vm_vector(S, n, SX_NIL);
    size_t i = n;
    for (sx_val l = fr->items; sx_is_pair(l); l = sx_cdr(l)) VEC(v)->items[--i] = sx_car(l);
    return v;
  }
  /* a dict literal is read as its data: a dict of keys and values as written */
  if (n % 2) read_error(S, r, fr->line, fr->col, "dict literal needs an even number of forms");
  sx_val items = vm_reverse(S, fr->items);
  sx_val d = vm_dict(S, n / 2);
  for (; sx_is_pair(items); items = sx_cdr(sx_cdr(items)))
    vm_dict_set(S, d, sx_car(items), sx_car(sx_cdr(items)));
  return d;
}

bool vm_read(sx_state *S, vm_reader *r, sx_val *out) {
  rstack st = {0};
  sx_val datum;
  for (;;) {
    skip_space(S, r);
    int line = r->line, col = r->col;
    int c = peekc(r);
    if (c == -1) {
      if (st.n == 0) return false;
      rframe *fr = &st.f[st.n - 1];
      const char *what = fr->kind == F_LIST     ? "list"
                         : fr->kind == F_VECTOR ? "vector"
                         : fr->kind == F_DICT   ? "dict"
                                                : "quoted datum";
      read_error(S, r, fr->line, fr->col, "unterminated %s (end of input)", what);
    }
    if (c == '(' || c == '[' || c == '{') {
      nextc(r);
      push_frame(S, &st, (rframe){.kind = c == '(' ? F_LIST : c == '[' ? F_VECTOR : F_DICT,
                                  .line = line, .col = col, .items = SX_EMPTY});
      continue;
    }
    if (c == ')' || c == ']' || c == '}') {
      nextc(r);
      int want = c == ')' ? F_LIST : c == ']' ? F_VECTOR : F_DICT;
      if (st.n == 0 || st.f[st.n - 1].kind != want) {
        if (st.n && st.f[st.n - 1].kind <= F_DICT) {
          rframe *fr = &st.f[st.n - 1];
          read_error(S, r, line, col, "unexpected '%c' (the %s opened at %d:%d is still open)",
                     c, fr->kind == F_LIST ? "list" : fr->kind == F_VECTOR ? "vector" : "dict",
                     fr->line, fr->col);
        }
        read_error(S, r, line, col, "unexpected '%c'", c);
      }
      datum = close_frame(S, r, &st.f[st.n - 1]);
      st.n--;
      goto deliver;
    }
    if (c == '\'' || c == '`' || c == ',') {
      nextc(r);
      sx_val q = S->sym_quote;
      if (c == '`') q = S->sym_quasiquote;
      else if (c == ',') {
        q = S->sym_unquote;
        if (peekc(r) == '@') nextc(r), q = S->sym_unquote_splicing;
      }
      push_frame(S, &st, (rframe){.kind = F_QUOTE, .line = line, .col = col, .quote = q});
      continue;
    }
    if (c == '"') {
      datum = read_string(S, r);
      goto deliver;
    }
    if (c == '#' && r->p + 1 < r->end) {
      char d = r->p[1];
      if (d == '\\') {
        nextc(r), nextc(r);
        datum = read_char(S, r, line, col);
        goto deliver;
      }
      if (d == ';') {
        nextc(r), nextc(r);
        push_frame(S, &st, (rframe){.kind = F_DISCARD, .line = line, .col = col});
        continue;
      }
      if (d == 'f' && r->end - r->p >= 5 && !memcmp(r->p, "#f64[", 5)) { /* f64 array */
        size_t used;
        const char *err;
        sx_val a = arr_read_literal(S, r->p + 4, r->end, &used, &err);
        for (size_t k = 0; k < 4 + used; k++) nextc(r);
        if (!a) read_error(S, r, r->line, r->col, "%s", err);
        datum = a;
        goto deliver;
      }
      if ((d == 't' || d == 'f') && (r->p + 2 >= r->end || is_delim((unsigned char)r->p[2]))) {
        nextc(r), nextc(r);
        datum = d == 't' ? SX_TRUE : SX_FALSE;
        goto deliver;
      }
    }
    if (c == '.' && is_delim(r->p + 1 < r->end ? (unsigned char)r->p[1] : -1)) {
      nextc(r);
      rframe *fr = st.n ? &st.f[st.n - 1] : NULL;
      if (!fr || fr->kind != F_LIST || fr->items == SX_EMPTY || fr->dot)
        read_error(S, r, line, col, "unexpected '.'");
      fr->dot = 1;
      continue;
    }
    datum = read_atom(S, r, line, col);
  deliver:
    for (;;) {
      if (st.n == 0) {
        *out = datum;
        return true;
      }
      rframe *fr = &st.f[st.n - 1];
      if (fr->kind == F_QUOTE) {
        datum = located(S, fr->quote, located(S, datum, SX_EMPTY, line, col), fr->line, fr->col);
        st.n--;
        continue;
      }
      if (fr->kind == F_DISCARD) {
        st.n--;
        break;
      }
      if (fr->dot == 1) {
        fr->tail = datum;
        fr->dot = 2;
      } else if (fr->dot == 2) {
        read_error(S, r, line, col, "more than one datum after '.'");
      } else {
        fr->items = located(S, datum, fr->items, line, col);
      }
      break;
    }
  }
}

sx_val vm_read_all(sx_state *S, const char *src, size_t n, sx_val file) {
  vm_reader r;
  size_t nchars;
  if (!vm_utf8_valid(src, n, &nchars)) {
    /* find the first bad sequence for the position */
    size_t i = 0;
    while (i < n) {
      unsigned char c = (unsigned char)src[i];
      size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
      if (i + len > n || !vm_utf8_valid(src + i, len, &nchars)) break;
      i += len;
    }
    vm_reader_init(&r, src, i, file);
    while (r.p < r.end) nextc(&r);
    read_error(S, &r, r.line, r.col, "invalid UTF-8 in source");
  }
  vm_reader_init(&r, src, n, file);
  sx_val forms = SX_EMPTY, d;
  while (vm_read(S, &r, &d)) forms = vm_cons(S, d, forms);
  return vm_reverse(S, forms);
}
