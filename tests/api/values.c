/* values.c — values across the boundary: every constructor, accessor and type predicate, the
 * failures that must come back as SX_NONE with a message (never an abort), globals, versions. */
#include <unistd.h>

#include "check.h"

static int finalized;
static void count_final(void *p) { finalized += *(int *)p; }

int main(void) {
  sx_state *S = sx_open(NULL);
  CHECK(S != NULL, "sx_open(NULL)");

  /* versions */
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", SX_VERSION_MAJOR, SX_VERSION_MINOR, SX_VERSION_PATCH);
  CHECK(!strcmp(sx_version(), want), "sx_version %s, header %s", sx_version(), want);
  CHECK(sx_version_number() == SX_VERSION_NUMBER, "sx_version_number %d", sx_version_number());

  /* immediates */
  CHECK(sx_type_of(sx_nil()) == SX_TYPE_NIL, "nil type");
  CHECK(!strcmp(sx_to_string(S, sx_nil(), 1), "nil"), "nil prints");
  CHECK(sx_type_of(sx_make_bool(1)) == SX_TYPE_BOOLEAN, "bool type");
  int b = -1;
  CHECK(sx_get_bool(sx_make_bool(0), &b) && b == 0, "false reads back");
  CHECK(sx_get_bool(sx_make_bool(7), &b) && b == 1, "true reads back");
  CHECK(!sx_get_bool(sx_nil(), &b), "nil is no boolean");
  CHECK(sx_is_true(sx_make_bool(1)) && !sx_is_true(sx_make_bool(0)) && !sx_is_true(sx_nil()) &&
            sx_is_true(sx_empty_list()) && !sx_is_true(SX_NONE),
        "truthiness: only false and nil are false");
  CHECK(sx_type_of(sx_empty_list()) == SX_TYPE_EMPTY && sx_length(sx_empty_list()) == 0, "()");
  CHECK(sx_type_of(SX_NONE) == SX_TYPE_NONE && !strcmp(sx_type_name(SX_NONE), "none"), "none");

  /* integers: 62-bit, range-checked */
  int64_t n = 0;
  sx_value v = sx_make_int(S, 42);
  CHECK(sx_type_of(v) == SX_TYPE_INTEGER && sx_get_int(v, &n) && n == 42, "42");
  v = sx_make_int(S, SX_INTEGER_MAX);
  CHECK(sx_get_int(v, &n) && n == SX_INTEGER_MAX, "max integer");
  v = sx_make_int(S, SX_INTEGER_MIN);
  CHECK(sx_get_int(v, &n) && n == SX_INTEGER_MIN, "min integer");
  CHECK(!strcmp(sx_to_string(S, v, 1), "-2305843009213693952"), "min integer prints");
  v = sx_make_int(S, SX_INTEGER_MAX + 1);
  CHECK(v == SX_NONE && strstr(sx_error_message(S), "62-bit"), "max+1 refused: %s",
        sx_error_message(S));
  CHECK(sx_make_int(S, INT64_MIN) == SX_NONE, "INT64_MIN refused");
  double d = 0;
  CHECK(sx_get_float(sx_make_int(S, 3), &d) && d == 3.0, "an integer as a float");

  /* floats */
  v = sx_make_float(S, 2.5);
  CHECK(sx_type_of(v) == SX_TYPE_FLOAT && sx_get_float(v, &d) && d == 2.5, "2.5");
  CHECK(!sx_get_int(v, &n), "a float is no integer");
  CHECK(!strcmp(sx_to_string(S, sx_make_float(S, 1.0 / 0.0), 1), "+inf.0"), "inf prints");

  /* characters */
  uint32_t c = 0;
  v = sx_make_char(S, 0x3bb);
  CHECK(sx_type_of(v) == SX_TYPE_CHAR && sx_get_char(v, &c) && c == 0x3bb, "lambda char");
  CHECK(sx_make_char(S, 0xd800) == SX_NONE && sx_make_char(S, 0x110000) == SX_NONE,
        "surrogates and out-of-range code points refused");

  /* strings: UTF-8 with a length; NULs allowed; invalid UTF-8 is an error, never an abort */
  size_t len = 0;
  v = sx_make_string(S, "h\xc3\xa9llo", (size_t)-1);
  CHECK(sx_type_of(v) == SX_TYPE_STRING && sx_length(v) == 5, "string of 5 code points");
  const char *s = sx_get_string(v, &len);
  CHECK(s && len == 6 && !strcmp(s, "h\xc3\xa9llo"), "string bytes back");
  v = sx_make_string(S, "a\0b", 3);
  s = sx_get_string(v, &len);
  CHECK(s && len == 3 && s[1] == 0 && s[2] == 'b', "NUL inside a string");
  v = sx_make_string(S, "bad \xff\xfe", (size_t)-1);
  CHECK(v == SX_NONE && strstr(sx_error_message(S), "UTF-8"), "invalid UTF-8: %s",
        sx_error_message(S));
  CHECK(sx_make_string(S, "\xe2\x82", 2) == SX_NONE, "truncated sequence refused");
  CHECK(sx_make_string(S, NULL, 3) == SX_NONE, "NULL text refused");
  CHECK(sx_get_string(sx_make_int(S, 1), &len) == NULL, "an integer is no string");

  /* symbols and keywords */
  v = sx_make_symbol(S, "foo-bar");
  CHECK(sx_type_of(v) == SX_TYPE_SYMBOL && !strcmp(sx_get_name(v), "foo-bar"), "symbol");
  CHECK(v == sx_make_symbol(S, "foo-bar"), "symbols are interned");
  v = sx_make_keyword(S, ":size");
  CHECK(sx_type_of(v) == SX_TYPE_KEYWORD && !strcmp(sx_get_name(v), "size"), "keyword");
  CHECK(v == sx_make_keyword(S, "size"), "the ':' is optional");
  CHECK(!strcmp(sx_to_string(S, v, 1), ":size"), "keyword prints");
  CHECK(sx_make_symbol(S, "") == SX_NONE && sx_make_symbol(S, "\xc0") == SX_NONE,
        "empty and invalid names refused");
  CHECK(sx_get_name(sx_make_string(S, "x", 1)) == NULL, "a string has no name");

  /* lists */
  sx_value items[3] = {sx_make_int(S, 1), sx_make_string(S, "two", 3), sx_make_keyword(S, "k")};
  sx_value l = sx_make_list(S, 3, items);
  CHECK(sx_type_of(l) == SX_TYPE_PAIR && sx_length(l) == 3, "list of 3");
  CHECK(!strcmp(sx_to_string(S, l, 1), "(1 \"two\" :k)"), "list prints: %s", sx_to_string(S, l, 1));
  CHECK(sx_first(l) == items[0] && sx_first(sx_rest(l)) == items[1], "first and rest");
  CHECK(sx_first(sx_nil()) == SX_NONE && sx_rest(sx_make_int(S, 1)) == SX_NONE, "not pairs");
  v = sx_make_cons(S, items[0], items[1]);
  CHECK(!strcmp(sx_to_string(S, v, 1), "(1 . \"two\")") && sx_length(v) == -1, "dotted pair");
  CHECK(sx_make_list(S, 0, NULL) == sx_empty_list(), "empty list");
  sx_value holey[2] = {items[0], SX_NONE};
  CHECK(sx_make_list(S, 2, holey) == SX_NONE && strstr(sx_error_message(S), "SX_NONE"),
        "SX_NONE inside a list refused");

  /* vectors */
  v = sx_make_vector(S, 3, items);
  CHECK(sx_type_of(v) == SX_TYPE_VECTOR && sx_length(v) == 3 && sx_vector_ref(v, 2) == items[2],
        "vector");
  CHECK(sx_vector_ref(v, 3) == SX_NONE, "vector index out of range");
  CHECK(sx_vector_set(S, v, 0, sx_make_int(S, 9)) == SX_OK &&
            !strcmp(sx_to_string(S, v, 1), "[9 \"two\" :k]"),
        "vector-set");
  CHECK(sx_vector_set(S, v, 5, sx_nil()) == SX_ERR_RUNTIME &&
            strstr(sx_error_message(S), "out of range"),
        "vector-set out of range: %s", sx_error_message(S));
  CHECK(sx_vector_set(S, l, 0, sx_nil()) == SX_ERR_RUNTIME, "vector-set of a list");
  CHECK(!strcmp(sx_to_string(S, sx_make_vector(S, 2, NULL), 1), "[nil nil]"), "vector of nils");

  /* dicts */
  sx_value dct = sx_make_dict(S);
  CHECK(sx_type_of(dct) == SX_TYPE_DICT && sx_length(dct) == 0, "empty dict");
  CHECK(sx_dict_set(S, dct, sx_make_keyword(S, "b"), sx_make_int(S, 2)) == SX_OK &&
            sx_dict_set(S, dct, sx_make_keyword(S, "a"), sx_nil()) == SX_OK &&
            sx_dict_set(S, dct, sx_make_string(S, "k", 1), sx_make_int(S, 3)) == SX_OK,
        "dict-set");
  CHECK(sx_length(dct) == 3, "3 entries");
  CHECK(sx_dict_get(S, dct, sx_make_keyword(S, "a")) == sx_nil(), "present with nil value");
  CHECK(sx_dict_get(S, dct, sx_make_keyword(S, "zz")) == SX_NONE, "absent key");
  CHECK(sx_dict_get(S, dct, sx_make_string(S, "k", 1)) == sx_make_int(S, 3), "equal? keys");
  CHECK(!strcmp(sx_to_string(S, sx_dict_keys(S, dct), 1), "(:b :a \"k\")"), "keys in order");
  CHECK(sx_dict_set(S, l, sx_nil(), sx_nil()) == SX_ERR_RUNTIME, "dict-set of a list");

  /* arrays: a pointer to the f64 data */
  double data[6] = {1, 2, 3, 4, 5, 6};
  sx_value a = sx_make_array(S, 2, 3, data);
  size_t rows = 0, cols = 0;
  double *p = sx_get_array(S, a, &rows, &cols);
  CHECK(sx_type_of(a) == SX_TYPE_ARRAY && p && rows == 2 && cols == 3 && p[5] == 6.0,
        "2x3 array");
  CHECK(sx_length(a) == 6, "6 elements");
  p[0] = 10.5;
  CHECK(sx_set_global(S, "arr", a) == SX_OK, "array as a global");
  CHECK_EVAL(S, "(array-ref arr 0 0)", "10.5");
  CHECK_EVAL(S, "(array-sum arr)", "30.5");
  a = sx_make_array(S, 4, 0, NULL);
  p = sx_get_array(S, a, &rows, &cols);
  CHECK(p && rows == 4 && cols == 0 && p[0] == 0 && p[3] == 0, "zeroed 1-D array");
  CHECK(sx_make_array(S, (size_t)1 << 40, 0, NULL) == SX_NONE, "huge array refused: %s",
        sx_error_message(S));
  sx_value fromsx;
  sx_eval_string(S, "(define fa (array 1 2 3)) (array-free! fa) fa", "t", &fromsx);
  CHECK(sx_get_array(S, fromsx, NULL, NULL) == NULL, "a freed array has no data");
  CHECK(sx_get_array(S, items[0], NULL, NULL) == NULL, "an integer is no array");

  /* host objects: a tag, an optional finalizer, release */
  static int weight = 1;
  sx_value h = sx_make_host(S, &weight, "counter", count_final);
  CHECK(sx_type_of(h) == SX_TYPE_HOST && sx_get_host(h, "counter") == &weight, "host value");
  CHECK(sx_get_host(h, "other") == NULL && !strcmp(sx_host_tag(h), "counter"), "tag checked");
  CHECK(!strcmp(sx_to_string(S, h, 1), "#<host object>"), "host prints");
  sx_set_global(S, "h", h);
  CHECK_EVAL(S, "(list (eq? h h) (procedure? h))", "(true false)");
  sx_host_release(S, h);
  CHECK(finalized == 1 && sx_get_host(h, "counter") == NULL, "released: finalizer ran once");
  sx_host_release(S, h);
  CHECK(finalized == 1, "release twice: finalizer still once");
  CHECK(sx_get_host(sx_nil(), "counter") == NULL && sx_host_tag(sx_nil()) == NULL, "nil");
  h = sx_make_host(S, NULL, NULL, NULL);
  CHECK(h != SX_NONE && sx_get_host(h, "") == NULL && !strcmp(sx_host_tag(h), ""),
        "no tag, no finalizer");

  /* values from scripts */
  CHECK(sx_eval_string(S, "(list 1 2.5 \"s\" 'sym :kw #\\a [1] {:a 1} car (fn (x) x) "
                          "(try (error \"e\") (catch e e)) nil true)",
                       "t", &v) == SX_OK,
        "mixed list");
  sx_type_tag wanted[] = {SX_TYPE_INTEGER, SX_TYPE_FLOAT, SX_TYPE_STRING, SX_TYPE_SYMBOL,
                          SX_TYPE_KEYWORD, SX_TYPE_CHAR, SX_TYPE_VECTOR, SX_TYPE_DICT,
                          SX_TYPE_PROCEDURE, SX_TYPE_PROCEDURE, SX_TYPE_ERROR, SX_TYPE_NIL,
                          SX_TYPE_BOOLEAN};
  int k = 0;
  for (sx_value i = v; sx_type_of(i) == SX_TYPE_PAIR; i = sx_rest(i), k++)
    CHECK(sx_type_of(sx_first(i)) == wanted[k], "item %d: type %d, want %d (%s)", k,
          sx_type_of(sx_first(i)), wanted[k], sx_type_name(sx_first(i)));
  CHECK(k == 13, "13 items");
  CHECK(!strcmp(sx_type_name(sx_make_int(S, 1)), "integer"), "type name");

  /* globals */
  CHECK(sx_set_global(S, "g", sx_make_string(S, "hi", 2)) == SX_OK, "set global");
  CHECK_EVAL(S, "(str g \"!\")", "\"hi!\"");
  sx_value g = SX_NONE;
  CHECK(sx_eval_string(S, "(define g2 (* 6 7))", "t", NULL) == SX_OK &&
            sx_get_global(S, "g2", &g) == SX_OK && sx_get_int(g, &n) && n == 42,
        "get global");
  CHECK(sx_get_global(S, "no-such", &g) == SX_ERR_RUNTIME &&
            strstr(sx_error_message(S), "unbound"),
        "unbound global");

  /* the calls the REPL is built on, and the rest of sx.h */
  size_t end = 0;
  const char *two = "(define a 1) ; note\n(+ a 1)";
  CHECK(sx_next_form(S, two, strlen(two), 0, "t", &end) == 1 && end == 12, "first form: %zu", end);
  CHECK(sx_next_form(S, two, strlen(two), end, "t", &end) == 1 && end == strlen(two), "second");
  CHECK(sx_next_form(S, two, strlen(two), end, "t", &end) == 0, "no third");
  CHECK(sx_next_form(S, "(oops", 5, 0, "t", &end) == -1, "unfinished form");
  sx_value fn;
  sx_eval_string(S, "(define (add1 x) (+ x 1))", "t", NULL);
  sx_get_global(S, "add1", &fn);
  const char *dis = sx_disassemble(S, fn);
  CHECK(dis && strstr(dis, "RETURN"), "disassembly: %.80s", dis ? dis : sx_error_message(S));
  CHECK(sx_disassemble(S, sx_nil()) == NULL, "nothing to disassemble in nil");
  uint64_t before = sx_allocated_bytes(S);
  sx_make_vector(S, 1000, NULL);
  CHECK(sx_allocated_bytes(S) >= before + 8000, "allocated bytes grow");
  sx_gc(S);
  CHECK_EVAL(S, "(add1 41)", "42");
  sx_close(S);

  sx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.capabilities = SX_CAP_PROCESS | SX_CAP_IO;
  S = sx_open(&cfg);
  char *args[] = {"one", "tw\xc3\xb6"};
  sx_set_command_line(S, 2, args);
  CHECK_EVAL(S, "(command-line)", "(\"one\" \"tw\xc3\xb6\")");
  char path[] = "/tmp/sx-api-values-XXXXXX";
  int fd = mkstemp(path);
  if (fd >= 0) {
    const char *t = "(test \"sum\" 3 (+ 1 2))\n(test \"host\" 2 (length (command-line)))\n";
    CHECK(write(fd, t, strlen(t)) == (ssize_t)strlen(t), "write a test file");
    close(fd);
    char *paths[] = {path};
    CHECK(sx_run_tests(S, 1, paths, 0) == 0, "sx_run_tests on a file of two tests");
    unlink(path);
  }
  sx_close(S);
  return finish();
}
