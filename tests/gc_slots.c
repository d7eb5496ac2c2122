/* gc_slots.c — the per-state free lists (vm/gc.c) against the collector's size classes.
 * Regression: the closure classes asked Boehm for 32, 48 and 64 bytes, which with interior
 * pointers on (one byte added to every request) came back as 48, 64 and 80-byte slots: every
 * closure of 3 to 5 captured variables took a granule more than it needed (cpstak allocated
 * 20% more). Also checks the other side of that bargain: every word of an object up to its
 * size is scanned, so a pointer in its last field keeps what it points to alive (Boehm does
 * not scan the last word of a slot when interior pointers are on, so the request must not be
 * trimmed to the slot). */
#include <gc/gc.h>
#include <stdio.h>
#include <string.h>

#include "state.h"

static int passed, failed;

static void check(int ok, const char *what, size_t bytes, size_t got) {
  if (ok) passed++;
  else {
    failed++;
    printf("gc_slots: %s: %zu-byte object, %zu-byte slot\n", what, bytes, got);
  }
}

/* the slot Boehm itself gives a request of this size: whole 16-byte granules, plus the byte
 * it adds when interior pointers are on */
static size_t tightest(size_t bytes) {
  size_t need = bytes + (GC_get_all_interior_pointers() ? 1 : 0);
  return (need + 15) / 16 * 16;
}

/* in pointer-free memory (not a root, not scanned): cleared by the collector if the referent dies */
static void **survivor_link;

static void *__attribute__((noinline)) keep_only_in_last_word(sx_state *S, size_t bytes) {
  void **o = vm_alloc_sized(S, bytes, T_CLOSURE);
  void *referent = GC_MALLOC(64);
  *survivor_link = referent;
  GC_general_register_disappearing_link(survivor_link, referent);
  o[bytes / 8 - 1] = referent; /* the last word of the object */
  return o;
}

int main(void) {
  sx_state *S = sx_open(NULL);
  if (!S) {
    printf("gc_slots: no state\n0 passed, 1 failed\n");
    return 1;
  }
  for (size_t bytes = 8; bytes <= 72; bytes += 8) {
    void *p = vm_alloc_sized(S, bytes, T_CLOSURE);
    size_t got = GC_size(p);
    check(got >= bytes, "slot too small", bytes, got);
    /* objects up to VM_SMALL_BYTES share one list */
    size_t cls = bytes < VM_SMALL_BYTES ? VM_SMALL_BYTES : bytes;
    check(got <= tightest(cls), "slot bigger than the collector's own for its class", bytes, got);
  }
  survivor_link = GC_MALLOC_ATOMIC(sizeof(void *));
  for (size_t bytes = 24; bytes <= 72; bytes += 8) {
    /* sink the pointer in the object's last word; keep only the object */
    void *volatile keep = keep_only_in_last_word(S, bytes);
    char scrub[4096]; /* overwrite stale copies of the referent on the stack */
    memset(scrub, 0, sizeof scrub);
    __asm__ volatile("" ::"r"(scrub) : "memory");
    GC_gcollect();
    GC_gcollect();
    check(*survivor_link != NULL, "a pointer in the last word did not keep its referent", bytes, GC_size(keep));
    GC_unregister_disappearing_link(survivor_link);
    keep = NULL;
  }
  sx_close(S);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
