/* pool.c — size classes, free extents and lazy page return for array blocks (see pool.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pool.h"

#define OS_PAGE 4096u
#define GUARD_BYTES 64u              /* offset 0 is never a block: the pool starts above it */
#define GROW_MIN (1u << 20)          /* grow the committed size by at least 1 MiB at a time */
#define PURGE_MIN ((size_t)16 << 20) /* never bother the OS for less free memory than this */
#define META_CHUNK 256

static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }
static size_t round_down(size_t x, size_t to) { return x / to * to; }
static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

/* ---- size classes ------------------------------------------------------------------------- */
/* Classes 0..7 are 32..256 bytes in steps of 32; from there four classes per doubling up to
 * 2 MiB, so a block wastes at most a quarter of its size. Class 59 is 2 MiB, 262,144 elements. */

static size_t class_size(int c) {
  if (c < 8) return (size_t)(c + 1) * 32;
  int k = 8 + (c - 8) / 4, idx = (c - 8) % 4 + 1;
  return ((size_t)1 << k) + (size_t)idx * ((size_t)1 << (k - 2));
}

static int class_of(size_t bytes) {
  if (bytes <= 256) return (int)((bytes + 31) / 32) - 1 + (bytes == 0);
  if (bytes > (size_t)POOL_MEDIUM_ELEMS * 8) return -1;
  int k = 63 - __builtin_clzll((unsigned long long)(bytes - 1));
  size_t step = (size_t)1 << (k - 2);
  int idx = (int)((bytes - ((size_t)1 << k) + step - 1) / step);
  return 8 + (k - 8) * 4 + idx - 1;
}

/* ---- metadata ------------------------------------------------------------------------------- */
/* Block records come from chunks owned by the pool, so closing the pool frees every record,
 * including those of blocks still referenced by handles the collector has not finalized yet. */

typedef struct meta_chunk {
  struct meta_chunk *next;
  pool_block blocks[META_CHUNK];
} meta_chunk;

static pool_block *meta_new(pool *p) {
  if (!p->meta_free) {
    meta_chunk *c = calloc(1, sizeof(meta_chunk));
    if (!c) return NULL;
    c->next = p->meta_chunks;
    p->meta_chunks = c;
    for (int i = META_CHUNK - 1; i >= 0; i--) {
      c->blocks[i].next = p->meta_free;
      p->meta_free = &c->blocks[i];
    }
  }
  pool_block *b = p->meta_free;
  p->meta_free = b->next;
  memset(b, 0, sizeof *b);
  return b;
}

static void meta_release(pool *p, pool_block *b) {
  b->next = p->meta_free;
  p->meta_free = b;
}

/* ---- the committed size --------------------------------------------------------------------- */

static void resized(pool *p) {
  if (p->resized) p->resized(p, p->resized_ud);
}

static bool grow(pool *p, size_t need) {
  if (need <= p->committed) return true;
  if (need > p->reserved) return false;
  size_t want = max_sz(need, max_sz(p->committed + p->committed / 8, p->committed + GROW_MIN));
  want = round_up(want, POOL_WASM_PAGE);
  if (want > p->reserved) want = p->reserved;
  if (mprotect(p->base + p->committed, want - p->committed, PROT_READ | PROT_WRITE) != 0) {
    want = round_up(need, POOL_WASM_PAGE); /* the system may take a smaller step */
    if (mprotect(p->base + p->committed, want - p->committed, PROT_READ | PROT_WRITE) != 0)
      return false;
  }
  p->committed = want;
  resized(p);
  return true;
}

bool pool_open(pool *p, size_t reserve) {
  memset(p, 0, sizeof *p);
  reserve = round_down(reserve, POOL_WASM_PAGE);
  if (reserve > (size_t)0xffff * POOL_WASM_PAGE) reserve = (size_t)0xffff * POOL_WASM_PAGE;
  /* a process limit on address space (ulimit -v) may refuse a large reservation: take less */
  for (; reserve >= ((size_t)16 << 20); reserve = round_down(reserve / 2, POOL_WASM_PAGE)) {
    void *m = mmap(NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m != MAP_FAILED) {
      p->base = m;
      p->reserved = reserve;
      p->top = p->dirty_top = p->top_hw = GUARD_BYTES;
      return true;
    }
  }
  return false;
}

