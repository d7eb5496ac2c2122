/* config.h — build-time switches and the one macro that hides internal names from libsx.so. */
#ifndef SX_CONFIG_H
#define SX_CONFIG_H

/* Debug switches (0 in normal builds; turn on with -DSX_DEBUG_...=1). */
#ifndef SX_DEBUG_TRACE
#define SX_DEBUG_TRACE 0 /* print every executed instruction */
#endif
#ifndef SX_DEBUG_GC_STRESS
#define SX_DEBUG_GC_STRESS 0 /* collect at every SX allocation */
#endif
#ifndef SX_DEBUG_JIT_DUMP
#define SX_DEBUG_JIT_DUMP 0 /* dump libgccjit IR of each compile */
#endif

/* Bytes allocated at least between two collections (vm/gc.c). */
#ifndef SX_GC_MIN_ALLOC
#define SX_GC_MIN_ALLOC (2u << 20)
#endif

/* Internal cross-file functions: visible inside libsx, not exported from libsx.so. */
#define SX_INTERNAL __attribute__((visibility("hidden")))

#define SX_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define SX_LIKELY(x) __builtin_expect(!!(x), 1)
#define SX_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SX_NORETURN __attribute__((noreturn))
#else
#define SX_LIKELY(x) (x)
#define SX_UNLIKELY(x) (x)
#define SX_NORETURN
#endif

#endif
