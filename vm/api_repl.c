/* api_repl.c — the public calls interactive tools need (sx.h): globals by name, form-by-form
 * reading, documentation, disassembly, the names for completion, interrupt and allocation
 * bookkeeping. The REPL in repl/ is built on these and sx_eval_string alone. */
#include <gc/gc.h>
#include <stdarg.h>
#include <string.h>

#include "state.h"


/* The raised value of a failed vm_protect as the API's last error. */
static sx_status raised_error(sx_state *S) {
  S->errmsg = vm_error_text(S, S->raised, false);
  S->errtrace = GC_STRDUP("");
  sx_val e = S->raised;
  if (sx_is_error(e) && (ERR(e)->h.flags & ERR_SYNTAX)) return SX_ERR_SYNTAX;
  if (sx_is_error(e) && (ERR(e)->h.flags & ERR_LIMIT)) return SX_ERR_LIMIT;
  return SX_ERR_RUNTIME;
}

/* ---- globals -------------------------------------------------------------------------------- */

typedef struct {
  const char *name;
  sx_val value;
  sx_cell *cell;
} global_job;

static void find_global(sx_state *S, void *ud) {
  global_job *j = ud;
  j->cell = vm_env_lookup(S->user, vm_symbol(S, j->name));
}

static void define_global(sx_state *S, void *ud) {
  global_job *j = ud;
  vm_env_define(S, S->user, vm_symbol(S, j->name))->value = j->value;
}

sx_status sx_get_global(sx_state *S, const char *name, sx_value *out) {
  global_job j = {name, SX_NIL, NULL};
  if (out) *out = SX_NIL;
  if (vm_protect(S, find_global, &j)) return raised_error(S);
  if (!j.cell || j.cell->value == SX_UNBOUND) {
    vm_api_error(S, "unbound variable: %s", name);
    return SX_ERR_RUNTIME;
  }
  if (out) *out = j.cell->value;
  return SX_OK;
}

sx_status sx_set_global(sx_state *S, const char *name, sx_value v) {
  global_job j = {name, v, NULL};
  if (!*name) {
    vm_api_error(S, "sx_set_global: empty name");
    return SX_ERR_RUNTIME;
  }
  if (vm_protect(S, define_global, &j)) return raised_error(S);
  return SX_OK;
}

/* ---- reading form by form ------------------------------------------------------------------- */

typedef struct {
  const char *src;
  size_t len, pos, end;
  const char *chunk;
  bool found;
} form_job;

static void find_form(sx_state *S, void *ud) {
  form_job *j = ud;
  vm_reader r;
  vm_reader_init(&r, j->src + j->pos, j->len - j->pos, vm_cstring(S, j->chunk));
  for (size_t i = 0; i < j->pos; i++) /* positions in messages count from the start of src */
    if (j->src[i] == '\n') r.line++;
  sx_val datum;
  j->found = vm_read(S, &r, &datum);
  j->end = j->pos + (size_t)(r.p - r.src);
}

int sx_next_form(sx_state *S, const char *src, size_t len, size_t pos, const char *chunkname,
                 size_t *end) {
  form_job j = {src, len, pos, pos, chunkname ? chunkname : "<string>", false};
  *end = pos;
  if (pos >= len) return 0;
  if (vm_protect(S, find_form, &j)) {
    raised_error(S);
    return -1;
  }
  *end = j.found ? j.end : len;
  return j.found ? 1 : 0;
}

/* ---- documentation -------------------------------------------------------------------------- */

/* Short names of argument kinds for a signature line. */
static const char *kind_word(uint8_t k) {
  switch (k) {
  case K_ANY: return "x";
  case K_NAMELIKE: return "name";
  case K_PROCEDURE: return "proc";
  default: return prim_kind_name(k);
  }
}

typedef struct {
  const char *name;
  const char *out;
} doc_job;

