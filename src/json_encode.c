/* dwell.core.json.encode: Lua values to RFC 8259 text.
 *
 * Output goes to one growing buffer (first on the C stack, then from the
 * state's allocator) that becomes a Lua string once at the end. Strings are
 * scanned eight bytes at a time and copied in runs; integers are written
 * exactly; floats use the shortest form that reads back (json_num.c).
 *
 * A table is an array when it carries array_mt or has a border n > 0, and
 * then its keys must be exactly 1..n; otherwise it is an object and its keys
 * must be strings. The ancestors being encoded are kept with their current
 * key, which detects cycles and names the path of any error ($.data[3].x,
 * with Lua's 1-based indices). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "json.h"
#include "json_num.h"

#define ARRAY_MT 2 /* stack index of array_mt in encode_inner */
#define LOCAL_BUF 2048
#define LOCAL_FRAMES 32
#define MAX_INDENT 16

typedef struct {
  const void *ptr;   /* the table, to detect cycles */
  lua_Integer index; /* current element of an array, or 0 */
  int keyslot;       /* stack index of the current key of an object, or 0 */
} frame;

typedef struct {
  const char *s;
  size_t n;
} sortkey;

/* Object keys repeat across the rows of a page, and each is the same Lua
 * string every time. The key strings are owned by the tables being encoded,
 * so during one encode the address of a key's bytes stands for those bytes.
 * A slot keeps, for such an address, the key as it is written ("key":), so
 * that a repeated key costs a lookup and a copy. Set up once a document has
 * shown enough keys to repay it. */
#define KEY_SLOTS 256
#define KEY_SLOT_MAX 40
#define KEY_CACHE_AFTER 32
typedef struct {
  const char *s; /* NULL: empty */
  size_t n;      /* bytes of text */
  char text[KEY_SLOT_MAX + 8]; /* the quoted key and ':', then room for fixed-size copies */
} keyslot;

typedef struct {
  lua_State *L;
  lua_Alloc alloc;
  void *aud;
  char *buf;
  size_t len, cap;
  int depth, max_depth, indent, sort_keys, empty_array;
  frame *fr;
  int frcap;
  sortkey *sk;
  size_t sklen, skcap;
  keyslot *keys; /* KEY_SLOTS slots, or NULL */
  int keys_seen;  /* until the slots are set up */
  frame frlocal[LOCAL_FRAMES];
  char local[LOCAL_BUF];
} jenc;

static void *enc_realloc(jenc *e, void *p, size_t old, size_t n) {
  void *np = e->alloc(e->aud, p, old, n);
  if (!np) luaL_error(e->L, "dwell.json: not enough memory");
  return np;
}

/* ---- errors ------------------------------------------------------------ */

static size_t fmt_int(lua_Integer v, char *out);

static int is_ident(const char *s, size_t n) {
  size_t i;
  if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return 0;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return 1;
}

/* A path this deep is shown by its ends: the first and the last PATH_ENDS
 * steps around "...(N more)...", so that an error past max_depth does not
 * carry thousands of "[1]"s. */
#define PATH_ENDS 8

/* Raises "dwell.json: <what> at $.a[2].b" for the value at the current path.
 * Only keys appear in the message, never values. */
static void enc_fail(jenc *e, const char *what) {
  lua_State *L = e->L;
  luaL_Buffer b;
  int i;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "dwell.json: ");
  luaL_addstring(&b, what);
  luaL_addstring(&b, " at $");
  for (i = 0; i < e->depth; i++) {
    frame *f = &e->fr[i];
    if (e->depth > 2 * PATH_ENDS && i == PATH_ENDS) {
      char num[24];
      int skipped = e->depth - 2 * PATH_ENDS;
      luaL_addstring(&b, "...(");
      luaL_addlstring(&b, num, fmt_int(skipped, num));
      luaL_addstring(&b, " more)...");
      i += skipped - 1;
      continue;
    }
    if (f->keyslot) {
      size_t n;
      const char *k = lua_tolstring(L, f->keyslot, &n);
      if (n > 64) n = 64;
      if (is_ident(k, n)) {
        luaL_addchar(&b, '.');
        luaL_addlstring(&b, k, n);
      } else {
        luaL_addstring(&b, "[\"");
        luaL_addlstring(&b, k, n);
        luaL_addstring(&b, "\"]");
      }
    } else {
      char num[24];
      luaL_addchar(&b, '[');
      luaL_addlstring(&b, num, fmt_int(f->index, num));
      luaL_addchar(&b, ']');
    }
  }
  luaL_pushresult(&b);
  lua_error(L);
}

