/* interrupt.c — sx_interrupt from another thread stops endless loops in both tiers (loop back
 * edges, self and mutual tail calls, named let, recursion that never loops), with
 * SX_ERR_INTERRUPTED, and the state stays usable afterwards. Regressions: GCC proved a compiled
 * named-let loop never re-read the flag; compiled non-tail recursion (no back edge, no tail
 * call) never looked at the flag at all, so an exponential fib could not be stopped. */
#include <signal.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sx.h"

static int passed, failed;
static sx_state *target;

static void *interrupter(void *arg) {
  (void)arg;
  usleep(150000);
  sx_interrupt(target);
  return NULL;
}

static void hung(int sig) {
  (void)sig;
  static const char msg[] = "interrupt: FAIL an evaluation was not interrupted within 20 s\n0 passed, 1 failed\n";
  (void)!write(1, msg, sizeof msg - 1);
  _exit(1);
}

static void check(int ok, const char *what) {
  if (ok) passed++;
  else {
    failed++;
    printf("interrupt: FAIL %s\n", what);
  }
}

int main(void) {
  static const char *loops[] = {
      "(let loop () (loop))",
      "(define (f) (f)) (f)",
      "(define (f a b c d e) (f a b c d e)) (f 1 2 3 4 5)",
      "(define (f x) (g x)) (define (g x) (f x)) (f 1)",
      "(let loop ((i 0)) (loop (+ i 1)))",
      "(define (h) (try (h) (catch e e))) (h)",
      /* the float version of a loop (unboxed loop variables), entered directly and by switching
         over from the generic version */
      "(let loop ((x 0.0) (s 0.0)) (loop (+ x 1.0) (+ s x)))",
      "(let loop ((x 0) (s 1)) (loop (+ x 0.5) (* s 1.0)))",
      /* no loop and no tail call: only the calls can notice (compiled: their entry check) */
      "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) (fib 100)",
      "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) (let loop () (fib 22) (loop))",
  };
  signal(SIGALRM, hung);
  for (int mode = 0; mode < 2; mode++) {
    sx_config cfg = {0};
    cfg.capabilities = SX_CAP_ALL;
    cfg.jit_threshold = mode ? 1 : -1;
    cfg.jit_sync = 1;
    sx_state *S = sx_open(&cfg);
    target = S;
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
      pthread_t t;
      pthread_create(&t, NULL, interrupter, NULL);
      alarm(20);
      sx_value v;
      sx_status st = sx_eval_string(S, loops[i], "loop", &v);
      pthread_join(t, NULL);
      alarm(0);
      char what[256];
      snprintf(what, sizeof what, "%s [%s]: status %d %s", loops[i], mode ? "native" : "vm", st,
               sx_error_message(S));
      /* the last one may also end in a (catchable) stack overflow before the interrupt */
      check(st == SX_ERR_INTERRUPTED || (i == 5 && st == SX_OK), what);
      st = sx_eval_string(S, "(+ 1 2)", "after", &v);
      snprintf(what, sizeof what, "state usable after %s [%s]: status %d %s", loops[i], mode ? "native" : "vm", st, sx_error_message(S));
      check(st == SX_OK && !strcmp(sx_to_string(S, v, 1), "3"), what);
    }
    sx_close(S);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
