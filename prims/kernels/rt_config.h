/* rt_config.h — force-included (-include) into wabt's wasm-rt-impl.c and the wasm2c output.
 * The runtime is built with WASM_RT_TRAP_HANDLER=arr_wasm_trap: a trap calls prims/array.c,
 * which unwinds to the kernel call that trapped in this thread, instead of wabt's one
 * process-wide jmp_buf (unsafe with two states running kernels in two threads). */
#ifndef SX_WASM_RT_CONFIG_H
#define SX_WASM_RT_CONFIG_H

#include <wasm-rt.h>

__attribute__((visibility("hidden"), noreturn)) void arr_wasm_trap(wasm_rt_trap_t code);

#endif
