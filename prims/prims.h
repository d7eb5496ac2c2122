/* prims.h — what primitive files share: the implementation table type and argument helpers.
 * Names, arities, argument kinds and docs come from spec/primitives.sx (prims/spec.gen.h). */
#ifndef SX_PRIMS_H
#define SX_PRIMS_H

#include "../vm/state.h"

typedef struct {
  const char *name;
  sx_cfn fn;
} prim_impl;

/* Each area file exports a NULL-terminated table. */
extern const prim_impl prim_numbers[], prim_lists[], prim_strings[], prim_data[], prim_system[],
    prim_jit[], prim_arrays[];

#define PRIM_FN(cname) static sx_val cname(sx_state *S, int argc, sx_val *argv)
#define UNUSED_ARGS ((void)S, (void)argc, (void)argv)
#define INT(i) sx_fixnum(argv[i])

/* An index argument in [0, n). */
SX_INTERNAL size_t prim_index(sx_state *S, const char *who, sx_val v, size_t n);
SX_INTERNAL sx_val prim_list_from_buf(sx_state *S, sx_val *items, size_t n);

#endif
