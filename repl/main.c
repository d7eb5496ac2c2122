/* main.c — the `sx` command: run a file, evaluate an expression, run conformance tests, or
 * talk to a person at the REPL. Uses only the public API in sx.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vm/sx.h"
#include "repl.h"

#define EXIT_USAGE 64
#define EXIT_SYNTAX 65
#define EXIT_RUNTIME 70

static void usage(FILE *out) {
  fprintf(out,
          "usage: sx [OPTIONS] FILE [ARGS...]   run a program\n"
          "       sx [OPTIONS] -e EXPR          evaluate EXPR and write its value\n"
          "       sx [OPTIONS] test PATH...     run conformance test files (folders recurse)\n"
          "       sx [OPTIONS]                  interactive REPL (reads a program from a pipe)\n"
          "options:\n"
          "  -h, --help        this text\n"
          "  -v, --version     print the version\n"
          "  --verbose         (test) a line per file\n"
          "  -q, --quiet       (REPL) no banner\n"
          "  --no-history      (REPL) neither read nor save ~/.sx_history ($SX_HISTORY)\n"
          "  --no-jit          interpreter only\n"
          "  --jit-threshold=N calls before a lambda is compiled to native code (1 = first call)\n"
          "  --jit-budget=N    code cache size in entries (0 = keep no native code)\n"
          "  --jit-sync        compile on the calling thread (deterministic)\n"
          "  --jit-cache-dir=DIR  keep compiled code in DIR for later runs (also $SX_JIT_CACHE_DIR)\n");
}

static int exit_code(sx_status st) {
  switch (st) {
  case SX_OK: return 0;
  case SX_ERR_SYNTAX: return EXIT_SYNTAX;
  default: return EXIT_RUNTIME;
  }
}

static void report(sx_state *S) {
  fprintf(stderr, "%s\n", sx_error_message(S));
  const char *bt = sx_error_backtrace(S);
  if (bt && *bt) fprintf(stderr, "%s\n", bt);
}

static char *read_stream(FILE *f) {
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  size_t k;
  while ((k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += k;
    if (cap - n < 2) {
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        return NULL;
      }
      buf = nb;
    }
  }
  buf[n] = 0;
  return buf;
}

int main(int argc, char **argv) {
  int i = 1, verbose = 0;
  repl_options ropt = {.history = 1, .quiet = 0};
  int jit_threshold = 0, jit_budget = 0, jit_sync = 0;
  const char *jit_cache_dir = NULL;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
      printf("sx %s\n", sx_version());
      return 0;
    } else if (!strcmp(a, "--verbose")) {
      verbose = 1;
    } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
      ropt.quiet = 1;
    } else if (!strcmp(a, "--no-history")) {
      ropt.history = 0;
    } else if (!strcmp(a, "--no-jit")) {
      jit_threshold = -1;
    } else if (!strcmp(a, "--jit-sync")) {
      jit_sync = 1;
    } else if (!strncmp(a, "--jit-threshold=", 16)) {
      jit_threshold = atoi(a + 16);
      if (jit_threshold == 0) jit_threshold = -1; /* 0 and :never both mean off */
    } else if (!strncmp(a, "--jit-cache-dir=", 16)) {
      jit_cache_dir = a + 16;
    } else if (!strncmp(a, "--jit-budget=", 13)) {
      jit_budget = atoi(a + 13);
      if (jit_budget == 0) jit_budget = -1; /* 0 = no native code kept */
    } else if (!strcmp(a, "-e")) {
      break;
    } else {
      fprintf(stderr, "sx: unknown option %s\n", a);
      usage(stderr);
      return EXIT_USAGE;
    }
  }
  sx_config cfg = {0};
  cfg.capabilities = SX_CAP_ALL;
  cfg.jit_threshold = jit_threshold;
  cfg.jit_budget = jit_budget;
  cfg.jit_sync = jit_sync;
  cfg.jit_cache_dir = jit_cache_dir;
  int interactive = i >= argc && isatty(0);
  if (interactive) repl_configure(&cfg);
  sx_state *S = sx_open(&cfg);
  if (!S) {
    fprintf(stderr, "sx: cannot create a state\n");
    return EXIT_RUNTIME;
  }
  int rc = 0;
  if (i < argc && !strcmp(argv[i], "-e")) {
    if (i + 1 >= argc) {
      usage(stderr);
      return EXIT_USAGE;
    }
    sx_set_command_line(S, argc - i - 2, argv + i + 2);
    sx_value v;
    sx_status st = sx_eval_string(S, argv[i + 1], "<command line>", &v);
    if (st == SX_OK) printf("%s\n", sx_to_string(S, v, 1));
    else report(S);
    rc = exit_code(st);
  } else if (i < argc && !strcmp(argv[i], "test")) {
    if (i + 1 >= argc) {
      usage(stderr);
      return EXIT_USAGE;
    }
    rc = sx_run_tests(S, argc - i - 1, argv + i + 1, verbose) ? 1 : 0;
  } else if (i < argc) {
    sx_set_command_line(S, argc - i - 1, argv + i + 1);
    sx_status st = sx_eval_file(S, argv[i], NULL);
    if (st != SX_OK) report(S);
    rc = exit_code(st);
  } else if (interactive) {
    rc = repl_run(S, &ropt);
  } else {
    char *src = read_stream(stdin);
    if (!src) return EXIT_RUNTIME;
    sx_status st = sx_eval_string(S, src, "<stdin>", NULL);
    if (st != SX_OK) report(S);
    rc = exit_code(st);
    free(src);
  }
  fflush(stdout);
  sx_close(S);
  return rc;
}