/* ---- output buffer ----------------------------------------------------- */

static void grow(jenc *e, size_t need) {
  size_t cap = e->cap * 2;
  while (cap - e->len < need) cap *= 2;
  if (e->buf == e->local) {
    char *nb = (char *)enc_realloc(e, NULL, 0, cap);
    memcpy(nb, e->buf, e->len);
    e->buf = nb;
  } else {
    e->buf = (char *)enc_realloc(e, e->buf, e->cap, cap);
  }
  e->cap = cap;
}

static inline char *reserve(jenc *e, size_t n) {
  if (e->cap - e->len < n) grow(e, n);
  return e->buf + e->len;
}

static inline void put(jenc *e, const char *s, size_t n) {
  memcpy(reserve(e, n), s, n);
  e->len += n;
}

static inline void putc_(jenc *e, char c) {
  *reserve(e, 1) = c;
  e->len++;
}

static void newline(jenc *e) {
  size_t n = (size_t)e->indent * (size_t)e->depth;
  char *o = reserve(e, n + 1);
  *o++ = '\n';
  memset(o, ' ', n);
  e->len += n + 1;
}

/* ---- scalars ----------------------------------------------------------- */

static const char DIGITS2[] =
  "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
  "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
  "8081828384858687888990919293949596979899";

/* Decimal digits of u: log10 from the bit length, corrected by one
 * comparison. */
static int uint_digits(uint64_t u) {
  static const uint64_t POW10[20] = {
    UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000), UINT64_C(100000),
    UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000), UINT64_C(1000000000),
    UINT64_C(10000000000), UINT64_C(100000000000), UINT64_C(1000000000000),
    UINT64_C(10000000000000), UINT64_C(100000000000000), UINT64_C(1000000000000000),
    UINT64_C(10000000000000000), UINT64_C(100000000000000000), UINT64_C(1000000000000000000),
    UINT64_C(10000000000000000000),
  };
  int t;
  if (u == 0) return 1;
  t = ((64 - json_clz64(u)) * 1233) >> 12;
  return t + (t < 20 && u >= POW10[t]);
}

/* Writes v at out (room for 24 bytes) straight into place, two digits at a
 * time from the end; returns the length. */
static size_t fmt_int(lua_Integer v, char *out) {
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  size_t n;
  char *q;
  if (v < 0) *out++ = '-';
  n = (size_t)uint_digits(u);
  q = out + n;
  while (u >= 100) {
    unsigned r = (unsigned)(u % 100);
    u /= 100;
    q -= 2;
    memcpy(q, DIGITS2 + 2 * r, 2);
  }
  if (u >= 10) memcpy(q - 2, DIGITS2 + 2 * u, 2);
  else q[-1] = (char)('0' + u);
  return n + (v < 0);
}

static void put_float(jenc *e, double v) {
  if (isnan(v) || isinf(v)) enc_fail(e, "cannot encode NaN or infinity");
  e->len += dwell_json_fmt_double(v, reserve(e, JSON_DOUBLE_ROOM));
}

static const char HEX[] = "0123456789abcdef";

/* Writes the escape for the ASCII byte c at o; returns its length. */
static size_t put_escape(char *o, unsigned char c) {
  o[0] = '\\';
  switch (c) {
    case '"': o[1] = '"'; return 2;
    case '\\': o[1] = '\\'; return 2;
    case '\b': o[1] = 'b'; return 2;
    case '\f': o[1] = 'f'; return 2;
    case '\n': o[1] = 'n'; return 2;
    case '\r': o[1] = 'r'; return 2;
    case '\t': o[1] = 't'; return 2;
    default:
      memcpy(o + 1, "u00", 3);
      o[4] = HEX[c >> 4];
      o[5] = HEX[c & 15];
      return 6;
  }
}

