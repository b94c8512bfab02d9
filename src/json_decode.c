/* dwell.core.json.decode: a strict RFC 8259 parser.
 *
 * Recursive descent straight onto the Lua stack. Speed comes from scanning
 * strings eight bytes at a time and pushing them without copying when they
 * hold no escapes, from parsing integers and short decimals exactly without
 * strtod, and from sizing each new table like the last one at the same depth
 * (rows of a page tend to have the same shape).
 *
 * With opts.key_case = "snake", object keys that contain an ASCII capital are
 * renamed as the decoder goes (roomUserId -> room_user_id), so that a vendor
 * layer that wants snake_case keys need not walk the decoded tree again.
 *
 * The input is a Lua string, so s[len] is always '\0'. The scanners use that
 * terminator as a sentinel: each byte is read only after the previous one was
 * found to be something other than the terminator. */
#include <stdlib.h>

#include "json.h"

#define HINT_DEPTH 32
#define POW10_EXACT 22
/* Object keys repeat across the rows of a page, and so do short values
 * ("86", "TENANT"); a direct-mapped cache of pushed strings skips Lua's
 * hash-and-intern for each repetition. Longer values are mostly unique ids,
 * which would only evict the keys. The cache costs a 1024-slot table, so it
 * is only set up for documents this large. */
#define KEY_CACHE_MIN_INPUT 4096
#define KEY_CACHE_SLOTS 1024
#define KEY_CACHE_MAX_LEN 40
#define VAL_CACHE_MAX_LEN 8

typedef struct {
  lua_State *L;
  const char *start, *end, *p;
  int depth, max_depth, big_string;
  char *scratch; /* unescaped strings and slow-path numbers */
  size_t scap;
  lua_Alloc alloc;
  void *aud;
  int ahint[HINT_DEPTH], ohint[HINT_DEPTH];
  int key_cache; /* whether KEY_CACHE holds the cache table */
  int snake_keys; /* opts.key_case == "snake" */
  int renamed;    /* set by push_key: the key just pushed was renamed */
  struct { const char *s; size_t n; int renamed; } keys[KEY_CACHE_SLOTS];
} jdec;

#define ARRAY_MT 2  /* stack index of array_mt in decode_inner */
#define KEY_CACHE 3 /* stack index of the key cache table, when used */

static const double POW10[POW10_EXACT + 1] = {
  1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static void dec_fail(jdec *d, const char *at, const char *what) {
  lua_pushfstring(d->L, "dwell.json: %s at byte %I", what,
                  (lua_Integer)(at - d->start) + 1);
  lua_error(d->L);
}

static char *scratch_reserve(jdec *d, size_t need) {
  if (need > d->scap) {
    size_t cap = d->scap ? d->scap : 256;
    char *nb;
    while (cap < need) cap *= 2;
    nb = d->alloc(d->aud, d->scratch, d->scap, cap);
    if (!nb) luaL_error(d->L, "dwell.json: not enough memory");
    d->scratch = nb;
    d->scap = cap;
  }
  return d->scratch;
}

static inline const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
  return p;
}

static inline int is_digit(char c) { return c >= '0' && c <= '9'; }

/* ---- numbers ----------------------------------------------------------- */

