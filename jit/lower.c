/* lower.c — bytecode to libgccjit IR, one C function per lambda.
 *
 * The VM's locals and operand-stack slots become C locals (the stack depth at every instruction
 * is known statically), so GCC keeps them in registers. Fast paths are inline: fixnum arithmetic
 * with overflow checks, comparisons, pairs, vectors, globals, captured variables; everything
 * else calls the same runtime the VM uses, through S->rt[]. Constants are loaded at run time
 * from the closure's prototype, so the code embeds no heap address and equal shapes can share
 * one compiled function. Floats stay unboxed in double locals where the kinds analysis below
 * proves them floats; pairs, float boxes and small closures are allocated inline from the
 * state's free lists. Every opcode is handled in the switch below (-Werror=switch), so an
 * opcode the lowering forgot is a build error. */
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <libgccjit.h>

#include "jit_internal.h"
#include "rt.h"

#pragma GCC diagnostic error "-Wswitch"

typedef struct kflow kflow;
struct kflow {
  uint8_t *st;       /* ncode x nv kinds before each instruction */
  bool *seen;
  uint32_t back_flo; /* parameters that are floats on every back edge */
  uint32_t back_fix; /* parameters that are fixnums on every back edge */
  bool backs;        /* there are back edges */
};

typedef struct {
  gcc_jit_context *ctx;
  const jit_shape *sh;
  gcc_jit_type *u64, *i64, *u64p, *boolt, *intt, *longt, *vptr, *dbl;
  gcc_jit_function *fn;
  gcc_jit_rvalue *S, *self, *consts;
  /* variables: locals 0..nl-1, then stack slots; u[] tagged values, f[] unboxed floats */
  int nl, nv;
  gcc_jit_lvalue **u, **f, **l, **s;
  gcc_jit_lvalue *res, *ovf, *argbuf, *fa, *fb, *tick;
  int maxargs; /* arguments of the longest non-tail call: argbuf's length */
  bool has_loops;          /* back edges: the lambda counts them in tick */
  bool has_try;            /* try forms: no unboxed floats and no typed version (see OP_TRY) */
  bool has_tail;           /* tail calls: the lambda may return SX_TAIL */
  gcc_jit_lvalue **fr;     /* captured variables loaded on entry (see freev) */
  uint32_t nfree;
  gcc_jit_block **blocks;  /* of the version being lowered */
  gcc_jit_block **vblocks[2], **disp;
  gcc_jit_block *cur;
  gcc_jit_function *b_add, *b_sub, *b_mul, *b_expect, *b_frame, *b_setjmp;
  int *depth;
  bool *start;
  uint8_t *live;           /* ncode x nl: local live on entry */
  kflow gen, spec;         /* kinds of the generic and the float version */
  bool typed;              /* there is a typed version (some parameters assumed float or fixnum) */
  int ver;                 /* version being lowered: 0 generic, 1 float */
  const uint8_t *kin;      /* kinds before the instruction being lowered */
  bool *valid;             /* u[v] holds the box of f[v] (from here to the end of the block) */
  bool *gself;             /* stack slot k holds a global that named this lambda (AUX_GLOBAL_SELF),
                              loaded in this block */
  uint32_t pc;             /* instruction being lowered (for note_self) */
  bool bad;
  int nblock, ntmp;
  char why[160];
} lw;

#define CTX (w->ctx)

/* kinds of variables (see "kinds" below) */
enum { KD_BOT, KD_FIX, KD_FLO, KD_ANY };

static gcc_jit_rvalue *k64(lw *w, int64_t v) {
  return gcc_jit_context_new_rvalue_from_long(CTX, w->u64, (long)v);
}
static gcc_jit_rvalue *rv(gcc_jit_lvalue *l) { return gcc_jit_lvalue_as_rvalue(l); }
static gcc_jit_rvalue *ptr(lw *w, gcc_jit_rvalue *v) {
  return gcc_jit_context_new_bitcast(CTX, NULL, v, w->u64p);
}
static gcc_jit_lvalue *at(lw *w, gcc_jit_rvalue *p, int64_t idx) {
  return gcc_jit_context_new_array_access(
      CTX, NULL, p, gcc_jit_context_new_rvalue_from_int(CTX, w->intt, (int)idx));
}
/* word idx of the object a value points to */
static gcc_jit_lvalue *word(lw *w, gcc_jit_rvalue *v, int64_t idx) { return at(w, ptr(w, v), idx); }
static gcc_jit_lvalue *sfield(lw *w, size_t offset) { return at(w, w->S, (int64_t)(offset / 8)); }
static gcc_jit_rvalue *bin(lw *w, enum gcc_jit_binary_op op, gcc_jit_rvalue *a, gcc_jit_rvalue *b) {
  return gcc_jit_context_new_binary_op(CTX, NULL, op, w->u64, a, b);
}
static gcc_jit_rvalue *cmp(lw *w, enum gcc_jit_comparison op, gcc_jit_rvalue *a, gcc_jit_rvalue *b) {
  return gcc_jit_context_new_comparison(CTX, NULL, op, a, b);
}
static gcc_jit_rvalue *as_i64(lw *w, gcc_jit_rvalue *v) {
  return gcc_jit_context_new_cast(CTX, NULL, v, w->i64);
}
static gcc_jit_rvalue *land(lw *w, gcc_jit_rvalue *a, gcc_jit_rvalue *b) {
  return gcc_jit_context_new_binary_op(CTX, NULL, GCC_JIT_BINARY_OP_LOGICAL_AND, w->boolt, a, b);
}
/* __builtin_expect(cond, likely) */
static gcc_jit_rvalue *expect(lw *w, gcc_jit_rvalue *cond, int likely) {
  gcc_jit_rvalue *args[2] = {gcc_jit_context_new_cast(CTX, NULL, cond, w->longt),
                             gcc_jit_context_new_rvalue_from_long(CTX, w->longt, likely)};
  gcc_jit_rvalue *e = gcc_jit_context_new_call(CTX, NULL, w->b_expect, 2, args);
  return cmp(w, GCC_JIT_COMPARISON_NE, e, gcc_jit_context_new_rvalue_from_long(CTX, w->longt, 0));
}
/* boolean value from a C condition: false is 10, true 18 */
static gcc_jit_rvalue *boolval(lw *w, gcc_jit_rvalue *cond) {
  gcc_jit_rvalue *i = gcc_jit_context_new_cast(CTX, NULL, cond, w->intt);
  i = gcc_jit_context_new_cast(CTX, NULL, i, w->u64);
  return bin(w, GCC_JIT_BINARY_OP_PLUS, k64(w, (int64_t)SX_FALSE),
             bin(w, GCC_JIT_BINARY_OP_LSHIFT, i, k64(w, 3)));
}
static gcc_jit_rvalue *truthy(lw *w, gcc_jit_rvalue *v) {
  return cmp(w, GCC_JIT_COMPARISON_NE, bin(w, GCC_JIT_BINARY_OP_BITWISE_OR, v, k64(w, 8)),
             k64(w, (int64_t)SX_FALSE));
}
static gcc_jit_rvalue *is_ptr(lw *w, gcc_jit_rvalue *v) {
  return cmp(w, GCC_JIT_COMPARISON_EQ, bin(w, GCC_JIT_BINARY_OP_BITWISE_AND, v, k64(w, 7)), k64(w, 0));
}
static gcc_jit_rvalue *type_is(lw *w, gcc_jit_rvalue *v, int type) {
  return cmp(w, GCC_JIT_COMPARISON_EQ,
             bin(w, GCC_JIT_BINARY_OP_BITWISE_AND, rv(word(w, v, 0)), k64(w, 0xff)), k64(w, type));
}
static gcc_jit_rvalue *is_fix(lw *w, gcc_jit_rvalue *v) {
  return cmp(w, GCC_JIT_COMPARISON_NE, bin(w, GCC_JIT_BINARY_OP_BITWISE_AND, v, k64(w, 1)), k64(w, 0));
}

/* Both fixnums: only fixnums have bit 0 set (value.h), so one AND and one bit test. (Testing
 * them one by one measured slower: GCC spills the tests.) */
static gcc_jit_rvalue *both_fix(lw *w, gcc_jit_rvalue *a, gcc_jit_rvalue *b) {
  return cmp(w, GCC_JIT_COMPARISON_NE,
             bin(w, GCC_JIT_BINARY_OP_BITWISE_AND, bin(w, GCC_JIT_BINARY_OP_BITWISE_AND, a, b), k64(w, 1)),
             k64(w, 0));
}

static gcc_jit_block *newblock(lw *w) { return gcc_jit_function_new_block(w->fn, NULL); }

/* The test that a and b are fixnums, leaving out the ones known to be; NULL when both are. */
static gcc_jit_rvalue *fix_check(lw *w, gcc_jit_rvalue *a, bool ka, gcc_jit_rvalue *b, bool kb) {
  return ka && kb ? NULL : ka ? is_fix(w, b) : kb ? is_fix(w, a) : both_fix(w, a, b);
}

static gcc_jit_lvalue *new_tmp(lw *w, gcc_jit_type *t) {
  char name[24];
  snprintf(name, sizeof name, "t%d", w->ntmp++);
  return gcc_jit_function_new_local(w->fn, NULL, t, name);
}

/* Address of the first element of a local array, as a u64 pointer. */
static gcc_jit_rvalue *arr_base(lw *w, gcc_jit_lvalue *arr) {
  return gcc_jit_lvalue_get_address(
      gcc_jit_context_new_array_access(w->ctx, NULL, gcc_jit_lvalue_as_rvalue(arr),
                                       gcc_jit_context_new_rvalue_from_int(w->ctx, w->intt, 0)),
      NULL);
}

static void assign(lw *w, gcc_jit_lvalue *l, gcc_jit_rvalue *r) {
  gcc_jit_block_add_assignment(w->cur, NULL, l, r);
}

/* Calls runtime helper k with the given arguments; returns the call (u64). */
static gcc_jit_rvalue *helper(lw *w, int k, int n, gcc_jit_rvalue **args) {
  gcc_jit_type *types[8];
  for (int i = 0; i < n; i++) types[i] = gcc_jit_rvalue_get_type(args[i]);
  gcc_jit_type *fpt = gcc_jit_context_new_function_ptr_type(CTX, NULL, w->u64, n, types, 0);
  gcc_jit_rvalue *fp = gcc_jit_context_new_bitcast(
      CTX, NULL, rv(sfield(w, offsetof(sx_state, rt) + (size_t)k * sizeof(void *))), fpt);
  return gcc_jit_context_new_call_through_ptr(CTX, NULL, fp, n, args);
}

/* After every call the lowering emits (tail calls aside): an entry in the object's table of
 * call sites (.sx_calls: the address after the call, the SX instruction that made it), and this
 * lambda's closure in rbx across the call, so that a backtrace can walk through compiled frames
 * (jit/frames.c): the unwinder finds each frame's return address and its rbx. It costs no
 * instruction where GCC keeps the closure in rbx anyway, as it does when it can. */
static void mark_call(lw *w) {
#if defined(__x86_64__)
  char text[160];
  snprintf(text, sizeof text, "1:\n\t.pushsection .sx_calls,\"a\"\n\t.quad 1b\n\t.long %u\n\t.popsection",
           w->pc);
  gcc_jit_extended_asm *a = gcc_jit_block_add_extended_asm(w->cur, NULL, text);
  gcc_jit_extended_asm_set_volatile_flag(a, 1);
  gcc_jit_extended_asm_add_input_operand(a, NULL, "b", w->self);
#else
  (void)w;
#endif
}

/* dst = a call, marked */
static void assign_call(lw *w, gcc_jit_lvalue *dst, gcc_jit_rvalue *call) {
  gcc_jit_block_add_assignment(w->cur, NULL, dst, call);
  mark_call(w);
}

static void helper_stmt(lw *w, int k, int n, gcc_jit_rvalue **args) {
  gcc_jit_block_add_eval(w->cur, NULL, helper(w, k, n, args));
  mark_call(w);
}

/* Before a runtime call that may raise, note which compiled lambda makes it and from which
 * instruction, so an error names it and its source position as the VM would; only slow paths
 * pay these stores (and the clearing one after). */
static void note_self(lw *w) {
  assign(w, sfield(w, offsetof(sx_state, native_self)), gcc_jit_context_new_bitcast(CTX, NULL, w->self, w->u64));
  assign(w, sfield(w, offsetof(sx_state, native_pc)), k64(w, w->pc + 1));
}

static void clear_self(lw *w) { assign(w, sfield(w, offsetof(sx_state, native_self)), k64(w, 0)); }

/* if (unlikely(cond)) rt(S) — a runtime call that may raise, naming this lambda if it does */
static void rare_call(lw *w, gcc_jit_rvalue *cond, int rt) {
  gcc_jit_block *call = newblock(w), *on = newblock(w);
  gcc_jit_block_end_with_conditional(w->cur, NULL, expect(w, cond, 0), call, on);
  w->cur = call;
  gcc_jit_rvalue *args[1] = {w->S};
  note_self(w);
  helper_stmt(w, rt, 1, args);
  clear_self(w);
  gcc_jit_block_end_with_jump(w->cur, NULL, on);
  w->cur = on;
}

/* The slow path of an inlined primitive: result into dst. */
static void prim_slow(lw *w, int op, gcc_jit_lvalue *dst, gcc_jit_rvalue *a, gcc_jit_rvalue *b,
                      gcc_jit_rvalue *c) {
  gcc_jit_rvalue *args[5] = {w->S, k64(w, op), a, b ? b : k64(w, 0), c ? c : k64(w, 0)};
  note_self(w);
  assign_call(w, dst, helper(w, RT_PRIM, 5, args));
  clear_self(w);
}

