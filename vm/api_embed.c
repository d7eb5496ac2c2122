/* api_embed.c — the embedding API proper (sx.h): values across the boundary, protected calls,
 * host functions with sx_raise, sx_ref roots, host objects, read-line's input, threads.
 *
 * Nothing here may let an SX error escape into the host: every call that can allocate or raise
 * runs under vm_protect, and turns a raise into a status or SX_NONE plus sx_error_message().
 * The one deliberate exception is sx_raise, which unwinds out of a host function on purpose —
 * and only when it is called directly by a host function the VM is running (host frames below). */
#define _GNU_SOURCE 1 /* pthread_getattr_np */
#define GC_THREADS 1 /* for the thread registration calls only */
#include <errno.h>
#include <gc/gc.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../prims/array.h"
#include "state.h"

/* A host function of this state: slot k is called through trampoline k (see below). */
typedef struct {
  sx_cfunction fn;
  void *ud;
  sx_val prim;
} host_slot;

/* One host function running, innermost first; lives on the C stack of host_call. `jmp` is the
 * protected point that was innermost when the function was entered: sx_raise may unwind only
 * while it still is (not from a callback inside a nested evaluation the function started). */
typedef struct host_frame {
  struct host_frame *prev;
  vm_jmp_head *jmp;
} host_frame;

/* Per-state part of the API, allocated on first use in the collected heap and reachable from
 * the state (itself uncollectable), so everything it points at is traced. */
struct sx_embed {
  host_slot *slots;
  int nslots, capslots;
  host_frame *frames;
  sx_val pending; /* why a constructor called by the running host function failed */
  /* sx_ref: open addressing by value, 0 = empty, TOMB = deleted; keys are traced */
  sx_val *ref_keys;
  uint32_t *ref_counts;
  size_t ref_live, ref_used, ref_cap; /* used: live keys and tombstones */
  /* read-line's buffer: bytes [in_pos, in_len) not consumed yet */
  char *in_buf;
  size_t in_pos, in_len, in_cap;
  bool in_eof;
};

#define TOMB ((sx_val)1) /* a fixnum: never a key, as only heap values are stored */

static struct sx_embed *embed_of(sx_state *S) {
  if (!S->embed) S->embed = GC_MALLOC(sizeof(struct sx_embed));
  return S->embed;
}


/* ---- entering from the host ------------------------------------------------------------------- */


/* An outermost API call may come from another thread than the last one (a state moves between
 * threads): its C stack bound must be this thread's, or every check fails (or none does).
 * And when the last call died at the process heap cap, the heap is full of its garbage, but
 * Boehm no longer collects before failing: it counts failed expansions, stops collecting past
 * GC_max_retries and resets the count only when it gets a block again. Without a collection
 * here the state would stay out of memory for good (seen in tests/api/limits.c). */
void vm_api_enter(sx_state *S) {
  if (S->api_depth || S->jmp) return;
  S->cstack_limit = vm_thread_cstack_limit();
  vm_sync_native_limit(S);
  sx_val e = S->raised;
  if (sx_is_error(e) && (ERR(e)->h.flags & ERR_MEMORY) &&
      !strcmp(STR(ERR(e)->message)->data, "out of memory")) {
    S->raised = SX_NIL;
    GC_gcollect();
  }
}

/* ---- recording a failed protected call --------------------------------------------------- */

typedef struct {
  sx_val err;
  char *text;
} text_job;

static void error_text(sx_state *S, void *ud) {
  text_job *j = ud;
  j->text = vm_error_text(S, j->err, true);
}

/* S->raised as the API's last error and status. Making the text allocates: under a heap cap
 * (or at the end of the C stack) that can fail too, and then the bare message stands in. */
static sx_status record_raised(sx_state *S) {
  sx_val e = S->raised;
  text_job j = {e, NULL};
  if (vm_protect(S, error_text, &j)) {
    S->raised = e;
    S->errmsg = sx_is_error(e) && sx_is_string(ERR(e)->message) ? STR(ERR(e)->message)->data
                                                                  : "error: out of memory";
    S->errtrace = "";
  } else {
    char *nl = strstr(j.text, "\nbacktrace:");
    S->errtrace = nl ? nl + 1 : "";
    if (nl) *nl = 0;
    S->errmsg = j.text;
  }
  if (sx_is_error(e) && (ERR(e)->h.flags & ERR_SYNTAX)) return SX_ERR_SYNTAX;
  if (sx_is_error(e) && (ERR(e)->h.flags & ERR_MEMORY)) return SX_ERR_MEMORY;
  if (sx_is_error(e) && (ERR(e)->h.flags & ERR_LIMIT))
    return !strcmp(STR(ERR(e)->message)->data, "interrupted") ? SX_ERR_INTERRUPTED : SX_ERR_LIMIT;
  return SX_ERR_RUNTIME;
}

