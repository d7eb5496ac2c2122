/* rt.c — the runtime functions compiled code calls for everything off its fast paths. Compiled
 * code reaches them through S->rt[] (never by symbol binding), so compiled objects need no
 * relocations against libsx and work in static and shared builds alike. */
#include <string.h>

#include "../vm/state.h"
#include "rt.h"

/* The slow path of an inlined primitive: the primitive itself, with the VM's argument checks.
 * Float arithmetic and comparisons of two floats are done here without calling the primitive,
 * as the VM does inline (compiled code keeps them out of line: they made every compile
 * slower, and code the kinds analysis proves float never comes here). */
static sx_val rt_prim(sx_state *S, uint64_t op, sx_val a, sx_val b, sx_val c) {
  switch (op) {
  case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV:
    if ((sx_is_flonum(a) || sx_is_flonum(b)) && sx_is_number(a) && sx_is_number(b)) {
      double x = vm_todouble(a), y = vm_todouble(b);
      return vm_flonum(S, op == OP_ADD ? x + y : op == OP_SUB ? x - y : op == OP_MUL ? x * y : x / y);
    }
    break;
  case OP_LT: case OP_LE: case OP_GT: case OP_GE: case OP_NUMEQ:
    if (sx_is_flonum(a) && sx_is_flonum(b)) {
      double x = sx_flo(a), y = sx_flo(b);
      return sx_bool(op == OP_LT ? x < y : op == OP_LE ? x <= y : op == OP_GT ? x > y : op == OP_GE ? x >= y : x == y);
    }
    break;
  default: break;
  }
  sx_val args[4] = {SX_NIL, a, b, c};
  sx_val prim = S->inline_prims[op];
  int argc;
  switch (op) {
  case OP_CAR: case OP_CDR: case OP_NULLP: case OP_PAIRP: case OP_NOT: case OP_ZEROP: argc = 1; break;
  case OP_VSET: argc = 3; break;
  default: argc = 2;
  }
  return vm_call_prim(S, prim, argc, args + 1);
}

static sx_val rt_unbound(sx_state *S, sx_val cell) {
  vm_error_irritant(S, CELL(cell)->name, "unbound variable: %s",
                    STR(SYM(CELL(cell)->name)->name)->data);
}

static sx_val rt_setglobal(sx_state *S, sx_val cell, sx_val v) {
  if (CELL(cell)->value == SX_UNBOUND) rt_unbound(S, cell);
  CELL(cell)->value = v;
  return SX_NIL;
}

static sx_val rt_defmacro(sx_state *S, sx_val cell, sx_val proc) {
  if (!sx_is_procedure(proc)) vm_type_error(S, "define-macro", "procedure", proc, 0);
  sx_macro *m = vm_alloc(S, sizeof(sx_macro), T_MACRO);
  m->proc = proc;
  m->name = CELL(cell)->name;
  CELL(cell)->value = sx_from_obj(m);
  return SX_NIL;
}

static sx_val rt_box(sx_state *S, sx_val v) {
  sx_box *b = vm_alloc_small(S, T_BOX);
  b->value = v;
  return sx_from_obj(b);
}

static sx_val rt_cons(sx_state *S, sx_val a, sx_val d) { return vm_cons(S, a, d); }

static sx_val rt_closure(sx_state *S, sx_val proto) {
  sx_proto *p = PROTO(proto);
  sx_closure *c = vm_alloc_sized(S, sizeof(sx_closure) + p->nfree * sizeof(sx_val), T_CLOSURE);
  c->proto = p;
  c->h.aux = p->nfree;
  return sx_from_obj(c);
}

static sx_val rt_veclit(sx_state *S, uint64_t n, sx_val *items) {
  sx_val v = vm_vector(S, n, SX_NIL);
  memcpy(VEC(v)->items, items, n * sizeof(sx_val));
  return v;
}

static sx_val rt_dictlit(sx_state *S, uint64_t n, sx_val *kv) {
  sx_val d = vm_dict(S, n);
  for (uint64_t i = 0; i < n; i++) vm_dict_set(S, d, kv[2 * i], kv[2 * i + 1]);
  return d;
}

/* Runs a tail call handed back with SX_TAIL until a value comes out. vm_call copies the
 * arguments onto the VM stack before anything runs (a callee may hand back a tail call of its
 * own into S->tail_args) and resolves further SX_TAIL results itself. */
static sx_val rt_resolve(sx_state *S) { return vm_call(S, S->tail_fn, S->tail_argc, S->tail_args); }

/* A call from compiled code of anything without a native entry of that arity: a primitive, a
 * compiled lambda with a rest parameter (its (S, self, args, argc) entry, without a VM frame),
 * or the VM. Never SX_TAIL: a tail call handed back is run here, so callers need not look. */
