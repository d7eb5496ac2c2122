/* image.c — loads the compile server's output into executable memory.
 *
 * On x86-64 sx-jitc writes a relocatable object (.o), not a shared library: libgccjit's link
 * step (its driver running collect2 and ld) is half the fixed cost of a compile (measured: a
 * one-line function takes ~20 ms to a .so and ~10 ms to a .o). The host then does the little
 * that ld and ld.so would have done: it places the allocated sections in the code arena (below)
 * or a mapping of their own, applies the relocations GCC emits, and runs the code from memory
 * that is never writable and executable at once. Neither the dynamic linker's list of objects
 * nor Boehm's root sets ever see that memory. Errors leave compiled code by longjmp, but a
 * backtrace walks through it: its unwind table (.eh_frame) is loaded and registered with the
 * unwinder, and its table of call sites (.sx_calls, written by the lowering) maps each return
 * address to the SX instruction that made the call.
 *
 * Everything read from the file is checked against the file's bounds: a truncated or foreign
 * file in the disk cache is an error, never a crash. Elsewhere this file wraps dlopen. */
#define _GNU_SOURCE 1
#include "image.h"
#include "wire.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (64u << 20)

#if JIT_IMAGE_RELOCATABLE
#include <elf.h>
#include <pthread.h>
#include <sys/mman.h>

#define PAGE 4096u
#define STUB_BYTES 16 /* jmp *0(%rip); .quad target; padding */

typedef struct {
  char *name;
  void *addr;
  size_t size;
} image_sym;

typedef struct chunk chunk;

/* An entry of .sx_calls as the lowering writes it (mark_call in lower.c): 8 bytes of address,
 * right after a call or a few instructions later, and 4 of the SX instruction that made it.
 * They are sorted by address where they are loaded. */
#define CALL_SITE_BYTES 12

static uint64_t site_at(const uint8_t *e) {
  uint64_t at;
  memcpy(&at, e, 8);
  return at;
}

struct jit_image {
  uint8_t *base; /* where the code runs */
  size_t size;
  chunk *in;     /* the arena chunk holding it, or NULL: a mapping of its own */
  image_sym *syms;
  int nsyms;
  uint8_t *eh_frame;    /* the unwind table, or NULL */
  void *unwind_record;  /* while it is registered with the unwinder: libgcc's record of it */
  const uint8_t *calls; /* the call sites, sorted by address */
  int ncalls;
};

/* libgcc's registry of unwind tables for code the dynamic linker does not know. The caller
 * provides the record (libgcc's struct object: 6 words in GCC 12; twice that is allocated). */
extern void __register_frame_info(const void *begin, void *record);
extern void *__deregister_frame_info(const void *begin);
#define UNWIND_RECORD_BYTES 96
static pthread_mutex_t unwind_lock = PTHREAD_MUTEX_INITIALIZER;

/* What loading one file needs to remember: the file, where each section went, and for each
 * symbol its address and, when a relocation needs one, its GOT slot or call stub. */
typedef struct {
  const uint8_t *file;
  size_t len;
  const Elf64_Ehdr *eh;
  const Elf64_Shdr *sh;
  uint8_t **where;   /* per section: its address in the image, NULL when not loaded */
  const Elf64_Sym *symtab;
  size_t nsym;
  const char *strtab;
  size_t strtab_len;
  int symtab_index;
  uint64_t *value; /* per symbol: resolved address */
  int32_t *got;    /* per symbol: GOT slot index + 1, 0 for none */
  int32_t *stub;   /* per symbol: call stub index + 1, 0 for none */
  uint8_t *used;   /* per symbol: a relocation refers to it */
  uint8_t *got_base;
  intptr_t delta;  /* where bytes are written = where they run + delta (the arena's writable view) */
  int ngot, nstub;
  char *err;
  size_t errlen;
} loader;

static bool fail(loader *L, const char *fmt, const char *detail) {
  snprintf(L->err, L->errlen, fmt, detail);
  return false;
}

static bool in_file(const loader *L, uint64_t off, uint64_t size) {
  return off <= L->len && size <= L->len - off;
}

static const char *section_name(const loader *L, int i) {
  const Elf64_Shdr *names = &L->sh[L->eh->e_shstrndx];
  uint32_t n = L->sh[i].sh_name;
  if (names->sh_type != SHT_STRTAB || !in_file(L, names->sh_offset, names->sh_size) || n >= names->sh_size)
    return "";
  const char *s = (const char *)L->file + names->sh_offset + n;
  return memchr(s, 0, names->sh_size - n) ? s : "";
}

