/* jit_internal.h — what the files of jit/ share: shapes (immutable snapshots of bytecode that
 * the compile worker reads), compiled objects and code, the per-state cache. */
#ifndef SX_JIT_INTERNAL_H
#define SX_JIT_INTERNAL_H

#include <pthread.h>

#include "../vm/state.h"
#include "image.h"
#include "jit.h"

/* What compiled code depends on, copied off the GC heap on the VM thread: the worker never
 * touches the collected heap. Equal shapes compile to interchangeable code. */
typedef struct jit_shape {
  uint32_t ncode;
  uint16_t nparams, nlocals, maxstack, flags;
  uint32_t *code;
  uint16_t *aux; /* per instruction: for CLOSURE the nfree of the proto it makes; for CONST,
                    AUX_FLONUM when the constant is a float (the lowering keeps floats unboxed),
                    AUX_FIXNUM when it is a fixnum (its checks are left out); for GLOBAL,
                    AUX_GLOBAL_SELF when the global held this very lambda when it got hot;
                    else 0 */
  uint64_t hash;
} jit_shape;

#define AUX_FLONUM 1
#define AUX_FIXNUM 2
#define AUX_GLOBAL_SELF 1

/* One libgccjit result (one compile, possibly of a batch): released when its last code goes
 * and no native frame can be running it. */
typedef struct jit_object {
  jit_image *img; /* the object the compile server wrote, loaded */
  int refs;
  size_t code_bytes;
  uintptr_t lo, hi; /* address range of its mappings: a return address in it means live */
  struct jit_object *next_dead;
} jit_object;

/* Compiled code for one shape, shared (reference counted) by every entry with that shape. */
struct jit_code {
  jit_shape *shape;
  void *fn;
  jit_object *obj;
  int refs;
  struct jit_code *next; /* in the dedup table bucket */
};

SX_INTERNAL jit_shape *jit_shape_of(sx_proto *p);
SX_INTERNAL void jit_shape_free(jit_shape *s);
SX_INTERNAL bool jit_shape_equal(const jit_shape *a, const jit_shape *b);
SX_INTERNAL bool jit_can_compile(sx_proto *p);


#endif