/* ---- constructors and other small protected jobs ------------------------------------------ */

typedef struct {
  const char *s;
  size_t n;
  int64_t i;
  double d;
  const sx_val *items;
  sx_val a, b, c;
  const char *tag;
  void *ptr;
  void (*fin)(void *);
  sx_val result;
} job;

/* Runs fn under a protected point. On a raise: the message in sx_error_message, the error kept
 * for a host function that returns SX_NONE because of it, and SX_NONE. */
static sx_val run_job(sx_state *S, void (*fn)(sx_state *, void *), job *j) {
  j->result = 0;
  vm_api_enter(S);
  if (vm_protect(S, fn, j)) {
    sx_val e = S->raised;
    record_raised(S);
    if (S->embed) S->embed->pending = e;
    return 0;
  }
  return j->result;
}

static sx_status run_status(sx_state *S, void (*fn)(sx_state *, void *), job *j) {
  vm_api_enter(S);
  if (vm_protect(S, fn, j)) return record_raised(S);
  return SX_OK;
}

static void check_values(sx_state *S, const char *who, size_t n, const sx_val *items) {
  for (size_t i = 0; i < n; i++)
    if (!items[i]) vm_error(S, "%s: item %zu is SX_NONE, not a value", who, i);
}

const char *sx_type_name(sx_value v) { return v ? vm_type_name(v) : "none"; }

sx_type_tag sx_type_of(sx_value v) {
  if (!v) return SX_TYPE_NONE;
  if (sx_is_fixnum(v)) return SX_TYPE_INTEGER;
  if (sx_is_char(v)) return SX_TYPE_CHAR;
  switch (v) {
  case SX_NIL: return SX_TYPE_NIL;
  case SX_TRUE:
  case SX_FALSE: return SX_TYPE_BOOLEAN;
  case SX_EMPTY: return SX_TYPE_EMPTY;
  default: break;
  }
  if (!sx_is_ptr(v)) return SX_TYPE_OTHER;
  switch (sx_obj_of(v)->type) {
  case T_PAIR: return SX_TYPE_PAIR;
  case T_FLONUM: return SX_TYPE_FLOAT;
  case T_STRING: return SX_TYPE_STRING;
  case T_SYMBOL: return SX_TYPE_SYMBOL;
  case T_KEYWORD: return SX_TYPE_KEYWORD;
  case T_VECTOR: return SX_TYPE_VECTOR;
  case T_DICT: return SX_TYPE_DICT;
  case T_ARRAY: return SX_TYPE_ARRAY;
  case T_CLOSURE:
  case T_PRIM: return SX_TYPE_PROCEDURE;
  case T_ERROR: return SX_TYPE_ERROR;
  case T_HOST: return SX_TYPE_HOST;
  default: return SX_TYPE_OTHER;
  }
}

int sx_is_true(sx_value v) { return v && sx_truthy(v); }
sx_value sx_nil(void) { return SX_NIL; }
sx_value sx_make_bool(int b) { return b ? SX_TRUE : SX_FALSE; }
sx_value sx_empty_list(void) { return SX_EMPTY; }
int sx_version_number(void) { return SX_VERSION_NUMBER; }

static void make_int(sx_state *S, void *ud) {
  job *j = ud;
  if (!sx_fixnum_fits(j->i))
    vm_error(S, "sx_make_int: %lld is outside the 62-bit integer range", (long long)j->i);
  j->result = sx_mkfix(j->i);
}

sx_value sx_make_int(sx_state *S, int64_t n) {
  if (sx_fixnum_fits(n)) return sx_mkfix(n);
  job j = {.i = n};
  return run_job(S, make_int, &j);
}

static void make_float(sx_state *S, void *ud) {
  job *j = ud;
  j->result = vm_flonum(S, j->d);
}

sx_value sx_make_float(sx_state *S, double d) {
  job j = {.d = d};
  return run_job(S, make_float, &j);
}

static void make_char(sx_state *S, void *ud) {
  job *j = ud;
  if (j->i < 0 || j->i > 0x10ffff || (j->i >= 0xd800 && j->i <= 0xdfff))
    vm_error(S, "sx_make_char: %#llx is not a Unicode scalar value", (long long)j->i);
  j->result = sx_mkchar((uint32_t)j->i);
}

sx_value sx_make_char(sx_state *S, uint32_t codepoint) {
  job j = {.i = codepoint};
  return run_job(S, make_char, &j);
}