static const char *symbol_name(const loader *L, const Elf64_Sym *s) {
  if (s->st_name >= L->strtab_len) return NULL;
  const char *p = L->strtab + s->st_name;
  return memchr(p, 0, L->strtab_len - s->st_name) ? p : NULL;
}

/* Sections that become part of the image: allocated code and data (unwind tables and the call
 * sites included), not notes. */
static bool loaded(const loader *L, int i) {
  const Elf64_Shdr *s = &L->sh[i];
  return (s->sh_flags & SHF_ALLOC) && (s->sh_type == SHT_PROGBITS || s->sh_type == SHT_NOBITS);
}

/* The unwinder reads an unwind table up to a zero length word, which the linker would add. */
static size_t loaded_size(const loader *L, int i) {
  return L->sh[i].sh_size + (strcmp(section_name(L, i), ".eh_frame") == 0 ? 4 : 0);
}

static int by_address(const void *a, const void *b) {
  uint64_t x = site_at(a), y = site_at(b);
  return x < y ? -1 : x > y;
}

/* The unwind table and the call sites, once relocated. */
static void collect_unwinding(loader *L, jit_image *im) {
  for (int i = 0; i < L->eh->e_shnum; i++) {
    if (!L->where[i]) continue;
    const char *name = section_name(L, i);
    if (!strcmp(name, ".eh_frame") && L->sh[i].sh_size >= 8) {
      im->eh_frame = L->where[i];
    } else if (!strcmp(name, ".sx_calls")) {
      im->calls = L->where[i];
      im->ncalls = (int)(L->sh[i].sh_size / CALL_SITE_BYTES);
      qsort(L->where[i] + L->delta, (size_t)im->ncalls, CALL_SITE_BYTES, by_address); /* writable view */
    }
  }
}

static bool check_headers(loader *L) {
  if (L->len < sizeof(Elf64_Ehdr)) return fail(L, "%s", "not an object file (too short)");
  const Elf64_Ehdr *eh = L->eh = (const Elf64_Ehdr *)L->file;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
      eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_type != ET_REL || eh->e_machine != EM_X86_64)
    return fail(L, "%s", "not an x86-64 relocatable object");
  if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 || eh->e_shstrndx >= eh->e_shnum ||
      !in_file(L, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)) || eh->e_shoff % 8)
    return fail(L, "%s", "bad section headers");
  L->sh = (const Elf64_Shdr *)(L->file + eh->e_shoff);
  for (int i = 0; i < eh->e_shnum; i++) {
    const Elf64_Shdr *s = &L->sh[i];
    if (s->sh_type != SHT_NOBITS && s->sh_type != SHT_NULL && !in_file(L, s->sh_offset, s->sh_size))
      return fail(L, "section %s lies outside the file", section_name(L, i));
    if (s->sh_addralign > PAGE || (s->sh_addralign & (s->sh_addralign - 1)))
      return fail(L, "section %s has an unsupported alignment", section_name(L, i));
    if (s->sh_type == SHT_SYMTAB) {
      if (L->symtab) return fail(L, "%s", "more than one symbol table");
      if (s->sh_entsize != sizeof(Elf64_Sym) || s->sh_offset % 8 || s->sh_link >= eh->e_shnum ||
          L->sh[s->sh_link].sh_type != SHT_STRTAB)
        return fail(L, "%s", "bad symbol table");
      L->symtab = (const Elf64_Sym *)(L->file + s->sh_offset);
      L->nsym = s->sh_size / sizeof(Elf64_Sym);
      L->strtab = (const char *)L->file + L->sh[s->sh_link].sh_offset;
      L->strtab_len = L->sh[s->sh_link].sh_size;
      L->symtab_index = i;
    }
    if (s->sh_type == SHT_RELA && (s->sh_entsize != sizeof(Elf64_Rela) || s->sh_offset % 8))
      return fail(L, "%s", "bad relocation section");
    if (s->sh_type == SHT_REL) return fail(L, "%s", "REL relocations are not used on x86-64");
  }
  if (!L->symtab) return fail(L, "%s", "no symbol table");
  return true;
}

static bool is_got_reloc(uint32_t type) {
  return type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX || type == R_X86_64_REX_GOTPCRELX;
}

