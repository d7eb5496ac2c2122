/* value.h — the representation of SX values: one tagged 64-bit word each.
 *
 * Boehm GC is conservative: it finds live objects by looking at every word in the roots and in
 * pointer-carrying objects and asking "could this be a pointer into the heap?". A value that hides
 * its pointer (NaN-boxing, high-bit tags, xor tricks) is invisible to it and its object gets freed
 * while still in use. So SX tags in the LOW bits only, and a heap pointer is stored as the plain
 * address of the object's first byte:
 *
 *     ....x000   pointer to a heap object (GC_MALLOC blocks are 16-byte aligned); 0 is never a value
 *     ......01   fixnum: a 62-bit signed integer n stored as (n << 2) | 1
 *     .....010   constant: nil, false, true, (), unbound, eof  — (k << 3) | 2
 *     .....110   character: a Unicode code point c stored as (c << 3) | 6
 *
 * Fixnum arithmetic that leaves the 62-bit range raises "integer overflow" (there are no bignums);
 * see vm/number.c. Flonums are boxed in 16-byte atomic objects. Every heap object starts with an
 * sx_obj header whose `type` says which struct follows. Nothing outside this header looks at tag
 * bits: use the macros and inline functions below.
 */
#ifndef SX_VALUE_H
#define SX_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef uint64_t sx_val;
typedef struct sx_state sx_state;

/* ---- immediates ---------------------------------------------------------------------------- */

#define SX_CONST(k) ((sx_val)(((k) << 3) | 2))
#define SX_NIL SX_CONST(0)
#define SX_FALSE SX_CONST(1)
#define SX_TRUE SX_CONST(2)
#define SX_EMPTY SX_CONST(3)   /* the empty list () — true, and not nil */
#define SX_UNBOUND SX_CONST(4) /* value of a global cell that was never defined */
#define SX_EOF SX_CONST(5)

#define SX_FIXNUM_BITS 62
#define SX_FIXNUM_MAX ((int64_t)((UINT64_C(1) << (SX_FIXNUM_BITS - 1)) - 1))
#define SX_FIXNUM_MIN (-SX_FIXNUM_MAX - 1)

static inline bool sx_is_fixnum(sx_val v) { return (v & 3) == 1; }
static inline bool sx_is_ptr(sx_val v) { return (v & 7) == 0 && v != 0; }
static inline bool sx_is_char(sx_val v) { return (v & 7) == 6; }
static inline int64_t sx_fixnum(sx_val v) { return (int64_t)v >> 2; }
static inline sx_val sx_mkfix(int64_t n) { return ((uint64_t)n << 2) | 1; }
static inline bool sx_fixnum_fits(int64_t n) { return n >= SX_FIXNUM_MIN && n <= SX_FIXNUM_MAX; }
static inline uint32_t sx_char(sx_val v) { return (uint32_t)(v >> 3); }
static inline sx_val sx_mkchar(uint32_t c) { return ((sx_val)c << 3) | 6; }
static inline sx_val sx_bool(bool b) { return b ? SX_TRUE : SX_FALSE; }
static inline bool sx_truthy(sx_val v) { return v != SX_FALSE && v != SX_NIL; }
/* nil counts as an empty list for list operations (Clojure habit); () is the canonical one. */
static inline bool sx_is_listend(sx_val v) { return v == SX_EMPTY || v == SX_NIL; }

/* ---- heap objects ---------------------------------------------------------------------------- */

typedef enum {
  T_PAIR = 1,
  T_FLONUM,
  T_STRING,
  T_SYMBOL,
  T_KEYWORD,
  T_VECTOR,
  T_DICT,
  T_PROTO,   /* compiled lambda: bytecode, constants, lambda id, call counter */
  T_CLOSURE, /* a proto plus its captured values */
  T_PRIM,    /* a primitive written in C */
  T_CELL,    /* a global variable */
  T_BOX,     /* a captured local that is assigned with set! */
  T_ERROR,   /* an error value */
  T_ENV,     /* a top-level environment */
  T_MACRO,   /* a macro transformer (wraps a procedure) */
  T_ARRAY,   /* f64 array (prims/array.c) */
  T_HOST,    /* opaque host pointer (embedding API) */
  T_NTYPES
} sx_type;

typedef struct sx_obj {
  uint8_t type;
  uint8_t flags;
  uint16_t extra;
  uint32_t aux;
} sx_obj;

static inline sx_obj *sx_obj_of(sx_val v) { return (sx_obj *)(uintptr_t)v; }
static inline sx_val sx_from_obj(const void *p) { return (sx_val)(uintptr_t)p; }
static inline bool sx_is_type(sx_val v, sx_type t) {
  return sx_is_ptr(v) && sx_obj_of(v)->type == t;
}