static void make_string(sx_state *S, void *ud) {
  job *j = ud;
  if (!j->s) vm_error(S, "sx_make_string: NULL text");
  if (j->n == (size_t)-1) j->n = strlen(j->s);
  j->result = vm_string(S, j->s, j->n); /* raises "invalid UTF-8 in string" */
}

sx_value sx_make_string(sx_state *S, const char *s, size_t n) {
  job j = {.s = s, .n = n};
  return run_job(S, make_string, &j);
}

static void make_name(sx_state *S, void *ud) {
  job *j = ud;
  const char *who = j->i == T_KEYWORD ? "sx_make_keyword" : "sx_make_symbol";
  if (!j->s) vm_error(S, "%s: NULL name", who);
  const char *s = j->s;
  if (j->i == T_KEYWORD && *s == ':') s++;
  size_t n = strlen(s), nchars;
  if (!n) vm_error(S, "%s: empty name", who);
  if (!vm_utf8_valid(s, n, &nchars)) vm_error(S, "%s: invalid UTF-8 in name", who);
  j->result = vm_intern(S, s, n, (sx_type)j->i);
}

sx_value sx_make_symbol(sx_state *S, const char *name) {
  job j = {.s = name, .i = T_SYMBOL};
  return run_job(S, make_name, &j);
}

sx_value sx_make_keyword(sx_state *S, const char *name) {
  job j = {.s = name, .i = T_KEYWORD};
  return run_job(S, make_name, &j);
}

static void make_cons(sx_state *S, void *ud) {
  job *j = ud;
  sx_val both[2] = {j->a, j->b};
  check_values(S, "sx_make_cons", 2, both);
  j->result = vm_cons(S, j->a, j->b);
}

sx_value sx_make_cons(sx_state *S, sx_value car, sx_value cdr) {
  job j = {.a = car, .b = cdr};
  return run_job(S, make_cons, &j);
}

static void make_list(sx_state *S, void *ud) {
  job *j = ud;
  if (j->n && !j->items) vm_error(S, "sx_make_list: NULL items");
  check_values(S, "sx_make_list", j->n, j->items);
  j->result = vm_list_from(S, j->n, j->items);
}

sx_value sx_make_list(sx_state *S, size_t n, const sx_value *items) {
  job j = {.n = n, .items = items};
  return run_job(S, make_list, &j);
}

static void make_vector(sx_state *S, void *ud) {
  job *j = ud;
  if (j->items) check_values(S, "sx_make_vector", j->n, j->items);
  j->result = vm_vector(S, j->n, SX_NIL);
  if (j->items) memcpy(VEC(j->result)->items, j->items, j->n * sizeof(sx_val));
}

sx_value sx_make_vector(sx_state *S, size_t n, const sx_value *items) {
  job j = {.n = n, .items = items};
  return run_job(S, make_vector, &j);
}

static void make_dict(sx_state *S, void *ud) {
  job *j = ud;
  j->result = vm_dict(S, 8);
}

sx_value sx_make_dict(sx_state *S) {
  job j = {0};
  return run_job(S, make_dict, &j);
}

static void make_array(sx_state *S, void *ud) {
  job *j = ud;
  sx_array *a = arr_new(S, "sx_make_array", j->n, (size_t)j->i);
  size_t n = a->len * sizeof(double);
  if (j->ptr) memcpy(arr_data(a), j->ptr, n);
  else if (!arr_zeroed(a)) memset(arr_data(a), 0, n);
  j->result = sx_from_obj(a);
}

sx_value sx_make_array(sx_state *S, size_t rows, size_t cols, const double *data) {
  job j = {.n = rows, .i = (int64_t)cols, .ptr = (void *)data};
  return run_job(S, make_array, &j);
}

/* ---- accessors ------------------------------------------------------------------------------ */

int sx_get_bool(sx_value v, int *out) {
  if (v != SX_TRUE && v != SX_FALSE) return 0;
  if (out) *out = v == SX_TRUE;
  return 1;
}

int sx_get_int(sx_value v, int64_t *out) {
  if (!sx_is_fixnum(v)) return 0;
  if (out) *out = sx_fixnum(v);
  return 1;
}

int sx_get_float(sx_value v, double *out) {
  if (!sx_is_number(v)) return 0;
  if (out) *out = vm_todouble(v);
  return 1;
}

int sx_get_char(sx_value v, uint32_t *out) {
  if (!sx_is_char(v)) return 0;
  if (out) *out = sx_char(v);
  return 1;
}

