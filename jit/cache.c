/* cache.c — the per-state code cache: the tier-up policy, the table of native entries with its
 * LRU budget, pinning, reset and statistics, and installing finished compiles at safe points.
 *
 * An entry belongs to one prototype, which points at it directly (p->jit), so calls never look
 * anything up. The table refers to prototypes weakly: a finalizer on the prototype only marks
 * its entry dead, and the next safe point drops it. Recency is a generation stamp written by the
 * VM when it enters native code (native-to-native calls write nothing); the generation advances
 * with every insert, as PyPy's loop_longevity does. */
#define _GNU_SOURCE 1
#include <gc/gc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "rt.h"
#include "disk.h"
#include "server.h"

#define DEFAULT_THRESHOLD 1000
#define DEFAULT_BUDGET 5000
#define MAX_PENDING 64
#define MAX_EVICTION_DOUBLINGS 10
#define NEVER (INT32_MIN / 2)


/* States with a native tier, so a release can check that none is running native code. */
static jit_state *all_states;

bool jit_available(void) { return jit_server_usable(); }

/* ---- entries ------------------------------------------------------------------------------ */

/* Runs (on an allocating thread, at no particular point) once the prototype is unreachable. */
static void proto_collected(void *obj, void *data) {
  (void)obj;
  struct jit_entry *e = data;
  if (e->orphan) free(e);
  else e->dead = true;
}

static void watch_proto(struct jit_entry *e) {
  GC_register_finalizer_no_order(e->proto, proto_collected, e, NULL, NULL);
}

/* Stops watching e's prototype; false when the collector has already queued the finalizer
 * (unregistering then has no effect: the finalizer will still run, with e). */
static bool unwatch_proto(struct jit_entry *e) {
  GC_finalization_proc old = NULL;
  void *old_data = NULL;
  GC_register_finalizer_no_order(e->proto, NULL, NULL, &old, &old_data);
  return old != NULL;
}

static struct jit_entry *new_entry(sx_proto *p) {
  struct jit_entry *e = calloc(1, sizeof(struct jit_entry));
  if (!e) return NULL;
  e->proto = p;
  e->id = p->id;
  e->rest = (p->h.flags & PROTO_REST) != 0;
  e->nfixed = e->rest ? p->nparams - 1u : p->nparams;
  e->arity = e->rest ? UINT64_MAX : p->nparams;
  watch_proto(e);
  return e;
}

/* Forgets an entry that is not (or no longer) in the table. Regression: freeing it while its
 * prototype's finalizer was already queued let the finalizer write into freed memory. */
void jit_entry_free(struct jit_entry *e) {
  if (e->code) jit_code_unref(e->code);
  e->code = NULL;
  if (!e->dead && !unwatch_proto(e)) {
    e->orphan = true;
    return;
  }
  free(e);
}

#define free_entry jit_entry_free

static void table_add(jit_state *J, struct jit_entry *e) {
  if (J->n == J->cap) {
    size_t ncap = J->cap ? J->cap * 2 : 64;
    struct jit_entry **ne = realloc(J->entries, ncap * sizeof(*ne));
    if (!ne) return;
    J->entries = ne;
    J->cap = ncap;
  }
  J->entries[J->n++] = e;
}

/* Removes entry i: the prototype runs in the VM again, with its counter reset and its own
 * threshold doubled for every eviction, so churn cannot recompile it on every call. */
static void table_remove(sx_state *S, size_t i, bool evicted) {
  jit_state *J = S->jit;
  struct jit_entry *e = J->entries[i];
  J->entries[i] = J->entries[--J->n];
  if (!e->dead) {
    sx_proto *p = e->proto;
    p->jit = NULL;
    p->h.flags &= (uint8_t)~PROTO_QUEUED;
    if (evicted && p->evictions < MAX_EVICTION_DOUBLINGS) p->evictions++;
    int64_t back = (int64_t)S->jit_threshold * ((1 << p->evictions) - 1);
    p->calls = back > -NEVER ? NEVER : (int32_t)-back;
  }
  if (evicted) J->evictions++;
  free_entry(e);
}

