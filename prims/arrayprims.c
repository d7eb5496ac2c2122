/* arrayprims.c — the array primitives of spec/primitives.sx (";; ---- arrays"). Every check —
 * kinds, shapes, indices, sizes, freed handles — happens here on the host, with a message that
 * names the primitive; the kernels (prims/kernels/f64.wat) only compute. */
#include <math.h>
#include <stdio.h>

#include "array.h"

/* An argument that must be a live array of this state. */
static sx_array *arg(sx_state *S, const char *who, sx_val v, int argno) {
  if (SX_UNLIKELY(!sx_is_type(v, T_ARRAY))) vm_type_error(S, who, "array", v, argno);
  sx_array *a = ARR(v);
  if (SX_UNLIKELY(!a->blk)) arr_freed_error(S, who);
  if (SX_UNLIKELY(!arr_owned(S, a))) vm_error(S, "%s: the array belongs to another SX state", who);
  return a;
}

static const char *shape_text(const sx_array *a, char *buf, size_t n) {
  if (a->cols) snprintf(buf, n, "(%u %u)", a->rows, a->cols);
  else snprintf(buf, n, "(%u)", a->len);
  return buf;
}

static bool same_shape(const sx_array *a, const sx_array *b) {
  return a->len == b->len && a->cols == b->cols;
}

static SX_NORETURN void shape_error(sx_state *S, const char *who, const sx_array *a,
                                    const sx_array *b) {
  char x[48], y[48];
  vm_error(S, "%s: shapes differ: %s and %s", who, shape_text(a, x, sizeof x),
           shape_text(b, y, sizeof y));
}

static sx_array *like(sx_state *S, const char *who, const sx_array *a) {
  return arr_new(S, who, a->rows, a->cols);
}

static sx_val val(sx_array *a) { return sx_from_obj(a); }

/* ---- making arrays ------------------------------------------------------------------------------ */

PRIM_FN(p_array) {
  sx_array *a = arr_new(S, "array", (size_t)argc, 0);
  double *d = arr_data(a);
  for (int i = 0; i < argc; i++) d[i] = vm_todouble(argv[i]);
  return val(a);
}

/* Elements of a proper list of numbers into d (when d is not NULL); the count, or raises. */
static size_t numbers_of(sx_state *S, const char *who, sx_val l, double *d) {
  size_t n = 0;
  for (; sx_is_pair(l); l = sx_cdr(l), n++) {
    sx_val x = sx_car(l);
    if (!sx_is_number(x)) vm_type_error(S, who, "a list of numbers or of lists of numbers", x, 0);
    if (d) d[n] = vm_todouble(x);
  }
  return n;
}

PRIM_FN(p_list_to_array) {
  UNUSED_ARGS;
  const char *who = "list->array";
  sx_val l = argv[0];
  size_t n = vm_list_length(l);
  if (n == (size_t)-1) vm_type_error(S, who, "proper list", l, 1);
  if (n == 0 || !(sx_is_pair(sx_car(l)) || sx_is_listend(sx_car(l)))) {
    numbers_of(S, who, l, NULL);
    sx_array *a = arr_new(S, who, n, 0);
    numbers_of(S, who, l, arr_data(a));
    return val(a);
  }
  size_t cols = 0, r = 0;
  for (sx_val row = l; sx_is_pair(row); row = sx_cdr(row), r++) {
    sx_val x = sx_car(row);
    size_t k = vm_list_length(x);
    if (!(sx_is_pair(x) || sx_is_listend(x)) || k == (size_t)-1)
      vm_type_error(S, who, "a list of lists of numbers (one per row)", x, 0);
    if (k == 0) vm_error(S, "%s: row %zu is empty", who, r);
    if (r && k != cols)
      vm_error(S, "%s: rows differ in length (row 0 has %zu, row %zu has %zu)", who, cols, r, k);
    cols = k;
    numbers_of(S, who, x, NULL);
  }
  sx_array *a = arr_new(S, who, n, cols);
  double *d = arr_data(a);
  for (sx_val row = l; sx_is_pair(row); row = sx_cdr(row), d += cols)
    numbers_of(S, who, sx_car(row), d);
  return val(a);
}

