/* bench.c — the array kernels against plain C loops over the same memory (make bench-arrays).
 *
 * For each operation and n = 1e3, 1e5, 1e6 it times: the plain C loop of cloops.c (plain -O2) on
 * pointers into the state's linear memory; the WebAssembly kernel as the primitive runs it
 * (arr_krun: chunks, trap protection) on the same arrays; and the whole primitive called through
 * the VM (argument checks, a new result array from the pool, its handle, the kernel). Best of
 * five trials. Prints tab-separated lines "op n c kernel prim" in ns per element (matmul: per
 * multiply-add), then "call NAME ns" lines for the per-call cost on 16-element arrays.
 * bench/arrays/run.sh joins them with NumPy's figures and prints the table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "array.h"

void c_add(const double *a, const double *b, double *o, size_t n);
void c_mul(const double *a, const double *b, double *o, size_t n);
void c_div(const double *a, const double *b, double *o, size_t n);
void c_add_s(const double *a, double s, double *o, size_t n);
void c_neg(const double *a, double *o, size_t n);
void c_sqrt(const double *a, double *o, size_t n);
void c_exp(const double *a, double *o, size_t n);
double c_sum(const double *a, size_t n);
double c_prod(const double *a, size_t n);
double c_max(const double *a, size_t n);
double c_dot(const double *a, const double *b, size_t n);
void c_cumsum(const double *a, double *o, size_t n);
void c_cumprod(const double *a, double *o, size_t n);
void c_matmul(const double *a, const double *b, double *o, size_t m, size_t k, size_t n);

enum { BIN, BIN_S, UN, RED, RED2, SCAN };
typedef struct {
  const char *name, *prim;
  int shape;
  kop k;
  void *c;
} op;

static const op ops[] = {
    {"add", "array-add", BIN, K_ADD, (void *)c_add},
    {"mul", "array-mul", BIN, K_MUL, (void *)c_mul},
    {"div", "array-div", BIN, K_DIV, (void *)c_div},
    {"add-number", "array-add", BIN_S, K_ADD_S, (void *)c_add_s},
    {"neg", "array-neg", UN, K_NEG, (void *)c_neg},
    {"sqrt", "array-sqrt", UN, K_SQRT, (void *)c_sqrt},
    {"exp", "array-exp", UN, K_EXP, (void *)c_exp},
    {"sum", "array-sum", RED, K_SUM, (void *)c_sum},
    {"prod", "array-prod", RED, K_PROD, (void *)c_prod},
    {"max", "array-max", RED, K_MAX, (void *)c_max},
    {"dot", "array-dot", RED2, K_DOT, (void *)c_dot},
    {"cumsum", "array-cumsum", SCAN, K_CUMSUM, (void *)c_cumsum},
    {"cumprod", "array-cumprod", SCAN, K_CUMPROD, (void *)c_cumprod},
};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static volatile double sink;

/* what: 0 plain C, 1 kernel, 2 primitive through the VM */
static void run(sx_state *S, const op *p, int what, sx_array *a, sx_array *b, sx_array *o,
                sx_val fn, sx_val *argv, long reps) {
  size_t n = a->len;
  double *A = arr_data(a), *B = arr_data(b), *O = arr_data(o);
  for (long r = 0; r < reps; r++) {
    if (what == 2) {
      int argc = p->shape == BIN || p->shape == BIN_S || p->shape == RED2 ? 2 : 1;
      vm_call(S, fn, argc, argv);
      continue;
    }
    if (what == 1) {
      kjob j = {.op = p->k, .a = a->off, .b = b->off, .o = o->off, .n = (uint32_t)n, .s = 0.5,
                .acc = p->k == K_PROD ? 1.0 : p->k == K_MAX ? -INFINITY : -0.0};
      arr_krun(S, "bench", &j);
      sink = j.acc;
      continue;
    }
    switch (p->shape) {
    case BIN: ((void (*)(const double *, const double *, double *, size_t))p->c)(A, B, O, n); break;
    case BIN_S: ((void (*)(const double *, double, double *, size_t))p->c)(A, 0.5, O, n); break;
    case UN: ((void (*)(const double *, double *, size_t))p->c)(A, O, n); break;
    case RED: sink = ((double (*)(const double *, size_t))p->c)(A, n); break;
    case RED2: sink = ((double (*)(const double *, const double *, size_t))p->c)(A, B, n); break;
    case SCAN: ((void (*)(const double *, double *, size_t))p->c)(A, O, n); break;
    }
  }
}

static double best(sx_state *S, const op *p, int what, sx_array *a, sx_array *b, sx_array *o,
                   sx_val fn, sx_val *argv, long reps) {
  double t = 1e30;
  run(S, p, what, a, b, o, fn, argv, reps > 1 ? reps / 10 + 1 : 1); /* warm up */
  for (int trial = 0; trial < 5; trial++) {
    double t0 = now();
    run(S, p, what, a, b, o, fn, argv, reps);
    double dt = now() - t0;
    if (dt < t) t = dt;
  }
  return t / (double)reps;
}

static sx_val prim(sx_state *S, const char *name) {
  return vm_env_lookup(S->root, vm_symbol(S, name))->value;
}

static void fill_near_one(sx_array *a, int seed) {
  double *d = arr_data(a);
  for (uint32_t i = 0; i < a->len; i++) d[i] = 1.0 + (double)((i * 7 + (uint32_t)seed) % 13 - 6) * 1e-9;
}