const char *sx_get_string(sx_value v, size_t *nbytes) {
  if (!sx_is_string(v)) return NULL;
  if (nbytes) *nbytes = STR(v)->nbytes;
  return STR(v)->data;
}

const char *sx_get_name(sx_value v) {
  if (!sx_is_symbol(v) && !sx_is_keyword(v)) return NULL;
  return STR(SYM(v)->name)->data;
}

sx_value sx_first(sx_value pair) { return sx_is_pair(pair) ? sx_car(pair) : 0; }
sx_value sx_rest(sx_value pair) { return sx_is_pair(pair) ? sx_cdr(pair) : 0; }

int64_t sx_length(sx_value v) {
  if (sx_is_pair(v) || sx_is_listend(v)) {
    size_t n = vm_list_length(v);
    return n == (size_t)-1 ? -1 : (int64_t)n;
  }
  if (sx_is_vector(v)) return (int64_t)VEC(v)->len;
  if (sx_is_dict(v)) return (int64_t)DICT(v)->count;
  if (sx_is_string(v)) return (int64_t)STR(v)->nchars;
  if (sx_is_type(v, T_ARRAY)) return ARR(v)->blk ? (int64_t)ARR(v)->len : -1;
  return -1;
}

sx_value sx_vector_ref(sx_value vec, size_t i) {
  if (!sx_is_vector(vec) || i >= VEC(vec)->len) return 0;
  return VEC(vec)->items[i];
}

static void vector_set(sx_state *S, void *ud) {
  job *j = ud;
  if (!sx_is_vector(j->a)) vm_type_error(S, "sx_vector_set", "vector", j->a, 1);
  if (!j->c) vm_error(S, "sx_vector_set: SX_NONE is not a value");
  VEC(j->a)->items[prim_index(S, "sx_vector_set", sx_mkfix((int64_t)j->n), VEC(j->a)->len)] = j->c;
}

sx_status sx_vector_set(sx_state *S, sx_value vec, size_t i, sx_value x) {
  job j = {.a = vec, .n = i > (size_t)SX_FIXNUM_MAX ? (size_t)SX_FIXNUM_MAX : i, .c = x};
  return run_status(S, vector_set, &j);
}

static void dict_get(sx_state *S, void *ud) {
  job *j = ud;
  if (!sx_is_dict(j->a)) vm_type_error(S, "sx_dict_get", "dict", j->a, 1);
  if (!j->b) vm_error(S, "sx_dict_get: SX_NONE is not a key");
  bool found;
  sx_val v = vm_dict_get(S, j->a, j->b, &found);
  j->result = found ? v : 0;
}

sx_value sx_dict_get(sx_state *S, sx_value dict, sx_value key) {
  job j = {.a = dict, .b = key};
  if (vm_protect(S, dict_get, &j)) { /* absent and failed both answer SX_NONE */
    record_raised(S);
    return 0;
  }
  return j.result;
}

static void dict_set(sx_state *S, void *ud) {
  job *j = ud;
  if (!sx_is_dict(j->a)) vm_type_error(S, "sx_dict_set", "dict", j->a, 1);
  if (!j->b || !j->c) vm_error(S, "sx_dict_set: SX_NONE is not a value");
  vm_dict_set(S, j->a, j->b, j->c);
}

sx_status sx_dict_set(sx_state *S, sx_value dict, sx_value key, sx_value val) {
  job j = {.a = dict, .b = key, .c = val};
  return run_status(S, dict_set, &j);
}

static void dict_keys(sx_state *S, void *ud) {
  job *j = ud;
  if (!sx_is_dict(j->a)) vm_type_error(S, "sx_dict_keys", "dict", j->a, 1);
  sx_dict *d = DICT(j->a);
  sx_val l = SX_EMPTY;
  for (size_t i = d->used; i-- > 0;)
    if (d->entries[i].key != SX_UNBOUND) l = vm_cons(S, d->entries[i].key, l);
  j->result = l;
}

sx_value sx_dict_keys(sx_state *S, sx_value dict) {
  job j = {.a = dict};
  return run_job(S, dict_keys, &j);
}

double *sx_get_array(sx_state *S, sx_value a, size_t *rows, size_t *cols) {
  if (!sx_is_type(a, T_ARRAY)) return NULL;
  sx_array *arr = ARR(a);
  if (!arr->blk || !arr_owned(S, arr)) return NULL;
  if (rows) *rows = arr->rows;
  if (cols) *cols = arr->cols;
  return arr_data(arr);
}

/* ---- host objects --------------------------------------------------------------------------- */

typedef struct {
  sx_obj h; /* type T_HOST; flags HOST_RELEASED once the finalizer ran */
  void *ptr;
  void (*fin)(void *);
  char tag[];
} sx_host;