/* Relocation sections that apply to a loaded section, against our symbol table. */
static bool applies(const loader *L, int i) {
  const Elf64_Shdr *s = &L->sh[i];
  return s->sh_type == SHT_RELA && s->sh_info < L->eh->e_shnum && L->where[s->sh_info] &&
         (int)s->sh_link == L->symtab_index;
}

/* First pass over the relocations: which symbols need a GOT slot or (undefined ones called
 * directly, which may live more than 2 GB away) a stub. */
static bool count_slots(loader *L) {
  for (int i = 0; i < L->eh->e_shnum; i++) {
    if (!applies(L, i)) continue;
    const Elf64_Rela *r = (const Elf64_Rela *)(L->file + L->sh[i].sh_offset);
    size_t n = L->sh[i].sh_size / sizeof(Elf64_Rela);
    for (size_t k = 0; k < n; k++) {
      uint32_t sym = ELF64_R_SYM(r[k].r_info), type = ELF64_R_TYPE(r[k].r_info);
      if (sym >= L->nsym) return fail(L, "%s", "relocation against a missing symbol");
      L->used[sym] = 1;
      if (is_got_reloc(type) && !L->got[sym]) L->got[sym] = ++L->ngot;
      const char *name = symbol_name(L, &L->symtab[sym]);
      bool undefined = L->symtab[sym].st_shndx == SHN_UNDEF && sym != 0 && name &&
                       strcmp(name, "_GLOBAL_OFFSET_TABLE_") != 0;
      if (undefined && (type == R_X86_64_PLT32 || type == R_X86_64_PC32) && !L->stub[sym])
        L->stub[sym] = ++L->nstub;
    }
  }
  return true;
}

static bool resolve_symbols(loader *L) {
  for (size_t i = 1; i < L->nsym; i++) {
    const Elf64_Sym *s = &L->symtab[i];
    uint16_t shndx = s->st_shndx;
    if (shndx == SHN_ABS) {
      L->value[i] = s->st_value;
    } else if (shndx == SHN_UNDEF) {
      if (!L->used[i]) continue; /* the assembler lists _GLOBAL_OFFSET_TABLE_ whenever the GOT is used */
      const char *name = symbol_name(L, s);
      if (!name) return fail(L, "%s", "bad symbol name");
      if (!strcmp(name, "_GLOBAL_OFFSET_TABLE_")) {
        L->value[i] = (uint64_t)(uintptr_t)L->got_base;
        continue;
      }
      /* only what GCC may call on its own (memcpy, memset, libm): compiled code reaches the
         runtime through the table in the state, never by name */
      void *addr = dlsym(RTLD_DEFAULT, name);
      if (!addr && ELF64_ST_BIND(s->st_info) != STB_WEAK)
        return fail(L, "undefined symbol %s", name);
      L->value[i] = (uint64_t)(uintptr_t)addr;
    } else if (shndx >= L->eh->e_shnum) {
      return fail(L, "%s", "symbol in a reserved or missing section (common symbols are not used)");
    } else if (L->where[shndx]) {
      if (s->st_value > L->sh[shndx].sh_size) return fail(L, "%s", "symbol outside its section");
      L->value[i] = (uint64_t)(uintptr_t)L->where[shndx] + s->st_value;
    } /* else in a section that is not loaded (unwind tables): apply refuses relocations to it */
  }
  return true;
}

