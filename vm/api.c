/* api.c — the public embedding API (sx.h): opening states, protected evaluation, errors. */
#include <gc/gc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

#include "prelude.gen.h"

SX_INTERNAL void vm_compiler_init(sx_state *S);

const char *sx_version(void) { return SX_VERSION_STRING; }

typedef struct {
  const char *src;
  size_t n;
  const char *chunk;
  sx_env *env;
  sx_val result;
} eval_job;

static void do_eval(sx_state *S, void *ud) {
  eval_job *j = ud;
  sx_env *save = S->cur_env;
  S->cur_env = j->env;
  j->result = vm_eval_string(S, j->src, j->n, vm_cstring(S, j->chunk), j->env);
  S->cur_env = save;
}

static void mark_builtins_constant(sx_env *env) {
  for (size_t i = 0; i < env->cap; i++)
    if (env->keys[i]) env->cells[i]->h.flags |= CELL_CONST;
}

static void boot(sx_state *S, void *ud) {
  (void)ud;
  S->sym_quote = vm_symbol(S, "quote");
  S->sym_quasiquote = vm_symbol(S, "quasiquote");
  S->sym_unquote = vm_symbol(S, "unquote");
  S->sym_unquote_splicing = vm_symbol(S, "unquote-splicing");
  S->sym_else = vm_symbol(S, "else");
  S->sym_arrow = vm_symbol(S, "=>");
  S->sym_amp = vm_symbol(S, "&");
  S->sym_dot = vm_symbol(S, ".");
  S->sym_catch = vm_symbol(S, "catch");
  S->sym_finally = vm_symbol(S, "finally");
  S->sym_define = vm_symbol(S, "define");
  S->command_line = SX_EMPTY;
  jit_open(S);
  vm_compiler_init(S);
  arr_state_open(S);
  S->root = vm_env_new(S, NULL);
  prim_register_all(S);
  mark_builtins_constant(S->root); /* so the prelude's own code inlines car, cons, pair?, ... */
  for (size_t i = 0; i < sizeof sx_lib_sources / sizeof sx_lib_sources[0]; i++) {
    S->cur_env = S->root;
    vm_eval_string(S, sx_lib_sources[i].text, strlen(sx_lib_sources[i].text),
                   vm_cstring(S, sx_lib_sources[i].name), S->root);
  }
  mark_builtins_constant(S->root);
  S->user = vm_env_new(S, S->root);
  S->cur_env = S->user;
}

/* Sets the API's last error without raising (the host's call was wrong; nothing ran). */
void vm_api_error(sx_state *S, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(msg, sizeof msg, "error: ");
  vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
  va_end(ap);
  S->errmsg = GC_STRDUP(msg);
  S->errtrace = GC_STRDUP("");
}

static void record_error(sx_state *S) {
  char *full = vm_error_text(S, S->raised, true);
  char *nl = strstr(full, "\nbacktrace:");
  if (nl) {
    S->errtrace = GC_STRDUP(nl + 1);
    *nl = 0;
  } else {
    S->errtrace = GC_STRDUP("");
  }
  S->errmsg = full;
}

sx_state *sx_open(const sx_config *cfg) {
  vm_gc_init();
  sx_state *S = GC_MALLOC_UNCOLLECTABLE(sizeof(sx_state));
  if (!S) return NULL;
  if (cfg) S->cfg = *cfg;
  else S->cfg.capabilities = SX_CAP_DEFAULT;
  S->limits = S->cfg.limits;
  S->fuel_left = UINT64_MAX;
  S->alloc_quota = SIZE_MAX;
  if (!vm_stacks_init(S)) {
    GC_FREE(S);
    return NULL;
  }
  vm_gc_register_state(S);
  if (vm_protect(S, boot, NULL)) {
    record_error(S);
    fprintf(stderr, "sx: start-up failed: %s\n", S->errmsg);
    sx_close(S);
    return NULL;
  }
  return S;
}

void sx_close(sx_state *S) {
  if (!S) return;
  jit_close(S);
  vm_gc_unregister_state(S);
  arr_state_close(S);
  vm_stacks_free(S);
  GC_FREE(S);
}

static sx_status status_of(sx_state *S) {
  sx_val e = S->raised;
  if (sx_is_error(e) && (ERR(e)->h.flags & ERR_SYNTAX)) return SX_ERR_SYNTAX;
  if (sx_is_error(e) && (ERR(e)->h.flags & ERR_MEMORY)) return SX_ERR_MEMORY;
  if (sx_is_error(e) && (ERR(e)->h.flags & ERR_LIMIT))
    return !strcmp(STR(ERR(e)->message)->data, "interrupted") ? SX_ERR_INTERRUPTED : SX_ERR_LIMIT;
  return SX_ERR_RUNTIME;
}

static sx_status eval_in(sx_state *S, const char *src, size_t n, const char *chunk,
                         sx_value *out) {
  eval_job j = {src, n, chunk ? chunk : "<string>", S->user, SX_NIL};
  vm_api_enter(S);
  /* an interrupt meant for an earlier evaluation that had already finished is stale */
  __atomic_fetch_and(&S->interrupt, ~1, __ATOMIC_SEQ_CST);
  S->errmsg = NULL;
  S->errtrace = NULL;
  vm_limits_begin(S);
  if (vm_protect(S, do_eval, &j)) {
    vm_limits_end(S);
    record_error(S);
    if (out) *out = SX_NIL;
    return status_of(S);
  }
  vm_limits_end(S);
  if (out) *out = j.result;
  return SX_OK;
}

sx_status sx_eval_string(sx_state *S, const char *src, const char *chunkname, sx_value *out) {
  return eval_in(S, src, strlen(src), chunkname, out);
}

sx_status sx_eval_file(sx_state *S, const char *path, sx_value *out) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    vm_api_error(S, "cannot open %s", path);
    return SX_ERR_RUNTIME;
  }
  vm_buf b = {0};
  char chunk[65536];
  size_t k;
  while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) vm_buf_add(&b, chunk, k);
  fclose(f);
  sx_status st = eval_in(S, b.buf ? b.buf : "", b.len, path, out);
  vm_buf_free(&b);
  return st;
}

const char *sx_error_message(sx_state *S) { return S->errmsg ? S->errmsg : ""; }
const char *sx_error_backtrace(sx_state *S) { return S->errtrace ? S->errtrace : ""; }

typedef struct {
  sx_val v;
  int readable;
  char *out;
} show_job;

static void do_show(sx_state *S, void *ud) {
  show_job *j = ud;
  vm_buf b = {0};
  vm_print(S, &b, j->v, j->readable);
  vm_buf_addc(&b, 0);
  j->out = b.buf;
}

const char *sx_to_string(sx_state *S, sx_value v, int readable) {
  show_job j = {v, readable, NULL};
  if (vm_protect(S, do_show, &j)) return "#<unprintable>";
  return j.out;
}

void sx_set_command_line(sx_state *S, int argc, char **argv) {
  sx_val l = SX_EMPTY;
  for (int i = argc - 1; i >= 0; i--) {
    size_t nchars;
    size_t n = strlen(argv[i]);
    sx_val s = vm_utf8_valid(argv[i], n, &nchars) ? vm_string(S, argv[i], n) : vm_cstring(S, "?");
    l = vm_cons(S, s, l);
  }
  S->command_line = l;
}

/* Async-signal-safe: only sets a flag the VM polls at calls and loop back edges. */
void sx_interrupt(sx_state *S) {
  __atomic_fetch_or(&S->interrupt, 1, __ATOMIC_SEQ_CST);
  vm_trip_native_limit(S);
}