static size_t find_lru(jit_state *J) {
  size_t best = (size_t)-1;
  uint64_t oldest = UINT64_MAX;
  for (size_t i = 0; i < J->n; i++) {
    struct jit_entry *e = J->entries[i];
    if (e->pinned && !e->dead) continue;
    uint64_t age = e->dead ? 0 : e->last_used;
    if (age < oldest) oldest = age, best = i;
  }
  return best;
}

static int cmp_ptr(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return x < y ? -1 : x > y;
}

/* Mapped bytes of the distinct compiled objects this state's entries use. */
size_t jit_code_bytes(jit_state *J) {
  if (!J->n) return 0;
  uintptr_t *objs = malloc(J->n * sizeof(uintptr_t));
  if (!objs) return 0;
  size_t k = 0;
  for (size_t i = 0; i < J->n; i++)
    if (J->entries[i]->code) objs[k++] = (uintptr_t)J->entries[i]->code->obj;
  qsort(objs, k, sizeof(uintptr_t), cmp_ptr);
  size_t total = 0;
  for (size_t i = 0; i < k; i++)
    if (i == 0 || objs[i] != objs[i - 1]) total += ((jit_object *)objs[i])->code_bytes;
  free(objs);
  return total;
}

/* Makes room for one more entry under the entry and byte budgets (never evicting pinned ones);
 * false when nothing can be evicted. */
static bool make_room(sx_state *S) {
  jit_state *J = S->jit;
  while ((long)J->n >= J->budget) {
    size_t i = find_lru(J);
    if (i == (size_t)-1) return false;
    table_remove(S, i, !J->entries[i]->dead);
  }
  if (J->code_budget) {
    while (J->n && jit_code_bytes(J) > J->code_budget) {
      size_t i = find_lru(J);
      if (i == (size_t)-1) break;
      table_remove(S, i, !J->entries[i]->dead);
    }
  }
  return true;
}

static void install(sx_state *S, struct jit_entry *e, jit_code *code) {
  jit_state *J = S->jit;
  e->code = code;
  e->fn = code->fn;
  sx_proto *p = e->proto;
  if (!make_room(S)) {
    free_entry(e);
    p->h.flags &= (uint8_t)~PROTO_QUEUED;
    p->calls = 0;
    return;
  }
  J->generation++;
  e->last_used = J->generation;
  e->pinned = (p->h.flags & PROTO_PINNED) != 0;
  p->jit = e;
  p->h.flags &= (uint8_t)~PROTO_QUEUED;
  table_add(J, e);
}

/* ---- finished compiles ---------------------------------------------------------------------- */

static void log_compile(sx_state *S, jit_job *j) {
  if (!S->jit->log) return;
  /* when it was asked for and when it is installed, since the native tier opened: the latency
     a cold program sees */
  fprintf(stderr, "jit: lambda %llu %s: %u instructions, %.1f ms (asked at %.1f ms, done at %.1f ms)%s%s\n",
          (unsigned long long)j->entry->id, j->name, j->shape->ncode, j->ms, j->queued_at, jit_clock_ms(),
          j->fn ? "" : ", failed: ", j->fn ? "" : j->err);
}

/* Installs (or discards) one finished job on the VM thread. */
static void finish_job(sx_state *S, jit_job *j) {
  jit_state *J = S->jit;
  struct jit_entry *e = j->entry;
  J->pending--;
  log_compile(S, j);
  if (j->fn) {
    J->compiled++;
    J->compile_ms += j->ms;
    jit_code *code = jit_store_add(j->shape, j->fn, j->obj);
    if (code && code->shape != j->shape) {
      J->shared++;
      jit_shape_free(j->shape);
    }
    jit_object_unref(j->obj); /* the batch's hold */
    if (!code || e->dead) {
      if (code) jit_code_unref(code);
      free_entry(e);
    } else {
      install(S, e, code);
    }
  } else {
    jit_shape_free(j->shape);
    if (!e->dead) {
      sx_proto *p = e->proto;
      p->h.flags &= (uint8_t)~PROTO_QUEUED;
      if (strstr(j->err, "killed") || strstr(j->err, "signal") || strstr(j->err, "no compiler")) {
        p->calls = 0; /* its helpers were killed (Ctrl-C): not the lambda's fault, retry later */
      } else {
        J->failed++;
        if (++p->failures >= 3) p->h.flags |= PROTO_NOJIT;
        p->calls = -(S->jit_threshold << (p->failures * 2 > 20 ? 20 : p->failures * 2));
      }
    }
    free_entry(e);
  }
  free(j);
}

