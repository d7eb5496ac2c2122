/* fuzz.h — what the fuzz targets share: states opened the same way every time (the default
 * capabilities without the native tier unless asked, output discarded, fuel / deadline /
 * allocation / heap limits), a watchdog thread that interrupts an evaluation the limits failed
 * to stop (a backstop, and sx_interrupt under test), and helpers. Header-only: each target is
 * one program. */
#ifndef SX_FUZZ_H
#define SX_FUZZ_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- watchdog: one thread; wd_arm(S, ms) before an evaluation, wd_disarm() after it ------- */
static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cond = PTHREAD_COND_INITIALIZER;
static sx_state *wd_state;      /* armed state, NULL when disarmed */
static struct timespec wd_when; /* CLOCK_REALTIME deadline (pthread_cond_timedwait's clock) */
static int wd_running;

static void *wd_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&wd_lock);
  for (;;) {
    if (!wd_state) {
      pthread_cond_wait(&wd_cond, &wd_lock);
      continue;
    }
    if (pthread_cond_timedwait(&wd_cond, &wd_lock, &wd_when) == ETIMEDOUT && wd_state) {
      sx_interrupt(wd_state); /* under the lock: wd_disarm cannot return while this runs */
      wd_state = NULL;
    }
  }
  return NULL;
}

static inline void wd_arm(sx_state *S, long ms) {
  pthread_mutex_lock(&wd_lock);
  if (!wd_running) {
    pthread_t t;
    if (pthread_create(&t, NULL, wd_main, NULL) != 0) abort();
    pthread_detach(t);
    wd_running = 1;
  }
  clock_gettime(CLOCK_REALTIME, &wd_when);
  wd_when.tv_sec += ms / 1000;
  wd_when.tv_nsec += (ms % 1000) * 1000000L;
  if (wd_when.tv_nsec >= 1000000000L) {
    wd_when.tv_sec++;
    wd_when.tv_nsec -= 1000000000L;
  }
  wd_state = S;
  pthread_cond_signal(&wd_cond);
  pthread_mutex_unlock(&wd_lock);
}

/* After this returns the watchdog will not touch the state; a late interrupt is dropped. */
static inline void wd_disarm(sx_state *S) {
  pthread_mutex_lock(&wd_lock);
  wd_state = NULL;
  pthread_cond_signal(&wd_cond);
  pthread_mutex_unlock(&wd_lock);
  sx_clear_interrupt(S);
}

static inline sx_status eval_limited(sx_state *S, const char *src, long ms, sx_value *out) {
  wd_arm(S, ms);
  sx_status st = sx_eval_string(S, src, "fuzz", out);
  wd_disarm(S);
  return st;
}

/* ---- states ------------------------------------------------------------------------------ */
static inline void fuzz_sink(void *ud, const char *s, size_t n) {
  (void)ud;
  (void)s;
  (void)n;
}

/* Limits of every fuzzed evaluation: what an untrusted script gets in a plugin host. */
#define FUZZ_FUEL 2000000u
#define FUZZ_ALLOC_QUOTA ((size_t)256 << 20)
#define FUZZ_HEAP_LIMIT ((size_t)1 << 30)

/* What sx_open(NULL) grants (eval, no files, no process), output discarded, the limits above
 * with deadline_ms; native = 1 forces the native tier: every lambda compiled on its first
 * call, on the calling thread (through ./sx-jitc). */
static inline sx_state *fuzz_open(int native, double deadline_ms) {
  sx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.write = fuzz_sink;
  cfg.capabilities = SX_CAP_EVAL;
  cfg.limits.fuel = FUZZ_FUEL;
  cfg.limits.deadline_ms = deadline_ms;
  cfg.limits.alloc_quota = FUZZ_ALLOC_QUOTA;
  cfg.limits.heap_limit = FUZZ_HEAP_LIMIT;
  if (native) {
    cfg.capabilities |= SX_CAP_NATIVE;
    cfg.jit_threshold = 1;
    cfg.jit_sync = 1;
  } else {
    cfg.jit_threshold = -1;
  }
  sx_state *S = sx_open(&cfg);
  if (!S) abort();
  return S;
}

/* A NUL-terminated copy of the input (sx_eval_string takes a C string: input after a NUL
 * byte is not seen, as a host passing the bytes along would not see it either). */
static inline char *fuzz_cstring(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) abort();
  memcpy(s, data, size);
  s[size] = 0;
  return s;
}

#endif
