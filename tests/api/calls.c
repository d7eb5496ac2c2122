/* calls.c — evaluation, sx_call, host functions and sx_raise, in the VM and in native code:
 * syntax and runtime errors with messages and backtraces, deep recursion, and reentrancy
 * (C -> SX -> C -> SX) with errors raised and caught at every level. Scripts: calls.sx,
 * runtime_error.sx, syntax_error.sx. */
#include "check.h"

static sx_value host_add(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)argc;
  int64_t a, b;
  if (!sx_get_int(argv[0], &a) || !sx_get_int(argv[1], &b))
    return sx_raise(S, "host-add: expected integers, got %s and %s", sx_type_name(argv[0]),
                    sx_type_name(argv[1]));
  ++*(int *)ud;
  return sx_make_int(S, a + b);
}

static sx_value host_fail(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)argc, (void)ud;
  const char *msg = sx_get_string(argv[0], NULL);
  return sx_raise(S, "%s", msg ? msg : "host-fail");
}


/* (host-try thunk): (status message), swallowing whatever the thunk raised */
static sx_value host_try(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)argc, (void)ud;
  sx_value out;
  sx_status st = sx_call(S, argv[0], 0, NULL, &out);
  sx_value items[2] = {sx_make_int(S, st), sx_make_string(S, sx_error_message(S), (size_t)-1)};
  return sx_make_list(S, 2, items);
}

static sx_value returns_none(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)S, (void)argc, (void)argv, (void)ud;
  return SX_NONE;
}

static sx_value returns_bad_string(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)argc, (void)argv, (void)ud;
  return sx_make_string(S, "\xff", 1);
}

static sx_value count_args(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)argv;
  return sx_make_int(S, argc * 1000 + (int)(intptr_t)ud);
}

static sx_value version_a(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)argc, (void)argv, (void)ud;
  return sx_make_keyword(S, "a");
}

static sx_value version_b(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)argc, (void)argv, (void)ud;
  return sx_make_keyword(S, "b");
}

static int adds;

static sx_value call_global(sx_state *S, const char *name, int argc, const sx_value *argv,
                            sx_status *st) {
  sx_value fn, out = SX_NONE;
  *st = sx_get_global(S, name, &fn);
  if (*st == SX_OK) *st = sx_call(S, fn, argc, argv, &out);
  return out;
}

