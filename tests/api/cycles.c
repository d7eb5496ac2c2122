/* cycles.c — 1,000 open/eval/close cycles without RSS growth (VmRSS from /proc/self/status):
 * each cycle opens a state, registers a host function, evaluates a program that makes closures,
 * dicts, strings, an array and an error, calls into it, holds and releases a reference, and
 * closes it, in the VM; then 25 cycles with the native tier forced (every lambda compiled by
 * sx-jitc on its first call: about ten compiles, 0.4 s, per cycle). Prints the RSS figures. */
#include "check.h"

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  long kb = 0;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6)) kb = atol(line + 6);
  fclose(f);
  return kb;
}

static sx_value twice(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)argc, (void)ud;
  int64_t n;
  if (!sx_get_int(argv[0], &n)) return sx_raise(S, "twice: not an integer");
  return sx_make_int(S, 2 * n);
}

static const char *program =
    "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))"
    "(define d (dict :a 1 :b [1 2 3] :c \"text\"))"
    "(define words (map (fn (i) (str \"w\" i)) (list 1 2 3 4 5 6 7 8 9 10)))"
    "(define a (array-mul (arange 1000) 2))"
    "(define e (try (host-twice \"x\") (catch e (error-message e))))"
    "(list (fib 15) (host-twice 21) (array-sum a) (length words) e)";

static int cycle(int native) {
  sx_state *S = open_tier(native, SX_CAP_EVAL);
  int ok = sx_register(S, "host-twice", twice, 1, 1, NULL) == SX_OK;
  sx_value v = SX_NONE, fn, arg;
  ok = ok && sx_eval_string(S, program, "cycle", &v) == SX_OK;
  ok = ok && !strcmp(sx_to_string(S, v, 1),
                     "(610 42 999000.0 10 \"twice: not an integer\")");
  sx_ref(S, v);
  ok = ok && sx_get_global(S, "fib", &fn) == SX_OK;
  arg = sx_make_int(S, 10);
  ok = ok && sx_call(S, fn, 1, &arg, &v) == SX_OK;
  ok = ok && sx_eval_string(S, "(car '())", "cycle", NULL) == SX_ERR_RUNTIME;
  sx_close(S);
  return ok;
}

int main(void) {
  int good = 0;
  for (int i = 0; i < 50; i++) good += cycle(0); /* warm up: heap, pools, libc arenas */
  long start = rss_kb(), peak = start;
  printf("cycles: RSS after 50 warm-up cycles: %ld KB\n", start);
  for (int i = 1; i <= 1000; i++) {
    good += cycle(0);
    if (i % 100 == 0) {
      long r = rss_kb();
      if (r > peak) peak = r;
      printf("cycles: after %4d cycles: %ld KB (%+ld KB)\n", i, r, r - start);
    }
  }
  long end = rss_kb();
  CHECK(good == 1050, "%d of 1050 cycles did what they should", good);
  /* flat: allow for the collector's heap settling, not for growth per cycle (1,000 cycles of a
     leak of even 8 KB each would add 8 MB) */
  CHECK(end - start < 4096, "RSS grew %ld KB over 1,000 cycles (%ld -> %ld KB, peak %ld)",
        end - start, start, end, peak);

  good = 0;
  for (int i = 0; i < 5; i++) good += cycle(1);
  long nstart = rss_kb();
  for (int i = 0; i < 25; i++) good += cycle(1);
  long nend = rss_kb();
  printf("cycles: native tier forced, 25 cycles: %ld -> %ld KB (%+ld KB)\n", nstart, nend,
         nend - nstart);
  CHECK(good == 30, "%d of 30 native cycles", good);
  CHECK(nend - nstart < 4096, "native cycles: RSS grew %ld KB", nend - nstart);
  return finish();
}