PRIM_FN(p_array_to_list) {
  UNUSED_ARGS;
  sx_array *a = arg(S, "array->list", argv[0], 1);
  uint32_t rows = a->cols ? a->rows : 1, cols = a->cols ? a->cols : a->len;
  sx_val out = SX_EMPTY;
  for (uint32_t i = rows; i-- > 0;) {
    sx_val row = SX_EMPTY;
    for (uint32_t j = cols; j-- > 0;) {
      /* re-read after each allocation: the block cannot move, but keep no stale pointer */
      double x = arr_data(a)[(size_t)i * cols + j];
      row = vm_cons(S, vm_flonum(S, x), row);
    }
    out = a->cols ? vm_cons(S, row, out) : row;
  }
  return out;
}

/* (zeros n) or (zeros rows cols): the shape arguments of zeros and ones. */
static sx_array *new_shaped(sx_state *S, const char *who, int argc, sx_val *argv) {
  int64_t r = INT(0), c = argc > 1 ? INT(1) : 0;
  if (argc == 1 && r < 0) vm_error_irritant(S, argv[0], "%s: length must not be negative", who);
  if (argc > 1 && (r < 1 || c < 1))
    vm_error(S, "%s: a 2-D array needs at least one row and one column, got (%lld %lld)", who,
             (long long)r, (long long)c);
  if ((uint64_t)r > ARR_MAX_ELEMS || (uint64_t)c > ARR_MAX_ELEMS)
    vm_error(S, "%s: array too large (at most %zu elements)", who, (size_t)ARR_MAX_ELEMS);
  return arr_new(S, who, (size_t)r, (size_t)c);
}

static void fill(sx_state *S, const char *who, sx_array *a, double v) {
  kjob j = {.op = K_FILL, .o = a->off, .n = a->len, .s = v};
  arr_krun(S, who, &j);
}

PRIM_FN(p_zeros) {
  sx_array *a = new_shaped(S, "zeros", argc, argv);
  if (!arr_zeroed(a)) fill(S, "zeros", a, 0.0); /* pages fresh from the OS are zero already */
  return val(a);
}

PRIM_FN(p_ones) {
  sx_array *a = new_shaped(S, "ones", argc, argv);
  fill(S, "ones", a, 1.0);
  return val(a);
}

PRIM_FN(p_arange) {
  double start = 0, stop, step = 1;
  if (argc == 1) {
    stop = vm_todouble(argv[0]);
  } else {
    start = vm_todouble(argv[0]);
    stop = vm_todouble(argv[1]);
    if (argc > 2) step = vm_todouble(argv[2]);
  }
  if (step == 0) vm_error(S, "arange: step must not be zero");
  arr_state_of(S);
  /* the length comes from the kernel: a NaN or unrepresentable count traps there */
  kjob n = {.op = K_ARANGE_COUNT, .s = start, .stop = stop, .step = step,
            .hint = "the length (stop - start) / step is not a finite count"};
  arr_kcall(S, "arange", &n);
  sx_array *a = arr_new(S, "arange", n.count, 0);
  kjob j = {.op = K_ARANGE, .o = a->off, .n = a->len, .s = start, .step = step};
  arr_krun(S, "arange", &j);
  return val(a);
}

PRIM_FN(p_linspace) {
  UNUSED_ARGS;
  double start = vm_todouble(argv[0]), stop = vm_todouble(argv[1]);
  int64_t n = INT(2);
  if (n < 0) vm_error_irritant(S, argv[2], "linspace: count must not be negative");
  if ((uint64_t)n > ARR_MAX_ELEMS)
    vm_error(S, "linspace: array too large (at most %zu elements)", (size_t)ARR_MAX_ELEMS);
  sx_array *a = arr_new(S, "linspace", (size_t)n, 0);
  if (n == 0) return val(a);
  kjob j = {.op = K_ARANGE, .o = a->off, .n = a->len, .s = start,
            .step = n > 1 ? (stop - start) / (double)(n - 1) : 0};
  arr_krun(S, "linspace", &j);
  if (n > 1) arr_data(a)[n - 1] = stop; /* exactly stop, whatever the rounding of the steps */
  return val(a);
}

