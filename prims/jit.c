/* jit.c — primitives that let scripts see and steer the native tier and its code cache. */
#include <gc/gc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../jit/cache.h"
#include "../jit/worker.h"
#include "prims.h"

static jit_state *J_of(sx_state *S) {
  if (!S->jit) vm_error(S, "the native tier is not available in this state");
  return S->jit;
}

/* A closure from a closure or the name of a global bound to one. */
static sx_closure *closure_arg(sx_state *S, const char *who, sx_val v) {
  if (sx_is_symbol(v)) {
    sx_cell *c = vm_env_lookup(S->cur_env, v);
    if (!c || c->value == SX_UNBOUND) vm_error_irritant(S, v, "%s: unbound variable %s", who, STR(SYM(v)->name)->data);
    v = c->value;
  }
  if (!sx_is_closure(v)) vm_type_error(S, who, "closure or the name of one", v, 1);
  return CLOSURE(v);
}

static void set(sx_state *S, sx_val d, const char *key, sx_val v) { vm_dict_set(S, d, vm_keyword(S, key), v); }

PRIM_FN(p_jit_stats) {
  UNUSED_ARGS;
  jit_state *J = J_of(S);
  jit_safe_point(S);
  long pinned = 0;
  for (size_t i = 0; i < J->n; i++) pinned += J->entries[i]->pinned;
  sx_val d = vm_dict(S, 20);
  set(S, d, "size", sx_mkfix((int64_t)J->n));
  set(S, d, "budget", sx_mkfix(J->budget));
  set(S, d, "threshold", S->jit_threshold == INT32_MAX ? vm_keyword(S, "never") : sx_mkfix(S->jit_threshold));
  set(S, d, "hits", sx_mkfix((int64_t)S->jit_hits));
  set(S, d, "misses", sx_mkfix((int64_t)S->jit_misses));
  set(S, d, "evictions", sx_mkfix((int64_t)J->evictions));
  set(S, d, "compiled", sx_mkfix((int64_t)J->compiled));
  set(S, d, "failed", sx_mkfix((int64_t)J->failed));
  set(S, d, "pinned", sx_mkfix(pinned));
  set(S, d, "pending", sx_mkfix(J->pending));
  set(S, d, "dropped", sx_mkfix((int64_t)J->dropped));
  set(S, d, "shared", sx_mkfix((int64_t)J->shared));
  set(S, d, "code-bytes", sx_mkfix((int64_t)jit_code_bytes(J)));
  set(S, d, "code-budget", sx_mkfix((int64_t)J->code_budget));
  set(S, d, "compile-ms", vm_flonum(S, J->compile_ms));
  set(S, d, "generation", sx_mkfix((int64_t)J->generation));
  set(S, d, "disk-hits", sx_mkfix((int64_t)J->disk_hits));
  set(S, d, "max-pause-ms", vm_flonum(S, J->max_pause_ms));
  set(S, d, "available", sx_bool(jit_available()));
  return d;
}

PRIM_FN(p_jit_set_threshold) {
  UNUSED_ARGS;
  jit_state *J = J_of(S);
  sx_val v = argv[0];
  if (v == vm_keyword(S, "never") || (sx_is_fixnum(v) && sx_fixnum(v) < 0)) {
    S->jit_threshold = INT32_MAX;
    return SX_NIL;
  }
  if (!sx_is_fixnum(v) || sx_fixnum(v) == 0 || sx_fixnum(v) > INT32_MAX / 2)
    vm_type_error(S, "jit-set-threshold!", "positive integer, negative integer or :never", v, 1);
  if (!(S->cfg.capabilities & SX_CAP_NATIVE) || !jit_available()) return SX_NIL;
  J->threshold = (int32_t)sx_fixnum(v);
  S->jit_threshold = J->threshold;
  return SX_NIL;
}

/* Drops entries matching keep == false, never pinned ones; counters of their lambdas reset. */
static void drop_where(sx_state *S, bool (*drop)(struct jit_entry *, uint64_t), uint64_t arg) {
  jit_state *J = S->jit;
  for (size_t i = 0; i < J->n;) {
    struct jit_entry *e = J->entries[i];
    if (e->pinned || !drop(e, arg)) {
      i++;
      continue;
    }
    sx_proto *p = e->dead ? NULL : e->proto;
    J->entries[i] = J->entries[--J->n];
    if (p) {
      p->jit = NULL;
      p->calls = 0;
      p->evictions = 0;
    }
    jit_entry_free(e);
  }
  jit_safe_point(S);
}

