/* fuzz_read.c — libFuzzer target: the reader on arbitrary bytes. sx_next_form walks the input
 * form by form (no evaluation); each form found is then read as data with (quote ...),
 * written, and read again: the write form of anything the reader accepts must read back as an
 * equal? datum. A violation aborts with both texts. */
#include "fuzz.h"

static sx_state *S;

static char *quoted(const char *text, size_t n) {
  char *s = malloc(n + 16);
  if (!s) abort();
  memcpy(s, "(quote ", 7);
  memcpy(s + 7, text, n);
  memcpy(s + 7 + n, "\n)", 3);
  return s;
}

static void roundtrip(const char *text, size_t n) {
  if (memchr(text, 0, n)) return; /* the eval API takes C strings */
  char *src = quoted(text, n);
  sx_value v1, v2, same;
  sx_status st = eval_limited(S, src, 2000, &v1);
  free(src);
  if (st != SX_OK) return; /* e.g. (quote) around text that reads as two data */
  char *w = strdup(sx_to_string(S, v1, 1));
  src = quoted(w, strlen(w));
  st = eval_limited(S, src, 2000, &v2);
  free(src);
  if (st == SX_ERR_INTERRUPTED || st == SX_ERR_MEMORY) {
    free(w);
    return;
  }
  if (st != SX_OK) {
    fprintf(stderr, "fuzz_read: written form does not read back: %s\n  text: %.*s\n  written: %s\n",
            sx_error_message(S), (int)n, text, w);
    abort();
  }
  if (sx_set_global(S, "fuzz-a", v1) != SX_OK || sx_set_global(S, "fuzz-b", v2) != SX_OK) abort();
  st = eval_limited(S, "(equal? fuzz-a fuzz-b)", 2000, &same);
  if (st == SX_OK && strcmp(sx_to_string(S, same, 1), "true") != 0) {
    fprintf(stderr, "fuzz_read: written form reads back different\n  text: %.*s\n  written: %s\n",
            (int)n, text, w);
    fprintf(stderr, "  read back: %s\n", sx_to_string(S, v2, 1));
    abort();
  }
  free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!S) S = fuzz_open(0, 2000);
  const char *src = (const char *)data;
  size_t pos = 0, end = 0;
  for (int forms = 0; pos < size && forms < 200; forms++) {
    if (sx_next_form(S, src, size, pos, "fuzz", &end) != 1) break;
    if (end <= pos || end > size) {
      fprintf(stderr, "fuzz_read: sx_next_form returned end %zu for pos %zu of %zu\n", end, pos,
              size);
      abort();
    }
    roundtrip(src + pos, end - pos);
    pos = end;
  }
  return 0;
}
