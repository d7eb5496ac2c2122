/* array.c — the runtime under SX's f64 arrays: each state's kernel instance and linear memory,
 * handle lifetimes (finalizers, array-free!), trap protection around kernel calls, and the hooks
 * the VM calls to print, read, compare and account arrays. The primitives are in arrayprims.c.
 *
 * Process-wide state, forced by libraries: one pthread_once for wabt's module init and Boehm's
 * finalized-object kind, and one thread-local pointer for wasm traps (wasm2c's trap hook takes no
 * context, so a trap finds the kernel call it interrupts through the thread it happens in).
 */
#include <gc/gc.h>
#include <gc/gc_disclaim.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "kernels/wasm_names.h"

/* Address space reserved per state: the most a wasm32 memory can describe here (wabt 1.0.32
 * keeps its byte size in a uint32). Reserving costs no memory, and the base never moves. */
#define ARR_RESERVE ((size_t)0xffff * POOL_WASM_PAGE)
/* The collector is asked for a cycle when the blocks in use would pass this many bytes, or twice
 * what was in use after the last cycle, or the collected heap's size, whichever is most. Dead
 * handles are tiny, so without this nudge their blocks would pile up between the collector's own
 * cycles; bounding the bytes in use (not the bytes allocated since) keeps each cycle's peak the
 * same even when a few dead handles survive a cycle on a stale stack word. */
#define ARR_GC_MIN ((size_t)64 << 20)

WASM_ENV {
  wasm_rt_memory_t mem;
};

struct arr_state {
  pool pool;
  WASM_ENV env;       /* holds the memory the kernel instance imports */
  wasm_instance inst;
  arr_shared *sh;
  bool ready;         /* memory reserved, kernels instantiated */
  size_t live_arrays; /* handles neither freed nor finalized */
  size_t live_bytes;  /* element bytes of blocks they hold (a shared block counts once) */
  size_t gc_budget;   /* ask for a collection when blocks in use would pass this */
  GC_word gc_no;      /* the collector's cycle count when gc_budget was set */
};

/* The part a finalizer may touch, possibly from another thread while the collector holds its
 * lock. It outlives the state while handles the collector has not finalized yet refer to it. */
struct arr_shared {
  pthread_mutex_t mu;
  pool_block *dead;      /* blocks with handles found dead, linked through next_dead */
  atomic_int pending;    /* dead is not empty (read without the lock) */
  atomic_size_t refs;    /* 1 for the state + 1 per handle not finalized yet */
  bool closed;           /* the state is gone: its memory and blocks with it */
  uint8_t *base;         /* the linear memory, for reading another state's array */
};

static pthread_once_t process_once = PTHREAD_ONCE_INIT;
static _Thread_local sigjmp_buf *trap_target;

/* ---- the kernels' imports --------------------------------------------------------------------- */

wasm_rt_memory_t *WASM_IMPORT(mem)(WASM_ENV *env) { return &env->mem; }
f64 WASM_IMPORT(exp)(WASM_ENV *env, f64 x) {
  (void)env;
  return exp(x);
}
f64 WASM_IMPORT(log)(WASM_ENV *env, f64 x) {
  (void)env;
  return log(x);
}

void arr_wasm_trap(wasm_rt_trap_t code) {
  if (!trap_target) abort(); /* a kernel ran outside arr_kcall: a host bug */
  siglongjmp(*trap_target, (int)code);
}

/* wasm_rt_init is not called: in this build it would only install the signal handler that
 * bounds-check mode leaves out (and its symbol is local to the kernels' object). */
static void process_init(void) {
  GC_init_finalized_malloc();
  WASM_INIT_MODULE();
}

/* ---- the state ---------------------------------------------------------------------------------- */

static void shared_unref(arr_shared *sh) {
  if (atomic_fetch_sub(&sh->refs, 1) == 1) {
    pthread_mutex_destroy(&sh->mu);
    free(sh);
  }
}

static void memory_resized(pool *p, void *ud) {
  arr_state *A = ud;
  A->env.mem.size = (uint32_t)p->committed;
  A->env.mem.pages = (uint32_t)(p->committed / POOL_WASM_PAGE);
}