static bool apply(loader *L, uint8_t *got_base, uint8_t *stub_base) {
  for (int i = 0; i < L->eh->e_shnum; i++) {
    if (!applies(L, i)) continue;
    const Elf64_Shdr *target = &L->sh[L->sh[i].sh_info];
    if (target->sh_type == SHT_NOBITS) return fail(L, "%s", "relocation in a section without contents");
    uint8_t *sec = L->where[L->sh[i].sh_info];
    const Elf64_Rela *r = (const Elf64_Rela *)(L->file + L->sh[i].sh_offset);
    size_t n = L->sh[i].sh_size / sizeof(Elf64_Rela);
    for (size_t k = 0; k < n; k++) {
      uint32_t sym = ELF64_R_SYM(r[k].r_info), type = ELF64_R_TYPE(r[k].r_info);
      int width = type == R_X86_64_64 || type == R_X86_64_PC64 || type == R_X86_64_GOTPC64 ||
                          type == R_X86_64_GOTOFF64 ? 8 : 4;
      if (type == R_X86_64_NONE) continue;
      if (r[k].r_offset > target->sh_size || target->sh_size - r[k].r_offset < (uint64_t)width)
        return fail(L, "%s", "relocation outside its section");
      const Elf64_Sym *s = &L->symtab[sym];
      if (sym && s->st_shndx != SHN_UNDEF && s->st_shndx != SHN_ABS && !L->where[s->st_shndx])
        return fail(L, "relocation against unloaded section %s", section_name(L, s->st_shndx));
      uint8_t *at = sec + r[k].r_offset;
      uint64_t S = L->value[sym], P = (uint64_t)(uintptr_t)at;
      int64_t A = r[k].r_addend, v;
      switch (type) {
      case R_X86_64_64: v = (int64_t)(S + A); break;
      case R_X86_64_PC64: v = (int64_t)(S + A - P); break;
      case R_X86_64_PC32:
      case R_X86_64_PLT32:
        if (L->stub[sym]) S = (uint64_t)(uintptr_t)(stub_base + (L->stub[sym] - 1) * STUB_BYTES);
        v = (int64_t)(S + A - P);
        break;
      case R_X86_64_GOTPCREL:
      case R_X86_64_GOTPCRELX:
      case R_X86_64_REX_GOTPCRELX:
        v = (int64_t)((uint64_t)(uintptr_t)(got_base + (L->got[sym] - 1) * 8) + A - P);
        break;
      case R_X86_64_GOTPC32:
      case R_X86_64_GOTPC64: v = (int64_t)((uint64_t)(uintptr_t)got_base + A - P); break;
      case R_X86_64_GOTOFF64: v = (int64_t)(S + A - (uint64_t)(uintptr_t)got_base); break;
      case R_X86_64_32:
      case R_X86_64_32S:
        v = (int64_t)(S + A);
        if (type == R_X86_64_32 ? (uint64_t)v > UINT32_MAX : v != (int32_t)v)
          return fail(L, "%s", "absolute 32-bit relocation out of range (code must be position-independent)");
        break;
      default: {
        char t[16];
        snprintf(t, sizeof t, "%u", type);
        return fail(L, "unsupported relocation type %s", t);
      }
      }
      if (width == 8) {
        memcpy(at + L->delta, &v, 8);
      } else {
        bool pc = type != R_X86_64_32 && type != R_X86_64_32S; /* checked above */
        if (pc && v != (int32_t)v) return fail(L, "%s", "relative relocation out of range");
        uint32_t w = (uint32_t)v;
        memcpy(at + L->delta, &w, 4);
      }
    }
  }
  for (size_t i = 0; i < L->nsym; i++) {
    if (L->got[i]) memcpy(got_base + L->delta + (L->got[i] - 1) * 8, &L->value[i], 8);
    if (L->stub[i]) {
      uint8_t *st = stub_base + L->delta + (L->stub[i] - 1) * STUB_BYTES;
      static const uint8_t jmp[6] = {0xff, 0x25, 0, 0, 0, 0}; /* jmp *0(%rip) */
      memcpy(st, jmp, 6);
      memcpy(st + 6, &L->value[i], 8);
      memset(st + 14, 0xcc, STUB_BYTES - 14);
    }
  }
  return true;
}

static size_t align_up(size_t v, size_t a) { return a > 1 ? (v + a - 1) & ~(a - 1) : v; }

/* A function the object defines and exports (sx_lambda_N). */
static bool exported(const Elf64_Sym *s) {
  return ELF64_ST_BIND(s->st_info) == STB_GLOBAL && ELF64_ST_TYPE(s->st_info) == STT_FUNC && s->st_shndx != SHN_UNDEF;
}

static bool collect_globals(loader *L, jit_image *im) {
  int n = 0;
  for (size_t i = 1; i < L->nsym; i++) n += exported(&L->symtab[i]);
  im->syms = calloc(n ? n : 1, sizeof(image_sym));
  if (!im->syms) return fail(L, "%s", "out of memory");
  for (size_t i = 1; i < L->nsym; i++) {
    const Elf64_Sym *s = &L->symtab[i];
    if (!exported(s)) continue;
    const char *name = symbol_name(L, s);
    if (!name || !L->value[i]) continue;
    im->syms[im->nsyms].name = strdup(name);
    if (!im->syms[im->nsyms].name) return fail(L, "%s", "out of memory");
    im->syms[im->nsyms].size = s->st_size;
    im->syms[im->nsyms++].addr = (void *)(uintptr_t)L->value[i];
  }
  return true;
}

