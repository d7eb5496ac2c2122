/* image.c — the loader of compiled objects (jit/image.c), on objects GCC writes from a C file
 * that uses every kind of relocation position-independent code has (calls between functions,
 * jump tables, constants, writable data through the GOT, pointers in data, calls into libc),
 * on a non-PIC object (refused cleanly), and on every truncation and thousands of corruptions
 * of a good file: the loader must answer "loaded" or an error, never crash or read outside the
 * file (make check-asan runs this test under AddressSanitizer). Objects without writable data
 * (what sx-jitc writes) are packed into the code arena: blocks reused, nothing writable and
 * executable, resident memory back to where it was once they are freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../jit/image.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifndef ASAN
#define ASAN 0
#endif

static int passed, failed;

static void check(bool ok, const char *what) {
  if (ok) passed++;
  else failed++, printf("FAIL %s\n", what);
}

static const char source[] =
    "#include <string.h>\n"
    "long counter = 5;\n"
    "static char scratch[4096];\n"
    "static const double weights[4] = {0.5, 1.5, 2.5, 3.5};\n"
    "static long twice(long x) { return 2 * x; }\n"
    "static long thrice(long x) { return 3 * x; }\n"
    "long (*const table[2])(long) = {twice, thrice};\n"
    "__attribute__((noinline)) long helper(long x) { return x + counter; }\n"
    "long sx_t_calls(long x) { counter++; return helper(x) + table[x & 1](x); }\n"
    "long sx_t_switch(long k) {\n"
    "  switch (k) { case 0: return 11; case 1: return 23; case 2: return 37; case 3: return 41;\n"
    "  case 4: return 53; case 5: return 67; case 6: return 71; default: return -1; }\n"
    "}\n"
    "double sx_t_weights(int i) { return weights[i & 3] * 2.0; }\n"
    "long sx_t_libc(const char *s, int n) {\n"
    "  memset(scratch, 'x', sizeof scratch);\n"
    "  memcpy(scratch + n, s, strlen(s) + 1);\n"
    "  return (long)strlen(scratch);\n"
    "}\n";

/* like compiled lambdas: code, constants and calls, no writable data */
static const char ro_source[] =
    "#include <string.h>\n"
    "static const long primes[8] = {2, 3, 5, 7, 11, 13, 17, 19};\n"
    "__attribute__((noinline)) static long pick(long k) {\n"
    "  switch (k & 7) { case 0: return 5; case 1: return 8; case 2: return 13; case 3: return 21;\n"
    "  case 4: return 34; case 5: return 55; case 6: return 89; default: return 144; }\n"
    "}\n"
    "long sx_ro_f(long k, const char *s) { return primes[k & 7] * 1000 + pick(k) + (long)strlen(s); }\n";

static bool compile(const char *dir, const char *out, const char *flags) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "cc -O2 %s -c -o %s/%s %s/t.c 2>/dev/null", flags, dir, out, dir);
  return system(cmd) == 0;
}

static bool compile_ro(const char *dir) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "cc -O2 -fPIC -c -o %s/ro.o %s/ro.c 2>/dev/null", dir, dir);
  return system(cmd) == 0;
}

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
  *len = b && n > 0 && fread(b, 1, (size_t)n, f) == (size_t)n ? (size_t)n : 0;
  fclose(f);
  return b;
}

static void spit(const char *path, const unsigned char *b, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(b, 1, len, f);
  fclose(f);
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6)) kb = atol(line + 6);
  if (f) fclose(f);
  return kb;
}

/* No mapping of this process is writable and executable at once. */
static bool no_wx_mapping(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  bool ok = f != NULL;
  while (f && fgets(line, sizeof line, f)) {
    char perms[8] = "";
    if (sscanf(line, "%*s %7s", perms) == 1 && perms[1] == 'w' && perms[2] == 'x') ok = false;
  }
  if (f) fclose(f);
  return ok;
}

/* Mappings of the code arena's memory files. */
static int arena_mappings(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  int n = 0;
  while (f && fgets(line, sizeof line, f)) n += strstr(line, "sx-jit-code") != NULL;
  if (f) fclose(f);
  return n;
}

#define NIMG 5000
static jit_image *imgs[NIMG];