/* Cheap: the reservation and the kernel instance come with the first array. */
void arr_state_open(sx_state *S) {
  arr_state *A = calloc(1, sizeof *A);
  arr_shared *sh = calloc(1, sizeof *sh);
  if (!A || !sh || pthread_mutex_init(&sh->mu, NULL) != 0) {
    free(A);
    free(sh);
    S->arr = NULL; /* array primitives then raise "arrays are unavailable" */
    return;
  }
  atomic_init(&sh->refs, 1);
  atomic_init(&sh->pending, 0);
  A->sh = sh;
  S->arr = A;
}

void arr_state_close(sx_state *S) {
  arr_state *A = S->arr;
  if (!A) return;
  pthread_mutex_lock(&A->sh->mu);
  A->sh->closed = true;
  A->sh->dead = NULL;
  pthread_mutex_unlock(&A->sh->mu);
  shared_unref(A->sh);
  if (A->ready) {
    WASM_FREE(&A->inst);
    pool_close(&A->pool);
  }
  free(A);
  S->arr = NULL;
}

arr_state *arr_state_of(sx_state *S) {
  arr_state *A = S->arr;
  if (SX_LIKELY(A && A->ready)) return A;
  if (!A) vm_error(S, "arrays are unavailable (no host memory for them at start-up)");
  pthread_once(&process_once, process_init);
  if (!pool_open(&A->pool, ARR_RESERVE))
    vm_error(S, "arrays are unavailable (cannot reserve address space for their memory)");
  A->pool.resized = memory_resized;
  A->pool.resized_ud = A;
  A->env.mem.data = A->pool.base;
  A->env.mem.max_pages = (uint32_t)(A->pool.reserved / POOL_WASM_PAGE);
  memory_resized(&A->pool, A);
  WASM_INSTANTIATE(&A->inst, &A->env);
  A->sh->base = A->pool.base;
  A->gc_budget = ARR_GC_MIN;
  A->gc_no = GC_get_gc_no();
  A->ready = true;
  return A;
}

/* ---- lifetimes ----------------------------------------------------------------------------------- */

/* Runs inside the collector (its lock held, any thread): no allocation, no GC calls. */
static void arr_finalize(void *obj, void *cd) {
  (void)cd;
  sx_array *a = obj;
  arr_shared *sh = a->sh;
  if (!sh) return; /* the handle never got a block */
  pthread_mutex_lock(&sh->mu);
  pool_block *b = a->blk;
  if (!sh->closed && b) {
    b->dead++;
    if (!b->queued) {
      b->queued = 1;
      b->next_dead = sh->dead;
      sh->dead = b;
    }
    atomic_store_explicit(&sh->pending, 1, memory_order_release);
  }
  pthread_mutex_unlock(&sh->mu);
  shared_unref(sh);
}

static const struct GC_finalizer_closure arr_closure = {arr_finalize, NULL};

static void release_block(arr_state *A, pool_block *b) {
  A->live_bytes -= b->used;
  pool_free(&A->pool, b);
}

static void set_epoch(arr_state *A) { A->pool.epoch = (uint32_t)GC_get_gc_no(); }

/* Takes back the blocks whose last handles the collector found dead. */
void arr_drain(arr_state *A) {
  arr_shared *sh = A->sh;
  if (SX_LIKELY(!atomic_load_explicit(&sh->pending, memory_order_acquire))) return;
  pool_block *release = NULL;
  pthread_mutex_lock(&sh->mu);
  for (pool_block *b = sh->dead; b; b = b->next_dead) {
    b->queued = 0;
    b->refs -= b->dead;
    A->live_arrays -= b->dead;
    b->dead = 0;
    if (!b->refs) {
      b->next = release;
      release = b;
    }
  }
  sh->dead = NULL;
  atomic_store_explicit(&sh->pending, 0, memory_order_relaxed);
  pthread_mutex_unlock(&sh->mu);
  set_epoch(A);
  for (pool_block *b = release, *n; b; b = n) {
    n = b->next;
    release_block(A, b);
  }
  pool_trim(&A->pool, false);
}

/* Never stops a collection. Passing it instead of GC_gcollect's own never-stop function makes
 * Boehm first finish sweeping the previous cycle's garbage, so every handle that cycle found
 * dead is finalized now rather than whenever the allocator happens to sweep its page. */