#define HOST(v) ((sx_host *)(uintptr_t)(v))
#define HOST_RELEASED 1

static void host_finalize(void *obj, void *cd) {
  (void)cd;
  sx_host *h = obj;
  if (!(h->h.flags & HOST_RELEASED) && h->fin) h->fin(h->ptr);
  h->h.flags |= HOST_RELEASED;
}

static void make_host(sx_state *S, void *ud) {
  job *j = ud;
  const char *tag = j->tag ? j->tag : "";
  size_t n = strlen(tag);
  /* atomic: ptr is the host's memory, which the collector must neither trace nor free */
  sx_host *h = vm_alloc_atomic(S, sizeof(sx_host) + n + 1, T_HOST);
  h->ptr = j->ptr;
  h->fin = j->fin;
  memcpy(h->tag, tag, n + 1);
  if (h->fin) GC_REGISTER_FINALIZER_NO_ORDER(h, host_finalize, NULL, NULL, NULL);
  j->result = sx_from_obj(h);
}

sx_value sx_make_host(sx_state *S, void *ptr, const char *tag,
                      void (*finalizer)(void *ptr)) {
  job j = {.ptr = ptr, .tag = tag, .fin = finalizer};
  return run_job(S, make_host, &j);
}

void *sx_get_host(sx_value v, const char *tag) {
  if (!sx_is_type(v, T_HOST) || (HOST(v)->h.flags & HOST_RELEASED)) return NULL;
  if (strcmp(HOST(v)->tag, tag ? tag : "")) return NULL;
  return HOST(v)->ptr;
}

const char *sx_host_tag(sx_value v) { return sx_is_type(v, T_HOST) ? HOST(v)->tag : NULL; }

void sx_host_release(sx_state *S, sx_value v) {
  (void)S;
  if (!sx_is_type(v, T_HOST) || (HOST(v)->h.flags & HOST_RELEASED)) return;
  if (HOST(v)->fin) GC_REGISTER_FINALIZER_NO_ORDER(HOST(v), NULL, NULL, NULL, NULL);
  host_finalize(HOST(v), NULL);
}

/* ---- references ------------------------------------------------------------------------------ */

static size_t ref_slot(struct sx_embed *E, sx_val v, bool for_insert) {
  size_t mask = E->ref_cap - 1, j = (size_t)((v >> 4) * UINT64_C(0x9e3779b97f4a7c15)) & mask;
  size_t tomb = (size_t)-1;
  for (;; j = (j + 1) & mask) {
    sx_val k = E->ref_keys[j];
    if (k == v) return j;
    if (k == TOMB && tomb == (size_t)-1) tomb = j;
    if (!k) return for_insert && tomb != (size_t)-1 ? tomb : j;
  }
}

/* Rehashes into a table a quarter full of live keys (tombstones are dropped). */
static bool ref_grow(struct sx_embed *E) {
  size_t ncap = 64;
  while (ncap < (E->ref_live + 1) * 4) ncap *= 2;
  sx_val *ok = E->ref_keys;
  uint32_t *oc = E->ref_counts;
  size_t ocap = E->ref_cap;
  sx_val *nk = GC_MALLOC(ncap * sizeof(sx_val));
  uint32_t *nc = GC_MALLOC_ATOMIC(ncap * sizeof(uint32_t));
  if (!nk || !nc) return false;
  memset(nc, 0, ncap * sizeof(uint32_t));
  E->ref_keys = nk;
  E->ref_counts = nc;
  E->ref_cap = ncap;
  E->ref_used = E->ref_live;
  for (size_t i = 0; i < ocap; i++)
    if (ok[i] && ok[i] != TOMB) {
      size_t j = ref_slot(E, ok[i], true);
      nk[j] = ok[i];
      nc[j] = oc[i];
    }
  return true;
}

sx_value sx_ref(sx_state *S, sx_value v) {
  if (!sx_is_ptr(v)) return v; /* immediates (and SX_NONE) need no root */
  struct sx_embed *E = embed_of(S);
  if (!E || ((E->ref_used + 1) * 2 > E->ref_cap && !ref_grow(E))) {
    vm_api_error(S, "sx_ref: out of memory");
    return 0;
  }
  size_t j = ref_slot(E, v, true);
  if (E->ref_keys[j] != v) {
    if (!E->ref_keys[j]) E->ref_used++;
    E->ref_live++;
    E->ref_keys[j] = v;
    E->ref_counts[j] = 0;
  }
  if (E->ref_counts[j] < UINT32_MAX) E->ref_counts[j]++;
  return v;
}