typedef struct {
  sx_obj h;
  sx_val car, cdr;
} sx_pair;

typedef struct {
  sx_obj h;
  double d;
} sx_flonum;

/* Immutable UTF-8. `nchars` counts code points; flag STR_ASCII makes indexing O(1). */
#define STR_ASCII 1
typedef struct {
  sx_obj h;
  uint32_t hash; /* 0 = not computed yet */
  uint32_t pad;
  size_t nbytes;
  size_t nchars;
  char data[]; /* NUL-terminated for convenience; may contain NULs */
} sx_string;

/* Symbols and keywords are interned per state; uninterned ones come from gensym. */
typedef struct {
  sx_obj h;
  sx_val name; /* sx_string */
  uint32_t hash;
  int32_t special; /* special-form number, or -1 */
} sx_symbol;

typedef struct {
  sx_obj h;
  size_t len;
  sx_val items[];
} sx_vector;

typedef struct {
  sx_val key, val;
} sx_dict_entry;

/* Insertion-ordered hash map: entries in order (removed ones tombstoned with SX_UNBOUND keys),
 * plus an open-addressing index of entry positions. Keys compare with equal?. */
typedef struct {
  sx_obj h;
  size_t count;     /* live entries */
  size_t used;      /* entries slots used, including tombstones */
  size_t cap;       /* capacity of entries */
  size_t index_cap; /* power of two */
  sx_dict_entry *entries;
  int32_t *index; /* -1 empty, -2 deleted, else entry position */
} sx_dict;

/* Flags of a proto */
#define PROTO_REST 1   /* last parameter collects the remaining arguments */
#define PROTO_NOJIT 2  /* never compile natively (unsupported or failed for good) */
#define PROTO_QUEUED 4 /* a compile is pending */
#define PROTO_PINNED 8 /* its native code is pinned in the cache (jit-pin!) */
#define PROTO_BOXPARAM 16 /* some parameter is boxed (no entry into native code from a loop) */

typedef struct jit_entry jit_entry; /* owned by jit/, opaque here */

typedef struct sx_proto {
  sx_obj h;
  uint32_t *code;
  uint32_t ncode;
  uint16_t nparams; /* including the rest parameter */
  uint16_t nlocals; /* parameters + let-bound locals */
  uint16_t maxstack;
  uint16_t nfree;
  uint32_t nconsts;
  sx_val *consts;
  uint32_t *lines; /* source line per instruction word, or NULL */
  sx_val name;     /* symbol or nil */
  sx_val file;     /* string or nil */
  uint64_t id;     /* process-wide lambda id */
  int32_t calls;   /* call counter (calls, tail calls, loop iterations); negative = backed off */
  uint16_t evictions; /* times its native code was evicted: each doubles its threshold */
  uint16_t failures;  /* failed compiles */
  jit_entry *jit;  /* native code of this lambda, or NULL */
} sx_proto;

typedef struct {
  sx_obj h; /* aux = nfree */
  sx_proto *proto;
  sx_val free[];
} sx_closure;

typedef sx_val (*sx_cfn)(sx_state *S, int argc, sx_val *argv);

/* Argument kinds, from spec/primitives.sx; checked by the VM before a primitive runs. */
typedef enum {
  K_ANY = 0,
  K_NUMBER,
  K_INTEGER,
  K_STRING,
  K_SYMBOL,
  K_KEYWORD,
  K_CHAR,
  K_PAIR,
  K_LIST,
  K_VECTOR,
  K_DICT,
  K_PROCEDURE,
  K_BOOLEAN,
  K_ERROR,
  K_ENV,
  K_ARRAY,
  K_NAMELIKE, /* string, symbol or keyword */
  K_NKINDS
} sx_kind;

typedef struct {
  const char *name;
  int min, max; /* max = -1: variadic */
  const uint8_t *kinds; /* kinds of positional args; the last one repeats for rest args */
  int nkinds;
  const char *doc;
  int lib; /* defined in lib/prelude.sx, not C */
} sx_prim_spec;

typedef struct {
  sx_obj h;
  sx_cfn fn;
  const sx_prim_spec *spec;
  void *userdata; /* for host-registered functions */
  sx_val name;    /* symbol */
} sx_prim;

#define CELL_CONST 1 /* a builtin: the compiler may inline it; set!/define cannot change it */
typedef struct {
  sx_obj h;
  sx_val value;
  sx_val name;
} sx_cell;

typedef struct {
  sx_obj h;
  sx_val value;
} sx_box;