/* if (likely(cond)) { fast } else { slow } ; continue in the returned join block */
typedef struct {
  gcc_jit_block *fast, *slow, *join;
} split;

static split branch(lw *w, gcc_jit_rvalue *cond, int likely) {
  split sp = {newblock(w), newblock(w), newblock(w)};
  gcc_jit_block_end_with_conditional(w->cur, NULL, likely >= 0 ? expect(w, cond, likely) : cond,
                                     sp.fast, sp.slow);
  return sp;
}

/* if (likely(c[0]) && likely(c[1]) && ...) { fast } else { slow }: one expected branch per test,
 * each test evaluated only when the ones before it held (a header is read only from a pointer).
 * (One __builtin_expect around a && chain is lost: GCC then laid out the slow path as the
 * fall-through of every car and cdr.) */
static split branch_all(lw *w, int n, gcc_jit_rvalue **c) {
  split sp = {NULL, newblock(w), newblock(w)};
  for (int i = 0; i < n; i++) {
    gcc_jit_block *next = newblock(w);
    gcc_jit_block_end_with_conditional(w->cur, NULL, expect(w, c[i], 1), next, sp.slow);
    w->cur = next;
  }
  sp.fast = w->cur;
  return sp;
}

/* The tests that v is a heap object (a non-null pointer) into c[0..1]; returns 2. */
static int obj_tests(lw *w, gcc_jit_rvalue *v, gcc_jit_rvalue **c) {
  c[0] = is_ptr(w, v);
  c[1] = cmp(w, GCC_JIT_COMPARISON_NE, v, k64(w, 0));
  return 2;
}

/* if (likely(v is an object of the type)) { fast } else { slow } */
static split branch_type(lw *w, gcc_jit_rvalue *v, int type) {
  gcc_jit_rvalue *c[3];
  int n = obj_tests(w, v, c);
  c[n++] = type_is(w, v, type);
  return branch_all(w, n, c);
}

static void goto_join(lw *w, split *sp) { gcc_jit_block_end_with_jump(w->cur, NULL, sp->join); }

static gcc_jit_type *entry_type(lw *w, int n) {
  gcc_jit_type *types[2 + JIT_REG_ARGS];
  types[0] = w->u64p;
  types[1] = w->u64p;
  if (n > JIT_REG_ARGS) {
    types[2] = w->u64p;
    return gcc_jit_context_new_function_ptr_type(CTX, NULL, w->u64, 3, types, 0);
  }
  for (int i = 0; i < n; i++) types[2 + i] = w->u64;
  return gcc_jit_context_new_function_ptr_type(CTX, NULL, w->u64, 2 + n, types, 0);
}

/* The argument list for an entry of arity n, arguments from stack slots first..first+n. */
static int entry_args(lw *w, int n, int first, gcc_jit_rvalue *fnv, gcc_jit_rvalue **args,
                      bool tail) {
  args[0] = w->S;
  args[1] = ptr(w, fnv);
  if (n <= JIT_REG_ARGS) {
    for (int i = 0; i < n; i++) args[2 + i] = rv(w->s[first + i]);
    return 2 + n;
  }
  /* many arguments: through memory — for a tail call a VM-owned area, never this C frame */
  gcc_jit_lvalue *area0 = tail ? sfield(w, offsetof(sx_state, tail_args)) : gcc_jit_context_new_array_access(CTX, NULL, rv(w->argbuf), gcc_jit_context_new_rvalue_from_int(CTX, w->intt, 0));
  gcc_jit_rvalue *base = gcc_jit_lvalue_get_address(area0, NULL);
  for (int i = 0; i < n; i++) assign(w, at(w, base, i), rv(w->s[first + i]));
  args[2] = base;
  return 3;
}

/* Stores the callee and arguments in S->tail_* and returns what RT_TAIL makes of them: SX_TAIL
 * for a closure (the caller's caller runs it), the result of anything else, run at once. */
static void hand_back_tail(lw *w, gcc_jit_rvalue *fnv, int n, int first) {
  assign(w, sfield(w, offsetof(sx_state, tail_fn)), fnv);
  gcc_jit_rvalue *argc = gcc_jit_context_new_rvalue_from_int(CTX, w->intt, n);
  gcc_jit_rvalue *argcp = gcc_jit_lvalue_get_address(sfield(w, offsetof(sx_state, tail_argc)), NULL);
  gcc_jit_block_add_assignment(
      w->cur, NULL, gcc_jit_rvalue_dereference(gcc_jit_context_new_bitcast(CTX, NULL, argcp, gcc_jit_type_get_pointer(w->intt)), NULL),
      argc);
  for (int i = 0; i < n; i++)
    assign(w, sfield(w, offsetof(sx_state, tail_args) + (size_t)i * 8), rv(w->s[first + i]));
  gcc_jit_rvalue *args[1] = {w->S};
  note_self(w);
  gcc_jit_lvalue *r = new_tmp(w, w->u64);
  assign_call(w, r, helper(w, RT_TAIL, 1, args));
  clear_self(w);
  gcc_jit_block_end_with_return(w->cur, NULL, rv(r));
}

/* The native entry of callee value fnv if it has one of arity n, else 0 (as an rvalue chain):
 * emits the checks, leaving w->cur in the block where `entry` (a local) is set. */
static gcc_jit_rvalue *native_entry_check(lw *w, gcc_jit_rvalue *fnv, int n, gcc_jit_lvalue *entry) {
  /* closure? -> proto -> jit entry -> arity */
  assign(w, entry, k64(w, 0));
  split b = branch_type(w, fnv, T_CLOSURE);
  w->cur = b.fast;
  gcc_jit_rvalue *proto = rv(word(w, fnv, offsetof(sx_closure, proto) / 8));
  gcc_jit_lvalue *e = word(w, proto, offsetof(sx_proto, jit) / 8);
  assign(w, entry, rv(e));
  split c = branch(w, cmp(w, GCC_JIT_COMPARISON_NE, rv(entry), k64(w, 0)), 1);
  w->cur = c.fast;
  split d = branch(w, cmp(w, GCC_JIT_COMPARISON_EQ, rv(word(w, rv(entry), 1)), k64(w, n)), 1);
  w->cur = d.slow;
  assign(w, entry, k64(w, 0));
  gcc_jit_block_end_with_jump(w->cur, NULL, d.join);
  gcc_jit_block_end_with_jump(d.fast, NULL, d.join);
  w->cur = d.join;
  gcc_jit_block_end_with_jump(w->cur, NULL, c.join);
  gcc_jit_block_end_with_jump(c.slow, NULL, c.join);
  w->cur = c.join;
  gcc_jit_block_end_with_jump(w->cur, NULL, b.join);
  gcc_jit_block_end_with_jump(b.slow, NULL, b.join);
  w->cur = b.join;
  return cmp(w, GCC_JIT_COMPARISON_NE, rv(entry), k64(w, 0));
}

/* w->res = call of fnv with the n arguments in stack slots first.. through the runtime:
 * primitives, the VM, and compiled rest-parameter entries. */
static void call_runtime(lw *w, gcc_jit_rvalue *fnv, int n, int first) {
  gcc_jit_rvalue *base = arr_base(w, w->argbuf);
  for (int i = 0; i < n; i++) assign(w, at(w, base, i), rv(w->s[first + i]));
  gcc_jit_rvalue *ca[4] = {w->S, fnv, k64(w, n), base};
  note_self(w);
  assign_call(w, w->res, helper(w, RT_CALL, 4, ca));
  clear_self(w);
}

/* w->res = call of fnv through its native entry when it has one of arity n, else the VM. */
static void call_native_or_vm(lw *w, gcc_jit_rvalue *fnv, int n, int first) {
  gcc_jit_rvalue *args[2 + JIT_MAX_ARGS + 1];
  gcc_jit_lvalue *entry = new_tmp(w, w->u64);
  gcc_jit_rvalue *has = native_entry_check(w, fnv, n, entry);
  split nv = branch(w, has, 1);
  w->cur = nv.fast;
  int na = entry_args(w, n, first, fnv, args, false);
  gcc_jit_rvalue *fp = gcc_jit_context_new_bitcast(CTX, NULL, rv(word(w, rv(entry), 0)), entry_type(w, n));
  assign_call(w, w->res, gcc_jit_context_new_call_through_ptr(CTX, NULL, fp, na, args));
  goto_join(w, &nv);
  w->cur = nv.slow;
  call_runtime(w, fnv, n, first);
  goto_join(w, &nv);
  w->cur = nv.join;
}

/* Fuel is spent one unit per back edge. A lambda with loops counts its back edges in a local
 * (w->tick, in a register) and charges S->fuel every JIT_TICK of them, and for the rest when
 * it leaves; so a loop round costs no memory write. */
#define JIT_TICK 256

static gcc_jit_rvalue *ticks_used(lw *w) {
  return bin(w, GCC_JIT_BINARY_OP_MINUS, k64(w, JIT_TICK), rv(w->tick));
}

/* On a back edge: spend fuel. Every JIT_TICK rounds the runtime charges it and looks at the
 * interrupt flag, the deadline and finished compiles. No flag is read per round: an interrupt
 * or a safe-point request also trips the entry check of every compiled call (native_limit),
 * so a loop sees it within JIT_TICK rounds, or at its next call. */
static void poll_point(lw *w) {
  assign(w, w->tick, bin(w, GCC_JIT_BINARY_OP_MINUS, rv(w->tick), k64(w, 1)));
  gcc_jit_rvalue *empty = cmp(w, GCC_JIT_COMPARISON_EQ, rv(w->tick), k64(w, 0));
  gcc_jit_block *call = newblock(w), *on = newblock(w);
  gcc_jit_block_end_with_conditional(w->cur, NULL, expect(w, empty, 0), call, on);
  w->cur = call;
  gcc_jit_rvalue *args[2] = {w->S, ticks_used(w)};
  note_self(w);
  helper_stmt(w, RT_POLLN, 2, args);
  clear_self(w);
  assign(w, w->tick, k64(w, JIT_TICK));
  gcc_jit_block_end_with_jump(w->cur, NULL, on);
  w->cur = on;
}

/* Before leaving through a tail call: spend this lambda's fuel (one unit for the call, and
 * the back edges not yet charged). No flag is read: the callee sees an interrupt in its entry
 * check (native_limit), or the VM does when the call is handed back. */
static void poll_leave(lw *w) {
  gcc_jit_lvalue *fuel = sfield(w, offsetof(sx_state, fuel));
  gcc_jit_rvalue *spent = w->has_loops ? bin(w, GCC_JIT_BINARY_OP_PLUS, ticks_used(w), k64(w, 1)) : k64(w, 1);
  assign(w, fuel, bin(w, GCC_JIT_BINARY_OP_MINUS, rv(fuel), spent));
  if (w->has_loops) assign(w, w->tick, k64(w, JIT_TICK));
  rare_call(w, cmp(w, GCC_JIT_COMPARISON_LE, as_i64(w, rv(fuel)), gcc_jit_context_new_rvalue_from_long(CTX, w->i64, 0)), RT_POLL);
}

/* Before a return: charge the back edges not yet charged — if there were any: a recursive
 * lambda whose self tail call is a loop (tak) mostly returns without going round, and then
 * pays a test instead of a read-modify-write of S->fuel. */
static void flush_fuel(lw *w) {
  if (!w->has_loops) return;
  gcc_jit_block *charge = newblock(w), *on = newblock(w);
  gcc_jit_block_end_with_conditional(w->cur, NULL, expect(w, cmp(w, GCC_JIT_COMPARISON_NE, rv(w->tick), k64(w, JIT_TICK)), 0),
                                     charge, on);
  w->cur = charge;
  gcc_jit_lvalue *fuel = sfield(w, offsetof(sx_state, fuel));
  assign(w, fuel, bin(w, GCC_JIT_BINARY_OP_MINUS, rv(fuel), ticks_used(w)));
  gcc_jit_block_end_with_jump(w->cur, NULL, on);
  w->cur = on;
}

static gcc_jit_block *to_head(lw *w, const uint8_t *src, uint32_t t);
static void self_state(lw *w, uint32_t i, const uint8_t *in, uint8_t *bs);
static gcc_jit_lvalue *fvar(lw *w, int v);
static gcc_jit_rvalue *val(lw *w, int v);

