/* refs.c — values a host keeps only in malloc'd memory (invisible to the collector) stay alive
 * across (gc) while held with sx_ref, and die once let go with sx_unref: strings, closures,
 * vectors and host objects, whose finalizers count the deaths. */
#include "check.h"

#define N 200

typedef struct {
  sx_value str, fn, vec, host;
  int id;
} held; /* lives in malloc'd memory: the collector does not look here */

static int finalized[N];

static void host_final(void *p) { finalized[*(int *)p]++; }

/* Makes the values in a frame of its own, so no copy stays in main's frame. Each is held the
 * moment it exists: stored only in malloc'd memory, the next allocation could collect it. */
static sx_value keep(sx_state *S, sx_value v, int ref) { return ref ? sx_ref(S, v) : v; }

static __attribute__((noinline)) void make(sx_state *S, held *h, int i, int ref) {
  char src[128];
  sx_value v;
  snprintf(src, sizeof src, "(str \"value-\" %d)", i);
  sx_eval_string(S, src, "make", &v);
  h->str = keep(S, v, ref);
  snprintf(src, sizeof src, "(let ((k %d)) (fn (x) (+ x k)))", i);
  sx_eval_string(S, src, "make", &v);
  h->fn = keep(S, v, ref);
  snprintf(src, sizeof src, "(make-vector 100 %d)", i);
  sx_eval_string(S, src, "make", &v);
  h->vec = keep(S, v, ref);
  h->id = i;
  h->host = keep(S, sx_make_host(S, &h->id, "held", host_final), ref);
}

/* Overwrites the stack below the caller, where stale copies of values may linger. */
static __attribute__((noinline)) void scrub(void) {
  volatile char junk[64 << 10];
  memset((char *)junk, 0, sizeof junk);
}

static void churn(sx_state *S) {
  scrub();
  for (int i = 0; i < 3; i++) {
    sx_eval_string(S, "(let loop ((i 0) (l '())) (if (< i 200000) (loop (+ i 1) (cons i l)) 0))",
                   "churn", NULL);
    sx_eval_string(S, "(gc)", "gc", NULL);
  }
}

static int intact(sx_state *S, held *h) {
  char want[64];
  snprintf(want, sizeof want, "value-%d", h->id);
  const char *s = sx_get_string(h->str, NULL);
  if (!s || strcmp(s, want)) return 0;
  sx_value arg = sx_make_int(S, 1000), out;
  int64_t n;
  if (sx_call(S, h->fn, 1, &arg, &out) != SX_OK || !sx_get_int(out, &n) || n != 1000 + h->id)
    return 0;
  if (sx_length(h->vec) != 100 || !sx_get_int(sx_vector_ref(h->vec, 99), &n) || n != h->id)
    return 0;
  return sx_get_host(h->host, "held") == &h->id;
}

int main(void) {
  sx_state *S = sx_open(NULL);
  held *hs = malloc(N * sizeof(held));
  for (int i = 0; i < N; i++) make(S, &hs[i], i, 1);
  churn(S);
  int ok = 0, dead = 0;
  for (int i = 0; i < N; i++) {
    ok += intact(S, &hs[i]);
    dead += finalized[i];
  }
  CHECK(ok == N, "%d of %d held values intact after (gc)", ok, N);
  CHECK(dead == 0, "no held host value finalized (%d were)", dead);

  /* counts: two refs need two unrefs */
  CHECK(sx_ref(S, hs[0].str) == hs[0].str, "sx_ref returns its value");
  CHECK(sx_unref(S, hs[0].str) == 1, "one reference left");
  churn(S);
  CHECK(intact(S, &hs[0]), "still held after the first unref");

  for (int i = 0; i < N; i++) {
    sx_unref(S, hs[i].str);
    sx_unref(S, hs[i].fn);
    sx_unref(S, hs[i].vec);
    sx_unref(S, hs[i].host);
  }
  CHECK(sx_unref(S, hs[0].str) == -1, "unref of a value held by nothing: -1");
  churn(S);
  churn(S);
  dead = 0;
  for (int i = 0; i < N; i++) dead += finalized[i];
  /* the collector is conservative: a stray word may keep a few; most must go */
  CHECK(dead >= N * 3 / 4, "let go: %d of %d host values finalized", dead, N);
  for (int i = 0; i < N; i++) CHECK(finalized[i] <= 1, "finalized once: %d", finalized[i]);

  /* immediates need no reference */
  sx_value imm = sx_make_int(S, 5);
  CHECK(sx_ref(S, imm) == imm && sx_unref(S, imm) == 0 && sx_ref(S, sx_nil()) == sx_nil(),
        "immediates");
  CHECK(sx_ref(S, SX_NONE) == SX_NONE, "SX_NONE");

  /* many references: the table grows and shrinks */
  sx_value many[5000];
  for (int i = 0; i < 5000; i++) many[i] = sx_ref(S, sx_make_float(S, i + 0.5));
  int back = 0;
  for (int i = 0; i < 5000; i++) back += sx_unref(S, many[i]) == 0;
  CHECK(back == 5000, "5000 refs and unrefs: %d", back);

  /* values of a closed state with references outstanding are simply garbage */
  memset(finalized, 0, sizeof finalized);
  for (int i = 0; i < 50; i++) make(S, &hs[i], i, 1);
  sx_close(S);
  sx_state *T = sx_open(NULL);
  churn(T);
  churn(T);
  dead = 0;
  for (int i = 0; i < 50; i++) dead += finalized[i];
  CHECK(dead >= 50 * 3 / 4, "sx_close drops the references: %d of 50 finalized", dead);
  sx_close(T);
  free(hs);
  return finish();
}
