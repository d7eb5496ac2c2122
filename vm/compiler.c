/* compiler.c — the compiler's second pass: the resolved tree of expand.c to stack bytecode.
 *
 * Knowing which locals are captured and which assigned, it boxes only captured locals that are
 * assigned after capture. Closures are flat: a closure copies the values (or boxes) of its free
 * variables. letrec-bound lambdas that capture each other are tied with PATCH instead of boxes,
 * so a named let loop or a group of internal defines calls itself without indirection, and a
 * self tail call through such a name is a jump (LOOP). Also the disassembler.
 */
#include <gc/gc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"

static _Atomic uint64_t lambda_ids = 1;
uint64_t vm_next_lambda_id(void) { return atomic_fetch_add(&lambda_ids, 1); }

/* ---- pass 2: bytecode ------------------------------------------------------------------- */

typedef struct {
  sx_state *S;
  lam *fn;
  uint32_t *code;
  uint32_t *lines;
  size_t ncode, capcode;
  sx_val *consts;
  size_t nconsts, capconsts;
  int nslots, maxslots; /* locals in use / high-water */
  int depth, maxdepth;  /* operand stack */
  uint32_t pos;
  sx_val file;
  uint32_t loop_start; /* where a self tail call jumps: after the parameter boxing */
} gen;

static void emit_word(gen *g, uint32_t w) {
  if (g->ncode == g->capcode) {
    size_t ncap = g->capcode ? g->capcode * 2 : 64;
    if (ncap > (1u << 24)) vm_error(g->S, "function too large to compile");
    uint32_t *nc = GC_MALLOC_ATOMIC(ncap * sizeof(uint32_t));
    uint32_t *nl = GC_MALLOC_ATOMIC(ncap * sizeof(uint32_t));
    if (!nc || !nl) vm_error(g->S, "out of memory");
    if (g->ncode) {
      memcpy(nc, g->code, g->ncode * sizeof(uint32_t));
      memcpy(nl, g->lines, g->ncode * sizeof(uint32_t));
    }
    g->code = nc;
    g->lines = nl;
    g->capcode = ncap;
  }
  g->lines[g->ncode] = g->pos;
  g->code[g->ncode++] = w;
}

static void stack_effect(gen *g, int eff) {
  g->depth += eff;
  if (g->depth > g->maxdepth) g->maxdepth = g->depth;
}

static const int8_t op_effect[] = {
#define OP(name, fmt, eff) eff,
#include "opcodes.h"
#undef OP
};

static size_t emit(gen *g, int op, uint32_t a) {
  if (a >= (1u << 24)) vm_error(g->S, "operand too large to compile");
  emit_word(g, INS(op, a));
  if (op_effect[op] != 99) stack_effect(g, op_effect[op]);
  return g->ncode - 1;
}

static void patch_jump(gen *g, size_t at) {
  g->code[at] = INS(INS_OP(g->code[at]), (uint32_t)g->ncode);
}

static uint32_t add_const(gen *g, sx_val v) {
  for (size_t i = 0; i < g->nconsts; i++)
    if (g->consts[i] == v) return (uint32_t)i;
  if (g->nconsts == g->capconsts) {
    size_t ncap = g->capconsts ? g->capconsts * 2 : 8;
    sx_val *nc = GC_MALLOC(ncap * sizeof(sx_val));
    if (!nc) vm_error(g->S, "out of memory");
    if (g->nconsts) memcpy(nc, g->consts, g->nconsts * sizeof(sx_val));
    g->consts = nc;
    g->capconsts = ncap;
  }
  g->consts[g->nconsts] = v;
  return (uint32_t)g->nconsts++;
}

static int alloc_slot(gen *g) {
  int s = g->nslots++;
  if (g->nslots > g->maxslots) g->maxslots = g->nslots;
  if (g->nslots > 60000) vm_error(g->S, "too many local variables");
  return s;
}

static void gen_node(gen *g, node *nd, bool tail);
static sx_val gen_lambda(sx_state *S, lam *f, sx_val file);

static void gen_const(gen *g, sx_val v) {
  if (v == SX_NIL) emit(g, OP_NIL, 0);
  else if (v == SX_TRUE) emit(g, OP_TRUE, 0);
  else if (v == SX_FALSE) emit(g, OP_FALSE, 0);
  else if (v == SX_EMPTY) emit(g, OP_EMPTY, 0);
  else if (sx_is_fixnum(v) && sx_fixnum(v) >= -OPERAND_BIAS && sx_fixnum(v) < OPERAND_BIAS)
    emit(g, OP_FIXNUM, (uint32_t)(sx_fixnum(v) + OPERAND_BIAS));
  else emit(g, OP_CONST, add_const(g, v));
}

