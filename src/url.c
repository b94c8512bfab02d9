/* dwell.core.url: RFC 3986 percent-encoding of everything but the unreserved set
 * (ALPHA DIGIT - . _ ~, ASCII whatever the locale), the primitive under dwell.url:
 *   encode(s)          -> s itself when it needs no encoding, else the encoded copy
 *   query_string(list) -> "k=v&k2=v2" from { {k, v}, ... }, each side encoded; "" for none
 *   canonical_query(list) -> the same pairs sorted by key, byte by byte (a key before the
 *                        longer keys it begins), sides raw (not encoded), as signers want
 *                        them; nil, key for a key given twice (the first repeat in list order)
 * Non-string items are turned into text as tostring does. */
#include <stdlib.h>
#include <string.h>

#include "dwell.h"

static const char HEX[] = "0123456789ABCDEF";

/* Whether a byte travels as it is. */
static int safe(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

/* The encoded length of s[0..n). */
static size_t encoded_len(const char *s, size_t n) {
  size_t i, out = n;
  for (i = 0; i < n; i++)
    if (!safe((unsigned char)s[i])) out += 2;
  return out;
}

static char *encode_into(char *out, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (safe(c)) {
      *out++ = (char)c;
    } else {
      *out++ = '%';
      *out++ = HEX[c >> 4];
      *out++ = HEX[c & 15];
    }
  }
  return out;
}

static int u_encode(lua_State *L) {
  size_t n, len;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  len = encoded_len(s, n);
  if (len == n) {
    lua_settop(L, 1);
    return 1;
  }
  encode_into(luaL_buffinitsize(L, &b, len), s, n);
  luaL_pushresultsize(&b, len);
  return 1;
}

/* Pushes the pairs of the list at index 1 as text, key then value, read as ipairs would (up
 * to the first nil); returns how many pairs. Strings stay as they are; anything else is
 * turned into text as tostring does. */
static int push_pairs(lua_State *L) {
  int n = 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  for (;;) {
    int k;
    luaL_checkstack(L, 4, "dwell.core.url: too many query pairs");
    if (lua_geti(L, 1, (lua_Integer)n + 1) == LUA_TNIL) {
      lua_pop(L, 1);
      return n;
    }
    if (!lua_istable(L, -1)) return luaL_error(L, "dwell.core.url: query pair %d is not a table", n + 1);
    for (k = 1; k <= 2; k++) {
      if (lua_geti(L, -k, k) != LUA_TSTRING) {
        luaL_tolstring(L, -1, NULL);
        lua_remove(L, -2);
      }
    }
    lua_remove(L, -3); /* the pair */
    n++;
  }
}

/* The pairs pushed from index base + 1 on, in the order `order` (pair numbers from 0), joined
 * as k=v&k=v, encoded or raw. */
static void join_pairs(lua_State *L, int base, int n, const int *order, int encode) {
  int i;
  size_t total = 0, len;
  char *p;
  luaL_Buffer b;
  for (i = 0; i < 2 * n; i++) {
    const char *s = lua_tolstring(L, base + 1 + i, &len);
    total += (encode ? encoded_len(s, len) : len) + 1; /* '=' or '&' */
  }
  total -= 1;
  p = luaL_buffinitsize(L, &b, total);
  for (i = 0; i < n; i++) {
    int k, at = base + 1 + 2 * (order ? order[i] : i);
    if (i > 0) *p++ = '&';
    for (k = 0; k < 2; k++) {
      const char *s = lua_tolstring(L, at + k, &len);
      if (k == 1) *p++ = '=';
      if (encode) {
        p = encode_into(p, s, len);
      } else {
        memcpy(p, s, len);
        p += len;
      }
    }
  }
  luaL_pushresultsize(&b, total);
}

static int u_query_string(lua_State *L) {
  int base = lua_gettop(L), n = push_pairs(L);
  if (n == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  join_pairs(L, base, n, NULL, 1);
  return 1;
}

typedef struct {
  const char *s;
  size_t len;
  int pair;
} key_t_;

static int key_cmp(const void *a, const void *b) {
  const key_t_ *x = (const key_t_ *)a, *y = (const key_t_ *)b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->s, y->s, n);
  if (c != 0) return c;
  if (x->len != y->len) return x->len < y->len ? -1 : 1;
  return x->pair - y->pair;
}

static int same_key(const key_t_ *x, const key_t_ *y) {
  return x->len == y->len && memcmp(x->s, y->s, x->len) == 0;
}

static int u_canonical_query(lua_State *L) {
  int i, j, dup = 0, *order, base = lua_gettop(L), n = push_pairs(L);
  key_t_ small[16], *keys = small;
  if (n == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  if (n > 16) keys = (key_t_ *)lua_newuserdatauv(L, sizeof(key_t_) * (size_t)n + sizeof(int) * (size_t)n, 0);
  for (i = 0; i < n; i++) {
    keys[i].s = lua_tolstring(L, base + 1 + 2 * i, &keys[i].len);
    keys[i].pair = i;
  }
  qsort(keys, (size_t)n, sizeof(key_t_), key_cmp);
  for (i = 1; i < n; i++)
    if (same_key(&keys[i - 1], &keys[i])) dup = 1;
  if (dup) {
    /* the first key, in list order, that an earlier pair already had */
    for (i = 1; i < n; i++) {
      size_t li, lj;
      const char *si = lua_tolstring(L, base + 1 + 2 * i, &li);
      for (j = 0; j < i; j++) {
        const char *sj = lua_tolstring(L, base + 1 + 2 * j, &lj);
        if (li == lj && memcmp(si, sj, li) == 0) {
          lua_pushnil(L);
          lua_pushvalue(L, base + 1 + 2 * i);
          return 2;
        }
      }
    }
  }
  {
    int small_order[16];
    order = n > 16 ? (int *)(keys + n) : small_order;
    for (i = 0; i < n; i++) order[i] = keys[i].pair;
    join_pairs(L, base, n, order, 0);
  }
  return 1;
}

static const luaL_Reg url_funcs[] = {
  {"encode", u_encode},
  {"query_string", u_query_string},
  {"canonical_query", u_canonical_query},
  {NULL, NULL}
};

int dwell_url_open(lua_State *L) {
  luaL_newlib(L, url_funcs);
  return 1;
}