static int GC_CALLBACK never_stop(void) { return 0; }

static void set_budget(arr_state *A) {
  size_t heap = GC_get_heap_size(), twice = 2 * A->pool.in_use;
  A->gc_budget = ARR_GC_MIN > twice ? ARR_GC_MIN : twice;
  if (heap > A->gc_budget) A->gc_budget = heap;
  A->gc_no = GC_get_gc_no();
}

/* A full collection, then the blocks it freed. */
void arr_collect(arr_state *A) {
  GC_try_to_collect(never_stop);
  arr_drain(A);
  set_epoch(A);
  set_budget(A);
  pool_trim(&A->pool, false);
}

/* Called after arr_drain, so a cycle the collector ran on its own has been accounted. */
static void maybe_collect(arr_state *A, size_t bytes) {
  if (GC_get_gc_no() != A->gc_no) set_budget(A);
  if (A->pool.in_use + bytes > A->gc_budget) arr_collect(A);
}

static sx_array *handle_new(sx_state *S) {
#if SX_DEBUG_GC_STRESS
  GC_gcollect();
#endif
  sx_array *a = GC_finalized_malloc(sizeof(sx_array), &arr_closure);
  if (SX_UNLIKELY(!a)) vm_error(S, "out of memory (allocating an array handle)");
  a->h.type = T_ARRAY;
  return a;
}

static void attach(arr_state *A, sx_array *a, pool_block *b, uint32_t len, uint32_t rows,
                   uint32_t cols) {
  a->blk = b;
  a->off = b->off;
  a->len = len;
  a->rows = rows;
  a->cols = cols;
  b->refs++;
  A->live_arrays++;
  atomic_fetch_add_explicit(&A->sh->refs, 1, memory_order_relaxed);
  a->sh = A->sh; /* last: from here on the finalizer accounts for the handle */
}

sx_array *arr_new(sx_state *S, const char *who, size_t rows, size_t cols) {
  arr_state *A = arr_state_of(S);
  size_t n = rows;
  if (cols && (rows > ARR_MAX_ELEMS || cols > ARR_MAX_ELEMS || rows * cols > ARR_MAX_ELEMS))
    vm_error(S, "%s: array too large (%zu x %zu elements; at most %zu)", who, rows, cols,
             (size_t)ARR_MAX_ELEMS);
  if (cols) n = rows * cols;
  if (n > ARR_MAX_ELEMS)
    vm_error(S, "%s: array too large (%zu elements; at most %zu)", who, n, (size_t)ARR_MAX_ELEMS);
  size_t bytes = n * sizeof(double);
  vm_count_alloc(S, bytes); /* array memory counts against the evaluation's allocation quota */
  sx_array *a = handle_new(S); /* first: allocating may finalize dead handles */
  arr_drain(A);
  maybe_collect(A, bytes);
  pool_block *b = pool_alloc(&A->pool, bytes ? bytes : sizeof(double));
  if (!b) {
    arr_collect(A);
    b = pool_alloc(&A->pool, bytes ? bytes : sizeof(double));
    if (!b)
      vm_error(S, "%s: out of array memory (%zu bytes wanted, %zu in use, %zu reserved)", who,
               bytes, A->pool.in_use, A->pool.reserved);
  }
  b->used = (uint32_t)bytes;
  A->live_bytes += bytes;
  attach(A, a, b, (uint32_t)n, (uint32_t)rows, (uint32_t)cols);
  return a;
}

sx_array *arr_share(sx_state *S, sx_array *src, uint32_t rows, uint32_t cols) {
  arr_state *A = S->arr;
  sx_array *a = handle_new(S);
  attach(A, a, src->blk, src->len, rows, cols);
  return a;
}

void arr_free(sx_state *S, sx_array *a) {
  arr_state *A = S->arr;
  pool_block *b = a->blk;
  if (!b) return;
  a->blk = NULL;
  A->live_arrays--;
  if (--b->refs == 0) release_block(A, b);
}

size_t arr_trim(sx_state *S) {
  arr_state *A = S->arr;
  if (!A || !A->ready) return 0;
  uint64_t before = A->pool.bytes_returned;
  arr_collect(A); /* may give some back already, lazily */
  pool_trim(&A->pool, true);
  return (size_t)(A->pool.bytes_returned - before);
}

