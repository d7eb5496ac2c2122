/* lists.c — pairs and lists, equality and type predicates. Higher-order list procedures
 * (map, filter, sort, folds) are SX code in lib/prelude.sx. */
#include <gc/gc.h>
#include <string.h>

#include "prims.h"

PRIM_FN(p_cons) { UNUSED_ARGS; return vm_cons(S, argv[0], argv[1]); }
PRIM_FN(p_car) { UNUSED_ARGS; return sx_car(argv[0]); }
PRIM_FN(p_cdr) { UNUSED_ARGS; return sx_cdr(argv[0]); }

/* c[ad]+r: the letters are applied right to left */
static sx_val cxr(sx_state *S, sx_val v, const char *path, const char *name) {
  sx_val orig = v;
  for (int i = (int)strlen(path) - 1; i >= 0; i--) {
    if (!sx_is_pair(v)) vm_type_error(S, name, "pair", orig, 1);
    v = path[i] == 'a' ? sx_car(v) : sx_cdr(v);
  }
  return v;
}

#define CXR(fn, path)                                                                          \
  PRIM_FN(fn) {                                                                                \
    UNUSED_ARGS;                                                                               \
    return cxr(S, argv[0], path, "c" path "r");                                                \
  }
CXR(p_caar, "aa")
CXR(p_cadr, "ad")
CXR(p_cdar, "da")
CXR(p_cddr, "dd")
CXR(p_caaar, "aaa")
CXR(p_caadr, "aad")
CXR(p_cadar, "ada")
CXR(p_caddr, "add")
CXR(p_cdaar, "daa")
CXR(p_cdadr, "dad")
CXR(p_cddar, "dda")
CXR(p_cdddr, "ddd")

PRIM_FN(p_set_car) { UNUSED_ARGS; PAIR(argv[0])->car = argv[1]; return SX_NIL; }
PRIM_FN(p_set_cdr) { UNUSED_ARGS; PAIR(argv[0])->cdr = argv[1]; return SX_NIL; }

PRIM_FN(p_list) { return vm_list_from(S, (size_t)argc, argv); }

static size_t proper_length(sx_state *S, const char *who, sx_val l, int argno) {
  size_t n = vm_list_length(l);
  if (n == (size_t)-1) vm_type_error(S, who, "proper list", l, argno);
  return n;
}

PRIM_FN(p_length) {
  UNUSED_ARGS;
  return sx_mkfix((int64_t)proper_length(S, "length", argv[0], 1));
}

/* Copies every list but the last, which is shared: one cons per element, filled in order
 * through a tail pointer (reversing a copy then consing it again allocated twice as much). */
PRIM_FN(p_append) {
  if (argc == 0) return SX_EMPTY;
  sx_val head = SX_EMPTY, *tail = &head;
  for (int i = 0; i < argc - 1; i++) {
    proper_length(S, "append", argv[i], i + 1);
    for (sx_val l = argv[i]; sx_is_pair(l); l = sx_cdr(l)) {
      sx_val c = vm_cons(S, sx_car(l), SX_EMPTY);
      *tail = c;
      tail = &PAIR(c)->cdr;
    }
  }
  *tail = argv[argc - 1];
  return head;
}

PRIM_FN(p_reverse) {
  UNUSED_ARGS;
  proper_length(S, "reverse", argv[0], 1);
  return vm_reverse(S, argv[0]);
}

PRIM_FN(p_list_tail) {
  UNUSED_ARGS;
  sx_val l = argv[0];
  int64_t k = INT(1);
  if (k < 0) vm_error_irritant(S, argv[1], "list-tail: index out of range");
  for (; k > 0; k--) {
    if (!sx_is_pair(l)) vm_error_irritant(S, argv[1], "list-tail: index out of range");
    l = sx_cdr(l);
  }
  return l;
}

PRIM_FN(p_list_ref) {
  UNUSED_ARGS;
  sx_val l = argv[0];
  int64_t k = INT(1);
  if (k < 0) vm_error_irritant(S, argv[1], "list-ref: index out of range");
  for (; k > 0 && sx_is_pair(l); k--) l = sx_cdr(l);
  if (!sx_is_pair(l)) vm_error_irritant(S, argv[1], "list-ref: index out of range");
  return sx_car(l);
}

PRIM_FN(p_last) {
  UNUSED_ARGS;
  sx_val l = argv[0];
  while (sx_is_pair(sx_cdr(l))) l = sx_cdr(l);
  return sx_car(l);
}

static sx_val find_assoc(sx_state *S, sx_val key, sx_val l, bool equal, const char *who) {
  for (; sx_is_pair(l); l = sx_cdr(l)) {
    sx_val e = sx_car(l);
    if (!sx_is_pair(e)) vm_type_error(S, who, "association list", l, 2);
    if (equal ? vm_equal(S, sx_car(e), key) : sx_car(e) == key) return e;
  }
  return SX_FALSE;
}

static sx_val find_member(sx_state *S, sx_val x, sx_val l, bool equal) {
  for (; sx_is_pair(l); l = sx_cdr(l))
    if (equal ? vm_equal(S, sx_car(l), x) : sx_car(l) == x) return l;
  return SX_FALSE;
}