/* Index of v among the current lambda's free variables, or -1 when v is one of its locals. */
static int free_index(gen *g, var *v) {
  if (v->owner == g->fn) return -1;
  for (int i = 0; i < g->fn->nfree; i++)
    if (g->fn->free[i] == v) return i;
  vm_error(g->S, "compiler: variable not captured");
}

static void gen_lref(gen *g, var *v) {
  int fi = free_index(g, v);
  if (fi < 0) emit(g, v->boxed ? OP_LOCALBOX : OP_LOCAL, (uint32_t)v->slot);
  else emit(g, v->boxed ? OP_FREEBOX : OP_FREE, (uint32_t)fi);
}

static void gen_store(gen *g, var *v) {
  int fi = free_index(g, v);
  if (fi < 0) emit(g, v->boxed ? OP_SETLOCALBOX : OP_SETLOCAL, (uint32_t)v->slot);
  else if (v->boxed) emit(g, OP_SETFREEBOX, (uint32_t)fi);
  else vm_error(g->S, "compiler: assignment to an unboxed captured variable");
}

static void decide_box(var *v) { v->boxed = v->captured && (v->assigned || (v->grp && v->general)); }

/* Binds v to a fresh slot holding what is on top of the stack. */
static void bind_var(gen *g, var *v) {
  decide_box(v);
  v->slot = alloc_slot(g);
  emit(g, OP_SETLOCAL, (uint32_t)v->slot);
  if (v->boxed) emit(g, OP_BOXLOCAL, (uint32_t)v->slot);
}

static void gen_closure(gen *g, lam *f) {
  sx_val proto = gen_lambda(g->S, f, g->file);
  emit(g, OP_CLOSURE, add_const(g, proto));
  for (int i = 0; i < f->nfree; i++) {
    var *v = f->free[i];
    int fi = free_index(g, v);
    emit_word(g, fi < 0 ? (uint32_t)v->slot : (0x80000000u | (uint32_t)fi));
  }
}

static int cmp_jump_op(int op) {
  switch (op) {
  case OP_LT: return OP_LTJF;
  case OP_LE: return OP_LEJF;
  case OP_GT: return OP_GTJF;
  case OP_GE: return OP_GEJF;
  case OP_NUMEQ: return OP_EQJF;
  }
  return -1;
}

/* Emits a test that jumps when false; returns the jump to patch. */
static size_t gen_test(gen *g, node *t) {
  if (t->kind == N_PRIMOP && t->n == 2 && cmp_jump_op(t->op) >= 0) {
    gen_node(g, t->kids[0], false);
    gen_node(g, t->kids[1], false);
    return emit(g, cmp_jump_op(t->op), 0);
  }
  gen_node(g, t, false);
  return emit(g, OP_JUMPF, 0);
}

static bool small_fix(node *nd) {
  return nd->kind == N_CONST && sx_is_fixnum(nd->val) && sx_fixnum(nd->val) > -OPERAND_BIAS &&
         sx_fixnum(nd->val) < OPERAND_BIAS - 1;
}

/* A tail call of the letrec-bound lambda we are compiling, through its own unassigned name,
 * with exactly its fixed parameters: compiled as a jump. */
static bool is_self_call(gen *g, node *nd) {
  node *f = nd->kids[0];
  if (f->kind != N_LREF || !f->v->grp || f->v->assigned || f->v->fn != g->fn) return false;
  return !g->fn->rest && nd->n - 1 == g->fn->nparams;
}

