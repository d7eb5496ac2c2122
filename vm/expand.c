/* expand.c — the compiler's first pass: macros and special forms expanded into a small tree of
 * nodes (ast.h) with every variable resolved — a local is a `var` record, a global its cell,
 * found or created at compile time so running code never looks a name up. While resolving, it
 * learns which locals inner lambdas capture and which are assigned, so the second pass
 * (compiler.c) knows which captured locals need boxes. */
#include <gc/gc.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"

/* ---- special forms ---------------------------------------------------------------------- */

#define SPECIAL_FORMS(X)                                                                       \
  X(QUOTE, "quote") X(QUASIQUOTE, "quasiquote") X(UNQUOTE, "unquote")                          \
  X(UNQUOTE_SPLICING, "unquote-splicing") X(IF, "if") X(DEFINE, "define") X(SET, "set!")       \
  X(FN, "fn") X(LAMBDA, "lambda") X(LET, "let") X(LETSTAR, "let*") X(LETREC, "letrec")         \
  X(LETRECSTAR, "letrec*") X(DO, "do") X(BEGIN, "begin") X(COND, "cond") X(CASE, "case")       \
  X(WHEN, "when") X(UNLESS, "unless") X(AND, "and") X(OR, "or")                                 \
  X(DEFINE_MACRO, "define-macro") X(TRY, "try")

enum {
#define X(id, name) SF_##id,
  SPECIAL_FORMS(X)
#undef X
  SF__COUNT
};

static const char *special_names[] = {
#define X(id, name) name,
    SPECIAL_FORMS(X)
#undef X
};

SX_INTERNAL void vm_compiler_init(sx_state *S);
void vm_compiler_init(sx_state *S) {
  for (int i = 0; i < SF__COUNT; i++) SYM(vm_symbol(S, special_names[i]))->special = i;
}

static void *cmalloc(sx_state *S, size_t n) {
  void *p = GC_MALLOC(n);
  if (!p) vm_error(S, "out of memory");
  return p;
}