static void lower_call(lw *w, uint32_t i, int d, int n, bool tail) {
  int fs = d - n - 1;
  gcc_jit_rvalue *fnv = val(w, w->nl + fs);
  gcc_jit_rvalue *args[2 + JIT_MAX_ARGS + 1];
  gcc_jit_rvalue *selfv = gcc_jit_context_new_bitcast(CTX, NULL, w->self, w->u64);
  bool self_ok = n == w->sh->nparams && !(w->sh->flags & PROTO_REST);
  /* the callee is a global that named this lambda: when it no longer does (redefined), the
     call goes through the runtime, which is slower but keeps this lambda's code small */
  bool likely_self = self_ok && w->gself[fs];

  if (tail) {
    if (self_ok) {
      /* a self tail call is a jump back to the start, floats staying unboxed */
      split sp = branch(w, cmp(w, GCC_JIT_COMPARISON_EQ, fnv, selfv), likely_self ? 1 : -1);
      w->cur = sp.fast;
      poll_point(w);
      uint8_t *bs = malloc((size_t)w->nv + 1);
      bool *saved = malloc((size_t)w->nv + 1);
      memcpy(saved, w->valid, (size_t)w->nv);
      self_state(w, i, w->kin, bs);
      for (int p = 0; p < n; p++) {
        int sv = w->nl + fs + 1 + p;
        if (w->kin[sv] == KD_FLO) {
          assign(w, fvar(w, p), rv(fvar(w, sv)));
          if (saved[sv]) assign(w, w->l[p], rv(w->s[fs + 1 + p]));
          w->valid[p] = saved[sv];
        } else {
          assign(w, w->l[p], rv(w->s[fs + 1 + p]));
          w->valid[p] = false;
        }
      }
      gcc_jit_block_end_with_jump(w->cur, NULL, to_head(w, bs, 0));
      memcpy(w->valid, saved, (size_t)w->nv);
      free(saved);
      free(bs);
      gcc_jit_block_end_with_jump(sp.join, NULL, w->blocks[0]); /* unused */
      w->cur = sp.slow;
    }
    for (int k = fs + 1; k < d; k++) val(w, w->nl + k);
    poll_leave(w);
    if (likely_self) {
      hand_back_tail(w, fnv, n, fs + 1);
      w->cur = NULL;
      return;
    }
    gcc_jit_lvalue *entry = new_tmp(w, w->u64);
    gcc_jit_rvalue *has = native_entry_check(w, fnv, n, entry);
    split nv = branch(w, has, 1);
    w->cur = nv.fast;
    int na = entry_args(w, n, fs + 1, fnv, args, true);
    gcc_jit_rvalue *fp = gcc_jit_context_new_bitcast(CTX, NULL, rv(word(w, rv(entry), 0)), entry_type(w, n));
    gcc_jit_rvalue *call = gcc_jit_context_new_call_through_ptr(CTX, NULL, fp, na, args);
    gcc_jit_rvalue_set_bool_require_tail_call(call, 1);
    gcc_jit_block_end_with_return(w->cur, NULL, call);
    w->cur = nv.slow;
    hand_back_tail(w, fnv, n, fs + 1);
    gcc_jit_block_end_with_return(nv.join, NULL, k64(w, (int64_t)SX_NIL)); /* unused */
    w->cur = NULL;
    return;
  }

  for (int k = fs + 1; k < d; k++) val(w, w->nl + k);
  gcc_jit_block *done = newblock(w);
  if (self_ok && n <= JIT_REG_ARGS) {
    /* a call of ourselves: a direct call GCC can see; it hands back a tail call (SX_TAIL)
       only if this lambda makes tail calls */
    split sp = branch(w, cmp(w, GCC_JIT_COMPARISON_EQ, fnv, selfv), likely_self ? 1 : -1);
    w->cur = sp.fast;
    int na = entry_args(w, n, fs + 1, fnv, args, false);
    assign_call(w, w->res, gcc_jit_context_new_call(CTX, NULL, w->fn, na, args));
    gcc_jit_block_end_with_jump(w->cur, NULL, w->has_tail ? sp.join : done);
    w->cur = sp.slow;
    if (likely_self) { /* the runtime never answers SX_TAIL */
      call_runtime(w, fnv, n, fs + 1);
      gcc_jit_block_end_with_jump(w->cur, NULL, done);
    } else {
      call_native_or_vm(w, fnv, n, fs + 1);
      goto_join(w, &sp);
    }
    w->cur = sp.join;
  } else {
    call_native_or_vm(w, fnv, n, fs + 1);
  }
  split t = branch(w, cmp(w, GCC_JIT_COMPARISON_EQ, rv(w->res), k64(w, (int64_t)SX_TAIL)), 0);
  w->cur = t.fast;
  gcc_jit_rvalue *ra[1] = {w->S};
  assign_call(w, w->res, helper(w, RT_RESOLVE, 1, ra));
  goto_join(w, &t);
  w->cur = t.slow;
  goto_join(w, &t);
  w->cur = t.join;
  gcc_jit_block_end_with_jump(w->cur, NULL, done);
  w->cur = done;
  assign(w, w->s[fs], rv(w->res));
}

/* Fixnum + - * with overflow check; anything else (floats, overflow, wrong types) goes to the
 * primitive. Tagged: a = 4x+1, b = 4y+1; a + (b-1) = 4(x+y)+1, a - (b-1) = 4(x-y)+1,
 * (a>>2)*(b-1) + 1 = 4xy+1 — overflow of the tagged result is overflow of the fixnum. */
static gcc_jit_rvalue *is_flo(lw *w, gcc_jit_rvalue *v) {
  return land(w, land(w, is_ptr(w, v), cmp(w, GCC_JIT_COMPARISON_NE, v, k64(w, 0))), type_is(w, v, T_FLONUM));
}

/* dst = v as a double, jumping to bad when v is not a number: fixnums convert, flonums load.
 * exact: fixnums beyond 2^53 go to bad too (a comparison must not round them). */
static void to_double(lw *w, gcc_jit_rvalue *v, gcc_jit_lvalue *dst, gcc_jit_block *bad, bool exact) {
  gcc_jit_block *fix = newblock(w), *notfix = newblock(w), *flo = newblock(w), *done = newblock(w);
  gcc_jit_block_end_with_conditional(
      w->cur, NULL, cmp(w, GCC_JIT_COMPARISON_EQ, bin(w, GCC_JIT_BINARY_OP_BITWISE_AND, v, k64(w, 3)), k64(w, 1)),
      fix, notfix);
  gcc_jit_rvalue *i = gcc_jit_context_new_binary_op(CTX, NULL, GCC_JIT_BINARY_OP_RSHIFT, w->i64, as_i64(w, v),
                                                    gcc_jit_context_new_rvalue_from_long(CTX, w->i64, 2));
  if (exact) {
    gcc_jit_block *fits = newblock(w);
    gcc_jit_rvalue *off = bin(w, GCC_JIT_BINARY_OP_PLUS, gcc_jit_context_new_cast(CTX, NULL, i, w->u64), k64(w, 1ll << 53));
    gcc_jit_block_end_with_conditional(fix, NULL, cmp(w, GCC_JIT_COMPARISON_LE, off, k64(w, 1ll << 54)), fits, bad);
    fix = fits;
  }
  gcc_jit_block_add_assignment(fix, NULL, dst, gcc_jit_context_new_cast(CTX, NULL, i, w->dbl));
  gcc_jit_block_end_with_jump(fix, NULL, done);
  gcc_jit_block_end_with_conditional(notfix, NULL, is_flo(w, v), flo, bad);
  gcc_jit_block_add_assignment(flo, NULL, dst, gcc_jit_context_new_bitcast(CTX, NULL, rv(word(w, v, 1)), w->dbl));
  gcc_jit_block_end_with_jump(flo, NULL, done);
  w->cur = done;
}

static enum gcc_jit_binary_op fop(int op) {
  return op == OP_ADD ? GCC_JIT_BINARY_OP_PLUS
         : op == OP_SUB ? GCC_JIT_BINARY_OP_MINUS
         : op == OP_MUL ? GCC_JIT_BINARY_OP_MULT
                        : GCC_JIT_BINARY_OP_DIVIDE;
}

static gcc_jit_rvalue *box_expr(lw *w, gcc_jit_rvalue *d);

/* ka, kb: the operand is known to be a fixnum (its kind), so not tested. */
static void lower_arith(lw *w, int op, gcc_jit_lvalue *dst, gcc_jit_rvalue *a, gcc_jit_rvalue *b, bool ka, bool kb) {
  gcc_jit_rvalue *chk = fix_check(w, a, ka, b, kb);
  gcc_jit_block *join = newblock(w), *other = NULL;
  if (chk) {
    gcc_jit_block *fast = newblock(w);
    other = newblock(w);
    gcc_jit_block_end_with_conditional(w->cur, NULL, expect(w, chk, 1), fast, other);
    w->cur = fast;
  }
  gcc_jit_rvalue *x = as_i64(w, a), *y = as_i64(w, bin(w, GCC_JIT_BINARY_OP_MINUS, b, k64(w, 1)));
  gcc_jit_function *bf = op == OP_ADD ? w->b_add : op == OP_SUB ? w->b_sub : w->b_mul;
  if (op == OP_MUL) x = gcc_jit_context_new_binary_op(CTX, NULL, GCC_JIT_BINARY_OP_RSHIFT, w->i64, x, gcc_jit_context_new_rvalue_from_long(CTX, w->i64, 2));
  gcc_jit_rvalue *args[3] = {gcc_jit_context_new_cast(CTX, NULL, x, w->longt),
                             gcc_jit_context_new_cast(CTX, NULL, y, w->longt),
                             gcc_jit_lvalue_get_address(w->ovf, NULL)};
  gcc_jit_rvalue *overflow = gcc_jit_context_new_call(CTX, NULL, bf, 3, args);
  /* overflow and other types share one slow path: the primitive raises "integer overflow",
     and computes floats (kept out of line: inline float paths made every compile slower) */
  gcc_jit_block *ok = newblock(w), *slow = other ? other : newblock(w);
  gcc_jit_block_end_with_conditional(w->cur, NULL, expect(w, overflow, 0), slow, ok);
  w->cur = ok;
  gcc_jit_rvalue *r = gcc_jit_context_new_cast(CTX, NULL, rv(w->ovf), w->u64);
  if (op == OP_MUL) r = bin(w, GCC_JIT_BINARY_OP_PLUS, r, k64(w, 1));
  assign(w, dst, r);
  gcc_jit_block_end_with_jump(w->cur, NULL, join);
  w->cur = slow;
  prim_slow(w, op, dst, a, b, NULL);
  gcc_jit_block_end_with_jump(w->cur, NULL, join);
  w->cur = join;
}

static enum gcc_jit_comparison cmp_of(int op) {
  switch (op) {
  case OP_LT: case OP_LTJF: return GCC_JIT_COMPARISON_LT;
  case OP_LE: case OP_LEJF: return GCC_JIT_COMPARISON_LE;
  case OP_GT: case OP_GTJF: return GCC_JIT_COMPARISON_GT;
  case OP_GE: case OP_GEJF: return GCC_JIT_COMPARISON_GE;
  default: return GCC_JIT_COMPARISON_EQ;
  }
}

static int base_cmp(int op) {
  switch (op) {
  case OP_LTJF: return OP_LT;
  case OP_LEJF: return OP_LE;
  case OP_GTJF: return OP_GT;
  case OP_GEJF: return OP_GE;
  case OP_EQJF: return OP_NUMEQ;
  }
  return op;
}

/* Comparison of two values into dst (a boolean value); ka, kb as for lower_arith. */
static void lower_compare(lw *w, int op, gcc_jit_lvalue *dst, gcc_jit_rvalue *a, gcc_jit_rvalue *b, bool ka, bool kb) {
  gcc_jit_rvalue *chk = fix_check(w, a, ka, b, kb);
  if (!chk) {
    assign(w, dst, boolval(w, cmp(w, cmp_of(op), as_i64(w, a), as_i64(w, b))));
    return;
  }
  split sp = branch(w, chk, 1);
  w->cur = sp.fast;
  assign(w, dst, boolval(w, cmp(w, cmp_of(op), as_i64(w, a), as_i64(w, b))));
  goto_join(w, &sp);
  w->cur = sp.slow;
  prim_slow(w, base_cmp(op), dst, a, b, NULL);
  goto_join(w, &sp);
  w->cur = sp.join;
}


/* What one instruction does to the stack and the control flow. */
typedef struct {
  int nd;     /* stack depth after it, on the fall-through path */
  int width;  /* its words */
  bool ends;  /* no fall-through */
  int target; /* jump target, or -1 */
  int tdepth; /* stack depth at the target */
  bool ok;
} stepinfo;

static stepinfo step(const jit_shape *sh, uint32_t i, int d) {
  uint32_t ins = sh->code[i];
  int op = INS_OP(ins);
  uint32_t a = INS_A(ins);
  stepinfo r = {d, 1, false, -1, 0, true};
  switch (op) {
  case OP_CALL: r.nd = d - (int)a; r.ok = a <= JIT_MAX_ARGS; break;
  case OP_TAILCALL: r.nd = d - (int)a; r.ends = true; r.ok = a <= JIT_MAX_ARGS; break;
  case OP_RETURN: r.ends = true; break;
  case OP_RERAISE: r.ends = true; break;
  case OP_JUMP: r.target = (int)a; r.tdepth = d; r.ends = true; break;
  case OP_LOOP: r.target = (int)a; r.tdepth = 0; r.ends = true; break;
  case OP_JUMPF: case OP_JUMPT: r.nd = d - 1; r.target = (int)a; r.tdepth = d - 1; break;
  case OP_ANDJ: case OP_ORJ: r.nd = d - 1; r.target = (int)a; r.tdepth = d; break;
  case OP_LTJF: case OP_LEJF: case OP_GTJF: case OP_GEJF: case OP_EQJF:
    r.nd = d - 2; r.target = (int)a; r.tdepth = d - 2; break;
  case OP_VECLIT: r.nd = d - (int)a + 1; break;
  case OP_DICTLIT: r.nd = d - 2 * (int)a + 1; break;
  case OP_CLOSURE: r.nd = d + 1; r.width = 1 + sh->aux[i]; break;
  case OP_PATCH: r.width = 2; break;
  case OP_TRY: case OP_TRYF: r.target = (int)a; r.tdepth = d + 1; break; /* the handler: + raised value */
  case OP_ENDTRY: break;
  default: {
    static const int8_t eff[] = {
#define OP(name, fmt, e) e,
#include "../vm/opcodes.h"
#undef OP
    };
    r.nd = d + eff[op];
  }
  }
  if (r.nd < 0 || r.nd > sh->maxstack + 2) r.ok = false;
  if (r.target >= 0 && (uint32_t)r.target >= sh->ncode) r.ok = false;
  return r;
}

