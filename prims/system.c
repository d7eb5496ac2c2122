/* system.c — evaluation, errors, output, and the host: time, memory, files, process. */
#include <gc/gc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prims.h"

PRIM_FN(p_eval) {
  sx_env *env = argc > 1 ? ENV(argv[1]) : S->cur_env;
  sx_env *save = S->cur_env;
  S->cur_env = env;
  sx_val r = vm_eval(S, argv[0], env);
  S->cur_env = save;
  return r;
}

PRIM_FN(p_make_env) { UNUSED_ARGS; return sx_from_obj(vm_env_new(S, S->root)); }

PRIM_FN(p_eval_string) {
  sx_env *env = argc > 1 ? ENV(argv[1]) : vm_env_new(S, S->root);
  sx_env *save = S->cur_env;
  S->cur_env = env;
  sx_val r = vm_eval_string(S, STR(argv[0])->data, STR(argv[0])->nbytes,
                            vm_cstring(S, "<eval-string>"), env);
  S->cur_env = save;
  return r;
}

PRIM_FN(p_macroexpand) { UNUSED_ARGS; return vm_macroexpand(S, argv[0], S->cur_env); }

PRIM_FN(p_error) {
  sx_val msg = sx_is_string(argv[0]) ? argv[0] : vm_to_string(S, argv[0], false);
  vm_raise(S, vm_make_error(S, msg, vm_list_from(S, (size_t)argc - 1, argv + 1)));
}

PRIM_FN(p_raise) { UNUSED_ARGS; vm_raise(S, argv[0]); }
PRIM_FN(p_error_message) { UNUSED_ARGS; return ERR(argv[0])->message; }
PRIM_FN(p_error_irritants) { UNUSED_ARGS; return ERR(argv[0])->irritants; }
PRIM_FN(p_error_backtrace) {
  UNUSED_ARGS;
  return sx_is_pair(ERR(argv[0])->backtrace) ? ERR(argv[0])->backtrace : SX_EMPTY;
}
PRIM_FN(p_void) { UNUSED_ARGS; return SX_NIL; }

PRIM_FN(p_write_to_string) { UNUSED_ARGS; return vm_to_string(S, argv[0], true); }

static void print_value(sx_state *S, sx_val v, bool write) {
  vm_buf b = {0};
  vm_print(S, &b, v, write);
  vm_output(S, b.buf ? b.buf : "", b.len);
  vm_buf_free(&b);
}

PRIM_FN(p_display) { UNUSED_ARGS; print_value(S, argv[0], false); return SX_NIL; }
PRIM_FN(p_write) { UNUSED_ARGS; print_value(S, argv[0], true); return SX_NIL; }

static void print_all(sx_state *S, int argc, sx_val *argv, bool nl) {
  vm_buf b = {0};
  for (int i = 0; i < argc; i++) {
    if (i) vm_buf_addc(&b, ' ');
    vm_print(S, &b, argv[i], false);
  }
  if (nl) vm_buf_addc(&b, '\n');
  vm_output(S, b.buf ? b.buf : "", b.len);
  vm_buf_free(&b);
}

PRIM_FN(p_print) { print_all(S, argc, argv, false); return SX_NIL; }
PRIM_FN(p_println) { print_all(S, argc, argv, true); return SX_NIL; }
PRIM_FN(p_newline) { UNUSED_ARGS; vm_output(S, "\n", 1); return SX_NIL; }
PRIM_FN(p_read_line) { UNUSED_ARGS; return vm_read_line(S); }

PRIM_FN(p_current_time_ms) {
  UNUSED_ARGS;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return vm_flonum(S, (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
}

PRIM_FN(p_gc) { UNUSED_ARGS; GC_gcollect(); return SX_NIL; }

/* Resident set size from /proc/self/status (VmRSS), in bytes; 0 where unavailable. */
static int64_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  int64_t kb = 0;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6)) {
      kb = atoll(line + 6);
      break;
    }
  fclose(f);
  return kb * 1024;
}