/* Scans and copies in one pass: each word of eight bytes is stored as it
 * is loaded, and counts only up to its first byte that needs a look (an
 * escape or a UTF-8 sequence to validate). The room reserved is the
 * string's length plus the quotes; an escape reserves more for itself. */
/* json_word_stops for four bytes. */
static inline uint32_t stops4(uint32_t x) {
  const uint32_t ones = 0x01010101u, highs = 0x80808080u;
  return ((x - ones * 0x20) | ((x ^ (ones * '"')) - ones) | ((x ^ (ones * '\\')) - ones) | x) & highs;
}

/* A string of 4 to 7 bytes with nothing to escape or validate, as two
 * overlapping 4-byte words (reading only inside the string). */
static inline int put_short(char *o, const char *s, size_t n) {
  uint32_t a, b;
  memcpy(&a, s, 4);
  memcpy(&b, s + n - 4, 4);
  if (stops4(a) | stops4(b)) return 0;
  memcpy(o, &a, 4);
  memcpy(o + n - 4, &b, 4);
  o[n] = '"';
  return 1;
}

static void put_string(jenc *e, const char *s, size_t n) {
  const char *p = s, *end = s + n;
  char *o = reserve(e, n + 2), *o0;
  *o++ = '"';
  if (n >= 4 && n < 8 && put_short(o, s, n)) {
    e->len += n + 2;
    return;
  }
  o0 = o;
  for (;;) {
    unsigned char c;
    while (end - p >= 8) {
      uint64_t x, m;
      memcpy(&x, p, 8);
      memcpy(o, &x, 8);
      m = json_word_stops(x);
      if (m) {
        const char *q = json_first_stop(p, m);
        o += q - p;
        p = q;
        goto stop;
      }
      p += 8;
      o += 8;
    }
    if (p < end && n >= 8 && o - o0 == p - s) {
      /* The last few bytes as the last word of the string, overlapping
       * bytes already copied (the same bytes as in the string, as long as no
       * escape was written; they hold no stop, so the mask is enough). */
      uint64_t x, m;
      size_t r = (size_t)(end - p);
      memcpy(&x, end - 8, 8);
      memcpy(o - (8 - r), &x, 8);
      m = json_word_stops(x) >> (8 * (8 - r)) << (8 * (8 - r));
      if (!m) {
        o += r;
        p = end;
      } else {
        const char *q = json_first_stop(end - 8, m);
        o += q - p;
        p = q;
      }
    }
    while (p < end && !json_byte_stops((unsigned char)*p)) *o++ = *p++;
    if (p == end) break;
  stop:
    c = (unsigned char)*p;
    if (c >= 0x80) {
      /* A run of non-ASCII characters (CJK text) is validated character by
       * character without going back to the word scan. Lua strings end in
       * '\0', which is never a continuation byte. */
      do {
        const char *q = json_utf8_next(p);
        if (!q) enc_fail(e, "invalid UTF-8 in string");
        if (end - p >= 4) {
          memcpy(o, p, 4); /* a whole character of at most 4 bytes, in one move */
          o += q - p;
          p = q;
        } else {
          while (p < q) *o++ = *p++;
        }
      } while (p < end && (unsigned char)*p >= 0x80);
    } else {
      e->len = (size_t)(o - e->buf);
      o = reserve(e, 6 + (size_t)(end - p) + 1);
      o += put_escape(o, c);
      p++;
    }
  }
  *o++ = '"';
  e->len = (size_t)(o - e->buf);
}

/* ---- tables ------------------------------------------------------------ */

static void encode_value(jenc *e, int idx);

static void push_frame(jenc *e, const void *ptr) {
  if (e->depth == e->frcap) {
    int cap = e->frcap * 2;
    frame *nf;
    if (e->fr == e->frlocal) {
      nf = (frame *)enc_realloc(e, NULL, 0, sizeof(frame) * (size_t)cap);
      memcpy(nf, e->fr, sizeof(frame) * (size_t)e->frcap);
    } else {
      nf = (frame *)enc_realloc(e, e->fr, sizeof(frame) * (size_t)e->frcap, sizeof(frame) * (size_t)cap);
    }
    e->fr = nf;
    e->frcap = cap;
  }
  e->fr[e->depth].ptr = ptr;
  e->fr[e->depth].index = 0;
  e->fr[e->depth].keyslot = 0;
  e->depth++;
}