static void run(int native) {
  const char *tier = native ? "native" : "vm";
  sx_state *S = open_tier(native, SX_CAP_EVAL);
  sx_status st;
  sx_value v;

  /* ---- registration */
  CHECK(sx_register(S, "host-add", host_add, 2, 2, &adds) == SX_OK, "register host-add");
  CHECK(sx_register(S, "host-fail", host_fail, 1, 1, NULL) == SX_OK, "register host-fail");
  CHECK(sx_register(S, "host-call", host_call, 1, -1, NULL) == SX_OK, "register host-call");
  CHECK(sx_register(S, "host-try", host_try, 1, 1, NULL) == SX_OK, "register host-try");
  CHECK(sx_register(S, "host-none", returns_none, 0, 0, NULL) == SX_OK, "register host-none");
  CHECK(sx_register(S, "host-bad", returns_bad_string, 0, 0, NULL) == SX_OK, "host-bad");
  CHECK(sx_register(S, "host-count", count_args, 0, 3, (void *)7) == SX_OK, "host-count");
  CHECK(sx_register(S, "car", host_add, 2, 2, NULL) == SX_ERR_RUNTIME &&
            strstr(sx_error_message(S), "builtin"),
        "a builtin cannot be taken: %s", sx_error_message(S));
  CHECK(sx_register(S, "foldl", host_add, 2, 2, NULL) == SX_ERR_RUNTIME, "nor a prelude one");
  CHECK(sx_register(S, "if", host_add, 2, 2, NULL) == SX_ERR_RUNTIME, "nor a special form");
  CHECK(sx_register(S, "x", host_add, 3, 2, NULL) == SX_ERR_RUNTIME, "max below min");
  CHECK(sx_register(S, "", host_add, 0, 0, NULL) == SX_ERR_RUNTIME, "empty name");
  CHECK(sx_register(S, "y", NULL, 0, 0, NULL) == SX_ERR_RUNTIME, "NULL function");

  CHECK(sx_eval_file(S, "tests/api/calls.sx", &v) == SX_OK, "[%s] load calls.sx: %s", tier,
        sx_error_message(S));

  /* ---- host functions from SX */
  adds = 0;
  CHECK_EVAL(S, "(host-add 40 2)", "42");
  CHECK_EVAL(S, "(add-via-host 1 2)", "3");
  CHECK_EVAL(S, "(twice-via-host 21)", "42");
  CHECK_EVAL(S, "(map (fn (x) (host-add x 1)) '(1 2 3))", "(2 3 4)");
  CHECK_EVAL(S, "(apply host-add '(5 6))", "11");
  CHECK(adds == 1 + 1 + 2 + 3 + 1, "[%s] userdata reached the function: %d calls", tier, adds);
  CHECK_EVAL(S, "(list (host-count) (host-count 1 2 3))", "(7 3007)");
  CHECK_EVAL(S, "host-add", "#<primitive host-add>");
  CHECK_EVAL(S, "(procedure? host-add)", "true");
  CHECK_EVAL(S, "(eval-string \"(host-add 2 2)\")", "4"); /* a builtin: every environment */
  CHECK(strstr(eval_show(S, "(host-add 1)"), "wrong number of arguments") != NULL,
        "[%s] arity checked by the VM: %s", tier, eval_show(S, "(host-add 1)"));
  CHECK(strstr(eval_show(S, "(host-count 1 2 3 4)"), "takes 0 to 3") != NULL, "max checked");
  CHECK(strstr(eval_show(S, "(host-add 1 \"x\")"), "expected integers, got integer and string"),
        "[%s] sx_raise message: %s", tier, eval_show(S, "(host-add 1 \"x\")"));
  CHECK(strstr(eval_show(S, "(set! host-add 1)"), "cannot assign the builtin") != NULL,
        "set! of a host function refused");
  CHECK(strstr(eval_show(S, "(host-none)"), "host-none: host function returned no value"),
        "SX_NONE without a reason: %s", eval_show(S, "(host-none)"));
  CHECK(strstr(eval_show(S, "(host-bad)"), "invalid UTF-8"),
        "a failed constructor's reason is raised: %s", eval_show(S, "(host-bad)"));
  CHECK_EVAL(S, "(try (host-bad) (catch e :caught))", ":caught");

  /* registered after code that uses it was compiled; replaced in place */
  CHECK(sx_eval_string(S, "(define (use-late) (late-fn))", "t", NULL) == SX_OK, "define");
  CHECK(strstr(eval_show(S, "(use-late)"), "unbound variable: late-fn"), "unbound before");
  CHECK(sx_register(S, "late-fn", version_a, 0, 0, NULL) == SX_OK, "register late");
  CHECK_EVAL(S, "(use-late)", ":a");
  CHECK(sx_eval_string(S, "(define (use-late2) (late-fn))", "t", NULL) == SX_OK, "define 2");
  CHECK(sx_register(S, "late-fn", version_b, 0, 0, NULL) == SX_OK, "register again");
  CHECK_EVAL(S, "(list (use-late) (use-late2) (late-fn))", "(:b :b :b)");

  /* ---- sx_raise caught by try, at this level and one further in */
  CHECK_EVAL(S, "(try (host-fail \"boom\") (catch e (error-message e)))", "\"boom\"");
  CHECK_EVAL(S, "(catch-host-fail \"x\")", "\"x\"");
  CHECK_EVAL(S, "(try (host-raises-inside) (catch e (error-message e)))",
             "\"raised in C at level 2\"");
  /* sx_raise outside a host function: no unwinding, only the message */
  CHECK(sx_raise(S, "not in a host function %d", 1) == SX_NONE &&
            strstr(sx_error_message(S), "not in a host function 1"),
        "sx_raise from main");
  CHECK(sx_raise_value(S, sx_nil()) == SX_NONE, "sx_raise_value from main");
  CHECK_EVAL(S, "(+ 1 2)", "3");

  /* ---- sx_call */
  sx_value arg = sx_make_int(S, 7);
  v = call_global(S, "square", 1, &arg, &st);
  int64_t n = 0;
  CHECK(st == SX_OK && sx_get_int(v, &n) && n == 49, "[%s] sx_call square", tier);
  sx_value lst[3] = {sx_make_int(S, 1), sx_make_int(S, 2), sx_make_int(S, 3)};
  sx_value l = sx_make_list(S, 3, lst);
  v = call_global(S, "sum-list", 1, &l, &st);
  CHECK(st == SX_OK && sx_get_int(v, &n) && n == 6, "sx_call sum-list");
  v = call_global(S, "car", 1, &l, &st);
  CHECK(st == SX_OK && v == lst[0], "sx_call of a primitive");
  sx_value two[2] = {sx_make_int(S, 3), sx_make_int(S, 4)};
  v = call_global(S, "host-add", 2, two, &st);
  CHECK(st == SX_OK && sx_get_int(v, &n) && n == 7, "sx_call of a host function");
  sx_value applyargs[2] = {SX_NONE, l};
  sx_get_global(S, "+", &applyargs[0]);
  v = call_global(S, "apply", 2, applyargs, &st);
  CHECK(st == SX_OK && sx_get_int(v, &n) && n == 6, "sx_call of apply");
  st = sx_call(S, sx_make_int(S, 5), 0, NULL, &v);
  CHECK(st == SX_ERR_RUNTIME && strstr(sx_error_message(S), "not a procedure"),
        "sx_call of a non-procedure: %s", sx_error_message(S));
  v = call_global(S, "square", 0, NULL, &st);
  CHECK(st == SX_ERR_RUNTIME && strstr(sx_error_message(S), "wrong number of arguments"),
        "sx_call arity");
  v = call_global(S, "square", 1, (sx_value[]){SX_NONE}, &st);
  CHECK(st == SX_ERR_RUNTIME && strstr(sx_error_message(S), "SX_NONE"), "SX_NONE argument");
  CHECK(sx_call(S, SX_NONE, 0, NULL, &v) == SX_ERR_RUNTIME, "SX_NONE procedure");
  CHECK(sx_call(S, sx_nil(), -1, NULL, &v) == SX_ERR_RUNTIME, "negative argc");
  sx_value err = sx_make_string(S, "x", 1);
  v = call_global(S, "square", 1, &err, &st);
  CHECK(st == SX_ERR_RUNTIME && strstr(sx_error_message(S), "expected number") &&
            sx_type_of(sx_last_error(S)) == SX_TYPE_ERROR,
        "sx_call runtime error: %s", sx_error_message(S));
  CHECK(strstr(sx_error_backtrace(S), "square") != NULL, "[%s] backtrace names square: %s",
        tier, sx_error_backtrace(S));

  /* ---- reentrancy: C -> SX -> C -> SX -> C -> SX with errors at each level */
  sx_value zero = sx_make_int(S, 0), one = sx_make_int(S, 1);
  v = call_global(S, "level1", 1, &one, &st);
  CHECK(st == SX_OK && sx_get_int(v, &n) && n == 102, "[%s] three levels: %lld", tier,
        (long long)n);
  v = call_global(S, "level1", 1, &zero, &st);
  CHECK(st == SX_ERR_RUNTIME && strstr(sx_error_message(S), "deep failure"),
        "[%s] innermost error crosses every level: %s", tier, sx_error_message(S));
  /* compiled code keeps no frame for a tail call (here: level3's call of error) */
  CHECK(native || strstr(sx_error_backtrace(S), "level3") != NULL,
        "[%s] backtrace from level 3: %s", tier, sx_error_backtrace(S));
  v = call_global(S, "level1-catching", 1, &zero, &st);
  CHECK(st == SX_OK && !strcmp(sx_to_string(S, v, 0), "level1 caught: deep failure"),
        "[%s] caught two levels out: %s", tier, sx_to_string(S, v, 0));
  v = call_global(S, "level1-via-catching", 1, &zero, &st);
  CHECK(st == SX_OK && !strcmp(sx_to_string(S, v, 0), "level2 caught: deep failure"),
        "[%s] caught one level out: %s", tier, sx_to_string(S, v, 0));
  CHECK(strstr(eval_show(S, "(level1 0)"),
               native ? "error: deep failure 0" : "calls.sx:10:32: error: deep failure 0"),
        "[%s] the innermost position: %s", tier, eval_show(S, "(level1 0)"));
  CHECK_EVAL(S, "(try (level1 0) (catch e (error-irritants e)))", "(0)");
  CHECK(!strncmp(eval_show(S, "(swallow-error)"), "(2 \"", 4) &&
            strstr(eval_show(S, "(swallow-error)"), "error: car: expected pair"),
        "[%s] a host function swallows an error: %s", tier, eval_show(S, "(swallow-error)"));
  CHECK_EVAL(S, "(through-host 200)", "200");
  /* the C stack ends before the host's: a clean error, never a crash */
  const char *r = eval_show(S, "(through-host 1000000)");
  CHECK(strstr(r, "stack overflow") != NULL, "[%s] unbounded C -> SX -> C recursion: %.200s",
        tier, r);
  CHECK_EVAL(S, "(through-host 100)", "100");
  CHECK_EVAL(S, "(level1 2)", "202");

  /* ---- deep recursion */
  /* compiled recursion runs on the C stack: shallower than the VM's 200,000 frames */
  CHECK_EVAL(S, native ? "(deep 10000)" : "(deep 100000)", native ? "10000" : "100000");
  r = eval_show(S, "(deep 10000000)");
  CHECK(!strncmp(r, "!2:", 3) && strstr(r, "stack overflow"), "[%s] too deep: %s", tier, r);
  CHECK_EVAL(S, "(try (deep 10000000) (catch e :overflow-caught))", ":overflow-caught");
  CHECK_EVAL(S, "(deep 1000)", "1000");
  sx_close(S);

  sx_config cfg = {0};
  cfg.max_frames = 500;
  cfg.jit_threshold = native ? 1 : -1;
  cfg.jit_sync = 1;
  cfg.capabilities = native ? SX_CAP_NATIVE : 0;
  S = sx_open(&cfg);
  CHECK_EVAL(S, "(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1))))) (deep 400)", "400");
  if (!native) /* native frames are bounded by the C stack, not max_frames */
    CHECK(strstr(eval_show(S, "(deep 600)"), "stack overflow") != NULL, "max_frames 500");
  sx_close(S);
}

