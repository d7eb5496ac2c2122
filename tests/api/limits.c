/* limits.c — limits as a host sees them, in the VM and in native code: endless loops stopped by
 * fuel, by the deadline and by sx_interrupt from another thread (also inside nested host calls,
 * a blocking read-line, and when a host function swallows the failure), unbounded allocation
 * stopped by the quota and by the heap cap with the state usable afterwards, and two states with
 * different limits in one process, one after the other and at the same time on two threads. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"

static const char *prelude =
    "(define (spin) (let loop ((i 0)) (loop (+ i 1))))"
    "(define (spin-tail n) (spin-tail (+ n 1)))"
    "(define (count-to n) (let loop ((i 0)) (if (< i n) (loop (+ i 1)) i)))"
    "(define (hoard) (let loop ((l '())) (loop (cons (make-vector 64 0) l))))"
    "(define (hoard-pairs) (let loop ((l '())) (loop (cons 1 l))))"
    "(define (hoard-floats) (let loop ((l '()) (x 0.5)) (loop (cons x l) (+ x 1.0))))"
    "(define (hoard-closures) (let loop ((l '()) (a 1) (b 2)) (loop (fn () (list l a b)) b a)))"
    "(define ran-finally false)"
    "(define (spin-with-finally) (try (spin) (catch e :caught) (finally (set! ran-finally true))))";


/* answers :swallowed whatever happened to the thunk — limits must still stop the evaluation */
static sx_value host_swallow(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)argc, (void)ud;
  sx_value out;
  sx_call(S, argv[0], 0, NULL, &out);
  return sx_make_keyword(S, "swallowed");
}

static sx_state *open_limited(int native, sx_limits lim) {
  sx_config cfg = {0};
  cfg.capabilities = SX_CAP_EVAL | (native ? SX_CAP_NATIVE : 0);
  cfg.jit_threshold = native ? 1 : -1;
  cfg.jit_sync = 1;
  cfg.limits = lim;
  sx_state *S = sx_open(&cfg);
  if (!S || sx_eval_string(S, prelude, "prelude", NULL) != SX_OK) {
    printf("cannot set up a state\n");
    exit(1);
  }
  sx_register(S, "host-call", host_call, 1, -1, NULL);
  sx_register(S, "host-swallow", host_swallow, 1, 1, NULL);
  return S;
}

static sx_status call0(sx_state *S, const char *name) {
  sx_value fn, out;
  if (sx_get_global(S, name, &fn) != SX_OK) return SX_ERR_RUNTIME;
  return sx_call(S, fn, 0, NULL, &out);
}

/* ---- sx_interrupt from another thread after a delay ---- */
typedef struct {
  sx_state *S;
  int ms;
} shot;

static void *interrupter(void *arg) {
  shot *s = arg;
  usleep((useconds_t)s->ms * 1000);
  sx_interrupt(s->S);
  return NULL;
}

static sx_status eval_interrupted(sx_state *S, const char *src, int ms, double *took) {
  pthread_t t;
  shot s = {S, ms};
  double t0 = now_ms();
  pthread_create(&t, NULL, interrupter, &s);
  sx_status st = sx_eval_string(S, src, "interrupted", NULL);
  pthread_join(t, NULL);
  *took = now_ms() - t0;
  sx_clear_interrupt(S);
  return st;
}

/* ---- sx_interrupt from a signal handler ---- */
static sx_state *alarm_target;
static void on_alarm(int sig) {
  (void)sig;
  sx_interrupt(alarm_target);
}

/* ---- two states on two threads ---- */
typedef struct {
  sx_state *S;
  sx_status st[3];
  int registered;
} worker_job;

static void *worker(void *arg) {
  worker_job *w = arg;
  w->registered = sx_thread_register();
  for (int i = 0; i < 3; i++)
    w->st[i] = sx_eval_string(w->S, "(count-to 3000000) (vector-length (make-vector 1000 0))", "w", NULL);
  sx_thread_unregister();
  return NULL;
}