static SX_NORETURN void syntax_error(cx *c, sx_val form, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void syntax_error(cx *c, sx_val form, const char *fmt, ...) {
  sx_state *S = c->S;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sx_val e = vm_make_error(S, vm_cstring(S, msg), form == SX_UNBOUND ? SX_EMPTY : vm_cons(S, form, SX_EMPTY));
  uint32_t pos = sx_is_pair(form) && vm_pair_line(form) ? POS_PACK(vm_pair_line(form), vm_pair_col(form)) : c->pos;
  if (POS_LINE(pos)) {
    char where[600];
    snprintf(where, sizeof where, "%s:%u:%u",
             sx_is_string(S->cur_file) ? STR(S->cur_file)->data : "<input>", POS_LINE(pos),
             POS_COL(pos));
    ERR(e)->where = vm_cstring(S, where);
  }
  vm_raise(S, e);
}

static node *mknode(cx *c, node_kind k, int n) {
  node *nd = cmalloc(c->S, sizeof(node));
  nd->kind = k;
  nd->pos = c->pos;
  nd->n = n;
  if (n) nd->kids = cmalloc(c->S, (size_t)n * sizeof(node *));
  return nd;
}

static node *mkconst(cx *c, sx_val v) {
  node *nd = mknode(c, N_CONST, 0);
  nd->val = v;
  return nd;
}

/* ---- resolution ------------------------------------------------------------------------- */

static var *lookup_local(cx *c, sx_val sym) {
  for (scope *s = c->sc; s; s = s->up)
    for (int i = s->n - 1; i >= 0; i--)
      if (s->vars[i]->name == sym) return s->vars[i];
  return NULL;
}

static void add_free(cx *c, lam *f, var *v) {
  for (int i = 0; i < f->nfree; i++)
    if (f->free[i] == v) return;
  if (f->nfree == f->capfree) {
    int ncap = f->capfree ? f->capfree * 2 : 4;
    var **nf = cmalloc(c->S, (size_t)ncap * sizeof(var *));
    if (f->nfree) memcpy(nf, f->free, (size_t)f->nfree * sizeof(var *));
    f->free = nf;
    f->capfree = ncap;
  }
  f->free[f->nfree++] = v;
}

/* A reference to v from the current lambda: record captures along the way out. */
static void note_reference(cx *c, var *v) {
  if (v->owner == c->fn) return;
  v->captured = true;
  lam *f = c->fn, *outermost = NULL;
  for (; f && f != v->owner; f = f->parent) {
    add_free(c, f, v);
    outermost = f;
  }
  if (!outermost || !v->grp || outermost->init_of != v->grp) v->general = true;
}

static var *new_var(cx *c, sx_val name) {
  var *v = cmalloc(c->S, sizeof(var));
  v->name = name;
  v->owner = c->fn;
  v->slot = -1;
  return v;
}

static scope *push_scope(cx *c, int n) {
  scope *s = cmalloc(c->S, sizeof(scope));
  s->up = c->sc;
  s->fn = c->fn;
  s->vars = n ? cmalloc(c->S, (size_t)n * sizeof(var *)) : NULL;
  c->sc = s;
  return s;
}

/* The global cell a name refers to; created (unbound) in the current env if nowhere yet. */
static sx_cell *global_cell(cx *c, sx_val sym) {
  sx_cell *cell = vm_env_lookup(c->env, sym);
  if (!cell) cell = vm_env_define(c->S, c->env, sym);
  return cell;
}

/* ---- helpers on forms ------------------------------------------------------------------- */

static size_t form_length(cx *c, sx_val form) {
  size_t n = vm_list_length(form);
  if (n == (size_t)-1) syntax_error(c, form, "improper list in code");
  return n;
}

static sx_val nth(sx_val l, size_t i) {
  while (i--) l = sx_cdr(l);
  return sx_car(l);
}

static sx_val sym_of(cx *c, sx_val form, const char *name) {
  return vm_symbol(c->S, name);
  (void)form;
}

static bool is_special(cx *c, sx_val head, int which) {
  return sx_is_symbol(head) && SYM(head)->special == which && !lookup_local(c, head);
}

/* The macro a form's head names, if any (locals shadow macros). */
static sx_val macro_of(cx *c, sx_val form) {
  if (!sx_is_pair(form)) return 0;
  sx_val head = sx_car(form);
  if (!sx_is_symbol(head) || lookup_local(c, head)) return 0;
  sx_cell *cell = vm_env_lookup(c->env, head);
  if (cell && sx_is_type(cell->value, T_MACRO)) return cell->value;
  return 0;
}

static sx_val copy_position(sx_val result, sx_val form) {
  if (sx_is_pair(result) && !vm_pair_line(result) && vm_pair_line(form)) {
    PAIR(result)->h.aux = PAIR(form)->h.aux;
    PAIR(result)->h.extra = PAIR(form)->h.extra;
  }
  return result;
}

static sx_val expand_macro_once(cx *c, sx_val macro, sx_val form) {
  size_t n = form_length(c, form) - 1;
  sx_val *args = cmalloc(c->S, (n + 1) * sizeof(sx_val));
  size_t i = 0;
  for (sx_val a = sx_cdr(form); sx_is_pair(a); a = sx_cdr(a)) args[i++] = sx_car(a);
  if (n > 100000) syntax_error(c, form, "too many arguments to macro");
  sx_val r = vm_call(c->S, MACRO(macro)->proc, (int)n, args);
  return copy_position(r, form);
}

static sx_val expand_head(cx *c, sx_val form) {
  for (int guard = 0;; guard++) {
    sx_val m = macro_of(c, form);
    if (!m) return form;
    if (guard > 10000) syntax_error(c, form, "macro expansion does not terminate");
    form = expand_macro_once(c, m, form);
  }
}

/* ---- pass 1: expand --------------------------------------------------------------------- */

static node *expand(cx *c, sx_val x);
static node *expand_body(cx *c, sx_val body, sx_val whole);
static node *expand_lambda(cx *c, sx_val params, sx_val body, sx_val name, sx_val whole,
                           group *init_of);

static node *expand_seq(cx *c, sx_val forms) {
  size_t n = vm_list_length(forms);
  if (n == 0) return mkconst(c, SX_NIL);
  if (n == 1) return expand(c, sx_car(forms));
  node *nd = mknode(c, N_SEQ, (int)n);
  int i = 0;
  for (; sx_is_pair(forms); forms = sx_cdr(forms)) nd->kids[i++] = expand(c, sx_car(forms));
  return nd;
}

static node *expand_ref(cx *c, sx_val sym) {
  var *v = lookup_local(c, sym);
  if (v) {
    note_reference(c, v);
    node *nd = mknode(c, N_LREF, 0);
    nd->v = v;
    return nd;
  }
  sx_cell *cell = global_cell(c, sym);
  if (sx_is_type(cell->value, T_MACRO))
    syntax_error(c, sym, "macro %s used as a variable", STR(SYM(sym)->name)->data);
  if ((cell->h.flags & CELL_CONST)) return mkconst(c, cell->value);
  node *nd = mknode(c, N_GREF, 0);
  nd->val = sx_from_obj(cell);
  return nd;
}

static node *expand_set(cx *c, sx_val x) {
  if (form_length(c, x) != 3 || !sx_is_symbol(nth(x, 1)))
    syntax_error(c, x, "set!: expected (set! name expr)");
  sx_val sym = nth(x, 1);
  node *val = expand(c, nth(x, 2));
  var *v = lookup_local(c, sym);
  if (v) {
    note_reference(c, v);
    v->assigned = true;
    node *nd = mknode(c, N_LSET, 1);
    nd->v = v;
    nd->kids[0] = val;
    return nd;
  }
  sx_cell *cell = global_cell(c, sym);
  if (cell->h.flags & CELL_CONST)
    syntax_error(c, x, "set!: cannot assign the builtin %s (define your own instead)",
                 STR(SYM(sym)->name)->data);
  node *nd = mknode(c, N_GSET, 1);
  nd->val = sx_from_obj(cell);
  nd->kids[0] = val;
  return nd;
}

/* (define name expr) / (define (name . params) body...) -> name, value form */
static void parse_define(cx *c, sx_val x, sx_val *name, sx_val *value, bool *is_lambda,
                         sx_val *params, sx_val *body) {
  size_t n = form_length(c, x);
  if (n < 2) syntax_error(c, x, "define: expected a name");
  sx_val target = nth(x, 1);
  *is_lambda = false;
  if (sx_is_pair(target)) {
    if (!sx_is_symbol(sx_car(target))) syntax_error(c, x, "define: bad function name");
    *name = sx_car(target);
    *params = sx_cdr(target);
    *body = sx_cdr(sx_cdr(x));
    *is_lambda = true;
    *value = SX_NIL;
    return;
  }
  if (!sx_is_symbol(target)) syntax_error(c, x, "define: expected a symbol, got %s", vm_type_name(target));
  if (n > 3) syntax_error(c, x, "define: too many forms");
  *name = target;
  *value = n == 3 ? nth(x, 2) : SX_NIL;
}

static node *expand_value(cx *c, sx_val form, sx_val name, group *g) {
  /* a lambda bound to a name gets the name, and knows its letrec group */
  form = expand_head(c, form);
  if (sx_is_pair(form) &&
      (is_special(c, sx_car(form), SF_FN) || is_special(c, sx_car(form), SF_LAMBDA))) {
    if (form_length(c, form) < 2) syntax_error(c, form, "fn: expected parameters");
    return expand_lambda(c, nth(form, 1), sx_cdr(sx_cdr(form)), name, form, g);
  }
  return expand(c, form);
}

static node *expand_global_define(cx *c, sx_val x) {
  sx_val name, value, params = SX_NIL, body = SX_NIL;
  bool is_lambda;
  parse_define(c, x, &name, &value, &is_lambda, &params, &body);
  sx_cell *cell = vm_env_define(c->S, c->env, name);
  if (cell->h.flags & CELL_CONST)
    syntax_error(c, x, "define: cannot redefine the builtin %s here", STR(SYM(name)->name)->data);
  node *nd = mknode(c, N_GDEF, 1);
  nd->val = sx_from_obj(cell);
  nd->kids[0] = is_lambda ? expand_lambda(c, params, body, name, x, NULL)
                          : expand_value(c, value, name, NULL);
  return nd;
}

static void parse_params(cx *c, sx_val params, sx_val whole, sx_val *names, int *n, bool *rest) {
  *n = 0;
  *rest = false;
  sx_val p = params;
  for (; sx_is_pair(p); p = sx_cdr(p)) {
    sx_val s = sx_car(p);
    if (!sx_is_symbol(s)) syntax_error(c, whole, "fn: parameter must be a symbol");
    if (s == c->S->sym_amp) {
      sx_val r = sx_cdr(p);
      if (!sx_is_pair(r) || !sx_is_symbol(sx_car(r)) || !sx_is_listend(sx_cdr(r)))
        syntax_error(c, whole, "fn: & must be followed by exactly one name");
      if (*n >= 250) syntax_error(c, whole, "fn: too many parameters");
      names[(*n)++] = sx_car(r);
      *rest = true;
      return;
    }
    if (*n >= 250) syntax_error(c, whole, "fn: too many parameters");
    names[(*n)++] = s;
  }
  if (sx_is_symbol(p)) {
    names[(*n)++] = p;
    *rest = true;
  } else if (!sx_is_listend(p)) {
    syntax_error(c, whole, "fn: bad parameter list");
  }
}

static node *expand_lambda(cx *c, sx_val params, sx_val body, sx_val name, sx_val whole,
                           group *init_of) {
  sx_val names[256];
  int n;
  bool rest;
  parse_params(c, params, whole, names, &n, &rest);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < i; j++)
      if (names[i] == names[j]) syntax_error(c, whole, "fn: duplicate parameter");
  lam *f = cmalloc(c->S, sizeof(lam));
  f->parent = c->fn;
  f->name = name;
  f->init_of = init_of;
  f->rest = rest;
  f->nparams = n;
  f->pos = sx_is_pair(whole) && vm_pair_line(whole) ? POS_PACK(vm_pair_line(whole), vm_pair_col(whole)) : c->pos;
  cx inner = *c;
  inner.fn = f;
  scope *s = push_scope(&inner, n);
  f->params = s->vars;
  for (int i = 0; i < n; i++) s->vars[s->n++] = new_var(&inner, names[i]);
  f->body = expand_body(&inner, body, whole);
  node *nd = mknode(c, N_LAMBDA, 0);
  nd->fn = f;
  nd->pos = f->pos;
  return nd;
}

