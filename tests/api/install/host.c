/* host.c — built by tests/api/install.sh against the INSTALLED library, with nothing but
 * `pkg-config --cflags --libs sx`: a host function, an evaluation, and the native tier, which
 * must find the installed sx-jitc (PREFIX/libexec/sx/) although this program lives elsewhere. */
#include <stdio.h>
#include <string.h>

#include <sx.h>

static sx_value twice(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)argc, (void)ud;
  int64_t n;
  if (!sx_get_int(argv[0], &n)) return sx_raise(S, "twice: not an integer");
  return sx_make_int(S, 2 * n);
}

int main(void) {
  int passed = 0, failed = 0;
  if (sx_version_number() / 100 != SX_VERSION_NUMBER / 100) {
    printf("header %d, library %d\n", SX_VERSION_NUMBER, sx_version_number());
    failed++;
  } else {
    passed++;
  }
  sx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.capabilities = SX_CAP_NATIVE;
  cfg.jit_threshold = 1;
  cfg.jit_sync = 1;
  sx_state *S = sx_open(&cfg);
  sx_register(S, "twice", twice, 1, 1, NULL);
  sx_value v;
  const char *src = "(define (f x) (+ (twice x) 1)) (list (f 20) (jit-compiled? f))";
  if (sx_eval_string(S, src, "installed", &v) == SX_OK &&
      !strcmp(sx_to_string(S, v, 1), "(41 true)"))
    passed++;
  else {
    printf("installed host: %s %s\n", sx_to_string(S, v, 1), sx_error_message(S));
    failed++;
  }
  sx_close(S);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
