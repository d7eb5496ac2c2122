/* close-with-finalizers-queued.c — found by fuzz_eval_native (make fuzz), heap-use-after-free
 * under ASan: sx_close (jit_close) frees the code cache's entries, whose prototypes have a
 * Boehm finalizer (proto_collected, jit/cache.c) with the entry as its data. Unregistering the
 * finalizer does not cancel one that a collection has already queued; when the queue runs (at
 * an allocation, here in the next sx_open) it writes e->dead into the freed entry.
 * States with the native tier forced, each making one-shot lambdas (eval-string) while
 * allocating, then closed: ASan reports the write after a few dozen states (about 50 here).
 * Built and run under ASan by make fuzz (tests/fuzz/run.sh); exit 0 and "ok" when fixed. */
#include <stdio.h>
#include <string.h>

#include "sx.h"

int main(void) {
  for (int i = 0; i < 300; i++) {
    sx_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.capabilities = SX_CAP_NATIVE | SX_CAP_EVAL;
    cfg.jit_threshold = 1;
    cfg.jit_sync = 1;
    sx_state *S = sx_open(&cfg);
    if (!S) return 1;
    sx_value v;
    sx_status st = sx_eval_string(S,
                                  "(let loop ((i 0))"
                                  "  (when (< i 20)"
                                  "    (eval-string \"((fn (y) (* y 2)) 3)\")"
                                  "    (make-vector 1000 0)"
                                  "    (loop (+ i 1))))",
                                  "close-with-finalizers-queued", &v);
    if (st != SX_OK) {
      printf("close-with-finalizers-queued: %s\n", sx_error_message(S));
      return 1;
    }
    sx_close(S);
  }
  printf("ok\n");
  return 0;
}
