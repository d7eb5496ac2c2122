/* jitc.c — sx-jitc, the compile server: reads batches of lambda shapes on standard input,
 * lowers each to libgccjit IR (lower.c), compiles the batch to one object and sends it back on
 * standard output (wire.h). It is the only program that links libgccjit: libsx and hosts
 * embedding it never do (libgccjit is GPL-3.0; see README), and libgccjit's per-compile leak
 * (~21 KB, measured) stays in a process the host replaces every few hundred compiles. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <libgccjit.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "wire.h"

/* A relocatable object where the host loads it itself (image.c): no link step, which is half
 * the fixed cost of a compile. */
#if JIT_IMAGE_RELOCATABLE
#define JIT_OUTPUT_KIND GCC_JIT_OUTPUT_KIND_OBJECT_FILE
#else
#define JIT_OUTPUT_KIND GCC_JIT_OUTPUT_KIND_DYNAMIC_LIBRARY
#endif

SX_INTERNAL bool jit_lower(gcc_jit_context *ctx, const jit_shape *shape, const char *name);
SX_INTERNAL void jit_context_options(gcc_jit_context *ctx, bool big);

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Where libgccjit writes each object (it compiles in a temporary directory of its own and
 * copies the result to the path it is given): a memory file of this process, named through
 * /proc, so nothing is left on disk; a file in a private directory where /proc is missing. */
static int out_fd = -1;
static char out_path[600], out_dir[512];

static void remove_out_dir(void) {
  if (out_dir[0]) {
    unlink(out_path);
    rmdir(out_dir);
  }
}

