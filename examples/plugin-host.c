/* plugin-host.c — a small host that runs untrusted plugins: each .sx file on the command line
 * is loaded into a sandboxed state of its own (no files, no process, no eval), sees two C
 * functions, and must define (transform line). The host then feeds it a few lines, each call
 * under fuel, allocation and time limits, and reports what failed and why; a plugin that breaks
 * never takes the host or the other plugins down.
 *
 *   cc plugin-host.c $(pkg-config --cflags --libs sx) -o plugin-host
 *   ./plugin-host examples/plugins/upcase.sx examples/plugins/runaway.sx ...
 *
 * The C functions a plugin sees:
 *   (host-log message)   print a line, prefixed with the plugin's name
 *   (host-lookup word)   the host's synonym for word (a string), or nil */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sx.h"

typedef struct {
  const char *name; /* the file, for messages */
  sx_state *S;
  sx_value transform; /* held with sx_ref: this struct is malloc'd, the collector cannot see it */
  int ok, failed;
} plugin;

/* ---- the two host functions ---------------------------------------------------------------- */

static sx_value host_log(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)argc;
  plugin *p = ud;
  size_t n;
  const char *msg = sx_get_string(argv[0], &n);
  if (!msg) return sx_raise(S, "host-log: expected a string, got %s", sx_type_name(argv[0]));
  printf("  [%s] %.*s\n", p->name, (int)n, msg);
  return sx_nil();
}

static const char *synonyms[][2] = {
    {"big", "large"}, {"quick", "fast"}, {"happy", "glad"}, {"small", "little"},
};

static sx_value host_lookup(sx_state *S, int argc, const sx_value *argv, void *ud) {
  (void)argc, (void)ud;
  const char *word = sx_get_string(argv[0], NULL);
  if (!word) return sx_raise(S, "host-lookup: expected a string, got %s", sx_type_name(argv[0]));
  for (size_t i = 0; i < sizeof synonyms / sizeof synonyms[0]; i++)
    if (!strcmp(synonyms[i][0], word)) return sx_make_string(S, synonyms[i][1], (size_t)-1);
  return sx_nil();
}

/* ---- plugins ---------------------------------------------------------------------------------- */

static void plugin_output(void *ud, const char *s, size_t n) {
  (void)ud;
  fwrite(s, 1, n, stdout); /* a real host might log or capture it */
}

static const char *status_name(sx_status st) {
  switch (st) {
  case SX_OK: return "ok";
  case SX_ERR_SYNTAX: return "syntax error";
  case SX_ERR_RUNTIME: return "error";
  case SX_ERR_MEMORY: return "memory limit";
  case SX_ERR_LIMIT: return "limit";
  case SX_ERR_INTERRUPTED: return "interrupted";
  }
  return "?";
}

/* Loading runs the plugin's top level under the same limits as each call. */
static int plugin_load(plugin *p, const char *path) {
  sx_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.capabilities = 0;        /* no files, no process, no eval, no native code */
  cfg.limits.fuel = 5000000;   /* loop iterations and tail calls per call */
  cfg.limits.alloc_quota = 32u << 20; /* bytes allocated per call */
  cfg.limits.deadline_ms = 2000;
  cfg.max_frames = 10000;      /* recursion depth */
  cfg.write = plugin_output;
  p->name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  p->S = sx_open(&cfg);
  if (!p->S) {
    printf("%s: cannot create a state\n", p->name);
    return 0;
  }
  if (sx_register(p->S, "host-log", host_log, 1, 1, p) != SX_OK ||
      sx_register(p->S, "host-lookup", host_lookup, 1, 1, NULL) != SX_OK) {
    printf("%s: %s\n", p->name, sx_error_message(p->S));
    return 0;
  }
  sx_status st = sx_eval_file(p->S, path, NULL);
  if (st != SX_OK) {
    printf("%s: not loaded (%s): %s\n", p->name, status_name(st), sx_error_message(p->S));
    return 0;
  }
  sx_value fn;
  if (sx_get_global(p->S, "transform", &fn) != SX_OK || sx_type_of(fn) != SX_TYPE_PROCEDURE) {
    printf("%s: not loaded: it does not define (transform line)\n", p->name);
    return 0;
  }
  p->transform = sx_ref(p->S, fn);
  printf("%s: loaded\n", p->name);
  return 1;
}

static void plugin_run(plugin *p, const char *line) {
  sx_value arg = sx_make_string(p->S, line, (size_t)-1), out;
  sx_status st = sx_call(p->S, p->transform, 1, &arg, &out);
  if (st == SX_OK) {
    p->ok++;
    printf("%s: \"%s\" -> %s\n", p->name, line, sx_to_string(p->S, out, 1));
  } else {
    p->failed++;
    printf("%s: \"%s\" failed (%s): %s\n", p->name, line, status_name(st),
           sx_error_message(p->S));
  }
}

static void plugin_close(plugin *p) {
  if (!p->S) return;
  if (p->transform) sx_unref(p->S, p->transform);
  sx_close(p->S);
}

int main(int argc, char **argv) {
  static const char *lines[] = {"the quick fox", "a big happy dog", ""};
  if (argc < 2) {
    fprintf(stderr, "usage: %s PLUGIN.sx...\n", argv[0]);
    return 64;
  }
  printf("plugin-host on SX %s\n", sx_version());
  plugin *plugins = calloc((size_t)argc - 1, sizeof(plugin));
  int loaded = 0, broken = 0;
  for (int i = 1; i < argc; i++) {
    if (plugin_load(&plugins[i - 1], argv[i])) loaded++;
    else broken++;
  }
  for (size_t l = 0; l < sizeof lines / sizeof lines[0]; l++)
    for (int i = 0; i < argc - 1; i++)
      if (plugins[i].transform) plugin_run(&plugins[i], lines[l]);
  int calls_ok = 0, calls_failed = 0;
  for (int i = 0; i < argc - 1; i++) {
    calls_ok += plugins[i].ok;
    calls_failed += plugins[i].failed;
    plugin_close(&plugins[i]);
  }
  free(plugins);
  printf("%d plugins loaded, %d refused; %d calls ok, %d failed\n", loaded, broken, calls_ok,
         calls_failed);
  return 0;
}
