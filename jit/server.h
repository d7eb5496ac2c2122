/* server.h — the out-of-process compile server (server.c). */
#ifndef SX_JIT_SERVER_H
#define SX_JIT_SERVER_H

#include "worker.h"

SX_INTERNAL bool jit_server_compile(jit_job **jobs, int n);
SX_INTERNAL bool jit_server_usable(void);
SX_INTERNAL void jit_server_forget(void); /* in a forked child */
SX_INTERNAL void jit_server_warm(void); /* worker thread: start the server if it is not running */
SX_INTERNAL const char *jit_prelude_dir(void);
/* worker.c: takes a freshly loaded object holding the jobs' code into the store's accounting */
SX_INTERNAL void jit_object_adopt(jit_object *obj, jit_job **jobs, int n);

#endif
