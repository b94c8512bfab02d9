/* dwell.core.json.decode: a strict RFC 8259 parser.
 *
 * Recursive descent straight onto the Lua stack; only containers recurse,
 * scalars are parsed inline in the container loops. Speed comes from:
 *  - scanning strings eight bytes at a time up to the first byte that needs
 *    a look ('"', '\\', a control or non-ASCII byte), validating UTF-8 in the
 *    same pass, and pushing strings without copying when they hold no escape;
 *  - a cache of the Lua strings pushed for keys and short values, kept on the
 *    Lua stack, which skips Lua's hash-and-intern for each repetition; keys
 *    are first compared with the key at the same place of the previous
 *    object at that depth (rows of a page share their keys and order), which
 *    also skips the scan;
 *  - sizing each new table like the last value of the same key (or, failing
 *    that, the last table at the same depth);
 *  - parsing numbers exactly without strtod (json_strtod.c).
 * The Lua side (interning new strings, inserting keys, allocation) is what
 * remains; see bench/json.lua.
 *
 * With opts.key_case = "snake", object keys that contain an ASCII capital are
 * renamed as they are read (roomUserId -> room_user_id), so that a vendor
 * layer that wants snake_case keys need not walk the decoded tree again. The
 * container and string parsers are written once with a constant `snake`
 * argument and instantiated twice, so decoding without the option runs the
 * same code as if the option did not exist.
 *
 * The input is a Lua string, so s[len] is always '\0'. The scanners use that
 * terminator as a sentinel: each byte is read only after the previous one was
 * found to be something other than the terminator. */
#include <stdlib.h>

#include "json.h"
#include "json_num.h"

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define NOINLINE
#define ALWAYS_INLINE inline
#endif

#define HINT_DEPTH 32
#define STACK_BATCH 16
#define SHAPE_KEYS 64
#define POW10_EXACT 22
/* Object keys repeat across the rows of a page, and so do short values
 * ("86", "TENANT"); a direct-mapped cache of pushed strings skips Lua's
 * hash-and-intern for each repetition. Longer values are mostly unique ids,
 * which would only evict the keys. The cache costs a 1024-slot table, so it
 * is only set up for documents this large. */
#define KEY_CACHE_MIN_INPUT 4096
#define KEY_CACHE_BITS 10
#define KEY_CACHE_SLOTS (1 << KEY_CACHE_BITS)
#define KEY_CACHE_MAX_LEN 40
#define VAL_CACHE_MAX_LEN 8

/* What a cache slot's stack string is for its bytes. Without key_case every
 * slot is K_PLAIN. With key_case = "snake", bytes that hold a capital are
 * K_RENAMED when a key filled the slot (the stack holds the snake_case name;
 * values must not use it) and K_UPPER when a value did (keys must not use it):
 * the same bytes never stand for both spellings. */
enum { K_PLAIN = 0, K_RENAMED = 1, K_UPPER = 2 };

/* A cache slot: the string's bytes (owned by its stack slot, or for a
 * K_RENAMED slot the input's), length, first word, the size of the last
 * container seen as the value of this key, the kind above and, with
 * key_case = "snake", name_bit(the string the stack slot holds). */
typedef struct {
  const char *s;
  size_t n;
  uint64_t w;
  int hint;
  unsigned char kind, nbit;
} kslot;

typedef struct {
  lua_State *L;
  const char *start, *end, *p;
  int depth, max_depth, big_string;
  char *scratch; /* unescaped strings, snake_case keys */
  size_t scap;
  lua_Alloc alloc;
  void *aud;
  int ahint[HINT_DEPTH], ohint[HINT_DEPTH];
  int key_cache;   /* whether `cache` is set up and the stack from KEY_CACHE holds its strings */
  kslot *slot;     /* cache slot of the string just pushed, or NULL */
  kslot *vslot;    /* cache slot of the key whose value is about to be parsed */
  kslot *keys;     /* cache->keys */
  struct jcache *cache; /* from d->alloc (some 48 KB: kept off the C stack) */
  int snake_keys;  /* opts.key_case == "snake" */
  int renamed;     /* with snake_keys: whether the key just pushed was renamed */
  const char **kpos; /* with snake_keys: where each key of the open objects starts */
  size_t nkpos, kpos_cap;
} jdec;

