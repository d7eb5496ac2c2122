/* state.h — the interpreter state and the internal API shared by vm/ and prims/. */
#ifndef SX_STATE_H
#define SX_STATE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>

#include "../jit/jit.h"
#include "sx.h"
#include "value.h"

typedef enum {
#define OP(name, fmt, eff) OP_##name,
#include "opcodes.h"
#undef OP
  OP__COUNT
} vm_opcode;

#define OPERAND_BIAS (1 << 23)
#define INS(op, a) ((uint32_t)(op) | ((uint32_t)(a) << 8))
#define INS_OP(i) ((i) & 0xff)
#define INS_A(i) ((i) >> 8)
/* Source position per instruction word: line << 10 | column (capped). */
#define POS_PACK(line, col) (((uint32_t)(line) << 10) | ((col) > 1023 ? 1023u : (uint32_t)(col)))
#define POS_LINE(p) ((p) >> 10)
#define POS_COL(p) ((p)&1023)

/* A call frame on the VM's frame stack. */
typedef struct {
  sx_closure *cl;
  uint32_t *pc; /* where this frame resumes (saved when it calls out) */
  sx_val *base; /* first argument; base[-1] holds the callee */
} vm_frame;

/* An active try handler. */
typedef struct {
  uint32_t *pc;    /* handler code */
  uint32_t frame;  /* index of the frame the try belongs to */
  sx_val *sp;      /* operand stack top to restore */
  uint32_t level;  /* vm_run nesting level that owns it */
  bool finally;    /* runs for limit errors too */
} vm_handler;

/* An entry from the VM into native code (jit_invoke), kept in its C frame: compiled frames
 * deeper in the C stack than the innermost one sit above VM frame `mark` in backtraces. */
typedef struct vm_native_run {
  struct vm_native_run *prev;
  uint32_t mark; /* S->nframes when native code was entered */
} vm_native_run;

/* One protected point in the chain; errors jump to the innermost (vm_jump). In C code (a VM
 * run, vm_protect) it is a setjmp buffer; in a compiled lambda's try, a buffer of GCC's
 * __builtin_setjmp, with what to restore when it catches (vm_native_try, jit/rt.c). */
typedef struct vm_jmp_head {
  struct vm_jmp_head *prev;
  void **native; /* NULL: a vm_jmp; else the __builtin_setjmp buffer of a vm_native_try */
} vm_jmp_head;

typedef struct vm_jmp {
  vm_jmp_head h;
  jmp_buf buf;
} vm_jmp;

/* What a protected point restores when it catches (vm_save, vm_restore). */
typedef struct {
  sx_val *sp;
  struct vm_native_run *native_runs;
  sx_val file;
  uint32_t nframes, nhandlers, level, native_depth;
  int depth;
} vm_saved;

typedef struct vm_native_try {
  vm_jmp_head h;
  void *buf[5]; /* __builtin_setjmp: frame pointer, resume address, stack pointer */
  vm_saved saved;
} vm_native_try;

/* Kinds of raised conditions. Limit errors cannot be caught by try. */
typedef enum { RAISE_ERROR = 0, RAISE_LIMIT = 1 } vm_raise_kind;

#define VM_SMALL_BYTES 24 /* objects up to this size come from per-state free lists */
/* and objects of up to 40, 56 and 72 bytes (closures) from these. Boehm adds a byte to every
 * request (interior pointers: a pointer just past an object must not seem to point into the
 * next) and does not scan an object's last word, so an object of 16k - 8 bytes fills a slot of
 * 16k exactly; classes of 32, 48 and 64 bytes had taken slots of 48, 64 and 80. */
#define VM_SIZED_CLASSES 3
#define VM_SIZED_BYTES(c) ((size_t)(c) * 16 + 40)                /* 40, 56, 72 */
#define VM_SIZED_CLASS(bytes) ((int)(((bytes) + 7) / 16) - 2) /* 25..40 -> 0, ..56 -> 1, ..72 -> 2 */

struct sx_state {
  sx_config cfg;