/* Stack depth before each instruction; block starts. False when the code is malformed. */
static bool analyse(lw *w) {
  const jit_shape *sh = w->sh;
  uint32_t n = sh->ncode;
  for (uint32_t i = 0; i < n; i++) w->depth[i] = -1;
  bool *start = calloc(n + 1, sizeof(bool));
  uint32_t *work = malloc((n + 1) * sizeof(uint32_t));
  size_t nw = 0;
  w->depth[0] = 0;
  start[0] = true;
  work[nw++] = 0;
  bool ok = true;
  while (nw && ok) {
    uint32_t i = work[--nw];
    int d = w->depth[i];
    for (;;) {
      stepinfo r = step(sh, i, d);
      if (!(ok = r.ok)) break;
      if (r.target >= 0) {
        start[r.target] = true;
        if (w->depth[r.target] < 0) {
          w->depth[r.target] = r.tdepth;
          work[nw++] = (uint32_t)r.target;
        } else if (w->depth[r.target] != r.tdepth) { ok = false; break; }
      }
      uint32_t next = i + (uint32_t)r.width;
      if (next >= n) break;
      if (r.ends) {
        start[next] = true; /* possibly unreachable */
        break;
      }
      if (w->depth[next] >= 0) {
        if (w->depth[next] != r.nd) ok = false;
        break;
      }
      w->depth[next] = r.nd;
      d = r.nd;
      i = next;
    }
  }
  if (ok)
    for (uint32_t i = 0; i < n; i++)
      if (start[i]) w->blocks[i] = newblock(w);
  w->start = start;
  free(work);
  if (!ok) snprintf(w->why, sizeof w->why, "unsupported or malformed bytecode");
  return ok;
}

/* ---- kinds: unboxed floats, known fixnums ----------------------------------------------------
 * Every local and stack slot has a kind before every instruction: KD_FLO (certainly a float,
 * held unboxed in a double C local), KD_FIX (certainly a fixnum, tagged as usual: its checks
 * are left out), KD_ANY (a tagged value) or KD_BOT (dead or not yet set); KD_FIX and KD_FLO
 * join to KD_ANY. Arithmetic with a float operand gives a float or raises, and fixnum
 * arithmetic gives a fixnum or raises (no bignums: overflow is an error), so float expressions
 * stay in registers and fixnum expressions need no tag checks; a float is boxed only where a
 * tagged value is needed: a call, a return, a store, an edge into a block where it is KD_ANY.
 *
 * Loop variables: when some parameters of a lambda whose self tail calls are loops always
 * come back as floats or as fixnums (a named let over floats, or counting), the body is
 * lowered twice. The typed version assumes those parameters have those kinds; the entry, and
 * every back edge of the generic version, checks whether they do, and goes on in the typed
 * version when they do. */


static bool self_loops(const jit_shape *sh, uint32_t i) {
  return INS_OP(sh->code[i]) == OP_TAILCALL && (int)INS_A(sh->code[i]) == sh->nparams &&
         !(sh->flags & PROTO_REST);
}

/* Locals read before they are written (live on entry to each instruction), one byte each. */
static void liveness(lw *w) {
  const jit_shape *sh = w->sh;
  int nl = w->nl;
  w->live = calloc((size_t)sh->ncode * (size_t)nl + 1, 1);
  uint8_t *out = malloc((size_t)nl + 1);
  for (bool changed = true; changed;) {
    changed = false;
    for (uint32_t i = sh->ncode; i-- > 0;) {
      if (w->depth[i] < 0) continue;
      uint32_t ins = sh->code[i];
      int op = INS_OP(ins);
      uint32_t a = INS_A(ins);
      stepinfo r = step(sh, i, w->depth[i]);
      memset(out, 0, (size_t)nl);
      uint32_t next = i + (uint32_t)r.width;
      if (!r.ends && next < sh->ncode)
        for (int v = 0; v < nl; v++) out[v] |= w->live[(size_t)next * nl + v];
      if (r.target >= 0)
        for (int v = 0; v < nl; v++) out[v] |= w->live[(size_t)r.target * nl + v];
      if (self_loops(sh, i)) /* the self tail call writes the parameters and starts again */
        for (int v = sh->nparams; v < nl; v++) out[v] |= w->live[v];
      switch (op) {
      case OP_SETLOCAL: out[a] = 0; break;
      case OP_LOCAL: case OP_BOXLOCAL: case OP_LOCALBOX: case OP_SETLOCALBOX: out[a] = 1; break;
      case OP_PATCH: out[a] = 1; out[sh->code[i + 1] >> 16] = 1; break;
      case OP_CLOSURE:
        for (uint32_t k = 0; k < sh->aux[i]; k++) {
          uint32_t desc = sh->code[i + 1 + k];
          if (!(desc & 0x80000000u) && (int)desc < nl) out[desc] = 1;
        }
        break;
      default: break;
      }
      uint8_t *in = w->live + (size_t)i * nl;
      if (memcmp(in, out, (size_t)nl)) {
        memcpy(in, out, (size_t)nl);
        changed = true;
      }
    }
  }
  free(out);
}

/* The bits of the parameters the kind masks can name (the first 32). */
static uint32_t param_mask(const jit_shape *sh) { return sh->nparams >= 32 ? ~0u : (1u << sh->nparams) - 1; }

static uint8_t kind_or_any(uint8_t k) { return k == KD_FLO || k == KD_FIX ? k : KD_ANY; }

static uint8_t kind_join(uint8_t a, uint8_t b) {
  return a == b || b == KD_BOT ? a : a == KD_BOT ? b : KD_ANY;
}

/* The kind of a + - * result from its operands' kinds. */
static uint8_t arith_kind(uint8_t x, uint8_t y) {
  return x == KD_FLO || y == KD_FLO ? KD_FLO : x == KD_FIX && y == KD_FIX ? KD_FIX : KD_ANY;
}

/* The state after instruction i (fall-through: out; at its jump target: tgt) from the state
 * before it (in). Slots above the new depth are cleared when the state is joined. */
static void xfer(lw *w, uint32_t i, const uint8_t *in, uint8_t *out, uint8_t *tgt) {
  const jit_shape *sh = w->sh;
  uint32_t ins = sh->code[i];
  int op = INS_OP(ins);
  uint32_t a = INS_A(ins);
  int d = w->depth[i], nl = w->nl;
  memcpy(out, in, (size_t)w->nv);
  uint8_t *S = out + nl;
  switch ((vm_opcode)op) {
  case OP_CONST: S[d] = sh->aux[i] == AUX_FLONUM ? KD_FLO : sh->aux[i] == AUX_FIXNUM ? KD_FIX : KD_ANY; break;
  case OP_LOCAL: S[d] = kind_or_any(in[a]); break;
  case OP_SETLOCAL: out[a] = kind_or_any(S[d - 1]); break;
  case OP_BOXLOCAL: out[a] = KD_ANY; break;
  case OP_ADD: case OP_SUB: case OP_MUL: S[d - 2] = arith_kind(S[d - 2], S[d - 1]); break;
  case OP_DIV: S[d - 2] = S[d - 2] == KD_FLO || S[d - 1] == KD_FLO ? KD_FLO : KD_ANY; break;
  case OP_ADDK: case OP_SUBK: S[d - 1] = kind_or_any(S[d - 1]); break;
  case OP_FIXNUM: S[d] = KD_FIX; break;
  case OP_NIL: case OP_TRUE: case OP_FALSE: case OP_EMPTY: case OP_LOCALBOX:
  case OP_FREE: case OP_FREEBOX: case OP_GLOBAL: case OP_CLOSURE:
    S[d] = KD_ANY;
    break;
  case OP_CALL: S[d - (int)a - 1] = KD_ANY; break;
  case OP_VECLIT: S[d - (int)a] = KD_ANY; break;
  case OP_DICTLIT: S[d - 2 * (int)a] = KD_ANY; break;
  case OP_LT: case OP_LE: case OP_GT: case OP_GE: case OP_NUMEQ: case OP_EQ: case OP_CONS:
  case OP_VREF:
    S[d - 2] = KD_ANY;
    break;
  case OP_VSET: S[d - 3] = KD_ANY; break;
  case OP_SETCAR: case OP_SETCDR: S[d - 2] = KD_ANY; break;
  case OP_CAR: case OP_CDR: case OP_NULLP: case OP_PAIRP: case OP_TYPEP: case OP_PROCP:
  case OP_NOT: case OP_ZEROP:
    S[d - 1] = KD_ANY;
    break;
  case OP_NOP: case OP_POP: case OP_SETLOCALBOX: case OP_SETFREEBOX: case OP_SETGLOBAL:
  case OP_DEFGLOBAL: case OP_DEFMACRO: case OP_JUMP: case OP_JUMPF: case OP_JUMPT: case OP_ANDJ:
  case OP_ORJ: case OP_PATCH: case OP_TAILCALL: case OP_LOOP: case OP_RETURN: case OP_TRY:
  case OP_TRYF: case OP_ENDTRY: case OP_RERAISE: case OP_LTJF: case OP_LEJF: case OP_GTJF:
  case OP_GEJF: case OP_EQJF: case OP__COUNT:
    break;
  }
  /* ANDJ/ORJ keep the tested value on the jump; every other jump sees the fall-through state */
  memcpy(tgt, op == OP_ANDJ || op == OP_ORJ ? in : out, (size_t)w->nv);
  if (op == OP_TRY || op == OP_TRYF) {
    /* the handler starts from wherever in the try's body the error came: nothing is known of
       the locals there, and the raised value is on top */
    for (int v = 0; v < nl; v++)
      if (tgt[v] != KD_BOT) tgt[v] = KD_ANY;
    tgt[nl + d] = KD_ANY;
  }
  if (w->has_try) /* floats stay boxed: a handler reads every variable as a tagged value */
    for (int v = 0; v < w->nv; v++) {
      if (out[v] == KD_FLO) out[v] = KD_ANY;
      if (tgt[v] == KD_FLO) tgt[v] = KD_ANY;
    }
}

/* The state a self tail call at i (a loop) starts the next round with. */
static void self_state(lw *w, uint32_t i, const uint8_t *in, uint8_t *bs) {
  int d = w->depth[i], n = (int)INS_A(w->sh->code[i]);
  memcpy(bs, in, (size_t)w->nv);
  for (int p = 0; p < n; p++) bs[p] = kind_or_any(in[w->nl + d - n + p]);
}

/* Forward data flow of kinds from the entry state. any_back: back edges (loops) carry only
 * tagged values (the generic version of a lambda with a float version). */
static void flow(lw *w, kflow *k, const uint8_t *entry, bool any_back) {
  const jit_shape *sh = w->sh;
  size_t nv = (size_t)w->nv;
  k->st = calloc((size_t)sh->ncode * nv + 1, 1);
  k->seen = calloc(sh->ncode + 1, sizeof(bool));
  uint32_t *work = malloc((sh->ncode + 1) * sizeof(uint32_t));
  bool *queued = calloc(sh->ncode + 1, sizeof(bool));
  uint8_t *out = malloc(nv + 1), *tgt = malloc(nv + 1), *bs = malloc(nv + 1);
  uint32_t back = ~0u, backfix = ~0u;
  bool any_backs = false;
  size_t nw = 0;
#define JOIN(j, src, is_back)                                                                   \
  do {                                                                                          \
    uint32_t j_ = (j);                                                                          \
    uint8_t *dst = k->st + (size_t)j_ * nv;                                                     \
    bool ch = !k->seen[j_];                                                                     \
    for (size_t v = 0; v < nv; v++) {                                                           \
      uint8_t x = (src)[v];                                                                     \
      if (v < (size_t)w->nl ? !w->live[(size_t)j_ * w->nl + v] : (int)(v - w->nl) >= w->depth[j_]) \
        x = KD_BOT;                                                                              \
      else if ((is_back) && any_back && x == KD_FLO)                                             \
        x = KD_ANY;                                                                              \
      if (!k->seen[j_]) dst[v] = x;                                                             \
      else if (kind_join(dst[v], x) != dst[v]) dst[v] = kind_join(dst[v], x), ch = true;        \
    }                                                                                           \
    k->seen[j_] = true;                                                                         \
    if (ch && !queued[j_]) queued[j_] = true, work[nw++] = j_;                                  \
  } while (0)
  JOIN(0, entry, false);
  while (nw) {
    uint32_t i = work[--nw];
    queued[i] = false;
    const uint8_t *in = k->st + (size_t)i * nv;
    stepinfo r = step(sh, i, w->depth[i]);
    xfer(w, i, in, out, tgt);
    uint32_t next = i + (uint32_t)r.width;
    if (!r.ends && next < sh->ncode) JOIN(next, out, false);
    bool loop = INS_OP(sh->code[i]) == OP_LOOP;
    if (r.target >= 0) JOIN((uint32_t)r.target, tgt, loop);
    const uint8_t *be = loop ? out : NULL;
    if (self_loops(sh, i)) {
      self_state(w, i, in, bs);
      JOIN(0, bs, true);
      be = bs;
    }
    if (be) {
      any_backs = true;
      for (int p = 0; p < sh->nparams && p < 32; p++) {
        if (be[p] != KD_FLO) back &= ~(1u << p);
        if (be[p] != KD_FIX) backfix &= ~(1u << p);
      }
    }
  }
#undef JOIN
  uint32_t params = param_mask(sh);
  k->back_flo = any_backs ? back & params : 0;
  k->back_fix = any_backs ? backfix & params : 0;
  k->backs = any_backs;
  free(work);
  free(queued);
  free(out);
  free(tgt);
  free(bs);
}

static void kflow_free(kflow *k) {
  free(k->st);
  free(k->seen);
  k->st = NULL;
  k->seen = NULL;
}

/* The entry state: parameters in `flo` are floats, in `fix` fixnums, every other live
 * variable a tagged value. */
static void entry_state(lw *w, uint32_t flo, uint32_t fix, uint8_t *st) {
  memset(st, KD_BOT, (size_t)w->nv);
  for (int v = 0; v < w->nl; v++)
    st[v] = v < 32 && (flo >> v) & 1 ? KD_FLO : v < 32 && (fix >> v) & 1 ? KD_FIX : KD_ANY;
}

