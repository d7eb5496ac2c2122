/* prims.c — registers every primitive of spec/primitives.sx in the root environment, and the
 * argument-kind checks the VM applies before a primitive runs. */
#include <string.h>

#include "prims.h"

#include "spec.gen.h"

static const prim_impl *const areas[] = {prim_numbers, prim_lists, prim_strings, prim_data,
                                         prim_system, prim_jit, prim_arrays};

static const char *const kind_names[K_NKINDS] = {
    [K_ANY] = "any value",       [K_NUMBER] = "number",  [K_INTEGER] = "integer",
    [K_STRING] = "string",       [K_SYMBOL] = "symbol",  [K_KEYWORD] = "keyword",
    [K_CHAR] = "character",      [K_PAIR] = "pair",      [K_LIST] = "list",
    [K_VECTOR] = "vector",       [K_DICT] = "dict",      [K_PROCEDURE] = "procedure",
    [K_BOOLEAN] = "boolean",     [K_ERROR] = "error",    [K_ENV] = "environment",
    [K_ARRAY] = "array",         [K_NAMELIKE] = "string, symbol or keyword",
};

const char *prim_kind_name(uint8_t kind) { return kind < K_NKINDS ? kind_names[kind] : "?"; }

bool prim_check_kind(uint8_t kind, sx_val v) { return sx_kind_ok(kind, v); }

const sx_prim_spec *prim_spec_find(const char *name) {
  for (int i = 0; i < prim_nspecs; i++)
    if (!strcmp(prim_specs[i].name, name)) return &prim_specs[i];
  return NULL;
}

/* Primitives the compiler turns into opcodes when called with this many arguments. */
int prim_inline_op(const char *name, int argc) {
  static const struct {
    const char *name;
    int argc, op;
  } ops[] = {
      {"+", 2, OP_ADD},      {"-", 2, OP_SUB},     {"*", 2, OP_MUL},       {"/", 2, OP_DIV},       {"<", 2, OP_LT},
      {"<=", 2, OP_LE},      {">", 2, OP_GT},      {">=", 2, OP_GE},       {"=", 2, OP_NUMEQ},
      {"car", 1, OP_CAR},    {"cdr", 1, OP_CDR},   {"cons", 2, OP_CONS},   {"null?", 1, OP_NULLP},
      {"pair?", 1, OP_PAIRP}, {"eq?", 2, OP_EQ},   {"not", 1, OP_NOT},     {"zero?", 1, OP_ZEROP},
      {"vector-ref", 2, OP_VREF}, {"vector-set!", 3, OP_VSET}, {"set-car!", 2, OP_SETCAR},
      {"set-cdr!", 2, OP_SETCDR},
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (ops[i].argc == argc && !strcmp(ops[i].name, name)) return ops[i].op;
  if (argc == 1 && !strcmp(name, "procedure?")) return OP_PROCP;
  return -1;
}

/* The heap type a one-type predicate tests (for OP_TYPEP), or -1. */
int prim_type_predicate(const char *name) {
  static const struct {
    const char *name;
    int type;
  } preds[] = {{"symbol?", T_SYMBOL}, {"string?", T_STRING}, {"vector?", T_VECTOR},
               {"dict?", T_DICT},     {"keyword?", T_KEYWORD}, {"error?", T_ERROR}};
  for (size_t i = 0; i < sizeof preds / sizeof preds[0]; i++)
    if (!strcmp(preds[i].name, name)) return preds[i].type;
  return -1;
}

static sx_cfn find_impl(const char *name) {
  for (size_t a = 0; a < sizeof areas / sizeof areas[0]; a++)
    for (const prim_impl *p = areas[a]; p->name; p++)
      if (!strcmp(p->name, name)) return p->fn;
  return NULL;
}

/* The capability (sx.h SX_CAP_*) a primitive needs; 0 for those every state has. A state
 * without it does not get the primitive at all: the name is simply unbound. */
static int capability_of(const char *name) {
  static const struct {
    const char *name;
    int cap;
  } caps[] = {
      {"read-file", SX_CAP_IO},       {"write-file", SX_CAP_IO},   {"file-exists?", SX_CAP_IO},
      {"load", SX_CAP_IO},            {"getenv", SX_CAP_PROCESS},  {"command-line", SX_CAP_PROCESS},
      {"exit", SX_CAP_PROCESS},       {"eval", SX_CAP_EVAL},       {"eval-string", SX_CAP_EVAL},
      {"make-env", SX_CAP_EVAL},
  };
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
    if (!strcmp(caps[i].name, name)) return caps[i].cap;
  return 0;
}

void prim_register_all(sx_state *S) {
  for (int i = 0; i < prim_nspecs; i++) {
    const sx_prim_spec *spec = &prim_specs[i];
    if (spec->lib) continue;
    int cap = capability_of(spec->name);
    if (cap && !(S->cfg.capabilities & cap)) continue;
    sx_cfn fn = find_impl(spec->name);
    if (!fn) continue; /* a spec entry without C code: the spec test reports it */
    sx_prim *p = vm_alloc(S, sizeof(sx_prim), T_PRIM);
    p->fn = fn;
    p->spec = spec;
    p->name = vm_symbol(S, spec->name);
    vm_env_define(S, S->root, p->name)->value = sx_from_obj(p);
    if (!strcmp(spec->name, "apply")) S->apply_prim = sx_from_obj(p);
    for (int argc = 0; argc <= 3; argc++) {
      int op = prim_inline_op(spec->name, argc);
      if (op >= 0) S->inline_prims[op] = sx_from_obj(p);
    }
  }
  /* the fused compare-and-jump opcodes fall back to the plain comparisons */
  S->inline_prims[OP_ADDK] = S->inline_prims[OP_ADD];
  S->inline_prims[OP_SUBK] = S->inline_prims[OP_SUB];
}

size_t prim_index(sx_state *S, const char *who, sx_val v, size_t n) {
  if (!sx_is_fixnum(v)) vm_type_error(S, who, "integer", v, 0);
  int64_t i = sx_fixnum(v);
  if (i < 0 || (uint64_t)i >= n)
    vm_error_irritant(S, v, "%s: index %lld out of range [0, %zu)", who, (long long)i, n);
  return (size_t)i;
}