  /* symbols and keywords, interned by name */
  sx_val *symtab;
  size_t symcount, symcap;

  sx_env *root; /* primitives and prelude */
  sx_env *user; /* the top level of the running program */
  sx_env *cur_env; /* the top-level environment being evaluated in (for eval, load) */

  /* VM stacks: mmapped, scanned by the collector up to their high-water marks */
  sx_val *stack, *stack_end, *stack_hw;
  sx_val *sp; /* operand stack top, synced whenever the VM calls out */
  vm_frame *frames;
  uint32_t nframes, maxframes, frames_hw;
  vm_handler *handlers;
  uint32_t nhandlers, maxhandlers;
  uint32_t level;    /* vm_run nesting */
  char *cstack_limit; /* C stack address below which we report stack overflow */
  /* What compiled code compares its stack pointer with on entry: cstack_limit, or the top of
     the address space while an interrupt or a safe point is pending, so that the next compiled
     call lands in the runtime (V8's stack guard): a recursion that never loops is interrupted
     too, and no call pays for a second check. See vm_trip_native_limit. */
  char *native_limit;
  int depth;          /* recursion depth of reader/printer/compiler helpers */

  vm_jmp_head *jmp;
  volatile int interrupt; /* set by sx_interrupt (any thread, signal handlers) */

  /* limits of the running evaluation (limits.c): fuel is spent a slice at a time, so a back edge
     or tail call only decrements `fuel` and the rest is looked at when a slice runs out */
  int64_t fuel;          /* what is left of the current slice */
  uint64_t fuel_left;    /* beyond the slice; UINT64_MAX = unlimited */
  double deadline;       /* CLOCK_MONOTONIC ms, 0 = none */
  size_t alloc_used, alloc_quota; /* bytes allocated through SX in this evaluation; SIZE_MAX = none */
  sx_limits limits;
  int api_depth;         /* nested API evaluations (C -> SX -> C -> SX) share one budget */
  sx_val raised; /* value in flight */
  vm_raise_kind raised_kind;

  sx_val inline_prims[OP__COUNT]; /* the primitive behind each inlined opcode */
  sx_val apply_prim;

  /* current compile position for errors */
  sx_val cur_file;

  uint64_t gensym_counter;
  sx_val command_line;

  /* last error, for the API */
  char *errmsg;
  char *errtrace;

  /* special-form symbols, filled at open */
  sx_val sym_quote, sym_quasiquote, sym_unquote, sym_unquote_splicing, sym_else, sym_arrow,
      sym_amp, sym_dot, sym_catch, sym_finally, sym_define;

  /* native tier (jit/) */
  int32_t jit_threshold;  /* calls before a lambda is compiled; INT32_MAX when the tier is off */
  uint32_t native_depth;  /* VM-to-native entries active on the stack */
  sx_val tail_fn;         /* a tail call handed back by compiled code (SX_TAIL) */
  int tail_argc;
  sx_val tail_args[JIT_MAX_ARGS];
  void *rt[32];           /* runtime helpers that compiled code calls (jit/rt.c) */
  jit_state *jit;
  uint64_t jit_hits, jit_misses;
  sx_closure *native_self; /* compiled lambda in a runtime call that may raise (for backtraces) */
  vm_native_run *native_runs; /* innermost entry into native code, NULL when none is running */
  uint64_t native_pc;      /* 1 + the instruction of native_self making it (0: not known) */

  struct arr_state *arr; /* f64 arrays: kernel instance, linear memory, pool (prims/array.c) */

  void *free_small; /* free list of small scanned objects (gc.c) */
  void *free_sized[VM_SIZED_CLASSES]; /* free lists of 40, 56, 72-byte scanned objects (gc.c) */

  struct sx_embed *embed; /* host functions, sx_ref roots, input buffer (api_embed.c) */

  struct sx_state *next_state; /* in the collector's list of states */
};