/* A body: leading/interleaved internal defines become one letrec* group (N_BODY). */
static node *expand_body(cx *c, sx_val body, sx_val whole) {
  size_t n = form_length(c, body);
  if (n == 0) return mkconst(c, SX_NIL);
  /* expand heads, splice begin/do, find defines */
  sx_val forms = SX_EMPTY;
  int ndefs = 0;
  sx_val work = vm_reverse(c->S, body);
  sx_val stack = SX_EMPTY; /* forms to look at, in order */
  for (; sx_is_pair(work); work = sx_cdr(work)) stack = vm_cons(c->S, sx_car(work), stack);
  while (sx_is_pair(stack)) {
    sx_val f = sx_car(stack);
    stack = sx_cdr(stack);
    uint32_t save = c->pos;
    if (sx_is_pair(f) && vm_pair_line(f)) c->pos = POS_PACK(vm_pair_line(f), vm_pair_col(f));
    f = expand_head(c, f);
    c->pos = save;
    if (sx_is_pair(f) && (is_special(c, sx_car(f), SF_BEGIN) || is_special(c, sx_car(f), SF_DO))) {
      form_length(c, f);
      sx_val inner = vm_reverse(c->S, sx_cdr(f));
      for (; sx_is_pair(inner); inner = sx_cdr(inner)) stack = vm_cons(c->S, sx_car(inner), stack);
      continue;
    }
    if (sx_is_pair(f) && is_special(c, sx_car(f), SF_DEFINE)) ndefs++;
    if (sx_is_pair(f) && is_special(c, sx_car(f), SF_DEFINE_MACRO))
      syntax_error(c, f, "define-macro is only allowed at top level");
    forms = vm_cons(c->S, f, forms);
  }
  forms = vm_reverse(c->S, forms);
  if (!ndefs) return expand_seq(c, forms);
  if (forms == SX_EMPTY) return mkconst(c, SX_NIL);

  group *g = cmalloc(c->S, sizeof(group));
  scope *s = push_scope(c, ndefs);
  size_t nforms = vm_list_length(forms);
  node *nd = mknode(c, N_BODY, (int)nforms);
  nd->vars = cmalloc(c->S, nforms * sizeof(var *));
  /* first bind every defined name, so the inits can refer to each other */
  sx_val names[1];
  (void)names;
  for (sx_val l = forms; sx_is_pair(l); l = sx_cdr(l)) {
    sx_val f = sx_car(l);
    if (sx_is_pair(f) && is_special(c, sx_car(f), SF_DEFINE)) {
      sx_val name, value, params, body2;
      bool is_lambda;
      parse_define(c, f, &name, &value, &is_lambda, &params, &body2);
      var *v = NULL;
      for (int i = 0; i < s->n; i++)
        if (s->vars[i]->name == name) v = s->vars[i];
      if (!v) {
        v = new_var(c, name);
        v->grp = g;
        s->vars[s->n++] = v;
      }
    }
  }
  int i = 0;
  for (sx_val l = forms; sx_is_pair(l); l = sx_cdr(l), i++) {
    sx_val f = sx_car(l);
    if (sx_is_pair(f) && vm_pair_line(f)) c->pos = POS_PACK(vm_pair_line(f), vm_pair_col(f));
    if (sx_is_pair(f) && is_special(c, sx_car(f), SF_DEFINE)) {
      sx_val name, value, params = SX_NIL, body2 = SX_NIL;
      bool is_lambda;
      parse_define(c, f, &name, &value, &is_lambda, &params, &body2);
      var *v = lookup_local(c, name);
      nd->vars[i] = v;
      nd->kids[i] = is_lambda ? expand_lambda(c, params, body2, name, f, g)
                              : expand_value(c, value, name, g);
      if (nd->kids[i]->kind == N_LAMBDA) v->fn = nd->kids[i]->fn;
    } else {
      nd->vars[i] = NULL;
      nd->kids[i] = expand(c, f);
    }
  }
  nd->nvars = s->n;
  c->sc = s->up;
  (void)whole;
  return nd;
}

