/* worker.c — the process-wide compile worker and store of compiled code.
 *
 * One background thread talks to the compile server (server.c). The VM thread hands it jobs
 * holding only malloc'd shapes (never GC memory); the worker batches up to JIT_BATCH of them
 * into one libgccjit context (the ~10 ms fixed cost is per context) and hands results back,
 * which the VM installs at a safe point. Compiled code is shared by content:
 * the store maps shapes to code, reference counted, across all states of the process. A
 * compiled object (one libgccjit result) is released only when no state is running native code,
 * so evicting or resetting from inside compiled code never frees code that is on the stack.
 *
 * This file and cache.c hold the process-wide state libgccjit and threads force on us. */
#define _GNU_SOURCE 1
#include <gc/gc.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "disk.h"
#include "server.h"
#include "wire.h"

/* Lambdas per libgccjit context. Batching saves the fixed cost of a context (~5 ms now that
 * objects are not linked) but nothing is installed until the whole batch is done: a cold
 * program whose first hot lambdas wait for a batch of 8 waited ~190 ms (deriv). */
#define JIT_BATCH 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_t thread;
static bool thread_running;
static jit_job *queue_head, *queue_tail; /* pending, oldest first */
static int queue_len;
static jit_object *graveyard;
/* Part of every shape hash (and so of every disk cache file name): code compiled by another
 * build of SX may depend on another state layout. */
static uint64_t build_id;


/* ---- shapes ------------------------------------------------------------------------------ */

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

bool jit_can_compile(sx_proto *p) {
  if (p->nparams > JIT_MAX_ARGS) return false;
  for (uint32_t i = 0; i < p->ncode; i++) {
    int op = INS_OP(p->code[i]);
    /* compiled calls pass arguments through a JIT_MAX_ARGS-word buffer (and S->tail_args) */
    if ((op == OP_CALL || op == OP_TAILCALL) && INS_A(p->code[i]) > JIT_MAX_ARGS) return false;
    if (op == OP_CLOSURE) i += PROTO(p->consts[INS_A(p->code[i])])->nfree;
    else if (op == OP_PATCH) i++;
  }
  return true;
}

#ifndef SX_CODEGEN_ID
#define SX_CODEGEN_ID 0u /* set by the Makefile: a checksum of the lowering's sources */
#endif
static void init_build_id(void) {
  const char *id = SX_VERSION_STRING " " __DATE__ " " __TIME__;
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char *c = id; *c; c++) h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
  build_id = mix(mix(h, sizeof(sx_state)), SX_CODEGEN_ID);
}

jit_shape *jit_shape_of(sx_proto *p) {
  if (!build_id) init_build_id();
  jit_shape *s = calloc(1, sizeof(jit_shape));
  if (!s) return NULL;
  s->ncode = p->ncode;
  s->nparams = p->nparams;
  s->nlocals = p->nlocals;
  s->maxstack = p->maxstack;
  s->flags = p->h.flags & PROTO_REST;
  s->code = malloc(p->ncode * sizeof(uint32_t));
  s->aux = calloc(p->ncode, sizeof(uint16_t));
  if (!s->code || !s->aux) {
    jit_shape_free(s);
    return NULL;
  }
  memcpy(s->code, p->code, p->ncode * sizeof(uint32_t));
  uint64_t h = mix(build_id, p->ncode);
  h = mix(h, ((uint64_t)p->nparams << 32) | ((uint64_t)p->nlocals << 16) | p->maxstack);
  h = mix(h, s->flags);
  /* every word goes into the hash; only instruction words (not the operand words after
     CLOSURE and PATCH) are looked at as instructions */
  uint32_t skip = 0;
  for (uint32_t i = 0; i < p->ncode; i++) {
    h = mix(h, p->code[i]);
    if (skip) {
      skip--;
      continue;
    }
    int op = INS_OP(p->code[i]);
    if (op == OP_CLOSURE) {
      s->aux[i] = PROTO(p->consts[INS_A(p->code[i])])->nfree;
      skip = s->aux[i];
      h = mix(h, s->aux[i]);
    } else if (op == OP_PATCH) {
      skip = 1;
    } else if (op == OP_CONST && sx_is_flonum(p->consts[INS_A(p->code[i])])) {
      s->aux[i] = AUX_FLONUM;
      h = mix(h, s->aux[i]);
    } else if (op == OP_CONST && sx_is_fixnum(p->consts[INS_A(p->code[i])])) {
      s->aux[i] = AUX_FIXNUM;
      h = mix(h, s->aux[i]);
    } else if (op == OP_GLOBAL) {
      /* a call through a global that names this lambda (a recursive define): compiled as a
         self call with a compact fallback for when the global changes */
      sx_val v = CELL(p->consts[INS_A(p->code[i])])->value;
      if (sx_is_closure(v) && CLOSURE(v)->proto == p) {
        s->aux[i] = AUX_GLOBAL_SELF;
        h = mix(h, s->aux[i] + 16);
      }
    }
  }
  s->hash = h;
  return s;
}

