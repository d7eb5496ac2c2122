/* jitc.c — sx-jitc, the compile server: reads batches of lambda shapes on standard input,
 * lowers each to libgccjit IR (lower.c), compiles the batch to one shared object and answers
 * on standard output. It is the only program that links libgccjit: libsx and hosts embedding
 * it never do (libgccjit is GPL-3.0; see README), and libgccjit's per-compile leak (~21 KB,
 * measured) stays in a process the host replaces every few hundred compiles. */
#include <libgccjit.h>
#include <signal.h>
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
SX_INTERNAL void jit_context_options(gcc_jit_context *ctx);

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--version")) {
    printf("sx-jitc %s\n", SX_VERSION_STRING);
    return 0;
  }
  signal(SIGINT, SIG_IGN); /* Ctrl-C at a REPL is for the host; as and ld inherit this */
  signal(SIGPIPE, SIG_IGN);
  int in = 0, out = 1;
  uint64_t layout = jit_layout_id();
  if (!jit_write_all(out, &layout, sizeof layout)) return 0;
  for (;;) {
    uint32_t n, plen;
    char path[600];
    if (!jit_read_all(in, &n, sizeof n) || n == 0 || n > JIT_WIRE_MAX_JOBS) return 0;
    if (!jit_read_all(in, &plen, sizeof plen) || plen >= sizeof path || !jit_read_all(in, path, plen)) return 0;
    path[plen] = 0;
    jit_shape *shapes[JIT_WIRE_MAX_JOBS];
    for (uint32_t i = 0; i < n; i++)
      if (!(shapes[i] = jit_recv_shape(in))) return 0;
    double t0 = now_ms();
    gcc_jit_context *ctx = gcc_jit_context_acquire();
    jit_context_options(ctx);
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
    if (nok) {
      gcc_jit_context_compile_to_file(ctx, JIT_OUTPUT_KIND, path);
      const char *e = gcc_jit_context_get_first_error(ctx);
      if (e) status = 1, err = e;
    }
    double ms = now_ms() - t0;
    uint32_t elen = (uint32_t)strlen(err);
    if (elen > 400) elen = 400;
    if (!jit_write_all(out, &status, sizeof status) || !jit_write_all(out, &ms, sizeof ms) ||
        !jit_write_all(out, lowered, n) || !jit_write_all(out, &elen, sizeof elen) ||
        !jit_write_all(out, err, elen))
      return 0;
    gcc_jit_context_release(ctx);
    for (uint32_t i = 0; i < n; i++) jit_shape_free(shapes[i]);
  }
}