/* One binding of let form x, as (name) or (name init): a bare name is (name). */
static sx_val let_binding(cx *c, sx_val x, sx_val bd) {
  if (sx_is_symbol(bd)) bd = vm_cons(c->S, bd, SX_EMPTY);
  if (!sx_is_pair(bd) || !sx_is_symbol(sx_car(bd)) || form_length(c, bd) > 2)
    syntax_error(c, x, "let: bad binding");
  return bd;
}

/* (let ((v e) ...) body) ; also named let */
static node *expand_let(cx *c, sx_val x) {
  size_t n = form_length(c, x);
  if (n < 2) syntax_error(c, x, "let: expected bindings");
  sx_val second = nth(x, 1);
  if (sx_is_symbol(second)) {
    /* named let: (letrec ((name (fn (vars) body))) (name inits...)) */
    if (n < 3) syntax_error(c, x, "let: expected bindings after the loop name");
    sx_val bindings = nth(x, 2);
    size_t nb = form_length(c, bindings);
    sx_val vars = SX_EMPTY;
    node **inits = cmalloc(c->S, (nb + 1) * sizeof(node *));
    size_t i = 0;
    for (sx_val b = bindings; sx_is_pair(b); b = sx_cdr(b), i++) {
      sx_val bd = let_binding(c, x, sx_car(b));
      vars = vm_cons(c->S, sx_car(bd), vars);
      inits[i] = form_length(c, bd) == 2 ? expand(c, nth(bd, 1)) : mkconst(c, SX_NIL);
    }
    vars = vm_reverse(c->S, vars);
    group *g = cmalloc(c->S, sizeof(group));
    scope *s = push_scope(c, 1);
    var *loop = new_var(c, second);
    loop->grp = g;
    s->vars[s->n++] = loop;
    node *fn = expand_lambda(c, vars, sx_cdr(sx_cdr(sx_cdr(x))), second, x, g);
    loop->fn = fn->fn;
    node *call = mknode(c, N_CALL, (int)nb + 1);
    node *ref = mknode(c, N_LREF, 0);
    ref->v = loop;
    note_reference(c, loop);
    call->kids[0] = ref;
    for (i = 0; i < nb; i++) call->kids[i + 1] = inits[i];
    c->sc = s->up;
    node *body = mknode(c, N_BODY, 2);
    body->vars = cmalloc(c->S, 2 * sizeof(var *));
    body->vars[0] = loop;
    body->vars[1] = NULL;
    body->kids[0] = fn;
    body->kids[1] = call;
    body->nvars = 1;
    return body;
  }
  size_t nb = form_length(c, second);
  node *nd = mknode(c, N_LET, (int)nb + 1);
  nd->vars = cmalloc(c->S, (nb + 1) * sizeof(var *));
  nd->nvars = (int)nb;
  size_t i = 0;
  for (sx_val b = second; sx_is_pair(b); b = sx_cdr(b), i++) {
    sx_val bd = let_binding(c, x, sx_car(b));
    nd->kids[i] = form_length(c, bd) == 2 ? expand_value(c, nth(bd, 1), sx_car(bd), NULL)
                                         : mkconst(c, SX_NIL);
  }
  scope *s = push_scope(c, (int)nb);
  i = 0;
  for (sx_val b = second; sx_is_pair(b); b = sx_cdr(b), i++) {
    sx_val bd = sx_car(b);
    sx_val name = sx_is_symbol(bd) ? bd : sx_car(bd);
    var *v = new_var(c, name);
    nd->vars[i] = v;
    s->vars[s->n++] = v;
  }
  nd->kids[nb] = expand_body(c, sx_cdr(sx_cdr(x)), x);
  c->sc = s->up;
  return nd;
}

