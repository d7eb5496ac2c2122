/* error.c — the one road errors take: raising, backtraces, and the protected runner.
 *
 * Every error — from a primitive, the VM, the reader or the compiler — is a value passed to
 * vm_raise, which longjmps to the innermost protected point (vm_protect here, or a VM run that
 * owns try handlers). The public API turns an unhandled one into a status code and text. */
#include <stdlib.h>
#include <string.h>

#include "state.h"

/* The source position of instruction i of p. */
static bool code_pos(sx_proto *p, long i, sx_val *file, uint32_t *pos) {
  if (!p->lines) return false;
  if (i < 0) i = 0;
  if ((uint32_t)i >= p->ncode) i = (long)p->ncode - 1;
  *file = p->file;
  *pos = p->lines[i];
  return true;
}

/* The position "file:line:col" of the instruction a frame is executing. */
static bool frame_pos(vm_frame *f, sx_val *file, uint32_t *pos) {
  if (!f->cl || !f->pc) return false;
  return code_pos(f->cl->proto, f->pc - f->cl->proto->code - 1, file, pos);
}

/* The compiled frames of a backtrace, found on the C stack (jit_native_frames), innermost
 * first, each above the VM frame depth where native code was entered. */
typedef struct {
  jit_frame *nat;
  int nn;
} native_frames;

static native_frames find_native_frames(sx_state *S) {
  native_frames nf = {NULL, 0};
  if (!S->native_runs) return nf;
  nf.nn = jit_native_frames(S, &nf.nat);
  if (nf.nn == 0 && S->native_self && (nf.nat = malloc(sizeof(jit_frame)))) {
    /* the unwinder found nothing: the compiled lambda that made the runtime call, at least */
    nf.nat[0] = (jit_frame){S->native_self, S->native_pc ? (uint32_t)S->native_pc - 1 : 0,
                            S->native_runs->mark};
    nf.nn = 1;
  }
  return nf;
}

/* "name (file:line)" */
static sx_val frame_line(sx_state *S, sx_proto *p, bool known, sx_val file, uint32_t pos) {
  vm_buf b = {0};
  if (sx_is_symbol(p->name)) {
    sx_string *nm = STR(SYM(p->name)->name);
    vm_buf_add(&b, nm->data, nm->nbytes);
  } else {
    vm_buf_add(&b, "<lambda>", 8);
  }
  if (known && sx_is_string(file)) vm_buf_printf(&b, " (%s:%u)", STR(file)->data, POS_LINE(pos));
  else if (known) vm_buf_printf(&b, " (line %u)", POS_LINE(pos));
  sx_val line = vm_string(S, b.buf ? b.buf : "", b.len);
  vm_buf_free(&b);
  return line;
}

/* The SX frames, innermost first, as a list of strings "name (file:line)": the VM's frames with
 * the compiled ones merged in where they were entered. Deep stacks keep the innermost 20 and
 * outermost 5 frames. */
static sx_val backtrace_of(sx_state *S, const native_frames *nf) {
  uint32_t n = S->nframes;
  /* the frames to show, outermost first: VM frame i as i, compiled frame j as -1 - j */
  int64_t *shown = malloc(((size_t)n + (size_t)nf->nn + 1) * sizeof(int64_t));
  if (!shown) return SX_EMPTY;
  uint32_t total = 0, i = 0;
  for (int j = nf->nn - 1; i < n || j >= 0;) {
    if (j >= 0 && (i >= n || nf->nat[j].mark <= i)) shown[total++] = -1 - (int64_t)j--;
    else if (S->frames[i++].cl) shown[total++] = (int64_t)i - 1; /* a frame left by a tail call has none */
  }
  sx_val out = SX_EMPTY; /* consed outermost first, so the list ends innermost first */
  for (uint32_t k = 0; k < total; k++) {
    if (total > 25 && k >= 5 && k < total - 20) {
      if (k == 5) {
        char buf[64];
        snprintf(buf, sizeof buf, "... %u more frames ...", total - 25);
        out = vm_cons(S, vm_cstring(S, buf), out);
      }
      continue;
    }
    sx_val file = SX_NIL;
    uint32_t pos = 0;
    if (shown[k] < 0) {
      const jit_frame *nat = &nf->nat[-1 - shown[k]];
      bool known = code_pos(nat->cl->proto, nat->pc, &file, &pos);
      out = vm_cons(S, frame_line(S, nat->cl->proto, known, file, pos), out);
    } else {
      vm_frame *f = &S->frames[shown[k]];
      bool known = frame_pos(f, &file, &pos);
      out = vm_cons(S, frame_line(S, f->cl->proto, known, file, pos), out);
    }
  }
  free(shown);
  return out;
}