/* Whether knowing the fixnum parameters saves a check somewhere: an operand of arithmetic, a
 * comparison or a vector index that is a fixnum in k but not in the generic version. */
static bool fixnums_pay(lw *w, const kflow *k) {
  for (uint32_t i = 0; i < w->sh->ncode; i += (uint32_t)step(w->sh, i, 0).width) {
    if (!k->seen[i] || w->depth[i] < 2) continue;
    int op = INS_OP(w->sh->code[i]), d = w->depth[i], n;
    switch (op) {
    case OP_ADDK: case OP_SUBK: n = 1; break;
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_LT: case OP_LE: case OP_GT: case OP_GE:
    case OP_NUMEQ: case OP_LTJF: case OP_LEJF: case OP_GTJF: case OP_GEJF: case OP_EQJF: case OP_VREF:
      n = 2;
      break;
    case OP_VSET: n = 3; break;
    default: continue;
    }
    const uint8_t *ks = k->st + (size_t)i * (size_t)w->nv + w->nl, *gs = w->gen.st + (size_t)i * (size_t)w->nv + w->nl;
    bool flo = false, gain = false;
    for (int s = d - n; s < d; s++) {
      flo |= ks[s] == KD_FLO; /* float arithmetic: fixnum operands convert either way */
      gain |= ks[s] == KD_FIX && (!w->gen.seen[i] || gs[s] != KD_FIX);
    }
    if (gain && !flo) return true;
  }
  return false;
}

/* Parameters every self tail call passes on unchanged (the argument is a plain read of the
 * parameter itself): loop invariants. Their kind is not assumed: a float limit passed along
 * must not keep a float loop out of its typed version, and GCC hoists their checks anyway. */
static uint32_t passed_on(lw *w) {
  const jit_shape *sh = w->sh;
  uint32_t all = ~0u, n = sh->nparams;
  bool any = false;
  for (uint32_t i = 0; i < sh->ncode; i += (uint32_t)step(sh, i, 0).width) {
    if (w->depth[i] < 0 || !self_loops(sh, i)) continue;
    any = true;
    int fs = w->depth[i] - (int)n - 1;
    uint32_t same = 0;
    for (uint32_t p = 0; p < n && p < 32; p++) {
      /* the instruction that left argument p in its slot: the last one in this block to write
         at or below that depth */
      int slot = fs + 1 + (int)p;
      for (uint32_t j = i; j-- > 0;) {
        if (w->depth[j] < 0) break;
        if (w->depth[j] <= slot) {
          if (w->depth[j] == slot && INS_OP(sh->code[j]) == OP_LOCAL && INS_A(sh->code[j]) == p) same |= 1u << p;
          break;
        }
        if (w->start[j]) break;
      }
    }
    all &= same;
  }
  return any ? all : 0;
}

/* The kinds of both versions; w->typed says whether there is a typed version. Float loop
 * variables: the set grows from genuine float sources until every one comes back a float.
 * Fixnum loop variables: the set shrinks from all the others until every one comes back a
 * fixnum (a loop counter started from any fixnum stays one). */
static void plan_kinds(lw *w) {
  uint8_t *entry = malloc((size_t)w->nv + 1);
  entry_state(w, 0, 0, entry);
  flow(w, &w->gen, entry, false);
  if (w->has_try) { /* one version, all tagged (see OP_TRY) */
    w->typed = false;
    free(entry);
    return;
  }
  uint32_t flo = w->gen.back_flo;
  for (int round = 0; flo && round < 40; round++) {
    kflow k;
    entry_state(w, flo, 0, entry);
    flow(w, &k, entry, false);
    uint32_t back = k.back_flo;
    kflow_free(&k);
    if (back == flo) break;
    flo = (back & flo) == flo ? back : back & flo;
  }
  uint32_t fix = w->gen.backs ? param_mask(w->sh) & ~flo & ~passed_on(w) : 0;
  kflow k = {0};
  for (int round = 0; (flo || fix) && round < 40; round++) {
    entry_state(w, flo, fix, entry);
    flow(w, &k, entry, false);
    uint32_t back = k.back_fix & fix;
    if (back == fix) break;
    fix = back;
    kflow_free(&k);
  }
  if (k.st && fix && !fixnums_pay(w, &k)) { /* a second version that would save nothing */
    fix = 0;
    kflow_free(&k);
    if (flo) {
      entry_state(w, flo, 0, entry);
      flow(w, &k, entry, false);
    }
  }
  w->typed = (flo || fix) && k.st && (k.back_flo & flo) == flo && (k.back_fix & fix) == fix;
  if (getenv("SX_JIT_KINDS")) /* which parameters the typed version assumes, for debugging */
    fprintf(stderr, "jitc: %u instructions: float parameters %#x, fixnum parameters %#x\n",
            w->sh->ncode, w->typed ? flo : 0, w->typed ? fix : 0);
  if (w->typed) { /* the generic version's loops go back through the check */
    w->spec = k;
    kflow_free(&w->gen);
    entry_state(w, 0, 0, entry);
    flow(w, &w->gen, entry, true);
  } else {
    kflow_free(&k);
  }
  free(entry);
}

/* ---- lowering with kinds ------------------------------------------------------------------ */

/* Captured variable a of this closure. The free slots never change while the closure runs
 * (assigned captured variables are boxes; letrec patches its closures before calling them),
 * so each is loaded once, on entry, into a C local GCC can keep in a register. */
static gcc_jit_rvalue *freev(lw *w, uint32_t a) {
  if (a < w->nfree && w->fr[a]) return rv(w->fr[a]);
  return rv(at(w, w->self, 2 + a));
}

#define SL(k) (w->nl + (k)) /* the variable of stack slot k */

static const uint8_t *kat(lw *w, uint32_t i) {
  return (w->ver ? w->spec.st : w->gen.st) + (size_t)i * (size_t)w->nv;
}

/* The double C local of variable v, made on first use. */
static gcc_jit_lvalue *fvar(lw *w, int v) {
  if (!w->f[v]) {
    char name[16];
    snprintf(name, sizeof name, "f%d", v);
    w->f[v] = gcc_jit_function_new_local(w->fn, NULL, w->dbl, name);
  }
  return w->f[v];
}

static gcc_jit_rvalue *dbits(lw *w, gcc_jit_rvalue *d) { return gcc_jit_context_new_bitcast(CTX, NULL, d, w->u64); }
static gcc_jit_rvalue *unbox(lw *w, gcc_jit_rvalue *v) {
  return gcc_jit_context_new_bitcast(CTX, NULL, rv(word(w, v, 1)), w->dbl);
}

/* An object popped inline from one of the state's free lists of zeroed scanned objects, as
 * vm_alloc_small / vm_alloc_sized do: `bytes` counted against the allocation quota, the header
 * word set. When the list is empty or the quota reached, the runtime call `slow` (which
 * refills the list, or raises) makes it instead. Returns a fresh local holding the object. */
static gcc_jit_lvalue *alloc_inline(lw *w, size_t list, uint64_t bytes, uint64_t header,
                                    int slow, int nargs, gcc_jit_rvalue **args) {
  gcc_jit_lvalue *p = new_tmp(w, w->u64);
  gcc_jit_lvalue *head = sfield(w, list);
  gcc_jit_lvalue *used = sfield(w, offsetof(sx_state, alloc_used));
  gcc_jit_lvalue *quota = sfield(w, offsetof(sx_state, alloc_quota));
  assign(w, p, rv(head));
  gcc_jit_rvalue *more = bin(w, GCC_JIT_BINARY_OP_PLUS, rv(used), k64(w, (int64_t)bytes));
  gcc_jit_rvalue *room[2] = {cmp(w, GCC_JIT_COMPARISON_NE, rv(p), k64(w, 0)),
                             cmp(w, GCC_JIT_COMPARISON_LE, more, rv(quota))};
  split sp = branch_all(w, 2, room);
  w->cur = sp.fast;
  assign(w, used, more);
  assign(w, head, rv(word(w, rv(p), 0)));
  assign(w, word(w, rv(p), 0), k64(w, (int64_t)header));
  goto_join(w, &sp);
  w->cur = sp.slow;
  note_self(w);
  assign_call(w, p, helper(w, slow, nargs, args));
  clear_self(w);
  goto_join(w, &sp);
  w->cur = sp.join;
  return p;
}

static gcc_jit_lvalue *alloc_small(lw *w, int type) {
  gcc_jit_rvalue *args[2] = {w->S, k64(w, type)};
  return alloc_inline(w, offsetof(sx_state, free_small), VM_SMALL_BYTES, (uint64_t)type, RT_ALLOC_SMALL, 2, args);
}

/* A closure of the prototype `proto` with nf captured variables (not yet stored). */
static gcc_jit_lvalue *alloc_closure(lw *w, gcc_jit_rvalue *proto, uint32_t nf) {
  gcc_jit_rvalue *args[2] = {w->S, proto};
  size_t bytes = sizeof(sx_closure) + nf * sizeof(sx_val);
  sx_obj h = {.type = T_CLOSURE, .aux = nf};
  uint64_t header;
  memcpy(&header, &h, sizeof header);
  gcc_jit_lvalue *c;
  if (bytes <= VM_SMALL_BYTES)
    c = alloc_inline(w, offsetof(sx_state, free_small), VM_SMALL_BYTES, header, RT_CLOSURE, 2, args);
  else if (VM_SIZED_CLASS(bytes) < VM_SIZED_CLASSES) {
    int k = VM_SIZED_CLASS(bytes);
    c = alloc_inline(w, offsetof(sx_state, free_sized) + (size_t)k * sizeof(void *), VM_SIZED_BYTES(k),
                     header, RT_CLOSURE, 2, args);
  } else {
    c = new_tmp(w, w->u64);
    assign_call(w, c, helper(w, RT_CLOSURE, 2, args));
    return c;
  }
  assign(w, word(w, rv(c), offsetof(sx_closure, proto) / 8), proto);
  return c;
}

/* A boxed flonum with the value of double d (emitted in the current block). */
static gcc_jit_rvalue *box_expr(lw *w, gcc_jit_rvalue *d) {
  gcc_jit_lvalue *bits = new_tmp(w, w->u64);
  assign(w, bits, dbits(w, d)); /* read before the allocation's blocks */
  gcc_jit_lvalue *p = alloc_small(w, T_FLONUM);
  assign(w, word(w, rv(p), 1), rv(bits));
  return rv(p);
}

/* Variable v as a tagged value: an unboxed float is boxed (once per block). */
static gcc_jit_rvalue *val(lw *w, int v) {
  if (w->kin[v] == KD_FLO && !w->valid[v]) {
    assign(w, w->u[v], box_expr(w, rv(fvar(w, v))));
    w->valid[v] = true;
  }
  return rv(w->u[v]);
}

/* The same on a side path (the box is not remembered for the main path). */
static gcc_jit_rvalue *val_side(lw *w, int v) {
  if (w->kin[v] == KD_FLO && !w->valid[v]) return box_expr(w, rv(fvar(w, v)));
  return rv(w->u[v]);
}

/* Variable v as a double: unboxed floats as they are, tagged numbers converted; anything else
 * jumps to bad, and so do fixnums beyond 2^53 when `exact` (comparisons must not round). */
static gcc_jit_rvalue *dnum(lw *w, int v, gcc_jit_lvalue *tmp, gcc_jit_block *bad, bool exact) {
  if (w->kin[v] == KD_FLO) return rv(fvar(w, v));
  to_double(w, rv(w->u[v]), tmp, bad, exact);
  return rv(tmp);
}

/* The block to jump to for an edge from state src into `to`, whose entry state is dst: the
 * floats that are tagged values there are boxed on the way. */
static gcc_jit_block *edge(lw *w, const uint8_t *src, const uint8_t *dst, gcc_jit_block *to) {
  bool need = false;
  for (int v = 0; v < w->nv; v++) {
    if (src[v] == KD_FLO && dst[v] == KD_ANY && !w->valid[v]) need = true;
    if ((dst[v] == KD_FLO || dst[v] == KD_FIX) && src[v] != dst[v] && src[v] != KD_BOT)
      w->bad = true; /* kinds only widen at joins */
  }
  if (!need) return to;
  gcc_jit_block *b = newblock(w), *save = w->cur;
  w->cur = b;
  for (int v = 0; v < w->nv; v++)
    if (src[v] == KD_FLO && dst[v] == KD_ANY && !w->valid[v]) assign(w, w->u[v], box_expr(w, rv(fvar(w, v))));
  gcc_jit_block_end_with_jump(w->cur, NULL, to); /* boxing made blocks of its own */
  w->cur = save;
  return b;
}

static gcc_jit_block *to_block(lw *w, const uint8_t *src, uint32_t j) {
  return edge(w, src, kat(w, j), w->blocks[j]);
}

/* Where the generic version's loops go back to when there is a typed version: the check that
 * picks the version from the values of the loop variables. */
static gcc_jit_block *dispatch(lw *w, uint32_t t) {
  if (w->disp[t]) return w->disp[t];
  gcc_jit_block *b = newblock(w), *yes = newblock(w);
  w->disp[t] = b;
  const uint8_t *sk = w->spec.st + (size_t)t * (size_t)w->nv;
  const uint8_t *gk = w->gen.seen[t] ? w->gen.st + (size_t)t * (size_t)w->nv : NULL;
  gcc_jit_rvalue *ok = NULL;
  for (int v = 0; v < w->nv; v++) {
    gcc_jit_rvalue *c = NULL;
    if (sk[v] == KD_FLO) c = is_flo(w, rv(w->u[v]));
    else if (sk[v] == KD_FIX && !(gk && gk[v] == KD_FIX)) c = is_fix(w, rv(w->u[v]));
    if (c) ok = ok ? land(w, ok, c) : c;
  }
  if (ok) gcc_jit_block_end_with_conditional(b, NULL, ok, yes, w->vblocks[0][t]);
  else gcc_jit_block_end_with_jump(b, NULL, yes);
  for (int v = 0; v < w->nv; v++)
    if (sk[v] == KD_FLO) gcc_jit_block_add_assignment(yes, NULL, fvar(w, v), unbox(w, rv(w->u[v])));
  gcc_jit_block_end_with_jump(yes, NULL, w->vblocks[1][t]);
  return b;
}