void jit_job_done(jit_job *j) {
  pthread_mutex_lock(jit_lock());
  sx_state *S = j->S;
  if (!S) {
    pthread_mutex_unlock(jit_lock());
    if (j->obj) jit_object_unref(j->obj);
    jit_shape_free(j->shape);
    jit_entry_free(j->entry);
    free(j);
    return;
  }
  j->next = S->jit->done;
  S->jit->done = j;
  S->jit->inflight--;
  __atomic_fetch_or(&S->interrupt, 2, __ATOMIC_SEQ_CST); /* ask for a safe point */
  vm_trip_native_limit(S);
  pthread_cond_broadcast(&S->jit->idle);
  pthread_mutex_unlock(jit_lock());
}

/* Whether a state other than S runs native code (on another thread: its stack is not ours
 * to scan, so nothing is released meanwhile). */
static bool native_running_elsewhere(sx_state *S) {
  for (jit_state *J = all_states; J; J = J->next)
    if (J->owner != S && J->owner->native_depth) return true;
  return false;
}

/* Frees compiled objects nobody uses any more, unless a native frame may still be running
 * them: with native code active on this thread, this thread's stack is scanned for return
 * addresses into each object (eviction or jit-reset! from inside compiled code is safe). */
static void release_dead_code(sx_state *S) {
  if (jit_graveyard_empty()) return;
  pthread_mutex_lock(jit_lock());
  bool elsewhere = native_running_elsewhere(S);
  pthread_mutex_unlock(jit_lock());
  if (elsewhere) return;
  if (!S || !S->native_depth) {
    jit_release_graveyard(NULL, NULL);
    return;
  }
  pthread_attr_t attr;
  void *addr = NULL;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  pthread_attr_getstack(&attr, &addr, &size);
  pthread_attr_destroy(&attr);
  jit_release_graveyard(__builtin_frame_address(0), (char *)addr + size);
}


/* The VM thread's own time in the tier (requesting, installing): :max-pause-ms. In async mode
 * this is all the VM ever waits for the JIT; compiles happen elsewhere. */
static void note_pause(jit_state *J, double t0) {
  double d = jit_clock_ms() - t0;
  if (d > J->max_pause_ms) J->max_pause_ms = d;
}

static void safe_point(sx_state *S);

void jit_safe_point(sx_state *S) {
  jit_state *J = S->jit;
  if (!J) return;
  double t0 = jit_clock_ms();
  safe_point(S);
  note_pause(J, t0);
}

static void safe_point(sx_state *S) {
  jit_state *J = S->jit;
  __atomic_fetch_and(&S->interrupt, ~2, __ATOMIC_SEQ_CST);
  pthread_mutex_lock(jit_lock());
  jit_job *done = J->done;
  J->done = NULL;
  pthread_mutex_unlock(jit_lock());
  while (done) {
    jit_job *next = done->next;
    finish_job(S, done);
    done = next;
  }
  for (size_t i = 0; i < J->n;)
    if (J->entries[i]->dead) table_remove(S, i, false);
    else i++;
  release_dead_code(S);
}

/* ---- the tier-up policy ---------------------------------------------------------------------- */

static void hot(sx_state *S, sx_proto *p);

void jit_hot(sx_state *S, sx_proto *p) {
  jit_state *J = S->jit;
  if (!J || p->jit) return;
  double t0 = J->sync ? 0 : jit_clock_ms();
  hot(S, p);
  if (!J->sync) note_pause(J, t0);
}