bool jit_shape_equal(const jit_shape *a, const jit_shape *b) {
  return a->hash == b->hash && a->ncode == b->ncode && a->nparams == b->nparams &&
         a->nlocals == b->nlocals && a->maxstack == b->maxstack && a->flags == b->flags &&
         !memcmp(a->code, b->code, a->ncode * sizeof(uint32_t)) &&
         !memcmp(a->aux, b->aux, a->ncode * sizeof(uint16_t));
}

/* ---- the store of compiled code (dedup by shape) ------------------------------------------ */

#define STORE_BUCKETS 4096
static jit_code *store[STORE_BUCKETS];
static size_t store_code_bytes;
static uint64_t store_adds, store_adds_registered; /* code added; when unwind tables were last registered */

jit_code *jit_store_find(const jit_shape *s) {
  pthread_mutex_lock(&lock);
  jit_code *c = store[s->hash % STORE_BUCKETS];
  for (; c; c = c->next)
    if (jit_shape_equal(c->shape, s)) {
      c->refs++;
      break;
    }
  pthread_mutex_unlock(&lock);
  return c;
}

/* Adds freshly compiled code (refs 1); if equal code got in first, returns that one instead. */
jit_code *jit_store_add(jit_shape *s, void *fn, jit_object *obj) {
  pthread_mutex_lock(&lock);
  jit_code **bucket = &store[s->hash % STORE_BUCKETS];
  for (jit_code *c = *bucket; c; c = c->next)
    if (jit_shape_equal(c->shape, s)) {
      c->refs++;
      pthread_mutex_unlock(&lock);
      return c;
    }
  jit_code *c = calloc(1, sizeof(jit_code));
  if (!c) {
    pthread_mutex_unlock(&lock);
    return NULL;
  }
  c->shape = s;
  c->fn = fn;
  c->obj = obj;
  c->refs = 1;
  obj->refs++;
  c->next = *bucket;
  *bucket = c;
  store_adds++;
  pthread_mutex_unlock(&lock);
  return c;
}

/* Before a backtrace walks through compiled frames: every object's unwind table made known to
 * the unwinder (image.c registers each one once), unless nothing was added since last time.
 * Objects in the graveyard were in the store before, and may still be running. */
void jit_register_unwind_tables(void) {
  pthread_mutex_lock(&lock);
  if (store_adds != store_adds_registered) {
    store_adds_registered = store_adds;
    for (int b = 0; b < STORE_BUCKETS; b++)
      for (jit_code *c = store[b]; c; c = c->next) jit_image_register_unwind(c->obj->img);
    for (jit_object *g = graveyard; g; g = g->next_dead) jit_image_register_unwind(g->img);
  }
  pthread_mutex_unlock(&lock);
}

static void object_unref_locked(jit_object *o) {
  if (--o->refs > 0) return;
  store_code_bytes -= o->code_bytes;
  o->next_dead = graveyard;
  graveyard = o;
}

void jit_object_unref(jit_object *o) {
  pthread_mutex_lock(&lock);
  object_unref_locked(o);
  pthread_mutex_unlock(&lock);
}

void jit_code_unref(jit_code *c) {
  pthread_mutex_lock(&lock);
  if (--c->refs == 0) {
    jit_code **p = &store[c->shape->hash % STORE_BUCKETS];
    while (*p && *p != c) p = &(*p)->next;
    if (*p) *p = c->next;
    object_unref_locked(c->obj);
    jit_shape_free(c->shape);
    free(c);
  }
  pthread_mutex_unlock(&lock);
}

