/* data.c — vectors and dicts. */
#include "prims.h"

PRIM_FN(p_vector) {
  sx_val v = vm_vector(S, (size_t)argc, SX_NIL);
  for (int i = 0; i < argc; i++) VEC(v)->items[i] = argv[i];
  return v;
}

PRIM_FN(p_make_vector) {
  if (INT(0) < 0 || INT(0) > (1 << 28))
    vm_error_irritant(S, argv[0], "make-vector: size out of range");
  return vm_vector(S, (size_t)INT(0), argc > 1 ? argv[1] : SX_NIL);
}

PRIM_FN(p_vector_ref) {
  UNUSED_ARGS;
  return VEC(argv[0])->items[prim_index(S, "vector-ref", argv[1], VEC(argv[0])->len)];
}

PRIM_FN(p_vector_set) {
  UNUSED_ARGS;
  VEC(argv[0])->items[prim_index(S, "vector-set!", argv[1], VEC(argv[0])->len)] = argv[2];
  return SX_NIL;
}

PRIM_FN(p_vector_length) { UNUSED_ARGS; return sx_mkfix((int64_t)VEC(argv[0])->len); }

PRIM_FN(p_vector_to_list) {
  UNUSED_ARGS;
  return vm_list_from(S, VEC(argv[0])->len, VEC(argv[0])->items);
}

PRIM_FN(p_list_to_vector) {
  UNUSED_ARGS;
  size_t n = vm_list_length(argv[0]);
  if (n == (size_t)-1) vm_type_error(S, "list->vector", "proper list", argv[0], 1);
  sx_val v = vm_vector(S, n, SX_NIL);
  size_t i = 0;
  for (sx_val l = argv[0]; sx_is_pair(l); l = sx_cdr(l)) VEC(v)->items[i++] = sx_car(l);
  return v;
}

PRIM_FN(p_vector_fill) {
  UNUSED_ARGS;
  for (size_t i = 0; i < VEC(argv[0])->len; i++) VEC(argv[0])->items[i] = argv[1];
  return SX_NIL;
}

PRIM_FN(p_dict) {
  if (argc % 2) vm_error(S, "dict: expected alternating keys and values, got %d arguments", argc);
  sx_val d = vm_dict(S, (size_t)argc / 2);
  for (int i = 0; i < argc; i += 2) vm_dict_set(S, d, argv[i], argv[i + 1]);
  return d;
}

PRIM_FN(p_get) {
  sx_val c = argv[0], dflt = argc > 2 ? argv[2] : SX_NIL;
  if (sx_is_dict(c)) {
    bool found;
    sx_val v = vm_dict_get(S, c, argv[1], &found);
    return found ? v : dflt;
  }
  if (sx_is_vector(c)) {
    if (!sx_is_fixnum(argv[1])) return dflt;
    int64_t i = INT(1);
    return i >= 0 && (uint64_t)i < VEC(c)->len ? VEC(c)->items[i] : dflt;
  }
  if (c == SX_NIL) return dflt;
  vm_type_error(S, "get", "dict or vector", c, 1);
}

PRIM_FN(p_dict_set) { UNUSED_ARGS; vm_dict_set(S, argv[0], argv[1], argv[2]); return SX_NIL; }
PRIM_FN(p_dict_remove) { UNUSED_ARGS; vm_dict_remove(S, argv[0], argv[1]); return SX_NIL; }
PRIM_FN(p_has_key) {
  UNUSED_ARGS;
  bool found;
  vm_dict_get(S, argv[0], argv[1], &found);
  return sx_bool(found);
}

static sx_val dict_list(sx_state *S, sx_val dv, int what) {
  sx_dict *d = DICT(dv);
  sx_val out = SX_EMPTY;
  for (size_t i = d->used; i-- > 0;) {
    sx_dict_entry *e = &d->entries[i];
    if (e->key == SX_UNBOUND) continue;
    sx_val item = what == 0 ? e->key : what == 1 ? e->val : vm_cons(S, e->key, e->val);
    out = vm_cons(S, item, out);
  }
  return out;
}

PRIM_FN(p_keys) { UNUSED_ARGS; return dict_list(S, argv[0], 0); }
PRIM_FN(p_vals) { UNUSED_ARGS; return dict_list(S, argv[0], 1); }
PRIM_FN(p_dict_to_list) { UNUSED_ARGS; return dict_list(S, argv[0], 2); }
PRIM_FN(p_dict_count) { UNUSED_ARGS; return sx_mkfix((int64_t)DICT(argv[0])->count); }

const prim_impl prim_data[] = {
    {"vector", p_vector},
    {"make-vector", p_make_vector},
    {"vector-ref", p_vector_ref},
    {"vector-set!", p_vector_set},
    {"vector-length", p_vector_length},
    {"vector->list", p_vector_to_list},
    {"list->vector", p_list_to_vector},
    {"vector-fill!", p_vector_fill},
    {"dict", p_dict},
    {"get", p_get},
    {"dict-set!", p_dict_set},
    {"dict-remove!", p_dict_remove},
    {"has-key?", p_has_key},
    {"keys", p_keys},
    {"vals", p_vals},
    {"dict->list", p_dict_to_list},
    {"dict-count", p_dict_count},
    {NULL, NULL},
};
