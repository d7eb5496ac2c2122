/* object.c — constructors and basic operations of heap objects: pairs, strings, symbols,
 * vectors, dicts, errors, environments; equality and hashing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gc/gc.h>

#include "state.h"

sx_val vm_cons(sx_state *S, sx_val a, sx_val d) {
  sx_pair *p = vm_alloc_small(S, T_PAIR);
  p->car = a;
  p->cdr = d;
  return sx_from_obj(p);
}

sx_val vm_flonum(sx_state *S, double d) {
  /* from the small free list like pairs: the collector then scans the double too, but a double's
     bits (exponent in the high bits) practically never look like an address in the heap */
  sx_flonum *f = vm_alloc_small(S, T_FLONUM);
  f->d = d;
  return sx_from_obj(f);
}

/* ---- UTF-8 ------------------------------------------------------------------------------- */

bool vm_utf8_valid(const char *s, size_t n, size_t *nchars) {
  const unsigned char *p = (const unsigned char *)s, *end = p + n;
  size_t count = 0;
  while (p < end) {
    unsigned c = *p;
    int len;
    uint32_t cp;
    if (c < 0x80) {
      p++;
      count++;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p < len) return false;
    for (int i = 1; i < len; i++) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    p += len;
    count++;
  }
  if (nchars) *nchars = count;
  return true;
}