PRIM_FN(p_assoc) { UNUSED_ARGS; return find_assoc(S, argv[0], argv[1], true, "assoc"); }
PRIM_FN(p_assq) { UNUSED_ARGS; return find_assoc(S, argv[0], argv[1], false, "assq"); }
PRIM_FN(p_member) { UNUSED_ARGS; return find_member(S, argv[0], argv[1], true); }
PRIM_FN(p_memq) { UNUSED_ARGS; return find_member(S, argv[0], argv[1], false); }

/* apply is spread by the VM itself (so it stays a proper tail call); this body only runs when
 * C code calls it through vm_call. */
PRIM_FN(p_apply) {
  sx_val args = argc >= 2 ? argv[argc - 1] : SX_EMPTY;
  size_t n = proper_length(S, "apply", args, argc);
  size_t total = (size_t)(argc >= 2 ? argc - 2 : 0) + n;
  sx_val *buf = GC_MALLOC((total + 1) * sizeof(sx_val));
  if (!buf) vm_error(S, "out of memory");
  size_t k = 0;
  for (int i = 1; i < argc - 1; i++) buf[k++] = argv[i];
  for (; sx_is_pair(args); args = sx_cdr(args)) buf[k++] = sx_car(args);
  return vm_call(S, argv[0], (int)total, buf);
}

PRIM_FN(p_eqp) { UNUSED_ARGS; return sx_bool(argv[0] == argv[1]); }
PRIM_FN(p_eqvp) { UNUSED_ARGS; return sx_bool(vm_eqv(argv[0], argv[1])); }
PRIM_FN(p_equalp) { UNUSED_ARGS; return sx_bool(vm_equal(S, argv[0], argv[1])); }
PRIM_FN(p_not) { UNUSED_ARGS; return sx_bool(!sx_truthy(argv[0])); }
PRIM_FN(p_booleanp) { UNUSED_ARGS; return sx_bool(argv[0] == SX_TRUE || argv[0] == SX_FALSE); }
PRIM_FN(p_nilp) { UNUSED_ARGS; return sx_bool(argv[0] == SX_NIL); }
PRIM_FN(p_nullp) { UNUSED_ARGS; return sx_bool(sx_is_listend(argv[0])); }
PRIM_FN(p_pairp) { UNUSED_ARGS; return sx_bool(sx_is_pair(argv[0])); }
PRIM_FN(p_listp) { UNUSED_ARGS; return sx_bool(vm_list_length(argv[0]) != (size_t)-1); }
PRIM_FN(p_symbolp) { UNUSED_ARGS; return sx_bool(sx_is_symbol(argv[0])); }
PRIM_FN(p_keywordp) { UNUSED_ARGS; return sx_bool(sx_is_keyword(argv[0])); }
PRIM_FN(p_stringp) { UNUSED_ARGS; return sx_bool(sx_is_string(argv[0])); }
PRIM_FN(p_charp) { UNUSED_ARGS; return sx_bool(sx_is_char(argv[0])); }
PRIM_FN(p_vectorp) { UNUSED_ARGS; return sx_bool(sx_is_vector(argv[0])); }
PRIM_FN(p_dictp) { UNUSED_ARGS; return sx_bool(sx_is_dict(argv[0])); }
PRIM_FN(p_procedurep) { UNUSED_ARGS; return sx_bool(sx_is_procedure(argv[0])); }
PRIM_FN(p_errorp) { UNUSED_ARGS; return sx_bool(sx_is_error(argv[0])); }

const prim_impl prim_lists[] = {
    {"cons", p_cons},
    {"car", p_car},
    {"cdr", p_cdr},
    {"caar", p_caar},
    {"cadr", p_cadr},
    {"cdar", p_cdar},
    {"cddr", p_cddr},
    {"caaar", p_caaar},
    {"caadr", p_caadr},
    {"cadar", p_cadar},
    {"caddr", p_caddr},
    {"cdaar", p_cdaar},
    {"cdadr", p_cdadr},
    {"cddar", p_cddar},
    {"cdddr", p_cdddr},
    {"set-car!", p_set_car},
    {"set-cdr!", p_set_cdr},
    {"list", p_list},
    {"length", p_length},
    {"append", p_append},
    {"reverse", p_reverse},
    {"list-ref", p_list_ref},
    {"list-tail", p_list_tail},
    {"last", p_last},
    {"assoc", p_assoc},
    {"assq", p_assq},
    {"member", p_member},
    {"memq", p_memq},
    {"apply", p_apply},
    {"eq?", p_eqp},
    {"eqv?", p_eqvp},
    {"equal?", p_equalp},
    {"not", p_not},
    {"boolean?", p_booleanp},
    {"nil?", p_nilp},
    {"null?", p_nullp},
    {"pair?", p_pairp},
    {"list?", p_listp},
    {"symbol?", p_symbolp},
    {"keyword?", p_keywordp},
    {"string?", p_stringp},
    {"char?", p_charp},
    {"vector?", p_vectorp},
    {"dict?", p_dictp},
    {"procedure?", p_procedurep},
    {"error?", p_errorp},
    {NULL, NULL},
};
