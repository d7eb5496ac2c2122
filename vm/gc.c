/* gc.c — glue to the Boehm collector: allocation, and the VM stacks as extra roots.
 *
 * This is the one file with process-wide mutable state, forced by Boehm having one heap per
 * process: the list of open states, whose VM stacks (mmapped, so invisible to Boehm) are pushed
 * as roots from a push_other_roots callback, only up to each stack's high-water mark.
 *
 * Configuration (measured, then decided): interior pointers stay ON (Boehm's default). SX keeps
 * pointers into the middle of objects — a pc into a code array, a frame base — and a host's
 * GC_INIT may already have fixed the setting, so SX cannot require it off. The cost is that
 * 16-byte objects (conses are 24 bytes anyway, flonums 16) round up to 32-byte slots.
 */
#include <gc/gc.h>
#include <gc/gc_mark.h>
#include <pthread.h>

#include "state.h"

static pthread_mutex_t states_lock = PTHREAD_MUTEX_INITIALIZER;
static sx_state *states;
static int filled_kind; /* scanned like GC_MALLOC's objects, but not cleared (vm_alloc_filled) */
static GC_push_other_roots_proc previous_push;
static int gc_ready;

static void push_vm_roots(void) {
  for (sx_state *S = states; S; S = S->next_state) {
    if (S->stack && S->stack_hw > S->stack)
      GC_push_all_eager((char *)S->stack, (char *)S->stack_hw);
    if (S->frames && S->frames_hw)
      GC_push_all_eager((char *)S->frames, (char *)(S->frames + S->frames_hw));
  }
  if (previous_push) previous_push();
}

/* Boehm scans the writable segments of every loaded shared object as roots and aborts with
 * "Too many root sets" past its limit (Guile dies so after ~2,000 compiled programs). Compiled SX
 * code holds no heap pointers of its own — constants come from the prototype at run time — so
 * the objects libgccjit loads are left out of root scanning. */
static int scan_object(const char *name, void *start, size_t size) {
  (void)start, (void)size;
  return !jit_is_code_object(name);
}

static void quiet(char *msg, GC_word arg) { (void)msg, (void)arg; }

void vm_gc_init(void) {
  pthread_mutex_lock(&states_lock);
  if (!gc_ready) {
    GC_register_has_static_roots_callback(scan_object);
    GC_INIT();
    /* running into a heap cap is reported as an SX error (SX_ERR_MEMORY), not on stderr */
    GC_set_warn_proc(quiet);
    /* under a heap cap, collect (twice if need be) before reporting out of memory */
    GC_set_max_retries(2);
    previous_push = GC_get_push_other_roots();
    GC_set_push_other_roots(push_vm_roots);
    /* at least SX_GC_MIN_ALLOC bytes allocated between two collections: with little live data
       the collector would otherwise run every ~250 KB, and its fixed cost per collection
       dominated allocation-heavy code (measured on the deriv benchmark: 2,329 collections and
       0.30 s; with 1 MB, 773 collections and 0.25 s, RSS 3.9 -> 4.8 MB). Once compiled code
       allocates fast, each collection's ~180 us (mostly marking the prelude and the globals, ~105 KB
       of pointers, GC_PRINT_STATS=1) still took 28% of warm nqueens; 2 MB measured (best of 3, warm
       cache): nqueens 0.43 -> 0.39 s, deriv 0.28 -> 0.23 s, RSS 4.7 -> 6.1 MB; 4 and 8 MB gained
       nothing more for twice the RSS. A heap cap still collects before it fails. */
    GC_set_min_bytes_allocd(SX_GC_MIN_ALLOC);
    filled_kind = (int)GC_new_kind(GC_new_free_list(), GC_DS_LENGTH, 1, 0);
    gc_ready = 1;
  }
  pthread_mutex_unlock(&states_lock);
}

/* The collector walks `states` while the world is stopped, so updates take the allocation lock
 * too (GC_call_with_alloc_lock) to never race with a collection in progress. */
static void *link_state(void *p) {
  sx_state *S = p;
  S->next_state = states;
  states = S;
  return NULL;
}