static void run(int native) {
  const char *tier = native ? "native" : "vm";
  sx_limits lim = {0};
  lim.fuel = 1000000;
  sx_state *S = open_limited(native, lim);
  double took;

  /* ---- fuel */
  CHECK(sx_eval_string(S, "(spin)", "t", NULL) == SX_ERR_LIMIT &&
            strstr(sx_error_message(S), "fuel exhausted"),
        "[%s] fuel stops a loop: %s", tier, sx_error_message(S));
  CHECK_EVAL(S, "(list (jit-compiled? spin) (jit-compiled? spin-tail))",
             native ? "(true false)" : "(false false)"); /* spin ran natively (spin-tail not yet) */
  CHECK(call0(S, "spin") == SX_ERR_LIMIT, "[%s] fuel stops a loop run by sx_call", tier);
  CHECK(sx_eval_string(S, "(spin-tail 0)", "t", NULL) == SX_ERR_LIMIT, "[%s] tail calls", tier);
  CHECK_EVAL(S, "(jit-compiled? spin-tail)", native ? "true" : "false");
  CHECK(sx_eval_string(S, "(host-call spin)", "t", NULL) == SX_ERR_LIMIT,
        "[%s] fuel inside a nested host call: %s", tier, sx_error_message(S));
  CHECK(sx_eval_string(S, "(host-swallow spin)", "t", NULL) == SX_ERR_LIMIT,
        "[%s] a host function cannot swallow a limit: %s", tier, sx_error_message(S));
  CHECK(sx_eval_string(S, "(try (host-swallow spin) (catch e :caught))", "t", NULL) ==
            SX_ERR_LIMIT,
        "[%s] nor can try around it", tier);
  CHECK(sx_eval_string(S, "(spin-with-finally)", "t", NULL) == SX_ERR_LIMIT, "finally case");
  CHECK_EVAL(S, "ran-finally", "true");
  CHECK_EVAL(S, "(count-to 500000)", "500000"); /* the budget is per evaluation */
  CHECK_EVAL(S, "(count-to 500000)", "500000");
  CHECK(sx_eval_string(S, "(count-to 2000000)", "t", NULL) == SX_ERR_LIMIT, "over budget");

  /* ---- deadline */
  lim = (sx_limits){0};
  lim.deadline_ms = 150;
  sx_set_limits(S, &lim);
  double t0 = now_ms();
  CHECK(call0(S, "spin") == SX_ERR_LIMIT && strstr(sx_error_message(S), "deadline"),
        "[%s] deadline stops sx_call: %s", tier, sx_error_message(S));
  took = now_ms() - t0;
  CHECK(took >= 140 && took < 1000, "[%s] stopped after %.0f ms (deadline 150)", tier, took);
  CHECK(sx_eval_string(S, "(host-swallow spin)", "t", NULL) == SX_ERR_LIMIT,
        "[%s] deadline through a swallowing host function", tier);
  CHECK_EVAL(S, "(count-to 1000)", "1000");

  /* ---- sx_interrupt from another thread */
  sx_set_limits(S, NULL);
  CHECK(eval_interrupted(S, "(spin)", 100, &took) == SX_ERR_INTERRUPTED && took < 1000,
        "[%s] interrupt stops a loop (%.0f ms): %s", tier, took, sx_error_message(S));
  CHECK(eval_interrupted(S, "(host-call spin)", 100, &took) == SX_ERR_INTERRUPTED,
        "[%s] interrupt inside a nested call: %s", tier, sx_error_message(S));
  CHECK(eval_interrupted(S, "(host-swallow spin)", 100, &took) == SX_ERR_INTERRUPTED,
        "[%s] interrupt through a swallowing host function: %s", tier, sx_error_message(S));
  CHECK(eval_interrupted(S, "(try (spin) (catch e :caught))", 100, &took) == SX_ERR_INTERRUPTED,
        "[%s] try cannot catch an interrupt", tier);
  alarm_target = S;
  signal(SIGALRM, on_alarm);
  struct itimerval it = {{0, 0}, {0, 100000}};
  setitimer(ITIMER_REAL, &it, NULL);
  t0 = now_ms();
  CHECK(sx_eval_string(S, "(spin)", "t", NULL) == SX_ERR_INTERRUPTED && now_ms() - t0 < 1000,
        "[%s] interrupt from a signal handler: %s", tier, sx_error_message(S));
  signal(SIGALRM, SIG_DFL);
  CHECK_EVAL(S, "(+ 1 2)", "3");
  /* read-line waiting on an empty pipe as standard input */
  int fds[2], saved = dup(0);
  if (pipe(fds) == 0) {
    dup2(fds[0], 0);
    CHECK(eval_interrupted(S, "(read-line)", 100, &took) == SX_ERR_INTERRUPTED && took < 1000,
          "[%s] interrupt stops a waiting read-line (%.0f ms): %s", tier, took,
          sx_error_message(S));
    lim = (sx_limits){0};
    lim.deadline_ms = 100;
    sx_set_limits(S, &lim);
    t0 = now_ms();
    CHECK(sx_eval_string(S, "(read-line)", "t", NULL) == SX_ERR_LIMIT && now_ms() - t0 < 1000,
          "[%s] deadline stops a waiting read-line: %s", tier, sx_error_message(S));
    sx_set_limits(S, NULL);
    if (write(fds[1], "fed\n", 4) == 4) CHECK_EVAL(S, "(read-line)", "\"fed\"");
    dup2(saved, 0);
    close(fds[0]);
    close(fds[1]);
  }
  close(saved);

  /* ---- allocation quota */
  lim = (sx_limits){0};
  lim.alloc_quota = 16u << 20;
  sx_set_limits(S, &lim);
  CHECK(sx_eval_string(S, "(hoard)", "t", NULL) == SX_ERR_MEMORY,
        "[%s] quota stops unbounded allocation: %s", tier, sx_error_message(S));
  CHECK(call0(S, "hoard") == SX_ERR_MEMORY, "[%s] quota through sx_call", tier);
  /* pairs and float boxes are allocated inline by native code: it counts them too */
  CHECK(call0(S, "hoard-pairs") == SX_ERR_MEMORY, "[%s] quota stops consing: %s", tier, sx_error_message(S));
  CHECK(call0(S, "hoard-floats") == SX_ERR_MEMORY, "[%s] quota stops float boxing: %s", tier, sx_error_message(S));
  CHECK(call0(S, "hoard-closures") == SX_ERR_MEMORY, "[%s] quota stops closure making: %s", tier, sx_error_message(S));
  CHECK(sx_eval_string(S, "(host-swallow hoard)", "t", NULL) == SX_ERR_MEMORY,
        "[%s] quota through a swallowing host function: %s", tier, sx_error_message(S));
  CHECK(sx_eval_string(S, "(try (hoard) (catch e :caught))", "t", NULL) == SX_ERR_MEMORY,
        "[%s] try cannot catch the quota", tier);
  CHECK_EVAL(S, "(vector-length (make-vector 1000 0))", "1000"); /* usable, under the quota again */
  sx_set_limits(S, NULL);
  CHECK_EVAL(S, "(vector-length (make-vector 3000000 0))", "3000000");
  sx_close(S);

  /* ---- two states, different limits, one process */
  sx_limits tight = {0}, loose = {0};
  tight.fuel = 100000;
  loose.fuel = 100000000;
  sx_state *A = open_limited(native, tight), *B = open_limited(native, loose);
  for (int i = 0; i < 3; i++) {
    CHECK(sx_eval_string(A, "(count-to 3000000)", "a", NULL) == SX_ERR_LIMIT, "A runs out");
    CHECK_EVAL(B, "(count-to 3000000)", "3000000");
    CHECK_EVAL(A, "(count-to 1000)", "1000");
  }
  worker_job wa = {A, {0}, -1}, wb = {B, {0}, -1};
  sx_thread_register(); /* main thread first: lets the workers register */
  pthread_t ta, tb;
  pthread_create(&ta, NULL, worker, &wa);
  pthread_create(&tb, NULL, worker, &wb);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  CHECK(wa.registered == 0 && wb.registered == 0, "worker threads registered");
  for (int i = 0; i < 3; i++) {
    CHECK(wa.st[i] == SX_ERR_LIMIT, "[%s] A on its thread runs out: %d", tier, wa.st[i]);
    CHECK(wb.st[i] == SX_OK, "[%s] B on its thread finishes: %d", tier, wb.st[i]);
  }
  sx_close(A);
  sx_close(B);
}

int main(void) {
  run(0);
  run(1);
  /* the heap cap is process-wide and stays: last */
  sx_limits cap = {0};
  cap.heap_limit = 192u << 20;
  sx_state *S = open_limited(0, cap), *other = open_limited(0, (sx_limits){0});
  CHECK(sx_eval_string(S, "(hoard)", "t", NULL) == SX_ERR_MEMORY,
        "heap cap stops growing live data: %s", sx_error_message(S));
  CHECK_EVAL(S, "(+ 1 2)", "3");
  CHECK_EVAL(S, "(vector-length (make-vector 10000 0))", "10000");
  CHECK_EVAL(other, "(count-to 1000)", "1000");
  CHECK(sx_eval_string(S, "(hoard)", "t", NULL) == SX_ERR_MEMORY, "again");
  CHECK_EVAL(S, "(count-to 1000)", "1000");
  sx_close(S);
  sx_close(other);
  return finish();
}
