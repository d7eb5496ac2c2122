/* array.h — f64 arrays: GC-managed handles over blocks of the state's WebAssembly memory.
 *
 * A handle (T_ARRAY) is a small collected object that points at a pool block (prims/pool.h)
 * holding the elements, row-major. Handles are allocated with GC_finalized_malloc: when the
 * collector finds one unreachable, a finalizer queues its block, and the state returns it to the
 * pool at its next array operation. (array-free! h) retires a handle at once; a retired handle
 * has blk == NULL and every later use is the error "array has been freed". reshape makes a second
 * handle on the same block (the block counts its handles); copies get blocks of their own.
 */
#ifndef SX_ARRAY_H
#define SX_ARRAY_H

#include "pool.h"
#include "prims.h"

typedef struct arr_shared arr_shared;

typedef struct {
  sx_obj h;        /* type T_ARRAY */
  pool_block *blk; /* NULL once freed */
  arr_shared *sh;  /* the owning state's array memory */
  uint32_t off;    /* byte offset of element 0 in the linear memory */
  uint32_t len;    /* elements */
  uint32_t rows;   /* 2-D: rows; 1-D: len */
  uint32_t cols;   /* 2-D: columns; 1-D: 0 */
} sx_array;

#define ARR(v) ((sx_array *)(uintptr_t)(v))

/* Elements an array may hold: what fits in the largest wasm32 memory. */
#define ARR_MAX_ELEMS ((size_t)0xfffe * POOL_WASM_PAGE / sizeof(double))
/* Elements per kernel call of a long operation; vm_poll runs between calls. */
#define ARR_CHUNK 65536u

/* One kernel call: which kernel and its operands. */
typedef enum {
  K_ADD, K_SUB, K_MUL, K_DIV,                                /* o = a OP b */
  K_ADD_S, K_SUB_S, K_MUL_S, K_DIV_S, K_RSUB_S, K_RDIV_S,    /* o = a OP s, o = s OP a */
  K_NEG, K_ABS, K_SQRT, K_EXP, K_LOG,                        /* o = f(a) */
  K_FILL, K_ARANGE, K_ARANGE_COUNT, K_COPY,
  K_SUM, K_PROD, K_MIN, K_MAX, K_DOT,                        /* acc = acc OP a... */
  K_CUMSUM, K_CUMPROD,                                       /* o = running acc OP a */
  K_MATMUL,                                                  /* o (n x cols) = a (n x k) . b */
} kop;

typedef struct {
  kop op;
  uint32_t a, b, o; /* byte offsets in the linear memory */
  uint32_t n;       /* elements (matmul: rows of the result) */
  uint32_t k, cols; /* matmul: inner size, columns of the result */
  uint32_t i0;      /* arange: index of the chunk's first element */
  uint32_t count;   /* arange_count: the result */
  double s;         /* the number operand; arange: start */
  double step, stop;
  double acc;       /* reductions and scans: the running value */
  const char *hint; /* what a trap means here, for the error message (or NULL) */
} kjob;

typedef struct arr_state arr_state;

/* The state's array memory, set up on first use (raises when that is impossible). */
SX_INTERNAL arr_state *arr_state_of(sx_state *S);
/* A new array with a block of its own: 1-D of `rows` elements when cols == 0. */
SX_INTERNAL sx_array *arr_new(sx_state *S, const char *who, size_t rows, size_t cols);
/* A new handle on src's block with another shape of the same size. */
SX_INTERNAL sx_array *arr_share(sx_state *S, sx_array *src, uint32_t rows, uint32_t cols);
SX_INTERNAL void arr_free(sx_state *S, sx_array *a);      /* retire a handle (idempotent) */
SX_INTERNAL size_t arr_trim(sx_state *S);                 /* memory-trim!: bytes given back */
SX_INTERNAL double *arr_data(const sx_array *a);          /* the elements, for host access */
SX_INTERNAL bool arr_zeroed(const sx_array *a);           /* block known to be all zeros */
SX_INTERNAL void arr_kcall(sx_state *S, const char *who, kjob *j); /* one protected call */
SX_INTERNAL void arr_krun(sx_state *S, const char *who, kjob *j);  /* chunked, polling */
SX_INTERNAL bool arr_owned(sx_state *S, const sx_array *a); /* belongs to this state */

#endif
