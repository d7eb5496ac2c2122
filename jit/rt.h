/* rt.h — indices of the runtime helpers in S->rt[], shared by rt.c and the lowering. */
#ifndef SX_JIT_RT_H
#define SX_JIT_RT_H

enum {
  RT_PRIM,      /* (S, op, a, b, c) -> slow path of an inlined primitive */
  RT_UNBOUND,   /* (S, cell) -> raises */
  RT_SETGLOBAL, /* (S, cell, v) */
  RT_DEFMACRO,  /* (S, cell, proc) */
  RT_BOX,       /* (S, v) -> box */
  RT_CONS,      /* (S, a, d) */
  RT_CLOSURE,   /* (S, proto) -> closure with uninitialised free slots */
  RT_VECLIT,    /* (S, n, items*) */
  RT_DICTLIT,   /* (S, n, kv*) */
  RT_RESOLVE,   /* (S) -> runs the pending S->tail_* call */
  RT_CALL,      /* (S, fn, argc, args*) */
  RT_ENTER,     /* (S) -> the entry check failed */
  RT_POLL,      /* (S) -> interrupt / safe point on a back edge */
  RT_RESTLIST,  /* (S, args*, n) -> list of the n arguments */
  RT_POLLN,       /* (S, n) -> spend n units of fuel, then as RT_POLL if empty or interrupted */
  RT_ALLOC_SMALL, /* (S, type) -> a zeroed small object of that type (vm_alloc_small) */
  RT_TAIL,        /* (S) -> the tail call in S->tail_*, made here or handed back (SX_TAIL) */
  RT_TRY_ENTER,   /* (S, t) -> links try record t as the innermost protected point */
  RT_TRY_CATCH,   /* (S, t, finally) -> after t caught: the raised value, state restored */
  RT_RERAISE,     /* (S, v) -> raises v again */
  RT_COUNT
};

SX_INTERNAL void jit_rt_init(sx_state *S);
SX_INTERNAL void jit_restore_stack_limit(sx_state *S);

#endif
