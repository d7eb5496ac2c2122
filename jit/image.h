/* image.h — compiled code loaded into the host: the compile server's output file made
 * executable (image.c). */
#ifndef SX_JIT_IMAGE_H
#define SX_JIT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vm/config.h"

/* What sx-jitc writes: a relocatable object where image.c can load one itself (x86-64), a
 * shared object for dlopen elsewhere. Part of the file names in the disk cache. */
#if defined(__x86_64__) && defined(__ELF__)
#define JIT_IMAGE_RELOCATABLE 1
#define JIT_IMAGE_EXT "o"
#else
#define JIT_IMAGE_RELOCATABLE 0
#define JIT_IMAGE_EXT "so"
#endif

typedef struct jit_image jit_image;

/* Loads the object in buf[0..len) (the caller keeps buf), or the file at path; NULL with a
 * reason in err when it is not a loadable object. */
SX_INTERNAL jit_image *jit_image_from_memory(const uint8_t *buf, size_t len, char *err, size_t errlen);
SX_INTERNAL jit_image *jit_image_load(const char *path, char *err, size_t errlen);
/* The address of the global function name in the image, or NULL; its size in bytes. */
SX_INTERNAL void *jit_image_symbol(const jit_image *im, const char *name);
SX_INTERNAL size_t jit_image_symbol_size(const jit_image *im, const char *name);
/* The address range the image occupies and the bytes it maps. */
SX_INTERNAL void jit_image_extent(const jit_image *im, uintptr_t *lo, uintptr_t *hi, size_t *bytes);
SX_INTERNAL void jit_image_free(jit_image *im);
/* The SX instruction whose call returns to ra in the image (the lowering marks every call it
 * emits with one within JIT_CALL_SITE_SLACK bytes after it); false when there is none. */
SX_INTERNAL bool jit_image_call_site(const jit_image *im, uintptr_t ra, uint32_t *pc);
#define JIT_CALL_SITE_SLACK 64
/* Makes the image's unwind table known to the unwinder (once; taken back when it is freed). */
SX_INTERNAL void jit_image_register_unwind(jit_image *im);

#endif