int sx_unref(sx_state *S, sx_value v) {
  if (!sx_is_ptr(v)) return 0;
  struct sx_embed *E = S->embed;
  if (!E || !E->ref_cap) return -1;
  size_t j = ref_slot(E, v, false);
  if (E->ref_keys[j] != v) return -1;
  if (--E->ref_counts[j] == 0) {
    E->ref_keys[j] = TOMB;
    E->ref_live--;
  }
  return (int)(E->ref_counts[j] > INT32_MAX ? INT32_MAX : E->ref_counts[j]);
}

/* ---- calls ----------------------------------------------------------------------------------- */

typedef struct {
  sx_val fn;
  int argc;
  const sx_val *argv;
  sx_val result;
} call_job;

static void do_call(sx_state *S, void *ud) {
  call_job *j = ud;
  if (!j->fn) vm_error(S, "sx_call: SX_NONE is not a procedure");
  check_values(S, "sx_call", (size_t)j->argc, j->argv);
  j->result = vm_call(S, j->fn, j->argc, j->argv);
}

sx_status sx_call(sx_state *S, sx_value fn, int argc, const sx_value *argv, sx_value *out) {
  if (out) *out = SX_NIL;
  if (argc < 0 || (argc > 0 && !argv) || argc > 1000000) {
    vm_api_error(S, "sx_call: bad argument count %d", argc);
    return SX_ERR_RUNTIME;
  }
  struct sx_embed *E = embed_of(S);
  if (!E) {
    vm_api_error(S, "out of memory");
    return SX_ERR_MEMORY;
  }
  host_frame *frames = E->frames;
  vm_api_enter(S);
  if (S->api_depth == 0) {
    /* an outermost call, like sx_eval_string: drop a stale interrupt, start the limits */
    __atomic_fetch_and(&S->interrupt, ~1, __ATOMIC_SEQ_CST);
    S->errmsg = NULL;
    S->errtrace = NULL;
    E->frames = NULL;
  }
  call_job j = {fn, argc, argv, SX_NIL};
  vm_limits_begin(S);
  int failed = vm_protect(S, do_call, &j);
  vm_limits_end(S);
  E->frames = frames;
  if (failed) return record_raised(S);
  if (out) *out = j.result;
  return SX_OK;
}

sx_value sx_last_error(sx_state *S) { return S->raised ? S->raised : SX_NIL; }

/* ---- host functions -------------------------------------------------------------------------- */

/* Primitives get (S, argc, argv) and no pointer to themselves, so each host function slot of a
 * state has a trampoline of its own that knows its index: SX_MAX_HOST_FUNCTIONS small functions
 * made by the macros below, shared by all states. (A callee pointer in the primitive calling
 * convention would make this a single function; see the report of issue 7.) */
static sx_val host_call(sx_state *S, int k, int argc, sx_val *argv) {
  struct sx_embed *E = S->embed;
  if (!E || k >= E->nslots || !E->slots[k].fn)
    vm_error(S, "host function of another state called"); /* values belong to their state */
  host_slot *h = &E->slots[k];
  host_frame frame = {E->frames, S->jmp};
  sx_val pending = E->pending;
  E->frames = &frame;
  E->pending = 0;
  S->raised = SX_NIL;
  sx_val r = h->fn(S, argc, argv, h->ud);
  E->frames = frame.prev;
  sx_val why = E->pending;
  E->pending = pending;
  /* a limit that stopped something the function called stops the evaluation, even when the
     function ignored the status it got */
  if (sx_is_error(S->raised) && (ERR(S->raised)->h.flags & ERR_LIMIT)) vm_raise(S, S->raised);
  if (!r) {
    if (why) vm_raise(S, why);
    vm_error(S, "%s: host function returned no value", STR(SYM(PRIM(h->prim)->name)->name)->data);
  }
  return r;
}

#define TRAMPOLINE(n) \
  static sx_val tramp_##n(sx_state *S, int argc, sx_val *argv) { return host_call(S, n, argc, argv); }
