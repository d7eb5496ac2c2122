/* vm.c — the bytecode interpreter: one dispatch loop over an explicit frame stack.
 *
 * Frames and operand values live on VM stacks (mmapped once per state), not the C stack, so
 * deep SX recursion is bounded by a configurable limit and ends in a catchable error. An
 * ordinary call allocates nothing: the callee and its arguments are already on the operand
 * stack, and they become the new frame's first locals. */
#define _GNU_SOURCE 1
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "state.h"

#define DEFAULT_MAX_FRAMES 200000
#define DEFAULT_STACK_VALUES (16u << 20)
#define MAX_HANDLERS 100000

bool vm_stacks_init(sx_state *S) {
  size_t nvals = S->cfg.stack_values ? S->cfg.stack_values : DEFAULT_STACK_VALUES;
  size_t nframes = S->cfg.max_frames ? S->cfg.max_frames : DEFAULT_MAX_FRAMES;
  S->stack = mmap(NULL, nvals * sizeof(sx_val), PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  S->frames = mmap(NULL, (nframes + 1) * sizeof(vm_frame), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  S->handlers = malloc(MAX_HANDLERS * sizeof(vm_handler));
  if (S->stack == MAP_FAILED || S->frames == MAP_FAILED || !S->handlers) {
    if (S->stack != MAP_FAILED) munmap(S->stack, nvals * sizeof(sx_val));
    if (S->frames != MAP_FAILED) munmap(S->frames, (nframes + 1) * sizeof(vm_frame));
    free(S->handlers);
    S->stack = NULL;
    S->frames = NULL;
    S->handlers = NULL;
    return false;
  }
  S->stack_end = S->stack + nvals;
  S->stack_hw = S->stack;
  S->sp = S->stack;
  S->maxframes = (uint32_t)nframes;
  S->maxhandlers = MAX_HANDLERS;
  return true;
}

/* Between evaluations: forget what is above the stack tops, so stale values there cannot keep
 * garbage alive (the collector scans up to the high-water marks), and give the pages of a deep
 * recursion back to the system. */
void vm_stacks_trim(sx_state *S) {
  if (S->level) return;
  char *lo = (char *)S->sp, *hi = (char *)S->stack_hw;
  if (hi > lo) {
    char *plo = (char *)(((uintptr_t)lo + 4095) & ~(uintptr_t)4095);
    char *phi = (char *)((uintptr_t)hi & ~(uintptr_t)4095);
    if (phi > plo + (1 << 20)) {
      memset(lo, 0, (size_t)(plo - lo));
      madvise(plo, (size_t)(phi - plo), MADV_DONTNEED); /* reads back as zeros */
      memset(phi, 0, (size_t)(hi - phi));
    } else {
      memset(lo, 0, (size_t)(hi - lo));
    }
    S->stack_hw = S->sp;
  }
  if (S->frames_hw > S->nframes) {
    memset(S->frames + S->nframes, 0, (S->frames_hw - S->nframes) * sizeof(vm_frame));
    S->frames_hw = S->nframes;
  }
}

void vm_stacks_free(sx_state *S) {
  if (S->stack) munmap(S->stack, (size_t)(S->stack_end - S->stack) * sizeof(sx_val));
  if (S->frames) munmap(S->frames, (S->maxframes + 1) * sizeof(vm_frame));
  free(S->handlers);
  S->stack = NULL;
  S->frames = NULL;
  S->handlers = NULL;
}

/* ---- calling primitives ---------------------------------------------------------------- */

static SX_NORETURN void arity_error(sx_state *S, sx_val fn, int argc) {
  vm_buf b = {0};
  vm_print(S, &b, fn, true);
  if (sx_is_prim(fn)) {
    const sx_prim_spec *sp = PRIM(fn)->spec;
    if (sp->max < 0) vm_buf_printf(&b, " takes at least %d", sp->min);
    else if (sp->min == sp->max) vm_buf_printf(&b, " takes %d", sp->min);
    else vm_buf_printf(&b, " takes %d to %d", sp->min, sp->max);
  } else {
    sx_proto *p = CLOSURE(fn)->proto;
    int fixed = (p->h.flags & PROTO_REST) ? p->nparams - 1 : p->nparams;
    vm_buf_printf(&b, " takes %s%d", (p->h.flags & PROTO_REST) ? "at least " : "", fixed);
  }
  sx_val s = vm_string(S, b.buf, b.len);
  vm_buf_free(&b);
  vm_error(S, "wrong number of arguments: %s, got %d", STR(s)->data, argc);
}

sx_val vm_call_prim(sx_state *S, sx_val fn, int argc, sx_val *argv) {
  sx_prim *p = PRIM(fn);
  const sx_prim_spec *spec = p->spec;
  if (SX_UNLIKELY(argc < spec->min || (spec->max >= 0 && argc > spec->max)))
    arity_error(S, fn, argc);
  if (spec->nkinds) {
    for (int i = 0; i < argc; i++) {
      uint8_t k = spec->kinds[i < spec->nkinds ? i : spec->nkinds - 1];
      if (k != K_ANY && SX_UNLIKELY(!sx_kind_ok(k, argv[i])))
        vm_type_error(S, spec->name, prim_kind_name(k), argv[i], i + 1);
    }
  }
  return p->fn(S, argc, argv);
}

/* ---- the thread's C stack bound -------------------------------------------------------- */

static _Thread_local char *thread_stack_low;

/* Where the calling thread's C stack ends, less a margin for the runtime's own frames. */
char *vm_thread_cstack_limit(void) {
  if (!thread_stack_low) {
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstack(&attr, &addr, &size);
      pthread_attr_destroy(&attr);
    }
    if (addr && size > (256u << 10)) thread_stack_low = (char *)addr + (192u << 10);
    else thread_stack_low = (char *)__builtin_frame_address(0) - (1u << 20);
  }
  return thread_stack_low;
}

/* ---- the interpreter loop ----------------------------------------------------------------- */

static SX_NORETURN void unbound_error(sx_state *S, sx_val cell) {
  vm_error_irritant(S, CELL(cell)->name, "unbound variable: %s",
                    STR(SYM(CELL(cell)->name)->name)->data);
}

static SX_NORETURN void not_procedure(sx_state *S, sx_val v) {
  sx_val s = vm_to_string(S, v, true);
  vm_error_irritant(S, v, "not a procedure: %.60s", STR(s)->data);
}

static SX_NORETURN void stack_overflow(sx_state *S) {
  vm_error(S, "stack overflow (recursion too deep)");
}

/* Spreads (apply f a ... list) in place at fnslot; returns the new argc. */
static int spread_apply(sx_state *S, sx_val *fnslot, int argc) {
  if (argc < 1) arity_error(S, S->apply_prim, argc);
  sx_val lst = argc >= 2 ? fnslot[argc] : SX_EMPTY;
  size_t n = argc >= 2 ? vm_list_length(lst) : 0;
  if (argc >= 2 && n == (size_t)-1) vm_type_error(S, "apply", "list", lst, argc);
  memmove(fnslot, fnslot + 1, (size_t)(argc - 1) * sizeof(sx_val)); /* f and middle args */
  int newargc = argc - 2 < 0 ? 0 : argc - 2;
  if (fnslot + 1 + newargc + n + 64 > S->stack_end) stack_overflow(S);
  sx_val *dst = fnslot + 1 + newargc;
  for (; sx_is_pair(lst); lst = sx_cdr(lst)) *dst++ = sx_car(lst);
  if ((size_t)newargc + n > 1000000) vm_error(S, "apply: too many arguments");
  return newargc + (int)n;
}

/* The native code to run for a call of p, counting the call and compiling when it is hot
 * (in sync mode the very call that reaches the threshold already runs native code). */
static inline struct jit_entry *tier_check(sx_state *S, sx_proto *p) {
  if (p->jit) return p->jit;
  if (SX_UNLIKELY(++p->calls >= S->jit_threshold)) {
    jit_hot(S, p);
    if (p->jit) return p->jit;
  }
  S->jit_misses++;
  return NULL;
}

/* Sets up a frame for closure fnslot[0] with argc arguments at fnslot+1; returns the base. */
static inline sx_val *enter_closure(sx_state *S, sx_val *fnslot, int argc) {
  sx_closure *cl = CLOSURE(fnslot[0]);
  sx_proto *p = cl->proto;
  sx_val *base = fnslot + 1;
  int np = p->nparams;
  if (SX_UNLIKELY(p->h.flags & PROTO_REST)) {
    int fixed = np - 1;
    if (argc < fixed) arity_error(S, fnslot[0], argc);
    sx_val rest = SX_EMPTY;
    for (int i = argc - 1; i >= fixed; i--) rest = vm_cons(S, base[i], rest);
    base[fixed] = rest;
  } else if (SX_UNLIKELY(argc != np)) {
    arity_error(S, fnslot[0], argc);
  }
  if (SX_UNLIKELY(S->interrupt)) vm_poll(S);
  if (SX_UNLIKELY(base + p->maxstack > S->stack_end)) stack_overflow(S);
  if (base + p->maxstack > S->stack_hw) S->stack_hw = base + p->maxstack;
  for (int i = np; i < p->nlocals; i++) base[i] = SX_NIL;
  if (SX_UNLIKELY(S->nframes >= S->maxframes)) stack_overflow(S);
  vm_frame *f = &S->frames[S->nframes++];
  if (S->nframes > S->frames_hw) S->frames_hw = S->nframes;
  f->cl = cl;
  f->base = base;
  f->pc = p->code;
  return base;
}

/* Pushes the call compiled code handed back (SX_TAIL) at sp: callee, then arguments. */
static inline sx_val *push_tail_call(sx_state *S, sx_val *sp) {
  *sp++ = S->tail_fn;
  for (int i = 0; i < S->tail_argc; i++) *sp++ = S->tail_args[i];
  return sp;
}

#if defined(__GNUC__) && !SX_DEBUG_TRACE
#define COMPUTED_GOTO 1
#endif

#ifdef COMPUTED_GOTO
#define CASE(name) L_##name:
#define DISPATCH() goto *labels[INS_OP(ins = *pc++)]
#define LOOP DISPATCH();
#define END_LOOP
#else
#define CASE(name) case OP_##name:
#define DISPATCH() continue
#define LOOP for (;;) { ins = *pc++; switch (INS_OP(ins)) {
#define END_LOOP default: vm_error(S, "bad opcode"); } }
#endif

#define A INS_A(ins)
#define SAVE() (f->pc = pc, S->sp = sp)
#define LOAD_FRAME()                                                                           \
  do {                                                                                         \
    f = &S->frames[S->nframes - 1];                                                            \
    cl = f->cl;                                                                                \
    base = f->base;                                                                            \
    pc = f->pc;                                                                                \
    k = cl->proto->consts;                                                                     \
    sp = base + cl->proto->nlocals;                                                            \
  } while (0)

/* Slow path of an inlined primitive: call the primitive itself on the n values at sp - n. */
#define SLOW_PRIM(op, n)                                                                       \
  do {                                                                                         \
    SAVE();                                                                                    \
    sx_val r_ = vm_call_prim(S, S->inline_prims[op], n, sp - (n));                                \
    sp -= (n);                                                                                 \
    *sp++ = r_;                                                                                \
  } while (0)

/* Float arithmetic when at least one operand is a flonum and both are numbers. */
#define FLOAT_BINOP(expr)                                                                      \
  if ((sx_is_flonum(a) || sx_is_flonum(b)) && sx_is_number(a) && sx_is_number(b)) {            \
    double x = vm_todouble(a), y = vm_todouble(b);                                             \
    SAVE();                                                                                    \
    sp[-2] = vm_flonum(S, expr);                                                               \
    sp--;                                                                                      \
    DISPATCH();                                                                                \
  }

/* Runs until the frame at index `stop` returns (frames above `stop` are this run's). When
 * resuming after a caught error, the top frame's pc and S->sp say where to go on. */
static sx_val execute(sx_state *S, uint32_t stop) {
#ifdef COMPUTED_GOTO
  static void *labels[] = {
#define OP(name, fmt, eff) &&L_##name,
#include "opcodes.h"
#undef OP
  };
#endif
  vm_frame *f = &S->frames[S->nframes - 1];
  sx_closure *cl = f->cl;
  sx_val *base = f->base;
  uint32_t *pc = f->pc;
  sx_val *k = cl->proto->consts;
  sx_val *sp = S->sp;
  uint32_t ins;

  LOOP
  CASE(NOP) DISPATCH();
  CASE(CONST) *sp++ = k[A]; DISPATCH();
  CASE(FIXNUM) *sp++ = sx_mkfix((int64_t)A - OPERAND_BIAS); DISPATCH();
  CASE(NIL) *sp++ = SX_NIL; DISPATCH();
  CASE(TRUE) *sp++ = SX_TRUE; DISPATCH();
  CASE(FALSE) *sp++ = SX_FALSE; DISPATCH();
  CASE(EMPTY) *sp++ = SX_EMPTY; DISPATCH();
  CASE(POP) sp--; DISPATCH();
  CASE(LOCAL) *sp++ = base[A]; DISPATCH();
  CASE(SETLOCAL) base[A] = *--sp; DISPATCH();
  CASE(BOXLOCAL) {
    SAVE();
    sx_box *b = vm_alloc_small(S, T_BOX);
    b->value = base[A];
    base[A] = sx_from_obj(b);
    DISPATCH();
  }
  CASE(LOCALBOX) *sp++ = BOX(base[A])->value; DISPATCH();
  CASE(SETLOCALBOX) BOX(base[A])->value = *--sp; DISPATCH();
  CASE(FREE) *sp++ = cl->free[A]; DISPATCH();
  CASE(FREEBOX) *sp++ = BOX(cl->free[A])->value; DISPATCH();
  CASE(SETFREEBOX) BOX(cl->free[A])->value = *--sp; DISPATCH();
  CASE(GLOBAL) {
    sx_val v = CELL(k[A])->value;
    if (SX_UNLIKELY(v == SX_UNBOUND)) {
      SAVE();
      unbound_error(S, k[A]);
    }
    *sp++ = v;
    DISPATCH();
  }
  CASE(SETGLOBAL) {
    if (SX_UNLIKELY(CELL(k[A])->value == SX_UNBOUND)) {
      SAVE();
      unbound_error(S, k[A]);
    }
    CELL(k[A])->value = *--sp;
    DISPATCH();
  }
  CASE(DEFGLOBAL) CELL(k[A])->value = *--sp; DISPATCH();
  CASE(DEFMACRO) {
    SAVE();
    sx_val proc = sp[-1];
    if (!sx_is_procedure(proc)) vm_type_error(S, "define-macro", "procedure", proc, 0);
    sx_macro *m = vm_alloc(S, sizeof(sx_macro), T_MACRO);
    m->proc = proc;
    m->name = CELL(k[A])->name;
    CELL(k[A])->value = sx_from_obj(m);
    sp--;
    DISPATCH();
  }
  CASE(JUMP) pc = cl->proto->code + A; DISPATCH();
  CASE(JUMPF) if (!sx_truthy(*--sp)) pc = cl->proto->code + A; DISPATCH();
  CASE(JUMPT) if (sx_truthy(*--sp)) pc = cl->proto->code + A; DISPATCH();
  CASE(ANDJ) if (!sx_truthy(sp[-1])) pc = cl->proto->code + A; else sp--; DISPATCH();
  CASE(ORJ) if (sx_truthy(sp[-1])) pc = cl->proto->code + A; else sp--; DISPATCH();
  CASE(CLOSURE) {
    SAVE();
    sx_proto *p = PROTO(k[A]);
    sx_closure *c = vm_alloc_sized(S, sizeof(sx_closure) + p->nfree * sizeof(sx_val), T_CLOSURE);
    c->proto = p;
    c->h.aux = p->nfree;
    for (int i = 0; i < p->nfree; i++) {
      uint32_t d = *pc++;
      c->free[i] = (d & 0x80000000u) ? cl->free[d & 0x7fffffffu] : base[d];
    }
    *sp++ = sx_from_obj(c);
    DISPATCH();
  }
  CASE(PATCH) {
    uint32_t d = *pc++;
    CLOSURE(base[A])->free[d & 0xffff] = base[d >> 16];
    DISPATCH();
  }
  CASE(CALL) {
    int argc = (int)A;
    sx_val *fnslot;
  do_call:
    fnslot = sp - argc - 1;
    if (SX_LIKELY(sx_is_closure(*fnslot))) {
      f->pc = pc;
      S->sp = sp;
      struct jit_entry *je = tier_check(S, CLOSURE(*fnslot)->proto);
      if (jit_accepts(je, argc)) {
        sx_val r = jit_invoke(S, je, *fnslot, argc, fnslot + 1);
        sp = fnslot;
        if (r == SX_TAIL) {
          sp = push_tail_call(S, sp);
          argc = S->tail_argc;
          goto do_call;
        }
        *sp++ = r;
        DISPATCH();
      }
      base = enter_closure(S, fnslot, argc);
      f = &S->frames[S->nframes - 1];
      cl = f->cl;
      pc = f->pc;
      k = cl->proto->consts;
      sp = base + cl->proto->nlocals;
      DISPATCH();
    }
    if (sx_is_prim(*fnslot)) {
      SAVE();
      if (*fnslot == S->apply_prim) {
        argc = spread_apply(S, fnslot, argc);
        sp = fnslot + 1 + argc;
        goto do_call;
      }
      sx_val r = vm_call_prim(S, *fnslot, argc, fnslot + 1);
      sp = fnslot;
      *sp++ = r;
      DISPATCH();
    }
    SAVE();
    not_procedure(S, *fnslot);
  }
  CASE(TAILCALL) {
    int argc = (int)A;
    sx_val *fnslot;
    if (SX_UNLIKELY(--S->fuel <= 0)) {
      SAVE();
      vm_poll(S);
    }
  do_tailcall:
    fnslot = sp - argc - 1;
    if (SX_LIKELY(sx_is_closure(*fnslot))) {
      SAVE();
      struct jit_entry *je = tier_check(S, CLOSURE(*fnslot)->proto);
      if (jit_accepts(je, argc)) {
        /* the frame stays to take the result, but a tail call has left it: backtraces skip it */
        f->cl = NULL;
        sx_val r = jit_invoke(S, je, *fnslot, argc, fnslot + 1);
        f->cl = cl;
        sp = fnslot;
        if (r == SX_TAIL) {
          sp = push_tail_call(S, sp);
        do_tailcall_n:
          argc = S->tail_argc;
          goto do_tailcall;
        }
        *sp++ = r;
        goto do_return;
      }
      /* reuse this frame: move callee and arguments down to base[-1] */
      memmove(base - 1, fnslot, (size_t)(argc + 1) * sizeof(sx_val));
      S->nframes--;
      S->sp = base + argc;
      base = enter_closure(S, base - 1, argc);
      f = &S->frames[S->nframes - 1];
      cl = f->cl;
      pc = f->pc;
      k = cl->proto->consts;
      sp = base + cl->proto->nlocals;
      DISPATCH();
    }
    if (sx_is_prim(*fnslot)) {
      SAVE();
      if (*fnslot == S->apply_prim) {
        argc = spread_apply(S, fnslot, argc);
        sp = fnslot + 1 + argc;
        goto do_tailcall;
      }
      sx_val r = vm_call_prim(S, *fnslot, argc, fnslot + 1);
      sp = fnslot;
      *sp++ = r;
      goto do_return;
    }
    SAVE();
    not_procedure(S, *fnslot);
  }
  CASE(LOOP) {
    if (SX_UNLIKELY(--S->fuel <= 0 || S->interrupt)) {
      SAVE();
      vm_poll(S);
    }
    sx_proto *p = cl->proto;
    if (SX_UNLIKELY(++p->calls >= S->jit_threshold)) {
      SAVE();
      jit_hot(S, p);
    }
    if (SX_UNLIKELY(p->jit != NULL) && !(p->h.flags & PROTO_BOXPARAM)) {
      /* the loop's lambda got native code: go on natively from the loop head, which is the
         lambda's entry with the new arguments already in the parameter slots */
      SAVE();
      f->cl = NULL; /* the compiled code carries on this frame: backtraces show that instead */
      sx_val r = jit_invoke(S, p->jit, sx_from_obj(cl), p->nparams, base);
      f->cl = cl;
      sp = base + p->nlocals;
      *sp++ = r;
      if (r == SX_TAIL) {
        sp--;
        sp = push_tail_call(S, sp);
        goto do_tailcall_n;
      }
      goto do_return;
    }
    sp = base + p->nlocals;
    pc = p->code + A;
    DISPATCH();
  }
  CASE(RETURN) {
  do_return:;
    sx_val r = sp[-1];
    sp = base - 1;
    *sp++ = r;
    S->nframes--;
    if (S->nframes == stop) {
      S->sp = sp - 1;
      return r;
    }
    f = &S->frames[S->nframes - 1];
    cl = f->cl;
    base = f->base;
    pc = f->pc;
    k = cl->proto->consts;
    DISPATCH();
  }
  CASE(TRY)
  CASE(TRYF) {
    if (SX_UNLIKELY(S->nhandlers >= S->maxhandlers)) {
      SAVE();
      vm_error(S, "too many nested try forms");
    }
    vm_handler *h = &S->handlers[S->nhandlers++];
    h->pc = cl->proto->code + A;
    h->frame = S->nframes - 1;
    h->sp = sp;
    h->level = S->level;
    h->finally = INS_OP(ins) == OP_TRYF;
    DISPATCH();
  }
  CASE(ENDTRY) S->nhandlers--; DISPATCH();
  CASE(RERAISE) {
    SAVE();
    vm_raise(S, sp[-1]);
  }
  CASE(VECLIT) {
    SAVE();
    sx_val v = vm_vector(S, A, SX_NIL);
    sp -= A;
    memcpy(VEC(v)->items, sp, A * sizeof(sx_val));
    *sp++ = v;
    DISPATCH();
  }
  CASE(DICTLIT) {
    SAVE();
    sx_val d = vm_dict(S, A);
    sp -= 2 * A;
    for (uint32_t i = 0; i < A; i++) vm_dict_set(S, d, sp[2 * i], sp[2 * i + 1]);
    *sp++ = d;
    DISPATCH();
  }
  CASE(ADD) {
    sx_val a = sp[-2], b = sp[-1];
    int64_t r;
    if (SX_LIKELY(sx_is_fixnum(a) && sx_is_fixnum(b)) &&
        !__builtin_add_overflow((int64_t)a, (int64_t)(b - 1), &r)) {
      sp[-2] = (sx_val)r;
      sp--;
      DISPATCH();
    }
    FLOAT_BINOP(x + y);
    SLOW_PRIM(OP_ADD, 2);
    DISPATCH();
  }
  CASE(SUB) {
    sx_val a = sp[-2], b = sp[-1];
    int64_t r;
    if (SX_LIKELY(sx_is_fixnum(a) && sx_is_fixnum(b)) &&
        !__builtin_sub_overflow((int64_t)a, (int64_t)(b - 1), &r)) {
      sp[-2] = (sx_val)r;
      sp--;
      DISPATCH();
    }
    FLOAT_BINOP(x - y);
    SLOW_PRIM(OP_SUB, 2);
    DISPATCH();
  }
  CASE(MUL) {
    sx_val a = sp[-2], b = sp[-1];
    int64_t r;
    if (SX_LIKELY(sx_is_fixnum(a) && sx_is_fixnum(b)) &&
        !__builtin_mul_overflow(sx_fixnum(a), (int64_t)(b - 1), &r)) {
      sp[-2] = (sx_val)(r + 1);
      sp--;
      DISPATCH();
    }
    FLOAT_BINOP(x * y);
    SLOW_PRIM(OP_MUL, 2);
    DISPATCH();
  }
  CASE(DIV) {
    sx_val a = sp[-2], b = sp[-1];
    if (sx_is_fixnum(a) && sx_is_fixnum(b) && b != sx_mkfix(0) && sx_fixnum(a) % sx_fixnum(b) == 0 &&
        sx_fixnum_fits(sx_fixnum(a) / sx_fixnum(b))) {
      sp[-2] = sx_mkfix(sx_fixnum(a) / sx_fixnum(b));
      sp--;
      DISPATCH();
    }
    FLOAT_BINOP(x / y);
    SLOW_PRIM(OP_DIV, 2);
    DISPATCH();
  }
#define COMPARE(OPNAME, CMP)                                                                   \
  CASE(OPNAME) {                                                                               \
    sx_val a = sp[-2], b = sp[-1];                                                             \
    if (SX_LIKELY(sx_is_fixnum(a) && sx_is_fixnum(b))) {                                       \
      sp[-2] = sx_bool((int64_t)a CMP(int64_t) b);                                             \
      sp--;                                                                                    \
      DISPATCH();                                                                              \
    }                                                                                          \
    if (sx_is_flonum(a) && sx_is_flonum(b)) {                                                  \
      sp[-2] = sx_bool(sx_flo(a) CMP sx_flo(b));                                               \
      sp--;                                                                                    \
      DISPATCH();                                                                              \
    }                                                                                          \
    SLOW_PRIM(OP_##OPNAME, 2);                                                                 \
    DISPATCH();                                                                                \
  }
  COMPARE(LT, <)
  COMPARE(LE, <=)
  COMPARE(GT, >)
  COMPARE(GE, >=)
  COMPARE(NUMEQ, ==)
#define COMPARE_JUMP(OPNAME, CMP, BASE)                                                        \
  CASE(OPNAME) {                                                                               \
    sx_val a = sp[-2], b = sp[-1];                                                             \
    bool t;                                                                                    \
    if (SX_LIKELY(sx_is_fixnum(a) && sx_is_fixnum(b))) {                                       \
      t = (int64_t)a CMP(int64_t) b;                                                           \
      sp -= 2;                                                                                 \
    } else if (sx_is_flonum(a) && sx_is_flonum(b)) {                                           \
      t = sx_flo(a) CMP sx_flo(b);                                                             \
      sp -= 2;                                                                                 \
    } else {                                                                                   \
      SLOW_PRIM(BASE, 2);                                                                      \
      t = sx_truthy(*--sp);                                                                    \
    }                                                                                          \
    if (!t) pc = cl->proto->code + A;                                                          \
    DISPATCH();                                                                                \
  }
  COMPARE_JUMP(LTJF, <, OP_LT)
  COMPARE_JUMP(LEJF, <=, OP_LE)
  COMPARE_JUMP(GTJF, >, OP_GT)
  COMPARE_JUMP(GEJF, >=, OP_GE)
  COMPARE_JUMP(EQJF, ==, OP_NUMEQ)
  CASE(ADDK) {
    sx_val a = sp[-1];
    int64_t r;
    if (SX_LIKELY(sx_is_fixnum(a)) &&
        !__builtin_add_overflow((int64_t)a, ((int64_t)A - OPERAND_BIAS) * 4, &r)) {
      sp[-1] = (sx_val)r;
      DISPATCH();
    }
    *sp++ = sx_mkfix((int64_t)A - OPERAND_BIAS);
    SLOW_PRIM(OP_ADD, 2);
    DISPATCH();
  }
  CASE(SUBK) {
    sx_val a = sp[-1];
    int64_t r;
    if (SX_LIKELY(sx_is_fixnum(a)) &&
        !__builtin_sub_overflow((int64_t)a, ((int64_t)A - OPERAND_BIAS) * 4, &r)) {
      sp[-1] = (sx_val)r;
      DISPATCH();
    }
    *sp++ = sx_mkfix((int64_t)A - OPERAND_BIAS);
    SLOW_PRIM(OP_SUB, 2);
    DISPATCH();
  }
  CASE(CAR) {
    if (SX_LIKELY(sx_is_pair(sp[-1]))) sp[-1] = PAIR(sp[-1])->car;
    else SLOW_PRIM(OP_CAR, 1);
    DISPATCH();
  }
  CASE(CDR) {
    if (SX_LIKELY(sx_is_pair(sp[-1]))) sp[-1] = PAIR(sp[-1])->cdr;
    else SLOW_PRIM(OP_CDR, 1);
    DISPATCH();
  }
  CASE(CONS) {
    SAVE();
    sx_val p = vm_cons(S, sp[-2], sp[-1]);
    sp[-2] = p;
    sp--;
    DISPATCH();
  }
  CASE(NULLP) sp[-1] = sx_bool(sx_is_listend(sp[-1])); DISPATCH();
  CASE(PAIRP) sp[-1] = sx_bool(sx_is_pair(sp[-1])); DISPATCH();
  CASE(TYPEP) sp[-1] = sx_bool(sx_is_type(sp[-1], (sx_type)A)); DISPATCH();
  CASE(PROCP) sp[-1] = sx_bool(sx_is_procedure(sp[-1])); DISPATCH();
  CASE(EQ) sp[-2] = sx_bool(sp[-2] == sp[-1]); sp--; DISPATCH();
  CASE(NOT) sp[-1] = sx_bool(!sx_truthy(sp[-1])); DISPATCH();
  CASE(ZEROP) {
    if (SX_LIKELY(sx_is_fixnum(sp[-1]))) sp[-1] = sx_bool(sp[-1] == sx_mkfix(0));
    else SLOW_PRIM(OP_ZEROP, 1);
    DISPATCH();
  }
  CASE(VREF) {
    sx_val v = sp[-2], i = sp[-1];
    if (SX_LIKELY(sx_is_vector(v) && sx_is_fixnum(i) && (uint64_t)sx_fixnum(i) < VEC(v)->len)) {
      sp[-2] = VEC(v)->items[sx_fixnum(i)];
      sp--;
    } else {
      SLOW_PRIM(OP_VREF, 2);
    }
    DISPATCH();
  }
#define PAIR_SET(OPNAME, FIELD)                                                                \
  CASE(OPNAME) {                                                                               \
    if (SX_LIKELY(sx_is_pair(sp[-2]))) {                                                       \
      PAIR(sp[-2])->FIELD = sp[-1];                                                            \
      sp[-2] = SX_NIL;                                                                         \
      sp--;                                                                                    \
    } else {                                                                                   \
      SLOW_PRIM(OP_##OPNAME, 2);                                                               \
    }                                                                                          \
    DISPATCH();                                                                                \
  }
  PAIR_SET(SETCAR, car)
  PAIR_SET(SETCDR, cdr)
  CASE(VSET) {
    sx_val v = sp[-3], i = sp[-2];
    if (SX_LIKELY(sx_is_vector(v) && sx_is_fixnum(i) && (uint64_t)sx_fixnum(i) < VEC(v)->len)) {
      VEC(v)->items[sx_fixnum(i)] = sp[-1];
      sp[-3] = SX_NIL;
      sp -= 2;
    } else {
      SLOW_PRIM(OP_VSET, 3);
    }
    DISPATCH();
  }
  END_LOOP
}

static sx_val run_closure(sx_state *S, sx_val *fnslot, int argc);

/* Runs the call prepared at S->sp (callee then argc arguments) to completion; errors caught
 * by try forms of this run resume here, others propagate to the enclosing protected point. */
static sx_val run(sx_state *S, int argc) {
  sx_val *fnslot = S->sp;
  sx_val fn = fnslot[0];
  struct jit_entry *je;
  while (sx_is_closure(fn) && (je = tier_check(S, CLOSURE(fn)->proto)) && jit_accepts(je, argc)) {
    vm_check_cstack(S);
    sx_val r = jit_invoke(S, je, fn, argc, fnslot + 1);
    if (r != SX_TAIL) {
      S->sp = fnslot;
      return r;
    }
    push_tail_call(S, fnslot);
    fn = fnslot[0];
    argc = S->tail_argc;
  }
  if (sx_is_prim(fn)) {
    if (fn == S->apply_prim) {
      argc = spread_apply(S, fnslot, argc);
      return run(S, argc);
    }
    S->sp = fnslot + 1 + argc;
    sx_val r = vm_call_prim(S, fn, argc, fnslot + 1);
    S->sp = fnslot;
    return r;
  }
  if (!sx_is_closure(fn)) not_procedure(S, fn);
  return run_closure(S, fnslot, argc);
}

/* Interprets closure fnslot[0] under this run's protected point. */
static sx_val run_closure(sx_state *S, sx_val *fnslot, int argc) {
  sx_val fn = fnslot[0];
  vm_check_cstack(S);
  uint32_t stop = S->nframes;
  uint32_t handlers0 = S->nhandlers;
  uint32_t native_depth = S->native_depth;
  vm_native_run *native_runs = S->native_runs;
  uint32_t level = ++S->level;
  sx_val file = S->cur_file; /* an error out of eval-string or load leaves theirs behind */
  vm_jmp j;
  j.h = (vm_jmp_head){S->jmp, NULL};
  S->jmp = &j.h;
  if (setjmp(j.buf) != 0) {
    /* an error: resume at the innermost handler of this run, or pass it on */
    /* limit errors skip catch handlers and stop only at finally handlers */
    if (S->raised_kind == RAISE_LIMIT)
      while (S->nhandlers > handlers0 && S->handlers[S->nhandlers - 1].level == level &&
             !S->handlers[S->nhandlers - 1].finally)
        S->nhandlers--;
    S->native_depth = native_depth;
    S->native_runs = native_runs;
    S->cur_file = file;
    if (S->nhandlers > handlers0 && S->handlers[S->nhandlers - 1].level == level) {
      vm_handler h = S->handlers[--S->nhandlers];
      S->nframes = h.frame + 1;
      S->frames[h.frame].pc = h.pc;
      S->sp = h.sp;
      *S->sp++ = S->raised;
      S->level = level;
      S->raised = SX_NIL;
    } else {
      S->jmp = j.h.prev;
      S->nhandlers = handlers0;
      S->nframes = stop;
      S->level = level - 1;
      S->sp = fnslot;
      vm_jump(S);
    }
  } else {
    S->sp = fnslot + 1 + argc;
    enter_closure(S, fnslot, argc);
    S->sp = S->frames[S->nframes - 1].base + CLOSURE(fn)->proto->nlocals;
  }
  sx_val r = execute(S, stop);
  S->jmp = j.h.prev;
  S->level = level - 1;
  S->sp = fnslot;
  return r;
}

sx_val vm_call(sx_state *S, sx_val fn, int argc, const sx_val *argv) {
  if (!S->cstack_limit) {
    S->cstack_limit = vm_thread_cstack_limit();
    vm_sync_native_limit(S);
  }
  sx_val *slot = S->sp;
  if (slot + argc + 64 > S->stack_end) stack_overflow(S);
  slot[0] = fn;
  for (int i = 0; i < argc; i++) slot[1 + i] = argv[i];
  if (slot + argc + 1 > S->stack_hw) S->stack_hw = slot + argc + 1;
  return run(S, argc);
}

sx_val vm_eval(sx_state *S, sx_val form, sx_env *env) {
  sx_val thunk = vm_compile_toplevel(S, form, env);
  return vm_call(S, thunk, 0, NULL);
}

/* Names defined at top level get their cells before anything is compiled, so code compiled
 * earlier in the same source refers to this environment's binding, not an outer one. */
static void predefine(sx_state *S, sx_val forms, sx_env *env) {
  for (; sx_is_pair(forms); forms = sx_cdr(forms)) {
    sx_val f = sx_car(forms);
    if (!sx_is_pair(f) || sx_car(f) != S->sym_define || !sx_is_pair(sx_cdr(f))) continue;
    sx_val target = sx_car(sx_cdr(f));
    if (sx_is_pair(target)) target = sx_car(target);
    if (sx_is_symbol(target)) {
      sx_cell *c = vm_env_lookup(env, target);
      if (!c || !(c->h.flags & CELL_CONST) || vm_env_lookup_local(env, target) == NULL)
        vm_env_define(S, env, target);
    }
  }
}

sx_val vm_eval_string(sx_state *S, const char *src, size_t n, sx_val file, sx_env *env) {
  sx_val save_file = S->cur_file;
  S->cur_file = file;
  sx_val forms = vm_read_all(S, src, n, file);
  predefine(S, forms, env);
  sx_val result = SX_NIL;
  for (; sx_is_pair(forms); forms = sx_cdr(forms)) result = vm_eval(S, sx_car(forms), env);
  S->cur_file = save_file;
  return result;
}