/* ---- gc.c --------------------------------------------------------------------------------- */
SX_INTERNAL void vm_gc_init(void);
SX_INTERNAL void vm_gc_register_state(sx_state *S);
SX_INTERNAL void vm_gc_unregister_state(sx_state *S);
SX_INTERNAL void *vm_alloc(sx_state *S, size_t bytes, int type);        /* scanned */
SX_INTERNAL void *vm_alloc_atomic(sx_state *S, size_t bytes, int type); /* not scanned */
/* Scanned, but not cleared when large: the caller writes every word before it allocates again. */
SX_INTERNAL void *vm_alloc_filled(sx_state *S, size_t bytes, int type);
SX_INTERNAL void *vm_alloc_small(sx_state *S, int type);        /* scanned, zeroed */
/* scanned, zeroed, of any size: the small and sized free lists up to 64 bytes, else vm_alloc */
SX_INTERNAL void *vm_alloc_sized(sx_state *S, size_t bytes, int type);

/* ---- object.c ------------------------------------------------------------------------------ */
SX_INTERNAL sx_val vm_cons(sx_state *S, sx_val a, sx_val d);
SX_INTERNAL sx_val vm_flonum(sx_state *S, double d);
SX_INTERNAL sx_val vm_string(sx_state *S, const char *s, size_t n); /* validates UTF-8 */
SX_INTERNAL sx_val vm_cstring(sx_state *S, const char *s);
SX_INTERNAL sx_val vm_intern(sx_state *S, const char *s, size_t n, sx_type type);
SX_INTERNAL sx_val vm_symbol(sx_state *S, const char *s);
SX_INTERNAL sx_val vm_keyword(sx_state *S, const char *s);
SX_INTERNAL sx_val vm_vector(sx_state *S, size_t n, sx_val fill);
SX_INTERNAL sx_val vm_list_from(sx_state *S, size_t n, const sx_val *items);
SX_INTERNAL sx_val vm_reverse(sx_state *S, sx_val list);
SX_INTERNAL sx_val vm_dict(sx_state *S, size_t cap);
SX_INTERNAL sx_val vm_dict_get(sx_state *S, sx_val d, sx_val key, bool *found);
SX_INTERNAL void vm_dict_set(sx_state *S, sx_val d, sx_val key, sx_val val);
SX_INTERNAL bool vm_dict_remove(sx_state *S, sx_val d, sx_val key);
SX_INTERNAL uint32_t vm_hash(sx_val v);
SX_INTERNAL bool vm_equal(sx_state *S, sx_val a, sx_val b);
SX_INTERNAL bool vm_eqv(sx_val a, sx_val b);
SX_INTERNAL sx_val vm_make_error(sx_state *S, sx_val msg, sx_val irritants);
SX_INTERNAL sx_env *vm_env_new(sx_state *S, sx_env *parent);
SX_INTERNAL sx_cell *vm_env_lookup(sx_env *env, sx_val sym);       /* walks parents */
SX_INTERNAL sx_cell *vm_env_lookup_local(sx_env *env, sx_val sym); /* this env only */
SX_INTERNAL sx_cell *vm_env_define(sx_state *S, sx_env *env, sx_val sym);
SX_INTERNAL bool vm_utf8_valid(const char *s, size_t n, size_t *nchars);
SX_INTERNAL int vm_utf8_encode(uint32_t c, char *out);
SX_INTERNAL uint32_t vm_utf8_decode(const char **p);
SX_INTERNAL const char *vm_str_offset(sx_val s, size_t charidx);
SX_INTERNAL const char *vm_type_name(sx_val v);
SX_INTERNAL size_t vm_list_length(sx_val l); /* (size_t)-1 when improper or cyclic */