static void bench_all(sx_state *S, void *ud) {
  (void)ud;
  static const size_t sizes[] = {1000, 100000, 1000000};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    size_t n = sizes[s];
    sx_array *a = arr_new(S, "bench", n, 0), *b = arr_new(S, "bench", n, 0);
    sx_array *o = arr_new(S, "bench", n, 0);
    fill_near_one(a, 1);
    fill_near_one(b, 5);
    long reps = (long)(2e7 / (double)n);
    if (reps < 20) reps = 20;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
      const op *p = &ops[i];
      sx_val argv[2] = {sx_from_obj(a), p->shape == BIN_S ? vm_flonum(S, 0.5) : sx_from_obj(b)};
      double c = best(S, p, 0, a, b, o, 0, argv, reps);
      double k = best(S, p, 1, a, b, o, 0, argv, reps);
      double v = best(S, p, 2, a, b, o, prim(S, p->prim), argv, reps);
      printf("%s\t%zu\t%.4f\t%.4f\t%.4f\n", p->name, n, c * 1e9 / (double)n,
             k * 1e9 / (double)n, v * 1e9 / (double)n);
      fflush(stdout);
    }
    arr_free(S, a);
    arr_free(S, b);
    arr_free(S, o);
  }
  static const size_t msizes[] = {64, 128, 256};
  sx_val mm = prim(S, "array-matmul");
  for (size_t s = 0; s < sizeof msizes / sizeof msizes[0]; s++) {
    size_t n = msizes[s];
    sx_array *a = arr_new(S, "bench", n, n), *b = arr_new(S, "bench", n, n);
    sx_array *o = arr_new(S, "bench", n, n);
    fill_near_one(a, 1);
    fill_near_one(b, 5);
    double madds = (double)n * (double)n * (double)n;
    long reps = (long)(2e8 / madds);
    if (reps < 3) reps = 3;
    double tc = 1e30, tk = 1e30, tp = 1e30;
    sx_val argv[2] = {sx_from_obj(a), sx_from_obj(b)};
    for (int trial = 0; trial < 5; trial++) {
      double t0 = now();
      for (long r = 0; r < reps; r++) c_matmul(arr_data(a), arr_data(b), arr_data(o), n, n, n);
      double t1 = now();
      for (long r = 0; r < reps; r++) {
        kjob j = {.op = K_MATMUL, .a = a->off, .b = b->off, .o = o->off, .n = (uint32_t)n,
                  .k = (uint32_t)n, .cols = (uint32_t)n};
        arr_kcall(S, "bench", &j);
      }
      double t2 = now();
      for (long r = 0; r < reps; r++) vm_call(S, mm, 2, argv);
      double t3 = now();
      if (t1 - t0 < tc) tc = t1 - t0;
      if (t2 - t1 < tk) tk = t2 - t1;
      if (t3 - t2 < tp) tp = t3 - t2;
    }
    printf("matmul\t%zu\t%.4f\t%.4f\t%.4f\n", n, tc * 1e9 / (double)reps / madds,
           tk * 1e9 / (double)reps / madds, tp * 1e9 / (double)reps / madds);
    fflush(stdout);
  }
}

/* Per call of a primitive on 16-element arrays, from SX code: a loop of calls minus the same
 * loop calling (void a b), a primitive that does nothing. */
static const char *per_call =
    "(define a (ones 16)) (define b (ones 16))\n"
    "(define (timed f) (let ((t0 (current-time-ms))) (f 2000000) (/ (- (current-time-ms) t0) 2.0)))\n"
    "(define (base n) (let loop ((i 0)) (when (< i n) (void a b) (loop (+ i 1)))))\n"
    "(define (add n) (let loop ((i 0)) (when (< i n) (array-add a b) (loop (+ i 1)))))\n"
    "(define (add! n) (let loop ((i 0)) (when (< i n) (array-add! a b) (loop (+ i 1)))))\n"
    "(define (sum n) (let loop ((i 0)) (when (< i n) (array-sum a) (loop (+ i 1)))))\n"
    "(define (ref n) (let loop ((i 0)) (when (< i n) (array-ref a 3) (loop (+ i 1)))))\n"
    "(define (best f) (let loop ((k 0) (m 1e30)) (if (< k 5) (loop (+ k 1) (min m (timed f))) m)))\n"
    "(list (best base) (best add) (best add!) (best sum) (best ref))\n";

int main(void) {
  sx_config cfg = {0};
  sx_state *S = sx_open(&cfg);
  if (!S) return 1;
  if (vm_protect(S, bench_all, NULL)) {
    fprintf(stderr, "bench: %s\n", vm_error_text(S, S->raised, false));
    return 1;
  }
  sx_value r;
  if (sx_eval_string(S, per_call, "<bench>", &r) != SX_OK) {
    fprintf(stderr, "bench: %s\n", sx_error_message(S));
    return 1;
  }
  static const char *names[] = {"void (baseline)", "array-add", "array-add!", "array-sum", "array-ref"};
  double base = sx_flo(sx_car(r));
  for (int i = 0; i < 5; i++, r = sx_cdr(r))
    printf("call\t%s\t%.1f\t%.1f\n", names[i], sx_flo(sx_car(r)), sx_flo(sx_car(r)) - base);
  sx_close(S);
  return 0;
}
