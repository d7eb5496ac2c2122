/* wire.h — the host <-> compile server protocol (wire.c).
 *
 * on start the server writes u64 layout id (jit_layout_id), which the host checks; then
 * request:  u32 njobs, then njobs shapes
 * answer:   i32 status (0 ok), f64 ms, u8 lowered[njobs], u32 errlen, err bytes,
 *           u32 objlen, objlen bytes: the compiled object (image.h) holding sx_lambda_0 ..
 *           sx_lambda_{njobs-1}, or nothing when the compile failed.
 * Objects travel over the pipe, so the host keeps no files and no temporary directory. */
#ifndef SX_JIT_WIRE_H
#define SX_JIT_WIRE_H

#include "jit_internal.h"

#define JIT_WIRE_MAX_JOBS 64
/* A lambda of this many instructions or more is compiled alone, at -O1 (see lower.c). */
#define JIT_BIG_LAMBDA 80
#define JIT_WIRE_MAX_OBJECT (64u << 20)
#define JIT_WIRE_PROTOCOL 2 /* part of the layout id: a server speaking another protocol is refused */

SX_INTERNAL bool jit_write_all(int fd, const void *buf, size_t n);
SX_INTERNAL bool jit_read_all(int fd, void *buf, size_t n);
/* The whole file at path (malloc'd), at most max bytes; NULL when it cannot be read. */
SX_INTERNAL uint8_t *jit_read_file(const char *path, size_t max, size_t *len);
SX_INTERNAL bool jit_send_shape(int fd, const jit_shape *s);
SX_INTERNAL jit_shape *jit_recv_shape(int fd);
SX_INTERNAL uint64_t jit_layout_id(void);

#endif