/* ---- the code arena -------------------------------------------------------------------------
 * A compiled lambda is a few hundred bytes to a few KB; a mapping of its own takes a page for
 * its code and one for its constants, ~25 times what it needs. So images are packed into chunks
 * of one memory file mapped twice: a writable view the loader writes through and a read-execute
 * view the code runs from (no page is ever writable and executable at once, as W^X asks; other
 * threads may be running code of the same pages while a new image is written). The writable
 * view's pages are dropped once written, and pages no live image uses are given back to the OS
 * (hole punching), so resident memory follows live code; an empty chunk is unmapped. Images
 * with writable data, large alignments or more than a quarter of a chunk get a mapping of their
 * own. Allocation is first fit over a list of free extents kept in address order. */
#define CHUNK_BYTES (1u << 20)
#define BLOCK_ALIGN 64

typedef struct extent {
  size_t off, len;
  struct extent *next;
} extent;

struct chunk {
  uint8_t *rx, *rw;
  int fd;
  size_t live; /* bytes of live images */
  extent *free;
  chunk *next;
};

static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static chunk *chunks;

/* A forked child shares the chunks' memory files with its parent: code either of them loaded
 * into a free block would appear in the other's. So the child copies each chunk into a memory
 * file of its own, mapped at the same addresses (its code keeps running where it is). The lock
 * is held across fork so the child sees the lists whole. */
static void fork_prepare(void) { pthread_mutex_lock(&arena_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&arena_lock); }

static void punch(chunk *c, size_t off, size_t len);

static void fork_child(void) {
  for (chunk *c = chunks; c; c = c->next) {
    if (!c->rw) continue;
    int fd = memfd_create("sx-jit-code", MFD_CLOEXEC);
    bool ok = fd >= 0 && ftruncate(fd, CHUNK_BYTES) == 0 && pwrite(fd, c->rx, CHUNK_BYTES, 0) == CHUNK_BYTES &&
              mmap(c->rw, CHUNK_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) != MAP_FAILED &&
              mmap(c->rx, CHUNK_BYTES, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd, 0) != MAP_FAILED;
    if (ok) {
      close(c->fd);
      c->fd = fd;
      for (extent *e = c->free; e; e = e->next) punch(c, e->off, e->len);
    } else {
      /* keep the shared chunk for the code already in it, but load nothing more there */
      if (fd >= 0) close(fd);
      munmap(c->rw, CHUNK_BYTES);
      c->rw = NULL;
    }
  }
  pthread_mutex_unlock(&arena_lock);
}

static void arena_init(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

static chunk *chunk_new(void) {
  chunk *c = calloc(1, sizeof(chunk));
  extent *all = calloc(1, sizeof(extent));
  int fd = memfd_create("sx-jit-code", MFD_CLOEXEC);
  if (!c || !all || fd < 0 || ftruncate(fd, CHUNK_BYTES) != 0) goto fail;
  c->rw = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  c->rx = c->rw == MAP_FAILED ? MAP_FAILED : mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
  if (c->rx == MAP_FAILED) {
    if (c->rw != MAP_FAILED) munmap(c->rw, CHUNK_BYTES);
    goto fail;
  }
  c->fd = fd;
  all->len = CHUNK_BYTES;
  c->free = all;
  c->next = chunks;
  chunks = c;
  return c;
fail:
  if (fd >= 0) close(fd);
  free(all);
  free(c);
  return NULL;
}

/* A block of len bytes (a multiple of BLOCK_ALIGN) in some chunk: its offset, or -1. */
static long arena_alloc(size_t len, chunk **in) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, arena_init);
  for (int round = 0; round < 2; round++) {
    for (chunk *c = chunks; c; c = c->next)
      for (extent **e = c->rw ? &c->free : NULL; e && *e; e = &(*e)->next)
        if ((*e)->len >= len) {
          size_t off = (*e)->off;
          (*e)->off += len;
          (*e)->len -= len;
          if ((*e)->len == 0) {
            extent *gone = *e;
            *e = gone->next;
            free(gone);
          }
          c->live += len;
          *in = c;
          return (long)off;
        }
    if (round == 0 && !chunk_new()) break;
  }
  return -1;
}

/* Gives the pages of [off, off+len) that no other block touches back to the OS. */
static void punch(chunk *c, size_t off, size_t len) {
  size_t lo = (off + PAGE - 1) & ~(size_t)(PAGE - 1), hi = (off + len) & ~(size_t)(PAGE - 1);
  if (hi > lo) (void)fallocate(c->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)lo, (off_t)(hi - lo));
}