/* A back edge (a loop) to t from state src. */
static gcc_jit_block *to_head(lw *w, const uint8_t *src, uint32_t t) {
  if (w->ver == 0 && w->typed) return edge(w, src, kat(w, t), dispatch(w, t));
  return to_block(w, src, t);
}

/* Float arithmetic into the unboxed dst: a op b, or a op k for ADDK/SUBK (k a fixnum). */
static void lower_farith(lw *w, int op, int dst, int a, int b, int64_t k, bool konst) {
  gcc_jit_block *bad = newblock(w), *join = newblock(w);
  gcc_jit_rvalue *x = dnum(w, a, w->fa, bad, false);
  gcc_jit_rvalue *y = konst ? gcc_jit_context_new_rvalue_from_double(CTX, w->dbl, (double)k) : dnum(w, b, w->fb, bad, false);
  assign(w, fvar(w, dst), gcc_jit_context_new_binary_op(CTX, NULL, fop(op), w->dbl, x, y));
  gcc_jit_block_end_with_jump(w->cur, NULL, join);
  w->cur = bad; /* a non-number: the primitive raises */
  prim_slow(w, op, w->res, val_side(w, a), konst ? k64(w, (int64_t)sx_mkfix(k)) : val_side(w, b), NULL);
  assign(w, fvar(w, dst), unbox(w, rv(w->res)));
  gcc_jit_block_end_with_jump(w->cur, NULL, join);
  w->cur = join;
}

/* A comparison with a float operand: the C condition, computed in the current block; operands
 * that are not numbers (or fixnums too large to compare as doubles) go to *bad, where
 * fcompare_slow leaves the primitive's answer in w->res. */
static gcc_jit_rvalue *fcompare(lw *w, int op, int a, int b, gcc_jit_block **bad) {
  *bad = newblock(w);
  gcc_jit_rvalue *x = dnum(w, a, w->fa, *bad, true);
  gcc_jit_rvalue *y = dnum(w, b, w->fb, *bad, true);
  return cmp(w, cmp_of(op), x, y);
}

static void fcompare_slow(lw *w, int op, int a, int b) {
  prim_slow(w, base_cmp(op), w->res, val_side(w, a), val_side(w, b), NULL);
}

