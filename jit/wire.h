/* wire.h — the host <-> compile server protocol (wire.c).
 *
 * on start the server writes u64 layout id (jit_layout_id), which the host checks; then
 * request:  u32 njobs, u32 pathlen, path bytes, then njobs shapes
 * answer:   i32 status (0 ok), f64 ms, u8 lowered[njobs], u32 errlen, err bytes
 * The server writes one shared object holding sx_lambda_0 .. sx_lambda_{njobs-1} at path. */
#ifndef SX_JIT_WIRE_H
#define SX_JIT_WIRE_H

#include "jit_internal.h"

#define JIT_WIRE_MAX_JOBS 64

SX_INTERNAL bool jit_write_all(int fd, const void *buf, size_t n);
SX_INTERNAL bool jit_read_all(int fd, void *buf, size_t n);
SX_INTERNAL bool jit_send_shape(int fd, const jit_shape *s);
SX_INTERNAL jit_shape *jit_recv_shape(int fd);
SX_INTERNAL uint64_t jit_layout_id(void);

#endif