/* ---- error.c -------------------------------------------------------------------------------- */
SX_INTERNAL SX_NORETURN void vm_raise(sx_state *S, sx_val v);
SX_INTERNAL SX_NORETURN void vm_raise_as(sx_state *S, sx_val v, vm_raise_kind kind);
SX_INTERNAL void vm_save(sx_state *S, vm_saved *s);
SX_INTERNAL void vm_restore(sx_state *S, const vm_saved *s);
/* Jumps to the innermost protected point, S->jmp (S->raised says what was raised). */
SX_INTERNAL SX_NORETURN void vm_jump(sx_state *S);
SX_INTERNAL SX_NORETURN void vm_error(sx_state *S, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
SX_INTERNAL SX_NORETURN void vm_error_irritant(sx_state *S, sx_val irritant, const char *fmt,
                                               ...) __attribute__((format(printf, 3, 4)));
SX_INTERNAL SX_NORETURN void vm_type_error(sx_state *S, const char *who, const char *expected,
                                           sx_val got, int argno);
SX_INTERNAL sx_val vm_backtrace(sx_state *S);
SX_INTERNAL SX_NORETURN void vm_limit_error(sx_state *S, const char *what);
SX_INTERNAL void vm_poll(sx_state *S);
/* limits.c */
SX_INTERNAL void vm_limits_begin(sx_state *S);
SX_INTERNAL void vm_limits_end(sx_state *S);
SX_INTERNAL void vm_fuel_slice(sx_state *S); /* the current slice of fuel ran out */
SX_INTERNAL void vm_check_deadline(sx_state *S);
SX_INTERNAL SX_NORETURN void vm_memory_error(sx_state *S, const char *what);
static inline void vm_count_alloc(sx_state *S, size_t bytes) {
  S->alloc_used += bytes;
  if (SX_UNLIKELY(S->alloc_used > S->alloc_quota)) vm_memory_error(S, "allocation quota exceeded");
}
SX_INTERNAL void vm_check_cstack(sx_state *S);
/* Run fn(S, ud) under a protected point; returns 0 or 1 when it raised (S->raised holds it). */
SX_INTERNAL int vm_protect(sx_state *S, void (*fn)(sx_state *, void *), void *ud);
SX_INTERNAL char *vm_error_text(sx_state *S, sx_val err, bool with_trace);

/* ---- api_embed.c ---------------------------------------------------------------------------- */
/* One line of input for read-line, from cfg.read or standard input, without its newline; nil at
 * the end of the input. */
SX_INTERNAL sx_val vm_read_line(sx_state *S);
/* At an outermost API call: the C stack bound of the calling thread. */
SX_INTERNAL void vm_api_enter(sx_state *S);

/* ---- reader.c / printer.c ------------------------------------------------------------------ */
typedef struct {
  const char *src, *p, *end;
  int line, col;
  sx_val file;
} vm_reader;
SX_INTERNAL void vm_reader_init(vm_reader *r, const char *src, size_t n, sx_val file);
SX_INTERNAL bool vm_read(sx_state *S, vm_reader *r, sx_val *out); /* false at end of input */
SX_INTERNAL sx_val vm_read_all(sx_state *S, const char *src, size_t n, sx_val file);
/* Source positions of pairs made by the reader: line in aux, column in extra. */
static inline int vm_pair_line(sx_val p) { return sx_is_pair(p) ? (int)PAIR(p)->h.aux : 0; }
static inline int vm_pair_col(sx_val p) { return sx_is_pair(p) ? (int)PAIR(p)->h.extra : 0; }

typedef struct {
  char *buf;
  size_t len, cap;
} vm_buf;
SX_INTERNAL void vm_buf_add(vm_buf *b, const char *s, size_t n);
SX_INTERNAL void vm_buf_addc(vm_buf *b, char c);
SX_INTERNAL void vm_buf_free(vm_buf *b); /* buffers live in the collected heap */
SX_INTERNAL void vm_buf_printf(vm_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
SX_INTERNAL void vm_print(sx_state *S, vm_buf *b, sx_val v, bool write);
SX_INTERNAL sx_val vm_to_string(sx_state *S, sx_val v, bool write);
SX_INTERNAL void vm_format_double(double d, char *out, size_t n);
SX_INTERNAL void vm_output(sx_state *S, const char *s, size_t n);

/* ---- compiler.c ---------------------------------------------------------------------------- */
SX_INTERNAL sx_val vm_compile_toplevel(sx_state *S, sx_val form, sx_env *env);
SX_INTERNAL sx_val vm_macroexpand(sx_state *S, sx_val form, sx_env *env);
SX_INTERNAL void vm_disassemble(sx_state *S, sx_proto *p, vm_buf *out);
SX_INTERNAL uint64_t vm_next_lambda_id(void);

/* ---- vm.c ----------------------------------------------------------------------------------- */
SX_INTERNAL sx_val vm_call(sx_state *S, sx_val fn, int argc, const sx_val *argv);
/* A primitive (not apply) with the VM's argument checks, without entering the VM loop. */
SX_INTERNAL sx_val vm_call_prim(sx_state *S, sx_val fn, int argc, sx_val *argv);
SX_INTERNAL sx_val vm_eval(sx_state *S, sx_val form, sx_env *env);
SX_INTERNAL sx_val vm_eval_string(sx_state *S, const char *src, size_t n, sx_val file,
                                  sx_env *env);
SX_INTERNAL bool vm_stacks_init(sx_state *S);
SX_INTERNAL void vm_stacks_free(sx_state *S);
SX_INTERNAL void vm_stacks_trim(sx_state *S);
/* Makes every compiled call enter the runtime (rt_enter), which polls. Any thread, signal
 * handlers too: set the interrupt bit first, then trip. */
static inline void vm_trip_native_limit(sx_state *S) {
  __atomic_store_n(&S->native_limit, (char *)UINTPTR_MAX, __ATOMIC_SEQ_CST);
}
/* Back to the real limit; still tripped when an interrupt is pending (one set between the
 * two stores has tripped it after ours, or is seen here). */
static inline void vm_sync_native_limit(sx_state *S) {
  __atomic_store_n(&S->native_limit, S->cstack_limit, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&S->interrupt, __ATOMIC_SEQ_CST)) vm_trip_native_limit(S);
}
SX_INTERNAL char *vm_thread_cstack_limit(void);
SX_INTERNAL void vm_api_error(sx_state *S, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- number.c ------------------------------------------------------------------------------- */
SX_INTERNAL sx_val vm_arith(sx_state *S, int op, sx_val a, sx_val b); /* op: '+','-','*','/' */
SX_INTERNAL int vm_numcmp(sx_state *S, sx_val a, sx_val b, const char *who); /* -1 0 1, 2 NaN */
SX_INTERNAL double vm_todouble(sx_val v);
SX_INTERNAL sx_val vm_make_int(sx_state *S, int64_t n); /* raises on overflow */
SX_INTERNAL sx_val vm_parse_number(sx_state *S, const char *s, size_t n, int radix, bool *ok,
                                   bool *overflow);

/* ---- prims ---------------------------------------------------------------------------------- */
SX_INTERNAL void prim_register_all(sx_state *S);
SX_INTERNAL const sx_prim_spec *prim_spec_find(const char *name);
SX_INTERNAL bool prim_check_kind(uint8_t kind, sx_val v);
SX_INTERNAL const char *prim_kind_name(uint8_t kind);
SX_INTERNAL int prim_inline_op(const char *name, int argc);
SX_INTERNAL int prim_type_predicate(const char *name);
extern const sx_prim_spec prim_specs[];
extern const int prim_nspecs;

/* ---- prims/array.c: hooks for f64 arrays ------------------------------------------------------ */
SX_INTERNAL void arr_state_open(sx_state *S);  /* never raises; arrays fail later if it failed */
SX_INTERNAL void arr_state_close(sx_state *S);
SX_INTERNAL void arr_print(sx_state *S, vm_buf *b, sx_val a);
SX_INTERNAL int arr_equal(sx_val a, sx_val b); /* 1 equal, 0 not, -1 when either was freed */
SX_INTERNAL uint32_t arr_hash(sx_val a);
SX_INTERNAL SX_NORETURN void arr_freed_error(sx_state *S, const char *who);
/* The text after "#f64": the array, or 0 with *err set; *used = characters consumed. */
SX_INTERNAL sx_val arr_read_literal(sx_state *S, const char *src, const char *end, size_t *used,
                                    const char **err);
SX_INTERNAL void arr_memory_stats(sx_state *S, sx_val dict);

#endif