static void arena_tests(const char *dir) {
  char path[512], err[200];
  snprintf(path, sizeof path, "%s/ro.o", dir);
  size_t len = 0;
  unsigned char *obj = slurp(path, &len);
  check(obj && len > 0, "the read-only object can be read");
  if (!obj) return;
  long rss0 = rss_kb();
  bool all = true, calls = true;
  for (int i = 0; i < NIMG; i++) {
    imgs[i] = jit_image_from_memory(obj, len, err, sizeof err);
    if (!imgs[i]) {
      all = false;
      printf("  (load %d: %s)\n", i, err);
      break;
    }
    long (*f)(long, const char *) = (long (*)(long, const char *))jit_image_symbol(imgs[i], "sx_ro_f");
    if (!f || f(i, "abc") != (long[]){2, 3, 5, 7, 11, 13, 17, 19}[i & 7] * 1000 + (long[]){5, 8, 13, 21, 34, 55, 89, 144}[i & 7] + 3)
      calls = false;
  }
  check(all, "5000 objects load into the arena");
  check(calls, "every one of them runs (constants, jump table, call into libc)");
  uintptr_t lo, hi, lo2, hi2;
  size_t bytes, bytes2;
  jit_image_extent(imgs[0], &lo, &hi, &bytes);
  jit_image_extent(imgs[1], &lo2, &hi2, &bytes2);
  check(bytes < 4096 && bytes % 64 == 0 && hi - lo == bytes, "a small object takes a block, not pages");
  check(lo2 == hi || hi2 == lo, "consecutive objects are packed side by side");
  long rss1 = rss_kb();
  printf("  (5000 objects of %zu bytes: RSS %ld -> %ld KB)\n", bytes, rss0, rss1);
  check(rss1 - rss0 < NIMG * 2, "5000 loaded objects take less than 2 KB of resident memory each");
  check(no_wx_mapping(), "no mapping is writable and executable");
  check(arena_mappings() >= 2, "the arena is mapped twice (a writable and an executable view)");
  /* free every other one, then load again: the freed blocks are reused */
  static uintptr_t freed[NIMG / 2];
  int nfreed = 0;
  for (int i = 0; i < NIMG; i += 2) {
    uintptr_t a, b;
    size_t n;
    jit_image_extent(imgs[i], &a, &b, &n);
    freed[nfreed++] = a;
    jit_image_free(imgs[i]);
    imgs[i] = NULL;
  }
  jit_image *again = jit_image_from_memory(obj, len, err, sizeof err);
  uintptr_t alo, ahi;
  size_t ab;
  bool reused = false;
  if (again) {
    jit_image_extent(again, &alo, &ahi, &ab);
    for (int k = 0; k < nfreed; k++) reused |= freed[k] == alo;
    long (*f)(long, const char *) = (long (*)(long, const char *))jit_image_symbol(again, "sx_ro_f");
    reused = reused && f && f(3, "") == 7000 + 21;
  }
  check(reused, "a freed block is reused, and the code in it runs");
  jit_image_free(again);
  for (int i = 0; i < NIMG; i++) jit_image_free(imgs[i]), imgs[i] = NULL;
  long rss2 = rss_kb();
  printf("  (all freed: RSS %ld KB)\n", rss2);
  check(arena_mappings() == 0, "freeing them all unmaps the arena");
#if !ASAN
  check(rss2 - rss0 < 1024, "freeing them all gives the memory back");
#endif
  free(obj);
}