void pool_close(pool *p) {
  if (p->base) munmap(p->base, p->reserved);
  for (meta_chunk *c = p->meta_chunks, *n; c; c = n) {
    n = c->next;
    free(c);
  }
  free(p->ext);
  memset(p, 0, sizeof *p);
}

/* ---- free extents ---------------------------------------------------------------------------- */

static bool ext_reserve(pool *p, size_t n) {
  if (n <= p->ext_cap) return true;
  size_t cap = max_sz(n, p->ext_cap ? p->ext_cap * 2 : 64);
  pool_extent *e = realloc(p->ext, cap * sizeof *e);
  if (!e) return false;
  p->ext = e;
  p->ext_cap = cap;
  return true;
}

static void ext_account(pool *p, const pool_extent *e, int sign) {
  if (sign > 0) {
    p->ext_bytes += e->size;
    if (e->dirty) p->ext_dirty += e->size;
  } else {
    p->ext_bytes -= e->size;
    if (e->dirty) p->ext_dirty -= e->size;
  }
}

/* Free memory that reaches the top joins the wilderness above it. */
static void absorb_top(pool *p) {
  while (p->next && p->ext[p->next - 1].off + p->ext[p->next - 1].size == p->top) {
    pool_extent *e = &p->ext[--p->next];
    ext_account(p, e, -1);
    p->top = e->off;
    if (e->epoch > p->top_epoch) p->top_epoch = e->epoch;
  }
}

static pool_extent merged(pool_extent a, pool_extent b) {
  pool_extent m = {a.off, a.size + b.size, a.epoch > b.epoch ? a.epoch : b.epoch,
                   (uint8_t)(a.zero && b.zero), (uint8_t)(a.dirty || b.dirty)};
  return m;
}

/* Inserts one free range, coalescing with its neighbours. False when the host heap is full
 * (the range is then lost until the pool closes; nothing else breaks). */
static bool ext_insert(pool *p, pool_extent x) {
  if (x.off + x.size == p->top) {
    p->top = x.off;
    if (x.epoch > p->top_epoch) p->top_epoch = x.epoch;
    absorb_top(p);
    return true;
  }
  size_t lo = 0, hi = p->next;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (p->ext[mid].off < x.off) lo = mid + 1;
    else hi = mid;
  }
  bool join_prev = lo > 0 && p->ext[lo - 1].off + p->ext[lo - 1].size == x.off;
  bool join_next = lo < p->next && x.off + x.size == p->ext[lo].off;
  if (join_prev) {
    ext_account(p, &p->ext[lo - 1], -1);
    x = merged(p->ext[lo - 1], x);
  }
  if (join_next) {
    ext_account(p, &p->ext[lo], -1);
    x = merged(x, p->ext[lo]);
  }
  if (join_prev && join_next) {
    p->ext[lo - 1] = x;
    memmove(&p->ext[lo], &p->ext[lo + 1], (p->next - lo - 1) * sizeof x);
    p->next--;
    ext_account(p, &p->ext[lo - 1], 1);
  } else if (join_prev || join_next) {
    size_t at = join_prev ? lo - 1 : lo;
    p->ext[at] = x;
    ext_account(p, &p->ext[at], 1);
  } else {
    if (!ext_reserve(p, p->next + 1)) return false;
    memmove(&p->ext[lo + 1], &p->ext[lo], (p->next - lo) * sizeof x);
    p->ext[lo] = x;
    p->next++;
    ext_account(p, &p->ext[lo], 1);
  }
  absorb_top(p);
  return true;
}

static int cmp_ext(const void *a, const void *b) {
  uint32_t x = ((const pool_extent *)a)->off, y = ((const pool_extent *)b)->off;
  return x < y ? -1 : x > y;
}

/* Moves blocks from the class free lists into the extent map: every block, or only those freed
 * before the current cycle. Sorted and merged in one pass, so flushing a million small blocks
 * costs n log n, not n^2. */