/* ---- shape and elements ------------------------------------------------------------------------- */

PRIM_FN(p_array_length) {
  UNUSED_ARGS;
  return sx_mkfix(arg(S, "array-length", argv[0], 1)->len);
}

PRIM_FN(p_array_shape) {
  UNUSED_ARGS;
  sx_array *a = arg(S, "array-shape", argv[0], 1);
  if (!a->cols) return vm_cons(S, sx_mkfix(a->len), SX_EMPTY);
  return vm_cons(S, sx_mkfix(a->rows), vm_cons(S, sx_mkfix(a->cols), SX_EMPTY));
}

PRIM_FN(p_reshape) {
  const char *who = "reshape";
  sx_array *a = arg(S, who, argv[0], 1);
  int64_t len = a->len, r = INT(1), c = argc > 2 ? INT(2) : 0;
  if (argc == 2) {
    if (r == -1) r = len;
    if (r != len)
      vm_error(S, "%s: cannot reshape %lld elements to (%lld)", who, (long long)len, (long long)r);
    return val(arr_share(S, a, (uint32_t)len, 0));
  }
  if (r == -1 && c == -1) vm_error(S, "%s: only one dimension may be -1", who);
  if (r == -1 && c > 0 && len % c == 0) r = len / c;
  if (c == -1 && r > 0 && len % r == 0) c = len / r;
  if (r < 1 || c < 1 || r * c != len)
    vm_error(S, "%s: cannot reshape %lld elements to (%lld %lld)", who, (long long)len,
             (long long)r, (long long)c);
  return val(arr_share(S, a, (uint32_t)r, (uint32_t)c));
}

/* The flat position of (array-ref a i) or (array-ref a i j). */
static size_t position(sx_state *S, const char *who, sx_array *a, int nidx, sx_val *idx) {
  if (a->cols) {
    if (nidx != 2) vm_error(S, "%s: a 2-D array takes a row and a column index", who);
    size_t i = prim_index(S, who, idx[0], a->rows);
    return i * a->cols + prim_index(S, who, idx[1], a->cols);
  }
  if (nidx != 1) vm_error(S, "%s: a 1-D array takes one index", who);
  return prim_index(S, who, idx[0], a->len);
}

PRIM_FN(p_array_ref) {
  sx_array *a = arg(S, "array-ref", argv[0], 1);
  return vm_flonum(S, arr_data(a)[position(S, "array-ref", a, argc - 1, argv + 1)]);
}

PRIM_FN(p_array_set) {
  sx_array *a = arg(S, "array-set!", argv[0], 1);
  size_t i = position(S, "array-set!", a, argc - 2, argv + 1);
  sx_val v = argv[argc - 1];
  if (!sx_is_number(v)) vm_type_error(S, "array-set!", "number", v, argc);
  arr_data(a)[i] = vm_todouble(v);
  return SX_NIL;
}

PRIM_FN(p_array_copy) {
  UNUSED_ARGS;
  sx_array *a = arg(S, "array-copy", argv[0], 1);
  sx_array *o = like(S, "array-copy", a);
  kjob j = {.op = K_COPY, .a = a->off, .o = o->off, .n = a->len};
  arr_krun(S, "array-copy", &j);
  return val(o);
}