static void gen_body_group(gen *g, node *nd, bool tail) {
  /* slots for all vars first; a closure init is patched as later vars get values */
  int save = g->nslots;
  for (int i = 0; i < nd->n; i++)
    if (nd->vars[i]) nd->vars[i]->slot = -1; /* a finally body is generated twice */
  for (int i = 0; i < nd->n; i++) {
    var *v = nd->vars[i];
    if (!v || v->slot >= 0) continue;
    decide_box(v);
    v->slot = alloc_slot(g);
    emit(g, OP_NIL, 0);
    emit(g, OP_SETLOCAL, (uint32_t)v->slot);
    if (v->boxed) emit(g, OP_BOXLOCAL, (uint32_t)v->slot);
  }
  /* closures created so far by this group's inits: (var holding it, lam) */
  var **made = GC_MALLOC((size_t)(nd->n + 1) * sizeof(var *));
  lam **mfn = GC_MALLOC((size_t)(nd->n + 1) * sizeof(lam *));
  int nmade = 0;
  for (int i = 0; i < nd->n; i++) {
    var *v = nd->vars[i];
    node *k = nd->kids[i];
    if (!v) {
      bool last = i == nd->n - 1;
      gen_node(g, k, tail && last);
      if (!last) emit(g, OP_POP, 0);
      continue;
    }
    gen_node(g, k, false);
    gen_store(g, v);
    if (k->kind == N_LAMBDA && !v->boxed) {
      made[nmade] = v;
      mfn[nmade++] = k->fn;
    }
    /* tie knots: a closure of this group that captured an unboxed var of the group gets
       the var's value once both exist (just stored var, or just made closure) */
    for (int a = 0; a < nmade; a++) {
      lam *f = mfn[a];
      for (int j = 0; j < f->nfree; j++) {
        var *fv = f->free[j];
        if (fv->boxed || !fv->grp || fv->grp != v->grp) continue;
        bool stored_before = false;
        for (int q = 0; q < i; q++)
          if (nd->vars[q] == fv) stored_before = true;
        if (fv != v && !(made[a] == v && stored_before)) continue;
        emit(g, OP_PATCH, (uint32_t)made[a]->slot);
        emit_word(g, (uint32_t)j | ((uint32_t)fv->slot << 16));
      }
    }
    if (i == nd->n - 1) emit(g, OP_NIL, 0); /* a body ending in a define yields nil */
  }
  g->nslots = save;
}