static void put_separator(jenc *e, lua_Integer i) {
  if (i > 1) putc_(e, ',');
  if (e->indent) newline(e);
}

/* The array check and the elements in two passes: counting every key with
 * lua_next (the border n says 1..n are non-nil only if nothing else is
 * there), then the elements by index. For the tables that encode_array
 * finds out of order, and the errors it leaves to this pass. */
static void encode_array_checked(jenc *e, int idx, lua_Integer n, const void *ptr) {
  lua_State *L = e->L;
  lua_Integer i, count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (++count > n) {
      lua_pop(L, 1);
      break;
    }
  }
  if (count != n) enc_fail(e, "mixed or sparse table (keys other than 1..n)");
  putc_(e, '[');
  if (n == 0) {
    putc_(e, ']');
    return;
  }
  push_frame(e, ptr);
  for (i = 1; i <= n; i++) {
    put_separator(e, i);
    e->fr[e->depth - 1].index = i;
    if (lua_rawgeti(L, idx, i) == LUA_TNIL) enc_fail(e, "sparse array (nil element)");
    encode_value(e, lua_gettop(L));
    lua_pop(L, 1);
  }
  e->depth--;
  if (e->indent) newline(e);
  putc_(e, ']');
}

/* One pass: lua_next visits the array part in index order, so a proper
 * array usually comes out as the keys 1, 2, ... n and then the end, each
 * with its value, which is encoded at once. At the first key out of that
 * order (integer keys stored in the hash part, holes, other keys) the output
 * goes back to the '[' and encode_array_checked starts over. */
static void encode_array(jenc *e, int idx, lua_Integer n, const void *ptr) {
  lua_State *L = e->L;
  size_t mark = e->len;
  int top = lua_gettop(L), depth = e->depth;
  lua_Integer i = 0;
  putc_(e, '[');
  push_frame(e, ptr);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (!lua_isinteger(L, -2) || lua_tointeger(L, -2) != i + 1 || i == n) {
      lua_settop(L, top);
      e->len = mark;
      e->depth = depth;
      encode_array_checked(e, idx, n, ptr);
      return;
    }
    put_separator(e, ++i);
    e->fr[depth].index = i;
    encode_value(e, top + 2);
    lua_pop(L, 1);
  }
  e->depth = depth;
  if (i != n) { /* fewer keys than the border: cannot be, but let the checked pass say so */
    e->len = mark;
    encode_array_checked(e, idx, n, ptr);
    return;
  }
  if (n > 0 && e->indent) newline(e);
  putc_(e, ']');
}

static void key_fail(jenc *e, int key) {
  char what[96];
  if (lua_type(e->L, key) == LUA_TNUMBER)
    snprintf(what, sizeof what, "number key in a table that is not a sequence (sparse or mixed table)");
  else
    snprintf(what, sizeof what, "%s key in object (keys must be strings)", luaL_typename(e->L, key));
  enc_fail(e, what);
}

static void put_key_text(jenc *e, const char *s, size_t n) {
  put_string(e, s, n);
  if (e->indent) put(e, ": ", 2);
  else putc_(e, ':');
}

/* The key's slot, or NULL when the key is not cached: the slot holding it,
 * else the one to fill. Two slots per address (h, h ^ 1), so that the
 * hundred-odd keys of a document rarely evict each other. */
static keyslot *key_slot(jenc *e, const char *s, size_t n) {
  keyslot *k;
  if (n > KEY_SLOT_MAX || e->indent) return NULL;
  if (!e->keys) {
    if (++e->keys_seen < KEY_CACHE_AFTER) return NULL;
    e->keys = (keyslot *)enc_realloc(e, NULL, 0, sizeof(keyslot) * KEY_SLOTS);
    memset(e->keys, 0, sizeof(keyslot) * KEY_SLOTS);
  }
  k = &e->keys[(((uint64_t)(uintptr_t)s * UINT64_C(0x9E3779B97F4A7C15)) >> 32) % KEY_SLOTS];
  if (k->s == s || !k->s) return k;
  k = &e->keys[(k - e->keys) ^ 1];
  return k;
}