PRIM_FN(p_array_slice) {
  const char *who = "array-slice";
  sx_array *a = arg(S, who, argv[0], 1);
  int64_t n = a->cols ? a->rows : a->len;
  int64_t start = INT(1), end = argc > 2 ? INT(2) : n;
  if (start < 0 || end > n || start > end)
    vm_error(S, "%s: range [%lld, %lld) is not within [0, %lld]", who, (long long)start,
             (long long)end, (long long)n);
  if (a->cols && start == end) vm_error(S, "%s: a 2-D slice needs at least one row", who);
  uint32_t width = a->cols ? a->cols : 1;
  sx_array *o = arr_new(S, who, (size_t)(end - start), a->cols);
  kjob j = {.op = K_COPY, .a = a->off + (uint32_t)start * width * (uint32_t)sizeof(double),
            .o = o->off, .n = o->len};
  arr_krun(S, who, &j);
  return val(o);
}

/* ---- elementwise ------------------------------------------------------------------------------- */

enum { ADD, SUB, MUL, DIV };
static const kop with_array[] = {K_ADD, K_SUB, K_MUL, K_DIV};
static const kop with_number[] = {K_ADD_S, K_SUB_S, K_MUL_S, K_DIV_S};      /* a OP s */
static const kop number_with[] = {K_ADD_S, K_RSUB_S, K_MUL_S, K_RDIV_S};    /* s OP a */

/* x OP y for arrays of one shape or an array and a number (either side); in place writes into
 * x, which the spec makes an array. */
static sx_val elementwise(sx_state *S, const char *who, int op, sx_val x, sx_val y, bool inplace) {
  kjob j = {0};
  sx_array *a, *o;
  if (sx_is_type(x, T_ARRAY)) {
    a = arg(S, who, x, 1);
    if (sx_is_type(y, T_ARRAY)) {
      sx_array *b = arg(S, who, y, 2);
      if (!same_shape(a, b)) shape_error(S, who, a, b);
      j.op = with_array[op];
      j.b = b->off;
    } else {
      if (!sx_is_number(y)) vm_type_error(S, who, "array or number", y, 2);
      j.op = with_number[op];
      j.s = vm_todouble(y);
    }
  } else {
    if (!sx_is_number(x)) vm_type_error(S, who, "array or number", x, 1);
    if (!sx_is_type(y, T_ARRAY)) vm_type_error(S, who, "array (one argument must be)", y, 2);
    a = arg(S, who, y, 2);
    j.op = number_with[op];
    j.s = vm_todouble(x);
  }
  o = inplace ? a : like(S, who, a);
  j.a = a->off;
  j.o = o->off;
  j.n = a->len;
  arr_krun(S, who, &j);
  return inplace ? SX_NIL : val(o);
}

PRIM_FN(p_array_add) { UNUSED_ARGS; return elementwise(S, "array-add", ADD, argv[0], argv[1], false); }
PRIM_FN(p_array_sub) { UNUSED_ARGS; return elementwise(S, "array-sub", SUB, argv[0], argv[1], false); }
PRIM_FN(p_array_mul) { UNUSED_ARGS; return elementwise(S, "array-mul", MUL, argv[0], argv[1], false); }
PRIM_FN(p_array_div) { UNUSED_ARGS; return elementwise(S, "array-div", DIV, argv[0], argv[1], false); }
PRIM_FN(p_array_add_x) { UNUSED_ARGS; return elementwise(S, "array-add!", ADD, argv[0], argv[1], true); }
PRIM_FN(p_array_sub_x) { UNUSED_ARGS; return elementwise(S, "array-sub!", SUB, argv[0], argv[1], true); }
PRIM_FN(p_array_mul_x) { UNUSED_ARGS; return elementwise(S, "array-mul!", MUL, argv[0], argv[1], true); }
PRIM_FN(p_array_div_x) { UNUSED_ARGS; return elementwise(S, "array-div!", DIV, argv[0], argv[1], true); }

static sx_val unary(sx_state *S, const char *who, kop op, sx_val x) {
  sx_array *a = arg(S, who, x, 1);
  sx_array *o = like(S, who, a);
  kjob j = {.op = op, .a = a->off, .o = o->off, .n = a->len};
  arr_krun(S, who, &j);
  return val(o);
}

