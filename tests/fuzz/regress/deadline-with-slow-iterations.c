/* deadline-with-slow-iterations.c — found by fuzz_eval (make fuzz): sx_limits.deadline_ms is
 * looked at only when a fuel slice (FUEL_SLICE, 65536 back edges or tail calls, vm/limits.c
 * vm_fuel_slice) runs out. When each iteration of a loop is slow — array kernels over 100,000
 * elements, large allocations, a deep non-tail recursion (calls spend no fuel) — a slice lasts
 * seconds: with a 300 ms deadline these loops ran 8 to 20 s before "deadline exceeded".
 * Fails when an evaluation overshoots its deadline tenfold; exit 0 and "ok" when fixed. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sx.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(void) {
  static const char *loops[] = {
      "(let loop ((i 0)) (loop (+ i 0)))", /* fast iterations: fuel runs out first */
      "(let loop ((i 0)) (array-add (array-mul (ones 100000) 2) 1) (loop (+ i 0)))",
      "(let loop ((i 0)) (make-vector 100000 0) (loop (+ i 0)))",
      "(define (f n) (if (= n 0) 0 (+ 1 (f (- n 1))))) (let loop () (f 10000) (loop))",
  };
  int failed = 0;
  sx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.capabilities = SX_CAP_EVAL;
  cfg.jit_threshold = -1;
  cfg.limits.fuel = 2000000;
  cfg.limits.deadline_ms = 300;
  sx_state *S = sx_open(&cfg);
  for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
    double t0 = now_ms();
    sx_value v;
    sx_status st = sx_eval_string(S, loops[i], "deadline", &v);
    double ms = now_ms() - t0;
    if (st != SX_ERR_LIMIT || ms > 3000) {
      printf("deadline-with-slow-iterations: %s: status %d after %.0f ms (deadline 300 ms)\n",
             loops[i], st, ms);
      failed++;
    }
  }
  sx_close(S);
  if (failed) return 1;
  printf("ok\n");
  return 0;
}