static void gen_node(gen *g, node *nd, bool tail) {
  vm_check_cstack(g->S);
  uint32_t save_pos = g->pos;
  if (POS_LINE(nd->pos)) g->pos = nd->pos;
  switch (nd->kind) {
  case N_CONST: gen_const(g, nd->val); break;
  case N_LREF: gen_lref(g, nd->v); break;
  case N_GREF: emit(g, OP_GLOBAL, add_const(g, nd->val)); break;
  case N_LSET:
    gen_node(g, nd->kids[0], false);
    gen_store(g, nd->v);
    emit(g, OP_NIL, 0);
    break;
  case N_GSET:
    gen_node(g, nd->kids[0], false);
    emit(g, OP_SETGLOBAL, add_const(g, nd->val));
    emit(g, OP_NIL, 0);
    break;
  case N_GDEF:
    gen_node(g, nd->kids[0], false);
    emit(g, OP_DEFGLOBAL, add_const(g, nd->val));
    emit(g, OP_NIL, 0);
    break;
  case N_DEFMACRO:
    gen_node(g, nd->kids[0], false);
    emit(g, OP_DEFMACRO, add_const(g, nd->val));
    emit(g, OP_NIL, 0);
    break;
  case N_IF: {
    size_t jf = gen_test(g, nd->kids[0]);
    int d = g->depth;
    gen_node(g, nd->kids[1], tail);
    size_t jend = emit(g, OP_JUMP, 0);
    patch_jump(g, jf);
    g->depth = d;
    gen_node(g, nd->kids[2], tail);
    patch_jump(g, jend);
    break;
  }
  case N_SEQ:
    for (int i = 0; i < nd->n; i++) {
      bool last = i == nd->n - 1;
      gen_node(g, nd->kids[i], tail && last);
      if (!last) emit(g, OP_POP, 0);
    }
    break;
  case N_LAMBDA: gen_closure(g, nd->fn); break;
  case N_LET: {
    int save = g->nslots;
    int nv = nd->nvars;
    for (int i = 0; i < nv; i++) gen_node(g, nd->kids[i], false);
    /* values are on the stack in order; bind from the last */
    for (int i = 0; i < nv; i++) nd->vars[i]->slot = -1;
    int first = g->nslots;
    for (int i = 0; i < nv; i++) alloc_slot(g);
    for (int i = nv - 1; i >= 0; i--) {
      var *v = nd->vars[i];
      decide_box(v);
      v->slot = first + i;
      emit(g, OP_SETLOCAL, (uint32_t)v->slot);
      if (v->boxed) emit(g, OP_BOXLOCAL, (uint32_t)v->slot);
    }
    gen_node(g, nd->kids[nv], tail);
    g->nslots = save;
    break;
  }
  case N_BODY: gen_body_group(g, nd, tail); break;
  case N_CALL: {
    if (tail && is_self_call(g, nd)) {
      /* a loop: new argument values into the parameter slots, then back to the start */
      for (int i = 1; i < nd->n; i++) gen_node(g, nd->kids[i], false);
      for (int i = nd->n - 1; i >= 1; i--) {
        var *p = g->fn->params[i - 1];
        emit(g, OP_SETLOCAL, (uint32_t)p->slot);
        if (p->boxed) emit(g, OP_BOXLOCAL, (uint32_t)p->slot);
      }
      emit(g, OP_LOOP, g->loop_start);
      stack_effect(g, 1); /* as if it produced the value it never returns to */
      break;
    }
    for (int i = 0; i < nd->n; i++) gen_node(g, nd->kids[i], false);
    int argc = nd->n - 1;
    emit(g, tail ? OP_TAILCALL : OP_CALL, (uint32_t)argc);
    stack_effect(g, -argc);
    break;
  }
  case N_AND:
  case N_OR: {
    size_t *jumps = GC_MALLOC_ATOMIC((size_t)nd->n * sizeof(size_t));
    for (int i = 0; i < nd->n; i++) {
      bool last = i == nd->n - 1;
      gen_node(g, nd->kids[i], tail && last);
      if (!last) {
        jumps[i] = emit(g, nd->kind == N_AND ? OP_ANDJ : OP_ORJ, 0);
        stack_effect(g, -1); /* falls through with the value popped */
      }
    }
    for (int i = 0; i < nd->n - 1; i++) patch_jump(g, jumps[i]);
    break;
  }
  case N_PRIMOP: {
    if ((nd->op == OP_ADD || nd->op == OP_SUB) && small_fix(nd->kids[1])) {
      gen_node(g, nd->kids[0], false);
      emit(g, nd->op == OP_ADD ? OP_ADDK : OP_SUBK,
           (uint32_t)(sx_fixnum(nd->kids[1]->val) + OPERAND_BIAS));
      break;
    }
    for (int i = 0; i < nd->n; i++) gen_node(g, nd->kids[i], false);
    emit(g, nd->op, nd->op == OP_TYPEP ? (uint32_t)nd->val : 0);
    break;
  }
  case N_VECLIT:
  case N_DICTLIT:
    for (int i = 0; i < nd->n; i++) gen_node(g, nd->kids[i], false);
    if (nd->kind == N_VECLIT) {
      emit(g, OP_VECLIT, (uint32_t)nd->n);
      stack_effect(g, 1 - nd->n);
    } else {
      emit(g, OP_DICTLIT, (uint32_t)nd->n / 2);
      stack_effect(g, 1 - nd->n);
    }
    break;
  case N_TRY: {
    /* TRYF (finally, runs for every error) encloses TRY (catch, skipped by limit errors):
         [TRYF Lf] [TRY Lh] body [ENDTRY] [ENDTRY fin POP] JUMP end
         Lh: e = raised; handler [ENDTRY fin POP] JUMP end
         Lf: tmp = raised; fin POP; tmp RERAISE
       (bracketed parts only when that clause exists) */
    node *body = nd->kids[0], *handler = nd->kids[1], *fin = nd->kids[2];
    int d = g->depth, save = g->nslots;
    size_t tf = 0, tc = 0, jend = 0, jend2 = 0;
    if (fin) tf = emit(g, OP_TRYF, 0);
    if (handler) tc = emit(g, OP_TRY, 0);
    gen_node(g, body, false);
    if (handler) emit(g, OP_ENDTRY, 0);
    if (fin) {
      emit(g, OP_ENDTRY, 0);
      gen_node(g, fin, false);
      emit(g, OP_POP, 0);
    }
    jend = emit(g, OP_JUMP, 0);
    if (handler) {
      patch_jump(g, tc);
      g->depth = d;
      stack_effect(g, 1); /* the raised value */
      bind_var(g, nd->catchvar);
      gen_node(g, handler, false);
      if (fin) {
        emit(g, OP_ENDTRY, 0);
        gen_node(g, fin, false);
        emit(g, OP_POP, 0);
      }
      jend2 = emit(g, OP_JUMP, 0);
    }
    if (fin) {
      patch_jump(g, tf);
      g->depth = d;
      stack_effect(g, 1);
      int tmp = alloc_slot(g);
      emit(g, OP_SETLOCAL, (uint32_t)tmp);
      gen_node(g, fin, false);
      emit(g, OP_POP, 0);
      emit(g, OP_LOCAL, (uint32_t)tmp);
      emit(g, OP_RERAISE, 0);
    }
    g->nslots = save;
    patch_jump(g, jend);
    if (handler) patch_jump(g, jend2);
    g->depth = d + 1;
    break;
  }
  }
  g->pos = save_pos;
}