static bool open_output(void) {
  out_fd = memfd_create("sx-jitc-object", MFD_CLOEXEC);
  if (out_fd >= 0) {
    snprintf(out_path, sizeof out_path, "/proc/self/fd/%d", out_fd);
    int probe = open(out_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (probe >= 0) {
      close(probe);
      return true;
    }
    close(out_fd);
  }
  const char *tmp = getenv("TMPDIR");
  snprintf(out_dir, sizeof out_dir, "%s/sx-jitc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(out_dir)) return false;
  atexit(remove_out_dir);
  snprintf(out_path, sizeof out_path, "%s/out.o", out_dir);
  out_fd = -1;
  return true;
}

/* The object libgccjit just wrote, read back (malloc'd); NULL when there is none. */
static uint8_t *read_output(uint32_t *len) {
  size_t n;
  uint8_t *buf = jit_read_file(out_path, JIT_WIRE_MAX_OBJECT, &n);
  *len = (uint32_t)n;
  if (out_fd >= 0) {
    if (ftruncate(out_fd, 0) != 0) { /* the next compile truncates it anyway */ }
  } else {
    unlink(out_path);
  }
  return buf;
}

/* ---- the assembler, started ahead of time -----------------------------------------------------
 * Writing an object, libgccjit runs its driver, which looks for `as` and starts it on the
 * assembly it wrote: measured here, 16 ms for a one-line function, of which 7.5 ms is that
 * assembler step (`as` alone takes 8.5 ms of CPU to start on a small file, mostly page faults).
 * So the server asks libgccjit for assembly only and hands it to an `as` it started while it
 * was waiting: `as --64 -o /proc/self/fd/3 -` reading the assembly on its standard input and
 * writing the object to a memory file it inherits. When that fails in any way (no `as` on the
 * PATH, a killed or failing assembler, no /proc), the batch is compiled to an object the usual
 * way. The server waits for the assembler it leaves behind when it exits (its input closed, or
 * SIGTERM from the host), so that no finished `as` is left for someone else to reap. */
extern char **environ;

typedef struct {
  pid_t pid;
  int in;  /* its standard input, the assembly goes there */
  int obj; /* the memory file it writes the object to (its fd 3) */
} assembler;

static assembler next_as = {-1, -1, -1};
static bool as_broken; /* could not be started: do not try again */

static void as_forget(assembler *a) {
  if (a->in >= 0) close(a->in);
  if (a->obj >= 0) close(a->obj);
  *a = (assembler){-1, -1, -1};
}

static void as_start(void) {
  if (next_as.pid > 0 || as_broken || !JIT_IMAGE_RELOCATABLE) return;
  int obj = memfd_create("sx-jitc-as", MFD_CLOEXEC), p[2] = {-1, -1};
  if (obj >= 0 && obj < 10) { /* not one of the fds the child sets up (dup2 onto itself keeps CLOEXEC) */
    int high = fcntl(obj, F_DUPFD_CLOEXEC, 10);
    close(obj);
    obj = high;
  }
  if (obj < 0 || pipe2(p, O_CLOEXEC) != 0) {
    if (obj >= 0) close(obj);
    as_broken = true;
    return;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[0], 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, obj, 3);
  char *av[] = {(char *)"as", (char *)"--64", (char *)"-o", (char *)"/proc/self/fd/3", (char *)"-", NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, "as", &fa, NULL, av, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(p[0]);
  if (rc != 0) {
    close(p[1]);
    close(obj);
    as_broken = true;
    return;
  }
  next_as = (assembler){pid, p[1], obj};
}

/* The waiting assembler, if any, sees end-of-file (it then exits) and is waited for. */
static void as_reap(void) {
  pid_t pid = next_as.pid;
  if (pid <= 0) return;
  next_as.pid = -1;
  close(next_as.in);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

static void on_term(int sig) {
  (void)sig;
  as_reap(); /* close and waitpid are async-signal-safe */
  _exit(0);
}

/* The object the waiting assembler makes of asm_text (malloc'd), or NULL: the caller then
 * compiles the usual way. The assembler is used up either way. */
static uint8_t *as_assemble(const uint8_t *asm_text, size_t len, uint32_t *objlen) {
  assembler a = next_as;
  next_as = (assembler){-1, -1, -1};
  if (a.pid <= 0) return NULL;
  bool sent = jit_write_all(a.in, asm_text, len);
  close(a.in);
  a.in = -1;
  int status = 0;
  while (waitpid(a.pid, &status, 0) < 0 && errno == EINTR) {
  }
  uint8_t *obj = NULL;
  if (sent && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", a.obj);
    size_t n;
    obj = jit_read_file(path, JIT_WIRE_MAX_OBJECT, &n);
    *objlen = (uint32_t)n;
  }
  as_forget(&a);
  return obj;
}

/* Compiles the lowered batch to an object (malloc'd, *objlen bytes); NULL with *err set. */
static uint8_t *compile_batch(gcc_jit_context *ctx, uint32_t *objlen, const char **err) {
  *objlen = 0;
  if (next_as.pid > 0) {
    gcc_jit_context_compile_to_file(ctx, GCC_JIT_OUTPUT_KIND_ASSEMBLER, out_path);
    if ((*err = gcc_jit_context_get_first_error(ctx))) return NULL;
    uint32_t asmlen;
    uint8_t *text = read_output(&asmlen);
    uint8_t *obj = text ? as_assemble(text, asmlen, objlen) : NULL;
    free(text);
    if (obj) return obj;
  }
  gcc_jit_context_compile_to_file(ctx, JIT_OUTPUT_KIND, out_path);
  if ((*err = gcc_jit_context_get_first_error(ctx))) return NULL;
  uint8_t *obj = read_output(objlen);
  if (!obj) *err = "the compiled object could not be read back";
  return obj;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--version")) {
    printf("sx-jitc %s\n", SX_VERSION_STRING);
    return 0;
  }
  signal(SIGINT, SIG_IGN); /* Ctrl-C at a REPL is for the host; as and ld inherit this */
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_term);
  atexit(as_reap);
  int in = 0, out = 1;
  uint64_t layout = open_output() ? jit_layout_id() : 0; /* 0: "does not work" */
  if (!jit_write_all(out, &layout, sizeof layout) || !layout) return 0;
  as_start();
  for (;;) {
    uint32_t n;
    if (!jit_read_all(in, &n, sizeof n) || n == 0 || n > JIT_WIRE_MAX_JOBS) return 0;
    jit_shape *shapes[JIT_WIRE_MAX_JOBS];
    for (uint32_t i = 0; i < n; i++)
      if (!(shapes[i] = jit_recv_shape(in))) return 0;
    double t0 = now_ms();
    gcc_jit_context *ctx = gcc_jit_context_acquire();
    jit_context_options(ctx, n == 1 && shapes[0]->ncode >= JIT_BIG_LAMBDA);
    uint8_t lowered[JIT_WIRE_MAX_JOBS];
    int nok = 0;
    for (uint32_t i = 0; i < n; i++) {
      char name[32];
      snprintf(name, sizeof name, "sx_lambda_%u", i);
      lowered[i] = jit_lower(ctx, shapes[i], name);
      nok += lowered[i];
    }
    int32_t status = 0;
    const char *err = "";
    uint8_t *obj = NULL;
    uint32_t objlen = 0;
    if (nok) {
      const char *e = NULL;
      if (!(obj = compile_batch(ctx, &objlen, &e))) status = 1, err = e ? e : "compile failed";
    }
    double ms = now_ms() - t0;
    uint32_t elen = (uint32_t)strlen(err);
    if (elen > 400) elen = 400;
    if (!jit_write_all(out, &status, sizeof status) || !jit_write_all(out, &ms, sizeof ms) ||
        !jit_write_all(out, lowered, n) || !jit_write_all(out, &elen, sizeof elen) ||
        !jit_write_all(out, err, elen) || !jit_write_all(out, &objlen, sizeof objlen) ||
        !jit_write_all(out, obj, objlen))
      return 0;
    free(obj);
    gcc_jit_context_release(ctx);
    for (uint32_t i = 0; i < n; i++) jit_shape_free(shapes[i]);
    as_start(); /* for the next batch, while waiting for it */
  }
}
