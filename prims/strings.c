/* strings.c — strings (immutable UTF-8, indexed by code point), characters, symbols, keywords. */
#include <gc/gc.h>
#include <stdio.h>
#include <string.h>

#include "prims.h"

PRIM_FN(p_str) {
  vm_buf b = {0};
  for (int i = 0; i < argc; i++)
    if (argv[i] != SX_NIL) vm_print(S, &b, argv[i], false);
  sx_val s = vm_string(S, b.buf ? b.buf : "", b.len);
  vm_buf_free(&b);
  return s;
}

PRIM_FN(p_string_length) { UNUSED_ARGS; return sx_mkfix((int64_t)STR(argv[0])->nchars); }

static size_t char_index(sx_state *S, const char *who, sx_val v, size_t n, bool inclusive) {
  int64_t i = sx_fixnum(v);
  if (i < 0 || (uint64_t)i > n || (!inclusive && (uint64_t)i == n))
    vm_error_irritant(S, v, "%s: index %lld out of range", who, (long long)i);
  return (size_t)i;
}

PRIM_FN(p_substring) {
  sx_string *s = STR(argv[0]);
  size_t start = char_index(S, "substring", argv[1], s->nchars, true);
  size_t end = argc > 2 ? char_index(S, "substring", argv[2], s->nchars, true) : s->nchars;
  if (end < start) vm_error(S, "substring: end %zu is before start %zu", end, start);
  const char *a = vm_str_offset(argv[0], start), *b = vm_str_offset(argv[0], end);
  return vm_string(S, a, (size_t)(b - a));
}

PRIM_FN(p_string_append) {
  vm_buf b = {0};
  for (int i = 0; i < argc; i++) vm_buf_add(&b, STR(argv[i])->data, STR(argv[i])->nbytes);
  sx_val s = vm_string(S, b.buf ? b.buf : "", b.len);
  vm_buf_free(&b);
  return s;
}

PRIM_FN(p_string_ref) {
  UNUSED_ARGS;
  size_t i = char_index(S, "string-ref", argv[1], STR(argv[0])->nchars, false);
  const char *p = vm_str_offset(argv[0], i);
  return sx_mkchar(vm_utf8_decode(&p));
}

static sx_val map_case(sx_state *S, sx_val str, bool up) {
  sx_string *s = STR(str);
  char *tmp = GC_MALLOC_ATOMIC(s->nbytes + 1);
  if (!tmp) vm_error(S, "out of memory");
  for (size_t i = 0; i < s->nbytes; i++) {
    char c = s->data[i];
    if (up && c >= 'a' && c <= 'z') c = (char)(c - 32);
    if (!up && c >= 'A' && c <= 'Z') c = (char)(c + 32);
    tmp[i] = c;
  }
  return vm_string(S, tmp, s->nbytes);
}

PRIM_FN(p_string_upcase) { UNUSED_ARGS; return map_case(S, argv[0], true); }
PRIM_FN(p_string_downcase) { UNUSED_ARGS; return map_case(S, argv[0], false); }

static const char *find_bytes(const char *hay, size_t hn, const char *needle, size_t nn) {
  if (nn == 0) return hay;
  if (nn > hn) return NULL;
  for (size_t i = 0; i + nn <= hn; i++)
    if (hay[i] == needle[0] && !memcmp(hay + i, needle, nn)) return hay + i;
  return NULL;
}

PRIM_FN(p_string_split) {
  UNUSED_ARGS;
  sx_string *s = STR(argv[0]), *sep = STR(argv[1]);
  if (sep->nbytes == 0) vm_error(S, "string-split: empty separator");
  sx_val out = SX_EMPTY;
  const char *p = s->data, *end = s->data + s->nbytes;
  for (;;) {
    const char *q = find_bytes(p, (size_t)(end - p), sep->data, sep->nbytes);
    if (!q) {
      out = vm_cons(S, vm_string(S, p, (size_t)(end - p)), out);
      break;
    }
    out = vm_cons(S, vm_string(S, p, (size_t)(q - p)), out);
    p = q + sep->nbytes;
  }
  return vm_reverse(S, out);
}

PRIM_FN(p_string_join) {
  vm_buf b = {0};
  sx_string *sep = argc > 1 ? STR(argv[1]) : NULL;
  bool first = true;
  sx_val l = argv[0];
  for (; sx_is_pair(l); l = sx_cdr(l)) {
    sx_val s = sx_car(l);
    if (!sx_is_string(s)) {
      vm_buf_free(&b);
      vm_type_error(S, "string-join", "list of strings", argv[0], 1);
    }
    if (!first && sep) vm_buf_add(&b, sep->data, sep->nbytes);
    first = false;
    vm_buf_add(&b, STR(s)->data, STR(s)->nbytes);
  }
  sx_val r = vm_string(S, b.buf ? b.buf : "", b.len);
  vm_buf_free(&b);
  return r;
}

PRIM_FN(p_string_contains) {
  UNUSED_ARGS;
  sx_string *s = STR(argv[0]), *n = STR(argv[1]);
  return sx_bool(find_bytes(s->data, s->nbytes, n->data, n->nbytes) != NULL);
}

