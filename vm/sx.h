/* sx.h — the public embedding API of SX.
 *
 * A host opens a state, evaluates source in it and closes it. Every call takes the state
 * explicitly; one state is used by one thread at a time. No call aborts or exits on bad input:
 * errors come back as a status code with the message in sx_error_message().
 *
 * Boehm GC: SX initialises the collector itself on the first sx_open (GC_INIT) — call sx_open
 * from the main thread first, or call GC_INIT yourself before it. Values held only in memory the
 * collector cannot see (malloc'd host structures) are not kept alive: hold them with sx_ref.
 * Threads: a state may move from one thread to another between calls, but every thread that
 * calls into SX must be known to the collector. The main thread is. A host that uses
 * SX from other threads calls sx_thread_register() once on the main thread (it switches the
 * collector to locked allocation), then at the start of each such thread, and
 * sx_thread_unregister() before that thread ends. sx_interrupt needs no registration.
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
#define SX_VERSION_NUMBER (SX_VERSION_MAJOR * 10000 + SX_VERSION_MINOR * 100 + SX_VERSION_PATCH)

/* ABI: SX_VERSION_* describe this header, sx_version() and sx_version_number() the library
 * actually loaded. Until 1.0 any MINOR release may change the binary interface (the layout of
 * sx_config and sx_limits, enum values), so a host built against 0.x.* needs a 0.x.* library
 * (compare sx_version_number() / 100 with SX_VERSION_NUMBER / 100 at start-up); PATCH releases
 * never change it. The soname stays libsx.so.0 until 1.0; from 1.0 on it follows MAJOR, which
 * is the only release that may break the ABI. Structs only grow at their end, so a host that
 * zero-initialises sx_config keeps compiling. sx_value is an opaque word: never test its bits. */

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
  /* input of read-line; NULL = standard input. Stores up to cap bytes in buf and returns how
     many, 0 at the end of the input (the script then reads nil) */
  size_t (*read)(void *ud, char *buf, size_t cap);
  void *read_ud;
} sx_config;

/* Capabilities: a primitive whose capability is off is not there at all (unbound variable),
 * not merely failing. Output (display, print...) and read-line always exist and go through the
 * write and read callbacks. */
#define SX_CAP_IO 1      /* read-file write-file file-exists? load */
#define SX_CAP_PROCESS 2 /* getenv command-line exit */
#define SX_CAP_NATIVE 4  /* the native tier (compiles in the separate program sx-jitc) */
#define SX_CAP_DISK_CACHE 8 /* the on-disk code cache (files under jit_cache_dir) */
#define SX_CAP_EVAL 16   /* eval eval-string make-env: code made at run time */
#define SX_CAP_ALL (SX_CAP_IO | SX_CAP_PROCESS | SX_CAP_NATIVE | SX_CAP_DISK_CACHE | SX_CAP_EVAL)
/* what sx_open(NULL) grants: nothing outside the state (no files, no process, no disk cache) */
#define SX_CAP_DEFAULT (SX_CAP_NATIVE | SX_CAP_EVAL)

SX_API const char *sx_version(void);

/* cfg may be NULL: defaults, with the capabilities SX_CAP_DEFAULT. With a cfg, exactly its
 * capabilities (a zeroed sx_config has none). NULL when the state cannot be made. */
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

/* ==== the embedding API proper: values, calls, host functions, references (vm/api_embed.c) ====
 *
 * Values belong to the state that made them. A value stays alive while the collector can see
 * it: on the C stack or in registers of a registered thread, in a global variable, inside
 * another live value, or held with sx_ref. Memory from malloc is invisible to the collector, so
 * a value kept only there must be held with sx_ref before the next call into S that may allocate
 * (any of them but the accessors), and let go with sx_unref.
 *
 * Constructors never raise and never abort: when they fail (invalid UTF-8, an integer out of
 * range, the memory limits) they return SX_NONE and leave the reason in sx_error_message().
 * Accessors check the type and answer 0 / NULL / SX_NONE for a value of another type. */

SX_API int sx_version_number(void); /* SX_VERSION_NUMBER of the library loaded */