PRIM_FN(p_array_neg) { UNUSED_ARGS; return unary(S, "array-neg", K_NEG, argv[0]); }
PRIM_FN(p_array_abs) { UNUSED_ARGS; return unary(S, "array-abs", K_ABS, argv[0]); }
PRIM_FN(p_array_sqrt) { UNUSED_ARGS; return unary(S, "array-sqrt", K_SQRT, argv[0]); }
PRIM_FN(p_array_exp) { UNUSED_ARGS; return unary(S, "array-exp", K_EXP, argv[0]); }
PRIM_FN(p_array_log) { UNUSED_ARGS; return unary(S, "array-log", K_LOG, argv[0]); }

/* ---- reductions and scans ----------------------------------------------------------------------- */
/* The starting values are identities that leave the first element exact: -0.0 + x is x for
 * every x (0.0 + -0.0 would not be -0.0), 1.0 * x is x, min(+inf, x) is x. */

static double reduce(sx_state *S, const char *who, kop op, sx_array *a, sx_array *b,
                     double init) {
  kjob j = {.op = op, .a = a->off, .b = b ? b->off : 0, .n = a->len, .acc = init};
  arr_krun(S, who, &j);
  return j.acc;
}

PRIM_FN(p_array_sum) {
  UNUSED_ARGS;
  sx_array *a = arg(S, "array-sum", argv[0], 1);
  return vm_flonum(S, a->len ? reduce(S, "array-sum", K_SUM, a, NULL, -0.0) : 0.0);
}

PRIM_FN(p_array_prod) {
  UNUSED_ARGS;
  sx_array *a = arg(S, "array-prod", argv[0], 1);
  return vm_flonum(S, reduce(S, "array-prod", K_PROD, a, NULL, 1.0));
}

static sx_val extreme(sx_state *S, const char *who, kop op, sx_val x, double init) {
  sx_array *a = arg(S, who, x, 1);
  if (!a->len) vm_error(S, "%s: empty array", who);
  return vm_flonum(S, reduce(S, who, op, a, NULL, init));
}

PRIM_FN(p_array_min) { UNUSED_ARGS; return extreme(S, "array-min", K_MIN, argv[0], INFINITY); }
PRIM_FN(p_array_max) { UNUSED_ARGS; return extreme(S, "array-max", K_MAX, argv[0], -INFINITY); }

PRIM_FN(p_array_mean) {
  UNUSED_ARGS;
  sx_array *a = arg(S, "array-mean", argv[0], 1);
  if (!a->len) vm_error(S, "array-mean: empty array");
  return vm_flonum(S, reduce(S, "array-mean", K_SUM, a, NULL, -0.0) / (double)a->len);
}

PRIM_FN(p_array_dot) {
  UNUSED_ARGS;
  sx_array *a = arg(S, "array-dot", argv[0], 1), *b = arg(S, "array-dot", argv[1], 2);
  if (!same_shape(a, b)) shape_error(S, "array-dot", a, b);
  return vm_flonum(S, a->len ? reduce(S, "array-dot", K_DOT, a, b, -0.0) : 0.0);
}

static sx_val scan(sx_state *S, const char *who, kop op, sx_val x, double init) {
  sx_array *a = arg(S, who, x, 1);
  sx_array *o = arr_new(S, who, a->len, 0);
  kjob j = {.op = op, .a = a->off, .o = o->off, .n = a->len, .acc = init};
  arr_krun(S, who, &j);
  return val(o);
}

PRIM_FN(p_array_cumsum) { UNUSED_ARGS; return scan(S, "array-cumsum", K_CUMSUM, argv[0], -0.0); }
PRIM_FN(p_array_cumprod) { UNUSED_ARGS; return scan(S, "array-cumprod", K_CUMPROD, argv[0], 1.0); }

/* (m x k) . (k x n) -> (m x n); a 1-D left side is a row (k), a 1-D right side a column (k),
 * and the result is then 1-D. Runs a few rows per kernel call so long products poll. */