int main(void) {
  /* errors from evaluation: messages, positions, backtraces */
  sx_state *S = sx_open(NULL);
  sx_value v;
  sx_status st = sx_eval_string(S, "(+ 1 2", "chunk-a", &v);
  CHECK(st == SX_ERR_SYNTAX && strstr(sx_error_message(S), "chunk-a:1:"),
        "syntax error with the chunk name: %d %s", st, sx_error_message(S));
  CHECK(sx_eval_string(S, ")", "c", &v) == SX_ERR_SYNTAX, "stray )");
  CHECK(sx_eval_string(S, "\"abc", "c", &v) == SX_ERR_SYNTAX, "unterminated string");
  CHECK(sx_eval_string(S, "#\\nosuchchar", "c", &v) == SX_ERR_SYNTAX, "bad character");
  CHECK(sx_eval_string(S, "99999999999999999999999", "c", &v) == SX_ERR_SYNTAX, "big literal");
  st = sx_eval_file(S, "tests/api/syntax_error.sx", &v);
  CHECK(st == SX_ERR_SYNTAX && strstr(sx_error_message(S), "syntax_error.sx"),
        "syntax error in a file: %s", sx_error_message(S));
  CHECK(sx_get_global(S, "evaluated-before-the-error", &v) != SX_OK,
        "nothing of a file with a syntax error ran");
  st = sx_eval_file(S, "tests/api/runtime_error.sx", &v);
  CHECK(st == SX_ERR_RUNTIME && strstr(sx_error_message(S), "runtime_error.sx:4:") &&
            strstr(sx_error_message(S), "out of range"),
        "runtime error in a file, with its line: %s", sx_error_message(S));
  const char *bt = sx_error_backtrace(S);
  const char *pi = strstr(bt, "inner"), *pm = strstr(bt, "middle"), *po = strstr(bt, "outer");
  CHECK(pi && pm && po && pi < pm && pm < po && strstr(bt, "runtime_error.sx:5"),
        "backtrace innermost first with lines: %s", bt);
  CHECK(sx_eval_file(S, "tests/api/no-such-file.sx", &v) == SX_ERR_RUNTIME &&
            strstr(sx_error_message(S), "cannot open"),
        "missing file");
  CHECK(sx_eval_string(S, "(raise {:code 42})", "c", &v) == SX_ERR_RUNTIME &&
            strstr(sx_error_message(S), "uncaught raise: {:code 42}") &&
            sx_type_of(sx_last_error(S)) == SX_TYPE_DICT,
        "raise of a non-error: %s", sx_error_message(S));
  CHECK(sx_eval_string(S, "(error \"bad thing\" 1 \"two\")", "c", &v) == SX_ERR_RUNTIME &&
            !strcmp(sx_error_message(S), "c:1:1: error: bad thing 1 \"two\""),
        "error with irritants: %s", sx_error_message(S));
  CHECK(sx_eval_string(S, "(+ 1 2)", "c", &v) == SX_OK && !strcmp(sx_error_message(S), ""),
        "message cleared by a good evaluation");
  sx_close(S);

  run(0);
  run(1);
  return finish();
}