static void arena_free(chunk *c, size_t off, size_t len) {
  c->live -= len;
  if (c->live == 0) { /* nothing left in it: unmap the chunk */
    chunk **p = &chunks;
    while (*p != c) p = &(*p)->next;
    *p = c->next;
    munmap(c->rx, CHUNK_BYTES);
    if (c->rw) munmap(c->rw, CHUNK_BYTES);
    close(c->fd);
    for (extent *e = c->free, *n; e; e = n) n = e->next, free(e);
    free(c);
    return;
  }
  /* insert in address order, merging with the neighbours */
  extent **p = &c->free, *prev = NULL;
  while (*p && (*p)->off < off) prev = *p, p = &(*p)->next;
  extent *next = *p;
  if (prev && prev->off + prev->len == off) {
    prev->len += len;
    if (next && prev->off + prev->len == next->off) {
      prev->len += next->len;
      prev->next = next->next;
      free(next);
    }
    punch(c, prev->off, prev->len);
    return;
  }
  if (next && off + len == next->off) {
    next->off = off;
    next->len += len;
    punch(c, next->off, next->len);
    return;
  }
  extent *e = malloc(sizeof(extent));
  if (!e) return; /* the bytes are lost to the arena until the chunk empties */
  e->off = off;
  e->len = len;
  e->next = next;
  *p = e;
  punch(c, off, len);
}

/* Where data and the GOT go after code_end bytes of code, and the bytes it all takes: packed,
 * data right after the code in a block of the arena; or data from the next page, in a mapping
 * of its own whose first data_at bytes are executable and the rest protected apart. */
static size_t place(size_t code_end, size_t align, size_t data, int ngot, bool packed, size_t *data_at, size_t *got) {
  *data_at = align_up(code_end, packed ? align : PAGE);
  *got = align_up(*data_at + data, 8);
  return align_up(*got + (size_t)ngot * 8, packed ? BLOCK_ALIGN : PAGE);
}

/* Lays the loaded sections out, code first, then read-only and writable data: packed into the
 * arena, or in a mapping of its own where data starts on a fresh page (so that it can be
 * protected apart); relocates and protects them. */
static jit_image *load(loader *L) {
  if (!check_headers(L)) return NULL;
  int nsec = L->eh->e_shnum;
  size_t *off = calloc(nsec, sizeof(size_t));
  L->where = calloc(nsec, sizeof(uint8_t *));
  L->value = calloc(L->nsym, sizeof(uint64_t));
  L->got = calloc(L->nsym, sizeof(int32_t));
  L->stub = calloc(L->nsym, sizeof(int32_t));
  L->used = calloc(L->nsym, 1);
  jit_image *im = calloc(1, sizeof(jit_image));
  bool ok = off && L->where && L->value && L->got && L->stub && L->used && im;
  if (!ok) fail(L, "%s", "out of memory");
  size_t text = 0, data = 0, align = 16;
  bool writable = false;
  for (int pass = 0; ok && pass < 2; pass++)
    for (int i = 0; i < nsec; i++) {
      if (!loaded(L, i) || ((L->sh[i].sh_flags & SHF_EXECINSTR) != 0) != (pass == 0)) continue;
      size_t *end = pass == 0 ? &text : &data;
      *end = align_up(*end, L->sh[i].sh_addralign);
      off[i] = *end;
      *end += loaded_size(L, i);
      if ((L->sh[i].sh_flags & SHF_WRITE) && L->sh[i].sh_size) writable = true; /* empty .data is usual */
      if (L->sh[i].sh_addralign > align) align = L->sh[i].sh_addralign;
      L->where[i] = (uint8_t *)1; /* placed; the real address once mapped */
    }
  ok = ok && count_slots(L);
  if (ok && text == 0) ok = fail(L, "%s", "no code in the object");
  size_t stubs = align_up(text, 16), code_end = stubs + (size_t)L->nstub * STUB_BYTES;
  size_t data_at, got;
  bool packed = !writable && align <= BLOCK_ALIGN;
  size_t size = place(code_end, align, data, L->ngot, packed, &data_at, &got);
  if (packed && size > CHUNK_BYTES / 4) packed = false, size = place(code_end, align, data, L->ngot, false, &data_at, &got);
  uint8_t *base = MAP_FAILED;
  if (ok && packed) {
    pthread_mutex_lock(&arena_lock);
    chunk *c = NULL;
    long at = arena_alloc(size, &c);
    if (at >= 0) {
      im->in = c;
      base = c->rx + at;
      L->delta = c->rw - c->rx;
    }
    pthread_mutex_unlock(&arena_lock);
    if (at < 0) /* no memory file: a mapping of its own */
      packed = false, size = place(code_end, align, data, L->ngot, false, &data_at, &got);
  }
  if (ok && !packed) {
    base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) ok = fail(L, "%s", "cannot map memory for the code");
  }
  if (ok) {
    im->base = base;
    im->size = size;
    for (int i = 0; i < nsec; i++) {
      if (!L->where[i]) continue;
      bool code = (L->sh[i].sh_flags & SHF_EXECINSTR) != 0;
      L->where[i] = base + (code ? 0 : data_at) + off[i];
      size_t have = L->sh[i].sh_type == SHT_PROGBITS ? L->sh[i].sh_size : 0;
      memcpy(L->where[i] + L->delta, L->file + L->sh[i].sh_offset, have);
      memset(L->where[i] + L->delta + have, 0, loaded_size(L, i) - have); /* a reused block is not zero */
    }
    L->got_base = base + got;
    ok = resolve_symbols(L) && apply(L, L->got_base, base + stubs) && collect_globals(L, im);
    if (ok) collect_unwinding(L, im);
  }
  if (ok && packed) {
    /* written: the writable view's pages are not needed until the next image goes there */
    uintptr_t lo = ((uintptr_t)base + L->delta) & ~(uintptr_t)(PAGE - 1);
    uintptr_t hi = ((uintptr_t)base + L->delta + size + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
    madvise((void *)lo, hi - lo, MADV_DONTNEED);
  } else if (ok && (mprotect(base, data_at, PROT_READ | PROT_EXEC) != 0 ||
                    (size > data_at &&
                     mprotect(base + data_at, size - data_at, writable ? PROT_READ | PROT_WRITE : PROT_READ) != 0))) {
    ok = fail(L, "%s", "cannot protect the code");
  }
  if (!ok && im) im->eh_frame = NULL;
  free(off);
  free(L->where);
  free(L->value);
  free(L->got);
  free(L->stub);
  free(L->used);
  if (!ok && im) {
    if (base != MAP_FAILED) im->base = base, im->size = size;
    jit_image_free(im);
    im = NULL;
  }
  return im;
}