static sx_val gen_lambda(sx_state *S, lam *f, sx_val file) {
  gen g = {.S = S, .fn = f, .file = file, .pos = f->pos};
  for (int i = 0; i < f->nparams; i++) {
    var *v = f->params[i];
    decide_box(v);
    v->slot = alloc_slot(&g);
    if (v->boxed) emit(&g, OP_BOXLOCAL, (uint32_t)v->slot);
  }
  g.loop_start = (uint32_t)g.ncode;
  gen_node(&g, f->body, true);
  emit(&g, OP_RETURN, 0);
  sx_proto *p = vm_alloc(S, sizeof(sx_proto), T_PROTO);
  p->code = g.code;
  p->ncode = (uint32_t)g.ncode;
  p->lines = g.lines;
  p->consts = g.consts;
  p->nconsts = (uint32_t)g.nconsts;
  p->nparams = (uint16_t)f->nparams;
  p->nlocals = (uint16_t)g.maxslots;
  p->maxstack = (uint16_t)(g.maxslots + g.maxdepth + 2);
  p->nfree = (uint16_t)f->nfree;
  p->h.flags = f->rest ? PROTO_REST : 0;
  for (int i = 0; i < f->nparams; i++)
    if (f->params[i]->boxed) p->h.flags |= PROTO_BOXPARAM;
  p->name = f->name;
  p->file = file;
  p->id = vm_next_lambda_id();
  if (g.maxslots + g.maxdepth + 2 > 65000) vm_error(S, "function too large to compile");
  return sx_from_obj(p);
}

/* Compiles one top-level form into a closure of no arguments. */
sx_val vm_compile_toplevel(sx_state *S, sx_val form, sx_env *env) {
  lam *top = vm_expand_toplevel(S, form, env);
  sx_val proto = gen_lambda(S, top, S->cur_file);
  PROTO(proto)->h.flags |= PROTO_NOJIT; /* runs once: compiling it could never pay */
  sx_closure *cl = vm_alloc(S, sizeof(sx_closure), T_CLOSURE);
  cl->proto = PROTO(proto);
  return sx_from_obj(cl);
}

/* ---- disassembler ----------------------------------------------------------------------- */

static const char *op_names[] = {
#define OP(name, fmt, eff) #name,
#include "opcodes.h"
#undef OP
};
static const char op_formats[] = {
#define OP(name, fmt, eff) #fmt[0],
#include "opcodes.h"
#undef OP
};

void vm_disassemble(sx_state *S, sx_proto *p, vm_buf *out) {
  vm_buf_printf(out, "; lambda %llu", (unsigned long long)p->id);
  if (sx_is_symbol(p->name)) vm_buf_printf(out, " %s", STR(SYM(p->name)->name)->data);
  vm_buf_printf(out, ": %d params%s, %d locals, %d free, stack %d\n", p->nparams,
                (p->h.flags & PROTO_REST) ? " (rest)" : "", p->nlocals, p->nfree, p->maxstack);
  for (uint32_t i = 0; i < p->ncode; i++) {
    uint32_t w = p->code[i];
    int op = INS_OP(w);
    uint32_t a = INS_A(w);
    vm_buf_printf(out, "%4u  %-12s", i, op_names[op]);
    switch (op_formats[op]) {
    case 'A':
      if (op == OP_FIXNUM || op == OP_ADDK || op == OP_SUBK)
        vm_buf_printf(out, "%d", (int)a - OPERAND_BIAS);
      else vm_buf_printf(out, "%u", a);
      break;
    case 'J': vm_buf_printf(out, "-> %u", a); break;
    case 'K':
      vm_buf_printf(out, "%u  ; ", a);
      {
        sx_val k = p->consts[a];
        if (sx_is_type(k, T_CELL)) vm_print(S, out, CELL(k)->name, true);
        else vm_print(S, out, k, true);
      }
      break;
    case 'C': {
      sx_proto *q = PROTO(p->consts[a]);
      vm_buf_printf(out, "lambda %llu", (unsigned long long)q->id);
      for (int k = 0; k < q->nfree; k++) {
        uint32_t d = p->code[++i];
        vm_buf_printf(out, (d & 0x80000000u) ? " free%u" : " local%u", d & 0x7fffffffu);
      }
      break;
    }
    case 'P': {
      uint32_t d = p->code[++i];
      vm_buf_printf(out, "local%u.free%u = local%u", a, d & 0xffff, d >> 16);
      break;
    }
    }
    vm_buf_addc(out, '\n');
  }
  for (uint32_t k = 0; k < p->nconsts; k++)
    if (sx_is_type(p->consts[k], T_PROTO)) vm_disassemble(S, PROTO(p->consts[k]), out);
}
