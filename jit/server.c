/* server.c — compiling in a separate process.
 *
 * libgccjit does not give back all it allocates: measured here, ~21 KB of resident memory per
 * compile even for a one-line function with its GC parameters tuned, so a process that compiles
 * 20,000 lambdas would grow by ~400 MB. SX therefore runs libgccjit in a compile server: a child
 * forked from the worker thread, which lowers and compiles batches to shared objects in a
 * private directory (mode 0700) and answers with the file name; the worker dlopens the file and
 * unlinks it at once. The server is replaced every JIT_SERVER_COMPILES compiles, so its leak is
 * bounded, and a crash or a killed `as`/`ld` in it costs a retry, never the host. */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

#define JIT_SERVER_COMPILES 256

static pid_t server_pid = -1;
static int to_server = -1, from_server = -1;
static int server_compiles;
static char dir[512];
static unsigned long file_counter;

static bool write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= (size_t)k;
  }
  return true;
}

static bool read_all(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n) {
    ssize_t k = read(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= (size_t)k;
  }
  return true;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- the wire format: a request is a batch of shapes, the answer a status and a path ---- */

typedef struct {
  uint32_t ncode;
  uint16_t nparams, nlocals, maxstack, flags;
} wire_shape;

static bool send_shape(int fd, const jit_shape *s) {
  wire_shape w = {s->ncode, s->nparams, s->nlocals, s->maxstack, s->flags};
  return write_all(fd, &w, sizeof w) && write_all(fd, s->code, s->ncode * sizeof(uint32_t)) &&
         write_all(fd, s->child_nfree, s->ncode * sizeof(uint16_t));
}

static jit_shape *recv_shape(int fd) {
  wire_shape w;
  if (!read_all(fd, &w, sizeof w) || w.ncode > (1u << 24)) return NULL;
  jit_shape *s = calloc(1, sizeof(jit_shape));
  s->ncode = w.ncode;
  s->nparams = w.nparams;
  s->nlocals = w.nlocals;
  s->maxstack = w.maxstack;
  s->flags = w.flags;
  s->code = malloc(w.ncode * sizeof(uint32_t) + 1);
  s->child_nfree = malloc(w.ncode * sizeof(uint16_t) + 1);
  if (!read_all(fd, s->code, w.ncode * sizeof(uint32_t)) ||
      !read_all(fd, s->child_nfree, w.ncode * sizeof(uint16_t))) {
    jit_shape_free(s);
    return NULL;
  }
  return s;
}

/* ---- the server process -------------------------------------------------------------------- */

static SX_NORETURN void server_main(int in, int out) {
  signal(SIGINT, SIG_IGN); /* Ctrl-C at a REPL is for the host; as/ld inherit this */
  signal(SIGPIPE, SIG_IGN);
  for (;;) {
    uint32_t n;
    char path[600];
    if (!read_all(in, &n, sizeof n) || n == 0 || n > 64) _exit(0);
    uint32_t plen;
    if (!read_all(in, &plen, sizeof plen) || plen >= sizeof path || !read_all(in, path, plen)) _exit(0);
    path[plen] = 0;
    jit_shape *shapes[64];
    for (uint32_t i = 0; i < n; i++)
      if (!(shapes[i] = recv_shape(in))) _exit(0);
    double t0 = now_ms();
    gcc_jit_context *ctx = gcc_jit_context_acquire();
    jit_context_options(ctx);
    uint8_t lowered[64];
    int nok = 0;
    for (uint32_t i = 0; i < n; i++) {
      char name[32];
      snprintf(name, sizeof name, "sx_lambda_%u", i);
      lowered[i] = jit_lower(ctx, shapes[i], name);
      nok += lowered[i];
    }
    int32_t status = 0;
    const char *err = "";
    if (nok) {
      gcc_jit_context_compile_to_file(ctx, GCC_JIT_OUTPUT_KIND_DYNAMIC_LIBRARY, path);
      const char *e = gcc_jit_context_get_first_error(ctx);
      if (e) status = 1, err = e;
    }
    double ms = now_ms() - t0;
    uint32_t elen = (uint32_t)strlen(err);
    if (elen > 400) elen = 400;
    if (!write_all(out, &status, sizeof status) || !write_all(out, &ms, sizeof ms) ||
        !write_all(out, lowered, n) || !write_all(out, &elen, sizeof elen) ||
        !write_all(out, err, elen))
      _exit(0);
    gcc_jit_context_release(ctx);
    for (uint32_t i = 0; i < n; i++) jit_shape_free(shapes[i]);
  }
}

static void server_stop(void) {
  if (server_pid < 0) return;
  close(to_server);
  close(from_server);
  waitpid(server_pid, NULL, 0);
  server_pid = -1;
  to_server = from_server = -1;
}

/* The directory is ours (made by mkdtemp) and empty: each file is unlinked once loaded. */
static void remove_dir(void) {
  if (dir[0] && getpid() != server_pid) rmdir(dir);
}

static bool make_dir(void) {
  if (dir[0]) return true;
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/sx-jit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) { /* mode 0700, ours */
    dir[0] = 0;
    return false;
  }
  atexit(remove_dir);
  return true;
}