static void parse_number(jdec *d) {
  const char *s = d->p, *p = s;
  uint64_t m = 0;
  int nd = 0, truncated = 0, is_float = 0, neg = 0;
  long e10 = 0;
  if (*p == '-') { neg = 1; p++; }
  if (*p == '0') {
    p++;
    if (is_digit(*p)) dec_fail(d, p, "leading zero in number");
  } else if (is_digit(*p)) {
    do {
      if (nd < 19) { m = m * 10 + (uint64_t)(*p - '0'); nd++; }
      else { truncated = 1; e10++; }
      p++;
    } while (is_digit(*p));
  } else {
    dec_fail(d, p, "expected digit");
  }
  if (*p == '.') {
    is_float = 1;
    p++;
    if (!is_digit(*p)) dec_fail(d, p, "expected digit after '.'");
    do {
      if (nd < 19) {
        m = m * 10 + (uint64_t)(*p - '0');
        if (m) nd++;
        e10--;
      } else {
        truncated = 1;
      }
      p++;
    } while (is_digit(*p));
  }
  if (*p == 'e' || *p == 'E') {
    long ex = 0;
    int eneg = 0;
    is_float = 1;
    p++;
    if (*p == '+' || *p == '-') eneg = (*p++ == '-');
    if (!is_digit(*p)) dec_fail(d, p, "expected digit in exponent");
    do {
      if (ex < 100000) ex = ex * 10 + (*p - '0');
      p++;
    } while (is_digit(*p));
    e10 += eneg ? -ex : ex;
  }
  d->p = p;
  if (!is_float && !truncated) {
    if (m <= (uint64_t)INT64_MAX) {
      lua_pushinteger(d->L, neg ? -(lua_Integer)m : (lua_Integer)m);
      return;
    }
    if (neg && m == (uint64_t)INT64_MAX + 1) {
      lua_pushinteger(d->L, LUA_MININTEGER);
      return;
    }
  }
  if (!is_float && d->big_string) {
    lua_pushlstring(d->L, s, (size_t)(p - s));
    return;
  }
  if (!truncated && m <= (UINT64_C(1) << 53) && e10 >= -POW10_EXACT && e10 <= POW10_EXACT) {
    /* Both operands are exact doubles, so one IEEE operation rounds correctly. */
    double v = (double)m;
    v = e10 >= 0 ? v * POW10[e10] : v / POW10[-e10];
    lua_pushnumber(d->L, neg ? -v : v);
    return;
  }
  {
    size_t n = (size_t)(p - s);
    char *buf = scratch_reserve(d, dwell_json_strtod_scratch(n));
    lua_pushnumber(d->L, dwell_json_strtod(s, n, buf));
  }
}

/* ---- strings ----------------------------------------------------------- */

static int hex4(const char *p) {
  int v = 0, i;
  for (i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return -1; /* stops at the terminator before reading past it */
  }
  return v;
}

static size_t put_utf8(char *o, unsigned long cp) {
  if (cp < 0x80) { o[0] = (char)cp; return 1; }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* p at a backslash; writes the unescaped bytes at o and returns how many. */
static size_t unescape(jdec *d, const char **pp, char *o) {
  const char *p = *pp;
  long cp;
  switch (p[1]) {
    case '"': *o = '"'; break;
    case '\\': *o = '\\'; break;
    case '/': *o = '/'; break;
    case 'b': *o = '\b'; break;
    case 'f': *o = '\f'; break;
    case 'n': *o = '\n'; break;
    case 'r': *o = '\r'; break;
    case 't': *o = '\t'; break;
    case 'u':
      cp = hex4(p + 2);
      if (cp < 0) dec_fail(d, p, "invalid \\u escape");
      if (cp >= 0xDC00 && cp <= 0xDFFF) dec_fail(d, p, "unpaired low surrogate escape");
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        long lo;
        if (p[6] != '\\' || p[7] != 'u') dec_fail(d, p, "unpaired high surrogate escape");
        lo = hex4(p + 8);
        if (lo < 0) dec_fail(d, p + 6, "invalid \\u escape");
        if (lo < 0xDC00 || lo > 0xDFFF) dec_fail(d, p + 6, "expected low surrogate escape");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        *pp = p + 12;
      } else {
        *pp = p + 6;
      }
      return put_utf8(o, (unsigned long)cp);
    default:
      dec_fail(d, p, "invalid escape in string");
  }
  *pp = p + 2;
  return 1;
}

static void string_char_fail(jdec *d, const char *p) {
  if (p >= d->end) dec_fail(d, p, "unterminated string");
  if ((unsigned char)*p < 0x20) dec_fail(d, p, "unescaped control character in string");
  dec_fail(d, p, "invalid UTF-8 in string");
}

/* Continues a string that has an escape; s..p is already scanned. Unescaping
 * never lengthens text, so scratch of the input size that remains suffices. */