static void hot(sx_state *S, sx_proto *p) {
  jit_state *J = S->jit;
  if (J->done || (S->interrupt & 2)) safe_point(S);
  if (p->jit) return;
  if (!jit_available() || J->budget <= 0 || (p->h.flags & (PROTO_NOJIT | PROTO_QUEUED))) {
    p->calls = NEVER;
    return;
  }
  if (!jit_can_compile(p)) {
    p->h.flags |= PROTO_NOJIT;
    p->calls = NEVER;
    return;
  }
  jit_shape *shape = jit_shape_of(p);
  struct jit_entry *e = shape ? new_entry(p) : NULL;
  if (!e) {
    jit_shape_free(shape);
    p->calls = 0;
    return;
  }
  jit_code *code = J->no_dedup ? NULL : jit_store_find(shape);
  if (code) { /* the same code is already compiled: share it */
    J->shared++;
    jit_shape_free(shape);
    install(S, e, code);
    return;
  }
  const char *name = sx_is_symbol(p->name) ? STR(SYM(p->name)->name)->data : "<lambda>";
  void *fn;
  jit_image *img = jit_disk_load(shape, &fn);
  if (img) { /* compiled by an earlier run: load it */
    jit_perfmap_note(fn, jit_image_symbol_size(img, "sx_lambda_0"), name);
    jit_object *obj = jit_object_loaded(img);
    code = obj ? jit_store_add(shape, fn, obj) : NULL;
    if (obj) jit_object_unref(obj);
    else jit_image_free(img);
    if (code) {
      J->disk_hits++;
      if (code->shape != shape) jit_shape_free(shape);
      install(S, e, code);
      return;
    }
  }
  jit_job *j = calloc(1, sizeof(jit_job));
  if (!j) {
    jit_shape_free(shape);
    free_entry(e);
    return;
  }
  j->shape = shape;
  j->S = S;
  j->entry = e;
  snprintf(j->name, sizeof j->name, "%s", name);
  p->h.flags |= PROTO_QUEUED;
  p->calls = NEVER;
  J->pending++;
  j->queued_at = jit_clock_ms();
  if (J->sync) {
    jit_compile_batch(&j, 1);
    finish_job(S, j);
    return;
  }
  pthread_mutex_lock(jit_lock());
  J->inflight++;
  pthread_mutex_unlock(jit_lock());
  jit_job *dropped = jit_enqueue(j, MAX_PENDING);
  if (dropped) {
    /* the stalest request makes way; its lambda may ask again when it is hot again */
    sx_state *DS = dropped->S;
    pthread_mutex_lock(jit_lock());
    if (DS) DS->jit->inflight--;
    pthread_mutex_unlock(jit_lock());
    if (DS) {
      DS->jit->pending--;
      DS->jit->dropped++;
      if (!dropped->entry->dead) {
        dropped->entry->proto->h.flags &= (uint8_t)~PROTO_QUEUED;
        dropped->entry->proto->calls = 0;
      }
      free_entry(dropped->entry);
    } else {
      jit_entry_free(dropped->entry);
    }
    jit_shape_free(dropped->shape);
    free(dropped);
  }
}

/* ---- calling native code ---------------------------------------------------------------------- */

typedef sx_val (*fn0)(sx_state *, sx_closure *);
typedef sx_val (*fn1)(sx_state *, sx_closure *, sx_val);
typedef sx_val (*fn2)(sx_state *, sx_closure *, sx_val, sx_val);
typedef sx_val (*fn3)(sx_state *, sx_closure *, sx_val, sx_val, sx_val);
typedef sx_val (*fn4)(sx_state *, sx_closure *, sx_val, sx_val, sx_val, sx_val);
typedef sx_val (*fnv)(sx_state *, sx_closure *, sx_val *);
typedef sx_val (*fnr)(sx_state *, sx_closure *, sx_val *, uint64_t);

