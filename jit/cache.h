/* cache.h — the per-state code cache (cache.c) as the JIT primitives see it. */
#ifndef SX_JIT_CACHE_H
#define SX_JIT_CACHE_H

#include "jit_internal.h"

struct jit_state {
  sx_state *owner;
  struct jit_entry **entries; /* the table: every installed entry */
  size_t n, cap;
  long budget;        /* entries */
  size_t code_budget; /* bytes of compiled objects, 0 = none */
  int32_t threshold;  /* the configured threshold (S->jit_threshold is INT32_MAX when off) */
  bool sync, log, no_dedup;
  uint64_t generation;
  uint64_t evictions, compiled, failed, dropped, shared, disk_hits;
  double compile_ms;
  double max_pause_ms; /* longest time the VM thread spent in the tier at once (async mode) */
  int pending;  /* requested, not yet installed or dropped */
  int inflight; /* queued or being compiled by the worker (under the worker lock) */
  struct jit_job *done; /* finished, waiting for a safe point (under the worker lock) */
  pthread_cond_t idle;
  struct jit_state *next;
};

SX_INTERNAL size_t jit_code_bytes(jit_state *J);
SX_INTERNAL void jit_entry_free(struct jit_entry *e);

#endif