static void parse_string_slow(jdec *d, const char *s, const char *p) {
  size_t pre = (size_t)(p - s);
  char *o = scratch_reserve(d, (size_t)(d->end - s) + 1);
  char *o0 = o;
  memcpy(o, s, pre);
  o += pre;
  for (;;) {
    unsigned char c = (unsigned char)*p;
    if (c == '"') break;
    if (c == '\\') {
      o += unescape(d, &p, o);
    } else if (c < 0x20) {
      string_char_fail(d, p);
    } else if (c >= 0x80) {
      const char *q = json_utf8_next(p);
      if (!q) string_char_fail(d, p);
      while (p < q) *o++ = *p++;
    } else {
      *o++ = (char)c;
      p++;
    }
  }
  lua_pushlstring(d->L, o0, (size_t)(o - o0));
  d->p = p + 1;
}

static unsigned key_slot(const char *s, size_t n) {
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    memcpy(&a, s, 8);
    memcpy(&b, s + n - 8, 8);
  } else {
    size_t i;
    for (i = 0; i < n; i++) a |= (uint64_t)(unsigned char)s[i] << (8 * i);
  }
  a = (a ^ (b * UINT64_C(0x9E3779B97F4A7C15)) ^ n) * UINT64_C(0xFF51AFD7ED558CCD);
  return (unsigned)(a >> 54);
}

/* ---- snake_case keys --------------------------------------------------- */

static inline int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static inline int is_lower(char c) { return c >= 'a' && c <= 'z'; }

static int has_upper(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (is_upper(s[i])) return 1;
  return 0;
}

/* One gsub pass of dwell.tuya.envelope.snake: an '_' goes between a lower
 * case letter (or, with digit, a digit) and the capital after it; matches do
 * not overlap, as with Lua's gsub. Returns the output length (at most 3n/2). */
static size_t snake_pair_pass(const char *in, size_t n, char *out, int digit) {
  size_t i = 0, o = 0;
  while (i < n) {
    char c = in[i];
    if (i + 1 < n && (digit ? is_digit(c) : is_lower(c)) && is_upper(in[i + 1])) {
      out[o++] = c;
      out[o++] = '_';
      out[o++] = in[i + 1];
      i += 2;
    } else {
      out[o++] = c;
      i++;
    }
  }
  return o;
}

/* The pass for "(%u)(%u%l)" -> "%1_%2" (HTTPServer -> HTTP_Server). */
static size_t snake_acronym_pass(const char *in, size_t n, char *out) {
  size_t i = 0, o = 0;
  while (i < n) {
    if (i + 2 < n && is_upper(in[i]) && is_upper(in[i + 1]) && is_lower(in[i + 2])) {
      out[o++] = in[i];
      out[o++] = '_';
      out[o++] = in[i + 1];
      out[o++] = in[i + 2];
      i += 3;
    } else {
      out[o++] = in[i++];
    }
  }
  return o;
}

/* Pushes s[0..n) in snake_case, exactly as envelope.snake spells it (ASCII
 * letters only). Each pass grows the text by at most half, so 4n bytes per
 * buffer suffice. s must not point into the scratch buffer. */
static void push_snake(jdec *d, const char *s, size_t n) {
  char *a = scratch_reserve(d, 8 * n + 16), *b = a + 4 * n + 8;
  size_t i, m;
  m = snake_pair_pass(s, n, a, 0);
  m = snake_pair_pass(a, m, b, 1);
  m = snake_acronym_pass(b, m, a);
  for (i = 0; i < m; i++)
    if (is_upper(a[i])) a[i] = (char)(a[i] - 'A' + 'a');
  lua_pushlstring(d->L, a, m);
}

/* Pushes the key s[0..n) (renamed to snake_case when asked and needed), from
 * the cache when an equal key was seen. */