/* Flags of an error value */
#define ERR_SYNTAX 1 /* raised by the reader */
#define ERR_SHOWN 2  /* the message already includes the irritants */
#define ERR_LIMIT 4  /* a limit (interrupt, fuel, deadline, memory): try cannot catch it */
#define ERR_MEMORY 8 /* with ERR_LIMIT: the memory limit (heap cap or allocation quota) */
typedef struct {
  sx_obj h;
  sx_val message;   /* string */
  sx_val irritants; /* list */
  sx_val backtrace; /* list of strings "name (file:line)" */
  sx_val payload;   /* what was raised when it was not an error value */
  sx_val where;     /* "file:line:col" string of the raising form, or nil */
} sx_error;

typedef struct sx_env {
  sx_obj h;
  struct sx_env *parent;
  size_t count, cap; /* open addressing by symbol identity */
  sx_val *keys;      /* symbols */
  sx_cell **cells;
} sx_env;

typedef struct {
  sx_obj h;
  sx_val proc;
  sx_val name;
} sx_macro;

/* ---- accessors -------------------------------------------------------------------------------- */

#define PAIR(v) ((sx_pair *)(uintptr_t)(v))
#define STR(v) ((sx_string *)(uintptr_t)(v))
#define SYM(v) ((sx_symbol *)(uintptr_t)(v))
#define VEC(v) ((sx_vector *)(uintptr_t)(v))
#define DICT(v) ((sx_dict *)(uintptr_t)(v))
#define PROTO(v) ((sx_proto *)(uintptr_t)(v))
#define CLOSURE(v) ((sx_closure *)(uintptr_t)(v))
#define PRIM(v) ((sx_prim *)(uintptr_t)(v))
#define CELL(v) ((sx_cell *)(uintptr_t)(v))
#define BOX(v) ((sx_box *)(uintptr_t)(v))
#define ERR(v) ((sx_error *)(uintptr_t)(v))
#define ENV(v) ((sx_env *)(uintptr_t)(v))
#define MACRO(v) ((sx_macro *)(uintptr_t)(v))

static inline bool sx_is_pair(sx_val v) { return sx_is_type(v, T_PAIR); }
static inline bool sx_is_flonum(sx_val v) { return sx_is_type(v, T_FLONUM); }
static inline bool sx_is_number(sx_val v) { return sx_is_fixnum(v) || sx_is_flonum(v); }
static inline bool sx_is_string(sx_val v) { return sx_is_type(v, T_STRING); }
static inline bool sx_is_symbol(sx_val v) { return sx_is_type(v, T_SYMBOL); }
static inline bool sx_is_keyword(sx_val v) { return sx_is_type(v, T_KEYWORD); }
static inline bool sx_is_vector(sx_val v) { return sx_is_type(v, T_VECTOR); }
static inline bool sx_is_dict(sx_val v) { return sx_is_type(v, T_DICT); }
static inline bool sx_is_closure(sx_val v) { return sx_is_type(v, T_CLOSURE); }
static inline bool sx_is_prim(sx_val v) { return sx_is_type(v, T_PRIM); }
static inline bool sx_is_procedure(sx_val v) { return sx_is_closure(v) || sx_is_prim(v); }
static inline bool sx_is_error(sx_val v) { return sx_is_type(v, T_ERROR); }
static inline double sx_flo(sx_val v) { return ((sx_flonum *)(uintptr_t)v)->d; }
static inline sx_val sx_car(sx_val v) { return PAIR(v)->car; }
static inline sx_val sx_cdr(sx_val v) { return PAIR(v)->cdr; }

/* Whether v is of argument kind `kind` (the primitive table's argument checks). */
static inline bool sx_kind_ok(uint8_t kind, sx_val v) {
  switch (kind) {
  case K_ANY: return true;
  case K_NUMBER: return sx_is_number(v);
  case K_INTEGER: return sx_is_fixnum(v);
  case K_STRING: return sx_is_string(v);
  case K_SYMBOL: return sx_is_symbol(v);
  case K_KEYWORD: return sx_is_keyword(v);
  case K_CHAR: return sx_is_char(v);
  case K_PAIR: return sx_is_pair(v);
  case K_LIST: return sx_is_pair(v) || sx_is_listend(v);
  case K_VECTOR: return sx_is_vector(v);
  case K_DICT: return sx_is_dict(v);
  case K_PROCEDURE: return sx_is_procedure(v);
  case K_BOOLEAN: return v == SX_TRUE || v == SX_FALSE;
  case K_ERROR: return sx_is_error(v);
  case K_ENV: return sx_is_type(v, T_ENV);
  case K_ARRAY: return sx_is_type(v, T_ARRAY);
  case K_NAMELIKE: return sx_is_string(v) || sx_is_symbol(v) || sx_is_keyword(v);
  }
  return false;
}

#endif
