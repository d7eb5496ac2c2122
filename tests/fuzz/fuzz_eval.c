/* fuzz_eval.c — libFuzzer target: sx_eval_string on arbitrary bytes, in a fresh state with the
 * default capabilities (eval; no files, no process access), output discarded, under fuel,
 * deadline (FUZZ_EVAL_MS), allocation and heap limits. Built with FUZZ_NATIVE=1 it is
 * fuzz_eval_native: the native tier forced (every lambda compiled on its first call, through
 * ./sx-jitc: slow, so that target gets a small corpus and a longer deadline). Whatever the
 * script does the host must not crash, the limits must stop it (the watchdog interrupting it at
 * ten times the deadline is a failure, except with the native tier, whose compiles run outside
 * the limits' checks), and the state must still evaluate afterwards. */
#include "fuzz.h"

#ifndef FUZZ_NATIVE
#define FUZZ_NATIVE 0
#endif
#ifndef FUZZ_EVAL_MS
#define FUZZ_EVAL_MS (FUZZ_NATIVE ? 2000 : 300)
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sx_state *S = fuzz_open(FUZZ_NATIVE, FUZZ_EVAL_MS);
  char *src = fuzz_cstring(data, size);
  sx_value v;
  sx_status st = eval_limited(S, src, 10 * FUZZ_EVAL_MS, &v);
  if (st == SX_ERR_INTERRUPTED && !FUZZ_NATIVE) {
    fprintf(stderr, "fuzz_eval: the limits did not stop the evaluation within 10x its deadline\n");
    abort();
  }
  if (st == SX_OK) (void)strlen(sx_to_string(S, v, 1));
  else (void)strlen(sx_error_message(S)), (void)sx_error_backtrace(S);
  /* the state survives whatever happened (a literal: the input may have redefined anything) */
  st = eval_limited(S, "3", 5000, &v);
  if (st != SX_OK || strcmp(sx_to_string(S, v, 1), "3") != 0) {
    fprintf(stderr, "fuzz_eval: state unusable after the input: status %d, %s\n", st,
            st == SX_OK ? sx_to_string(S, v, 1) : sx_error_message(S));
    abort();
  }
  free(src);
  sx_close(S);
  return 0;
}
