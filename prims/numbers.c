/* numbers.c — arithmetic, comparison, rounding, transcendental and conversion primitives. */
#include <math.h>
#include <string.h>

#include "prims.h"

PRIM_FN(p_add) {
  sx_val acc = sx_mkfix(0);
  for (int i = 0; i < argc; i++) acc = vm_arith(S, '+', acc, argv[i]);
  return acc;
}

PRIM_FN(p_mul) {
  sx_val acc = sx_mkfix(1);
  for (int i = 0; i < argc; i++) acc = vm_arith(S, '*', acc, argv[i]);
  return acc;
}

PRIM_FN(p_sub) {
  if (argc == 1) return vm_arith(S, '-', sx_mkfix(0), argv[0]);
  sx_val acc = argv[0];
  for (int i = 1; i < argc; i++) acc = vm_arith(S, '-', acc, argv[i]);
  return acc;
}

PRIM_FN(p_div) {
  if (argc == 1) return vm_arith(S, '/', sx_mkfix(1), argv[0]);
  sx_val acc = argv[0];
  for (int i = 1; i < argc; i++) acc = vm_arith(S, '/', acc, argv[i]);
  return acc;
}

static void check_divisor(sx_state *S, const char *who, sx_val d) {
  if (sx_fixnum(d) == 0) vm_error(S, "%s: division by zero", who);
}

PRIM_FN(p_quotient) {
  UNUSED_ARGS;
  check_divisor(S, "quotient", argv[1]);
  return vm_make_int(S, INT(0) / INT(1));
}

PRIM_FN(p_remainder) {
  UNUSED_ARGS;
  check_divisor(S, "remainder", argv[1]);
  return sx_mkfix(INT(0) % INT(1));
}

PRIM_FN(p_modulo) {
  UNUSED_ARGS;
  check_divisor(S, "modulo", argv[1]);
  int64_t r = INT(0) % INT(1);
  if (r != 0 && ((r < 0) != (INT(1) < 0))) r += INT(1);
  return sx_mkfix(r);
}

PRIM_FN(p_abs) {
  UNUSED_ARGS;
  if (sx_is_fixnum(argv[0])) return vm_make_int(S, INT(0) < 0 ? -INT(0) : INT(0));
  return vm_flonum(S, fabs(sx_flo(argv[0])));
}

static sx_val minmax(sx_state *S, int argc, sx_val *argv, int sign) {
  sx_val best = argv[0];
  bool inexact = sx_is_flonum(best);
  for (int i = 1; i < argc; i++) {
    if (sx_is_flonum(argv[i])) inexact = true;
    int c = vm_numcmp(S, argv[i], best, sign > 0 ? "max" : "min");
    if (c == 2) {
      best = vm_flonum(S, NAN);
      inexact = true;
    } else if (c == sign) {
      best = argv[i];
    }
  }
  if (inexact && sx_is_fixnum(best)) return vm_flonum(S, (double)sx_fixnum(best));
  return best;
}

PRIM_FN(p_min) { return minmax(S, argc, argv, -1); }
PRIM_FN(p_max) { return minmax(S, argc, argv, 1); }

static sx_val rounding(sx_state *S, sx_val x, double (*f)(double)) {
  if (sx_is_fixnum(x)) return x;
  return vm_flonum(S, f(sx_flo(x)));
}

PRIM_FN(p_floor) { UNUSED_ARGS; return rounding(S, argv[0], floor); }
PRIM_FN(p_ceiling) { UNUSED_ARGS; return rounding(S, argv[0], ceil); }
PRIM_FN(p_round) { UNUSED_ARGS; return rounding(S, argv[0], nearbyint); }
PRIM_FN(p_truncate) { UNUSED_ARGS; return rounding(S, argv[0], trunc); }

PRIM_FN(p_sqrt) {
  UNUSED_ARGS;
  if (sx_is_fixnum(argv[0]) && INT(0) >= 0) {
    int64_t n = INT(0);
    int64_t r = (int64_t)sqrt((double)n);
    while (r * r > n) r--;
    while ((r + 1) * (r + 1) <= n) r++;
    if (r * r == n) return sx_mkfix(r);
  }
  return vm_flonum(S, sqrt(vm_todouble(argv[0])));
}