static int strcmp_val(sx_val a, sx_val b) {
  sx_string *x = STR(a), *y = STR(b);
  size_t n = x->nbytes < y->nbytes ? x->nbytes : y->nbytes;
  int c = memcmp(x->data, y->data, n);
  if (c) return c;
  return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

PRIM_FN(p_string_eq) {
  UNUSED_ARGS;
  for (int i = 0; i + 1 < argc; i++)
    if (strcmp_val(argv[i], argv[i + 1]) != 0) return SX_FALSE;
  return SX_TRUE;
}

PRIM_FN(p_string_lt) {
  UNUSED_ARGS;
  for (int i = 0; i + 1 < argc; i++)
    if (strcmp_val(argv[i], argv[i + 1]) >= 0) return SX_FALSE;
  return SX_TRUE;
}

PRIM_FN(p_string_to_list) {
  UNUSED_ARGS;
  sx_string *s = STR(argv[0]);
  sx_val out = SX_EMPTY;
  const char *p = s->data, *end = s->data + s->nbytes;
  while (p < end) out = vm_cons(S, sx_mkchar(vm_utf8_decode(&p)), out);
  return vm_reverse(S, out);
}

PRIM_FN(p_list_to_string) {
  UNUSED_ARGS;
  vm_buf b = {0};
  for (sx_val l = argv[0]; sx_is_pair(l); l = sx_cdr(l)) {
    if (!sx_is_char(sx_car(l))) {
      vm_buf_free(&b);
      vm_type_error(S, "list->string", "list of characters", argv[0], 1);
    }
    char u[4];
    vm_buf_add(&b, u, (size_t)vm_utf8_encode(sx_char(sx_car(l)), u));
  }
  sx_val s = vm_string(S, b.buf ? b.buf : "", b.len);
  vm_buf_free(&b);
  return s;
}

PRIM_FN(p_string_to_symbol) {
  UNUSED_ARGS;
  return vm_intern(S, STR(argv[0])->data, STR(argv[0])->nbytes, T_SYMBOL);
}
PRIM_FN(p_string_to_keyword) {
  UNUSED_ARGS;
  return vm_intern(S, STR(argv[0])->data, STR(argv[0])->nbytes, T_KEYWORD);
}
PRIM_FN(p_symbol_to_string) { UNUSED_ARGS; return SYM(argv[0])->name; }
PRIM_FN(p_keyword_to_string) { UNUSED_ARGS; return SYM(argv[0])->name; }

PRIM_FN(p_gensym) {
  char buf[96];
  const char *prefix = "g";
  if (argc > 0) prefix = sx_is_string(argv[0]) ? STR(argv[0])->data : STR(SYM(argv[0])->name)->data;
  snprintf(buf, sizeof buf, "%.40s%llu", prefix, (unsigned long long)++S->gensym_counter);
  sx_symbol *sym = vm_alloc(S, sizeof(sx_symbol), T_SYMBOL); /* uninterned */
  sym->name = vm_cstring(S, buf);
  sym->hash = (uint32_t)(S->gensym_counter * 2654435761u) | 1;
  sym->special = -1;
  return sx_from_obj(sym);
}

PRIM_FN(p_char_to_integer) { UNUSED_ARGS; return sx_mkfix(sx_char(argv[0])); }
PRIM_FN(p_integer_to_char) {
  UNUSED_ARGS;
  int64_t c = INT(0);
  if (c < 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
    vm_error_irritant(S, argv[0], "integer->char: %lld is not a Unicode code point", (long long)c);
  return sx_mkchar((uint32_t)c);
}
PRIM_FN(p_char_upcase) {
  UNUSED_ARGS;
  uint32_t c = sx_char(argv[0]);
  return sx_mkchar(c >= 'a' && c <= 'z' ? c - 32 : c);
}
PRIM_FN(p_char_downcase) {
  UNUSED_ARGS;
  uint32_t c = sx_char(argv[0]);
  return sx_mkchar(c >= 'A' && c <= 'Z' ? c + 32 : c);
}
PRIM_FN(p_char_alphabetic) {
  UNUSED_ARGS;
  uint32_t c = sx_char(argv[0]);
  return sx_bool((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}
PRIM_FN(p_char_numeric) {
  UNUSED_ARGS;
  uint32_t c = sx_char(argv[0]);
  return sx_bool(c >= '0' && c <= '9');
}
PRIM_FN(p_char_whitespace) {
  UNUSED_ARGS;
  uint32_t c = sx_char(argv[0]);
  return sx_bool(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v');
}

const prim_impl prim_strings[] = {
    {"str", p_str},
    {"string-length", p_string_length},
    {"substring", p_substring},
    {"string-append", p_string_append},
    {"string-ref", p_string_ref},
    {"string-upcase", p_string_upcase},
    {"string-downcase", p_string_downcase},
    {"string-split", p_string_split},
    {"string-join", p_string_join},
    {"string-contains?", p_string_contains},
    {"string=?", p_string_eq},
    {"string<?", p_string_lt},
    {"string->list", p_string_to_list},
    {"list->string", p_list_to_string},
    {"string->symbol", p_string_to_symbol},
    {"string->keyword", p_string_to_keyword},
    {"symbol->string", p_symbol_to_string},
    {"keyword->string", p_keyword_to_string},
    {"gensym", p_gensym},
    {"char->integer", p_char_to_integer},
    {"integer->char", p_integer_to_char},
    {"char-upcase", p_char_upcase},
    {"char-downcase", p_char_downcase},
    {"char-alphabetic?", p_char_alphabetic},
    {"char-numeric?", p_char_numeric},
    {"char-whitespace?", p_char_whitespace},
    {NULL, NULL},
};