static bool server_start(void) {
  if (!make_dir()) return false;
  int a[2], b[2];
  if (pipe2(a, O_CLOEXEC) != 0) return false;
  if (pipe2(b, O_CLOEXEC) != 0) {
    close(a[0]), close(a[1]);
    return false;
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
    return false;
  }
  if (pid == 0) {
    close(a[1]);
    close(b[0]);
    server_main(a[0], b[1]);
  }
  close(a[0]);
  close(b[1]);
  server_pid = pid;
  to_server = a[1];
  from_server = b[0];
  server_compiles = 0;
  return true;
}

/* Compiles the jobs in the server; false when the server could not be used at all (the caller
 * then compiles in process). Fills each job's fn/obj/err/ms. */
bool jit_server_compile(jit_job **jobs, int n) {
  if (server_pid >= 0 && server_compiles >= JIT_SERVER_COMPILES) server_stop();
  if (server_pid < 0 && !server_start()) return false;
  char path[600];
  snprintf(path, sizeof path, "%s/sx-jit-%lu.so", dir, ++file_counter);
  uint32_t nn = (uint32_t)n, plen = (uint32_t)strlen(path);
  bool ok = write_all(to_server, &nn, sizeof nn) && write_all(to_server, &plen, sizeof plen) &&
            write_all(to_server, path, plen);
  for (int i = 0; ok && i < n; i++) ok = send_shape(to_server, jobs[i]->shape);
  int32_t status = -1;
  double ms = 0;
  uint8_t lowered[64] = {0};
  uint32_t elen = 0;
  char err[401] = "";
  if (ok) ok = read_all(from_server, &status, sizeof status) && read_all(from_server, &ms, sizeof ms) &&
               read_all(from_server, lowered, (size_t)n) && read_all(from_server, &elen, sizeof elen) &&
               elen <= 400 && read_all(from_server, err, elen);
  if (!ok) {
    /* the server died (crashed, or killed with its process group): not the lambdas' fault */
    server_stop();
    for (int i = 0; i < n; i++) snprintf(jobs[i]->err, sizeof jobs[i]->err, "compile server killed");
    return true;
  }
  err[elen] = 0;
  server_compiles += n;
  int nok = 0;
  for (int i = 0; i < n; i++) nok += lowered[i];
  for (int i = 0; i < n; i++) {
    jobs[i]->ms = nok ? ms / nok : ms;
    if (!lowered[i]) snprintf(jobs[i]->err, sizeof jobs[i]->err, "unsupported bytecode");
    else if (status) snprintf(jobs[i]->err, sizeof jobs[i]->err, "%s", err[0] ? err : "compile failed");
  }
  if (status || !nok) {
    unlink(path);
    if (status && n > 1) { /* one bad lambda must not sink the batch: retry each alone */
      for (int i = 0; i < n; i++)
        if (lowered[i]) {
          jobs[i]->err[0] = 0;
          jit_server_compile(&jobs[i], 1);
        }
    }
    return true;
  }
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  unlink(path); /* mapped now; nothing is left on disk */
  if (!dl) {
    for (int i = 0; i < n; i++) snprintf(jobs[i]->err, sizeof jobs[i]->err, "dlopen: %s", dlerror());
    return true;
  }
  jit_object *obj = calloc(1, sizeof(jit_object));
  obj->dl = dl;
  int got = 0;
  for (int i = 0; i < n; i++) {
    if (!lowered[i]) continue;
    char name[32];
    snprintf(name, sizeof name, "sx_lambda_%d", i);
    jobs[i]->fn = dlsym(dl, name);
    if (jobs[i]->fn) {
      jobs[i]->obj = obj;
      got++;
    } else {
      snprintf(jobs[i]->err, sizeof jobs[i]->err, "compiled code not found");
    }
  }
  if (!got) {
    dlclose(dl);
    free(obj);
    return true;
  }
  jit_object_adopt(obj, jobs, n);
  return true;
}

void jit_server_release(void *dl) { dlclose(dl); }
