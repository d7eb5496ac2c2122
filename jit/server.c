/* server.c — compiling in a separate process, sx-jitc.
 *
 * libgccjit does not give back all it allocates: measured here, ~21 KB of resident memory per
 * compile even for a one-line function with its GC parameters tuned, so a process compiling
 * 20,000 lambdas would grow by ~400 MB. SX therefore never runs libgccjit in the host: the
 * worker thread starts the compile server sx-jitc (posix_spawn, pipes on its standard input
 * and output), sends it batches of shapes, and loads the object it sends back (image.c): no
 * file and no temporary directory of the host's is involved. The server is replaced every
 * JIT_SERVER_COMPILES compiles, bounding its leak; if it crashes or its as/ld are killed, the
 * lambdas are retried later. If sx-jitc cannot be started (not installed, libgccjit or binutils
 * missing), the native tier switches itself off with one warning. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server.h"
#include "disk.h"
#include "wire.h"

extern char **environ;

#ifndef SX_JIT_PRELUDE_DEFAULT
#define SX_JIT_PRELUDE_DEFAULT "" /* builds that do not say: none */
#endif

#define JIT_SERVER_COMPILES 256

static pid_t server_pid = -1;
static bool server_broken;
static int failed_starts; /* sx-jitc could not be started or does not work */
static int to_server = -1, from_server = -1;
static int server_compiles;

static void server_stop(void) {
  if (server_pid < 0) return;
  close(to_server);
  close(from_server);
  kill(server_pid, SIGTERM); /* it exits by itself once its input closes; this is for a stuck one */
  waitpid(server_pid, NULL, 0);
  server_pid = -1;
  to_server = from_server = -1;
}

/* Where sx-jitc is: $SX_JITC, next to the running program (or ../libexec/sx/ from it), or
 * where this build put it. */
static const char *jitc_path(void) {
  static char path[1024];
  const char *env = getenv("SX_JITC");
  if (env && *env) return env;
  char exe[900];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = 0;
      snprintf(path, sizeof path, "%s/sx-jitc", exe);
      if (access(path, X_OK) == 0) return path;
      snprintf(path, sizeof path, "%s/../libexec/sx/sx-jitc", exe);
      if (access(path, X_OK) == 0) return path;
    }
  }
  return SX_JITC_DEFAULT;
}

/* Where the prelude's compiled code is: $SX_JIT_PRELUDE (empty: none), sx-jitc's directory's
 * sx-jit-prelude/, or where this build put it. */
const char *jit_prelude_dir(void) {
  static char path[1100];
  const char *env = getenv("SX_JIT_PRELUDE");
  if (env) return env;
  const char *jitc = jitc_path();
  const char *slash = strrchr(jitc, '/');
  if (slash) {
    snprintf(path, sizeof path, "%.*s/sx-jit-prelude", (int)(slash - jitc), jitc);
    if (access(path, R_OK | X_OK) == 0) return path;
  }
  return SX_JIT_PRELUDE_DEFAULT;
}