static void make_doc(sx_state *S, void *ud) {
  (void)S;
  doc_job *j = ud;
  const sx_prim_spec *p = prim_spec_find(j->name);
  if (!p) return;
  vm_buf b = {0};
  vm_buf_printf(&b, "(%s", p->name);
  int shown = p->max >= 0 ? p->max : p->min;
  for (int i = 0; i < shown; i++) {
    const char *k = p->nkinds ? kind_word(p->kinds[i < p->nkinds ? i : p->nkinds - 1]) : "x";
    vm_buf_printf(&b, i < p->min ? " %s" : " [%s]", k);
  }
  if (p->max < 0) {
    int i = p->min;
    const char *k = p->nkinds ? kind_word(p->kinds[i < p->nkinds ? i : p->nkinds - 1]) : "x";
    vm_buf_printf(&b, " [%s ...]", k);
  }
  vm_buf_printf(&b, ")  %s", p->doc);
  vm_buf_addc(&b, 0);
  j->out = b.buf;
}

const char *sx_doc(sx_state *S, const char *name) {
  doc_job j = {name, NULL};
  if (vm_protect(S, make_doc, &j)) {
    raised_error(S);
    return NULL;
  }
  return j.out;
}

typedef struct {
  sx_proto *proto;
  const char *out;
} disasm_job;

static void disassemble(sx_state *S, void *ud) {
  disasm_job *j = ud;
  vm_buf b = {0};
  vm_buf_printf(&b, "; native code: %s", j->proto->jit ? "yes" : "no");
  if (j->proto->calls >= 0) vm_buf_printf(&b, ", %ld calls counted", (long)j->proto->calls);
  vm_buf_addc(&b, '\n');
  vm_disassemble(S, j->proto, &b);
  vm_buf_addc(&b, 0);
  j->out = b.buf;
}

const char *sx_disassemble(sx_state *S, sx_value fn) {
  sx_val f = fn;
  if (sx_is_type(f, T_MACRO)) f = MACRO(f)->proc;
  if (sx_is_prim(f)) {
    vm_api_error(S, "%s is a primitive written in C: it has no bytecode",
              STR(SYM(PRIM(f)->name)->name)->data);
    return NULL;
  }
  if (!sx_is_closure(f)) {
    vm_api_error(S, "not a procedure: %s", sx_to_string(S, fn, 1));
    return NULL;
  }
  disasm_job j = {CLOSURE(f)->proto, NULL};
  if (vm_protect(S, disassemble, &j)) {
    raised_error(S);
    return NULL;
  }
  return j.out;
}

/* ---- names for completion and :env ---------------------------------------------------------- */

static void each_in_env(sx_env *env, bool skip_internal,
                        void (*fn)(void *ud, const char *name, sx_value v), void *ud) {
  for (size_t i = 0; i < env->cap; i++) {
    if (!env->keys[i] || env->cells[i]->value == SX_UNBOUND) continue;
    const char *name = STR(SYM(env->keys[i])->name)->data;
    if (skip_internal && name[0] == '%') continue;
    fn(ud, name, env->cells[i]->value);
  }
}

void sx_globals(sx_state *S, int which, void (*fn)(void *ud, const char *name, sx_value v),
                void *ud) {
  if (which & SX_GLOBALS_SPECIAL)
    for (size_t i = 0; i < S->symcap; i++) {
      sx_val s = S->symtab[i];
      if (s && sx_is_symbol(s) && SYM(s)->special >= 0) fn(ud, STR(SYM(s)->name)->data, 0);
    }
  if (which & SX_GLOBALS_BUILTIN) each_in_env(S->root, true, fn, ud);
  if (which & SX_GLOBALS_USER) each_in_env(S->user, false, fn, ud);
}

/* ---- interrupts and allocation -------------------------------------------------------------- */

/* The VM consumes the request when it polls; this drops one that no evaluation polled. Only the
 * interrupt bit: the other bits of the word (safe-point requests of the native tier) stay. If
 * sx_interrupt ever signals through more than this word, undo that here too. */
void sx_clear_interrupt(sx_state *S) { __atomic_fetch_and(&S->interrupt, ~1, __ATOMIC_SEQ_CST); }

uint64_t sx_allocated_bytes(sx_state *S) {
  (void)S;
  return (uint64_t)GC_get_total_bytes();
}