sx_val jit_invoke(sx_state *S, struct jit_entry *e, sx_val fn, int argc, sx_val *a) {
  sx_closure *cl = CLOSURE(fn);
  e->last_used = S->jit->generation;
  e->hits++;
  S->jit_hits++;
  S->native_depth++;
  vm_native_run run = {S->native_runs, S->nframes}; /* for backtraces (frames.c) */
  S->native_runs = &run;
  sx_val r;
  if (e->rest) r = ((fnr)e->fn)(S, cl, a, (uint64_t)argc);
  else switch (argc) {
  case 0: r = ((fn0)e->fn)(S, cl); break;
  case 1: r = ((fn1)e->fn)(S, cl, a[0]); break;
  case 2: r = ((fn2)e->fn)(S, cl, a[0], a[1]); break;
  case 3: r = ((fn3)e->fn)(S, cl, a[0], a[1], a[2]); break;
  case 4: r = ((fn4)e->fn)(S, cl, a[0], a[1], a[2], a[3]); break;
  default: r = ((fnv)e->fn)(S, cl, a); break;
  }
  S->native_depth--;
  S->native_runs = run.prev;
  return r;
}

/* ---- states ------------------------------------------------------------------------------------ */

void jit_restore_stack_limit(sx_state *S) { vm_sync_native_limit(S); }

static void open_prelude_code(void) { jit_disk_open_system(jit_prelude_dir()); }

void jit_open(sx_state *S) {
  jit_worker_init();
  jit_rt_init(S);
  jit_state *J = calloc(1, sizeof(jit_state));
  if (!J) return;
  J->owner = S;
  J->budget = S->cfg.jit_budget > 0 ? S->cfg.jit_budget : S->cfg.jit_budget < 0 ? 0 : DEFAULT_BUDGET;
  J->sync = S->cfg.jit_sync != 0;
  const char *cdir = S->cfg.jit_cache_dir ? S->cfg.jit_cache_dir : getenv("SX_JIT_CACHE_DIR");
  if (cdir && *cdir && (S->cfg.capabilities & SX_CAP_DISK_CACHE)) jit_disk_open(cdir, 0);
  static pthread_once_t prelude_once = PTHREAD_ONCE_INIT; /* where it is depends on the process */
  pthread_once(&prelude_once, open_prelude_code);
  const char *nd = getenv("SX_JIT_NO_DEDUP"); /* for measuring what dedup saves */
  J->no_dedup = nd && *nd == '1';
  const char *log = getenv("SX_JIT_LOG");
  J->log = log && *log && strcmp(log, "0");
  pthread_cond_init(&J->idle, NULL);
  bool on = (S->cfg.capabilities & SX_CAP_NATIVE) && S->cfg.jit_threshold >= 0 && jit_available();
  J->threshold = S->cfg.jit_threshold > 0 ? S->cfg.jit_threshold : DEFAULT_THRESHOLD;
  S->jit_threshold = on ? J->threshold : INT32_MAX;
  S->jit = J;
  if (on && !J->sync && J->budget > 0) jit_worker_prestart();
  pthread_mutex_lock(jit_lock());
  J->next = all_states;
  all_states = J;
  pthread_mutex_unlock(jit_lock());
}

void jit_close(sx_state *S) {
  jit_state *J = S->jit;
  if (!J) return;
  /* queued jobs are dropped; jobs being compiled finish and are discarded as orphans */
  jit_job *q = jit_dequeue_state(S);
  pthread_mutex_lock(jit_lock());
  for (jit_job *j = q; j; j = j->next) J->inflight--;
  while (J->inflight > 0) pthread_cond_wait(&J->idle, jit_lock());
  for (jit_state **p = &all_states; *p; p = &(*p)->next)
    if (*p == J) {
      *p = J->next;
      break;
    }
  jit_job *done = J->done;
  J->done = NULL;
  pthread_mutex_unlock(jit_lock());
  while (q) {
    jit_job *next = q->next;
    jit_shape_free(q->shape);
    free_entry(q->entry);
    free(q);
    q = next;
  }
  while (done) {
    jit_job *next = done->next;
    if (done->obj) jit_object_unref(done->obj);
    jit_shape_free(done->shape);
    free_entry(done->entry);
    free(done);
    done = next;
  }
  while (J->n) table_remove(S, J->n - 1, false);
  free(J->entries);
  pthread_cond_destroy(&J->idle);
  free(J);
  S->jit = NULL;
  release_dead_code(S);
}
