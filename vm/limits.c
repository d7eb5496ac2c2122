/* limits.c — what one evaluation may use: fuel (loop back edges and tail calls, in both
 * tiers), wall-clock deadline, bytes allocated, and the process-wide heap cap. Running out
 * raises a limit error that try cannot catch; finally clauses still run, under a small fixed
 * allowance of fuel and memory of their own. */
#include <gc/gc.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "state.h"

#define FUEL_SLICE 65536     /* back edges between looks at the budget, deadline, interrupts */
#define FINALLY_FUEL 100000  /* what finally clauses get after a limit error */
#define FINALLY_BYTES (1u << 20)

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The process-wide heap cap is the smallest one any state asked for (Boehm has one heap). */
static pthread_mutex_t cap_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t heap_cap;

static void apply_heap_cap(size_t cap) {
  if (!cap) return;
  pthread_mutex_lock(&cap_lock);
  if (!heap_cap || cap < heap_cap) {
    heap_cap = cap;
    GC_set_max_heap_size(cap);
  }
  pthread_mutex_unlock(&cap_lock);
}

/* Starts the budget of an outermost API evaluation; nested ones run on the same budget. */
void vm_limits_begin(sx_state *S) {
  if (S->api_depth++ > 0) return;
  sx_limits *l = &S->limits;
  S->fuel_left = l->fuel ? l->fuel : UINT64_MAX;
  S->fuel = 0; /* the first back edge takes the first slice */
  S->deadline = l->deadline_ms > 0 ? now_ms() + l->deadline_ms : 0;
  S->alloc_used = 0;
  S->alloc_quota = l->alloc_quota ? l->alloc_quota : SIZE_MAX;
  apply_heap_cap(l->heap_limit);
}

void vm_limits_end(sx_state *S) {
  if (S->api_depth > 0) S->api_depth--;
  if (S->api_depth == 0) {
    vm_stacks_trim(S);
    S->alloc_quota = SIZE_MAX; /* allocations between evaluations (by the host) are free */
    S->fuel_left = UINT64_MAX;
    S->deadline = 0;
  }
}

/* After a limit error, finally clauses on the way out get a small budget of their own. */
static void finally_allowance(sx_state *S) {
  S->fuel_left = FINALLY_FUEL;
  S->fuel = 0;
  S->deadline = 0;
  S->alloc_quota = S->alloc_used + FINALLY_BYTES;
}

static SX_NORETURN void limit(sx_state *S, const char *what, int flags) {
  finally_allowance(S);
  sx_val e = vm_make_error(S, vm_cstring(S, what), SX_EMPTY);
  ERR(e)->h.flags |= (uint8_t)(ERR_LIMIT | ERR_SHOWN | flags);
  vm_raise(S, e);
}

void vm_memory_error(sx_state *S, const char *what) {
  /* allocating the error must not trip the quota again */
  S->alloc_quota = SIZE_MAX;
  limit(S, what, ERR_MEMORY);
}

/* Also called between the chunks of long array kernels (through vm_poll). */
void vm_check_deadline(sx_state *S) {
  if (S->deadline > 0 && now_ms() > S->deadline) limit(S, "deadline exceeded", 0);
}

void vm_fuel_slice(sx_state *S) {
  vm_check_deadline(S);
  /* under a deadline, smaller slices: the clock is looked at more often */
  uint64_t slice = S->deadline > 0 ? FUEL_SLICE / 16 : FUEL_SLICE;
  if (S->fuel_left == UINT64_MAX) {
    S->fuel = (int64_t)slice;
    return;
  }
  if (S->fuel_left == 0) limit(S, "fuel exhausted", 0);
  uint64_t take = S->fuel_left < slice ? S->fuel_left : slice;
  S->fuel_left -= take;
  S->fuel = (int64_t)take;
}

void sx_set_limits(sx_state *S, const sx_limits *l) {
  S->limits = l ? *l : (sx_limits){0};
  apply_heap_cap(S->limits.heap_limit);
}
