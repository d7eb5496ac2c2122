/* check.h — what the embedding API tests share: counting checks, evaluating to text, states
 * in the two tiers. The tests include only sx.h (they link libsx.so, which exports nothing else). */
#ifndef SX_API_CHECK_H
#define SX_API_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sx.h"

static int passed, failed;

#define CHECK(cond, ...)                                                                       \
  do {                                                                                         \
    if (cond) passed++;                                                                        \
    else {                                                                                     \
      failed++;                                                                                \
      printf("%s:%d: FAIL ", __FILE__, __LINE__);                                              \
      printf(__VA_ARGS__);                                                                     \
      printf("\n");                                                                            \
    }                                                                                          \
  } while (0)

static inline int finish(void) {
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}

/* The write form of the value of src, or "!STATUS: message" when it failed. */
static inline const char *eval_show(sx_state *S, const char *src) {
  static char buf[4096];
  sx_value v;
  sx_status st = sx_eval_string(S, src, "test", &v);
  if (st == SX_OK) snprintf(buf, sizeof buf, "%s", sx_to_string(S, v, 1));
  else snprintf(buf, sizeof buf, "!%d: %s", (int)st, sx_error_message(S));
  return buf;
}

#define CHECK_EVAL(S, src, want)                                                               \
  do {                                                                                         \
    const char *got_ = eval_show(S, src);                                                      \
    CHECK(!strcmp(got_, want), "%s => %s, want %s", src, got_, want);                          \
  } while (0)

/* A state in a tier: native = 1 compiles every lambda on its first call, on this thread. */
static inline sx_state *open_tier(int native, int caps) {
  sx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.capabilities = caps | (native ? SX_CAP_NATIVE : 0);
  cfg.jit_threshold = native ? 1 : -1;
  cfg.jit_sync = 1;
  sx_state *S = sx_open(&cfg);
  if (!S) {
    printf("cannot open a state\n");
    exit(1);
  }
  return S;
}

/* host function (host-call f args...): f called through sx_call; a failure is raised on
 * unchanged */
static inline sx_value host_call(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)ud;
  sx_value out;
  if (sx_call(S, argv[0], argc - 1, argv + 1, &out) != SX_OK)
    return sx_raise_value(S, sx_last_error(S));
  return out;
}

static inline double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#endif
