/* prim_spec.c — keeps spec/primitives.sx honest: the registered primitives and the spec are
 * the same set, and every primitive called with a wrong argument kind or count raises a clear
 * error (generated from the spec's kinds), never crashes. */
#include <stdio.h>
#include <string.h>

#include "state.h"

static int passed, failed;

static void check(int ok, const char *what, const char *detail) {
  if (ok) passed++;
  else {
    failed++;
    printf("prim_spec: %s: %s\n", what, detail);
  }
}

static const char *good_value(uint8_t k) {
  switch (k) {
  case K_STRING: return "\"s\"";
  case K_SYMBOL: return "'s";
  case K_KEYWORD: return ":k";
  case K_CHAR: return "#\\a";
  case K_PAIR:
  case K_LIST: return "'(1 2)";
  case K_VECTOR: return "[1 2]";
  case K_DICT: return "{:a 1}";
  case K_PROCEDURE: return "list";
  case K_BOOLEAN: return "true";
  case K_ERROR: return "(try (error \"e\") (catch e e))";
  case K_ENV: return "(make-env)";
  case K_NAMELIKE: return "\"s\"";
  case K_ARRAY: return "(array 1 2)";
  default: return "1";
  }
}

static const char *bad_value(uint8_t k) {
  switch (k) {
  case K_NUMBER: return "\"x\"";
  case K_INTEGER: return "1.5";
  case K_PAIR: return "'()";
  case K_LIST: return "5";
  case K_VECTOR: return "'(1)";
  case K_DICT: return "[1]";
  case K_PROCEDURE: return "5";
  default: return "1";
  }
}

/* Evaluates (try CALL (catch e (error-message e))) and wants a non-empty message string. */
static void expect_error(sx_state *S, const char *name, const char *call, const char *what) {
  char src[2048];
  snprintf(src, sizeof src,
           "(try (do %s :no-error) (catch e (if (error? e) (error-message e) \"non-error raised\")))",
           call);
  sx_value v;
  sx_status st = sx_eval_string(S, src, "<prim_spec>", &v);
  char detail[2600];
  if (st != SX_OK) {
    snprintf(detail, sizeof detail, "%s -> status %d: %s", call, st, sx_error_message(S));
    check(0, name, detail);
    return;
  }
  const char *shown = sx_to_string(S, v, 0);
  snprintf(detail, sizeof detail, "%s (%s) -> %s", call, what, shown);
  check(sx_is_string(v) && STR(v)->nbytes > 0, name, detail);
}

int main(void) {
  sx_config cfg = {0};
  cfg.capabilities = SX_CAP_ALL;
  sx_state *S = sx_open(&cfg);
  if (!S) return 1;

  /* every spec entry is bound; C entries to primitives with this spec */
  for (int i = 0; i < prim_nspecs; i++) {
    const sx_prim_spec *sp = &prim_specs[i];
    sx_cell *c = vm_env_lookup(S->root, vm_symbol(S, sp->name));
    int ok = c && (sp->lib ? sx_is_closure(c->value) : (sx_is_prim(c->value) && PRIM(c->value)->spec == sp));
    check(ok, sp->name, sp->lib ? "not defined by the prelude" : "no C implementation registered");
  }
  /* every primitive bound in the root environment has a spec entry */
  for (size_t i = 0; i < S->root->cap; i++) {
    if (!S->root->keys[i]) continue;
    sx_val v = S->root->cells[i]->value;
    if (!sx_is_prim(v)) continue;
    const char *name = STR(SYM(S->root->keys[i])->name)->data;
    check(prim_spec_find(name) == PRIM(v)->spec, name, "registered but missing from spec/primitives.sx");
  }

  /* wrong kinds and counts */
  for (int i = 0; i < prim_nspecs; i++) {
    const sx_prim_spec *sp = &prim_specs[i];
    if (!strcmp(sp->name, "exit")) continue; /* a correct call would end the test */
    int nargs = sp->min;
    if (sp->nkinds > nargs) nargs = sp->nkinds;
    if (sp->max >= 0 && nargs > sp->max) nargs = sp->max;
    for (int bad = 0; bad < nargs; bad++) {
      uint8_t k = sp->kinds[bad < sp->nkinds ? bad : sp->nkinds - 1];
      if (k == K_ANY) continue;
      char call[1024];
      int n = snprintf(call, sizeof call, "(%s", sp->name);
      for (int a = 0; a < nargs; a++) {
        uint8_t ka = sp->kinds[a < sp->nkinds ? a : sp->nkinds - 1];
        n += snprintf(call + n, sizeof call - (size_t)n, " %s", a == bad ? bad_value(k) : good_value(ka));
      }
      snprintf(call + n, sizeof call - (size_t)n, ")");
      expect_error(S, sp->name, call, "wrong kind");
    }
    if (sp->min > 0) {
      char call[256];
      snprintf(call, sizeof call, "(%s)", sp->name);
      if (sp->min > 1) snprintf(call, sizeof call, "(%s %s)", sp->name, good_value(sp->nkinds ? sp->kinds[0] : K_ANY));
      expect_error(S, sp->name, call, "too few arguments");
    }
    if (sp->max >= 0) {
      char call[1024];
      int n = snprintf(call, sizeof call, "(%s", sp->name);
      for (int a = 0; a <= sp->max; a++) {
        uint8_t ka = sp->nkinds ? sp->kinds[a < sp->nkinds ? a : sp->nkinds - 1] : K_ANY;
        n += snprintf(call + n, sizeof call - (size_t)n, " %s", good_value(ka));
      }
      snprintf(call + n, sizeof call - (size_t)n, ")");
      expect_error(S, sp->name, call, "too many arguments");
    }
  }
  sx_close(S);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