#define TRAMPOLINE_REF(n) tramp_##n,
#define HEX16(F, p) F(p##0) F(p##1) F(p##2) F(p##3) F(p##4) F(p##5) F(p##6) F(p##7) \
  F(p##8) F(p##9) F(p##a) F(p##b) F(p##c) F(p##d) F(p##e) F(p##f)
#define HEX256(F, p) HEX16(F, p##0) HEX16(F, p##1) HEX16(F, p##2) HEX16(F, p##3) \
  HEX16(F, p##4) HEX16(F, p##5) HEX16(F, p##6) HEX16(F, p##7) HEX16(F, p##8) HEX16(F, p##9) \
  HEX16(F, p##a) HEX16(F, p##b) HEX16(F, p##c) HEX16(F, p##d) HEX16(F, p##e) HEX16(F, p##f)
#define HEX1024(F) HEX256(F, 0x0) HEX256(F, 0x1) HEX256(F, 0x2) HEX256(F, 0x3)

HEX1024(TRAMPOLINE)
static const sx_cfn trampolines[] = {HEX1024(TRAMPOLINE_REF)};
_Static_assert(sizeof trampolines / sizeof trampolines[0] == SX_MAX_HOST_FUNCTIONS,
               "one trampoline per host function slot");

typedef struct {
  const char *name;
  sx_cfunction fn;
  int min, max;
  void *ud;
} reg_job;

static void do_register(sx_state *S, void *ud) {
  reg_job *j = ud;
  struct sx_embed *E = S->embed;
  size_t n = strlen(j->name), nchars;
  if (!n || !vm_utf8_valid(j->name, n, &nchars)) vm_error(S, "sx_register: bad name");
  sx_val sym = vm_symbol(S, j->name);
  if (SYM(sym)->special >= 0) vm_error(S, "sx_register: %s is a special form", j->name);
  sx_cell *cell = vm_env_lookup_local(S->root, sym);
  sx_val old = cell ? cell->value : SX_UNBOUND;
  for (int k = 0; k < E->nslots; k++)
    if (E->slots[k].prim == old) { /* ours already: replace it in place, where code has it */
      sx_prim_spec *spec = (sx_prim_spec *)PRIM(old)->spec;
      spec->min = j->min;
      spec->max = j->max;
      PRIM(old)->userdata = j->ud;
      E->slots[k].fn = j->fn;
      E->slots[k].ud = j->ud;
      return;
    }
  if (old != SX_UNBOUND) vm_error(S, "sx_register: %s is an SX builtin", j->name);
  if (E->nslots >= SX_MAX_HOST_FUNCTIONS)
    vm_error(S, "sx_register: more than %d host functions", SX_MAX_HOST_FUNCTIONS);
  if (E->nslots == E->capslots) {
    int ncap = E->capslots ? E->capslots * 2 : 16;
    host_slot *ns = GC_MALLOC((size_t)ncap * sizeof(host_slot));
    if (!ns) vm_error(S, "out of memory");
    if (E->nslots) memcpy(ns, E->slots, (size_t)E->nslots * sizeof(host_slot));
    E->slots = ns;
    E->capslots = ncap;
  }
  sx_prim_spec *spec = GC_MALLOC(sizeof(sx_prim_spec));
  if (!spec) vm_error(S, "out of memory");
  spec->name = STR(SYM(sym)->name)->data;
  spec->min = j->min;
  spec->max = j->max;
  spec->doc = "host function";
  sx_prim *p = vm_alloc(S, sizeof(sx_prim), T_PRIM);
  int k = E->nslots;
  p->fn = trampolines[k];
  p->spec = spec;
  p->userdata = j->ud;
  p->name = sym;
  E->slots[k] = (host_slot){j->fn, j->ud, sx_from_obj(p)};
  E->nslots++;
  cell = vm_env_define(S, S->root, sym);
  cell->value = sx_from_obj(p);
  cell->h.flags |= CELL_CONST; /* a builtin: set! cannot take it from other scripts */
  /* code compiled before made an unbound cell in the top level: that one sees it too */
  sx_cell *top = vm_env_lookup_local(S->user, sym);
  if (top && top->value == SX_UNBOUND) top->value = sx_from_obj(p);
}

sx_status sx_register(sx_state *S, const char *name, sx_cfunction fn, int min_args,
                      int max_args, void *userdata) {
  if (!name || !fn || min_args < 0 || max_args < -1 || (max_args >= 0 && max_args < min_args)) {
    vm_api_error(S, "sx_register: bad arguments for %s", name ? name : "(null)");
    return SX_ERR_RUNTIME;
  }
  if (!embed_of(S)) {
    vm_api_error(S, "out of memory");
    return SX_ERR_MEMORY;
  }
  reg_job j = {name, fn, min_args, max_args, userdata};
  vm_api_enter(S);
  if (vm_protect(S, do_register, &j)) return record_raised(S);
  return SX_OK;
}

/* Unwinding is allowed only from the host function the VM called last, not from a callback
 * inside something it started (its own protected points would be skipped). */
static bool may_unwind(sx_state *S) {
  return S->embed && S->embed->frames && S->embed->frames->jmp == S->jmp && S->jmp;
}

sx_value sx_raise(sx_state *S, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt ? fmt : "(null)", ap);
  va_end(ap);
  if (!may_unwind(S)) {
    vm_api_error(S, "%s", buf);
    return 0;
  }
  S->embed->frames = S->embed->frames->prev; /* host_call's frame is left by the longjmp */
  vm_error(S, "%s", buf);
}

sx_value sx_raise_value(sx_state *S, sx_value v) {
  if (!may_unwind(S)) {
    vm_api_error(S, "sx_raise_value outside a host function");
    return 0;
  }
  S->embed->frames = S->embed->frames->prev;
  if (!v) vm_error(S, "sx_raise_value: SX_NONE is not a value");
  vm_raise(S, v);
}

/* ---- input ----------------------------------------------------------------------------------- */

#define MAX_LINE (64u << 20)

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Standard input, waiting in short steps so that an interrupt or the deadline stops the wait. */
static size_t read_stdin(sx_state *S, char *buf, size_t cap) {
  for (;;) {
    if (S->interrupt & 1) vm_poll(S);
    if (S->deadline > 0 && now_ms() > S->deadline) {
      S->fuel = 0;
      vm_fuel_slice(S); /* raises "deadline exceeded" */
    }
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int r = poll(&p, 1, 50);
    if (r == 0 || (r < 0 && errno == EINTR)) continue;
    ssize_t n = read(0, buf, cap);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) vm_error(S, "read-line: %s", strerror(errno));
    return (size_t)n;
  }
}

sx_val vm_read_line(sx_state *S) {
  struct sx_embed *E = embed_of(S);
  if (!E) vm_memory_error(S, "out of memory");
  for (;;) {
    char *start = E->in_buf + E->in_pos;
    char *nl = E->in_len > E->in_pos ? memchr(start, '\n', E->in_len - E->in_pos) : NULL;
    if (nl || (E->in_eof && E->in_len > E->in_pos)) {
      size_t n = nl ? (size_t)(nl - start) : E->in_len - E->in_pos;
      E->in_pos += n + (nl != NULL);
      if (nl && n && start[n - 1] == '\r') n--;
      size_t nchars;
      if (!vm_utf8_valid(start, n, &nchars)) vm_error(S, "read-line: invalid UTF-8 in input");
      return vm_string(S, start, n);
    }
    if (E->in_eof) return SX_NIL;
    if (E->in_pos > 0) { /* keep the partial line at the front */
      memmove(E->in_buf, start, E->in_len - E->in_pos);
      E->in_len -= E->in_pos;
      E->in_pos = 0;
    }
    if (E->in_len == E->in_cap) {
      if (E->in_cap >= MAX_LINE) vm_error(S, "read-line: line longer than %u bytes", MAX_LINE);
      size_t ncap = E->in_cap ? E->in_cap * 2 : 4096;
      vm_count_alloc(S, ncap);
      char *nb = GC_MALLOC_ATOMIC(ncap);
      if (!nb) vm_memory_error(S, "out of memory");
      if (E->in_len) memcpy(nb, E->in_buf, E->in_len);
      E->in_buf = nb;
      E->in_cap = ncap;
    }
    size_t room = E->in_cap - E->in_len, got;
    if (S->cfg.read) got = S->cfg.read(S->cfg.read_ud, E->in_buf + E->in_len, room);
    else got = read_stdin(S, E->in_buf + E->in_len, room);
    if (got > room) got = room;
    if (got == 0) E->in_eof = true;
    E->in_len += got;
  }
}

/* ---- the collector and threads ------------------------------------------------------------- */

void sx_gc(sx_state *S) {
  (void)S;
  GC_gcollect();
}

/* Boehm allocates without locking until told that threads will register
 * (GC_allow_register_threads, from a registered thread). That costs single-threaded hosts 5-20%
 * in allocation-heavy code (measured), so it happens only when a host asks: the first
 * sx_thread_register on a registered thread (the main one) turns it on for the process. */
static atomic_bool threads_enabled;

int sx_thread_register(void) {
  if (GC_thread_is_registered()) {
    if (!atomic_exchange(&threads_enabled, true)) GC_allow_register_threads();
    return 0;
  }
  if (!atomic_load(&threads_enabled)) return -1; /* Boehm would abort */
  struct GC_stack_base sb;
  if (GC_get_stack_base(&sb) != GC_SUCCESS) return -1;
  int rc = GC_register_my_thread(&sb);
  return rc == GC_SUCCESS || rc == GC_DUPLICATE ? 0 : -1;
}

void sx_thread_unregister(void) {
  if (GC_thread_is_registered()) GC_unregister_my_thread();
}