struct jcache {
  kslot keys[KEY_CACHE_SLOTS];
  kslot *shape[HINT_DEPTH][SHAPE_KEYS]; /* key i of the last object at a depth */
};

#define ARRAY_MT 2  /* stack index of array_mt in decode_inner */
#define KEY_CACHE 3 /* stack index of the first cached string, when used */

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
  if ((unsigned char)*p > ' ') return p; /* the common case: no whitespace */
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
  return p;
}

static inline int is_digit(char c) { return c >= '0' && c <= '9'; }

/* ---- numbers ----------------------------------------------------------- */

static NOINLINE void parse_number(jdec *d) {
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
  lua_pushnumber(d->L, dwell_json_decimal_to_double(s, (size_t)(p - s), m, e10, truncated, neg));
}

/* The digits at the start of a word x of eight input bytes (loaded with
 * memcpy, little-endian), and their value: eight at a time is what makes the
 * 15 to 17 digit fractions of coordinates cheap. A byte that is not a digit
 * gets its high bit set: above '9' by the addition, below '0' by the borrow
 * of the subtraction (which can only disturb the bytes after it). */
#ifdef JSON_LITTLE_ENDIAN
static inline int leading_digits(uint64_t x) {
  uint64_t stops = ((x + JSON_ONES * (0x80 - '9' - 1)) | (x - JSON_ONES * '0')) & JSON_HIGHS;
  return stops ? __builtin_ctzll(stops) >> 3 : 8;
}

/* The value of the first k (0..8) digits of x. They are moved to the top of
 * the word (zero bytes below count as leading zeros), then combined in
 * pairs, fours and eights by multiplications. */
static inline uint64_t digits_value(uint64_t x, int k) {
  if (k == 0) return 0;
  x = (x - JSON_ONES * '0') << (8 * (8 - k));
  x = x * 10 + (x >> 8);
  return (((x & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x000F424000000064)) +
          (((x >> 16) & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x0000271000000001))) >> 32;
}

