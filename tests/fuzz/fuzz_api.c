/* fuzz_api.c — libFuzzer target: the embedding API driven by a byte-coded sequence of calls.
 * The first byte picks the state's configuration (frame and stack limits, fuel, capabilities);
 * then each step is an opcode byte and two operand bytes (missing bytes read as 0), some
 * followed by raw bytes. Values from evaluations, constructors, calls and lookups go to a pool
 * of 8 slots, a static array (Boehm scans the data segment; memory from malloc it does not,
 * which is what sx_ref is for). Host functions registered by the sequence echo, raise, build
 * values or call back into SX (C -> SX -> C -> SX). Checked beyond "no crash": constructors and
 * accessors agree, sx_get_global answers what sx_set_global set, a host value's finalizer runs
 * at most once, sx_to_string and the error accessors answer strings, and the state still
 * evaluates at the end. */
#include "fuzz.h"

static const char *snippets[] = {
    "(define x 1)",
    "(+ x 1)",
    "(define (f n) (if (< n 1) 0 (+ n (f (- n 1)))))",
    "(f 100)",
    "(f 100000)",
    "(list 1 2.5 \"s\" :k 'sym [1 2] {:a 1} #\\a nil true)",
    "(error \"boom\" 1 2)",
    "(raise 42)",
    "(let loop ((i 0)) (loop (+ i 1)))",
    "(define-macro (m x) `(list ,x ,x))",
    "(m 3)",
    "(fn (a) a)",
    "(make-vector 3 0)",
    "(dict :a 1)",
    "(car '())",
    "(string->symbol \"a b\")",
    "(gc)",
    "(jit-stats)",
    "(memory-stats)",
    "(array 1.0 2.0)",
    "(let ((a (array 1.0))) (array-free! a) a)",
    "(eval-string \"(+ 1 2)\")",
    "(try (car 1) (catch e e))",
    "(gensym)",
    "x",
    "car",
    "(set! x (cons x x))",
    "(jit-reset!)",
    "(define (g . r) r)",
    "(g 1 2 3)",
    "(try (raise (list 1 2)) (finally (set! x 0)))",
    "(define s (make-vector 100000 \"str\"))",
    "(string-append \"λ\" \"x\")",
    "(define d {:a [1 2 {:b (1 2)}]})",
    "(get d :a)",
    "(f x)",
    "(define (deep n) (if (= n 0) '() (list (deep (- n 1)))))",
    "(deep 10000)",
    "(write-to-string (deep 100000))",
    "(exit 3)",
    "(read-file \"/etc/passwd\")",
    "(getenv \"HOME\")",
    "(",
    "\"unterminated",
    "#|",
    ")",
    "(host0 1 2)",
    "(host1 car '(1))",
    "(host2 (fn (k) (host2 host0 k)) 5)",
    "(define (again n) (host2 again n)) (again 1)",
    "(try (host1 1) (catch e (error-message e)))",
    "(map host0 '(1 2 3))",
    "(host3)",
    "(try (host3) (finally (gc)))",
};
static const char *names[] = {"x", "f", "m", "car", "undefined", "", "jit-stats", "map", "y",
                              "%map1", "if", "define", "g", "s", "d", "deep", "fuzz-v", "λ",
                              "host0", "host1", "host2", "host3"};
#define NSNIP (sizeof snippets / sizeof snippets[0])
#define NNAME (sizeof names / sizeof names[0])

static sx_value pool[8];
static sx_state *S;

typedef struct {
  const uint8_t *p, *end;
} reader;
static unsigned byte(reader *r) { return r->p < r->end ? *r->p++ : 0; }
static const uint8_t *take(reader *r, size_t want, size_t *n) {
  *n = (size_t)(r->end - r->p) < want ? (size_t)(r->end - r->p) : want;
  const uint8_t *p = r->p;
  r->p += *n;
  return p;
}

static void fail(const char *what) {
  fprintf(stderr, "fuzz_api: %s\n", what);
  abort();
}

static sx_value slot(unsigned i) { return pool[i % 8]; }
/* the slot as an argument: SX_NONE ("not a value") becomes nil */
static sx_value val(unsigned i) { return pool[i % 8] != SX_NONE ? pool[i % 8] : sx_nil(); }
static void put(unsigned i, sx_value v) {
  if (v != SX_NONE) pool[i % 8] = v;
}

