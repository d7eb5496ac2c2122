/* sx.h — the public embedding API of SX.
 *
 * A host opens a state, evaluates source in it and closes it. Every call takes the state
 * explicitly; one state is used by one thread at a time. No call aborts or exits on bad input:
 * errors come back as a status code with the message in sx_error_message().
 *
 * Boehm GC: SX initialises the collector itself on the first sx_open (GC_INIT) — call sx_open
 * from the main thread first, or call GC_INIT yourself before it. Values held only in memory the
 * collector cannot see (malloc'd host structures) are not kept alive.
 */
#ifndef SX_H
#define SX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SX_VERSION_MAJOR 0
#define SX_VERSION_MINOR 1
#define SX_VERSION_PATCH 0

#define SX_API __attribute__((visibility("default")))

typedef struct sx_state sx_state;
typedef uint64_t sx_value;

typedef enum {
  SX_OK = 0,
  SX_ERR_SYNTAX,
  SX_ERR_RUNTIME,
  SX_ERR_MEMORY,
  SX_ERR_LIMIT,
  SX_ERR_INTERRUPTED,
} sx_status;

/* Limits on what one evaluation (one sx_eval_string / sx_eval_file / sx_call from the host)
 * may use. Running out is an error the script's try cannot catch (its finally clauses still run,
 * under a small fuel allowance of their own); the state stays usable afterwards. */
typedef struct sx_limits {
  uint64_t fuel;       /* loop back edges + tail calls, in both tiers (0 = unlimited): a run that
                          never ends must pay fuel or overflow the stack -> SX_ERR_LIMIT */
  double deadline_ms;  /* wall-clock time (0 = none) -> SX_ERR_LIMIT */
  size_t alloc_quota;  /* bytes allocated through SX (0 = none) -> SX_ERR_MEMORY */
  size_t heap_limit;   /* live-heap cap for the whole process, as Boehm has one heap
                          (0 = none; the smallest non-zero cap of all states wins) -> SX_ERR_MEMORY */
} sx_limits;

typedef struct sx_config {
  size_t max_frames;   /* VM call depth limit (0 = default 200000) */
  size_t stack_values; /* VM operand stack size in values (0 = default 16M) */
  int capabilities;    /* SX_CAP_* flags */
  /* native tier: calls before a lambda is compiled (0 = default, < 0 = tier off), code cache
     budget in entries (0 = default 5000, < 0 = no cache), compile on the calling thread */
  int jit_threshold;
  int jit_budget;
  int jit_sync;
  const char *jit_cache_dir; /* on-disk code cache (NULL: $SX_JIT_CACHE_DIR, else none) */
  /* output of display/write/print; NULL = stdout */
  void (*write)(void *ud, const char *s, size_t n);
  void *write_ud;
  sx_limits limits;
} sx_config;

#define SX_CAP_IO 1      /* read-file write-file file-exists? load */
#define SX_CAP_PROCESS 2 /* getenv command-line exit */
#define SX_CAP_NATIVE 4  /* the libgccjit native tier */
#define SX_CAP_DISK_CACHE 8 /* the on-disk code cache */
#define SX_CAP_ALL (SX_CAP_IO | SX_CAP_PROCESS | SX_CAP_NATIVE | SX_CAP_DISK_CACHE)

SX_API const char *sx_version(void);

/* cfg may be NULL: defaults, with every capability off. */
SX_API sx_state *sx_open(const sx_config *cfg);
SX_API void sx_close(sx_state *S);

/* Reads and evaluates every form of src; *out (may be NULL) receives the last value. */
SX_API sx_status sx_eval_string(sx_state *S, const char *src, const char *chunkname,
                                sx_value *out);
SX_API sx_status sx_eval_file(sx_state *S, const char *path, sx_value *out);

/* The last error: message (with FILE:LINE:COL: prefix when known) and SX backtrace. */
SX_API const char *sx_error_message(sx_state *S);
SX_API const char *sx_error_backtrace(sx_state *S);

/* write (readable) or display form of a value; the string lives until the next call. */
SX_API const char *sx_to_string(sx_state *S, sx_value v, int readable);

/* Replaces the limits of later evaluations. */
SX_API void sx_set_limits(sx_state *S, const sx_limits *limits);

/* Stops the running evaluation of S with SX_ERR_INTERRUPTED (try cannot catch it; finally
 * clauses run). Callable from another thread or a signal handler. */
SX_API void sx_interrupt(sx_state *S);

/* The arguments a script sees from (command-line). */
SX_API void sx_set_command_line(sx_state *S, int argc, char **argv);

/* Runs the conformance test files (recursing into folders); prints failures and a final line
 * "N passed, N failed[, N skipped]". Returns the number of failures. */
SX_API int sx_run_tests(sx_state *S, int npaths, char **paths, int verbose);

/* ---- for interactive tools: the REPL, completion, documentation (vm/api_repl.c) ---------- */

/* Globals of the program's top level (where sx_eval_string runs, over the builtins).
 * sx_get_global gives SX_ERR_RUNTIME when name is unbound; a macro's value is its macro object.
 * sx_set_global defines or replaces name there (shadowing a builtin, as define does). */
SX_API sx_status sx_get_global(sx_state *S, const char *name, sx_value *out);
SX_API sx_status sx_set_global(sx_state *S, const char *name, sx_value v);

/* Finds the next form in src[pos..len) without evaluating anything. Returns 1 with *end set so
 * that src[pos..*end) holds the form (and any blanks or comments before it) — give that text to
 * sx_eval_string to run the forms of an input one by one; 0 when only blanks and comments
 * remain; -1 on a syntax error (the message in sx_error_message). */
SX_API int sx_next_form(sx_state *S, const char *src, size_t len, size_t pos,
                        const char *chunkname, size_t *end);

/* "(NAME ARG-KINDS...)  one-line doc" for a primitive or library procedure, from
 * spec/primitives.sx; NULL for other names. Lives as long as it is referenced (collected). */
SX_API const char *sx_doc(sx_state *S, const char *name);

/* The bytecode listing of a procedure (of a macro's transformer for a macro), its nested
 * lambdas included; NULL with the reason in sx_error_message for primitives and non-procedures. */
SX_API const char *sx_disassemble(sx_state *S, sx_value fn);

#define SX_GLOBALS_USER 1    /* the program's own definitions */
#define SX_GLOBALS_BUILTIN 2 /* primitives and library procedures (internal %names left out) */
#define SX_GLOBALS_SPECIAL 4 /* special-form keywords; v is 0 for these */
/* Calls fn once per bound global of the chosen sets, in no particular order. fn must not
 * define or evaluate anything in S (printing values with sx_to_string is fine). */
SX_API void sx_globals(sx_state *S, int which,
                       void (*fn)(void *ud, const char *name, sx_value v), void *ud);

/* Drops an sx_interrupt that arrived after the evaluation it was meant for had finished; a REPL
 * calls it after each evaluation so that a late Ctrl-C cannot stop the next one. */
SX_API void sx_clear_interrupt(sx_state *S);

/* Bytes the collector has allocated since the process started, all states together (Boehm has
 * one heap per process): sample it before and after a call to see what the call allocated. */
SX_API uint64_t sx_allocated_bytes(sx_state *S);

#ifdef __cplusplus
}
#endif
#endif