int main(void) {
#if !JIT_IMAGE_RELOCATABLE
  printf("image: this host loads shared objects with dlopen; nothing to test\n0 passed, 0 failed\n");
  return 0;
#else
  char dir[] = "/tmp/sx-image-test-XXXXXX", path[512], err[200];
  if (!mkdtemp(dir)) {
    printf("cannot make a temporary directory\n0 passed, 1 failed\n");
    return 1;
  }
  snprintf(path, sizeof path, "%s/t.c", dir);
  spit(path, (const unsigned char *)source, sizeof source - 1);
  snprintf(path, sizeof path, "%s/ro.c", dir);
  spit(path, (const unsigned char *)ro_source, sizeof ro_source - 1);
  bool built = compile(dir, "pic.o", "-fPIC") && compile(dir, "nopic.o", "-fno-pic -mcmodel=kernel") && compile_ro(dir);
  check(built, "cc builds the test objects");
  if (!built) goto done;

  snprintf(path, sizeof path, "%s/pic.o", dir);
  jit_image *im = jit_image_load(path, err, sizeof err);
  check(im != NULL, "a position-independent object loads");
  if (!im) {
    printf("  (%s)\n", err);
    goto done;
  }
  long (*calls)(long) = (long (*)(long))jit_image_symbol(im, "sx_t_calls");
  long (*sw)(long) = (long (*)(long))jit_image_symbol(im, "sx_t_switch");
  double (*wt)(int) = (double (*)(int))jit_image_symbol(im, "sx_t_weights");
  long (*lc)(const char *, int) = (long (*)(const char *, int))jit_image_symbol(im, "sx_t_libc");
  check(calls && sw && wt && lc, "global functions are found by name");
  check(jit_image_symbol(im, "twice") == NULL, "static functions are not exported");
  check(jit_image_symbol(im, "counter") == NULL, "data is not a function");
  if (calls && sw && wt && lc) {
    /* counter: 5 -> 6, helper(3) = 9, table[1](3) = 9 */
    check(calls(3) == 18, "calls: direct call, data through the GOT, pointer table (R_X86_64_64)");
    check(calls(4) == 4 + 7 + 8, "calls: writable data keeps its value between calls");
    long want[] = {11, 23, 37, 41, 53, 67, 71, -1, -1};
    bool all = true;
    for (long k = 0; k < 9; k++) all = all && sw(k) == want[k];
    check(all, "switch: jump table in read-only data");
    check(wt(2) == 5.0 && wt(7) == 7.0, "constants in read-only data");
    check(lc("hello", 100) == 105, "calls into libc (memset, memcpy, strlen) through stubs");
  }
  uintptr_t lo, hi;
  size_t bytes;
  jit_image_extent(im, &lo, &hi, &bytes);
  check(lo && hi - lo == bytes && bytes % 4096 == 0 && (uintptr_t)sw >= lo && (uintptr_t)sw < hi,
        "writable data: a mapping of its own, page-rounded, holding the code");
  jit_image_free(im);

  snprintf(path, sizeof path, "%s/nopic.o", dir);
  im = jit_image_load(path, err, sizeof err);
  check(im == NULL && strstr(err, "32-bit"), "absolute 32-bit relocations are refused with a reason");
  jit_image_free(im);

  /* every truncation and random corruptions of the good object */
  snprintf(path, sizeof path, "%s/pic.o", dir);
  size_t len = 0;
  unsigned char *good = slurp(path, &len), *bad = malloc(len ? len : 1);
  check(good && len > 1000 && bad, "the object can be read back");
  if (!good || !bad) goto done;
  char badpath[512];
  snprintf(badpath, sizeof badpath, "%s/bad.o", dir);
  int refused = 0, tries = 0;
  for (size_t n = 0; n < len; n += 7, tries++) {
    spit(badpath, good, n);
    jit_image *b = jit_image_load(badpath, err, sizeof err);
    if (!b) refused++;
    jit_image_free(b);
  }
  check(refused == tries, "every truncated object is refused");
  srand(12345);
  int loaded = 0;
  for (int i = 0; i < 3000; i++) {
    memcpy(bad, good, len);
    int flips = 1 + rand() % 4;
    for (int k = 0; k < flips; k++) {
      size_t at = (size_t)rand() % len;
      /* headers and tables are where a loader goes wrong: aim half the flips there */
      if (k == 0 && (i & 1)) at = (size_t)rand() % 64;
      bad[at] ^= (unsigned char)(1u << (rand() % 8));
    }
    spit(badpath, bad, len);
    jit_image *b = jit_image_load(badpath, err, sizeof err);
    if (b) loaded++;
    jit_image_free(b);
  }
  check(true, "3000 corrupted objects loaded or refused without a crash");
  printf("  (%d of 3000 corrupted objects still loaded: flips in code or padding)\n", loaded);

  arena_tests(dir);

  /* loading and freeing keeps no memory */
  for (int i = 0; i < 200; i++) jit_image_free(jit_image_load(path, err, sizeof err));
  long before = rss_kb();
  for (int i = 0; i < 5000; i++) jit_image_free(jit_image_load(path, err, sizeof err));
  long after = rss_kb();
  printf("  (RSS over 5000 loads: %ld -> %ld KB)\n", before, after);
#if ASAN
  /* its quarantine keeps freed memory resident; LeakSanitizer checks for leaks at exit */
  printf("  (RSS check skipped under AddressSanitizer)\n");
#else
  check(after - before < 1024, "5000 loads and frees leave resident memory flat");
#endif
  free(good);
  free(bad);

done:
  snprintf(path, sizeof path, "rm -rf %s", dir);
  if (system(path) != 0) printf("could not remove %s\n", dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
#endif
}