static void *unlink_state(void *p) {
  for (sx_state **s = &states; *s; s = &(*s)->next_state)
    if (*s == p) {
      *s = ((sx_state *)p)->next_state;
      break;
    }
  return NULL;
}

void vm_gc_register_state(sx_state *S) {
  pthread_mutex_lock(&states_lock);
  GC_call_with_alloc_lock(link_state, S);
  pthread_mutex_unlock(&states_lock);
}

void vm_gc_unregister_state(sx_state *S) {
  pthread_mutex_lock(&states_lock);
  GC_call_with_alloc_lock(unlink_state, S);
  pthread_mutex_unlock(&states_lock);
}

static SX_NORETURN void out_of_memory(sx_state *S, size_t bytes) {
  (void)bytes;
  vm_memory_error(S, "out of memory");
}

/* Small scanned objects (pairs, boxes) come from a per-state free list refilled a batch at a
 * time with GC_malloc_many, which skips the collector's per-call locking and thread-local
 * lookups (Guile allocates the same way). The list is reachable through the state, so the
 * collector keeps its objects. There is no such list for pointer-free objects: their links
 * would be invisible to the collector, which would then reuse them. */
static inline void *pop_free(sx_state *S, void **list, size_t size, int type) {
#if SX_DEBUG_GC_STRESS
  GC_gcollect();
#endif
  vm_count_alloc(S, size);
  void *p = *list;
  if (SX_UNLIKELY(!p)) {
    p = GC_malloc_many(size);
    if (!p) out_of_memory(S, size);
  }
  *list = GC_NEXT(p);
  GC_NEXT(p) = NULL;
  ((sx_obj *)p)->type = (uint8_t)type;
  return p;
}

void *vm_alloc_small(sx_state *S, int type) { return pop_free(S, &S->free_small, VM_SMALL_BYTES, type); }

/* Closures and other objects up to 72 bytes: the same, one list per 16-byte size class. */
void *vm_alloc_sized(sx_state *S, size_t bytes, int type) {
  if (bytes <= VM_SMALL_BYTES) return vm_alloc_small(S, type);
  int c = VM_SIZED_CLASS(bytes);
  if (c >= VM_SIZED_CLASSES) return vm_alloc(S, bytes, type);
  return pop_free(S, &S->free_sized[c], VM_SIZED_BYTES(c), type);
}

void *vm_alloc(sx_state *S, size_t bytes, int type) {
#if SX_DEBUG_GC_STRESS
  GC_gcollect();
#endif
  vm_count_alloc(S, bytes);
  sx_obj *o = GC_MALLOC(bytes);
  if (SX_UNLIKELY(!o)) out_of_memory(S, bytes);
  o->type = (uint8_t)type;
  return o;
}

/* A large object the caller fills at once (make-vector): the collector would clear it first,
 * touching every page twice (make-vector of 1,000,000 elements: 8 MB cleared, then filled).
 * Small ones come from the usual free lists, which are cleared anyway. */
#define FILLED_MIN_BYTES (64u << 10)
void *vm_alloc_filled(sx_state *S, size_t bytes, int type) {
  if (bytes < FILLED_MIN_BYTES) return vm_alloc(S, bytes, type);
#if SX_DEBUG_GC_STRESS
  GC_gcollect();
#endif
  vm_count_alloc(S, bytes);
  sx_obj *o = GC_generic_malloc(bytes, filled_kind);
  if (SX_UNLIKELY(!o)) out_of_memory(S, bytes);
  *o = (sx_obj){.type = (uint8_t)type};
  return o;
}

void *vm_alloc_atomic(sx_state *S, size_t bytes, int type) {
#if SX_DEBUG_GC_STRESS
  GC_gcollect();
#endif
  vm_count_alloc(S, bytes);
  sx_obj *o = GC_MALLOC_ATOMIC(bytes);
  if (SX_UNLIKELY(!o)) out_of_memory(S, bytes);
  *o = (sx_obj){.type = (uint8_t)type};
  return o;
}