PRIM_FN(p_expt) {
  UNUSED_ARGS;
  sx_val b = argv[0], e = argv[1];
  if (sx_is_fixnum(b) && sx_is_fixnum(e) && INT(1) >= 0) {
    int64_t base = INT(0), ex = INT(1), r = 1;
    while (ex > 0) {
      if (ex & 1) {
        if (__builtin_mul_overflow(r, base, &r) || !sx_fixnum_fits(r))
          vm_error(S, "expt: integer overflow");
      }
      ex >>= 1;
      if (ex && (__builtin_mul_overflow(base, base, &base) || !sx_fixnum_fits(base)))
        vm_error(S, "expt: integer overflow");
    }
    return sx_mkfix(r);
  }
  return vm_flonum(S, pow(vm_todouble(b), vm_todouble(e)));
}

PRIM_FN(p_exp) { UNUSED_ARGS; return vm_flonum(S, exp(vm_todouble(argv[0]))); }
PRIM_FN(p_log) {
  if (argc == 2) return vm_flonum(S, log(vm_todouble(argv[0])) / log(vm_todouble(argv[1])));
  return vm_flonum(S, log(vm_todouble(argv[0])));
}
PRIM_FN(p_sin) { UNUSED_ARGS; return vm_flonum(S, sin(vm_todouble(argv[0]))); }
PRIM_FN(p_cos) { UNUSED_ARGS; return vm_flonum(S, cos(vm_todouble(argv[0]))); }
PRIM_FN(p_tan) { UNUSED_ARGS; return vm_flonum(S, tan(vm_todouble(argv[0]))); }
PRIM_FN(p_atan) {
  if (argc == 2) return vm_flonum(S, atan2(vm_todouble(argv[0]), vm_todouble(argv[1])));
  return vm_flonum(S, atan(vm_todouble(argv[0])));
}

PRIM_FN(p_number_to_string) {
  int radix = argc > 1 ? (int)INT(1) : 10;
  if (radix != 2 && radix != 8 && radix != 10 && radix != 16)
    vm_error_irritant(S, argv[1], "number->string: radix must be 2, 8, 10 or 16");
  if (sx_is_fixnum(argv[0]) && radix != 10) {
    char buf[80], *p = buf + sizeof buf - 1;
    int64_t n = INT(0);
    uint64_t u = n < 0 ? (uint64_t)(-n) : (uint64_t)n;
    *p = 0;
    do {
      *--p = "0123456789abcdef"[u % (uint64_t)radix];
      u /= (uint64_t)radix;
    } while (u);
    if (n < 0) *--p = '-';
    return vm_cstring(S, p);
  }
  return vm_to_string(S, argv[0], true);
}

PRIM_FN(p_string_to_number) {
  int radix = argc > 1 ? (int)INT(1) : 10;
  if (radix != 2 && radix != 8 && radix != 10 && radix != 16)
    vm_error_irritant(S, argv[1], "string->number: radix must be 2, 8, 10 or 16");
  bool ok, overflow;
  sx_val r = vm_parse_number(S, STR(argv[0])->data, STR(argv[0])->nbytes, radix, &ok, &overflow);
  return ok ? r : SX_FALSE;
}

PRIM_FN(p_inexact) {
  UNUSED_ARGS;
  return sx_is_fixnum(argv[0]) ? vm_flonum(S, (double)INT(0)) : argv[0];
}

PRIM_FN(p_exact) {
  UNUSED_ARGS;
  if (sx_is_fixnum(argv[0])) return argv[0];
  double d = sx_flo(argv[0]);
  if (d != floor(d) || isinf(d) || isnan(d))
    vm_error_irritant(S, argv[0], "inexact->exact: no exact integer for this number");
  if (d < -2.305843009213694e18 || d >= 2.305843009213694e18) vm_error(S, "inexact->exact: integer overflow");
  return sx_mkfix((int64_t)d);
}

