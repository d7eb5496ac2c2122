/* printer.c — data to text: `write` (readable: what it prints reads back equal?) and `display`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gc/gc.h>

#include "state.h"

void vm_buf_add(vm_buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t ncap = b->cap ? b->cap * 2 : 64;
    while (ncap < b->len + n + 1) ncap *= 2;
    /* collected memory, so a buffer dropped by an error's longjmp is not leaked */
    char *nb = GC_REALLOC(b->buf, ncap);
    if (!nb) abort(); /* no memory left for a few bytes: nothing sensible is left to do */
    b->buf = nb;
    b->cap = ncap;
  }
  memcpy(b->buf + b->len, s, n);
  b->len += n;
  b->buf[b->len] = 0;
}

void vm_buf_addc(vm_buf *b, char c) { vm_buf_add(b, &c, 1); }

void vm_buf_free(vm_buf *b) {
  if (b->buf) GC_FREE(b->buf);
  *b = (vm_buf){0};
}

void vm_buf_printf(vm_buf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < (int)sizeof tmp) {
    vm_buf_add(b, tmp, (size_t)n);
    return;
  }
  char *big = GC_MALLOC_ATOMIC((size_t)n + 1);
  if (!big) abort();
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  vm_buf_add(b, big, (size_t)n);
  GC_FREE(big);
}

/* Shortest text that reads back as the same double, always with a '.' or an exponent. */
void vm_format_double(double d, char *out, size_t n) {
  if (isnan(d)) {
    snprintf(out, n, "+nan.0");
    return;
  }
  if (isinf(d)) {
    snprintf(out, n, d > 0 ? "+inf.0" : "-inf.0");
    return;
  }
  /* the fewest significant digits that read back exactly, then positional notation for
     ordinary magnitudes and an exponent for very large or small ones */
  int digits = 1;
  for (; digits < 17; digits++) {
    snprintf(out, n, "%.*e", digits - 1, d);
    if (strtod(out, NULL) == d) break;
  }
  snprintf(out, n, "%.*e", digits - 1, d);
  int exp10 = atoi(strchr(out, 'e') + 1);
  if (exp10 >= -5 && exp10 < 21) {
    int decimals = digits - 1 - exp10;
    snprintf(out, n, "%.*f", decimals > 0 ? decimals : 0, d);
    if (!strchr(out, '.')) {
      size_t len = strlen(out);
      if (len + 3 <= n) memcpy(out + len, ".0", 3);
    }
  }
}

static void write_char(vm_buf *b, uint32_t c) {
  const char *name = NULL;
  switch (c) {
  case ' ': name = "space"; break;
  case '\n': name = "newline"; break;
  case '\t': name = "tab"; break;
  case '\r': name = "return"; break;
  case 0: name = "nul"; break;
  case 7: name = "alarm"; break;
  case 8: name = "backspace"; break;
  case 127: name = "delete"; break;
  case 27: name = "escape"; break;
  }
  vm_buf_add(b, "#\\", 2);
  if (name) vm_buf_add(b, name, strlen(name));
  else if (c < 32) vm_buf_printf(b, "x%x", c);
  else {
    char u[4];
    vm_buf_add(b, u, (size_t)vm_utf8_encode(c, u));
  }
}

static void write_string(vm_buf *b, sx_string *s) {
  vm_buf_addc(b, '"');
  for (size_t i = 0; i < s->nbytes; i++) {
    unsigned char c = (unsigned char)s->data[i];
    switch (c) {
    case '"': vm_buf_add(b, "\\\"", 2); break;
    case '\\': vm_buf_add(b, "\\\\", 2); break;
    case '\n': vm_buf_add(b, "\\n", 2); break;
    case '\t': vm_buf_add(b, "\\t", 2); break;
    case '\r': vm_buf_add(b, "\\r", 2); break;
    default:
      if (c < 32 || c == 127) vm_buf_printf(b, "\\x%x;", c);
      else vm_buf_addc(b, (char)c);
    }
  }
  vm_buf_addc(b, '"');
}

static void print_name(vm_buf *b, sx_val name) {
  if (sx_is_symbol(name)) {
    sx_string *s = STR(SYM(name)->name);
    vm_buf_addc(b, ' ');
    vm_buf_add(b, s->data, s->nbytes);
  }
}