static const uint64_t POW10_INT[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
#endif

/* Continues parse_num past the integer part (m, nd digits) of the literal
 * at s, with p at '.', 'e' or 'E': the fraction and exponent of a float of
 * at most 19 digits. Returns 0, having consumed nothing, for anything else
 * (parse_number then reads the literal again). */
static ALWAYS_INLINE int parse_float_tail(jdec *d, const char *s, const char *p, uint64_t m, int nd, int neg) {
  long q = 0;
  if (*p == '.') {
    const char *f = ++p;
    if (!is_digit(*p)) return 0;
#ifdef JSON_LITTLE_ENDIAN
    /* Whole words of eight digits, then the digits that start the next. */
    while (d->end - p >= 8) {
      uint64_t x;
      int k;
      memcpy(&x, p, 8);
      k = leading_digits(x);
      if (nd + k > 19) break;
      m = m * POW10_INT[k] + digits_value(x, k);
      p += k;
      nd += k;
      if (k < 8) break;
    }
#endif
    while (is_digit(*p) && nd < 19) {
      m = m * 10 + (uint64_t)(*p++ - '0');
      nd++;
    }
    if (is_digit(*p)) return 0; /* more digits than w holds */
    q = -(long)(p - f);
  }
  if (*p == 'e' || *p == 'E') {
    long ex = 0;
    int eneg = 0;
    p++;
    if (*p == '+' || *p == '-') eneg = *p++ == '-';
    if (!is_digit(*p)) return 0;
    do {
      if (ex < 100000) ex = ex * 10 + (*p - '0');
      p++;
    } while (is_digit(*p));
    q += eneg ? -ex : ex;
  }
  d->p = p;
  if (m <= (UINT64_C(1) << 53) && q >= -POW10_EXACT && q <= POW10_EXACT) {
    /* Both operands are exact doubles, so one IEEE operation rounds correctly. */
    double v = q >= 0 ? (double)m * POW10[q] : (double)m / POW10[-q];
    lua_pushnumber(d->L, neg ? -v : v);
  } else if (m == 0) {
    lua_pushnumber(d->L, neg ? -0.0 : 0.0);
  } else {
    uint64_t bits;
    /* q is within +-100019 here. */
    if (json_eisel_lemire(m, (int)q, &bits)) lua_pushnumber(d->L, json_bits_double(bits | ((uint64_t)neg << 63)));
    else lua_pushnumber(d->L, dwell_json_bigdec_to_double(s, (size_t)(p - s)));
  }
  return 1;
}

/* The common cases inline: an integer of at most 19 digits that fits int64,
 * or (through parse_float_tail) a float of at most 19 digits. Returns 0,
 * having consumed nothing, for anything else (parse_number then reads the
 * literal again, reporting errors and handling the rest). */
static ALWAYS_INLINE int parse_num(jdec *d) {
  const char *s = d->p, *p = s;
  uint64_t m;
  int neg = *p == '-', nd = 1;
  p += neg;
  if (*p == '0') {
    m = 0;
    p++;
  } else {
    m = (uint64_t)(*p - '0');
    if (m > 9) return 0;
    p++;
    while (is_digit(*p)) {
      if (++nd > 19) return 0;
      m = m * 10 + (uint64_t)(*p++ - '0');
    }
  }
  if (*p == '.' || *p == 'e' || *p == 'E') return parse_float_tail(d, s, p, m, nd, neg);
  if (is_digit(*p)) return 0;
  if (m > (uint64_t)INT64_MAX + (uint64_t)neg) return 0;
  d->p = p;
  if (!neg) lua_pushinteger(d->L, (lua_Integer)m);
  else if (m <= (uint64_t)INT64_MAX) lua_pushinteger(d->L, -(lua_Integer)m);
  else lua_pushinteger(d->L, LUA_MININTEGER);
  return 1;
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

static ALWAYS_INLINE size_t put_utf8(char *o, unsigned long cp) {
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
static ALWAYS_INLINE size_t unescape(jdec *d, const char **pp, char *o) {
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
static ALWAYS_INLINE void parse_string_slow(jdec *d, const char *s, const char *p) {
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

/* The first min(n, 8) bytes of s[0..n) as a word, zero-padded. */
static inline uint64_t head_word(const jdec *d, const char *s, size_t n) {
  uint64_t w = 0;
#ifdef JSON_LITTLE_ENDIAN
  if (d->end - s >= 8) {
    memcpy(&w, s, 8);
    if (n < 8) w &= (UINT64_C(1) << (8 * n)) - 1;
    return w;
  }
#else
  (void)d;
#endif
  memcpy(&w, s, n < 8 ? n : 8);
  return w;
}

/* a[8..n) == b[8..n), n > 8, reading only inside both. */
static inline int tail_equal(const char *a, const char *b, size_t n) {
  uint64_t x, y;
  size_t i;
  for (i = 8; i + 8 < n; i += 8) {
    memcpy(&x, a + i, 8);
    memcpy(&y, b + i, 8);
    if (x != y) return 0;
  }
  memcpy(&x, a + n - 8, 8);
  memcpy(&y, b + n - 8, 8);
  return x == y;
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

/* One of the first two passes of the snake_case spelling, in Lua pattern
 * terms "(%l)(%u)" (or, with digit, "(%d)(%u)") -> "%1_%2". Matches do not
 * overlap, as with Lua's gsub. Returns the output length (at most 3n/2). */
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

/* The third pass, "(%u)(%u%l)" -> "%1_%2" (HTTPServer -> HTTP_Server).
 * Returns the output length (at most 4n/3). */
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

/* Which of 64 bits stands for the key name s[0..n) in an object's summary of
 * the names it has set (parse_object_t): equal names, however they were
 * spelt in the text, get the same bit. */
static unsigned name_bit(const char *s, size_t n) {
  uint64_t h = UINT64_C(0xCBF29CE484222325);
  size_t i;
  for (i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001B3);
  return (unsigned)(h >> 58);
}

/* Pushes s[0..n) in snake_case, spelt exactly as json.snake_key does (ASCII
 * letters: Lua's %l, %u and lower() in the C locale), and returns its
 * name_bit. The passes grow the text to at most 3n, so two buffers of
 * 4n + 8 bytes suffice. s must not point into the scratch buffer. */
static NOINLINE unsigned push_snake(jdec *d, const char *s, size_t n) {
  char *a = scratch_reserve(d, 8 * n + 16), *b = a + 4 * n + 8;
  size_t i, m;
  m = snake_pair_pass(s, n, a, 0);
  m = snake_pair_pass(a, m, b, 1);
  m = snake_acronym_pass(b, m, a);
  for (i = 0; i < m; i++)
    if (is_upper(a[i])) a[i] = (char)(a[i] - 'A' + 'a');
  lua_pushlstring(d->L, a, m);
  return name_bit(a, m);
}

/* json.snake_key(s): the snake_case spelling key_case = "snake" gives an
 * object key ("roomUserId" -> "room_user_id"), for Lua code that renames
 * keys it did not decode itself (dwell.tuya.envelope.normalize). */
int dwell_json_snake_key(lua_State *L) {
  size_t n, m, i;
  const char *s = luaL_checklstring(L, 1, &n);
  char *a, *b;
  if (!has_upper(s, n)) {
    lua_settop(L, 1);
    return 1;
  }
  a = (char *)lua_newuserdatauv(L, 8 * n + 16, 0); /* freed by the GC, even if a push raises */
  b = a + 4 * n + 8;
  m = snake_pair_pass(s, n, a, 0);
  m = snake_pair_pass(a, m, b, 1);
  m = snake_acronym_pass(b, m, a);
  for (i = 0; i < m; i++)
    if (is_upper(a[i])) a[i] = (char)(a[i] - 'A' + 'a');
  lua_pushlstring(L, a, m);
  return 1;
}

/* The key on top of the stack was unescaped (so it is not cached): renames
 * it in place when it holds a capital. Its bytes belong to the Lua string,
 * not to the scratch buffer that push_snake reuses. */
static NOINLINE void snake_unescaped_key(jdec *d) {
  size_t n;
  const char *k = lua_tolstring(d->L, -1, &n);
  d->renamed = has_upper(k, n);
  if (d->renamed) {
    push_snake(d, k, n);
    lua_replace(d->L, -2);
  }
}

/* Pushes the string s[0..n) (a key renamed when snake says so), from the
 * cache when an equal string was seen. */
static ALWAYS_INLINE void push_cached_t(jdec *d, const char *s, size_t n, int is_key, const int snake) {
  uint64_t w, t = 0, h;
  kslot *k;
  int kind = K_PLAIN;
  if (!d->key_cache || n > (is_key ? KEY_CACHE_MAX_LEN : VAL_CACHE_MAX_LEN)) {
    if (snake && is_key && (d->renamed = has_upper(s, n)) != 0) push_snake(d, s, n);
    else lua_pushlstring(d->L, s, n);
    return;
  }
  w = head_word(d, s, n);
  if (n > 8) memcpy(&t, s + n - 8, 8);
  h = (w ^ (t * UINT64_C(0x9E3779B97F4A7C15)) ^ n) * UINT64_C(0xFF51AFD7ED558CCD);
  k = &d->keys[h >> (64 - KEY_CACHE_BITS)];
  d->slot = k;
  if (k->w == w && k->n == n && k->s && (n <= 8 || tail_equal(k->s, s, n)) &&
      (!snake || k->kind != (is_key ? K_UPPER : K_RENAMED))) {
    /* Equal bytes of the right kind: in snake mode a key's bytes decide
     * whether it is renamed, so the slot's string is the one to push. */
    if (snake && is_key) d->renamed = k->kind == K_RENAMED;
    lua_pushvalue(d->L, KEY_CACHE + (int)(k - d->keys));
    return;
  }
  if (snake && has_upper(s, n)) kind = is_key ? K_RENAMED : K_UPPER;
  if (snake && is_key) d->renamed = kind == K_RENAMED;
  if (snake && kind == K_RENAMED) {
    /* The slot compares raw bytes: s points into the input, which outlives
     * the decode. */
    k->nbit = (unsigned char)push_snake(d, s, n);
    k->s = s;
  } else {
    /* The stack slot keeps the string alive, so its bytes stay valid. */
    k->s = lua_pushlstring(d->L, s, n);
    if (snake) k->nbit = (unsigned char)name_bit(s, n);
  }
  k->n = n;
  k->w = w;
  k->hint = -1;
  if (snake) k->kind = (unsigned char)kind;
  lua_pushvalue(d->L, -1);
  lua_replace(d->L, KEY_CACHE + (int)(k - d->keys));
}

/* d->p at the opening quote. Scans eight bytes at a time up to the next stop
 * byte ('"', '\\', a control or a non-ASCII byte); UTF-8 is validated as it is
 * met, a run of non-ASCII characters at a time. */
static ALWAYS_INLINE void parse_string_t(jdec *d, int is_key, const int snake) {
  const char *s = d->p + 1, *p = s;
  for (;;) {
    unsigned char c;
    for (;;) {
      uint64_t x, m;
      if (d->end - p < 8) {
        while (!json_byte_stops((unsigned char)*p)) p++; /* stops at the '\0' */
        break;
      }
      memcpy(&x, p, 8);
      m = json_word_stops(x);
      if (m) {
        p = json_first_stop(p, m);
        break;
      }
      p += 8;
    }
    c = (unsigned char)*p;
    if (c == '"') break;
    if (c == '\\') {
      d->slot = NULL;
      parse_string_slow(d, s, p);
      if (snake && is_key) snake_unescaped_key(d);
      return;
    }
    if (c < 0x80) string_char_fail(d, p);
    do {
      const char *q = json_utf8_next(p);
      if (!q) string_char_fail(d, p);
      p = q;
    } while ((unsigned char)*p >= 0x80);
  }
  d->slot = NULL;
  push_cached_t(d, s, (size_t)(p - s), is_key, snake);
  d->p = p + 1;
}

static NOINLINE void parse_string(jdec *d, int is_key) { parse_string_t(d, is_key, 0); }
static NOINLINE void parse_string_snake(jdec *d, int is_key) { parse_string_t(d, is_key, 1); }

/* Whether s (just past an opening quote) holds the cached string k and its
 * closing quote. Equal bytes to a string that was validated are valid. */
static inline int key_at(const jdec *d, const kslot *k, const char *s) {
  size_t n = k->n;
  if ((size_t)(d->end - s) <= n || s[n] != '"') return 0;
  if (head_word(d, s, n) != k->w) return 0;
  return n <= 8 || tail_equal(k->s, s, n);
}

/* Pushes the key at d->p, key number i of an object at this depth. The rows of
 * a page repeat the keys of the previous row in the same order, so the key
 * that was at this place last time is tried first; a match skips the scan and
 * the hash. In snake mode a slot a value filled with capitals is no key. */
static ALWAYS_INLINE void parse_key_t(jdec *d, int depth, int i, const int snake) {
  kslot **pred = NULL;
  if (d->key_cache && depth < HINT_DEPTH && i < SHAPE_KEYS) {
    kslot *k;
    pred = &d->cache->shape[depth][i];
    k = *pred;
    if (k && (!snake || k->kind != K_UPPER) && key_at(d, k, d->p + 1)) {
      lua_pushvalue(d->L, KEY_CACHE + (int)(k - d->keys));
      if (snake) d->renamed = k->kind == K_RENAMED;
      d->slot = k;
      d->p += k->n + 2;
      return;
    }
  }
  if (snake) parse_string_snake(d, 1);
  else parse_string(d, 1);
  if (pred && d->slot) *pred = d->slot;
}

/* ---- snake_case key collisions ------------------------------------------ */

/* Remembers where a key of the object being parsed starts. */
static ALWAYS_INLINE void keypos_push(jdec *d, const char *p) {
  if (d->nkpos == d->kpos_cap) {
    size_t cap = d->kpos_cap ? 2 * d->kpos_cap : 64;
    const char **nb = d->alloc(d->aud, d->kpos, d->kpos_cap * sizeof *nb, cap * sizeof *nb);
    if (!nb) luaL_error(d->L, "dwell.json: not enough memory");
    d->kpos = nb;
    d->kpos_cap = cap;
  }
  d->kpos[d->nkpos++] = p;
}

/* Pushes the key whose opening quote is at p as it is spelt in the text
 * (already parsed, so valid). An escaped key is read again as a value, which
 * is never renamed nor (having an escape) cached. */
static void push_key_at(jdec *d, const char *p) {
  const char *s = p + 1, *q = s;
  while (*q != '"' && *q != '\\') q++;
  if (*q == '"') {
    lua_pushlstring(d->L, s, (size_t)(q - s));
  } else {
    const char *save = d->p;
    d->p = p;
    parse_string_snake(d, 0);
    d->p = save;
  }
}

/* Sets key -> value (the top two values) in the object table at t when the key
 * was renamed and may land on a name already set (check), or the object has a
 * set of snake_case keys at *rset. A renamed key never replaces a key spelt in
 * snake_case in the text (in either order) and otherwise, like every key,
 * replaces an earlier one: the last wins. Which of the two an existing entry
 * came from is only asked at the first collision in an object; the keys read
 * so far are then read again from the text (their starts are on d->kpos from
 * kbase) into a set of the snake_case spellings, which the later keys of the
 * object keep up to date. */
static NOINLINE void set_snake(jdec *d, int t, int *rset, size_t kbase, int renamed, int check) {
  lua_State *L = d->L;
  if (!renamed) {
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, *rset);
    lua_rawset(L, t);
    return;
  }
  if (!check) {
    lua_rawset(L, t);
    return;
  }
  lua_pushvalue(L, -2);
  if (lua_rawget(L, t) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_rawset(L, t);
    return;
  }
  lua_pop(L, 1);
  if (!*rset) {
    size_t i, last = d->nkpos - 1; /* the key being set, renamed */
    luaL_checkstack(L, 2 * STACK_BATCH + 8, "dwell.json: nesting too deep");
    lua_createtable(L, 0, (int)(last - kbase < 1000000 ? last - kbase : 1000000));
    for (i = kbase; i < last; i++) {
      size_t n;
      const char *k;
      push_key_at(d, d->kpos[i]);
      k = lua_tolstring(L, -1, &n);
      if (has_upper(k, n)) {
        lua_pop(L, 1);
      } else {
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
      }
    }
    lua_insert(L, t + 1); /* below the key and value */
    *rset = t + 1;
  }
  lua_pushvalue(L, -2);
  if (lua_rawget(L, *rset) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_rawset(L, t);
  } else {
    lua_pop(L, 3);
  }
}

/* ---- containers -------------------------------------------------------- */


/* Containers are the only recursion; scalars are parsed inline in their loops. */
static NOINLINE void parse_array(jdec *d);
static NOINLINE void parse_object(jdec *d);
static NOINLINE void parse_array_snake(jdec *d);
static NOINLINE void parse_object_snake(jdec *d);

static int match_word(jdec *d, const char *w, size_t n) {
  if ((size_t)(d->end - d->p) >= n && memcmp(d->p, w, n) == 0) {
    d->p += n;
    return 1;
  }
  return 0;
}

static ALWAYS_INLINE void parse_value_t(jdec *d, const int snake) {
  d->p = skip_ws(d->p);
  switch (*d->p) {
    case '"':
      if (snake) parse_string_snake(d, 0);
      else parse_string(d, 0);
      return;
    case '{':
      if (snake) parse_object_snake(d);
      else parse_object(d);
      return;
    case '[':
      if (snake) parse_array_snake(d);
      else parse_array(d);
      return;
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
      if (!parse_num(d)) parse_number(d);
      return;
    default:
      break;
  }
  dec_fail(d, d->p, d->p >= d->end ? "unexpected end of input, expected value" : "expected value");
}


static inline void enter(jdec *d) {
  if (++d->depth > d->max_depth) dec_fail(d, d->p, "nesting deeper than max_depth");
  /* A level holds at most its table and a key; a leaf pushes at most three
   * more values (key, value, cache copy), an error message one. Checking
   * once per STACK_BATCH levels covers all of them. (set_snake checks again
   * when it adds a set to a level.) */
  if (d->depth % STACK_BATCH == 1)
    luaL_checkstack(d->L, 2 * STACK_BATCH + 8, "dwell.json: nesting too deep");
}

static ALWAYS_INLINE void parse_array_t(jdec *d, const int snake) {
  lua_State *L = d->L;
  lua_Integer n = 0;
  int depth;
  kslot *ks = d->vslot;
  d->vslot = NULL;
  enter(d);
  depth = d->depth;
  lua_createtable(L, ks && ks->hint >= 0 ? ks->hint : depth < HINT_DEPTH ? d->ahint[depth] : 0, 0);
  lua_pushvalue(L, ARRAY_MT);
  lua_setmetatable(L, -2);
  d->p = skip_ws(d->p + 1);
  if (*d->p != ']') {
    for (;;) {
      parse_value_t(d, snake);
      lua_rawseti(L, -2, ++n);
      d->p = skip_ws(d->p);
      if (*d->p == ',') { d->p++; continue; }
      if (*d->p == ']') break;
      dec_fail(d, d->p, "expected ',' or ']'");
    }
  }
  d->p++;
  if (n > 1000000) n = 1000000;
  if (depth < HINT_DEPTH) d->ahint[depth] = (int)n;
  if (ks) ks->hint = (int)n;
  d->depth--;
}

static ALWAYS_INLINE void parse_object_t(jdec *d, const int snake) {
  lua_State *L = d->L;
  int n = 0, depth, t = 0, rset = 0;
  size_t kbase = 0;
  uint64_t names = 0; /* with snake: the name_bit of every key set so far */
  kslot *ks = d->vslot;
  d->vslot = NULL;
  enter(d);
  depth = d->depth;
  lua_createtable(L, 0, ks && ks->hint >= 0 ? ks->hint : depth < HINT_DEPTH ? d->ohint[depth] : 0);
  if (snake) {
    t = lua_gettop(L);
    kbase = d->nkpos;
  }
  d->p = skip_ws(d->p + 1);
  if (*d->p != '}') {
    for (;;) {
      int renamed = 0, check = 0;
      if (*d->p != '"') dec_fail(d, d->p, n ? "expected string key" : "expected string key or '}'");
      if (snake) keypos_push(d, d->p);
      parse_key_t(d, depth, n, snake);
      if (snake) {
        /* A renamed key may land on a name already set in this object only
         * when its bit is in `names`. A key that is not cached has no bit
         * at hand: it makes every later renamed key check. */
        uint64_t bit = d->slot ? UINT64_C(1) << d->slot->nbit : ~UINT64_C(0);
        renamed = d->renamed;
        check = renamed && (names & bit) != 0;
        names |= bit;
      }
      d->p = skip_ws(d->p);
      if (*d->p != ':') dec_fail(d, d->p, "expected ':'");
      d->p++;
      d->vslot = d->slot;
      parse_value_t(d, snake);
      d->vslot = NULL;
      if (!snake) lua_rawset(L, -3);
      else if (!check && !rset) lua_rawset(L, t);
      else set_snake(d, t, &rset, kbase, renamed, check);
      if (n < 1000000) n++;
      d->p = skip_ws(d->p);
      if (*d->p == ',') { d->p = skip_ws(d->p + 1); continue; }
      if (*d->p == '}') break;
      dec_fail(d, d->p, "expected ',' or '}'");
    }
  }
  d->p++;
  if (snake) {
    if (rset) lua_remove(L, rset);
    d->nkpos = kbase;
  }
  if (depth < HINT_DEPTH) d->ohint[depth] = n;
  if (ks) ks->hint = n;
  d->depth--;
}

static NOINLINE void parse_array(jdec *d) { parse_array_t(d, 0); }
static NOINLINE void parse_object(jdec *d) { parse_object_t(d, 0); }
static NOINLINE void parse_array_snake(jdec *d) { parse_array_t(d, 1); }
static NOINLINE void parse_object_snake(jdec *d) { parse_object_t(d, 1); }

/* Runs under lua_pcall: 1 = the jdec, 2 = array_mt. */
static int decode_inner(lua_State *L) {
  jdec *d = (jdec *)lua_touserdata(L, 1);
  if (d->end - d->start >= KEY_CACHE_MIN_INPUT) {
    d->cache = (struct jcache *)d->alloc(d->aud, NULL, 0, sizeof *d->cache);
    if (!d->cache) luaL_error(L, "dwell.json: not enough memory");
    memset(d->cache, 0, sizeof *d->cache);
    d->keys = d->cache->keys;
    luaL_checkstack(L, KEY_CACHE_SLOTS + 8, "dwell.json: no stack for the string cache");
    lua_settop(L, KEY_CACHE - 1 + KEY_CACHE_SLOTS);
    d->key_cache = 1;
  }
  if (d->snake_keys) parse_value_t(d, 1);
  else parse_value_t(d, 0);
  d->p = skip_ws(d->p);
  if (d->p != d->end) dec_fail(d, d->p, "expected end of input");
  return 1;
}

int dwell_json_decode(lua_State *L) {
  jdec d;
  size_t n;
  int rc;
  memset(&d, 0, sizeof d);
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
      const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
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
  if (d.cache) d.alloc(d.aud, d.cache, sizeof *d.cache, 0);
  if (d.kpos) d.alloc(d.aud, (void *)d.kpos, d.kpos_cap * sizeof *d.kpos, 0);
  if (rc != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}