/* ---- kernels ------------------------------------------------------------------------------------- */

static SX_NORETURN void kernel_trapped(sx_state *S, const char *who, const char *hint, int code) {
  const char *why;
  switch (code) {
  case WASM_RT_TRAP_OOB: why = "out-of-bounds memory access"; break;
  case WASM_RT_TRAP_INT_OVERFLOW: why = "integer overflow"; break;
  case WASM_RT_TRAP_DIV_BY_ZERO: why = "integer divide by zero"; break;
  case WASM_RT_TRAP_INVALID_CONVERSION: why = "invalid conversion to integer"; break;
  case WASM_RT_TRAP_UNREACHABLE: why = "unreachable executed"; break;
  default: why = "trap"; break;
  }
  if (hint) vm_error(S, "%s: %s (WebAssembly kernel trapped: %s)", who, hint, why);
  vm_error(S, "%s: WebAssembly kernel trapped: %s", who, why);
}

static void dispatch(arr_state *A, kjob *j) {
  wasm_instance *I = &A->inst;
  switch (j->op) {
  case K_ADD: WASM_KERNEL(add)(I, j->a, j->b, j->o, j->n); break;
  case K_SUB: WASM_KERNEL(sub)(I, j->a, j->b, j->o, j->n); break;
  case K_MUL: WASM_KERNEL(mul)(I, j->a, j->b, j->o, j->n); break;
  case K_DIV: WASM_KERNEL(div)(I, j->a, j->b, j->o, j->n); break;
  case K_ADD_S: WASM_KERNEL(add_s)(I, j->a, j->s, j->o, j->n); break;
  case K_SUB_S: WASM_KERNEL(sub_s)(I, j->a, j->s, j->o, j->n); break;
  case K_MUL_S: WASM_KERNEL(mul_s)(I, j->a, j->s, j->o, j->n); break;
  case K_DIV_S: WASM_KERNEL(div_s)(I, j->a, j->s, j->o, j->n); break;
  case K_RSUB_S: WASM_KERNEL(rsub_s)(I, j->a, j->s, j->o, j->n); break;
  case K_RDIV_S: WASM_KERNEL(rdiv_s)(I, j->a, j->s, j->o, j->n); break;
  case K_NEG: WASM_KERNEL(neg)(I, j->a, j->o, j->n); break;
  case K_ABS: WASM_KERNEL(abs)(I, j->a, j->o, j->n); break;
  case K_SQRT: WASM_KERNEL(sqrt)(I, j->a, j->o, j->n); break;
  case K_EXP: WASM_KERNEL(exp)(I, j->a, j->o, j->n); break;
  case K_LOG: WASM_KERNEL(log)(I, j->a, j->o, j->n); break;
  case K_FILL: WASM_KERNEL(fill)(I, j->o, j->n, j->s); break;
  case K_ARANGE: WASM_KERNEL(arange_fill)(I, j->o, j->n, j->s, j->step, j->i0); break;
  case K_ARANGE_COUNT: j->count = WASM_KERNEL(arange_count)(I, j->s, j->stop, j->step); break;
  case K_COPY: WASM_KERNEL(copy)(I, j->a, j->o, j->n); break;
  case K_SUM: j->acc = WASM_KERNEL(sum)(I, j->a, j->n, j->acc); break;
  case K_PROD: j->acc = WASM_KERNEL(prod)(I, j->a, j->n, j->acc); break;
  case K_MIN: j->acc = WASM_KERNEL(min)(I, j->a, j->n, j->acc); break;
  case K_MAX: j->acc = WASM_KERNEL(max)(I, j->a, j->n, j->acc); break;
  case K_DOT: j->acc = WASM_KERNEL(dot)(I, j->a, j->b, j->n, j->acc); break;
  case K_CUMSUM: j->acc = WASM_KERNEL(cumsum)(I, j->a, j->o, j->n, j->acc); break;
  case K_CUMPROD: j->acc = WASM_KERNEL(cumprod)(I, j->a, j->o, j->n, j->acc); break;
  case K_MATMUL: WASM_KERNEL(matmul)(I, j->a, j->b, j->o, j->n, j->k, j->cols); break;
  }
}