PRIM_FN(p_array_matmul) {
  UNUSED_ARGS;
  const char *who = "array-matmul";
  sx_array *a = arg(S, who, argv[0], 1), *b = arg(S, who, argv[1], 2);
  if (!a->cols && !b->cols)
    vm_error(S, "%s: expected a 2-D array on at least one side (array-dot multiplies 1-D ones)",
             who);
  uint32_t m = a->cols ? a->rows : 1, k = a->cols ? a->cols : a->len;
  uint32_t kb = b->cols ? b->rows : b->len, n = b->cols ? b->cols : 1;
  if (k != kb) {
    char x[48], y[48];
    vm_error(S, "%s: shapes %s and %s do not chain (%u columns against %u rows)", who,
             shape_text(a, x, sizeof x), shape_text(b, y, sizeof y), k, kb);
  }
  sx_array *o = a->cols && b->cols ? arr_new(S, who, m, n) : arr_new(S, who, a->cols ? m : n, 0);
  size_t work = (size_t)k * n + 1;
  uint32_t per = work >= (size_t)ARR_CHUNK * 16 ? 1 : (uint32_t)((size_t)ARR_CHUNK * 16 / work);
  for (uint32_t r = 0; r < m; r += per) {
    uint32_t rows = m - r < per ? m - r : per;
    kjob j = {.op = K_MATMUL, .a = a->off + r * k * (uint32_t)sizeof(double), .b = b->off,
              .o = o->off + r * n * (uint32_t)sizeof(double), .n = rows, .k = k, .cols = n};
    arr_kcall(S, who, &j);
    if (r + rows < m) vm_poll(S);
  }
  return val(o);
}

/* ---- lifetimes and memory ------------------------------------------------------------------------ */

PRIM_FN(p_array_free) {
  UNUSED_ARGS;
  sx_array *a = ARR(argv[0]);
  if (!a->blk) return SX_NIL; /* freeing twice is harmless */
  if (!arr_owned(S, a)) vm_error(S, "array-free!: the array belongs to another SX state");
  arr_free(S, a);
  return SX_NIL;
}

PRIM_FN(p_memory_trim) { UNUSED_ARGS; return sx_mkfix((int64_t)arr_trim(S)); }

PRIM_FN(p_arrayp) { UNUSED_ARGS; return sx_bool(sx_is_type(argv[0], T_ARRAY)); }

const prim_impl prim_arrays[] = {
    {"array", p_array},
    {"list->array", p_list_to_array},
    {"array->list", p_array_to_list},
    {"zeros", p_zeros},
    {"ones", p_ones},
    {"arange", p_arange},
    {"linspace", p_linspace},
    {"array-length", p_array_length},
    {"array-shape", p_array_shape},
    {"reshape", p_reshape},
    {"array-ref", p_array_ref},
    {"array-set!", p_array_set},
    {"array-copy", p_array_copy},
    {"array-slice", p_array_slice},
    {"array-add", p_array_add},
    {"array-sub", p_array_sub},
    {"array-mul", p_array_mul},
    {"array-div", p_array_div},
    {"array-neg", p_array_neg},
    {"array-abs", p_array_abs},
    {"array-sqrt", p_array_sqrt},
    {"array-exp", p_array_exp},
    {"array-log", p_array_log},
    {"array-add!", p_array_add_x},
    {"array-sub!", p_array_sub_x},
    {"array-mul!", p_array_mul_x},
    {"array-div!", p_array_div_x},
    {"array-sum", p_array_sum},
    {"array-prod", p_array_prod},
    {"array-min", p_array_min},
    {"array-max", p_array_max},
    {"array-mean", p_array_mean},
    {"array-dot", p_array_dot},
    {"array-cumsum", p_array_cumsum},
    {"array-cumprod", p_array_cumprod},
    {"array-matmul", p_array_matmul},
    {"array-free!", p_array_free},
    {"memory-trim!", p_memory_trim},
    {"array?", p_arrayp},
    {NULL, NULL},
};