sx_val vm_backtrace(sx_state *S) {
  native_frames nf = find_native_frames(S);
  sx_val out = backtrace_of(S, &nf);
  free(nf.nat);
  return out;
}

static sx_val pos_string(sx_state *S, sx_val file, uint32_t pos) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s:%u:%u", sx_is_string(file) ? STR(file)->data : "<input>",
           POS_LINE(pos), POS_COL(pos));
  return vm_cstring(S, buf);
}

/* Where the error happened: the innermost frame that knows its position, compiled or not. */
static sx_val where_now(sx_state *S, const native_frames *nf) {
  sx_val file;
  uint32_t pos;
  if (nf->nn && nf->nat[0].mark >= S->nframes &&
      code_pos(nf->nat[0].cl->proto, nf->nat[0].pc, &file, &pos) && POS_LINE(pos))
    return pos_string(S, file, pos);
  for (uint32_t i = S->nframes; i-- > 0;)
    if (frame_pos(&S->frames[i], &file, &pos) && POS_LINE(pos)) return pos_string(S, file, pos);
  return SX_NIL;
}

void vm_raise_as(sx_state *S, sx_val v, vm_raise_kind kind) {
  if (sx_is_error(v) && ERR(v)->backtrace == SX_EMPTY && (S->nframes || S->native_runs)) {
    native_frames nf = find_native_frames(S);
    ERR(v)->backtrace = backtrace_of(S, &nf);
    if (ERR(v)->where == SX_NIL) ERR(v)->where = where_now(S, &nf);
    free(nf.nat);
  }
  S->native_self = NULL;
  S->raised = v;
  S->raised_kind = kind;
  if (!S->jmp) {
    /* Unreachable through the API, which always runs under vm_protect. */
    fprintf(stderr, "sx: error raised outside any protected call\n");
    abort();
  }
  vm_jump(S);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SX_ASAN 1
void __asan_handle_no_return(void);
#endif
#endif

void vm_jump(sx_state *S) {
  vm_jmp_head *j = S->jmp;
  if (j->native) {
#ifdef SX_ASAN
    __asan_handle_no_return(); /* the frames jumped over leave no poisoned stack behind */
#endif
    __builtin_longjmp(j->native, 1);
  }
  longjmp(((vm_jmp *)j)->buf, 1);
}

void vm_raise(sx_state *S, sx_val v) {
  vm_raise_as(S, v, sx_is_error(v) && (ERR(v)->h.flags & ERR_LIMIT) ? RAISE_LIMIT : RAISE_ERROR);
}

void vm_limit_error(sx_state *S, const char *what) {
  sx_val e = vm_make_error(S, vm_cstring(S, what), SX_EMPTY);
  ERR(e)->h.flags |= ERR_LIMIT | ERR_SHOWN;
  vm_raise(S, e);
}

/* Called where the VM polls (calls, loops) once S->interrupt is set. */
void vm_poll(sx_state *S) {
  if (S->fuel <= 0) vm_fuel_slice(S);
  else vm_check_deadline(S);
  if (S->interrupt & 2) jit_safe_point(S); /* finished compiles to install */
  if (S->interrupt & 1) {
    __atomic_fetch_and(&S->interrupt, ~1, __ATOMIC_SEQ_CST);
    vm_limit_error(S, "interrupted");
  }
}

static SX_NORETURN void raise_message(sx_state *S, sx_val irritants, const char *fmt,
                                      va_list ap) {
  char buf[1024];
  vsnprintf(buf, sizeof buf, fmt, ap);
  size_t n = strlen(buf), nchars;
  while (!vm_utf8_valid(buf, n, &nchars)) buf[--n] = 0; /* a cut inside a UTF-8 sequence */
  sx_val e = vm_make_error(S, vm_string(S, buf, n), irritants);
  ERR(e)->h.flags |= ERR_SHOWN; /* the message already shows the irritants */
  vm_raise(S, e);
}

void vm_error(sx_state *S, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  raise_message(S, SX_EMPTY, fmt, ap);
}

void vm_error_irritant(sx_state *S, sx_val irritant, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  raise_message(S, vm_cons(S, irritant, SX_EMPTY), fmt, ap);
}

void vm_type_error(sx_state *S, const char *who, const char *expected, sx_val got, int argno) {
  char shown[80];
  sx_val s = vm_to_string(S, got, true);
  snprintf(shown, sizeof shown, "%s", STR(s)->data);
  if (STR(s)->nbytes >= sizeof shown) strcpy(shown + sizeof shown - 4, "...");
  if (argno > 0)
    vm_error_irritant(S, got, "%s: expected %s as argument %d, got %s", who, expected, argno,
                      shown);
  vm_error_irritant(S, got, "%s: expected %s, got %s", who, expected, shown);
}

/* Deep recursion in C (reader, printer, compiler, re-entered VM) ends in a clean error. */
void vm_check_cstack(sx_state *S) {
  char here;
  if (SX_UNLIKELY(&here < S->cstack_limit)) vm_error(S, "stack overflow (nesting too deep)");
}

void vm_save(sx_state *S, vm_saved *s) {
  *s = (vm_saved){S->sp, S->native_runs, S->cur_file, S->nframes, S->nhandlers, S->level,
                  S->native_depth, S->depth};
}

void vm_restore(sx_state *S, const vm_saved *s) {
  S->sp = s->sp;
  S->native_runs = s->native_runs;
  S->cur_file = s->file;
  S->nframes = s->nframes;
  S->nhandlers = s->nhandlers;
  S->level = s->level;
  S->native_depth = s->native_depth;
  S->depth = s->depth;
}

int vm_protect(sx_state *S, void (*fn)(sx_state *, void *), void *ud) {
  vm_jmp j;
  vm_saved saved;
  vm_save(S, &saved);
  j.h = (vm_jmp_head){S->jmp, NULL};
  S->jmp = &j.h;
  if (setjmp(j.buf) == 0) {
    fn(S, ud);
    S->jmp = j.h.prev;
    return 0;
  }
  S->jmp = j.h.prev;
  vm_restore(S, &saved);
  return 1;
}

/* "where: error: message irritants" plus the backtrace, malloc'd. */
char *vm_error_text(sx_state *S, sx_val err, bool with_trace) {
  vm_buf b = {0};
  if (sx_is_error(err)) {
    sx_error *e = ERR(err);
    if (sx_is_string(e->where)) vm_buf_printf(&b, "%s: ", STR(e->where)->data);
    vm_buf_add(&b, "error: ", 7);
    vm_print(S, &b, e->message, false);
    for (sx_val i = e->irritants; !(e->h.flags & ERR_SHOWN) && sx_is_pair(i); i = sx_cdr(i)) {
      vm_buf_addc(&b, ' ');
      vm_print(S, &b, sx_car(i), true);
    }
    if (with_trace && sx_is_pair(e->backtrace)) {
      vm_buf_add(&b, "\nbacktrace:", 11);
      for (sx_val t = e->backtrace; sx_is_pair(t); t = sx_cdr(t)) {
        vm_buf_add(&b, "\n  ", 3);
        vm_print(S, &b, sx_car(t), false);
      }
    }
  } else {
    vm_buf_add(&b, "error: uncaught raise: ", 23);
    vm_print(S, &b, err, true);
  }
  vm_buf_addc(&b, 0);
  return b.buf;
}