/* One kernel call; a trap unwinds here and becomes an SX error naming `who`. */
void arr_kcall(sx_state *S, const char *who, kjob *j) {
  sigjmp_buf jb;
  sigjmp_buf *prev = trap_target;
  int code = sigsetjmp(jb, 0);
  if (code) {
    trap_target = prev;
    kernel_trapped(S, who, j->hint, code);
  }
  trap_target = &jb;
  dispatch(S->arr, j);
  trap_target = prev;
}

/* A long elementwise, reduction or scan kernel runs in chunks, with a poll for interrupts (and,
 * later, fuel) between them; the running value of a reduction or scan passes in j->acc. */
void arr_krun(sx_state *S, const char *who, kjob *j) {
  uint32_t n = j->n;
  if (SX_LIKELY(n <= ARR_CHUNK)) {
    arr_kcall(S, who, j);
    return;
  }
  uint32_t a = j->a, b = j->b, o = j->o;
  for (uint32_t done = 0; done < n;) {
    uint32_t len = n - done < ARR_CHUNK ? n - done : ARR_CHUNK;
    uint32_t bytes = done * (uint32_t)sizeof(double);
    j->n = len;
    j->a = a + bytes;
    j->b = b + bytes;
    j->o = o + bytes;
    j->i0 = done;
    arr_kcall(S, who, j);
    done += len;
    if (done < n) vm_poll(S);
  }
  j->n = n;
}

/* ---- hooks for the VM ------------------------------------------------------------------------------ */

static const double *elems_of(const sx_array *a) {
  return (const double *)(void *)(a->sh->base + a->off);
}

double *arr_data(const sx_array *a) { return (double *)(void *)(a->sh->base + a->off); }
bool arr_zeroed(const sx_array *a) { return a->blk->zero; }
bool arr_owned(sx_state *S, const sx_array *a) { return S->arr && a->sh == S->arr->sh; }

static bool usable(const sx_array *a) { return a->blk && a->sh && !a->sh->closed; }

void arr_print(sx_state *S, vm_buf *b, sx_val v) {
  (void)S;
  sx_array *a = ARR(v);
  if (!usable(a)) {
    vm_buf_add(b, "#<array freed>", 14);
    return;
  }
  const double *d = elems_of(a);
  char tmp[40];
  vm_buf_add(b, "#f64[", 5);
  uint32_t rows = a->cols ? a->rows : 1, cols = a->cols ? a->cols : a->len;
  for (uint32_t i = 0; i < rows; i++) {
    if (i) vm_buf_addc(b, ' ');
    if (a->cols) vm_buf_addc(b, '[');
    for (uint32_t j = 0; j < cols; j++) {
      if (j) vm_buf_addc(b, ' ');
      vm_format_double(d[(size_t)i * cols + j], tmp, sizeof tmp);
      vm_buf_add(b, tmp, strlen(tmp));
    }
    if (a->cols) vm_buf_addc(b, ']');
  }
  vm_buf_addc(b, ']');
}

int arr_equal(sx_val x, sx_val y) {
  sx_array *a = ARR(x), *b = ARR(y);
  if (!usable(a) || !usable(b)) return -1;
  if (a->len != b->len || a->cols != b->cols || a->rows != b->rows) return 0;
  const double *p = elems_of(a), *q = elems_of(b);
  for (uint32_t i = 0; i < a->len; i++) {
    double u = p[i], w = q[i];
    if (u == w ? signbit(u) != signbit(w) : !(isnan(u) && isnan(w))) return 0;
  }
  return 1;
}

uint32_t arr_hash(sx_val v) {
  sx_array *a = ARR(v);
  return 29u + a->len * 31u + a->cols; /* shape only: elements change under array-set! */
}

void arr_freed_error(sx_state *S, const char *who) {
  vm_error(S, "%s: array has been freed", who);
}

