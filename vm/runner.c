/* runner.c — the conformance test runner behind `sx test PATH...`: every file in one process,
 * each in a fresh environment, every test protected so one failure cannot affect another. */
#include <dirent.h>
#include <gc/gc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "state.h"

typedef struct {
  int passed, failed, skipped;
  int verbose;
} tally;

typedef struct {
  sx_val form;
  sx_env *env;
  sx_val result;
} job;

static void do_eval(sx_state *S, void *ud) {
  job *j = ud;
  S->cur_env = j->env;
  j->result = vm_eval(S, j->form, j->env);
}

/* Evaluates under protection: 0 and *out set, or 1 with S->raised. */
static int eval_protected(sx_state *S, sx_val form, sx_env *env, sx_val *out) {
  job j = {form, env, SX_NIL};
  int r = vm_protect(S, do_eval, &j);
  *out = r ? S->raised : j.result;
  return r;
}

static const char *shown(sx_state *S, sx_val v) {
  sx_val s = SX_NIL;
  job j = {0};
  (void)j;
  vm_buf b = {0};
  vm_print(S, &b, v, true);
  if (b.len > 300) {
    b.len = 300;
    vm_buf_add(&b, "...", 3);
  }
  (void)s;
  return b.buf ? b.buf : "";
}

static const char *error_shown(sx_state *S, sx_val err) {
  char *t = vm_error_text(S, err, false);
  return t;
}

static int form_line(sx_val f) { return vm_pair_line(f); }

static bool head_is(sx_state *S, sx_val f, const char *name) {
  return sx_is_pair(f) && sx_car(f) == vm_symbol(S, name);
}

typedef struct {
  const char *path;
  tally *t;
} file_job;

static void run_forms(sx_state *S, const char *path, sx_val forms, tally *t) {
  sx_env *env = vm_env_new(S, S->root);
  S->cur_file = vm_cstring(S, path);
  bool skipping = false;
  for (; sx_is_pair(forms); forms = sx_cdr(forms)) {
    sx_val f = sx_car(forms);
    int line = form_line(f);
    bool is_test = head_is(S, f, "test"), is_err = head_is(S, f, "test-error");
    if (skipping) {
      if (is_test || is_err) t->skipped++;
      continue;
    }
    if (head_is(S, f, "test-requires")) {
      /* (test-requires :native): the rest of the file needs the native tier on */
      sx_val what = sx_is_pair(sx_cdr(f)) ? sx_car(sx_cdr(f)) : SX_NIL;
      if (what == vm_keyword(S, "native") && (S->jit_threshold == INT32_MAX || !jit_available()))
        skipping = true;
      continue;
    }
    if (is_test) {
      size_t n = vm_list_length(f);
      if (n != 4 || !sx_is_string(sx_car(sx_cdr(f)))) {
        printf("%s:%d: malformed test form (want (test \"name\" expected expr))\n", path, line);
        t->failed++;
        continue;
      }
      const char *name = STR(sx_car(sx_cdr(f)))->data;
      sx_val expected, actual;
      if (eval_protected(S, sx_car(sx_cdr(sx_cdr(f))), env, &expected)) {
        printf("%s:%d: %s: expected value raised %s\n", path, line, name, error_shown(S, expected));
        t->failed++;
        continue;
      }
      if (eval_protected(S, sx_car(sx_cdr(sx_cdr(sx_cdr(f)))), env, &actual)) {
        printf("%s:%d: %s: expected %s, got %s\n", path, line, name, shown(S, expected),
               error_shown(S, actual));
        t->failed++;
        continue;
      }
      bool same = false;
      job j = {0};
      (void)j;
      sx_val eq;
      sx_val call = vm_list_from(S, 3, (sx_val[]){vm_symbol(S, "equal?"),
                                               vm_list_from(S, 2, (sx_val[]){S->sym_quote, expected}),
                                               vm_list_from(S, 2, (sx_val[]){S->sym_quote, actual})});
      if (eval_protected(S, call, S->root, &eq) == 0) same = eq == SX_TRUE;
      if (same) t->passed++;
      else {
        printf("%s:%d: %s: expected %s, got %s\n", path, line, name, shown(S, expected),
               shown(S, actual));
        t->failed++;
      }
      continue;
    }
    if (is_err) {
      size_t n = vm_list_length(f);
      if ((n != 3 && n != 4) || !sx_is_string(sx_car(sx_cdr(f)))) {
        printf("%s:%d: malformed test-error form\n", path, line);
        t->failed++;
        continue;
      }
      const char *name = STR(sx_car(sx_cdr(f)))->data;
      sx_val want = SX_NIL;
      if (n == 4) {
        if (eval_protected(S, sx_car(sx_cdr(sx_cdr(f))), env, &want) || !sx_is_string(want)) {
          printf("%s:%d: %s: the message pattern must be a string\n", path, line, name);
          t->failed++;
          continue;
        }
      }
      sx_val expr = n == 4 ? sx_car(sx_cdr(sx_cdr(sx_cdr(f)))) : sx_car(sx_cdr(sx_cdr(f)));
      sx_val r;
      if (!eval_protected(S, expr, env, &r)) {
        printf("%s:%d: %s: expected an error, got %s\n", path, line, name, shown(S, r));
        t->failed++;
        continue;
      }
      if (n == 4) {
        sx_val msg = sx_is_error(r) ? ERR(r)->message : vm_to_string(S, r, true);
        if (!strstr(STR(msg)->data, STR(want)->data)) {
          printf("%s:%d: %s: expected an error containing \"%s\", got %s\n", path, line, name,
                 STR(want)->data, error_shown(S, r));
          t->failed++;
          continue;
        }
      }
      t->passed++;
      continue;
    }
    sx_val r;
    if (eval_protected(S, f, env, &r)) {
      printf("%s:%d: top-level form failed: %s\n", path, line, error_shown(S, r));
      t->failed++;
    }
  }
}