static void flush_classes(pool *p, bool all) {
  size_t n = 0;
  for (int c = 0; c < POOL_NCLASSES; c++)
    for (pool_block *b = p->classes[c]; b; b = b->next)
      if (all || b->epoch < p->epoch) n++;
  if (!n) return;
  pool_extent *in = malloc(n * sizeof *in);
  pool_extent *out = in ? malloc((n + p->next) * sizeof *out) : NULL;
  if (!out) {
    free(in);
    return; /* keep them cached; nothing is lost */
  }
  size_t k = 0;
  for (int c = 0; c < POOL_NCLASSES; c++) {
    pool_block **link = &p->classes[c];
    while (*link) {
      pool_block *b = *link;
      if (all || b->epoch < p->epoch) {
        in[k++] = (pool_extent){b->off, b->size, b->epoch, 0, 1};
        p->class_bytes -= b->size;
        *link = b->next;
        meta_release(p, b);
      } else {
        link = &b->next;
      }
    }
  }
  qsort(in, n, sizeof *in, cmp_ext);
  size_t i = 0, j = 0, m = 0;
  while (i < n || j < p->next) {
    pool_extent x = (j >= p->next || (i < n && in[i].off < p->ext[j].off)) ? in[i++] : p->ext[j++];
    if (m && out[m - 1].off + out[m - 1].size == x.off) out[m - 1] = merged(out[m - 1], x);
    else out[m++] = x;
  }
  free(in);
  free(p->ext);
  p->ext = out;
  p->next = m;
  p->ext_cap = n + m;
  p->ext_bytes = p->ext_dirty = 0;
  for (size_t e = 0; e < m; e++) ext_account(p, &p->ext[e], 1);
  absorb_top(p);
}

/* Best fit, lowest address on ties; cut from the extent's start. */
static bool take_extent(pool *p, size_t size, uint32_t *off, bool *zero) {
  size_t best = (size_t)-1;
  for (size_t i = 0; i < p->next; i++)
    if (p->ext[i].size >= size && (best == (size_t)-1 || p->ext[i].size < p->ext[best].size)) {
      best = i;
      if (p->ext[i].size == size) break;
    }
  if (best == (size_t)-1) return false;
  pool_extent *e = &p->ext[best];
  *off = e->off;
  *zero = e->zero;
  p->ext_bytes -= size;
  if (e->dirty) p->ext_dirty -= size;
  e->off += (uint32_t)size;
  e->size -= (uint32_t)size;
  if (!e->size) {
    memmove(e, e + 1, (p->next - best - 1) * sizeof *e);
    p->next--;
  }
  return true;
}

/* From the free top of the memory. *fresh: the block reaches above the high-water mark, into
 * memory the pool never handed out (or gave back to the OS since). */
static bool take_top(pool *p, size_t size, uint32_t *off, bool *zero, bool *fresh) {
  if (p->top + size > p->reserved || !grow(p, p->top + size)) return false;
  *off = (uint32_t)p->top;
  *zero = p->top >= p->dirty_top;
  p->top += size;
  if (p->top > p->dirty_top) p->dirty_top = p->top;
  *fresh = p->top > p->top_hw;
  if (*fresh) p->top_hw = p->top;
  return true;
}

/* ---- blocks ----------------------------------------------------------------------------------- */

/* The most memory in use in each of the last few cycles: what the lazy trim leaves resident. */
static void note_use(pool *p) {
  if (p->epoch != p->peak_epoch) {
    p->peaks[p->npeak++ % 8] = p->cycle_peak;
    p->cycle_peak = p->in_use;
    p->peak_epoch = p->epoch;
  }
  if (p->in_use > p->cycle_peak) p->cycle_peak = p->in_use;
}

static size_t recent_peak(const pool *p) {
  size_t m = p->cycle_peak;
  for (int i = 0; i < 8; i++) m = max_sz(m, p->peaks[i]);
  return m;
}

