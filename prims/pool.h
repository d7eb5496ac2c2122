/* pool.h — the allocator of array blocks inside one state's WebAssembly linear memory.
 *
 * The memory is one address-space reservation (mmap PROT_NONE, MAP_NORESERVE) whose base never
 * moves; the pool makes its low part readable and writable as it needs it ("committed", the wasm
 * memory size). Blocks come by size class: small (< 256 elements) and medium (<= 262,144) sizes
 * are rounded up to a class and reused from per-class free lists; large blocks are cut from a
 * coalescing, address-ordered map of free extents, or from the top. Freed memory stays resident
 * so that a loop's temporaries are reused without page faults; pages go back to the OS
 * (madvise MADV_DONTNEED) lazily — when free memory passes half the pool and has sat unused
 * through a whole collector cycle — or at once on pool_trim(all). All metadata lives on the host
 * heap, never in the linear memory a kernel could overwrite.
 */
#ifndef SX_POOL_H
#define SX_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vm/config.h"

#define POOL_SMALL_ELEMS 256      /* small classes hold fewer elements than this */
#define POOL_MEDIUM_ELEMS 262144  /* medium classes hold up to this many */
#define POOL_NCLASSES 60          /* 32 B ... 2 MiB */
#define POOL_LARGE 0xff           /* cls of a block cut from the extent map */
#define POOL_WASM_PAGE 65536u

/* A block handed out to arrays. `refs` and the free-list link belong to the owner thread;
 * `dead`, `queued` and `next_dead` are written by finalizers under the state's lock. */
typedef struct pool_block {
  uint32_t off;   /* byte offset in linear memory */
  uint32_t size;  /* bytes reserved (class size, or page-rounded large size) */
  uint32_t used;  /* bytes of array data (8 per element) */
  uint32_t refs;  /* array handles sharing it */
  uint32_t epoch; /* collector cycle in which it was freed */
  uint8_t cls;    /* size class or POOL_LARGE */
  uint8_t zero;   /* contents known to be all zero bits */
  uint8_t queued; /* on the list of blocks with dead handles */
  uint8_t pad;
  uint32_t dead;  /* handles found dead by the collector, not yet subtracted from refs */
  struct pool_block *next;      /* class free list */
  struct pool_block *next_dead; /* list of blocks with dead handles */
} pool_block;

typedef struct {
  uint32_t off, size;
  uint32_t epoch; /* newest cycle in which part of it was freed */
  uint8_t zero;   /* all zero bits (fresh or given back) */
  uint8_t dirty;  /* may hold resident pages */
} pool_extent;

typedef struct pool {
  uint8_t *base;       /* start of the reservation; NULL until pool_open succeeded */
  size_t reserved;     /* bytes of address space reserved */
  size_t committed;    /* bytes readable and writable from base: the wasm memory size */
  size_t top;          /* everything from here to committed is free */
  size_t dirty_top;    /* free memory above top and below this may be resident */
  size_t top_hw;       /* highest top since the last trim: blocks above it are misses */
  uint32_t top_epoch;  /* cycle in which top last moved down */
  uint32_t epoch;      /* current collector cycle, set by the owner before each call */
  uint32_t purged_epoch; /* last cycle a lazy purge ran in */
  uint32_t peak_epoch;   /* cycle that cycle_peak belongs to */
  size_t cycle_peak;     /* most bytes in use during that cycle */
  size_t peaks[8];       /* the same for the cycles before it */
  unsigned npeak;

  pool_block *classes[POOL_NCLASSES];
  size_t class_bytes;  /* bytes waiting in class free lists */
  pool_extent *ext;    /* free extents, sorted by offset, never adjacent to each other or top */
  size_t next, ext_cap;
  size_t ext_bytes;    /* bytes in free extents */
  size_t ext_dirty;    /* of which possibly resident */

  void *meta_chunks;   /* metadata storage, freed by pool_close */
  pool_block *meta_free;
  void (*resized)(struct pool *p, void *ud); /* called when committed changes */
  void *resized_ud;

  size_t in_use;       /* bytes of blocks handed out */
  uint64_t hits;       /* allocations served by memory the pool had used before */
  uint64_t misses;     /* allocations that needed memory above the high-water mark */
  uint64_t bytes_returned; /* bytes given back to the OS, cumulative */
} pool;

/* Reserves up to `reserve` bytes of address space (less if the system refuses). */
SX_INTERNAL bool pool_open(pool *p, size_t reserve);
SX_INTERNAL void pool_close(pool *p);

/* A block of at least `bytes` (> 0) bytes with refs = 0, or NULL when the reservation is full
 * or the host heap is exhausted. May grow `committed`. */
SX_INTERNAL pool_block *pool_alloc(pool *p, size_t bytes);
SX_INTERNAL void pool_free(pool *p, pool_block *b);

/* Gives pages back to the OS. all = false, the lazy policy: at most once per cycle, only when
 * the free resident memory is more than half the pool and more than the recent cycles' peak use
 * could need again, and then only memory that stayed free through a whole cycle, from the top
 * down, until what is left is what that peak could need. all = true: every free page, and the
 * committed size shrinks to the top. Returns the bytes given back. */
SX_INTERNAL size_t pool_trim(pool *p, bool all);

/* Bytes of free memory that may still be resident. */
SX_INTERNAL size_t pool_free_resident(const pool *p);

#endif
