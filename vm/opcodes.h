/* opcodes.h — every bytecode instruction, listed once.
 *
 * Included with OP(name, operand format, stack effect) defined by the includer: the opcode enum,
 * the disassembler, the interpreter's dispatch table and the JIT's lowering switch are all
 * generated from this list. An instruction is one 32-bit word: opcode in the low 8 bits, operand
 * A in the upper 24. Formats: N no operand; A operand A; K A indexes the constant table;
 * J A is an absolute jump target (instruction index); C CLOSURE, followed by one word per
 * captured variable ((from_free << 31) | index); P PATCH, followed by one word (B | C << 16).
 * Stack effect: net change of the operand stack, or 99 when it depends on A.
 */
OP(NOP, N, 0)
OP(CONST, K, 1)        /* push consts[A] */
OP(FIXNUM, A, 1)       /* push the fixnum A - 2^23 */
OP(NIL, N, 1)
OP(TRUE, N, 1)
OP(FALSE, N, 1)
OP(EMPTY, N, 1)        /* push () */
OP(POP, N, -1)
OP(LOCAL, A, 1)        /* push local A */
OP(SETLOCAL, A, -1)    /* pop into local A */
OP(BOXLOCAL, A, 0)     /* local A = box(local A) */
OP(LOCALBOX, A, 1)     /* push box contents of local A */
OP(SETLOCALBOX, A, -1) /* pop into the box held by local A */
OP(FREE, A, 1)         /* push captured variable A */
OP(FREEBOX, A, 1)      /* push box contents of captured variable A */
OP(SETFREEBOX, A, -1)  /* pop into the box held by captured variable A */
OP(GLOBAL, K, 1)       /* push the value of the cell consts[A]; unbound is an error */
OP(SETGLOBAL, K, -1)   /* pop into the cell consts[A]; it must be bound */
OP(DEFGLOBAL, K, -1)   /* pop into the cell consts[A] (define) */
OP(DEFMACRO, K, -1)    /* pop a procedure, store it as a macro in the cell consts[A] */
OP(JUMP, J, 0)
OP(JUMPF, J, -1)       /* pop; jump if falsy */
OP(JUMPT, J, -1)       /* pop; jump if truthy */
OP(ANDJ, J, 0)         /* if top is falsy jump (keep it), else pop */
OP(ORJ, J, 0)          /* if top is truthy jump (keep it), else pop */
OP(CLOSURE, C, 1)      /* push a closure of proto consts[A] */
OP(PATCH, P, 0)        /* local A is a closure: its free[B] = local C (letrec) */
OP(CALL, A, 99)        /* call stack[-A-1] with A arguments */
OP(TAILCALL, A, 99)
OP(LOOP, J, 0)         /* self tail call: the arguments are already in place; jump to A */
OP(RETURN, N, -1)
OP(TRY, J, 0)          /* push a catch handler: resumes at A with the raised value pushed */
OP(TRYF, J, 0)         /* push a finally handler: like TRY, but also runs for limit errors */
OP(ENDTRY, N, 0)       /* pop the innermost handler */
OP(RERAISE, N, -1)     /* raise the value on top again, keeping its backtrace */
OP(VECLIT, A, 99)      /* pop A values, push a vector of them */
OP(DICTLIT, A, 99)     /* pop A keys and values, push a dict */
/* Inlined primitives: fast paths, falling back to the primitive itself for anything else. */
OP(ADD, N, -1)
OP(SUB, N, -1)
OP(MUL, N, -1)
OP(DIV, N, -1)
OP(LT, N, -1)
OP(LE, N, -1)
OP(GT, N, -1)
OP(GE, N, -1)
OP(NUMEQ, N, -1)
OP(ADDK, A, 0)         /* top + (A - 2^23) */
OP(SUBK, A, 0)         /* top - (A - 2^23) */
OP(CAR, N, 0)
OP(CDR, N, 0)
OP(CONS, N, -1)
OP(NULLP, N, 0)
OP(PAIRP, N, 0)
OP(TYPEP, A, 0)        /* top is a heap object of type A (symbol?, string?, vector?, dict?, ...) */
OP(PROCP, N, 0)        /* procedure? */
OP(EQ, N, -1)
OP(NOT, N, 0)
OP(ZEROP, N, 0)
OP(VREF, N, -1)
OP(VSET, N, -2)
OP(SETCAR, N, -1)      /* set-car!: pop the value and the pair, push nil */
OP(SETCDR, N, -1)      /* set-cdr! */
OP(LTJF, J, -2)        /* pop b, a; jump unless a < b (fused compare and branch) */
OP(LEJF, J, -2)
OP(GTJF, J, -2)
OP(GEJF, J, -2)
OP(EQJF, J, -2)        /* = */