static bool always(struct jit_entry *e, uint64_t arg) { (void)e, (void)arg; return true; }
static bool older_than(struct jit_entry *e, uint64_t gen) { return e->last_used < gen; }

PRIM_FN(p_jit_reset) {
  UNUSED_ARGS;
  J_of(S);
  drop_where(S, always, 0);
  return SX_NIL;
}

PRIM_FN(p_jit_clear_cold) {
  UNUSED_ARGS;
  jit_state *J = J_of(S);
  if (INT(0) < 0) vm_error_irritant(S, argv[0], "jit-clear-cold!: expected a non-negative number of generations");
  uint64_t n = (uint64_t)INT(0);
  drop_where(S, older_than, J->generation > n ? J->generation - n : 0);
  return SX_NIL;
}

PRIM_FN(p_jit_set_budget) {
  UNUSED_ARGS;
  jit_state *J = J_of(S);
  if (INT(0) < 0) vm_error_irritant(S, argv[0], "jit-set-budget!: expected a non-negative number of entries");
  J->budget = INT(0);
  /* evict down to the new budget now, least recently used first */
  while ((long)J->n > J->budget) {
    size_t best = (size_t)-1;
    uint64_t oldest = UINT64_MAX;
    for (size_t i = 0; i < J->n; i++)
      if (!J->entries[i]->pinned && J->entries[i]->last_used < oldest) oldest = J->entries[i]->last_used, best = i;
    if (best == (size_t)-1) break;
    struct jit_entry *e = J->entries[best];
    uint64_t gen = e->last_used + 1;
    (void)gen;
    J->evictions++;
    sx_proto *p = e->dead ? NULL : e->proto;
    J->entries[best] = J->entries[--J->n];
    if (p) {
      p->jit = NULL;
      p->calls = 0;
    }
    jit_entry_free(e);
  }
  jit_safe_point(S);
  return SX_NIL;
}

PRIM_FN(p_jit_set_code_budget) {
  UNUSED_ARGS;
  jit_state *J = J_of(S);
  if (INT(0) < 0) vm_error_irritant(S, argv[0], "jit-set-code-budget!: expected a non-negative number of bytes");
  J->code_budget = (size_t)INT(0);
  return SX_NIL;
}

static sx_val pin(sx_state *S, sx_val v, bool on, const char *who) {
  sx_closure *c = closure_arg(S, who, v);
  sx_proto *p = c->proto;
  if (on) p->h.flags |= PROTO_PINNED;
  else p->h.flags &= (uint8_t)~PROTO_PINNED;
  if (p->jit) p->jit->pinned = on;
  return SX_NIL;
}

PRIM_FN(p_jit_pin) { UNUSED_ARGS; return pin(S, argv[0], true, "jit-pin!"); }
PRIM_FN(p_jit_unpin) { UNUSED_ARGS; return pin(S, argv[0], false, "jit-unpin!"); }

PRIM_FN(p_jit_compiledp) {
  UNUSED_ARGS;
  if (S->jit) jit_safe_point(S);
  return sx_bool(sx_is_closure(argv[0]) && CLOSURE(argv[0])->proto->jit != NULL);
}

PRIM_FN(p_jit_wait) {
  UNUSED_ARGS;
  jit_state *J = J_of(S);
  pthread_mutex_t *lock = jit_lock();
  for (;;) {
    jit_safe_point(S);
    pthread_mutex_lock(lock);
    /* results arrive (and inflight drops) under the lock, so waiting only while nothing has
       arrived yet cannot miss a wake-up */
    bool busy = J->inflight > 0;
    if (busy && !J->done) pthread_cond_wait(&J->idle, lock);
    bool more = J->done != NULL;
    pthread_mutex_unlock(lock);
    if (!busy && !more) break;
  }
  jit_safe_point(S);
  return SX_NIL;
}

const prim_impl prim_jit[] = {
    {"jit-stats", p_jit_stats},
    {"jit-set-threshold!", p_jit_set_threshold},
    {"jit-reset!", p_jit_reset},
    {"jit-clear-cold!", p_jit_clear_cold},
    {"jit-set-budget!", p_jit_set_budget},
    {"jit-set-code-budget!", p_jit_set_code_budget},
    {"jit-pin!", p_jit_pin},
    {"jit-unpin!", p_jit_unpin},
    {"jit-compiled?", p_jit_compiledp},
    {"jit-wait", p_jit_wait},
    {NULL, NULL},
};
