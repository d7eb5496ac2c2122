/* next-form-truncated-utf8.c — found by fuzz_read (make fuzz): sx_next_form on bytes ending in
 * the lead byte of a multi-byte UTF-8 sequence right after #\ . vm_utf8_decode (vm/object.c)
 * reads the sequence's continuation bytes past the end of the input (ASan: heap-buffer-
 * overflow, READ of size 1), and read_char (vm/reader.c) then loops forever: q points past
 * r->end, and nextc never moves r->p beyond r->end, so `while (r->p < q) nextc(r)` never ends.
 * sx_eval_string is not affected (it rejects invalid UTF-8 first); sx_next_form, which takes a
 * length and is what the REPL reads input with, is. Exit 0 and "ok" when fixed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sx.h"

static void hung(int sig) {
  (void)sig;
  static const char msg[] = "next-form-truncated-utf8: sx_next_form did not return in 10 s\n";
  (void)!write(1, msg, sizeof msg - 1);
  _exit(1);
}

int main(void) {
  static const char *inputs[] = {"#\\\xdc", "#\\\xe2\x82", "#\\\xf0\x9f\x98", "(a #\\\xdc"};
  sx_state *S = sx_open(NULL);
  signal(SIGALRM, hung);
  alarm(10);
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    size_t n = strlen(inputs[i]), end = 0;
    char *buf = malloc(n); /* exactly the input, no terminator: as a host may pass it */
    if (!buf) return 1;
    memcpy(buf, inputs[i], n);
    int r = sx_next_form(S, buf, n, 0, "next-form", &end);
    if (r == 1 && (end == 0 || end > n)) {
      printf("next-form-truncated-utf8: form end %zu for %zu bytes\n", end, n);
      return 1;
    }
    free(buf);
  }
  sx_close(S);
  printf("ok\n");
  return 0;
}