static void read_and_run(sx_state *S, void *ud) {
  file_job *fj = ud;
  FILE *f = fopen(fj->path, "rb");
  if (!f) vm_error(S, "cannot open %s", fj->path);
  vm_buf b = {0};
  char chunk[65536];
  size_t k;
  while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) vm_buf_add(&b, chunk, k);
  fclose(f);
  sx_val file = vm_cstring(S, fj->path);
  S->cur_file = file;
  sx_val forms = vm_read_all(S, b.buf ? b.buf : "", b.len, file);
  vm_buf_free(&b);
  run_forms(S, fj->path, forms, fj->t);
}

static void run_file(sx_state *S, const char *path, tally *t) {
  tally before = *t;
  file_job fj = {path, t};
  if (vm_protect(S, read_and_run, &fj)) {
    printf("%s: %s\n", path, error_shown(S, S->raised));
    t->failed++;
  }
  if (t->verbose)
    printf("%-50s %d passed, %d failed, %d skipped\n", path, t->passed - before.passed,
           t->failed - before.failed, t->skipped - before.skipped);
  fflush(stdout);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(sx_state *S, const char *path, tally *t) {
  struct stat st;
  if (stat(path, &st) != 0) {
    printf("%s: no such file or directory\n", path);
    t->failed++;
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    run_file(S, path, t);
    return;
  }
  DIR *d = opendir(path);
  if (!d) {
    printf("%s: cannot open directory\n", path);
    t->failed++;
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    size_t len = strlen(e->d_name);
    char *full = malloc(strlen(path) + len + 2);
    sprintf(full, "%s/%s", path, e->d_name);
    struct stat es;
    bool dir = stat(full, &es) == 0 && S_ISDIR(es.st_mode);
    if (!dir && (len < 3 || strcmp(e->d_name + len - 3, ".sx"))) {
      free(full);
      continue;
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      names = realloc(names, cap * sizeof(char *));
    }
    names[n++] = full;
  }
  closedir(d);
  qsort(names, n, sizeof(char *), cmp_str);
  for (size_t i = 0; i < n; i++) {
    run_path(S, names[i], t);
    free(names[i]);
  }
  free(names);
}

int sx_run_tests(sx_state *S, int npaths, char **paths, int verbose) {
  tally t = {0, 0, 0, verbose};
  for (int i = 0; i < npaths; i++) run_path(S, paths[i], &t);
  if (t.skipped) printf("%d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
  else printf("%d passed, %d failed\n", t.passed, t.failed);
  fflush(stdout);
  return t.failed;
}