#define SX_NONE ((sx_value)0) /* not a value: a failed constructor, a missing element */
#define SX_INTEGER_MAX ((int64_t)0x1fffffffffffffff) /* integers are 62-bit */
#define SX_INTEGER_MIN (-SX_INTEGER_MAX - 1)

typedef enum {
  SX_TYPE_NONE = 0, /* SX_NONE */
  SX_TYPE_NIL,
  SX_TYPE_BOOLEAN,
  SX_TYPE_INTEGER,
  SX_TYPE_FLOAT,
  SX_TYPE_CHAR,
  SX_TYPE_STRING,
  SX_TYPE_SYMBOL,
  SX_TYPE_KEYWORD,
  SX_TYPE_EMPTY, /* the empty list () */
  SX_TYPE_PAIR,
  SX_TYPE_VECTOR,
  SX_TYPE_DICT,
  SX_TYPE_ARRAY,
  SX_TYPE_PROCEDURE, /* closures, primitives, host functions */
  SX_TYPE_ERROR,
  SX_TYPE_HOST,
  SX_TYPE_OTHER, /* environments, macros, end of file */
} sx_type_tag;

SX_API sx_type_tag sx_type_of(sx_value v);
SX_API const char *sx_type_name(sx_value v); /* "integer", "string", ... as error messages say */
SX_API int sx_is_true(sx_value v);           /* anything but false and nil */

/* immediates: no allocation, no state */
SX_API sx_value sx_nil(void);
SX_API sx_value sx_make_bool(int b);
SX_API sx_value sx_empty_list(void);

/* SX_NONE on failure. Strings are UTF-8 with a length (n = (size_t)-1: up to the NUL) and may
 * hold NULs; symbol and keyword names are NUL-terminated UTF-8 (a keyword's leading ':' is
 * optional). Lists and vectors copy items; vector items may be NULL (all nil). An array is
 * rows x cols f64 elements, row-major (cols = 0: 1-D of rows elements), copied from data or
 * zero when data is NULL. */
SX_API sx_value sx_make_int(sx_state *S, int64_t n); /* SX_INTEGER_MIN ... SX_INTEGER_MAX */
SX_API sx_value sx_make_float(sx_state *S, double d);
SX_API sx_value sx_make_char(sx_state *S, uint32_t codepoint);
SX_API sx_value sx_make_string(sx_state *S, const char *s, size_t n);
SX_API sx_value sx_make_symbol(sx_state *S, const char *name);
SX_API sx_value sx_make_keyword(sx_state *S, const char *name);
SX_API sx_value sx_make_cons(sx_state *S, sx_value car, sx_value cdr);
SX_API sx_value sx_make_list(sx_state *S, size_t n, const sx_value *items);
SX_API sx_value sx_make_vector(sx_state *S, size_t n, const sx_value *items);
SX_API sx_value sx_make_dict(sx_state *S);
SX_API sx_value sx_make_array(sx_state *S, size_t rows, size_t cols, const double *data);

/* Accessors: 1 and *out set, or 0 for another type (sx_get_float takes integers too). Strings
 * and names point into the value: valid while it is alive, never to be written. */
SX_API int sx_get_bool(sx_value v, int *out);
SX_API int sx_get_int(sx_value v, int64_t *out);
SX_API int sx_get_float(sx_value v, double *out);
SX_API int sx_get_char(sx_value v, uint32_t *out);
SX_API const char *sx_get_string(sx_value v, size_t *nbytes); /* NUL-terminated too */
SX_API const char *sx_get_name(sx_value v); /* of a symbol or keyword (without the ':') */
SX_API sx_value sx_first(sx_value pair);    /* car, or SX_NONE when not a pair */
SX_API sx_value sx_rest(sx_value pair);     /* cdr, or SX_NONE when not a pair */
/* Elements of a proper list, vector, dict or array, code points of a string; -1 otherwise. */
SX_API int64_t sx_length(sx_value v);
SX_API sx_value sx_vector_ref(sx_value vec, size_t i); /* SX_NONE out of range */
SX_API sx_status sx_vector_set(sx_state *S, sx_value vec, size_t i, sx_value x);
SX_API sx_value sx_dict_get(sx_state *S, sx_value dict, sx_value key); /* SX_NONE: absent */
SX_API sx_status sx_dict_set(sx_state *S, sx_value dict, sx_value key, sx_value val);
SX_API sx_value sx_dict_keys(sx_state *S, sx_value dict); /* a list, in insertion order */
/* The f64 elements of an array of S (row-major) and its shape (cols 0 for 1-D), or NULL for
 * anything else or a freed array. Valid until the next allocation in S — a collection may find
 * the array dead unless the host keeps the value alive (C stack, sx_ref). */