/* let* nests; letrec is a body of defines */
static sx_val list2(sx_state *S, sx_val a, sx_val b) { return vm_cons(S, a, vm_cons(S, b, SX_EMPTY)); }
static sx_val list3(sx_state *S, sx_val a, sx_val b, sx_val c) {
  return vm_cons(S, a, list2(S, b, c));
}

static sx_val located_like(sx_val form, sx_val x) { return copy_position(form, x); }

static node *expand_letstar(cx *c, sx_val x) {
  if (form_length(c, x) < 2) syntax_error(c, x, "let*: expected bindings");
  sx_val bindings = nth(x, 1);
  form_length(c, bindings);
  sx_val body = sx_cdr(sx_cdr(x));
  if (bindings == SX_EMPTY || bindings == SX_NIL)
    return expand(c, located_like(vm_cons(c->S, sym_of(c, x, "let"), vm_cons(c->S, SX_EMPTY, body)), x));
  sx_val rev = vm_reverse(c->S, bindings);
  sx_val inner = located_like(vm_cons(c->S, sym_of(c, x, "let"),
                                      vm_cons(c->S, vm_cons(c->S, sx_car(rev), SX_EMPTY), body)), x);
  for (rev = sx_cdr(rev); sx_is_pair(rev); rev = sx_cdr(rev))
    inner = located_like(list3(c->S, sym_of(c, x, "let"), vm_cons(c->S, sx_car(rev), SX_EMPTY), inner), x);
  return expand(c, inner);
}

static node *expand_letrec(cx *c, sx_val x) {
  if (form_length(c, x) < 3) syntax_error(c, x, "letrec: expected bindings and a body");
  sx_val defs = SX_EMPTY;
  for (sx_val b = nth(x, 1); sx_is_pair(b); b = sx_cdr(b)) {
    sx_val bd = sx_car(b);
    if (!sx_is_pair(bd) || !sx_is_symbol(sx_car(bd)) || form_length(c, bd) != 2)
      syntax_error(c, x, "letrec: bad binding");
    defs = vm_cons(c->S, located_like(vm_cons(c->S, c->S->sym_define, bd), bd), defs);
  }
  sx_val body = sx_cdr(sx_cdr(x));
  for (; sx_is_pair(defs); defs = sx_cdr(defs)) body = vm_cons(c->S, sx_car(defs), body);
  /* a fresh scope so the defines do not merge into an enclosing body */
  sx_val let = located_like(vm_cons(c->S, sym_of(c, x, "let"), vm_cons(c->S, SX_EMPTY, body)), x);
  return expand(c, let);
}

static node *expand_if(cx *c, sx_val x) {
  size_t n = form_length(c, x);
  if (n < 3 || n > 4) syntax_error(c, x, "if: expected (if test then [else])");
  node *nd = mknode(c, N_IF, 3);
  nd->kids[0] = expand(c, nth(x, 1));
  nd->kids[1] = expand(c, nth(x, 2));
  nd->kids[2] = n == 4 ? expand(c, nth(x, 3)) : mkconst(c, SX_NIL);
  return nd;
}

static node *mkif(cx *c, node *a, node *b, node *e) {
  node *nd = mknode(c, N_IF, 3);
  nd->kids[0] = a, nd->kids[1] = b, nd->kids[2] = e;
  return nd;
}

static node *mkcall_prim(cx *c, const char *prim, int n, node **args) {
  sx_cell *cell = vm_env_lookup(c->S->root, vm_symbol(c->S, prim));
  node *nd = mknode(c, N_CALL, n + 1);
  nd->kids[0] = mkconst(c, cell->value);
  for (int i = 0; i < n; i++) nd->kids[i + 1] = args[i];
  return nd;
}

/* A temporary local in the current scope for cond => and case. */
static node *with_temp(cx *c, node *init, var **out) {
  scope *s = push_scope(c, 1);
  var *v = new_var(c, vm_symbol(c->S, " tmp"));
  s->vars[s->n++] = v;
  *out = v;
  node *nd = mknode(c, N_LET, 2);
  nd->vars = cmalloc(c->S, sizeof(var *));
  nd->vars[0] = v;
  nd->nvars = 1;
  nd->kids[0] = init;
  return nd; /* caller fills kids[1] and pops the scope */
}

static node *lref(cx *c, var *v) {
  node *nd = mknode(c, N_LREF, 0);
  nd->v = v;
  note_reference(c, v);
  return nd;
}