int vm_utf8_encode(uint32_t c, char *out) {
  if (c < 0x80) {
    out[0] = (char)c;
    return 1;
  } else if (c < 0x800) {
    out[0] = (char)(0xc0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3f));
    return 2;
  } else if (c < 0x10000) {
    out[0] = (char)(0xe0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[2] = (char)(0x80 | (c & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
  out[3] = (char)(0x80 | (c & 0x3f));
  return 4;
}

/* Decodes one code point of valid UTF-8 and advances *p. */
uint32_t vm_utf8_decode(const char **pp) {
  const unsigned char *p = (const unsigned char *)*pp;
  uint32_t c = p[0];
  int len = 1;
  if (c >= 0xf0) c &= 0x07, len = 4;
  else if (c >= 0xe0) c &= 0x0f, len = 3;
  else if (c >= 0xc0) c &= 0x1f, len = 2;
  for (int i = 1; i < len; i++) c = (c << 6) | (p[i] & 0x3f);
  *pp += len;
  return c;
}

const char *vm_str_offset(sx_val s, size_t charidx) {
  sx_string *str = STR(s);
  if (str->h.flags & STR_ASCII) return str->data + charidx;
  const char *p = str->data;
  while (charidx--) vm_utf8_decode(&p);
  return p;
}

/* ---- strings and symbols ----------------------------------------------------------------- */

static sx_val make_string(sx_state *S, const char *s, size_t n, size_t nchars) {
  sx_string *str = vm_alloc_atomic(S, sizeof(sx_string) + n + 1, T_STRING);
  memcpy(str->data, s, n);
  str->data[n] = 0;
  str->nbytes = n;
  str->nchars = nchars;
  str->hash = 0;
  str->h.flags = nchars == n ? STR_ASCII : 0;
  return sx_from_obj(str);
}

sx_val vm_string(sx_state *S, const char *s, size_t n) {
  size_t nchars;
  if (!vm_utf8_valid(s, n, &nchars)) vm_error(S, "invalid UTF-8 in string");
  return make_string(S, s, n, nchars);
}

sx_val vm_cstring(sx_state *S, const char *s) { return vm_string(S, s, strlen(s)); }

static uint32_t hash_bytes(const char *s, size_t n) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h ? h : 1;
}

static uint32_t string_hash(sx_val s) {
  sx_string *str = STR(s);
  if (!str->hash) str->hash = hash_bytes(str->data, str->nbytes);
  return str->hash;
}

/* The symbol table is open addressing over symbols and keywords together. */
static void symtab_grow(sx_state *S) {
  size_t ncap = S->symcap ? S->symcap * 2 : 1024;
  sx_val *nt = GC_MALLOC(ncap * sizeof(sx_val));
  if (!nt) vm_error(S, "out of memory");
  for (size_t i = 0; i < S->symcap; i++) {
    sx_val v = S->symtab[i];
    if (!v) continue;
    size_t j = SYM(v)->hash & (ncap - 1);
    while (nt[j]) j = (j + 1) & (ncap - 1);
    nt[j] = v;
  }
  S->symtab = nt;
  S->symcap = ncap;
}

sx_val vm_intern(sx_state *S, const char *s, size_t n, sx_type type) {
  uint32_t h = hash_bytes(s, n) ^ (type == T_KEYWORD ? 0x5bd1e995u : 0);
  if (S->symcount * 2 >= S->symcap) symtab_grow(S);
  size_t j = h & (S->symcap - 1);
  for (sx_val v; (v = S->symtab[j]); j = (j + 1) & (S->symcap - 1)) {
    sx_symbol *sym = SYM(v);
    sx_string *name = STR(sym->name);
    if (sym->hash == h && sym->h.type == type && name->nbytes == n && !memcmp(name->data, s, n))
      return v;
  }
  sx_val name = vm_string(S, s, n);
  sx_symbol *sym = vm_alloc(S, sizeof(sx_symbol), (int)type);
  sym->name = name;
  sym->hash = h;
  sym->special = -1;
  S->symtab[j] = sx_from_obj(sym);
  S->symcount++;
  return sx_from_obj(sym);
}

sx_val vm_symbol(sx_state *S, const char *s) { return vm_intern(S, s, strlen(s), T_SYMBOL); }
sx_val vm_keyword(sx_state *S, const char *s) { return vm_intern(S, s, strlen(s), T_KEYWORD); }

/* ---- lists and vectors ------------------------------------------------------------------- */

sx_val vm_vector(sx_state *S, size_t n, sx_val fill) {
  if (n > ((size_t)1 << 32)) vm_error(S, "vector too large: %zu", n);
  sx_vector *v = vm_alloc_filled(S, sizeof(sx_vector) + n * sizeof(sx_val), T_VECTOR);
  v->len = n;
  for (size_t i = 0; i < n; i++) v->items[i] = fill;
  return sx_from_obj(v);
}

sx_val vm_list_from(sx_state *S, size_t n, const sx_val *items) {
  sx_val l = SX_EMPTY;
  while (n--) l = vm_cons(S, items[n], l);
  return l;
}

sx_val vm_reverse(sx_state *S, sx_val list) {
  sx_val r = SX_EMPTY;
  for (; sx_is_pair(list); list = sx_cdr(list)) r = vm_cons(S, sx_car(list), r);
  return r;
}

/* Length of a proper list (nil counts as empty); (size_t)-1 for improper or cyclic lists. */
size_t vm_list_length(sx_val l) {
  size_t n = 0;
  sx_val slow = l;
  while (sx_is_pair(l)) {
    l = sx_cdr(l);
    n++;
    if (!sx_is_pair(l)) break;
    l = sx_cdr(l);
    n++;
    slow = sx_cdr(slow);
    if (l == slow) return (size_t)-1;
  }
  return sx_is_listend(l) ? n : (size_t)-1;
}

/* ---- equality and hashing ---------------------------------------------------------------- */

bool vm_eqv(sx_val a, sx_val b) {
  if (a == b) return true;
  if (sx_is_flonum(a) && sx_is_flonum(b)) {
    double x = sx_flo(a), y = sx_flo(b);
    if (isnan(x) && isnan(y)) return true;
    return x == y && signbit(x) == signbit(y);
  }
  return false;
}

static bool dict_equal(sx_state *S, sx_val a, sx_val b);

/* equal? walks with an explicit work list so deep data cannot exhaust the C stack. */
bool vm_equal(sx_state *S, sx_val a, sx_val b) {
  size_t cap = 64, n = 0;
  sx_val *work = malloc(cap * 2 * sizeof(sx_val));
  bool result = true;
  if (!work) vm_error(S, "out of memory");
  work[n * 2] = a, work[n * 2 + 1] = b, n++;
  while (n && result) {
    n--;
    sx_val x = work[n * 2], y = work[n * 2 + 1];
    for (;;) {
      if (vm_eqv(x, y)) break;
      if (!sx_is_ptr(x) || !sx_is_ptr(y) || sx_obj_of(x)->type != sx_obj_of(y)->type) {
        result = false;
        break;
      }
      int t = sx_obj_of(x)->type;
      if (t == T_STRING) {
        result = STR(x)->nbytes == STR(y)->nbytes &&
                 !memcmp(STR(x)->data, STR(y)->data, STR(x)->nbytes);
        break;
      }
      if (t == T_PAIR || t == T_VECTOR) {
        sx_val *xs, *ys;
        size_t len;
        if (t == T_PAIR) {
          xs = &PAIR(x)->car, ys = &PAIR(y)->car, len = 1;
        } else {
          if (VEC(x)->len != VEC(y)->len) {
            result = false;
            break;
          }
          xs = VEC(x)->items, ys = VEC(y)->items, len = VEC(x)->len;
        }
        if (n + len + 1 > cap) {
          while (n + len + 1 > cap) cap *= 2;
          sx_val *nw = realloc(work, cap * 2 * sizeof(sx_val));
          if (!nw) {
            free(work);
            vm_error(S, "out of memory");
          }
          work = nw;
        }
        for (size_t i = 0; i < len; i++) work[n * 2] = xs[i], work[n * 2 + 1] = ys[i], n++;
        if (t == T_PAIR) {
          x = sx_cdr(x), y = sx_cdr(y);
          continue;
        }
        break;
      }
      if (t == T_DICT) {
        result = dict_equal(S, x, y);
        break;
      }
      if (t == T_ARRAY) {
        int r = arr_equal(x, y); /* -1: one of them was freed */
        if (r < 0) free(work), arr_freed_error(S, "equal?");
        result = r;
        break;
      }
      result = false;
      break;
    }
  }
  free(work);
  return result;
}

uint32_t vm_hash(sx_val v) {
  if (sx_is_ptr(v)) {
    switch (sx_obj_of(v)->type) {
    case T_STRING: return string_hash(v);
    case T_FLONUM: {
      double d = sx_flo(v);
      if (d == 0) d = 0; /* -0.0 */
      if (isnan(d)) return 7;
      return hash_bytes((const char *)&d, sizeof d);
    }
    case T_PAIR: {
      uint32_t h = 17;
      for (int i = 0; i < 4 && sx_is_pair(v); i++, v = sx_cdr(v))
        h = h * 31 + vm_hash(sx_car(v));
      return h;
    }
    case T_VECTOR: {
      uint32_t h = 19;
      for (size_t i = 0; i < VEC(v)->len && i < 4; i++) h = h * 31 + vm_hash(VEC(v)->items[i]);
      return h;
    }
    case T_DICT: return 23 + (uint32_t)DICT(v)->count;
    case T_ARRAY: return arr_hash(v);
    default: break;
    }
  }
  uint64_t x = v;
  x ^= x >> 33;
  x *= UINT64_C(0xff51afd7ed558ccd);
  x ^= x >> 33;
  return (uint32_t)x;
}

/* ---- dicts ------------------------------------------------------------------------------- */

sx_val vm_dict(sx_state *S, size_t cap) {
  sx_dict *d = vm_alloc(S, sizeof(sx_dict), T_DICT);
  if (cap < 4) cap = 4;
  d->cap = cap;
  vm_count_alloc(S, cap * sizeof(sx_dict_entry) * 3);
  d->entries = GC_MALLOC(cap * sizeof(sx_dict_entry));
  size_t ic = 8;
  while (ic < cap * 2) ic *= 2;
  d->index_cap = ic;
  d->index = GC_MALLOC_ATOMIC(ic * sizeof(int32_t));
  if (!d->entries || !d->index) vm_error(S, "out of memory");
  memset(d->index, 0xff, ic * sizeof(int32_t));
  return sx_from_obj(d);
}

static long dict_find(sx_state *S, sx_dict *d, sx_val key, uint32_t h, size_t *slot) {
  size_t mask = d->index_cap - 1, j = h & mask;
  long first_deleted = -1;
  for (;;) {
    int32_t e = d->index[j];
    if (e == -1) {
      *slot = first_deleted >= 0 ? (size_t)first_deleted : j;
      return -1;
    }
    if (e == -2) {
      if (first_deleted < 0) first_deleted = (long)j;
    } else if (d->entries[e].key == key ||
               ((sx_is_ptr(key) || sx_is_ptr(d->entries[e].key)) && vm_equal(S, d->entries[e].key, key))) {
      /* two immediates (fixnums, characters, constants) are equal only when identical */
      *slot = j;
      return e;
    }
    j = (j + 1) & mask;
  }
}

static void dict_rebuild(sx_state *S, sx_dict *d, size_t newcap) {
  vm_count_alloc(S, newcap * sizeof(sx_dict_entry) * 3);
  sx_dict_entry *ne = GC_MALLOC(newcap * sizeof(sx_dict_entry));
  size_t ic = 8;
  while (ic < newcap * 2) ic *= 2;
  int32_t *ni = GC_MALLOC_ATOMIC(ic * sizeof(int32_t));
  if (!ne || !ni) vm_error(S, "out of memory");
  memset(ni, 0xff, ic * sizeof(int32_t));
  size_t k = 0;
  for (size_t i = 0; i < d->used; i++) {
    if (d->entries[i].key == SX_UNBOUND) continue;
    ne[k] = d->entries[i];
    size_t j = vm_hash(ne[k].key) & (ic - 1);
    while (ni[j] != -1) j = (j + 1) & (ic - 1);
    ni[j] = (int32_t)k;
    k++;
  }
  d->entries = ne;
  d->index = ni;
  d->cap = newcap;
  d->index_cap = ic;
  d->used = k;
}

sx_val vm_dict_get(sx_state *S, sx_val dv, sx_val key, bool *found) {
  sx_dict *d = DICT(dv);
  size_t slot;
  long e = dict_find(S, d, key, vm_hash(key), &slot);
  *found = e >= 0;
  return e >= 0 ? d->entries[e].val : SX_NIL;
}

void vm_dict_set(sx_state *S, sx_val dv, sx_val key, sx_val val) {
  sx_dict *d = DICT(dv);
  uint32_t h = vm_hash(key);
  size_t slot;
  long e = dict_find(S, d, key, h, &slot);
  if (e >= 0) {
    d->entries[e].val = val;
    return;
  }
  if (d->used >= d->cap || d->used >= 0x7fffffff) {
    if (d->count >= 0x7ffffff0) vm_error(S, "dict too large");
    dict_rebuild(S, d, d->count * 2 + 4);
    dict_find(S, d, key, h, &slot);
  }
  d->entries[d->used].key = key;
  d->entries[d->used].val = val;
  d->index[slot] = (int32_t)d->used;
  d->used++;
  d->count++;
}

bool vm_dict_remove(sx_state *S, sx_val dv, sx_val key) {
  sx_dict *d = DICT(dv);
  size_t slot;
  long e = dict_find(S, d, key, vm_hash(key), &slot);
  if (e < 0) return false;
  d->entries[e].key = SX_UNBOUND;
  d->entries[e].val = SX_NIL;
  d->index[slot] = -2;
  d->count--;
  if (d->used > 16 && d->count < d->used / 2) dict_rebuild(S, d, d->count * 2 + 4);
  return true;
}

static bool dict_equal(sx_state *S, sx_val a, sx_val b) {
  sx_dict *x = DICT(a);
  if (x->count != DICT(b)->count) return false;
  for (size_t i = 0; i < x->used; i++) {
    if (x->entries[i].key == SX_UNBOUND) continue;
    bool found;
    sx_val v = vm_dict_get(S, b, x->entries[i].key, &found);
    if (!found || !vm_equal(S, x->entries[i].val, v)) return false;
  }
  return true;
}

/* ---- errors ------------------------------------------------------------------------------ */

sx_val vm_make_error(sx_state *S, sx_val msg, sx_val irritants) {
  sx_error *e = vm_alloc(S, sizeof(sx_error), T_ERROR);
  e->message = msg;
  e->irritants = irritants;
  e->backtrace = SX_EMPTY;
  e->payload = SX_NIL;
  e->where = SX_NIL;
  return sx_from_obj(e);
}

/* ---- environments ------------------------------------------------------------------------ */

sx_env *vm_env_new(sx_state *S, sx_env *parent) {
  sx_env *e = vm_alloc(S, sizeof(sx_env), T_ENV);
  e->parent = parent;
  return e;
}

sx_cell *vm_env_lookup_local(sx_env *env, sx_val sym) {
  if (!env->cap) return NULL;
  size_t mask = env->cap - 1, j = SYM(sym)->hash & mask;
  for (sx_val k; (k = env->keys[j]); j = (j + 1) & mask)
    if (k == sym) return env->cells[j];
  return NULL;
}

sx_cell *vm_env_lookup(sx_env *env, sx_val sym) {
  for (; env; env = env->parent) {
    sx_cell *c = vm_env_lookup_local(env, sym);
    if (c) return c;
  }
  return NULL;
}

static void env_insert(sx_env *env, sx_val sym, sx_cell *cell) {
  size_t mask = env->cap - 1, j = SYM(sym)->hash & mask;
  while (env->keys[j]) j = (j + 1) & mask;
  env->keys[j] = sym;
  env->cells[j] = cell;
  env->count++;
}

sx_cell *vm_env_define(sx_state *S, sx_env *env, sx_val sym) {
  sx_cell *c = vm_env_lookup_local(env, sym);
  if (c) return c;
  if ((env->count + 1) * 2 > env->cap) {
    size_t ocap = env->cap, ncap = ocap ? ocap * 2 : 16;
    sx_val *ok = env->keys;
    sx_cell **oc = env->cells;
    env->keys = GC_MALLOC(ncap * sizeof(sx_val));
    env->cells = GC_MALLOC(ncap * sizeof(sx_cell *));
    if (!env->keys || !env->cells) vm_error(S, "out of memory");
    env->cap = ncap;
    env->count = 0;
    for (size_t i = 0; i < ocap; i++)
      if (ok[i]) env_insert(env, ok[i], oc[i]);
  }
  c = vm_alloc(S, sizeof(sx_cell), T_CELL);
  c->value = SX_UNBOUND;
  c->name = sym;
  env_insert(env, sym, c);
  return c;
}

/* ---- names ------------------------------------------------------------------------------- */

const char *vm_type_name(sx_val v) {
  if (sx_is_fixnum(v)) return "integer";
  if (sx_is_char(v)) return "char";
  switch (v) {
  case SX_NIL: return "nil";
  case SX_TRUE:
  case SX_FALSE: return "boolean";
  case SX_EMPTY: return "empty list";
  case SX_UNBOUND: return "unbound";
  case SX_EOF: return "eof";
  }
  if (!sx_is_ptr(v)) return "unknown";
  switch (sx_obj_of(v)->type) {
  case T_PAIR: return "pair";
  case T_FLONUM: return "float";
  case T_STRING: return "string";
  case T_SYMBOL: return "symbol";
  case T_KEYWORD: return "keyword";
  case T_VECTOR: return "vector";
  case T_DICT: return "dict";
  case T_PROTO: return "prototype";
  case T_CLOSURE:
  case T_PRIM: return "procedure";
  case T_CELL: return "cell";
  case T_BOX: return "box";
  case T_ERROR: return "error";
  case T_ENV: return "environment";
  case T_MACRO: return "macro";
  case T_ARRAY: return "array";
  case T_HOST: return "host object";
  }
  return "unknown";
}
