/* cloops.c — the plain C baseline of bench/arrays: the textbook loop for each kernel, compiled
 * on its own with plain -O2 (whatever GCC does at -O2, auto-vectorization included, it may do;
 * nothing else is tuned). bench.c runs them over the very memory the kernels use. */
#include <math.h>
#include <stddef.h>

void c_add(const double *a, const double *b, double *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = a[i] + b[i];
}
void c_mul(const double *a, const double *b, double *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = a[i] * b[i];
}
void c_div(const double *a, const double *b, double *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = a[i] / b[i];
}
void c_add_s(const double *a, double s, double *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = a[i] + s;
}
void c_neg(const double *a, double *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = -a[i];
}
void c_sqrt(const double *a, double *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = sqrt(a[i]);
}
void c_exp(const double *a, double *o, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = exp(a[i]);
}
double c_sum(const double *a, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += a[i];
  return s;
}
double c_prod(const double *a, size_t n) {
  double s = 1;
  for (size_t i = 0; i < n; i++) s *= a[i];
  return s;
}
double c_max(const double *a, size_t n) {
  double m = -INFINITY;
  for (size_t i = 0; i < n; i++) m = a[i] > m ? a[i] : m;
  return m;
}
double c_dot(const double *a, const double *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}
void c_cumsum(const double *a, double *o, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) o[i] = s += a[i];
}
void c_cumprod(const double *a, double *o, size_t n) {
  double s = 1;
  for (size_t i = 0; i < n; i++) o[i] = s *= a[i];
}
/* the textbook triple loop: o (m x n) = a (m x k) . b (k x n) */
void c_matmul(const double *a, const double *b, double *o, size_t m, size_t k, size_t n) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0;
      for (size_t p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      o[i * n + j] = s;
    }
}