static node *expand_cond_clauses(cx *c, sx_val clauses, sx_val whole) {
  if (!sx_is_pair(clauses)) return mkconst(c, SX_NIL);
  sx_val cl = sx_car(clauses);
  if (!sx_is_pair(cl)) syntax_error(c, whole, "cond: clause must be a list");
  form_length(c, cl);
  if (sx_is_pair(cl) && vm_pair_line(cl)) c->pos = POS_PACK(vm_pair_line(cl), vm_pair_col(cl));
  sx_val test = sx_car(cl), body = sx_cdr(cl);
  if (test == c->S->sym_else && !lookup_local(c, test)) {
    if (sx_is_pair(sx_cdr(clauses))) syntax_error(c, whole, "cond: else must be the last clause");
    return expand_seq(c, body);
  }
  if (sx_is_pair(body) && sx_car(body) == c->S->sym_arrow) {
    if (form_length(c, body) != 2) syntax_error(c, whole, "cond: => takes one procedure");
    var *t;
    node *let = with_temp(c, expand(c, test), &t);
    node *call = mknode(c, N_CALL, 2);
    call->kids[0] = expand(c, nth(body, 1));
    call->kids[1] = lref(c, t);
    let->kids[1] = mkif(c, lref(c, t), call, expand_cond_clauses(c, sx_cdr(clauses), whole));
    c->sc = c->sc->up;
    return let;
  }
  if (body == SX_EMPTY || body == SX_NIL) {
    /* (cond (x) ...) yields x when truthy */
    node *nd = mknode(c, N_OR, 2);
    nd->kids[0] = expand(c, test);
    nd->kids[1] = expand_cond_clauses(c, sx_cdr(clauses), whole);
    return nd;
  }
  node *t = expand(c, test);
  node *b = expand_seq(c, body);
  return mkif(c, t, b, expand_cond_clauses(c, sx_cdr(clauses), whole));
}

static node *expand_case(cx *c, sx_val x) {
  if (form_length(c, x) < 2) syntax_error(c, x, "case: expected a key");
  var *t;
  node *let = with_temp(c, expand(c, nth(x, 1)), &t);
  /* build the if chain from the last clause backwards */
  sx_val clauses = vm_reverse(c->S, sx_cdr(sx_cdr(x)));
  node *chain = mkconst(c, SX_NIL);
  bool first = true;
  for (; sx_is_pair(clauses); clauses = sx_cdr(clauses), first = false) {
    sx_val cl = sx_car(clauses);
    if (!sx_is_pair(cl)) syntax_error(c, x, "case: clause must be a list");
    form_length(c, cl);
    sx_val data = sx_car(cl);
    node *body;
    sx_val rest = sx_cdr(cl);
    if (sx_is_pair(rest) && sx_car(rest) == c->S->sym_arrow) {
      node *call = mknode(c, N_CALL, 2);
      call->kids[0] = expand(c, nth(rest, 1));
      call->kids[1] = lref(c, t);
      body = call;
    } else {
      body = expand_seq(c, rest);
    }
    if (data == c->S->sym_else) {
      if (!first) syntax_error(c, x, "case: else must be the last clause");
      chain = body;
      continue;
    }
    if (!sx_is_listend(data) && !sx_is_pair(data)) data = vm_cons(c->S, data, SX_EMPTY);
    form_length(c, data);
    node *test = NULL;
    sx_val rd = vm_reverse(c->S, data);
    for (; sx_is_pair(rd); rd = sx_cdr(rd)) {
      node *args[2] = {lref(c, t), mkconst(c, sx_car(rd))};
      node *eq = mkcall_prim(c, "eqv?", 2, args);
      if (!test) test = eq;
      else {
        node *o = mknode(c, N_OR, 2);
        o->kids[0] = eq;
        o->kids[1] = test;
        test = o;
      }
    }
    chain = test ? mkif(c, test, body, chain) : chain;
  }
  let->kids[1] = chain;
  c->sc = c->sc->up;
  return let;
}

static node *expand_andor(cx *c, sx_val x, node_kind k) {
  size_t n = form_length(c, x) - 1;
  if (n == 0) return mkconst(c, k == N_AND ? SX_TRUE : SX_FALSE);
  if (n == 1) return expand(c, nth(x, 1));
  node *nd = mknode(c, k, (int)n);
  int i = 0;
  for (sx_val l = sx_cdr(x); sx_is_pair(l); l = sx_cdr(l)) nd->kids[i++] = expand(c, sx_car(l));
  return nd;
}

static node *expand_try(cx *c, sx_val x) {
  form_length(c, x);
  sx_val body = SX_EMPTY, catch_clause = 0, finally_clause = 0;
  for (sx_val l = sx_cdr(x); sx_is_pair(l); l = sx_cdr(l)) {
    sx_val f = sx_car(l);
    if (sx_is_pair(f) && sx_car(f) == c->S->sym_catch) {
      if (catch_clause || finally_clause) syntax_error(c, x, "try: misplaced catch");
      catch_clause = f;
    } else if (sx_is_pair(f) && sx_car(f) == c->S->sym_finally) {
      if (finally_clause) syntax_error(c, x, "try: more than one finally");
      finally_clause = f;
    } else {
      if (catch_clause || finally_clause) syntax_error(c, x, "try: body forms must come before catch/finally");
      body = vm_cons(c->S, f, body);
    }
  }
  body = vm_reverse(c->S, body);
  node *nd = mknode(c, N_TRY, 3);
  nd->kids[0] = expand_body(c, body, x);
  if (catch_clause) {
    if (form_length(c, catch_clause) < 2 || !sx_is_symbol(nth(catch_clause, 1)))
      syntax_error(c, x, "try: expected (catch name handler...)");
    scope *s = push_scope(c, 1);
    var *v = new_var(c, nth(catch_clause, 1));
    s->vars[s->n++] = v;
    nd->catchvar = v;
    nd->kids[1] = expand_body(c, sx_cdr(sx_cdr(catch_clause)), x);
    c->sc = s->up;
  }
  if (finally_clause) nd->kids[2] = expand_body(c, sx_cdr(finally_clause), x);
  return nd;
}

/* quasiquote, with nesting depth; also inside vectors and dicts */
static node *qq(cx *c, sx_val x, int depth);

static bool is_tagged(cx *c, sx_val x, sx_val sym) {
  (void)c;
  return sx_is_pair(x) && sx_car(x) == sym && sx_is_pair(sx_cdr(x)) && sx_is_listend(sx_cdr(sx_cdr(x)));
}

