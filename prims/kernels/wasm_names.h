/* wasm_names.h — the one place that spells the names wasm2c generates for prims/kernels/f64.wat.
 * wabt 1.0.32 names them Z_<module>Z_<export> and Z_<module>_instantiate; later wabt versions
 * spell them w2c_<module>_<export> and wasm2c_<module>_instantiate, so only this file changes
 * with wabt. The generated header f64.h lives in build/kernels/ (never committed). */
#ifndef SX_WASM_NAMES_H
#define SX_WASM_NAMES_H

#include "f64.h"

typedef Z_sx_f64_instance_t wasm_instance;           /* one per sx_state */
#define WASM_ENV struct Z_env_instance_t             /* what the host passes as the import env */
#define WASM_INIT_MODULE() Z_sx_f64_init_module()    /* once per process */
#define WASM_INSTANTIATE(inst, env) Z_sx_f64_instantiate(inst, env)
#define WASM_FREE(inst) Z_sx_f64_free(inst)
#define WASM_KERNEL(name) Z_sx_f64Z_##name           /* an exported kernel */
#define WASM_IMPORT(name) Z_envZ_##name              /* a host function the kernels import */

#endif
