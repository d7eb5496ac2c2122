/* disk.h — the on-disk code cache (disk.c). */
#ifndef SX_JIT_DISK_H
#define SX_JIT_DISK_H

#include "jit_internal.h"

SX_INTERNAL bool jit_disk_open(const char *dir, size_t limit);
SX_INTERNAL bool jit_disk_open_system(const char *dir);
SX_INTERNAL bool jit_disk_enabled(void);
SX_INTERNAL jit_image *jit_disk_load(const jit_shape *s, void **fn);
SX_INTERNAL void jit_disk_store(const jit_shape *s, const uint8_t *obj, size_t len);

#endif
