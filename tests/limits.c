/* limits.c — sx_limits in both tiers: fuel stops endless loops and endless tail calls, the
 * deadline stops long runs, the allocation quota and heap cap stop unbounded allocation with
 * SX_ERR_MEMORY; try cannot catch them, finally still runs, and the state stays usable. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sx.h"

static int passed, failed;

static void check(int ok, const char *what, sx_state *S) {
  if (ok) passed++;
  else {
    failed++;
    printf("limits: FAIL %s (%s)\n", what, S ? sx_error_message(S) : "");
  }
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int evals_to(sx_state *S, const char *src, const char *want) {
  sx_value v;
  return sx_eval_string(S, src, "t", &v) == SX_OK && !strcmp(sx_to_string(S, v, 1), want);
}

int main(void) {
  for (int native = 0; native < 2; native++) {
    const char *tier = native ? "native" : "vm";
    char what[200];
    sx_config cfg = {0};
    cfg.capabilities = SX_CAP_ALL;
    cfg.jit_threshold = native ? 1 : -1;
    cfg.jit_sync = 1;
    cfg.limits.fuel = 1000000;
    sx_state *S = sx_open(&cfg);
    sx_value v;

    snprintf(what, sizeof what, "[%s] fuel stops a named-let loop", tier);
    check(sx_eval_string(S, "(let loop ((i 0)) (loop (+ i 1)))", "t", &v) == SX_ERR_LIMIT, what, S);
    snprintf(what, sizeof what, "[%s] fuel message", tier);
    check(strstr(sx_error_message(S), "fuel exhausted") != NULL, what, S);
    snprintf(what, sizeof what, "[%s] fuel stops mutual tail calls", tier);
    check(sx_eval_string(S, "(define (f x) (g x)) (define (g x) (f x)) (f 1)", "t", &v) == SX_ERR_LIMIT, what, S);
    snprintf(what, sizeof what, "[%s] try cannot catch a limit", tier);
    check(sx_eval_string(S, "(try (let loop () (loop)) (catch e 'caught))", "t", &v) == SX_ERR_LIMIT, what, S);
    snprintf(what, sizeof what, "[%s] finally runs after a limit", tier);
    sx_eval_string(S, "(define ran false)", "t", &v);
    sx_eval_string(S, "(try (let loop () (loop)) (finally (set! ran true)))", "t", &v);
    check(evals_to(S, "ran", "true"), what, S);
    snprintf(what, sizeof what, "[%s] an endless finally is stopped too", tier);
    check(sx_eval_string(S, "(try (let loop () (loop)) (finally (let l2 () (l2))))", "t", &v) == SX_ERR_LIMIT, what, S);
    snprintf(what, sizeof what, "[%s] budget is per evaluation", tier);
    check(evals_to(S, "(let loop ((i 0)) (if (< i 500000) (loop (+ i 1)) i))", "500000") &&
              evals_to(S, "(let loop ((i 0)) (if (< i 500000) (loop (+ i 1)) i))", "500000"), what, S);

    sx_limits l = {0};
    l.deadline_ms = 100;
    sx_set_limits(S, &l);
    double t0 = now_ms();
    snprintf(what, sizeof what, "[%s] deadline stops an endless loop", tier);
    check(sx_eval_string(S, "(let loop () (loop))", "t", &v) == SX_ERR_LIMIT &&
              strstr(sx_error_message(S), "deadline") != NULL, what, S);
    snprintf(what, sizeof what, "[%s] deadline is kept within 200 ms", tier);
    check(now_ms() - t0 < 300, what, NULL);

    l = (sx_limits){0};
    l.alloc_quota = 8u << 20;
    sx_set_limits(S, &l);
    snprintf(what, sizeof what, "[%s] allocation quota stops unbounded consing", tier);
    check(sx_eval_string(S, "(let loop ((l '())) (loop (cons 1 l)))", "t", &v) == SX_ERR_MEMORY, what, S);
    snprintf(what, sizeof what, "[%s] array memory counts against the quota", tier);
    check(sx_eval_string(S, "(let loop ((l '())) (loop (cons (zeros 100000) l)))", "t", &v) == SX_ERR_MEMORY, what, S);
    snprintf(what, sizeof what, "[%s] state usable after the quota", tier);
    check(evals_to(S, "(length (list 1 2 3))", "3"), what, S);
    sx_set_limits(S, NULL);
    snprintf(what, sizeof what, "[%s] no limits: a long loop finishes", tier);
    check(evals_to(S, "(let loop ((i 0)) (if (< i 3000000) (loop (+ i 1)) i))", "3000000"), what, S);
    sx_close(S);
  }
  /* the heap cap is process-wide: last, so it cannot disturb the tests above */
  sx_config cfg = {0};
  cfg.limits.heap_limit = 256u << 20;
  sx_state *S = sx_open(&cfg);
  sx_value v;
  check(sx_eval_string(S, "(let loop ((l '())) (loop (cons (make-vector 100 0) l)))", "t", &v) == SX_ERR_MEMORY,
        "heap cap stops growth of live data", S);
  check(evals_to(S, "(+ 1 2)", "3"), "state usable after the heap cap", S);
  sx_close(S);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