void arr_memory_stats(sx_state *S, sx_val d) {
  arr_state *A = S->arr;
  bool on = A && A->ready;
  if (on) arr_drain(A);
  const pool *p = on ? &A->pool : NULL;
  uint64_t hits = p ? p->hits : 0, misses = p ? p->misses : 0;
  size_t committed = p ? p->committed : 0;
  vm_dict_set(S, d, vm_keyword(S, "wasm-pages"), sx_mkfix((int64_t)(committed / POOL_WASM_PAGE)));
  vm_dict_set(S, d, vm_keyword(S, "wasm-bytes"), sx_mkfix((int64_t)committed));
  vm_dict_set(S, d, vm_keyword(S, "live-arrays"), sx_mkfix(on ? (int64_t)A->live_arrays : 0));
  vm_dict_set(S, d, vm_keyword(S, "live-array-bytes"), sx_mkfix(on ? (int64_t)A->live_bytes : 0));
  vm_dict_set(S, d, vm_keyword(S, "pool-hits"), sx_mkfix((int64_t)hits));
  vm_dict_set(S, d, vm_keyword(S, "pool-misses"), sx_mkfix((int64_t)misses));
  vm_dict_set(S, d, vm_keyword(S, "pool-hit-rate"),
              vm_flonum(S, hits + misses ? (double)hits / (double)(hits + misses) : 0.0));
  vm_dict_set(S, d, vm_keyword(S, "pool-free-bytes"),
              sx_mkfix(p ? (int64_t)pool_free_resident(p) : 0));
  vm_dict_set(S, d, vm_keyword(S, "bytes-returned"), sx_mkfix(p ? (int64_t)p->bytes_returned : 0));
}

/* ---- the #f64[...] literal ------------------------------------------------------------------------- */

static bool lit_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

/* Reads the text after "#f64" — "[1.0 2.0]" or "[[1.0 2.0] [3.0 4.0]]". On success returns the
 * array and sets *used to the characters consumed; on a syntax error returns 0 with *err set and
 * *used at the offending character. */
sx_val arr_read_literal(sx_state *S, const char *src, const char *end, size_t *used,
                        const char **err) {
  const char *p = src;
  vm_buf vals = {0}; /* collected heap: an error's longjmp cannot leak it */
  size_t rows = 0, cols = 0, in_row = 0;
  int depth = 0, nested = -1; /* nested: -1 unknown, 0 flat, 1 rows */
  *err = NULL;
  if (p >= end || *p != '[') {
    *err = "expected '[' after #f64";
    goto fail;
  }
  for (;;) {
    while (p < end && lit_space(*p)) p++;
    if (p >= end) {
      *err = "unterminated #f64 array literal";
      goto fail;
    }
    char c = *p;
    if (c == '[') {
      if (depth == 2 || (depth == 1 && nested == 0)) {
        *err = "a #f64 literal nests at most one level of rows";
        goto fail;
      }
      if (depth == 1) nested = 1;
      depth++;
      in_row = 0;
      p++;
      continue;
    }
    if (c == ']') {
      p++;
      if (depth == 2) {
        if (!in_row) {
          *err = "empty row in a #f64 literal";
          goto fail;
        }
        if (rows && in_row != cols) {
          *err = "rows of a #f64 literal differ in length";
          goto fail;
        }
        cols = in_row;
        rows++;
        depth--;
        continue;
      }
      break; /* depth 1: done */
    }
    if (depth == 1 && nested == 1) {
      *err = "a #f64 literal mixes numbers and rows";
      goto fail;
    }
    const char *t = p;
    while (p < end && !lit_space(*p) && *p != '[' && *p != ']') p++;
    bool ok, overflow;
    sx_val num = vm_parse_number(S, t, (size_t)(p - t), 10, &ok, &overflow);
    if (!ok) {
      p = t;
      *err = "a #f64 literal holds only numbers";
      goto fail;
    }
    double d = vm_todouble(num);
    vm_buf_add(&vals, (const char *)&d, sizeof d);
    if (depth == 1) nested = 0;
    in_row++;
  }
  *used = (size_t)(p - src);
  size_t n = vals.len / sizeof(double);
  sx_array *a = nested == 1 ? arr_new(S, "#f64", rows, cols) : arr_new(S, "#f64", n, 0);
  if (n) memcpy(arr_data(a), vals.buf, n * sizeof(double));
  vm_buf_free(&vals);
  return sx_from_obj(a);
fail:
  vm_buf_free(&vals);
  *used = (size_t)(p - src);
  return 0;
}