SX_API double *sx_get_array(sx_state *S, sx_value a, size_t *rows, size_t *cols);

/* Opaque host pointers. tag names the kind of pointer (copied; compared as a string); the
 * finalizer (may be NULL) runs once, either from sx_host_release or when the collector finds the
 * value unreachable — then on whichever thread allocates, possibly after sx_close, so it must
 * not call SX. ptr is not traced by the collector. Scripts see #<host object> and can only pass
 * it around. sx_get_host answers ptr when v is a host value of this tag not yet released. */
SX_API sx_value sx_make_host(sx_state *S, void *ptr, const char *tag, void (*finalizer)(void *ptr));
SX_API void *sx_get_host(sx_value v, const char *tag);
SX_API const char *sx_host_tag(sx_value v); /* NULL when v is not a host value */
SX_API void sx_host_release(sx_state *S, sx_value v); /* finalizer now; sx_get_host: NULL */

/* References: the state keeps v alive until as many sx_unref as sx_ref calls (a count per
 * value). sx_ref returns v; sx_unref the references left, -1 when v held none. Immediates
 * (nil, booleans, integers, characters) need none but are accepted. */
SX_API sx_value sx_ref(sx_state *S, sx_value v);
SX_API int sx_unref(sx_state *S, sx_value v);

/* Calls a procedure, protected like sx_eval_string: a status, *out (may be NULL) the result.
 * From the host it runs under the state's limits; from inside a host function (C -> SX -> C ->
 * SX) it shares the running evaluation's budget. */
SX_API sx_status sx_call(sx_state *S, sx_value fn, int argc, const sx_value *argv, sx_value *out);

/* Host functions. fn gets the arguments (alive during the call) and returns a value — returning
 * SX_NONE (say, from a failed constructor) raises that failure. The VM checks the count against
 * min_args / max_args (max_args -1: any number). The function is a builtin of this state, seen
 * by every environment in it; registering the name again replaces fn and userdata everywhere, a
 * name that is already an SX builtin cannot be taken. At most SX_MAX_HOST_FUNCTIONS names per
 * state. Status SX_ERR_RUNTIME (message set) when refused. */
#define SX_MAX_HOST_FUNCTIONS 1024
typedef sx_value (*sx_cfunction)(sx_state *S, int argc, const sx_value *argv, void *userdata);
SX_API sx_status sx_register(sx_state *S, const char *name, sx_cfunction fn, int min_args,
                             int max_args, void *userdata);

/* Raise an SX error from a host function: the script's try can catch it; uncaught, the host's
 * sx_eval_string / sx_call returns SX_ERR_RUNTIME with this message. It does not return: it
 * unwinds through the host function's C frames (longjmp) — free what it holds first. Called
 * anywhere else (the main program, a write or read callback) it only records the message and
 * returns SX_NONE, so
 * `return sx_raise(S, ...);` is always right. sx_raise_value raises any value (re-raising
 * sx_last_error() passes a failed nested call's error on unchanged, limit errors included). */
SX_API sx_value sx_raise(sx_state *S, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
SX_API sx_value sx_raise_value(sx_state *S, sx_value v);
/* What the last failed call raised (an error value, or what raise was given), else nil. */
SX_API sx_value sx_last_error(sx_state *S);

/* A full collection now (what the script's (gc) does). */
SX_API void sx_gc(sx_state *S);

/* Collector registration of the calling thread (see the top of this file): 0 on success. On a
 * thread the collector knows already (the main thread) it enables registration of the others;
 * -1 on another thread before that was done. */
SX_API int sx_thread_register(void);
SX_API void sx_thread_unregister(void);

#ifdef __cplusplus
}
#endif
#endif