jit_image *jit_image_from_memory(const uint8_t *buf, size_t len, char *err, size_t errlen) {
  loader L = {0};
  L.err = err;
  L.errlen = errlen;
  /* section headers and tables are read in place: they need the file's 8-byte alignment */
  uint8_t *copy = NULL;
  if ((uintptr_t)buf & 7) {
    if (!(copy = malloc(len ? len : 1))) {
      fail(&L, "%s", "out of memory");
      return NULL;
    }
    memcpy(copy, buf, len);
  }
  L.file = copy ? copy : buf;
  L.len = len;
  jit_image *im = load(&L);
  free(copy);
  return im;
}

static const image_sym *find_sym(const jit_image *im, const char *name) {
  for (int i = 0; i < im->nsyms; i++)
    if (!strcmp(im->syms[i].name, name)) return &im->syms[i];
  return NULL;
}

void *jit_image_symbol(const jit_image *im, const char *name) {
  const image_sym *s = find_sym(im, name);
  return s ? s->addr : NULL;
}

size_t jit_image_symbol_size(const jit_image *im, const char *name) {
  const image_sym *s = find_sym(im, name);
  return s ? s->size : 0;
}

void jit_image_extent(const jit_image *im, uintptr_t *lo, uintptr_t *hi, size_t *bytes) {
  *lo = (uintptr_t)im->base;
  *hi = (uintptr_t)im->base + im->size;
  *bytes = im->size;
}

bool jit_image_call_site(const jit_image *im, uintptr_t ra, uint32_t *pc) {
  int lo = 0, hi = im->ncalls; /* the first site at or after ra */
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (site_at(im->calls + (size_t)mid * CALL_SITE_BYTES) < ra) lo = mid + 1;
    else hi = mid;
  }
  if (lo == im->ncalls) return false;
  const uint8_t *site = im->calls + (size_t)lo * CALL_SITE_BYTES;
  uint64_t at = site_at(site);
  if (at - ra > JIT_CALL_SITE_SLACK) return false;
  for (int i = 0; i < im->nsyms; i++) { /* and in the function that made the call */
    uintptr_t f = (uintptr_t)im->syms[i].addr;
    if (ra > f && ra <= f + im->syms[i].size) {
      if (at > f + im->syms[i].size) return false;
      memcpy(pc, site + 8, 4);
      return true;
    }
  }
  return false;
}

