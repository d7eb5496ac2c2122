/* fuzz_api.c — libFuzzer target: the embedding API driven by a byte-coded sequence of calls.
 * The first byte picks the state's limits (max_frames, stack_values); then each step is an
 * opcode byte and its operand bytes (missing bytes read as 0). Values from evaluations and
 * lookups go to a pool of 8 slots, a static array (Boehm scans the data segment; values held
 * only in malloc'd memory would not be kept alive, as sx.h says). Checked beyond "no crash":
 * sx_get_global after a successful sx_set_global answers the same value, sx_to_string and the
 * error accessors answer strings, and the state still evaluates at the end. */
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
};
static const char *names[] = {"x", "f", "m", "car", "undefined", "", "jit-stats", "map", "y",
                              "%map1", "if", "define", "g", "s", "d", "deep", "fuzz-v", "λ"};
#define NSNIP (sizeof snippets / sizeof snippets[0])
#define NNAME (sizeof names / sizeof names[0])

static sx_value pool[8];
static int pool_ok[8];
static sx_state *S;

typedef struct {
  const uint8_t *p, *end;
} reader;
static unsigned byte(reader *r) { return r->p < r->end ? *r->p++ : 0; }

static void put(unsigned slot, sx_value v) {
  pool[slot % 8] = v;
  pool_ok[slot % 8] = 1;
}

static void fail(const char *what) {
  fprintf(stderr, "fuzz_api: %s\n", what);
  abort();
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
  if (b & 3) cfg.max_frames = (size_t)16 << (3 * (b & 3)); /* 128, 1024, 8192 */
  if (b & 12) cfg.stack_values = (size_t)64 << (3 * ((b >> 2) & 3)); /* 512 .. 32768 */
  return cfg;
}

static void eval_into(const char *src, unsigned slot) {
  sx_value v;
  sx_status st = eval_limited(S, src, 200, &v);
  if (st == SX_OK) put(slot, v);
  else if (!sx_error_message(S)) fail("sx_error_message gave NULL after an error");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  reader r = {data, data + size};
  sx_config cfg = config_for(byte(&r));
  S = sx_open(&cfg);
  if (!S) fail("sx_open failed");
  memset(pool_ok, 0, sizeof pool_ok);
  for (int steps = 0; r.p < r.end && steps < 64; steps++) {
    unsigned op = byte(&r) % 16, a = byte(&r), b = byte(&r);
    switch (op) {
    case 0: eval_into(snippets[a % NSNIP], b); break;
    case 1: { /* raw bytes: a is the length */
      size_t n = (size_t)(r.end - r.p) < a ? (size_t)(r.end - r.p) : a;
      char *src = fuzz_cstring(r.p, n);
      r.p += n;
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
      if (pool_ok[b % 8] && sx_set_global(S, names[a % NNAME], pool[b % 8]) == SX_OK) {
        sx_value v;
        if (sx_get_global(S, names[a % NNAME], &v) != SX_OK || v != pool[b % 8])
          fail("sx_get_global does not answer what sx_set_global set");
      }
      break;
    case 4:
      if (pool_ok[b % 8]) {
        const char *s = sx_to_string(S, pool[b % 8], a & 1);
        if (!s) fail("sx_to_string gave NULL");
        (void)strlen(s);
      }
      break;
    case 5: sx_interrupt(S); break;
    case 6: sx_clear_interrupt(S); break;
    case 7: { /* sx_next_form over raw bytes */
      size_t n = (size_t)(r.end - r.p) < a ? (size_t)(r.end - r.p) : a, pos = 0, end;
      const char *src = (const char *)r.p;
      while (pos < n && sx_next_form(S, src, n, pos, "fuzz", &end) == 1) {
        if (end <= pos || end > n) fail("sx_next_form: end out of range");
        pos = end;
      }
      r.p += n;
      break;
    }
    case 8: {
      const char *d = sx_doc(S, names[a % NNAME]);
      if (d) (void)strlen(d);
      break;
    }
    case 9:
      if (pool_ok[b % 8]) {
        const char *d = sx_disassemble(S, pool[b % 8]);
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
      break;
    case 12: /* reopen: values of the old state are not used again */
      sx_close(S);
      cfg = config_for(a);
      S = sx_open(&cfg);
      if (!S) fail("sx_open failed");
      memset(pool_ok, 0, sizeof pool_ok);
      break;
    case 13: { /* a second state alongside: evaluate there, print, close */
      sx_config c2 = config_for(a);
      sx_state *T = sx_open(&c2);
      sx_value v;
      wd_arm(T, 200);
      sx_status st = sx_eval_string(T, snippets[b % NSNIP], "fuzz2", &v);
      wd_disarm(T);
      if (st == SX_OK) (void)strlen(sx_to_string(T, v, 1));
      sx_close(T);
      break;
    }
    case 14: (void)sx_allocated_bytes(S); (void)sx_version(); break;
    default: eval_into("(gc)", b); break;
    }
  }
  sx_value v;
  if (eval_limited(S, "3", 5000, &v) != SX_OK || strcmp(sx_to_string(S, v, 1), "3") != 0)
    fail("state unusable at the end of the sequence");
  sx_close(S);
  S = NULL;
  memset(pool_ok, 0, sizeof pool_ok);
  return 0;
}
