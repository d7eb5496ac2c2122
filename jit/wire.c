/* wire.c — what the host and the compile server (sx-jitc) exchange: shapes of lambdas one
 * way, a status and the compiled object the other. Shared by libsx and sx-jitc. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stddef.h>

#include "wire.h"
#include "rt.h"

bool jit_write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= (size_t)k;
  }
  return true;
}

bool jit_read_all(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n) {
    ssize_t k = read(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= (size_t)k;
  }
  return true;
}

uint8_t *jit_read_file(const char *path, size_t max, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  *len = 0;
  if (fd < 0) return NULL;
  uint8_t *buf = NULL;
  if (fstat(fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size <= max && (buf = malloc((size_t)st.st_size))) {
    size_t got = 0;
    while (got < (size_t)st.st_size) {
      ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
      if (r <= 0) break;
      got += (size_t)r;
    }
    if (got == (size_t)st.st_size) *len = got;
    else free(buf), buf = NULL;
  }
  close(fd);
  return buf;
}

typedef struct {
  uint32_t ncode;
  uint16_t nparams, nlocals, maxstack, flags;
} wire_shape;

bool jit_send_shape(int fd, const jit_shape *s) {
  wire_shape w = {s->ncode, s->nparams, s->nlocals, s->maxstack, s->flags};
  return jit_write_all(fd, &w, sizeof w) && jit_write_all(fd, s->code, s->ncode * sizeof(uint32_t)) &&
         jit_write_all(fd, s->aux, s->ncode * sizeof(uint16_t));
}

jit_shape *jit_recv_shape(int fd) {
  wire_shape w;
  if (!jit_read_all(fd, &w, sizeof w) || w.ncode == 0 || w.ncode > (1u << 24)) return NULL;
  jit_shape *s = calloc(1, sizeof(jit_shape));
  if (!s) return NULL;
  s->ncode = w.ncode;
  s->nparams = w.nparams;
  s->nlocals = w.nlocals;
  s->maxstack = w.maxstack;
  s->flags = w.flags;
  s->code = malloc(w.ncode * sizeof(uint32_t));
  s->aux = malloc(w.ncode * sizeof(uint16_t));
  if (!s->code || !s->aux || !jit_read_all(fd, s->code, w.ncode * sizeof(uint32_t)) ||
      !jit_read_all(fd, s->aux, w.ncode * sizeof(uint16_t))) {
    jit_shape_free(s);
    return NULL;
  }
  return s;
}

void jit_shape_free(jit_shape *s) {
  if (!s) return;
  free(s->code);
  free(s->aux);
  free(s);
}

/* Everything compiled code takes from the build it was compiled against: offsets into the
 * state and the objects it touches, sizes, and the opcode list. sx-jitc announces its value
 * when it starts; a host built from other sources refuses it (its code would read the wrong
 * fields). */
uint64_t jit_layout_id(void) {
  static const uint64_t parts[] = {
      sizeof(sx_state), offsetof(sx_state, rt), offsetof(sx_state, cstack_limit), offsetof(sx_state, native_limit),
      offsetof(sx_state, interrupt), offsetof(sx_state, fuel), offsetof(sx_state, tail_fn),
      offsetof(sx_state, tail_argc), offsetof(sx_state, tail_args), offsetof(sx_state, native_self),
      offsetof(sx_state, native_pc),
      offsetof(sx_state, jmp), sizeof(vm_native_try), offsetof(vm_native_try, buf), offsetof(vm_jmp_head, prev),
      offsetof(sx_state, free_small), offsetof(sx_state, alloc_used), offsetof(sx_state, alloc_quota),
      VM_SMALL_BYTES, offsetof(sx_pair, car), offsetof(sx_flonum, d), offsetof(sx_state, free_sized),
      VM_SIZED_CLASSES, VM_SIZED_BYTES(0), sizeof(sx_closure), offsetof(sx_obj, aux),
      offsetof(sx_closure, proto), offsetof(sx_closure, free), offsetof(sx_proto, consts),
      offsetof(sx_proto, jit), offsetof(struct jit_entry, fn), offsetof(struct jit_entry, arity),
      offsetof(struct jit_entry, nfixed), offsetof(struct jit_entry, rest),
      sizeof(sx_pair), sizeof(sx_flonum), offsetof(sx_vector, len), offsetof(sx_vector, items),
      offsetof(sx_cell, value), offsetof(sx_box, value), OP__COUNT, RT_COUNT, T_NTYPES,
      SX_VERSION_MAJOR, SX_VERSION_MINOR, JIT_WIRE_PROTOCOL};
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) h = (h ^ parts[i]) * 0x100000001b3ull;
  return h;
}