/* The key s[0..n), the bytes of a key string of the table being encoded. */
static void put_key(jenc *e, const char *s, size_t n, int first) {
  keyslot *k = key_slot(e, s, n);
  if (k && k->s == s && k->n == n + 3) {
    /* One reservation for the separator and the key. */
    char *o = reserve(e, 1 + sizeof k->text);
    *o = ',';
    memcpy(o + !first, k->text, sizeof k->text);
    e->len += !first + k->n;
    return;
  }
  if (!first) putc_(e, ',');
  if (e->indent) newline(e);
  if (!k) {
    put_key_text(e, s, n);
    return;
  }
  {
    /* Written (and validated) once, then kept if it needed no escape. */
    size_t at = e->len;
    put_key_text(e, s, n);
    k->s = NULL;
    if (e->len - at == n + 3) {
      memcpy(k->text, e->buf + at, n + 3);
      k->s = s;
      k->n = n + 3;
    }
  }
}

static void put_empty_object(jenc *e) {
  if (e->empty_array) put(e, "[]", 2);
  else put(e, "{}", 2);
}

static void encode_object(jenc *e, int idx, const void *ptr) {
  lua_State *L = e->L;
  int first = 1, d = e->depth, top = lua_gettop(L) + 2; /* where lua_next leaves the value */
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, top - 1) != LUA_TSTRING) {
      e->depth = d;
      key_fail(e, top - 1);
    }
    if (first) {
      putc_(e, '{');
      push_frame(e, ptr);
    }
    e->fr[d].keyslot = top - 1;
    {
      size_t n;
      const char *k = lua_tolstring(L, top - 1, &n);
      put_key(e, k, n, first);
    }
    first = 0;
    encode_value(e, top);
    lua_pop(L, 1);
  }
  if (first) {
    put_empty_object(e);
    return;
  }
  e->depth--;
  if (e->indent) newline(e);
  putc_(e, '}');
}

static int sortkey_cmp(const void *a, const void *b) {
  const sortkey *x = (const sortkey *)a, *y = (const sortkey *)b;
  int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
  if (c) return c;
  return x->n < y->n ? -1 : x->n > y->n;
}

/* Keys are gathered on a stack shared by all levels (sk[base..]); the
 * strings stay alive because the table being encoded holds them. */
static void encode_object_sorted(jenc *e, int idx, const void *ptr) {
  lua_State *L = e->L;
  size_t base = e->sklen, i, count;
  int d = e->depth;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) key_fail(e, lua_gettop(L));
    if (e->sklen == e->skcap) {
      size_t cap = e->skcap ? e->skcap * 2 : 64;
      e->sk = (sortkey *)enc_realloc(e, e->sk, sizeof(sortkey) * e->skcap, sizeof(sortkey) * cap);
      e->skcap = cap;
    }
    e->sk[e->sklen].s = lua_tolstring(L, -1, &e->sk[e->sklen].n);
    e->sklen++;
  }
  count = e->sklen - base;
  if (count == 0) {
    put_empty_object(e);
    return;
  }
  qsort(e->sk + base, count, sizeof(sortkey), sortkey_cmp);
  putc_(e, '{');
  push_frame(e, ptr);
  for (i = 0; i < count; i++) {
    sortkey k = e->sk[base + i];
    lua_pushlstring(L, k.s, k.n);
    lua_pushvalue(L, -1);
    lua_rawget(L, idx);
    e->fr[d].keyslot = lua_gettop(L) - 1;
    put_key(e, k.s, k.n, i == 0); /* the table's own key, not the copy */
    encode_value(e, lua_gettop(L));
    lua_pop(L, 2);
  }
  e->sklen = base;
  e->depth--;
  if (e->indent) newline(e);
  putc_(e, '}');
}