pool_block *pool_alloc(pool *p, size_t bytes) {
  if (!p->base) return NULL;
  int c = class_of(bytes);
  size_t size = c >= 0 ? class_size(c) : round_up(bytes, OS_PAGE);
  if (size > p->reserved) return NULL;
  pool_block *b;
  if (c >= 0 && (b = p->classes[c])) {
    p->classes[c] = b->next;
    p->class_bytes -= size;
    b->next = NULL;
    b->refs = b->dead = b->queued = 0;
    b->zero = 0;
    p->in_use += size;
    p->hits++;
    note_use(p);
    return b;
  }
  b = meta_new(p);
  if (!b) return NULL;
  uint32_t off;
  bool zero, fresh = false;
  if (!take_extent(p, size, &off, &zero) && !take_top(p, size, &off, &zero, &fresh)) {
    /* memory cached in other classes may coalesce into room */
    flush_classes(p, true);
    if (!take_extent(p, size, &off, &zero) && !take_top(p, size, &off, &zero, &fresh)) {
      meta_release(p, b);
      return NULL;
    }
  }
  if (fresh) p->misses++;
  else p->hits++;
  b->off = off;
  b->size = (uint32_t)size;
  b->cls = c >= 0 ? (uint8_t)c : POOL_LARGE;
  b->zero = zero;
  p->in_use += size;
  note_use(p);
  return b;
}

void pool_free(pool *p, pool_block *b) {
  note_use(p);
  p->in_use -= b->size;
  b->epoch = p->epoch;
  if (b->cls != POOL_LARGE) {
    b->next = p->classes[b->cls];
    p->classes[b->cls] = b;
    p->class_bytes += b->size;
    return;
  }
  ext_insert(p, (pool_extent){b->off, b->size, p->epoch, 0, 1});
  meta_release(p, b);
  pool_trim(p, false);
}

size_t pool_free_resident(const pool *p) {
  size_t wild = p->dirty_top > p->top ? p->dirty_top - p->top : 0;
  return p->class_bytes + p->ext_dirty + wild;
}

/* Gives the whole pages inside [lo, hi) back; zeroes the partial pages at its ends so the range
 * is known to be zero afterwards. Returns false when there was no whole page to give. */
static bool give_back(pool *p, size_t lo, size_t hi) {
  size_t plo = round_up(lo, OS_PAGE), phi = round_down(hi, OS_PAGE);
  if (phi <= plo) return false;
  madvise(p->base + plo, phi - plo, MADV_DONTNEED);
  p->bytes_returned += phi - plo;
  memset(p->base + lo, 0, plo - lo);
  memset(p->base + phi, 0, hi - phi);
  return true;
}

/* Gives back the free top of the memory and shrinks the committed size down to it. */
static void trim_top(pool *p) {
  size_t lo = round_up(p->top, OS_PAGE);
  if (p->dirty_top > lo) {
    madvise(p->base + lo, p->dirty_top - lo, MADV_DONTNEED);
    p->bytes_returned += p->dirty_top - lo;
  }
  memset(p->base + p->top, 0, (lo < p->dirty_top ? lo : p->dirty_top) - p->top);
  p->dirty_top = p->top_hw = p->top;
  /* what lies above the top is zero and inaccessible again */
  size_t keep = round_up(p->top, POOL_WASM_PAGE);
  if (keep < p->committed && mprotect(p->base + keep, p->committed - keep, PROT_NONE) == 0) {
    p->committed = keep;
    resized(p);
  }
}

size_t pool_trim(pool *p, bool all) {
  if (!p->base) return 0;
  note_use(p);
  size_t excess = (size_t)-1; /* bytes to give back */
  if (!all) {
    size_t fr = pool_free_resident(p), peak = recent_peak(p);
    size_t keep = max_sz(PURGE_MIN, peak > p->in_use ? peak - p->in_use : 0);
    if (p->purged_epoch == p->epoch || fr <= keep || fr < p->committed / 2) return 0;
    p->purged_epoch = p->epoch;
    excess = fr - keep;
  }
  uint64_t before = p->bytes_returned;
  flush_classes(p, all);
  if (p->dirty_top > p->top && (all || p->top_epoch < p->epoch)) {
    size_t wild = p->dirty_top - p->top;
    trim_top(p);
    excess = wild >= excess ? 0 : excess - wild;
  }
  for (size_t i = p->next; i-- > 0 && excess > 0;) {
    pool_extent *e = &p->ext[i];
    if (!e->dirty || (!all && e->epoch >= p->epoch)) continue;
    if (give_back(p, e->off, (size_t)e->off + e->size)) {
      p->ext_dirty -= e->size;
      e->dirty = 0;
      e->zero = 1;
      excess = e->size >= excess ? 0 : excess - e->size;
    }
  }
  if (all && p->top < p->committed) trim_top(p);
  return (size_t)(p->bytes_returned - before);
}