/* Registration waits for the first backtrace through compiled code: until an error needs it,
 * loading and freeing code costs the unwinder nothing (and no record is allocated). */
void jit_image_register_unwind(jit_image *im) {
  pthread_mutex_lock(&unwind_lock);
  if (im->eh_frame && !im->unwind_record && (im->unwind_record = calloc(1, UNWIND_RECORD_BYTES)))
    __register_frame_info(im->eh_frame, im->unwind_record);
  pthread_mutex_unlock(&unwind_lock);
}

void jit_image_free(jit_image *im) {
  if (!im) return;
  pthread_mutex_lock(&unwind_lock);
  if (im->unwind_record) {
    __deregister_frame_info(im->eh_frame);
    free(im->unwind_record);
  }
  pthread_mutex_unlock(&unwind_lock);
  if (im->in) {
    pthread_mutex_lock(&arena_lock);
    arena_free(im->in, (size_t)(im->base - im->in->rx), im->size);
    pthread_mutex_unlock(&arena_lock);
  } else if (im->base) {
    munmap(im->base, im->size);
  }
  for (int i = 0; i < im->nsyms; i++) free(im->syms[i].name);
  free(im->syms);
  free(im);
}

#else /* a shared object, loaded by the dynamic linker (from a memory file, through /proc) */

#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

struct jit_image {
  void *dl;
  uintptr_t lo, hi;
  size_t bytes;
};

typedef struct {
  uintptr_t l_addr;
  jit_image *im;
} extent_query;

static int find_extent(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  extent_query *q = data;
  if (info->dlpi_addr != q->l_addr) return 0;
  uintptr_t min = UINTPTR_MAX, max = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    q->im->bytes += (ph->p_memsz + 4095) & ~(size_t)4095;
    if (lo < min) min = lo;
    if (hi > max) max = hi;
  }
  q->im->lo = min;
  q->im->hi = max;
  return 1;
}

static jit_image *open_shared(const char *path, char *err, size_t errlen) {
  jit_image *im = calloc(1, sizeof(jit_image));
  if (!im) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  im->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!im->dl) {
    snprintf(err, errlen, "dlopen: %s", dlerror());
    free(im);
    return NULL;
  }
  struct link_map *lm = NULL;
  if (dlinfo(im->dl, RTLD_DI_LINKMAP, &lm) == 0 && lm) {
    extent_query q = {lm->l_addr, im};
    dl_iterate_phdr(find_extent, &q);
  }
  return im;
}

jit_image *jit_image_from_memory(const uint8_t *buf, size_t len, char *err, size_t errlen) {
  int fd = memfd_create("sx-jit-object", MFD_CLOEXEC);
  if (fd < 0 || write(fd, buf, len) != (ssize_t)len) {
    snprintf(err, errlen, "cannot make a memory file for the code");
    if (fd >= 0) close(fd);
    return NULL;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  jit_image *im = open_shared(path, err, errlen);
  close(fd); /* mapped now */
  return im;
}

void *jit_image_symbol(const jit_image *im, const char *name) { return dlsym(im->dl, name); }

size_t jit_image_symbol_size(const jit_image *im, const char *name) {
  Dl_info info;
  const ElfW(Sym) *sym = NULL;
  void *addr = dlsym(im->dl, name);
  if (!addr || !dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym) return 0;
  return sym->st_size;
}

void jit_image_extent(const jit_image *im, uintptr_t *lo, uintptr_t *hi, size_t *bytes) {
  *lo = im->lo;
  *hi = im->hi;
  *bytes = im->bytes;
}

bool jit_image_call_site(const jit_image *im, uintptr_t ra, uint32_t *pc) {
  (void)im, (void)ra, (void)pc;
  return false; /* not looked for in shared objects */
}

void jit_image_register_unwind(jit_image *im) { (void)im; /* the dynamic linker's objects are known */ }

void jit_image_free(jit_image *im) {
  if (!im) return;
  dlclose(im->dl);
  free(im);
}

#endif

jit_image *jit_image_load(const char *path, char *err, size_t errlen) {
  size_t len;
  uint8_t *buf = jit_read_file(path, MAX_FILE, &len);
  if (!buf) {
    snprintf(err, errlen, "cannot read the compiled object %s", path);
    return NULL;
  }
  jit_image *im = jit_image_from_memory(buf, len, err, errlen);
  free(buf);
  return im;
}