PRIM_FN(p_memory_stats) {
  UNUSED_ARGS;
  sx_val d = vm_dict(S, 8);
  vm_dict_set(S, d, vm_keyword(S, "heap-bytes"), sx_mkfix((int64_t)GC_get_heap_size()));
  vm_dict_set(S, d, vm_keyword(S, "heap-free-bytes"), sx_mkfix((int64_t)GC_get_free_bytes()));
  vm_dict_set(S, d, vm_keyword(S, "rss-bytes"), sx_mkfix(rss_bytes()));
  vm_dict_set(S, d, vm_keyword(S, "gc-count"), sx_mkfix((int64_t)GC_get_gc_no()));
  vm_dict_set(S, d, vm_keyword(S, "allocated-bytes"), sx_mkfix((int64_t)GC_get_total_bytes()));
  arr_memory_stats(S, d);
  return d;
}

static char *slurp(sx_state *S, const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  vm_buf b = {0};
  char chunk[65536];
  size_t k;
  while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) vm_buf_add(&b, chunk, k);
  fclose(f);
  (void)S;
  *n = b.len;
  if (!b.buf) vm_buf_add(&b, "", 0);
  return b.buf;
}

PRIM_FN(p_read_file) {
  UNUSED_ARGS;
  size_t n;
  char *text = slurp(S, STR(argv[0])->data, &n);
  if (!text) vm_error_irritant(S, argv[0], "read-file: cannot open %s", STR(argv[0])->data);
  sx_val s = vm_string(S, text, n);
  GC_FREE(text);
  return s;
}

PRIM_FN(p_load) {
  UNUSED_ARGS;
  size_t n;
  char *text = slurp(S, STR(argv[0])->data, &n);
  if (!text) vm_error_irritant(S, argv[0], "load: cannot open %s", STR(argv[0])->data);
  return vm_eval_string(S, text, n, argv[0], S->cur_env);
}

PRIM_FN(p_write_file) {
  UNUSED_ARGS;
  FILE *f = fopen(STR(argv[0])->data, "wb");
  if (!f) vm_error_irritant(S, argv[0], "write-file: cannot open %s", STR(argv[0])->data);
  size_t w = fwrite(STR(argv[1])->data, 1, STR(argv[1])->nbytes, f);
  if (fclose(f) != 0 || w != STR(argv[1])->nbytes)
    vm_error_irritant(S, argv[0], "write-file: write failed");
  return SX_NIL;
}

PRIM_FN(p_file_exists) { UNUSED_ARGS; return sx_bool(access(STR(argv[0])->data, F_OK) == 0); }

PRIM_FN(p_getenv) {
  UNUSED_ARGS;
  const char *v = getenv(STR(argv[0])->data);
  return v ? vm_cstring(S, v) : SX_NIL;
}

PRIM_FN(p_command_line) { UNUSED_ARGS; return S->command_line; }

PRIM_FN(p_exit) {
  (void)S;
  fflush(stdout);
  exit(argc > 0 ? (int)(INT(0) & 255) : 0);
}

const prim_impl prim_system[] = {
    {"eval", p_eval},
    {"eval-string", p_eval_string},
    {"make-env", p_make_env},
    {"macroexpand", p_macroexpand},
    {"error", p_error},
    {"raise", p_raise},
    {"error-message", p_error_message},
    {"error-irritants", p_error_irritants},
    {"error-backtrace", p_error_backtrace},
    {"void", p_void},
    {"write-to-string", p_write_to_string},
    {"display", p_display},
    {"write", p_write},
    {"print", p_print},
    {"println", p_println},
    {"newline", p_newline},
    {"read-line", p_read_line},
    {"current-time-ms", p_current_time_ms},
    {"gc", p_gc},
    {"memory-stats", p_memory_stats},
    {"load", p_load},
    {"read-file", p_read_file},
    {"write-file", p_write_file},
    {"file-exists?", p_file_exists},
    {"getenv", p_getenv},
    {"command-line", p_command_line},
    {"exit", p_exit},
    {NULL, NULL},
};