size_t jit_store_code_bytes(void) { return store_code_bytes; }

/* Whether a word on this thread's stack points into o's code: a return address of a native
 * frame that is still running it. Conservative, like the collector's own stack scan. */
static bool on_stack(const jit_object *o, const uintptr_t *lo, const uintptr_t *hi) {
  for (const uintptr_t *p = lo; p < hi; p++)
    if (*p >= o->lo && *p < o->hi) return true;
  return false;
}

/* Releases dead objects that no native frame of this thread can be running; the caller has
 * checked that no other thread runs native code. */
void jit_release_graveyard(const void *stack_lo, const void *stack_hi) {
  pthread_mutex_lock(&lock);
  jit_object *g = graveyard, *keep = NULL;
  unsigned long released = 0;
  graveyard = NULL;
  pthread_mutex_unlock(&lock);
  while (g) {
    jit_object *next = g->next_dead;
    if (stack_lo && on_stack(g, stack_lo, stack_hi)) {
      g->next_dead = keep;
      keep = g;
    } else {
      jit_image_free(g->img);
      free(g);
      released++;
    }
    g = next;
  }
  /* libgccjit's allocations per compile are freed but leave glibc's heap fragmented; give the
     free pages back every so often so resident memory follows what is live */
  static unsigned long since_trim;
  if ((since_trim += released) >= 64) {
    since_trim = 0;
    malloc_trim(0);
  }
  if (keep) {
    pthread_mutex_lock(&lock);
    jit_object *last = keep;
    while (last->next_dead) last = last->next_dead;
    last->next_dead = graveyard;
    graveyard = keep;
    pthread_mutex_unlock(&lock);
  }
}

bool jit_graveyard_empty(void) { return graveyard == NULL; }

bool jit_is_code_object(const char *path) {
  /* where objects go through dlopen (image.c), they are opened from memory files through /proc;
     on x86-64 the host maps them itself and the dynamic linker never sees them */
  return path && !strncmp(path, "/proc/self/fd/", 14);
}

static double clock_origin;

static double monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double jit_clock_ms(void) { return monotonic_ms() - clock_origin; }

/* ---- perf's map of compiled code ----------------------------------------------------------
 * SX_JIT_PERFMAP=1: every piece of code loaded is listed in /tmp/perf-PID.map (where perf
 * looks for code it has no file for) as "start size sx:NAME", so perf report names compiled
 * lambdas. Entries are never removed: perf reads the file after the run. */
static pthread_mutex_t perfmap_lock = PTHREAD_MUTEX_INITIALIZER;

void jit_perfmap_note(const void *fn, size_t size, const char *name) {
  static FILE *map;
  static int state; /* 0 not looked at yet, 1 on, 2 off */
  pthread_mutex_lock(&perfmap_lock);
  if (state == 0) {
    const char *env = getenv("SX_JIT_PERFMAP");
    state = env && *env == '1' ? 1 : 2;
    if (state == 1) {
      char path[64];
      snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
      if (!(map = fopen(path, "a"))) state = 2;
    }
  }
  if (state == 1 && fn) {
    fprintf(map, "%lx %zx sx:%s\n", (unsigned long)(uintptr_t)fn, size ? size : 1, name);
    fflush(map);
  }
  pthread_mutex_unlock(&perfmap_lock);
}

/* ---- compiling ---------------------------------------------------------------------------- */

/* Accounts a loaded object holding the code of the jobs that have fn set: one reference per
 * job until the VM thread installs or drops it. */
void jit_object_adopt(jit_object *obj, jit_job **jobs, int n) {
  jit_image_extent(obj->img, &obj->lo, &obj->hi, &obj->code_bytes);
  pthread_mutex_lock(&lock);
  store_code_bytes += obj->code_bytes;
  for (int i = 0; i < n; i++)
    if (jobs[i]->fn) obj->refs++;
  pthread_mutex_unlock(&lock);
}