static void print_list(sx_state *S, vm_buf *b, sx_val v, bool write) {
  vm_buf_addc(b, '(');
  sx_val slow = v;
  bool first = true;
  size_t steps = 0;
  while (sx_is_pair(v)) {
    if (!first) vm_buf_addc(b, ' ');
    first = false;
    vm_print(S, b, sx_car(v), write);
    v = sx_cdr(v);
    if ((++steps & 1) == 0) slow = sx_cdr(slow);
    if (v == slow && sx_is_pair(v)) {
      vm_buf_add(b, " ...", 4); /* a cycle made with set-cdr! */
      v = SX_EMPTY;
    }
  }
  if (v != SX_EMPTY) {
    vm_buf_add(b, " . ", 3);
    vm_print(S, b, v, write);
  }
  vm_buf_addc(b, ')');
}

void vm_print(sx_state *S, vm_buf *b, sx_val v, bool write) {
  if (sx_is_fixnum(v)) {
    vm_buf_printf(b, "%lld", (long long)sx_fixnum(v));
    return;
  }
  if (sx_is_char(v)) {
    if (write) write_char(b, sx_char(v));
    else {
      char u[4];
      vm_buf_add(b, u, (size_t)vm_utf8_encode(sx_char(v), u));
    }
    return;
  }
  switch (v) {
  case SX_NIL: vm_buf_add(b, "nil", 3); return;
  case SX_TRUE: vm_buf_add(b, "true", 4); return;
  case SX_FALSE: vm_buf_add(b, "false", 5); return;
  case SX_EMPTY: vm_buf_add(b, "()", 2); return;
  case SX_UNBOUND: vm_buf_add(b, "#<unbound>", 10); return;
  case SX_EOF: vm_buf_add(b, "#<eof>", 6); return;
  }
  if (!sx_is_ptr(v)) {
    vm_buf_add(b, "#<?>", 4);
    return;
  }
  vm_check_cstack(S);
  switch (sx_obj_of(v)->type) {
  case T_PAIR: print_list(S, b, v, write); return;
  case T_FLONUM: {
    char tmp[40];
    vm_format_double(sx_flo(v), tmp, sizeof tmp);
    vm_buf_add(b, tmp, strlen(tmp));
    return;
  }
  case T_STRING:
    if (write) write_string(b, STR(v));
    else vm_buf_add(b, STR(v)->data, STR(v)->nbytes);
    return;
  case T_SYMBOL:
    vm_buf_add(b, STR(SYM(v)->name)->data, STR(SYM(v)->name)->nbytes);
    return;
  case T_KEYWORD:
    vm_buf_addc(b, ':');
    vm_buf_add(b, STR(SYM(v)->name)->data, STR(SYM(v)->name)->nbytes);
    return;
  case T_VECTOR:
    vm_buf_addc(b, '[');
    for (size_t i = 0; i < VEC(v)->len; i++) {
      if (i) vm_buf_addc(b, ' ');
      vm_print(S, b, VEC(v)->items[i], write);
    }
    vm_buf_addc(b, ']');
    return;
  case T_DICT: {
    sx_dict *d = DICT(v);
    vm_buf_addc(b, '{');
    bool first = true;
    for (size_t i = 0; i < d->used; i++) {
      if (d->entries[i].key == SX_UNBOUND) continue;
      if (!first) vm_buf_addc(b, ' ');
      first = false;
      vm_print(S, b, d->entries[i].key, write);
      vm_buf_addc(b, ' ');
      vm_print(S, b, d->entries[i].val, write);
    }
    vm_buf_addc(b, '}');
    return;
  }
  case T_CLOSURE:
    vm_buf_add(b, "#<procedure", 11);
    print_name(b, CLOSURE(v)->proto->name);
    vm_buf_addc(b, '>');
    return;
  case T_PRIM:
    vm_buf_add(b, "#<primitive", 11);
    print_name(b, PRIM(v)->name);
    vm_buf_addc(b, '>');
    return;
  case T_MACRO:
    vm_buf_add(b, "#<macro", 7);
    print_name(b, MACRO(v)->name);
    vm_buf_addc(b, '>');
    return;
  case T_ERROR:
    vm_buf_add(b, "#<error ", 8);
    write_string(b, STR(ERR(v)->message));
    vm_buf_addc(b, '>');
    return;
  case T_ENV: vm_buf_add(b, "#<environment>", 14); return;
  case T_ARRAY: arr_print(S, b, v); return;
  case T_PROTO: vm_buf_add(b, "#<prototype>", 12); return;
  default: vm_buf_printf(b, "#<%s>", vm_type_name(v)); return;
  }
}

sx_val vm_to_string(sx_state *S, sx_val v, bool write) {
  vm_buf b = {0};
  vm_print(S, &b, v, write);
  sx_val s = vm_string(S, b.buf ? b.buf : "", b.len);
  vm_buf_free(&b);
  return s;
}

void vm_output(sx_state *S, const char *s, size_t n) {
  if (S->cfg.write) S->cfg.write(S->cfg.write_ud, s, n);
  else fwrite(s, 1, n, stdout);
}