static void lower_body(lw *w) {
  const jit_shape *sh = w->sh;
  kflow *kf = w->ver ? &w->spec : &w->gen;
  size_t nv = (size_t)w->nv;
  uint8_t *out = malloc(nv + 1), *tgt = malloc(nv + 1), *pout = calloc(nv + 1, 1);
  w->cur = NULL;
  for (uint32_t i = 0; i < sh->ncode;) {
    uint32_t ins = sh->code[i];
    int op = INS_OP(ins);
    uint32_t a = INS_A(ins);
    if (w->blocks[i]) {
      if (w->cur) gcc_jit_block_end_with_jump(w->cur, NULL, to_block(w, pout, i));
      w->cur = w->blocks[i];
      memset(w->valid, 0, nv);
      memset(w->gself, 0, nv);
    }
    int d = w->depth[i];
    stepinfo r = step(sh, i, d < 0 ? 0 : d);
    uint32_t width = (uint32_t)r.width;
    if (d < 0 || !w->cur || !kf->seen[i]) { /* unreachable */
      i += width;
      continue;
    }
    const uint8_t *K = w->kin = kat(w, i);
    w->pc = i;
    const uint8_t *KS = K + w->nl;
    xfer(w, i, K, out, tgt);
    int setvalid = -1;
    gcc_jit_lvalue **s = w->s, **l = w->l;
    switch ((vm_opcode)op) {
    case OP_NOP: break;
    case OP_CONST:
      assign(w, s[d], rv(at(w, w->consts, a)));
      if (sh->aux[i] == AUX_FLONUM) {
        assign(w, fvar(w, SL(d)), unbox(w, rv(s[d])));
        setvalid = SL(d);
      }
      break;
    case OP_FIXNUM: assign(w, s[d], k64(w, (int64_t)sx_mkfix((int64_t)a - OPERAND_BIAS))); break;
    case OP_NIL: assign(w, s[d], k64(w, (int64_t)SX_NIL)); break;
    case OP_TRUE: assign(w, s[d], k64(w, (int64_t)SX_TRUE)); break;
    case OP_FALSE: assign(w, s[d], k64(w, (int64_t)SX_FALSE)); break;
    case OP_EMPTY: assign(w, s[d], k64(w, (int64_t)SX_EMPTY)); break;
    case OP_POP: break;
    case OP_LOCAL:
      if (K[a] == KD_FLO) {
        assign(w, fvar(w, SL(d)), rv(fvar(w, (int)a)));
        if (w->valid[a]) {
          assign(w, s[d], rv(l[a]));
          setvalid = SL(d);
        }
      } else assign(w, s[d], rv(l[a]));
      break;
    case OP_SETLOCAL:
      if (KS[d - 1] == KD_FLO) {
        assign(w, fvar(w, (int)a), rv(fvar(w, SL(d - 1))));
        if (w->valid[SL(d - 1)]) assign(w, l[a], rv(s[d - 1]));
        w->valid[a] = w->valid[SL(d - 1)];
      } else {
        assign(w, l[a], rv(s[d - 1]));
        w->valid[a] = false;
      }
      break;
    case OP_BOXLOCAL: {
      gcc_jit_rvalue *args[2] = {w->S, val(w, (int)a)};
      assign_call(w, l[a], helper(w, RT_BOX, 2, args));
      w->valid[a] = false;
      break;
    }
    case OP_LOCALBOX: assign(w, s[d], rv(word(w, rv(l[a]), 1))); break;
    case OP_SETLOCALBOX: assign(w, word(w, rv(l[a]), 1), val(w, SL(d - 1))); break;
    case OP_FREE: assign(w, s[d], freev(w, a)); break;
    case OP_FREEBOX: assign(w, s[d], rv(word(w, freev(w, a), 1))); break;
    case OP_SETFREEBOX: assign(w, word(w, freev(w, a), 1), val(w, SL(d - 1))); break;
    case OP_GLOBAL: {
      gcc_jit_rvalue *cell = rv(at(w, w->consts, a));
      assign(w, s[d], rv(word(w, cell, 1)));
      /* a global that named this lambda when it got hot was defined then, and a defined global
         is never unbound again (nothing stores SX_UNBOUND into a cell): no check */
      if (sh->aux[i] == AUX_GLOBAL_SELF) break;
      split sp = branch(w, cmp(w, GCC_JIT_COMPARISON_EQ, rv(s[d]), k64(w, (int64_t)SX_UNBOUND)), 0);
      w->cur = sp.fast;
      gcc_jit_rvalue *args[2] = {w->S, cell};
      note_self(w);
      helper_stmt(w, RT_UNBOUND, 2, args);
      goto_join(w, &sp);
      w->cur = sp.slow;
      goto_join(w, &sp);
      w->cur = sp.join;
      break;
    }
    case OP_SETGLOBAL: {
      gcc_jit_rvalue *args[3] = {w->S, rv(at(w, w->consts, a)), val(w, SL(d - 1))};
      note_self(w);
      helper_stmt(w, RT_SETGLOBAL, 3, args);
      clear_self(w);
      break;
    }
    case OP_DEFGLOBAL: assign(w, word(w, rv(at(w, w->consts, a)), 1), val(w, SL(d - 1))); break;
    case OP_DEFMACRO: {
      gcc_jit_rvalue *args[3] = {w->S, rv(at(w, w->consts, a)), val(w, SL(d - 1))};
      helper_stmt(w, RT_DEFMACRO, 3, args);
      break;
    }
    case OP_JUMP: gcc_jit_block_end_with_jump(w->cur, NULL, to_block(w, tgt, a)); w->cur = NULL; break;
    case OP_JUMPF:
    case OP_JUMPT:
    case OP_ANDJ:
    case OP_ORJ: {
      gcc_jit_block *next = w->blocks[i + 1] ? to_block(w, out, i + 1) : newblock(w);
      gcc_jit_block *there = to_block(w, tgt, a);
      bool jump_if_true = op == OP_JUMPT || op == OP_ORJ;
      if (KS[d - 1] == KD_FLO || KS[d - 1] == KD_FIX) /* a number is true */
        gcc_jit_block_end_with_jump(w->cur, NULL, jump_if_true ? there : next);
      else {
        gcc_jit_rvalue *t = truthy(w, rv(s[d - 1]));
        gcc_jit_block_end_with_conditional(w->cur, NULL, t, jump_if_true ? there : next, jump_if_true ? next : there);
      }
      w->cur = w->blocks[i + 1] ? NULL : next;
      break;
    }
    case OP_LTJF: case OP_LEJF: case OP_GTJF: case OP_GEJF: case OP_EQJF: {
      gcc_jit_block *next = w->blocks[i + 1] ? to_block(w, out, i + 1) : newblock(w);
      gcc_jit_block *there = to_block(w, out, a);
      if (KS[d - 2] == KD_FLO || KS[d - 1] == KD_FLO) {
        gcc_jit_block *bad;
        gcc_jit_rvalue *c = fcompare(w, op, SL(d - 2), SL(d - 1), &bad);
        gcc_jit_block_end_with_conditional(w->cur, NULL, c, next, there);
        w->cur = bad;
        fcompare_slow(w, op, SL(d - 2), SL(d - 1));
        gcc_jit_block_end_with_conditional(w->cur, NULL, truthy(w, rv(w->res)), next, there);
      } else {
        gcc_jit_rvalue *x = rv(s[d - 2]), *y = rv(s[d - 1]);
        gcc_jit_rvalue *chk = fix_check(w, x, KS[d - 2] == KD_FIX, y, KS[d - 1] == KD_FIX);
        if (!chk) {
          gcc_jit_block_end_with_conditional(w->cur, NULL, cmp(w, cmp_of(op), as_i64(w, x), as_i64(w, y)), next, there);
          w->cur = w->blocks[i + 1] ? NULL : next;
          break;
        }
        gcc_jit_block *fast = newblock(w), *slow = newblock(w);
        gcc_jit_block_end_with_conditional(w->cur, NULL, expect(w, chk, 1), fast, slow);
        gcc_jit_block_end_with_conditional(fast, NULL, cmp(w, cmp_of(op), as_i64(w, x), as_i64(w, y)), next, there);
        w->cur = slow;
        prim_slow(w, base_cmp(op), s[d - 2], x, y, NULL);
        gcc_jit_block_end_with_conditional(w->cur, NULL, truthy(w, rv(s[d - 2])), next, there);
      }
      w->cur = w->blocks[i + 1] ? NULL : next;
      break;
    }
    case OP_CLOSURE: {
      uint32_t nf = sh->aux[i];
      gcc_jit_rvalue *vals[256];
      if (nf > 256) { w->bad = true; break; }
      for (uint32_t k = 0; k < nf; k++) {
        uint32_t desc = sh->code[i + 1 + k];
        vals[k] = (desc & 0x80000000u) ? freev(w, desc & 0x7fffffffu) : val(w, (int)desc);
      }
      gcc_jit_lvalue *c = alloc_closure(w, rv(at(w, w->consts, a)), nf);
      for (uint32_t k = 0; k < nf; k++) assign(w, word(w, rv(c), 2 + k), vals[k]);
      assign(w, s[d], rv(c));
      break;
    }
    case OP_PATCH: {
      uint32_t desc = sh->code[i + 1];
      assign(w, word(w, rv(l[a]), 2 + (desc & 0xffff)), val(w, (int)(desc >> 16)));
      break;
    }
    case OP_CALL: lower_call(w, i, d, (int)a, false); break;
    case OP_TAILCALL: lower_call(w, i, d, (int)a, true); w->cur = NULL; break;
    case OP_LOOP:
      poll_point(w);
      gcc_jit_block_end_with_jump(w->cur, NULL, to_head(w, out, a));
      w->cur = NULL;
      break;
    case OP_RETURN: {
      gcc_jit_rvalue *v = val(w, SL(d - 1));
      flush_fuel(w);
      gcc_jit_block_end_with_return(w->cur, NULL, v);
      w->cur = NULL;
      break;
    }
    case OP_TRY:
    case OP_TRYF: {
      /* A protected point in this frame (rt.c: rt_try_enter): an error anywhere in the body
         comes back here through __builtin_longjmp, to the handler at a with the raised value.
         GCC keeps what lives across the setjmp in memory, so the locals hold their current
         values; the kinds make no other assumption about them (xfer). */
      /* its record, in this frame (a lambda with try has one version: lowered once) */
      gcc_jit_lvalue *trec = new_tmp(w, gcc_jit_context_new_array_type(CTX, NULL, w->u64, (int)(sizeof(vm_native_try) / 8)));
      gcc_jit_rvalue *rec = gcc_jit_context_new_bitcast(CTX, NULL, arr_base(w, trec), w->u64);
      gcc_jit_rvalue *args[3] = {w->S, rec, k64(w, op == OP_TRYF)};
      helper_stmt(w, RT_TRY_ENTER, 2, args);
      gcc_jit_rvalue *buf = gcc_jit_context_new_bitcast(
          CTX, NULL, bin(w, GCC_JIT_BINARY_OP_PLUS, rec, k64(w, offsetof(vm_native_try, buf))), w->vptr);
      gcc_jit_rvalue *caught = gcc_jit_context_new_call(CTX, NULL, w->b_setjmp, 1, &buf);
      gcc_jit_block *handler = newblock(w);
      gcc_jit_block *next = w->blocks[i + 1] ? to_block(w, out, i + 1) : newblock(w);
      gcc_jit_block_end_with_conditional(
          w->cur, NULL, expect(w, cmp(w, GCC_JIT_COMPARISON_NE, caught, gcc_jit_context_zero(CTX, w->intt)), 0),
          handler, next);
      w->cur = handler;
      assign_call(w, s[d], helper(w, RT_TRY_CATCH, 3, args));
      gcc_jit_block_end_with_jump(w->cur, NULL, to_block(w, tgt, a));
      w->cur = w->blocks[i + 1] ? NULL : next;
      break;
    }
    case OP_ENDTRY: { /* S->jmp = S->jmp->prev */
      gcc_jit_lvalue *jmp = sfield(w, offsetof(sx_state, jmp));
      assign(w, jmp, rv(word(w, rv(jmp), offsetof(vm_jmp_head, prev) / 8)));
      break;
    }
    case OP_RERAISE: {
      gcc_jit_rvalue *args[2] = {w->S, val(w, SL(d - 1))};
      helper_stmt(w, RT_RERAISE, 2, args);
      gcc_jit_block_end_with_return(w->cur, NULL, k64(w, (int64_t)SX_NIL)); /* not reached */
      w->cur = NULL;
      break;
    }
    case OP_VECLIT:
    case OP_DICTLIT: {
      int cnt = op == OP_VECLIT ? (int)a : 2 * (int)a;
      gcc_jit_lvalue *buf = new_tmp(w, gcc_jit_context_new_array_type(CTX, NULL, w->u64, cnt ? cnt : 1));
      gcc_jit_rvalue *base = arr_base(w, buf);
      for (int k = 0; k < cnt; k++) assign(w, at(w, base, k), val(w, SL(d - cnt + k)));
      gcc_jit_rvalue *args[3] = {w->S, k64(w, a), base};
      assign_call(w, s[d - cnt], helper(w, op == OP_VECLIT ? RT_VECLIT : RT_DICTLIT, 3, args));
      break;
    }
    case OP_ADD: case OP_SUB: case OP_MUL:
      if (KS[d - 2] == KD_FLO || KS[d - 1] == KD_FLO) lower_farith(w, op, SL(d - 2), SL(d - 2), SL(d - 1), 0, false);
      else lower_arith(w, op, s[d - 2], rv(s[d - 2]), rv(s[d - 1]), KS[d - 2] == KD_FIX, KS[d - 1] == KD_FIX);
      break;
    case OP_DIV:
      if (KS[d - 2] == KD_FLO || KS[d - 1] == KD_FLO) lower_farith(w, op, SL(d - 2), SL(d - 2), SL(d - 1), 0, false);
      else prim_slow(w, OP_DIV, s[d - 2], rv(s[d - 2]), rv(s[d - 1]), NULL);
      break;
    case OP_ADDK: case OP_SUBK: {
      int o = op == OP_ADDK ? OP_ADD : OP_SUB;
      int64_t k = (int64_t)a - OPERAND_BIAS;
      if (KS[d - 1] == KD_FLO) lower_farith(w, o, SL(d - 1), SL(d - 1), -1, k, true);
      else lower_arith(w, o, s[d - 1], rv(s[d - 1]), k64(w, (int64_t)sx_mkfix(k)), KS[d - 1] == KD_FIX, true);
      break;
    }
    case OP_LT: case OP_LE: case OP_GT: case OP_GE: case OP_NUMEQ:
      if (KS[d - 2] == KD_FLO || KS[d - 1] == KD_FLO) {
        gcc_jit_block *bad, *join = newblock(w);
        gcc_jit_rvalue *c = fcompare(w, op, SL(d - 2), SL(d - 1), &bad);
        assign(w, s[d - 2], boolval(w, c));
        gcc_jit_block_end_with_jump(w->cur, NULL, join);
        w->cur = bad;
        fcompare_slow(w, op, SL(d - 2), SL(d - 1));
        assign(w, s[d - 2], rv(w->res));
        gcc_jit_block_end_with_jump(w->cur, NULL, join);
        w->cur = join;
      } else lower_compare(w, op, s[d - 2], rv(s[d - 2]), rv(s[d - 1]), KS[d - 2] == KD_FIX, KS[d - 1] == KD_FIX);
      break;
    case OP_CAR:
    case OP_CDR:
    case OP_SETCAR:
    case OP_SETCDR: { /* a pair's field read or written; anything else: the primitive */
      bool set = op == OP_SETCAR || op == OP_SETCDR;
      int pd = set ? d - 2 : d - 1, field = op == OP_CAR || op == OP_SETCAR ? 1 : 2;
      gcc_jit_rvalue *p = val(w, SL(pd)), *x = set ? val(w, SL(d - 1)) : NULL;
      split sp = branch_type(w, p, T_PAIR);
      w->cur = sp.fast;
      if (set) assign(w, word(w, p, field), x);
      assign(w, s[pd], set ? k64(w, (int64_t)SX_NIL) : rv(word(w, p, field)));
      goto_join(w, &sp);
      w->cur = sp.slow;
      prim_slow(w, op, s[pd], p, x, NULL);
      goto_join(w, &sp);
      w->cur = sp.join;
      break;
    }
    case OP_CONS: {
      gcc_jit_rvalue *car = val(w, SL(d - 2)), *cdr = val(w, SL(d - 1));
      gcc_jit_lvalue *p = alloc_small(w, T_PAIR);
      assign(w, word(w, rv(p), 1), car);
      assign(w, word(w, rv(p), 2), cdr);
      assign(w, s[d - 2], rv(p));
      break;
    }
    case OP_NULLP:
    case OP_PAIRP:
    case OP_PROCP:
    case OP_NOT:
      if (KS[d - 1] == KD_FLO || KS[d - 1] == KD_FIX) { /* a number is none of these */
        assign(w, s[d - 1], k64(w, (int64_t)SX_FALSE));
        break;
      }
      if (op == OP_NULLP) {
        gcc_jit_rvalue *v = rv(s[d - 1]);
        gcc_jit_rvalue *c = gcc_jit_context_new_binary_op(
            CTX, NULL, GCC_JIT_BINARY_OP_LOGICAL_OR, w->boolt,
            cmp(w, GCC_JIT_COMPARISON_EQ, v, k64(w, (int64_t)SX_EMPTY)),
            cmp(w, GCC_JIT_COMPARISON_EQ, v, k64(w, (int64_t)SX_NIL)));
        assign(w, s[d - 1], boolval(w, c));
      } else if (op == OP_NOT) {
        assign(w, s[d - 1], boolval(w, cmp(w, GCC_JIT_COMPARISON_EQ,
                                           bin(w, GCC_JIT_BINARY_OP_BITWISE_OR, rv(s[d - 1]), k64(w, 8)),
                                           k64(w, (int64_t)SX_FALSE))));
      } else {
        gcc_jit_rvalue *v = rv(s[d - 1]);
        split sp = branch(w, land(w, is_ptr(w, v), cmp(w, GCC_JIT_COMPARISON_NE, v, k64(w, 0))), -1);
        w->cur = sp.fast;
        if (op == OP_PAIRP) assign(w, s[d - 1], boolval(w, type_is(w, v, T_PAIR)));
        else
          assign(w, s[d - 1], boolval(w, gcc_jit_context_new_binary_op(CTX, NULL, GCC_JIT_BINARY_OP_LOGICAL_OR, w->boolt,
                                                                        type_is(w, v, T_CLOSURE), type_is(w, v, T_PRIM))));
        goto_join(w, &sp);
        w->cur = sp.slow;
        assign(w, s[d - 1], k64(w, (int64_t)SX_FALSE));
        goto_join(w, &sp);
        w->cur = sp.join;
      }
      break;
    case OP_TYPEP: {
      if (KS[d - 1] == KD_FLO) {
        assign(w, s[d - 1], k64(w, (int64_t)(a == T_FLONUM ? SX_TRUE : SX_FALSE)));
        break;
      }
      gcc_jit_rvalue *v = rv(s[d - 1]);
      split sp = branch(w, land(w, is_ptr(w, v), cmp(w, GCC_JIT_COMPARISON_NE, v, k64(w, 0))), -1);
      w->cur = sp.fast;
      assign(w, s[d - 1], boolval(w, type_is(w, v, (int)a)));
      goto_join(w, &sp);
      w->cur = sp.slow;
      assign(w, s[d - 1], k64(w, (int64_t)SX_FALSE));
      goto_join(w, &sp);
      w->cur = sp.join;
      break;
    }
    case OP_EQ: {
      /* a float is eq? to a float with the same bits (the boxes themselves are not kept) */
      bool fx = KS[d - 2] == KD_FLO, fy = KS[d - 1] == KD_FLO;
      if (fx && fy)
        assign(w, s[d - 2], boolval(w, cmp(w, GCC_JIT_COMPARISON_EQ, dbits(w, rv(fvar(w, SL(d - 2)))),
                                           dbits(w, rv(fvar(w, SL(d - 1)))))));
      else if (fx || fy) {
        int fv = fx ? SL(d - 2) : SL(d - 1);
        gcc_jit_rvalue *o = rv(w->u[fx ? SL(d - 1) : SL(d - 2)]);
        split sp = branch(w, is_flo(w, o), -1);
        w->cur = sp.fast;
        assign(w, s[d - 2], boolval(w, cmp(w, GCC_JIT_COMPARISON_EQ, rv(word(w, o, 1)), dbits(w, rv(fvar(w, fv))))));
        goto_join(w, &sp);
        w->cur = sp.slow;
        assign(w, s[d - 2], k64(w, (int64_t)SX_FALSE));
        goto_join(w, &sp);
        w->cur = sp.join;
      } else assign(w, s[d - 2], boolval(w, cmp(w, GCC_JIT_COMPARISON_EQ, rv(s[d - 2]), rv(s[d - 1]))));
      break;
    }
    case OP_ZEROP: {
      if (KS[d - 1] == KD_FLO) {
        assign(w, s[d - 1], boolval(w, cmp(w, GCC_JIT_COMPARISON_EQ, rv(fvar(w, SL(d - 1))),
                                           gcc_jit_context_new_rvalue_from_double(CTX, w->dbl, 0.0))));
        break;
      }
      gcc_jit_rvalue *v = rv(s[d - 1]);
      if (KS[d - 1] == KD_FIX) {
        assign(w, s[d - 1], boolval(w, cmp(w, GCC_JIT_COMPARISON_EQ, v, k64(w, (int64_t)sx_mkfix(0)))));
        break;
      }
      split sp = branch(w, cmp(w, GCC_JIT_COMPARISON_EQ, bin(w, GCC_JIT_BINARY_OP_BITWISE_AND, v, k64(w, 3)), k64(w, 1)), 1);
      w->cur = sp.fast;
      assign(w, s[d - 1], boolval(w, cmp(w, GCC_JIT_COMPARISON_EQ, v, k64(w, (int64_t)sx_mkfix(0)))));
      goto_join(w, &sp);
      w->cur = sp.slow;
      prim_slow(w, op, s[d - 1], v, NULL, NULL);
      goto_join(w, &sp);
      w->cur = sp.join;
      break;
    }
    case OP_VREF:
    case OP_VSET: {
      int base = op == OP_VREF ? d - 2 : d - 3;
      gcc_jit_rvalue *v = val(w, SL(base)), *ix = val(w, SL(base + 1));
      gcc_jit_rvalue *x = op == OP_VSET ? val(w, SL(base + 2)) : NULL;
      gcc_jit_rvalue *c[5];
      int n = obj_tests(w, v, c);
      if (KS[base + 1] != KD_FIX) /* an index not known to be a fixnum */
        c[n++] = cmp(w, GCC_JIT_COMPARISON_EQ, bin(w, GCC_JIT_BINARY_OP_BITWISE_AND, ix, k64(w, 3)), k64(w, 1));
      gcc_jit_rvalue *idx = bin(w, GCC_JIT_BINARY_OP_RSHIFT, ix, k64(w, 2)); /* negative -> huge */
      c[n++] = type_is(w, v, T_VECTOR);
      c[n++] = cmp(w, GCC_JIT_COMPARISON_LT, idx, rv(word(w, v, 1)));
      split sp = branch_all(w, n, c);
      w->cur = sp.fast;
      gcc_jit_lvalue *slot = gcc_jit_context_new_array_access(
          CTX, NULL, gcc_jit_lvalue_get_address(word(w, v, 2), NULL), idx);
      if (op == OP_VREF) assign(w, s[base], rv(slot));
      else {
        assign(w, slot, x);
        assign(w, s[base], k64(w, (int64_t)SX_NIL));
      }
      goto_join(w, &sp);
      w->cur = sp.slow;
      prim_slow(w, op, s[base], v, ix, x);
      goto_join(w, &sp);
      w->cur = sp.join;
      break;
    }
    case OP__COUNT: break;
    }
    /* the slot written (the new top) no longer holds the box it may have held */
    for (int k = r.nd > 0 ? r.nd - 1 : 0; k < w->sh->maxstack + 3; k++) w->valid[SL(k)] = w->gself[k] = false;
    if (op == OP_GLOBAL && sh->aux[i] == AUX_GLOBAL_SELF) w->gself[d] = true;
    if (setvalid >= 0) w->valid[setvalid] = true;
    memcpy(pout, out, nv);
    i += width;
  }
  if (w->cur) {
    flush_fuel(w);
    gcc_jit_block_end_with_return(w->cur, NULL, k64(w, (int64_t)SX_NIL));
  }
  free(out);
  free(tgt);
  free(pout);
}

