/* fork.c — a host that forks gets a working state in the child, native tier included: the child
 * compiles new lambdas (the compile worker and server are started afresh there), runs the code
 * compiled before the fork, opens states of its own; the parent goes on unharmed, also while
 * children compile at the same time. Regression: the code arena's memory is a shared mapping,
 * so a child that loaded code after the fork wrote it into the parent's free blocks, where the
 * parent was loading code of its own. */
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static const char *compiled_p =
    "(define (sq x) (* x x))"
    "(define (loop-sum n) (let loop ((i 0) (acc 0)) (if (< i n) (loop (+ i 1) (+ acc i)) acc)))";

/* Runs in the child: the exit status counts the failures (0 = all good). */
static int child_work(sx_state *S, int round) {
  int bad = 0;
  char src[256];
  /* code compiled in the parent; the collector works in the child */
  bad += strcmp(eval_show(S, "(list (sq 12) (loop-sum 1000))"), "(144 499500)") != 0;
  bad += strcmp(eval_show(S, "(gc) (length (let l ((i 0) (a '())) (if (< i 100000) "
                             "(l (+ i 1) (cons (make-vector 8 i) a)) a)))"),
                "100000") != 0;
  /* new lambdas: compiled here, so the child needs a compile server of its own */
  snprintf(src, sizeof src,
           "(define (child-fn%d x) (+ (* x %d) 1)) (list (child-fn%d 10) (jit-compiled? child-fn%d))",
           round, round + 2, round, round);
  char want[64];
  snprintf(want, sizeof want, "(%d true)", (round + 2) * 10 + 1);
  const char *got = eval_show(S, src);
  if (strcmp(got, want)) {
    fprintf(stderr, "child %d: %s, want %s\n", round, got, want);
    bad++;
  }
  /* a state opened in the child */
  sx_state *T = open_tier(1, 0);
  bad += strcmp(eval_show(T, "((fn (a b) (- a b)) 50 8)"), "42") != 0;
  bad += strcmp(eval_show(T, "(jit-compiled? (fn (x) x))"), "false") != 0;
  sx_close(T);
  return bad;
}

int main(void) {
  sx_state *S = open_tier(1, SX_CAP_EVAL);
  CHECK(sx_eval_string(S, compiled_p, "parent", NULL) == SX_OK, "parent program");
  CHECK_EVAL(S, "(list (sq 3) (loop-sum 10) (jit-compiled? sq))", "(9 45 true)");
  const char *stats = eval_show(S, "(> (get (jit-stats) :compiled) 0)");
  int native = !strcmp(stats, "true");
  CHECK(native, "the native tier works in the parent (sx-jitc found): %s", stats);

  /* one child while the parent waits; then three at once while the parent compiles too — each
     process has a compile server of its own (regression: forked children shared the parent's
     sx-jitc pipes, failing 1 run in 5, and a child could die of SIGPIPE) */
  int skipped = 0;
  for (int round = 0; round < 2; round++) {
    int nkids = round == 0 ? 1 : 3;
    pid_t kids[3];
    for (int k = 0; k < nkids; k++) {
      fflush(stdout);
      kids[k] = fork();
      if (kids[k] == 0) {
        alarm(30); /* a hung child fails the test instead of hanging it */
        _exit(child_work(S, round * 10 + k));
      }
    }
    if (round == 1) { /* the parent compiles meanwhile */
      char src[128];
      snprintf(src, sizeof src, "(define (parent-fn%d x) (* x 3)) (parent-fn%d 14)", round, round);
      CHECK_EVAL(S, src, "42");
    }
    for (int k = 0; k < nkids; k++) {
      int status = 0;
      CHECK(waitpid(kids[k], &status, 0) == kids[k], "waitpid");
      CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
            "child %d of round %d: exit %d (signal %d)", k, round,
            WIFEXITED(status) ? WEXITSTATUS(status) : -1,
            WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
  }
  /* parent and child each load code of a different shape after the fork, one after the other
     (a pipe orders them), then both run it: neither may see the other's code */
  int order[2], done[2];
  if (pipe(order) == 0 && pipe(done) == 0) {
    fflush(stdout);
    pid_t kid = fork();
    if (kid == 0) {
      alarm(30);
      char c;
      int bad = strcmp(eval_show(S, "(define (kid-f a b) (- (* a 7) b)) (kid-f 6 0)"), "42") != 0;
      bad += write(order[1], "k", 1) != 1; /* child's code is loaded: now the parent loads */
      bad += read(done[0], &c, 1) != 1;
      bad += strcmp(eval_show(S, "(list (jit-compiled? kid-f) (kid-f 10 3) (kid-f 1 1) (sq 7))"), "(true 67 6 49)") != 0;
      _exit(bad);
    }
    char c;
    CHECK(read(order[0], &c, 1) == 1, "the child loaded its code");
    CHECK_EVAL(S, "(define (parent-g x) (if (< x 0) (- x) (+ x 1000))) (list (parent-g 5) (parent-g -5))", "(1005 5)");
    CHECK(write(done[1], "p", 1) == 1, "tell the child");
    CHECK_EVAL(S, "(list (jit-compiled? parent-g) (parent-g 1) (parent-g -9) (sq 8))", "(true 1001 9 64)");
    int status = 0;
    CHECK(waitpid(kid, &status, 0) == kid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's code is its own: exit %d (signal %d)",
          WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    close(order[0]), close(order[1]), close(done[0]), close(done[1]);
  }

  /* the parent after its children are gone */
  CHECK_EVAL(S, "(define (after x) (- x 1)) (list (after 43) (jit-compiled? after) (sq 5))",
             "(42 true 25)");
  sx_close(S);

  /* forking with no native tier at all, and from a state that never compiled */
  S = open_tier(0, 0);
  CHECK_EVAL(S, "(define (f x) (* 2 x)) (f 21)", "42");
  fflush(stdout);
  pid_t kid = fork();
  if (kid == 0) _exit(strcmp(eval_show(S, "(gc) (f 50)"), "100") != 0);
  int status = 0;
  waitpid(kid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "VM-only child");
  sx_close(S);
  printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed != 0;
}