static node *qq_list(cx *c, sx_val x, int depth) {
  sx_state *S = c->S;
  /* x is a pair (possibly improper) */
  if (is_tagged(c, x, S->sym_unquote)) {
    if (depth == 0) return expand(c, nth(x, 1));
    node *a[2] = {mkconst(c, S->sym_unquote), qq(c, nth(x, 1), depth - 1)};
    return mkcall_prim(c, "list", 2, a);
  }
  if (is_tagged(c, x, S->sym_quasiquote)) {
    node *a[2] = {mkconst(c, S->sym_quasiquote), qq(c, nth(x, 1), depth + 1)};
    return mkcall_prim(c, "list", 2, a);
  }
  sx_val head = sx_car(x);
  node *rest = sx_is_pair(sx_cdr(x)) ? qq_list(c, sx_cdr(x), depth) : qq(c, sx_cdr(x), depth);
  if (is_tagged(c, head, S->sym_unquote_splicing)) {
    node *spliced;
    if (depth == 0) spliced = expand(c, nth(head, 1));
    else {
      node *a[2] = {mkconst(c, S->sym_unquote_splicing), qq(c, nth(head, 1), depth - 1)};
      node *l = mkcall_prim(c, "list", 2, a);
      node *b[2] = {l, rest};
      return mkcall_prim(c, "cons", 2, b);
    }
    node *b[2] = {spliced, rest};
    return mkcall_prim(c, "append", 2, b);
  }
  node *b[2] = {qq(c, head, depth), rest};
  return mkcall_prim(c, "cons", 2, b);
}

static node *qq(cx *c, sx_val x, int depth) {
  vm_check_cstack(c->S);
  if (sx_is_pair(x)) return qq_list(c, x, depth);
  if (sx_is_vector(x)) {
    sx_val l = vm_list_from(c->S, VEC(x)->len, VEC(x)->items);
    if (l == SX_EMPTY) return mkcall_prim(c, "vector", 0, NULL);
    node *a[1] = {qq_list(c, l, depth)};
    return mkcall_prim(c, "list->vector", 1, a);
  }
  if (sx_is_dict(x)) {
    sx_dict *d = DICT(x);
    int n = (int)d->count * 2, k = 0;
    node **args = cmalloc(c->S, (size_t)(n + 1) * sizeof(node *));
    for (size_t i = 0; i < d->used; i++) {
      if (d->entries[i].key == SX_UNBOUND) continue;
      args[k++] = qq(c, d->entries[i].key, depth);
      args[k++] = qq(c, d->entries[i].val, depth);
    }
    return mkcall_prim(c, "dict", n, args);
  }
  return mkconst(c, x);
}

static node *expand_call(cx *c, sx_val x) {
  size_t n = form_length(c, x);
  if (n > 60000) syntax_error(c, x, "too many arguments in a call");
  sx_val head = sx_car(x);
  /* builtins with an inline opcode */
  if (sx_is_symbol(head) && !lookup_local(c, head)) {
    sx_cell *cell = vm_env_lookup(c->env, head);
    if (cell && (cell->h.flags & CELL_CONST) && sx_is_prim(cell->value) && n > 1 && n <= 9 &&
        !strcmp(PRIM(cell->value)->spec->name, "list")) {
      /* (list a b c) builds its pairs inline: (cons a (cons b (cons c ()))) */
      node **args = cmalloc(c->S, n * sizeof(node *));
      int k = 0;
      for (sx_val a = sx_cdr(x); sx_is_pair(a); a = sx_cdr(a)) args[k++] = expand(c, sx_car(a));
      node *tail = mkconst(c, SX_EMPTY);
      sx_val cons_prim = vm_env_lookup(c->S->root, vm_symbol(c->S, "cons"))->value;
      for (int i = k - 1; i >= 0; i--) {
        node *nd = mknode(c, N_PRIMOP, 2);
        nd->op = OP_CONS;
        nd->val = cons_prim;
        nd->kids[0] = args[i];
        nd->kids[1] = tail;
        tail = nd;
      }
      return tail;
    }
    if (cell && (cell->h.flags & CELL_CONST) && sx_is_prim(cell->value)) {
      int tp = n == 2 ? prim_type_predicate(PRIM(cell->value)->spec->name) : -1;
      if (tp >= 0) {
        node *nd = mknode(c, N_PRIMOP, 1);
        nd->op = OP_TYPEP;
        nd->val = (sx_val)tp; /* the type, as the operand */
        nd->kids[0] = expand(c, sx_car(sx_cdr(x)));
        return nd;
      }
      int op = prim_inline_op(PRIM(cell->value)->spec->name, (int)n - 1);
      if (op >= 0) {
        node *nd = mknode(c, N_PRIMOP, (int)n - 1);
        nd->op = op;
        nd->val = cell->value;
        int i = 0;
        for (sx_val a = sx_cdr(x); sx_is_pair(a); a = sx_cdr(a)) nd->kids[i++] = expand(c, sx_car(a));
        return nd;
      }
    }
  }
  node *nd = mknode(c, N_CALL, (int)n);
  int i = 0;
  for (sx_val a = x; sx_is_pair(a); a = sx_cdr(a)) nd->kids[i++] = expand(c, sx_car(a));
  return nd;
}