PRIM_FN(p_numberp) { UNUSED_ARGS; return sx_bool(sx_is_number(argv[0])); }
PRIM_FN(p_integerp) {
  UNUSED_ARGS;
  sx_val v = argv[0];
  return sx_bool(sx_is_fixnum(v) ||
                 (sx_is_flonum(v) && isfinite(sx_flo(v)) && sx_flo(v) == floor(sx_flo(v))));
}
PRIM_FN(p_floatp) { UNUSED_ARGS; return sx_bool(sx_is_flonum(argv[0])); }
PRIM_FN(p_zerop) { UNUSED_ARGS; return sx_bool(vm_todouble(argv[0]) == 0); }
PRIM_FN(p_positivep) { UNUSED_ARGS; return sx_bool(vm_todouble(argv[0]) > 0); }
PRIM_FN(p_negativep) { UNUSED_ARGS; return sx_bool(vm_todouble(argv[0]) < 0); }
PRIM_FN(p_oddp) { UNUSED_ARGS; return sx_bool(INT(0) & 1); }
PRIM_FN(p_evenp) { UNUSED_ARGS; return sx_bool(!(INT(0) & 1)); }
PRIM_FN(p_nanp) { UNUSED_ARGS; return sx_bool(sx_is_flonum(argv[0]) && isnan(sx_flo(argv[0]))); }

static sx_val compare_chain(sx_state *S, int argc, sx_val *argv, const char *who, int want) {
  bool result = true;
  for (int i = 0; i + 1 < argc; i++) {
    int c = vm_numcmp(S, argv[i], argv[i + 1], who);
    bool ok;
    switch (want) {
    case 0: ok = c == 0; break;
    case 1: ok = c == -1; break;       /* < */
    case 2: ok = c == 1; break;        /* > */
    case 3: ok = c == -1 || c == 0; break; /* <= */
    default: ok = c == 1 || c == 0; break; /* >= */
    }
    if (!ok) result = false; /* keep checking the kinds of the rest */
  }
  return sx_bool(result);
}

PRIM_FN(p_numeq) { return compare_chain(S, argc, argv, "=", 0); }
PRIM_FN(p_lt) { return compare_chain(S, argc, argv, "<", 1); }
PRIM_FN(p_gt) { return compare_chain(S, argc, argv, ">", 2); }
PRIM_FN(p_le) { return compare_chain(S, argc, argv, "<=", 3); }
PRIM_FN(p_ge) { return compare_chain(S, argc, argv, ">=", 4); }

const prim_impl prim_numbers[] = {
    {"+", p_add},
    {"-", p_sub},
    {"*", p_mul},
    {"/", p_div},
    {"quotient", p_quotient},
    {"remainder", p_remainder},
    {"modulo", p_modulo},
    {"abs", p_abs},
    {"min", p_min},
    {"max", p_max},
    {"floor", p_floor},
    {"ceiling", p_ceiling},
    {"round", p_round},
    {"truncate", p_truncate},
    {"sqrt", p_sqrt},
    {"expt", p_expt},
    {"exp", p_exp},
    {"log", p_log},
    {"sin", p_sin},
    {"cos", p_cos},
    {"tan", p_tan},
    {"atan", p_atan},
    {"number->string", p_number_to_string},
    {"string->number", p_string_to_number},
    {"exact->inexact", p_inexact},
    {"inexact->exact", p_exact},
    {"exact", p_exact},
    {"inexact", p_inexact},
    {"number?", p_numberp},
    {"integer?", p_integerp},
    {"float?", p_floatp},
    {"zero?", p_zerop},
    {"positive?", p_positivep},
    {"negative?", p_negativep},
    {"odd?", p_oddp},
    {"even?", p_evenp},
    {"nan?", p_nanp},
    {"=", p_numeq},
    {"<", p_lt},
    {">", p_gt},
    {"<=", p_le},
    {">=", p_ge},
    {NULL, NULL},
};