/* ---- host functions the sequence can register ------------------------------------------ */
static sx_value h_echo(sx_state *T, int argc, const sx_value *argv, void *ud) {
  (void)T;
  (void)ud;
  return argc ? argv[argc - 1] : sx_nil();
}
static sx_value h_raise(sx_state *T, int argc, const sx_value *argv, void *ud) {
  (void)argv;
  (void)ud;
  return sx_raise(T, "host raised with %d arguments", argc);
}
/* (host2 f x...): calls f with the rest, from C, nested in the running evaluation */
static sx_value h_call(sx_state *T, int argc, const sx_value *argv, void *ud) {
  (void)ud;
  if (argc < 1) return sx_nil();
  sx_value out;
  sx_status st = sx_call(T, argv[0], argc - 1, argv + 1, &out);
  if (st != SX_OK) return sx_raise_value(T, sx_last_error(T));
  return out;
}
static sx_value h_make(sx_state *T, int argc, const sx_value *argv, void *ud) {
  (void)argv;
  (void)ud;
  sx_value items[3] = {sx_make_int(T, argc), sx_make_string(T, "host", 4), sx_make_keyword(T, "k")};
  for (int i = 0; i < 3; i++)
    if (items[i] == SX_NONE) return SX_NONE;
  return sx_make_list(T, 3, items);
}
static sx_cfunction hosts[] = {h_echo, h_raise, h_call, h_make};

/* Each host value gets a malloc'd token its finalizer frees: a second run of the finalizer
 * (after sx_host_release, or twice from the collector) is a use after free ASan reports. */
static void host_finalizer(void *p) {
  int *token = p;
  if (*token != 0x5eed) fail("a host value's finalizer got a bad pointer");
  *token = 0;
  free(token);
}

static void each_global(void *ud, const char *name, sx_value v) {
  (void)name;
  int *n = ud;
  if (v && (*n)++ < 64 && !sx_to_string(S, v, 1)) fail("sx_to_string gave NULL in sx_globals");
}

static sx_config config_for(unsigned b) {
  sx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.write = fuzz_sink;
  cfg.jit_threshold = -1;
  cfg.capabilities = (b & 16) ? 0 : SX_CAP_EVAL;
  if (b & 3) cfg.max_frames = (size_t)16 << (3 * (b & 3)); /* 128, 1024, 8192 */
  if (b & 12) cfg.stack_values = (size_t)64 << (3 * ((b >> 2) & 3)); /* 512 .. 32768 */
  cfg.limits.fuel = (b & 32) ? 1000 : FUZZ_FUEL;
  cfg.limits.deadline_ms = 300;
  cfg.limits.alloc_quota = (b & 64) ? 4096 : FUZZ_ALLOC_QUOTA;
  cfg.limits.heap_limit = FUZZ_HEAP_LIMIT;
  return cfg;
}

static void eval_into(const char *src, unsigned to) {
  sx_value v;
  sx_status st = eval_limited(S, src, 3000, &v);
  if (st == SX_OK) put(to, v);
  else if (!sx_error_message(S)) fail("sx_error_message gave NULL after an error");
}