static void push_key(jdec *d, const char *s, size_t n, int is_key) {
  unsigned slot;
  int rename;
  if (!d->key_cache || n > (is_key ? KEY_CACHE_MAX_LEN : VAL_CACHE_MAX_LEN)) {
    rename = d->renamed = is_key && d->snake_keys && has_upper(s, n);
    if (rename) push_snake(d, s, n);
    else lua_pushlstring(d->L, s, n);
    return;
  }
  slot = key_slot(s, n);
  /* A slot holds the bytes as given, or (renamed) a key's snake_case name:
   * equal bytes are renamed alike, so a hit needs no second look at them. */
  if (d->keys[slot].s && d->keys[slot].n == n && memcmp(d->keys[slot].s, s, n) == 0) {
    if (d->keys[slot].renamed && !is_key) {
      d->renamed = 0;
      lua_pushlstring(d->L, s, n); /* a value is never renamed */
      return;
    }
    d->renamed = d->keys[slot].renamed;
    lua_rawgeti(d->L, KEY_CACHE, (lua_Integer)slot + 1);
    return;
  }
  rename = d->snake_keys && has_upper(s, n);
  d->renamed = is_key && rename;
  if (rename && !is_key) {
    /* Only keys fill renamed slots; a value that a key would rename is
     * pushed as it is, uncached, so that no slot holds both spellings. */
    lua_pushlstring(d->L, s, n);
    return;
  }
  if (rename) {
    /* s points into the input, which outlives the decode. */
    push_snake(d, s, n);
    d->keys[slot].s = s;
  } else {
    /* The cache table keeps the string alive, so its bytes stay valid. */
    d->keys[slot].s = lua_pushlstring(d->L, s, n);
  }
  d->keys[slot].n = n;
  d->keys[slot].renamed = rename;
  lua_pushvalue(d->L, -1);
  lua_rawseti(d->L, KEY_CACHE, (lua_Integer)slot + 1);
}

static void parse_string(jdec *d, int is_key) {
  const char *s = d->p + 1, *p = s;
  for (;;) {
    unsigned char c;
    while (d->end - p >= 8) {
      uint64_t x;
      memcpy(&x, p, 8);
      if (json_word_special(x)) break;
      p += 8;
    }
    c = (unsigned char)*p;
    if (c == '"') break;
    if (c == '\\') {
      parse_string_slow(d, s, p);
      d->renamed = 0;
      if (is_key && d->snake_keys) {
        /* The unescaped key is a Lua string on the stack (its bytes are
         * not in the scratch buffer that push_snake reuses). */
        size_t n;
        const char *k = lua_tolstring(d->L, -1, &n);
        if (has_upper(k, n)) {
          push_snake(d, k, n);
          lua_replace(d->L, -2);
          d->renamed = 1;
        }
      }
      return;
    }
    if (c < 0x20) string_char_fail(d, p);
    if (c >= 0x80) {
      const char *q = json_utf8_next(p);
      if (!q) string_char_fail(d, p);
      p = q;
    } else {
      p++;
    }
  }
  push_key(d, s, (size_t)(p - s), is_key);
  d->p = p + 1;
}

/* ---- containers -------------------------------------------------------- */

static void parse_value(jdec *d);

static void enter(jdec *d) {
  if (++d->depth > d->max_depth) dec_fail(d, d->p, "nesting deeper than max_depth");
  luaL_checkstack(d->L, 4, "dwell.json: nesting too deep");
}

static void parse_array(jdec *d) {
  lua_State *L = d->L;
  lua_Integer n = 0;
  int depth;
  enter(d);
  depth = d->depth;
  lua_createtable(L, depth < HINT_DEPTH ? d->ahint[depth] : 0, 0);
  lua_pushvalue(L, ARRAY_MT);
  lua_setmetatable(L, -2);
  d->p = skip_ws(d->p + 1);
  if (*d->p != ']') {
    for (;;) {
      parse_value(d);
      lua_rawseti(L, -2, ++n);
      d->p = skip_ws(d->p);
      if (*d->p == ',') { d->p++; continue; }
      if (*d->p == ']') break;
      dec_fail(d, d->p, "expected ',' or ']'");
    }
  }
  d->p++;
  if (depth < HINT_DEPTH) d->ahint[depth] = n > 1000000 ? 1000000 : (int)n;
  d->depth--;
}

