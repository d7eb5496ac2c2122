/* reader_regress.c — reader findings of the fuzzers, kept in make test.
 * Regression: sx_next_form on bytes ending in the lead byte of a multi-byte UTF-8 sequence right
 * after #\ read past the end of the input and then looped forever (found by fuzz_read). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sx.h"

static void hung(int sig) {
  (void)sig;
  static const char msg[] = "reader_regress: sx_next_form did not return in 10 s\n0 passed, 1 failed\n";
  (void)!write(1, msg, sizeof msg - 1);
  _exit(1);
}

int main(void) {
  static const char *inputs[] = {"#\\\xdc", "#\\\xe2\x82", "#\\\xf0\x9f\x98", "(a #\\\xdc", "#\\\xff"};
  int passed = 0, failed = 0;
  sx_state *S = sx_open(NULL);
  signal(SIGALRM, hung);
  alarm(10);
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    size_t n = strlen(inputs[i]), end = 0;
    char *buf = malloc(n); /* exactly the input, no terminator, as a host may pass it */
    memcpy(buf, inputs[i], n);
    int r = sx_next_form(S, buf, n, 0, "fuzz", &end);
    if (r == -1 && strstr(sx_error_message(S), "UTF-8")) passed++;
    else {
      failed++;
      printf("reader_regress: input %zu: result %d, message %s\n", i, r, sx_error_message(S));
    }
    free(buf);
  }
  sx_close(S);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