SX_INTERNAL bool jit_lower(gcc_jit_context *ctx, const jit_shape *sh, const char *name);
SX_INTERNAL void jit_context_options(gcc_jit_context *ctx, bool big);

bool jit_lower(gcc_jit_context *ctx, const jit_shape *sh, const char *name) {
  lw W = {0}, *w = &W;
  w->ctx = ctx;
  w->sh = sh;
  w->u64 = gcc_jit_context_get_type(ctx, GCC_JIT_TYPE_UNSIGNED_LONG_LONG);
  w->i64 = gcc_jit_context_get_type(ctx, GCC_JIT_TYPE_LONG_LONG);
  w->longt = gcc_jit_context_get_type(ctx, GCC_JIT_TYPE_LONG);
  w->boolt = gcc_jit_context_get_type(ctx, GCC_JIT_TYPE_BOOL);
  w->intt = gcc_jit_context_get_type(ctx, GCC_JIT_TYPE_INT);
  w->vptr = gcc_jit_context_get_type(ctx, GCC_JIT_TYPE_VOID_PTR);
  w->dbl = gcc_jit_context_get_type(ctx, GCC_JIT_TYPE_DOUBLE);
  w->u64p = gcc_jit_type_get_pointer(w->u64);
  if (sh->nparams > JIT_MAX_ARGS) return false;

  int n = sh->nparams;
  bool rest = (sh->flags & PROTO_REST) != 0;
  gcc_jit_param *params[2 + JIT_REG_ARGS];
  params[0] = gcc_jit_context_new_param(ctx, NULL, w->u64p, "S");
  params[1] = gcc_jit_context_new_param(ctx, NULL, w->u64p, "self");
  int np = 2;
  if (rest) { /* f(S, self, args, argc): the rest list is built here */
    params[np++] = gcc_jit_context_new_param(ctx, NULL, w->u64p, "args");
    params[np++] = gcc_jit_context_new_param(ctx, NULL, w->u64, "argc");
  } else if (n <= JIT_REG_ARGS) {
    for (int i = 0; i < n; i++) {
      char pn[8];
      snprintf(pn, sizeof pn, "a%d", i);
      params[np++] = gcc_jit_context_new_param(ctx, NULL, w->u64, pn);
    }
  } else {
    params[np++] = gcc_jit_context_new_param(ctx, NULL, w->u64p, "args");
  }
  w->fn = gcc_jit_context_new_function(ctx, NULL, GCC_JIT_FUNCTION_EXPORTED, w->u64, name, np, params, 0);
  w->S = gcc_jit_param_as_rvalue(params[0]);
  w->self = gcc_jit_param_as_rvalue(params[1]);
  w->b_add = gcc_jit_context_get_builtin_function(ctx, "__builtin_saddl_overflow");
  w->b_sub = gcc_jit_context_get_builtin_function(ctx, "__builtin_ssubl_overflow");
  w->b_mul = gcc_jit_context_get_builtin_function(ctx, "__builtin_smull_overflow");
  w->b_expect = gcc_jit_context_get_builtin_function(ctx, "__builtin_expect");
  w->b_setjmp = gcc_jit_context_get_builtin_function(ctx, "__builtin_setjmp");
  w->b_frame = gcc_jit_context_get_builtin_function(ctx, "__builtin_frame_address");

  int nl = sh->nlocals > n ? sh->nlocals : n;
  int ns = sh->maxstack + 3;
  w->nl = nl;
  w->nv = nl + ns;
  w->u = calloc((size_t)w->nv + 1, sizeof(gcc_jit_lvalue *));
  w->f = calloc((size_t)w->nv + 1, sizeof(gcc_jit_lvalue *));
  w->valid = calloc((size_t)w->nv + 1, sizeof(bool));
  w->gself = calloc((size_t)w->nv + 1, sizeof(bool));
  w->l = w->u;
  w->s = w->u + nl;
  w->vblocks[0] = w->blocks = calloc(sh->ncode + 1, sizeof(gcc_jit_block *));
  w->vblocks[1] = calloc(sh->ncode + 1, sizeof(gcc_jit_block *));
  w->disp = calloc(sh->ncode + 1, sizeof(gcc_jit_block *));
  w->depth = calloc(sh->ncode + 1, sizeof(int));
  for (int i = 0; i < nl; i++) {
    char ln[16];
    snprintf(ln, sizeof ln, "l%d", i);
    w->l[i] = gcc_jit_function_new_local(w->fn, NULL, w->u64, ln);
  }
  for (int i = 0; i < ns; i++) {
    char sn[16];
    snprintf(sn, sizeof sn, "s%d", i);
    w->s[i] = gcc_jit_function_new_local(w->fn, NULL, w->u64, sn);
  }
  w->res = gcc_jit_function_new_local(w->fn, NULL, w->u64, "res");
  w->ovf = gcc_jit_function_new_local(w->fn, NULL, w->longt, "ovf");
  w->fa = gcc_jit_function_new_local(w->fn, NULL, w->dbl, "fa");
  w->tick = gcc_jit_function_new_local(w->fn, NULL, w->u64, "tick");
  for (uint32_t i = 0; i < sh->ncode; i += (uint32_t)step(sh, i, 0).width) {
    int op = INS_OP(sh->code[i]);
    if (op == OP_LOOP || (op == OP_TAILCALL && self_loops(sh, i))) w->has_loops = true;
    if (op == OP_TAILCALL) w->has_tail = true;
    if (op == OP_TRY || op == OP_TRYF) w->has_try = true;
    if (op == OP_CALL && (int)INS_A(sh->code[i]) > w->maxargs) w->maxargs = (int)INS_A(sh->code[i]);
    if ((op == OP_FREE || op == OP_FREEBOX || op == OP_SETFREEBOX) && INS_A(sh->code[i]) + 1 > w->nfree)
      w->nfree = INS_A(sh->code[i]) + 1;
    if (op == OP_CLOSURE)
      for (uint32_t k = 0; k < sh->aux[i]; k++)
        if ((sh->code[i + 1 + k] & 0x80000000u) && (sh->code[i + 1 + k] & 0x7fffffffu) + 1 > w->nfree)
          w->nfree = (sh->code[i + 1 + k] & 0x7fffffffu) + 1;
  }
  w->fb = gcc_jit_function_new_local(w->fn, NULL, w->dbl, "fb");
  /* only as long as the longest call needs: it is in every frame, and deep recursion (ack: 4,000
     frames) runs out of cache with 128 bytes more per frame */
  w->argbuf = gcc_jit_function_new_local(
      w->fn, NULL, gcc_jit_context_new_array_type(ctx, NULL, w->u64, w->maxargs > 0 ? w->maxargs : 1), "argbuf");

  gcc_jit_block *entry = newblock(w);
  bool ok = analyse(w);
  if (ok) {
    w->cur = entry;
    /* entry check: C stack nearly used up, or a safe point requested through the limit */
#if defined(__x86_64__)
    /* the stack pointer, read by asm: __builtin_frame_address would force a frame pointer */
    gcc_jit_lvalue *sp = gcc_jit_function_new_local(w->fn, NULL, w->u64, "sp");
    gcc_jit_extended_asm *rd = gcc_jit_block_add_extended_asm(w->cur, NULL, "movq %%rsp, %0");
    gcc_jit_extended_asm_set_volatile_flag(rd, 1);
    gcc_jit_extended_asm_add_output_operand(rd, NULL, "=r", sp);
    gcc_jit_rvalue *frame = rv(sp);
#else
    gcc_jit_rvalue *fa_args[1] = {gcc_jit_context_new_rvalue_from_int(ctx, gcc_jit_context_get_type(ctx, GCC_JIT_TYPE_UNSIGNED_INT), 0)};
    gcc_jit_rvalue *frame = gcc_jit_context_new_bitcast(ctx, NULL, gcc_jit_context_new_call(ctx, NULL, w->b_frame, 1, fa_args), w->u64);
#endif
    gcc_jit_rvalue *limit = rv(sfield(w, offsetof(sx_state, native_limit)));
    rare_call(w, cmp(w, GCC_JIT_COMPARISON_LT, frame, limit), RT_ENTER);
    /* consts = self->proto->consts */
    gcc_jit_lvalue *consts = gcc_jit_function_new_local(w->fn, NULL, w->u64p, "consts");
    gcc_jit_rvalue *proto = rv(at(w, w->self, offsetof(sx_closure, proto) / 8));
    assign(w, consts, ptr(w, rv(word(w, proto, offsetof(sx_proto, consts) / 8))));
    w->consts = rv(consts);
    if (rest) {
      gcc_jit_rvalue *args = gcc_jit_param_as_rvalue(params[2]);
      for (int i = 0; i < n - 1; i++) assign(w, w->l[i], rv(at(w, args, i)));
      gcc_jit_rvalue *tail = gcc_jit_lvalue_get_address(at(w, args, n - 1), NULL);
      gcc_jit_rvalue *ra[3] = {w->S, tail, bin(w, GCC_JIT_BINARY_OP_MINUS, gcc_jit_param_as_rvalue(params[3]), k64(w, n - 1))};
      assign_call(w, w->l[n - 1], helper(w, RT_RESTLIST, 3, ra));
    } else {
      for (int i = 0; i < n; i++) {
        if (n <= JIT_REG_ARGS) assign(w, w->l[i], gcc_jit_param_as_rvalue(params[2 + i]));
        else assign(w, w->l[i], rv(at(w, gcc_jit_param_as_rvalue(params[2]), i)));
      }
    }
    for (int i = n; i < nl; i++) assign(w, w->l[i], k64(w, (int64_t)SX_NIL));
    assign(w, w->tick, k64(w, JIT_TICK));
    if (w->nfree <= 64) {
      w->fr = calloc(w->nfree + 1, sizeof(gcc_jit_lvalue *));
      for (uint32_t k = 0; k < w->nfree; k++) {
        char fn[16];
        snprintf(fn, sizeof fn, "free%u", k);
        w->fr[k] = gcc_jit_function_new_local(w->fn, NULL, w->u64, fn);
        assign(w, w->fr[k], rv(at(w, w->self, 2 + k)));
      }
    }
    liveness(w);
    plan_kinds(w);
    if (w->typed)
      for (uint32_t i = 0; i < sh->ncode; i++)
        if (w->start[i]) w->vblocks[1][i] = newblock(w);
    gcc_jit_block_end_with_jump(w->cur, NULL, w->typed ? dispatch(w, 0) : w->vblocks[0][0]);
    w->cur = NULL;
    w->ver = 0;
    w->blocks = w->vblocks[0];
    lower_body(w);
    if (w->typed) {
      w->ver = 1;
      w->blocks = w->vblocks[1];
      lower_body(w);
    }
    if (w->bad) {
      ok = false;
      snprintf(w->why, sizeof w->why, "inconsistent kinds");
    }
  } else {
    gcc_jit_block_end_with_return(entry, NULL, k64(w, 0));
  }
  free(w->u);
  free(w->f);
  free(w->valid);
  free(w->gself);
  free(w->vblocks[0]);
  free(w->vblocks[1]);
  free(w->disp);
  free(w->depth);
  free(w->start);
  free(w->live);
  free(w->fr);
  kflow_free(&w->gen);
  kflow_free(&w->spec);
  return ok;
}

void jit_context_options(gcc_jit_context *ctx, bool big) {
  /* -O2, but -O1 for a big lambda compiled alone (JIT_BIG_LAMBDA): measured, -O2 makes small
     hot lambdas ~20% faster than -O1 (fib, tak), while a big one compiles ~35% faster at -O1
     (deriv's 112 instructions: 93 -> 62 ms) and ran no slower: such code is call- and
     allocation-bound. SX_JIT_OPT=0..3 overrides both, for experiments. */
  const char *opt = getenv("SX_JIT_OPT");
  int level = opt && *opt >= '0' && *opt <= '3' ? *opt - '0' : big ? 1 : 2;
  gcc_jit_context_set_int_option(ctx, GCC_JIT_INT_OPTION_OPTIMIZATION_LEVEL, level);
  gcc_jit_context_set_bool_option(ctx, GCC_JIT_BOOL_OPTION_DEBUGINFO, 0);
  gcc_jit_context_set_bool_allow_unreachable_blocks(ctx, 1);
  gcc_jit_context_set_bool_print_errors_to_stderr(ctx, 0);
  const char *dump = getenv("SX_JIT_DUMP"); /* assembly of every compile, for debugging */
  if (SX_DEBUG_JIT_DUMP || (dump && *dump == '1'))
    gcc_jit_context_set_bool_option(ctx, GCC_JIT_BOOL_OPTION_DUMP_GENERATED_CODE, 1);
  if (dump && dump[0] == '1' && dump[1] == 'g')
    gcc_jit_context_set_bool_option(ctx, GCC_JIT_BOOL_OPTION_DUMP_INITIAL_GIMPLE, 1);
  /* keep libgccjit's own garbage collector from growing the process by ~0.5 MB per compile */
  gcc_jit_context_add_command_line_option(ctx, "--param=ggc-min-heapsize=4096");
  gcc_jit_context_add_command_line_option(ctx, "--param=ggc-min-expand=10");
  /* no tail recursion elimination: a call that is not an SX tail call must stay a call (a
     runaway recursion is a stack overflow, not a loop without a poll point); the proper tail
     calls are must-tail calls, which this does not touch */
  gcc_jit_context_add_command_line_option(ctx, "-fno-optimize-sibling-calls");
  /* SX_JIT_FLAGS="-fno-... ...": more GCC options, for experiments */
  const char *more = getenv("SX_JIT_FLAGS");
  if (more) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", more);
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
      gcc_jit_context_add_command_line_option(ctx, t);
  }
}
