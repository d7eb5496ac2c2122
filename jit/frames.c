/* frames.c — compiled frames in backtraces.
 *
 * Calls between compiled lambdas push no VM frames, and errors leave compiled code by longjmp,
 * so a backtrace finds compiled frames on the C stack itself, while the error is raised and
 * before the longjmp: libgcc's unwinder walks the stack (every loaded object's unwind table is
 * registered with it first, once), and for each frame gives the return address and rbx.
 * Compiled code keeps its own closure in rbx across every call it makes and records each call
 * site in the object (mark_call in lower.c), so a frame whose rbx holds a closure whose native
 * code contains the return address is that lambda, stopped at the SX instruction the call site
 * names. Anything else (C frames of the runtime, a closure in rbx that does not match) is
 * skipped: a frame is left out rather than named wrongly. Only errors pay for this; compiled
 * code runs as before. x86-64 only (elsewhere the backtrace names the innermost compiled
 * lambda, noted by compiled code before each runtime call). */
#include <gc/gc.h>
#include <stdlib.h>
#include <unwind.h>

#include "jit_internal.h"
#include "worker.h"

#define WALK_MAX 200000 /* frames: more than an 8 MB stack of compiled frames holds */
#define DWARF_RBX 3

typedef struct {
  vm_native_run *run;
  jit_frame *out;
  int n, cap, steps;
} walk;

/* v as a closure, or NULL; v may be any word, so it is checked to start a collected object
 * before anything is read through it. */
static sx_closure *closure_at(sx_val v) {
  if (!sx_is_ptr(v) || GC_base((void *)v) != (void *)v) return NULL;
  return sx_is_closure(v) ? CLOSURE(v) : NULL;
}

static _Unwind_Reason_Code visit(struct _Unwind_Context *c, void *arg) {
  walk *w = arg;
  if (++w->steps > WALK_MAX) return _URC_END_OF_STACK;
  uintptr_t cfa = _Unwind_GetCFA(c);
  while (w->run && cfa > (uintptr_t)w->run) w->run = w->run->prev; /* left that entry's frames */
  if (!w->run) return _URC_END_OF_STACK;                            /* no compiled code further out */
  uintptr_t ra = _Unwind_GetIP(c);
  sx_closure *cl = closure_at((sx_val)_Unwind_GetGR(c, DWARF_RBX));
  struct jit_entry *e = cl ? cl->proto->jit : NULL;
  jit_object *obj = e && e->code ? e->code->obj : NULL;
  uint32_t pc;
  if (!obj || ra <= obj->lo || ra > obj->hi || !jit_image_call_site(obj->img, ra, &pc))
    return _URC_NO_REASON;
  if (w->n == w->cap) {
    int cap = w->cap ? 2 * w->cap : 32;
    jit_frame *out = realloc(w->out, (size_t)cap * sizeof(jit_frame));
    if (!out) return _URC_END_OF_STACK;
    w->out = out, w->cap = cap;
  }
  w->out[w->n++] = (jit_frame){cl, pc, w->run->mark};
  return _URC_NO_REASON;
}

int jit_native_frames(sx_state *S, jit_frame **out) {
  *out = NULL;
  if (!S->native_runs || !JIT_IMAGE_RELOCATABLE) return 0;
  walk w = {S->native_runs, NULL, 0, 0, 0};
  jit_register_unwind_tables();
  _Unwind_Backtrace(visit, &w);
  *out = w.out;
  return w.n;
}