static node *expand_special(cx *c, sx_val x, int sf) {
  sx_state *S = c->S;
  switch (sf) {
  case SF_QUOTE:
    if (form_length(c, x) != 2) syntax_error(c, x, "quote: expected one datum");
    return mkconst(c, nth(x, 1));
  case SF_QUASIQUOTE:
    if (form_length(c, x) != 2) syntax_error(c, x, "quasiquote: expected one datum");
    return qq(c, nth(x, 1), 0);
  case SF_UNQUOTE:
  case SF_UNQUOTE_SPLICING: syntax_error(c, x, "%s outside quasiquote", special_names[sf]);
  case SF_IF: return expand_if(c, x);
  case SF_DEFINE:
    if (c->sc) syntax_error(c, x, "define: not allowed in an expression here");
    return expand_global_define(c, x);
  case SF_SET: return expand_set(c, x);
  case SF_FN:
  case SF_LAMBDA:
    if (form_length(c, x) < 2) syntax_error(c, x, "fn: expected parameters");
    return expand_lambda(c, nth(x, 1), sx_cdr(sx_cdr(x)), SX_NIL, x, NULL);
  case SF_LET: return expand_let(c, x);
  case SF_LETSTAR: return expand_letstar(c, x);
  case SF_LETREC:
  case SF_LETRECSTAR: return expand_letrec(c, x);
  case SF_DO:
  case SF_BEGIN:
    form_length(c, x);
    if (!c->sc) return expand_seq(c, sx_cdr(x)); /* top level: defines stay global */
    return expand_body(c, sx_cdr(x), x);
  case SF_COND: form_length(c, x); return expand_cond_clauses(c, sx_cdr(x), x);
  case SF_CASE: return expand_case(c, x);
  case SF_WHEN:
  case SF_UNLESS: {
    if (form_length(c, x) < 2) syntax_error(c, x, "%s: expected a test", special_names[sf]);
    node *t = expand(c, nth(x, 1));
    node *b = expand_body(c, sx_cdr(sx_cdr(x)), x);
    return sf == SF_WHEN ? mkif(c, t, b, mkconst(c, SX_NIL)) : mkif(c, t, mkconst(c, SX_NIL), b);
  }
  case SF_AND: return expand_andor(c, x, N_AND);
  case SF_OR: return expand_andor(c, x, N_OR);
  case SF_DEFINE_MACRO: {
    if (c->sc) syntax_error(c, x, "define-macro is only allowed at top level");
    if (form_length(c, x) < 3) syntax_error(c, x, "define-macro: expected (define-macro (name args...) body...)");
    sx_val target = nth(x, 1), name, fn;
    if (sx_is_pair(target) && sx_is_symbol(sx_car(target))) {
      name = sx_car(target);
      node *f = expand_lambda(c, sx_cdr(target), sx_cdr(sx_cdr(x)), name, x, NULL);
      node *nd = mknode(c, N_DEFMACRO, 1);
      nd->val = sx_from_obj(vm_env_define(S, c->env, name));
      nd->kids[0] = f;
      return nd;
    }
    if (!sx_is_symbol(target) || form_length(c, x) != 3)
      syntax_error(c, x, "define-macro: expected (define-macro (name args...) body...)");
    name = target;
    fn = nth(x, 2);
    node *nd = mknode(c, N_DEFMACRO, 1);
    nd->val = sx_from_obj(vm_env_define(S, c->env, name));
    nd->kids[0] = expand_value(c, fn, name, NULL);
    return nd;
  }
  case SF_TRY: return expand_try(c, x);
  }
  syntax_error(c, x, "unknown special form");
}

static node *expand(cx *c, sx_val x) {
  vm_check_cstack(c->S);
  uint32_t save = c->pos;
  if (sx_is_pair(x) && vm_pair_line(x)) c->pos = POS_PACK(vm_pair_line(x), vm_pair_col(x));
  node *r;
  if (sx_is_symbol(x)) {
    r = expand_ref(c, x);
  } else if (sx_is_pair(x)) {
    sx_val head = sx_car(x);
    sx_val m;
    if (sx_is_symbol(head) && SYM(head)->special >= 0 && !lookup_local(c, head)) {
      r = expand_special(c, x, SYM(head)->special);
    } else if ((m = macro_of(c, x))) {
      r = expand(c, expand_macro_once(c, m, x));
    } else {
      r = expand_call(c, x);
    }
  } else if (sx_is_vector(x)) {
    sx_vector *v = VEC(x);
    r = mknode(c, N_VECLIT, (int)v->len);
    for (size_t i = 0; i < v->len; i++) r->kids[i] = expand(c, v->items[i]);
  } else if (sx_is_dict(x)) {
    sx_dict *d = DICT(x);
    r = mknode(c, N_DICTLIT, (int)d->count * 2);
    int k = 0;
    for (size_t i = 0; i < d->used; i++) {
      if (d->entries[i].key == SX_UNBOUND) continue;
      r->kids[k++] = expand(c, d->entries[i].key);
      r->kids[k++] = expand(c, d->entries[i].val);
    }
  } else {
    r = mkconst(c, x);
  }
  c->pos = save;
  return r;
}

sx_val vm_macroexpand(sx_state *S, sx_val form, sx_env *env) {
  cx c = {.S = S, .env = env};
  return expand_head(&c, form);
}

lam *vm_expand_toplevel(sx_state *S, sx_val form, sx_env *env) {
  cx c = {.S = S, .env = env};
  if (sx_is_pair(form) && vm_pair_line(form)) c.pos = POS_PACK(vm_pair_line(form), vm_pair_col(form));
  lam *top = cmalloc(S, sizeof(lam));
  top->pos = c.pos;
  c.fn = top;
  top->body = expand(&c, form);
  return top;
}