/* constructors, each checked against its accessor */
static void make_value(reader *r, unsigned kind, unsigned to) {
  sx_value v = SX_NONE;
  switch (kind % 10) {
  case 0: {
    int64_t n = 0;
    for (int i = 0; i < 8; i++) n = (int64_t)((uint64_t)n << 8 | byte(r));
    v = sx_make_int(S, n);
    int64_t back;
    if ((n >= SX_INTEGER_MIN && n <= SX_INTEGER_MAX) != (v != SX_NONE))
      fail("sx_make_int: accepted out of range or refused in range");
    if (v != SX_NONE && (!sx_get_int(v, &back) || back != n)) fail("sx_get_int(sx_make_int(n)) != n");
    break;
  }
  case 1: {
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++) bits = bits << 8 | byte(r);
    double d, back;
    memcpy(&d, &bits, sizeof d);
    v = sx_make_float(S, d);
    if (v != SX_NONE && (!sx_get_float(v, &back) || (memcmp(&back, &d, sizeof d) && d == d)))
      fail("sx_get_float(sx_make_float(d)) != d");
    break;
  }
  case 2: {
    uint32_t c = byte(r) | byte(r) << 8 | (uint32_t)byte(r) << 16, back;
    v = sx_make_char(S, c);
    if (v != SX_NONE && (!sx_get_char(v, &back) || back != c)) fail("sx_get_char(sx_make_char(c)) != c");
    break;
  }
  case 3: {
    size_t n, back;
    const uint8_t *p = take(r, byte(r), &n);
    v = sx_make_string(S, (const char *)p, n);
    const char *s = v != SX_NONE ? sx_get_string(v, &back) : NULL;
    if (v != SX_NONE && (!s || back != n || memcmp(s, p, n) || s[n])) fail("sx_get_string differs");
    break;
  }
  case 4:
  case 5: {
    size_t n;
    const uint8_t *p = take(r, byte(r) % 32, &n);
    char *name = fuzz_cstring(p, n);
    v = kind % 10 == 4 ? sx_make_symbol(S, name) : sx_make_keyword(S, name);
    if (v != SX_NONE && !sx_get_name(v)) fail("sx_get_name gave NULL");
    free(name);
    break;
  }
  case 6:
  case 7: {
    size_t n = byte(r) % 6;
    sx_value items[6];
    for (size_t i = 0; i < n; i++) items[i] = val(byte(r));
    v = kind % 10 == 6 ? sx_make_list(S, n, items) : sx_make_vector(S, n, items);
    if (v != SX_NONE && sx_length(v) != (int64_t)n) fail("sx_length of a made list/vector != n");
    break;
  }
  case 8: v = sx_make_dict(S); break;
  default: {
    size_t rows = byte(r) % 5, cols = byte(r) % 4, rr, cc;
    double data[20] = {1.5, -2, 0, 4};
    v = sx_make_array(S, rows, cols, byte(r) & 1 ? data : NULL);
    if (v != SX_NONE && sx_get_array(S, v, &rr, &cc) && (rr != rows || cc != cols))
      fail("sx_get_array shape differs from sx_make_array's");
    break;
  }
  }
  put(to, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  reader r = {data, data + size};
  sx_config cfg = config_for(byte(&r));
  S = sx_open(&cfg);
  if (!S) fail("sx_open failed");
  memset(pool, 0, sizeof pool);
  for (int steps = 0; r.p < r.end && steps < 64; steps++) {
    unsigned op = byte(&r) % 28, a = byte(&r), b = byte(&r);
    switch (op) {
    case 0: eval_into(snippets[a % NSNIP], b); break;
    case 1: { /* raw bytes: a is the length */
      size_t n;
      const uint8_t *p = take(&r, a, &n);
      char *src = fuzz_cstring(p, n);
      eval_into(src, b);
      free(src);
      break;
    }
    case 2: {
      sx_value v;
      if (sx_get_global(S, names[a % NNAME], &v) == SX_OK) put(b, v);
      break;
    }
    case 3:
      if (slot(b) != SX_NONE && sx_set_global(S, names[a % NNAME], slot(b)) == SX_OK) {
        sx_value v;
        if (sx_get_global(S, names[a % NNAME], &v) != SX_OK || v != slot(b))
          fail("sx_get_global does not answer what sx_set_global set");
      }
      break;
    case 4:
      if (slot(b) != SX_NONE) {
        const char *s = sx_to_string(S, slot(b), a & 1);
        if (!s) fail("sx_to_string gave NULL");
        (void)strlen(s);
      }
      break;
    case 5: sx_interrupt(S); break;
    case 6: sx_clear_interrupt(S); break;
    case 7: { /* sx_next_form over raw bytes */
      size_t n, pos = 0, end;
      const char *src = (const char *)take(&r, a, &n);
      while (pos < n && sx_next_form(S, src, n, pos, "fuzz", &end) == 1) {
        if (end <= pos || end > n) fail("sx_next_form: end out of range");
        pos = end;
      }
      break;
    }
    case 8: {
      const char *d = sx_doc(S, names[a % NNAME]);
      if (d) (void)strlen(d);
      break;
    }
    case 9:
      if (slot(b) != SX_NONE) {
        const char *d = sx_disassemble(S, slot(b));
        (void)strlen(d ? d : sx_error_message(S));
      }
      break;
    case 10: {
      int n = 0;
      sx_globals(S, a & 7, each_global, &n);
      break;
    }
    case 11:
      (void)strlen(sx_error_message(S));
      if (sx_error_backtrace(S)) (void)strlen(sx_error_backtrace(S));
      put(b, sx_last_error(S));
      break;
    case 12: /* reopen: the old state's values are not used again */
      sx_close(S);
      cfg = config_for(a);
      S = sx_open(&cfg);
      if (!S) fail("sx_open failed");
      memset(pool, 0, sizeof pool);
      break;
    case 13: { /* a second state alongside: evaluate there, print, close */
      sx_config c2 = config_for(a);
      sx_state *T = sx_open(&c2);
      sx_value v;
      wd_arm(T, 3000);
      sx_status st = sx_eval_string(T, snippets[b % NSNIP], "fuzz2", &v);
      wd_disarm(T);
      if (st == SX_OK) (void)strlen(sx_to_string(T, v, 1));
      sx_close(T);
      break;
    }
    case 14: (void)sx_allocated_bytes(S); (void)sx_version(); (void)sx_version_number(); break;
    case 15: sx_gc(S); break;
    case 16: make_value(&r, a, b); break;
    case 17: { /* sx_call of a slot with up to 3 slots as arguments */
      sx_value args[3] = {val(b), val(b + 1), val(b + 2)}, out;
      wd_arm(S, 3000);
      sx_status st = sx_call(S, val(a), (int)(a % 4), args, &out);
      wd_disarm(S);
      if (st == SX_OK) put(b + 3, out);
      else (void)strlen(sx_error_message(S));
      break;
    }
    case 18: { /* register hostK; the count limits vary */
      int min = a % 3, max = (b % 4 == 3) ? -1 : min + (int)(b % 4);
      (void)sx_register(S, names[18 + a % 4], hosts[(a >> 2) % 4], min, max, NULL);
      break;
    }
    case 19:
      if (a & 1) (void)sx_ref(S, val(b));
      else (void)sx_unref(S, val(b));
      break;
    case 20: { /* vectors */
      sx_value x = sx_vector_ref(slot(a), b % 8);
      if (x != SX_NONE) (void)sx_type_of(x);
      (void)sx_vector_set(S, val(a), b % 8, val(b));
      break;
    }
    case 21: { /* dicts */
      sx_status st = sx_dict_set(S, val(a), val(b), val(b + 1));
      sx_value got = sx_dict_get(S, val(a), val(b));
      sx_value ks = sx_dict_keys(S, val(a));
      /* only for keys that cannot change (a dict, list or vector key may hold the dict
         itself: inserting then changes the key's hash) */
      sx_type_tag kt = sx_type_of(val(b));
      if (st == SX_OK && sx_type_of(val(a)) == SX_TYPE_DICT && got == SX_NONE &&
          (kt == SX_TYPE_INTEGER || kt == SX_TYPE_STRING || kt == SX_TYPE_KEYWORD ||
           kt == SX_TYPE_SYMBOL || kt == SX_TYPE_CHAR || kt == SX_TYPE_BOOLEAN || kt == SX_TYPE_NIL))
        fail("sx_dict_get misses the key sx_dict_set just set");
      put(b + 2, ks);
      break;
    }
    case 22: { /* accessors on whatever a slot holds */
      sx_value v = slot(a);
      int bo;
      int64_t i;
      double d;
      uint32_t c;
      size_t n, rr, cc;
      (void)sx_type_of(v), (void)sx_type_name(v), (void)sx_is_true(v), (void)sx_length(v);
      (void)sx_get_bool(v, &bo), (void)sx_get_int(v, &i), (void)sx_get_float(v, &d);
      (void)sx_get_char(v, &c), (void)sx_get_string(v, &n), (void)sx_get_name(v);
      (void)sx_host_tag(v), (void)sx_get_host(v, "fuzz");
      put(b, sx_first(v));
      put(b + 1, sx_rest(v));
      (void)sx_get_array(S, v, &rr, &cc);
      break;
    }
    case 23: { /* new limits */
      sx_limits lim = cfg.limits;
      lim.fuel = a ? (uint64_t)a * 1000 : FUZZ_FUEL;
      lim.alloc_quota = b ? (size_t)b << 12 : FUZZ_ALLOC_QUOTA;
      sx_set_limits(S, &lim);
      break;
    }
    case 24: { /* host values: made, maybe released, maybe left to the collector */
      int *token = malloc(sizeof *token);
      if (!token) abort();
      *token = 0x5eed;
      sx_value h = sx_make_host(S, token, "fuzz", host_finalizer);
      if (h == SX_NONE) {
        free(token);
        break;
      }
      put(b, h);
      if (a & 1) sx_host_release(S, h);
      if (a & 2) sx_host_release(S, h); /* releasing twice is a no-op */
      break;
    }
    case 25: (void)sx_raise(S, "raised outside a host function %d", a); break;
    case 26: put(b, sx_make_cons(S, val(a), val(a + 1))); break;
    default: put(b, sx_nil()); break;
    }
  }
  sx_value v;
  sx_limits lim = {FUZZ_FUEL, 2000, FUZZ_ALLOC_QUOTA, FUZZ_HEAP_LIMIT};
  sx_set_limits(S, &lim);
  if (eval_limited(S, "3", 5000, &v) != SX_OK || strcmp(sx_to_string(S, v, 1), "3") != 0)
    fail("state unusable at the end of the sequence");
  sx_close(S);
  S = NULL;
  memset(pool, 0, sizeof pool);
  return 0;
}