static void encode_table(jenc *e, int idx) {
  lua_State *L = e->L;
  const void *ptr = lua_topointer(L, idx);
  int i, is_array = 0;
  lua_Integer n;
  for (i = 0; i < e->depth; i++)
    if (e->fr[i].ptr == ptr) enc_fail(e, "cycle (table contains itself)");
  if (e->depth >= e->max_depth) enc_fail(e, "nesting deeper than max_depth");
  /* A level holds at most a table's key and value and two more values
   * briefly (lua_next, sorted keys); checking once per 16 levels covers them. */
  if (e->depth % 16 == 0) luaL_checkstack(L, 6 * 16 + 8, "dwell.json: nesting too deep");
  n = (lua_Integer)lua_rawlen(L, idx);
  /* A border above 0 makes it an array whatever its metatable says. */
  if (n == 0 && lua_getmetatable(L, idx)) {
    is_array = lua_rawequal(L, -1, ARRAY_MT);
    lua_pop(L, 1);
  }
  if (is_array || n > 0) encode_array(e, idx, n, ptr);
  else if (e->sort_keys) encode_object_sorted(e, idx, ptr);
  else encode_object(e, idx, ptr);
}

static void encode_value(jenc *e, int idx) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
      put(e, "null", 4);
      return;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) put(e, "true", 4);
      else put(e, "false", 5);
      return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        e->len += fmt_int(lua_tointeger(L, idx), reserve(e, 24));
      } else {
        put_float(e, (double)lua_tonumber(L, idx));
      }
      return;
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      put_string(e, s, n);
      return;
    }
    case LUA_TTABLE:
      encode_table(e, idx);
      return;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == NULL) {
        put(e, "null", 4);
        return;
      }
      break;
    default:
      break;
  }
  {
    char what[64];
    snprintf(what, sizeof what, "cannot encode a %s", luaL_typename(L, idx));
    enc_fail(e, what);
  }
}

/* Runs under lua_pcall: 1 = the jenc, 2 = array_mt, 3 = the value. */
static int encode_inner(lua_State *L) {
  jenc *e = (jenc *)lua_touserdata(L, 1);
  encode_value(e, 3);
  lua_pushlstring(L, e->buf, e->len); /* here, so that running out of memory frees buf */
  return 1;
}

static void read_opts(lua_State *L, jenc *e) {
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_getfield(L, 2, "sort_keys");
  e->sort_keys = lua_toboolean(L, -1);
  if (lua_getfield(L, 2, "indent") != LUA_TNIL) {
    int isnum = 0;
    lua_Integer n = lua_isboolean(L, -1) ? 2 * lua_toboolean(L, -1) : lua_tointegerx(L, -1, &isnum);
    if ((!isnum && !lua_isboolean(L, -1)) || n < 0 || n > MAX_INDENT)
      luaL_argerror(L, 2, "opts.indent must be an integer from 0 to 16");
    e->indent = (int)n;
  }
  if (lua_getfield(L, 2, "empty_table") != LUA_TNIL) {
    const char *s = lua_tostring(L, -1);
    if (s && strcmp(s, "array") == 0) e->empty_array = 1;
    else if (!s || strcmp(s, "object") != 0)
      luaL_argerror(L, 2, "opts.empty_table must be \"object\" or \"array\"");
  }
  lua_pop(L, 3);
  e->max_depth = dwell_json_opt_depth(L, 2);
}

int dwell_json_encode(lua_State *L) {
  jenc e;
  int rc;
  luaL_checkany(L, 1);
  e.L = L;
  e.alloc = lua_getallocf(L, &e.aud);
  e.buf = e.local;
  e.len = 0;
  e.cap = LOCAL_BUF;
  e.depth = 0;
  e.max_depth = JSON_DEFAULT_MAX_DEPTH;
  e.indent = e.sort_keys = e.empty_array = 0;
  e.fr = e.frlocal;
  e.frcap = LOCAL_FRAMES;
  e.sk = NULL;
  e.sklen = e.skcap = 0;
  e.keys = NULL;
  e.keys_seen = 0;
  if (!lua_isnoneornil(L, 2)) read_opts(L, &e);
  lua_pushcfunction(L, encode_inner);
  lua_pushlightuserdata(L, &e);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  rc = lua_pcall(L, 3, 1, 0);
  if (e.buf != e.local) e.alloc(e.aud, e.buf, e.cap, 0);
  if (e.fr != e.frlocal) e.alloc(e.aud, e.fr, sizeof(frame) * (size_t)e.frcap, 0);
  if (e.sk) e.alloc(e.aud, e.sk, sizeof(sortkey) * e.skcap, 0);
  if (e.keys) e.alloc(e.aud, e.keys, sizeof(keyslot) * KEY_SLOTS, 0);
  if (rc != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}