static bool server_start(void) {
  if (server_broken) return false;
  int a[2], b[2];
  if (pipe2(a, O_CLOEXEC) != 0) return false;
  if (pipe2(b, O_CLOEXEC) != 0) {
    close(a[0]), close(a[1]);
    return false;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, a[0], 0);
  posix_spawn_file_actions_adddup2(&fa, b[1], 1);
  const char *path = jitc_path();
  char *argv[] = {(char *)"sx-jitc", NULL};
  pid_t pid;
  int rc = posix_spawn(&pid, path, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(a[0]);
  close(b[1]);
  if (rc != 0) {
    close(a[1]);
    close(b[0]);
    server_broken = true;
    fprintf(stderr, "sx: native tier off: cannot start the compiler %s: %s\n", path, strerror(rc));
    return false;
  }
  server_pid = pid;
  to_server = a[1];
  from_server = b[0];
  server_compiles = 0;
  uint64_t layout = 0;
  struct pollfd pfd = {from_server, POLLIN, 0};
  bool answered = poll(&pfd, 1, 10000) == 1; /* a program that is not sx-jitc may never speak */
  if (!answered || !jit_read_all(from_server, &layout, sizeof layout) || layout != jit_layout_id()) {
    server_stop();
    server_broken = true;
    fprintf(stderr, "sx: native tier off: the compiler %s %s\n", path,
            layout ? "belongs to another build of SX" : "does not work");
    return false;
  }
  return true;
}

bool jit_server_usable(void) { return !server_broken; }

/* In a forked child: the server and its pipes are the parent's. Forget them (closing our copies
 * of the pipe ends only) so the child starts a server of its own. */
void jit_server_forget(void) {
  if (server_pid >= 0) {
    close(to_server);
    close(from_server);
  }
  server_pid = -1;
  to_server = from_server = -1;
  server_compiles = 0;
}

void jit_server_warm(void) {
  if (server_pid < 0) server_start();
}

/* Compiles the jobs in the server; false when the server could not be used at all (the caller
 * then compiles in process). Fills each job's fn/obj/err/ms. */
static bool exchange(jit_job **jobs, int n);

/* A server that died makes our writes fail with EPIPE instead of killing the host: SIGPIPE is
 * blocked in this thread for the exchange, and a pending one is taken back. */
bool jit_server_compile(jit_job **jobs, int n) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  bool r = exchange(jobs, n);
  struct timespec zero = {0, 0};
  while (sigtimedwait(&pipe_set, NULL, &zero) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return r;
}

static bool exchange(jit_job **jobs, int n) {
  if (server_pid >= 0 && server_compiles >= JIT_SERVER_COMPILES) server_stop();
  if (server_pid < 0 && !server_start()) {
    for (int i = 0; i < n; i++) snprintf(jobs[i]->err, sizeof jobs[i]->err, "no compiler");
    return false;
  }
  uint32_t nn = (uint32_t)n;
  bool ok = jit_write_all(to_server, &nn, sizeof nn);
  for (int i = 0; ok && i < n; i++) ok = jit_send_shape(to_server, jobs[i]->shape);
  int32_t status = -1;
  double ms = 0;
  uint8_t lowered[64] = {0};
  uint32_t elen = 0, objlen = 0;
  char err[401] = "";
  uint8_t *obj = NULL;
  if (ok) ok = jit_read_all(from_server, &status, sizeof status) && jit_read_all(from_server, &ms, sizeof ms) &&
               jit_read_all(from_server, lowered, (size_t)n) && jit_read_all(from_server, &elen, sizeof elen) &&
               elen <= 400 && jit_read_all(from_server, err, elen) &&
               jit_read_all(from_server, &objlen, sizeof objlen) && objlen <= JIT_WIRE_MAX_OBJECT &&
               (objlen == 0 || ((obj = malloc(objlen)) && jit_read_all(from_server, obj, objlen)));
  if (!ok) {
    free(obj);
    /* the server died (crashed, or killed with its process group): not the lambdas' fault;
       a server that dies before ever answering does not work here at all */
    if (server_compiles == 0 && ++failed_starts >= 3) {
      server_broken = true;
      fprintf(stderr, "sx: native tier off: the compiler %s does not answer\n", jitc_path());
    }
    server_stop();
    for (int i = 0; i < n; i++) snprintf(jobs[i]->err, sizeof jobs[i]->err, "compile server killed");
    return true;
  }
  err[elen] = 0;
  server_compiles += n;
  if (getenv("SX_JIT_LOG")) fprintf(stderr, "jit: batch of %d: %.1f ms\n", n, ms);
  failed_starts = 0;
  int nok = 0;
  for (int i = 0; i < n; i++) nok += lowered[i];
  for (int i = 0; i < n; i++) {
    jobs[i]->ms = nok ? ms / nok : ms;
    if (!lowered[i]) snprintf(jobs[i]->err, sizeof jobs[i]->err, "unsupported bytecode");
    else if (status) snprintf(jobs[i]->err, sizeof jobs[i]->err, "%s", err[0] ? err : "compile failed");
  }
  if (status || !nok || !obj) {
    free(obj);
    if (status && n > 1) { /* one bad lambda must not sink the batch: retry each alone */
      for (int i = 0; i < n; i++)
        if (lowered[i]) {
          jobs[i]->err[0] = 0;
          exchange(&jobs[i], 1);
        }
    }
    return true;
  }
  if (n == 1) jit_disk_store(jobs[0]->shape, obj, objlen);
  char why[160];
  jit_image *img = jit_image_from_memory(obj, objlen, why, sizeof why);
  free(obj);
  jit_object *object = img ? calloc(1, sizeof(jit_object)) : NULL;
  if (!object) {
    for (int i = 0; i < n; i++) snprintf(jobs[i]->err, sizeof jobs[i]->err, "load: %s", img ? "out of memory" : why);
    jit_image_free(img);
    return true;
  }
  object->img = img;
  int got = 0;
  for (int i = 0; i < n; i++) {
    if (!lowered[i]) continue;
    char name[32];
    snprintf(name, sizeof name, "sx_lambda_%d", i);
    jobs[i]->fn = jit_image_symbol(img, name);
    if (jobs[i]->fn) {
      jit_perfmap_note(jobs[i]->fn, jit_image_symbol_size(img, name), jobs[i]->name);
      jobs[i]->obj = object;
      got++;
    } else {
      snprintf(jobs[i]->err, sizeof jobs[i]->err, "compiled code not found");
    }
  }
  if (!got) {
    jit_image_free(img);
    free(object);
    return true;
  }
  jit_object_adopt(object, jobs, n);
  return true;
}
