/* file_main.c — a plain main() for the fuzz targets, in place of libFuzzer's: runs every file
 * named on the command line (a folder: every file in it), or standard input when there is none,
 * through LLVMFuzzerTestOneInput. Linked with cc it replays crash files and the regression
 * corpus (make fuzz does); compiled with afl-clang-fast it is an AFL++ target:
 *   afl-fuzz -i build-fuzz/corpus/eval -o out -- build-fuzz/fuzz_eval-file @@            */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ran;

static void run_stream(FILE *f) {
  size_t cap = 1 << 16, n = 0, k;
  uint8_t *buf = malloc(cap);
  if (!buf) abort();
  while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
    n += k;
    if (n == cap && !(buf = realloc(buf, cap *= 2))) abort();
  }
  /* an exact-size copy, as libFuzzer passes: ASan then sees a read past the input's end */
  uint8_t *exact = malloc(n ? n : 1);
  if (!exact) abort();
  memcpy(exact, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  ran++;
}

static void run_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "%s: cannot stat\n", path);
    exit(2);
  }
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      size_t n = strlen(path) + strlen(e->d_name) + 2;
      char *p = malloc(n);
      if (!p) abort();
      snprintf(p, n, "%s/%s", path, e->d_name);
      run_path(p);
      free(p);
    }
    if (d) closedir(d);
    return;
  }
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open\n", path);
    exit(2);
  }
  run_stream(f);
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc < 2) run_stream(stdin);
  for (int i = 1; i < argc; i++) run_path(argv[i]);
  printf("%d inputs ran\n", ran);
  return 0;
}