static void parse_object(jdec *d) {
  lua_State *L = d->L;
  int n = 0, depth;
  enter(d);
  depth = d->depth;
  lua_createtable(L, 0, depth < HINT_DEPTH ? d->ohint[depth] : 0);
  d->p = skip_ws(d->p + 1);
  if (*d->p != '}') {
    for (;;) {
      if (*d->p != '"') dec_fail(d, d->p, n ? "expected string key" : "expected string key or '}'");
      parse_string(d, 1);
      d->p = skip_ws(d->p);
      if (*d->p != ':') dec_fail(d, d->p, "expected ':'");
      d->p++;
      if (d->renamed) {
        /* A renamed key never replaces the same key spelt in snake_case
         * (in either order): the snake_case spelling wins. */
        d->renamed = 0;
        parse_value(d);
        lua_pushvalue(L, -2);
        if (lua_rawget(L, -4) == LUA_TNIL) {
          lua_pop(L, 1);
          lua_rawset(L, -3);
        } else {
          lua_pop(L, 3);
        }
      } else {
        parse_value(d);
        lua_rawset(L, -3);
      }
      if (n < 1000000) n++;
      d->p = skip_ws(d->p);
      if (*d->p == ',') { d->p = skip_ws(d->p + 1); continue; }
      if (*d->p == '}') break;
      dec_fail(d, d->p, "expected ',' or '}'");
    }
  }
  d->p++;
  if (depth < HINT_DEPTH) d->ohint[depth] = n;
  d->depth--;
}

static int match_word(jdec *d, const char *w, size_t n) {
  if ((size_t)(d->end - d->p) >= n && memcmp(d->p, w, n) == 0) {
    d->p += n;
    return 1;
  }
  return 0;
}

static void parse_value(jdec *d) {
  d->p = skip_ws(d->p);
  switch (*d->p) {
    case '"': parse_string(d, 0); return;
    case '{': parse_object(d); return;
    case '[': parse_array(d); return;
    case 't':
      if (match_word(d, "true", 4)) { lua_pushboolean(d->L, 1); return; }
      break;
    case 'f':
      if (match_word(d, "false", 5)) { lua_pushboolean(d->L, 0); return; }
      break;
    case 'n':
      if (match_word(d, "null", 4)) { lua_pushlightuserdata(d->L, NULL); return; }
      break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      parse_number(d);
      return;
    default:
      break;
  }
  dec_fail(d, d->p, d->p >= d->end ? "unexpected end of input, expected value" : "expected value");
}

/* Runs under lua_pcall: 1 = the jdec, 2 = array_mt. */
static int decode_inner(lua_State *L) {
  jdec *d = (jdec *)lua_touserdata(L, 1);
  if (d->end - d->start >= KEY_CACHE_MIN_INPUT) {
    memset(d->keys, 0, sizeof d->keys);
    lua_createtable(L, KEY_CACHE_SLOTS, 0);
    d->key_cache = 1;
  }
  parse_value(d);
  d->p = skip_ws(d->p);
  if (d->p != d->end) dec_fail(d, d->p, "expected end of input");
  return 1;
}

int dwell_json_decode(lua_State *L) {
  jdec d;
  size_t n;
  int rc;
  memset(&d, 0, offsetof(jdec, keys));
  d.start = luaL_checklstring(L, 1, &n);
  d.end = d.start + n;
  d.p = d.start;
  d.L = L;
  d.max_depth = JSON_DEFAULT_MAX_DEPTH;
  d.alloc = lua_getallocf(L, &d.aud);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    if (lua_getfield(L, 2, "big") != LUA_TNIL) {
      const char *b = lua_tostring(L, -1);
      if (b && strcmp(b, "string") == 0) d.big_string = 1;
      else if (!b || strcmp(b, "float") != 0)
        luaL_argerror(L, 2, "opts.big must be \"float\" or \"string\"");
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "key_case") != LUA_TNIL) {
      const char *k = lua_tostring(L, -1);
      if (k && strcmp(k, "snake") == 0) d.snake_keys = 1;
      else if (!k || strcmp(k, "asis") != 0)
        luaL_argerror(L, 2, "opts.key_case must be \"asis\" or \"snake\"");
    }
    lua_pop(L, 1);
    d.max_depth = dwell_json_opt_depth(L, 2);
  }
  lua_pushcfunction(L, decode_inner);
  lua_pushlightuserdata(L, &d);
  lua_pushvalue(L, lua_upvalueindex(1));
  rc = lua_pcall(L, 2, 1, 0);
  if (d.scratch) d.alloc(d.aud, d.scratch, d.scap, 0);
  if (rc != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}
