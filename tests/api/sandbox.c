/* sandbox.c — capabilities and host I/O: a primitive whose capability is off is absent (unbound,
 * also for eval and in fresh environments), sx_open(NULL) gets the safe set, SX_CAP_ALL the
 * CLI's; everything a script prints goes to the write callback and read-line reads from the
 * read callback, so a host can capture and feed a script completely. Script: sandbox.sx. */
#include "check.h"

static const char *io_prims[] = {"read-file", "write-file", "file-exists?", "load"};
static const char *process_prims[] = {"getenv", "command-line", "exit"};
static const char *eval_prims[] = {"eval", "eval-string", "make-env"};

static int bound(sx_state *S, const char *name) {
  sx_value v;
  return sx_get_global(S, name, &v) == SX_OK;
}

static void expect_set(sx_state *S, const char *what, const char **names, size_t n, int want) {
  for (size_t i = 0; i < n; i++)
    CHECK(bound(S, names[i]) == want, "%s: %s %s", what, names[i], want ? "missing" : "present");
}

typedef struct {
  char buf[8192];
  size_t len;
  int calls;
} capture;

static void capture_write(void *ud, const char *s, size_t n) {
  capture *c = ud;
  if (c->len + n < sizeof c->buf) {
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    c->buf[c->len] = 0;
  }
  c->calls++;
}

typedef struct {
  const char *text;
  size_t pos, chunk;
  int calls;
} feed;

/* hands out at most `chunk` bytes per call, so lines arrive in pieces */
static size_t feed_read(void *ud, char *buf, size_t cap) {
  feed *f = ud;
  f->calls++;
  size_t left = strlen(f->text) - f->pos, n = left < cap ? left : cap;
  if (n > f->chunk) n = f->chunk;
  memcpy(buf, f->text + f->pos, n);
  f->pos += n;
  return n;
}

int main(void) {
  /* sx_open(NULL): the safe set */
  sx_state *S = sx_open(NULL);
  expect_set(S, "default", io_prims, 4, 0);
  expect_set(S, "default", process_prims, 3, 0);
  expect_set(S, "default", eval_prims, 3, 1);
  CHECK(strstr(eval_show(S, "(read-file \"/etc/passwd\")"), "unbound variable: read-file"),
        "read-file is unbound: %s", eval_show(S, "(read-file \"/etc/passwd\")"));
  CHECK(strstr(eval_show(S, "(eval-string \"(getenv \\\"HOME\\\")\")"), "unbound variable: getenv"),
        "absent inside eval-string too");
  CHECK(strstr(eval_show(S, "(eval '(exit 3))"), "unbound variable: exit"), "and for eval");
  CHECK(strstr(eval_show(S, "(define (f) (load \"x.sx\")) (f)"), "unbound variable: load"),
        "and in compiled code");
  CHECK_EVAL(S, "(define read-file (fn (p) :mine)) (read-file \"x\")", ":mine");
  CHECK_EVAL(S, "(+ 1 2)", "3");
  CHECK(sx_doc(S, "read-file") != NULL, "the docs still know it");
  sx_close(S);

  /* a zeroed config: nothing at all */
  sx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  S = sx_open(&cfg);
  expect_set(S, "none", io_prims, 4, 0);
  expect_set(S, "none", process_prims, 3, 0);
  expect_set(S, "none", eval_prims, 3, 0);
  CHECK(bound(S, "display") && bound(S, "read-line") && bound(S, "memory-stats"),
        "output, read-line and the rest stay");
  sx_close(S);

  /* each capability alone */
  cfg.capabilities = SX_CAP_IO;
  S = sx_open(&cfg);
  expect_set(S, "io", io_prims, 4, 1);
  expect_set(S, "io", process_prims, 3, 0);
  CHECK_EVAL(S, "(file-exists? \"tests/api/sandbox.sx\")", "true");
  sx_close(S);
  cfg.capabilities = SX_CAP_PROCESS;
  S = sx_open(&cfg);
  expect_set(S, "process", process_prims, 3, 1);
  expect_set(S, "process", io_prims, 4, 0);
  sx_close(S);

  /* the sx command's set */
  cfg.capabilities = SX_CAP_ALL;
  S = sx_open(&cfg);
  expect_set(S, "all", io_prims, 4, 1);
  expect_set(S, "all", process_prims, 3, 1);
  expect_set(S, "all", eval_prims, 3, 1);
  CHECK((SX_CAP_ALL & SX_CAP_EVAL) && (SX_CAP_ALL & SX_CAP_DEFAULT) == SX_CAP_DEFAULT &&
            !(SX_CAP_DEFAULT & (SX_CAP_IO | SX_CAP_PROCESS | SX_CAP_DISK_CACHE)),
        "SX_CAP_ALL covers everything, SX_CAP_DEFAULT no files or process");
  sx_close(S);

  /* host I/O: every byte a script prints reaches the write callback; read-line reads the feed */
  capture out = {{0}, 0, 0};
  feed in = {"first line\nsecond \xce\xbb line\r\n\nlast without newline", 0, 5, 0};
  memset(&cfg, 0, sizeof cfg);
  cfg.write = capture_write;
  cfg.write_ud = &out;
  cfg.read = feed_read;
  cfg.read_ud = &in;
  S = sx_open(&cfg);
  sx_value v;
  sx_status st = sx_eval_file(S, "tests/api/sandbox.sx", &v);
  CHECK(st == SX_OK, "sandbox.sx: %s", sx_error_message(S));
  CHECK(!strcmp(out.buf, "display 1.5\"write\"\nprint a 2 :k\nprintln [1 2]\n"
                         "line: first line\nline: second \xce\xbb line\nline: \n"
                         "line: last without newline\nend\n"),
        "captured output:\n%s", out.buf);
  CHECK(!strcmp(sx_to_string(S, v, 1), "4"), "read 4 lines then nil: %s", sx_to_string(S, v, 1));
  CHECK(in.calls > 5, "the feed was asked in pieces (%d calls)", in.calls);
  CHECK_EVAL(S, "(read-line)", "nil"); /* stays at the end */
  sx_close(S);

  /* invalid UTF-8 in the input is an error, not a crash */
  feed bad = {"ok\n\xff\xfe\n", 0, 100, 0};
  cfg.read_ud = &bad;
  S = sx_open(&cfg);
  CHECK_EVAL(S, "(read-line)", "\"ok\"");
  CHECK(strstr(eval_show(S, "(read-line)"), "invalid UTF-8"), "bad input line");
  sx_close(S);
  return finish();
}