static sx_val rt_call(sx_state *S, sx_val fn, uint64_t argc, sx_val *args) {
  if (sx_is_prim(fn) && fn != S->apply_prim) return vm_call_prim(S, fn, (int)argc, args);
  if (sx_is_closure(fn)) {
    struct jit_entry *e = CLOSURE(fn)->proto->jit;
    if (e && e->rest && e->nfixed <= argc) {
      sx_val r = ((sx_val(*)(sx_state *, sx_closure *, sx_val *, uint64_t))e->fn)(S, CLOSURE(fn), args, argc);
      return r == SX_TAIL ? rt_resolve(S) : r;
    }
  }
  return vm_call(S, fn, (int)argc, args); /* vm_call resolves SX_TAIL itself */
}

/* A tail call compiled code does not make itself (its callee has no native entry of that arity).
 * A closure is handed back (SX_TAIL) so that the caller's caller runs it without growing the C
 * stack; anything else — a primitive, a host function, a value that is not a procedure — runs
 * or raises here, with the compiled caller still noted as the innermost frame, where the VM
 * would run it in the caller's frame too (apply is handed back: it makes a tail call). */
static sx_val rt_tail(sx_state *S) {
  sx_val fn = S->tail_fn;
  if (sx_is_closure(fn) || fn == S->apply_prim) return SX_TAIL;
  /* as rt_resolve: the arguments go onto the VM stack, where stale copies keep nothing alive
     (a copy on the C stack kept arrays of finished tests alive, measured in churn mode) */
  return vm_call(S, fn, S->tail_argc, S->tail_args);
}

/* A try in compiled code (TRY/TRYF): the record t lives in the compiled lambda's frame, which
 * calls __builtin_setjmp on t->buf right after this; it is the innermost protected point until
 * ENDTRY takes it off (S->jmp = t->h.prev) or an error comes (rt_try_catch). It keeps what
 * vm_protect's protected point would restore. */
static sx_val rt_try_enter(sx_state *S, vm_native_try *t) {
  t->h = (vm_jmp_head){S->jmp, t->buf};
  vm_save(S, &t->saved);
  S->jmp = &t->h;
  return SX_NIL;
}

/* An error came to try record t: the state is as it was at the try, and the raised value is
 * the handler's. A limit error goes on past a catch (it stops only at finally handlers). */
static sx_val rt_try_catch(sx_state *S, vm_native_try *t, uint64_t finally) {
  S->jmp = t->h.prev;
  vm_restore(S, &t->saved);
  if (S->raised_kind == RAISE_LIMIT && !finally) vm_jump(S);
  sx_val v = S->raised;
  S->raised = SX_NIL;
  return v;
}

static sx_val rt_reraise(sx_state *S, sx_val v) { vm_raise(S, v); }

/* Entry check failed: the C stack is nearly exhausted, or someone asked for a safe point by
 * moving the limit (interrupts, finished compiles). */
static sx_val rt_enter(sx_state *S) {
  vm_poll(S);
  jit_restore_stack_limit(S);
  char here;
  if (&here < S->cstack_limit) vm_error(S, "stack overflow (recursion too deep)");
  return SX_NIL;
}

static sx_val rt_restlist(sx_state *S, sx_val *args, uint64_t n) {
  return vm_list_from(S, n, args);
}

static sx_val rt_poll(sx_state *S) {
  vm_poll(S);
  return SX_NIL;
}

static sx_val rt_polln(sx_state *S, uint64_t n) {
  S->fuel -= (int64_t)n;
  if (S->fuel <= 0 || S->interrupt) vm_poll(S);
  return SX_NIL;
}

static sx_val rt_alloc_small(sx_state *S, uint64_t type) {
  return sx_from_obj(vm_alloc_small(S, (int)type));
}

void jit_rt_init(sx_state *S) {
  S->rt[RT_PRIM] = (void *)rt_prim;
  S->rt[RT_UNBOUND] = (void *)rt_unbound;
  S->rt[RT_SETGLOBAL] = (void *)rt_setglobal;
  S->rt[RT_DEFMACRO] = (void *)rt_defmacro;
  S->rt[RT_BOX] = (void *)rt_box;
  S->rt[RT_CONS] = (void *)rt_cons;
  S->rt[RT_CLOSURE] = (void *)rt_closure;
  S->rt[RT_VECLIT] = (void *)rt_veclit;
  S->rt[RT_DICTLIT] = (void *)rt_dictlit;
  S->rt[RT_RESOLVE] = (void *)rt_resolve;
  S->rt[RT_CALL] = (void *)rt_call;
  S->rt[RT_TAIL] = (void *)rt_tail;
  S->rt[RT_TRY_ENTER] = (void *)rt_try_enter;
  S->rt[RT_TRY_CATCH] = (void *)rt_try_catch;
  S->rt[RT_RERAISE] = (void *)rt_reraise;
  S->rt[RT_ENTER] = (void *)rt_enter;
  S->rt[RT_POLL] = (void *)rt_poll;
  S->rt[RT_RESTLIST] = (void *)rt_restlist;
  S->rt[RT_POLLN] = (void *)rt_polln;
  S->rt[RT_ALLOC_SMALL] = (void *)rt_alloc_small;
}