/* An object loaded from the disk cache: one reference, for the caller. */
jit_object *jit_object_loaded(jit_image *img) {
  jit_object *obj = calloc(1, sizeof(jit_object));
  if (!obj) return NULL;
  obj->img = img;
  jit_image_extent(img, &obj->lo, &obj->hi, &obj->code_bytes);
  pthread_mutex_lock(&lock);
  store_code_bytes += obj->code_bytes;
  obj->refs = 1;
  pthread_mutex_unlock(&lock);
  return obj;
}

/* Compiles a batch in the compile server. Runs on the worker thread, or the VM thread in sync
 * mode; touches no GC memory. */
void jit_compile_batch(jit_job **jobs, int n) { jit_server_compile(jobs, n); }

/* ---- the worker thread ------------------------------------------------------------------ */

static void *worker_main(void *arg) {
  (void)arg;
  /* start the compile server right away: by the time the first lambda is hot, the server has
     loaded libgccjit and the first compile does not pay for it */
  jit_server_warm();
  for (;;) {
    pthread_mutex_lock(&lock);
    while (!queue_head) pthread_cond_wait(&wake, &lock);
    jit_job *batch[JIT_BATCH];
    int n = 0;
    /* with the disk cache on, one lambda per object so files are reusable one by one */
    int max = jit_disk_enabled() ? 1 : JIT_BATCH;
    while (queue_head && n < max) {
      jit_job *j = queue_head;
      /* a big lambda goes alone (it is compiled at -O1), and a batch does not wait for it */
      bool big = j->shape->ncode >= JIT_BIG_LAMBDA;
      if (big && n > 0) break;
      queue_head = j->next;
      if (!queue_head) queue_tail = NULL;
      queue_len--;
      j->next = NULL;
      batch[n++] = j;
      if (big) break;
    }
    pthread_mutex_unlock(&lock);
    jit_compile_batch(batch, n);
    for (int i = 0; i < n; i++) jit_job_done(batch[i]);
  }
  return NULL;
}

static void start_worker(void) {
  if (thread_running) return;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&thread, &attr, worker_main, NULL) == 0) thread_running = true;
  pthread_attr_destroy(&attr);
}

/* A forked child has no worker thread: start a fresh one when it first compiles. */
static void after_fork_child(void) {
  thread_running = false;
  jit_server_forget();
  pthread_mutex_init(&lock, NULL);
  pthread_cond_init(&wake, NULL);
}

static void init_once(void) {
  clock_origin = monotonic_ms();
  pthread_atfork(NULL, NULL, after_fork_child);
}

void jit_worker_init(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, init_once);
}

/* Starts the worker (and with it the compile server) before anything is hot. */
void jit_worker_prestart(void) {
  pthread_mutex_lock(&lock);
  start_worker();
  pthread_mutex_unlock(&lock);
}

/* Queues a job; when the queue is full the stalest job is dropped and returned (else NULL). */
jit_job *jit_enqueue(jit_job *j, int max_pending) {
  jit_job *dropped = NULL;
  pthread_mutex_lock(&lock);
  start_worker();
  if (queue_len >= max_pending && queue_head) {
    dropped = queue_head;
    queue_head = dropped->next;
    if (!queue_head) queue_tail = NULL;
    queue_len--;
    dropped->next = NULL;
  }
  j->next = NULL;
  if (queue_tail) queue_tail->next = j;
  else queue_head = j;
  queue_tail = j;
  queue_len++;
  pthread_cond_signal(&wake);
  pthread_mutex_unlock(&lock);
  return dropped;
}

/* Removes every queued job of state S (it is closing); returns them as a list. */
jit_job *jit_dequeue_state(sx_state *S) {
  jit_job *out = NULL;
  pthread_mutex_lock(&lock);
  jit_job **p = &queue_head;
  queue_tail = NULL;
  while (*p) {
    jit_job *j = *p;
    if (j->S == S) {
      *p = j->next;
      queue_len--;
      j->next = out;
      out = j;
    } else {
      queue_tail = j;
      p = &j->next;
    }
  }
  pthread_mutex_unlock(&lock);
  return out;
}

int jit_queue_length(void) { return queue_len; }

pthread_mutex_t *jit_lock(void) { return &lock; }
