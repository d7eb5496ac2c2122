/* jit.h — the native tier as the VM sees it: hot lambdas are compiled through libgccjit and
 * kept in one bounded code cache per state. vm/ calls only what is declared here.
 *
 * Calling convention of compiled code. A lambda with n <= JIT_REG_ARGS fixed parameters compiles
 * to   sx_val f(sx_state *S, sx_closure *self, sx_val a0, ..., sx_val a{n-1})
 * and one with more to   sx_val f(sx_state *S, sx_closure *self, sx_val *args).
 * A lambda with a rest parameter compiles to   sx_val f(sx_state *S, sx_closure *self,
 * sx_val *args, uint64_t argc)   and builds its rest list itself.
 * Compiled code calls other compiled code directly (after checking the callee's current entry)
 * and makes proper tail calls with GCC's must-tail calls; a tail call to anything else is handed
 * back to the caller by returning SX_TAIL with the call left in S->tail_*, so neither tier's
 * C stack grows in a tail-call chain that crosses tiers. */
#ifndef SX_JIT_H
#define SX_JIT_H

#include "../vm/value.h"

#define JIT_REG_ARGS 4
/* Parameters of a compiled lambda and arguments of a call in compiled code, at most (S->tail_args
 * holds a tail call's); a lambda beyond it stays in the VM. */
#define JIT_MAX_ARGS 64
#define SX_TAIL SX_CONST(7) /* "call S->tail_fn with S->tail_args", returned by compiled code */

typedef struct jit_code jit_code;

/* The native code of one lambda (prototype), in the state's code cache. */
struct jit_entry {
  void *fn;        /* entry point (first field: compiled code loads it at offset 0) */
  uint64_t arity;  /* fixed parameter count (offset 8); UINT64_MAX with a rest parameter, which
                      the fixed-arity check never matches: compiled callers then look at
                      nfixed/rest and call the (S, self, args, argc) entry */
  uint32_t nfixed; /* parameters before the rest parameter */
  bool rest;       /* entry is f(S, self, args, argc) and builds the rest list itself */
  jit_code *code;  /* shared compiled code (dedup by shape) */
  sx_proto *proto; /* weak: the cache never keeps a prototype alive */
  uint64_t id;     /* lambda id */
  uint64_t last_used;
  uint64_t hits;
  bool pinned;
  bool dead;   /* its prototype was collected: drop at the next safe point */
  bool orphan; /* dropped while its prototype's finalizer was already queued: the finalizer frees it */
};

/* Per-state settings and counters, kept in sx_state (jit/cache.c owns the rest). */
typedef struct jit_state jit_state;

SX_INTERNAL void jit_open(sx_state *S);
SX_INTERNAL void jit_close(sx_state *S);
/* p's call counter reached the threshold. */
SX_INTERNAL void jit_hot(sx_state *S, sx_proto *p);
/* Safe point: install finished compiles, drop dead entries, release unused code. */
SX_INTERNAL void jit_safe_point(sx_state *S);
/* Whether e's native code takes a call with argc arguments. */
static inline bool jit_accepts(const struct jit_entry *e, int argc) {
  return e && (e->arity == (uint64_t)argc || (e->rest && argc >= (int)e->nfixed));
}

/* Calls the native code of closure fn with argc arguments (jit_accepts(e, argc)). */
SX_INTERNAL sx_val jit_invoke(sx_state *S, struct jit_entry *e, sx_val fn, int argc,
                              sx_val *args);
/* A compiled lambda's frame on the C stack: its closure, the instruction it is stopped at, and
 * the VM frame depth it sits above. */
typedef struct {
  sx_closure *cl;
  uint32_t pc;
  uint32_t mark;
} jit_frame;
/* The compiled frames of this thread's stack, innermost first, in a malloc'd array (*out, to
 * free); 0 when no native code is running (jit/frames.c). */
SX_INTERNAL int jit_native_frames(sx_state *S, jit_frame **out);
/* Whether a loaded shared object (by path) is compiled SX code, which the collector skips. */
SX_INTERNAL bool jit_is_code_object(const char *path);
/* Whether the native tier is available in this process (libgccjit found and working). */
SX_INTERNAL bool jit_available(void);

#endif
