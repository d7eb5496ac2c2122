/* number.c — generic arithmetic on fixnums and flonums, shared by the VM's slow paths and the
 * number primitives. Fixnums never wrap: leaving the 62-bit range raises "integer overflow". */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

sx_val vm_make_int(sx_state *S, int64_t n) {
  if (SX_UNLIKELY(!sx_fixnum_fits(n))) vm_error(S, "integer overflow");
  return sx_mkfix(n);
}

double vm_todouble(sx_val v) { return sx_is_fixnum(v) ? (double)sx_fixnum(v) : sx_flo(v); }

static const char *op_name(int op) {
  switch (op) {
  case '+': return "+";
  case '-': return "-";
  case '*': return "*";
  default: return "/";
  }
}

sx_val vm_arith(sx_state *S, int op, sx_val a, sx_val b) {
  if (!sx_is_number(a)) vm_type_error(S, op_name(op), "number", a, 1);
  if (!sx_is_number(b)) vm_type_error(S, op_name(op), "number", b, 2);
  if (sx_is_fixnum(a) && sx_is_fixnum(b)) {
    int64_t x = sx_fixnum(a), y = sx_fixnum(b), r;
    switch (op) {
    case '+': return vm_make_int(S, x + y); /* 62-bit operands cannot overflow 64 bits */
    case '-': return vm_make_int(S, x - y);
    case '*':
      if (__builtin_mul_overflow(x, y, &r)) vm_error(S, "integer overflow");
      return vm_make_int(S, r);
    default:
      if (y == 0) vm_error(S, "/: division by zero");
      if (x % y == 0) return vm_make_int(S, x / y);
      return vm_flonum(S, (double)x / (double)y);
    }
  }
  double x = vm_todouble(a), y = vm_todouble(b);
  switch (op) {
  case '+': return vm_flonum(S, x + y);
  case '-': return vm_flonum(S, x - y);
  case '*': return vm_flonum(S, x * y);
  default: return vm_flonum(S, x / y);
  }
}

/* -1, 0, 1 for <, =, >; 2 when unordered (a NaN is involved). */
int vm_numcmp(sx_state *S, sx_val a, sx_val b, const char *who) {
  if (!sx_is_number(a)) vm_type_error(S, who, "number", a, 1);
  if (!sx_is_number(b)) vm_type_error(S, who, "number", b, 2);
  if (sx_is_fixnum(a) && sx_is_fixnum(b)) {
    int64_t x = sx_fixnum(a), y = sx_fixnum(b);
    return x < y ? -1 : x > y;
  }
  if (sx_is_fixnum(a) != sx_is_fixnum(b)) {
    /* exact comparison of an integer with a double: compare in the wider domain */
    double d = sx_is_fixnum(a) ? sx_flo(b) : sx_flo(a);
    int64_t i = sx_is_fixnum(a) ? sx_fixnum(a) : sx_fixnum(b);
    int c;
    if (isnan(d)) return 2;
    if (d >= 9.3e18) c = -1;
    else if (d <= -9.3e18) c = 1;
    else {
      double fl = floor(d);
      int64_t di = (int64_t)fl;
      c = i < di ? -1 : i > di ? 1 : (d > fl ? -1 : 0);
    }
    return sx_is_fixnum(a) ? c : -c;
  }
  double x = vm_todouble(a), y = vm_todouble(b);
  if (isnan(x) || isnan(y)) return 2;
  return x < y ? -1 : x > y;
}

static int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

/* Parses s[0..n) as a number in the given radix; prefixes #x #b #o #d override it.
 * *ok false when it is not a number; *overflow true for an integer too large for a fixnum. */
sx_val vm_parse_number(sx_state *S, const char *s, size_t n, int radix, bool *ok,
                       bool *overflow) {
  *ok = false;
  *overflow = false;
  if (n >= 2 && s[0] == '#') {
    switch (s[1] | 0x20) {
    case 'x': radix = 16; break;
    case 'b': radix = 2; break;
    case 'o': radix = 8; break;
    case 'd': radix = 10; break;
    default: return SX_NIL;
    }
    s += 2, n -= 2;
  }
  if (n == 0 || n > 400) return SX_NIL;
  char buf[420];
  memcpy(buf, s, n);
  buf[n] = 0;
  if (!strcmp(buf, "+inf.0")) return *ok = true, vm_flonum(S, INFINITY);
  if (!strcmp(buf, "-inf.0")) return *ok = true, vm_flonum(S, -INFINITY);
  if (!strcmp(buf, "+nan.0") || !strcmp(buf, "-nan.0")) return *ok = true, vm_flonum(S, NAN);
  size_t i = 0;
  bool neg = false;
  if (buf[0] == '+' || buf[0] == '-') neg = buf[0] == '-', i = 1;
  if (i == n) return SX_NIL;
  /* integer? */
  size_t j = i;
  while (j < n && digit_value(buf[j]) < radix) j++;
  if (j == n) {
    uint64_t v = 0;
    for (size_t k = i; k < n; k++) {
      uint64_t d = (uint64_t)digit_value(buf[k]);
      if (v > (UINT64_MAX - d) / (uint64_t)radix) {
        *overflow = true;
        return SX_NIL;
      }
      v = v * (uint64_t)radix + d;
    }
    if (v > (uint64_t)SX_FIXNUM_MAX + (neg ? 1 : 0)) {
      *overflow = true;
      return SX_NIL;
    }
    *ok = true;
    return sx_mkfix(neg ? -(int64_t)v : (int64_t)v);
  }
  if (radix != 10) return SX_NIL;
  /* decimal float: digits [. digits] [e [sign] digits], with at least one digit */
  bool digits = false;
  j = i;
  while (j < n && buf[j] >= '0' && buf[j] <= '9') j++, digits = true;
  if (j < n && buf[j] == '.') {
    j++;
    while (j < n && buf[j] >= '0' && buf[j] <= '9') j++, digits = true;
  }
  if (!digits) return SX_NIL;
  if (j < n && (buf[j] == 'e' || buf[j] == 'E')) {
    j++;
    if (j < n && (buf[j] == '+' || buf[j] == '-')) j++;
    if (j == n || buf[j] < '0' || buf[j] > '9') return SX_NIL;
    while (j < n && buf[j] >= '0' && buf[j] <= '9') j++;
  }
  if (j != n) return SX_NIL;
  *ok = true;
  return vm_flonum(S, strtod(buf, NULL));
}
