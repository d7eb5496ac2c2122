/* ast.h — the tree the compiler's first pass (expand.c) hands its second (compiler.c): special
 * forms expanded away, every variable resolved to a local `var` or a global cell. */
#ifndef SX_AST_H
#define SX_AST_H

#include "state.h"

/* ---- the node tree ---------------------------------------------------------------------- */

typedef enum {
  N_CONST, N_LREF, N_GREF, N_LSET, N_GSET, N_GDEF, N_DEFMACRO, N_IF, N_SEQ, N_LAMBDA,
  N_LET, N_BODY, N_CALL, N_AND, N_OR, N_TRY, N_PRIMOP, N_VECLIT, N_DICTLIT
} node_kind;

typedef struct lam lam;
typedef struct group group;

typedef struct var {
  sx_val name;
  lam *owner;
  group *grp;     /* letrec group it belongs to, or NULL */
  bool assigned;  /* set! anywhere */
  bool captured;  /* referenced from an inner lambda */
  bool general;   /* captured other than by a lambda that is an init of its own group */
  bool boxed;
  int slot;
  lam *fn; /* the lambda a letrec var is bound to, when it is one */
} var;

struct group {
  int unused;
};

typedef struct node node;
struct node {
  node_kind kind;
  uint32_t pos;
  sx_val val;  /* N_CONST value, N_G* cell */
  var *v;      /* N_LREF, N_LSET */
  lam *fn;     /* N_LAMBDA */
  int op;      /* N_PRIMOP opcode */
  int n;       /* number of kids */
  node **kids; /* N_IF: c t e; N_CALL: f args; N_LET: inits + body; N_BODY: items */
  var **vars;  /* N_LET / N_BODY: bound vars (N_BODY: vars[i] NULL for plain expressions) */
  int nvars;
  var *catchvar; /* N_TRY: kids = body, handler(or NULL), finally(or NULL) */
};

struct lam {
  lam *parent;
  var **params;
  int nparams;
  bool rest;
  var **free;
  int nfree, capfree;
  node *body;
  sx_val name;
  group *init_of; /* the letrec group this lambda is a direct init of */
  uint32_t pos;
};

/* Lexical scope during expansion: a frame of vars, chained outward. */
typedef struct scope {
  struct scope *up;
  var **vars;
  int n;
  lam *fn;
} scope;

typedef struct {
  sx_state *S;
  sx_env *env;
  scope *sc; /* innermost scope; NULL at top level */
  lam *fn;   /* innermost lambda; NULL at top level */
  uint32_t pos;
} cx;

/* expand.c: expands and resolves a top-level form into the body of a lambda of no arguments */
SX_INTERNAL lam *vm_expand_toplevel(sx_state *S, sx_val form, sx_env *env);

#endif
