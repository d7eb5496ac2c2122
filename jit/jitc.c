/* jitc.c — sx-jitc, the compile server: reads batches of lambda shapes on standard input,
 * lowers each to libgccjit IR (lower.c), compiles the batch to one object and sends it back on
 * standard output (wire.h). It is the only program that links libgccjit: libsx and hosts
 * embedding it never do (libgccjit is GPL-3.0; see README), and libgccjit's per-compile leak
 * (~21 KB, measured) stays in a process the host replaces every few hundred compiles. */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <libgccjit.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <stdio.h>
#include <string.h>
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

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--version")) {
    printf("sx-jitc %s\n", SX_VERSION_STRING);
    return 0;
  }
  signal(SIGINT, SIG_IGN); /* Ctrl-C at a REPL is for the host; as and ld inherit this */
  signal(SIGPIPE, SIG_IGN);
  int in = 0, out = 1;
  uint64_t layout = open_output() ? jit_layout_id() : 0; /* 0: "does not work" */
  if (!jit_write_all(out, &layout, sizeof layout) || !layout) return 0;
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
      gcc_jit_context_compile_to_file(ctx, JIT_OUTPUT_KIND, out_path);
      const char *e = gcc_jit_context_get_first_error(ctx);
      if (e) status = 1, err = e;
      else if (!(obj = read_output(&objlen))) status = 1, err = "the compiled object could not be read back";
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
  }
}
