/* worker.h — the compile worker and the process-wide store of compiled code (worker.c). */
#ifndef SX_JIT_WORKER_H
#define SX_JIT_WORKER_H

#include "jit_internal.h"

/* One lambda to compile. Owned by the VM thread until queued, by the worker while compiling,
 * then handed back through jit_job_done (cache.c). */
typedef struct jit_job {
  jit_shape *shape;
  sx_state *S;           /* requesting state; NULL once that state has closed */
  struct jit_entry *entry; /* the cache entry waiting for this code (malloc'd) */
  char name[48];
  /* results */
  void *fn;
  jit_object *obj;
  double ms;
  double queued_at; /* jit_clock_ms when it was asked for (SX_JIT_LOG) */
  char err[200];
  struct jit_job *next;
} jit_job;

SX_INTERNAL void jit_worker_init(void);
SX_INTERNAL void jit_worker_prestart(void);
SX_INTERNAL void jit_compile_batch(jit_job **jobs, int n);
SX_INTERNAL jit_job *jit_enqueue(jit_job *j, int max_pending);
SX_INTERNAL jit_job *jit_dequeue_state(sx_state *S);
SX_INTERNAL int jit_queue_length(void);
SX_INTERNAL pthread_mutex_t *jit_lock(void);
SX_INTERNAL void jit_job_done(jit_job *j); /* cache.c: called by the worker */

SX_INTERNAL jit_code *jit_store_find(const jit_shape *s);
SX_INTERNAL jit_code *jit_store_add(jit_shape *s, void *fn, jit_object *obj);
SX_INTERNAL void jit_code_unref(jit_code *c);
SX_INTERNAL void jit_object_unref(jit_object *o);
SX_INTERNAL size_t jit_store_code_bytes(void);
SX_INTERNAL void jit_register_unwind_tables(void);
SX_INTERNAL void jit_release_graveyard(const void *stack_lo, const void *stack_hi);
SX_INTERNAL bool jit_graveyard_empty(void);
SX_INTERNAL jit_object *jit_object_loaded(jit_image *img);
SX_INTERNAL void jit_perfmap_note(const void *fn, size_t size, const char *name);
SX_INTERNAL double jit_clock_ms(void); /* ms since the native tier first opened in this process */

#endif
