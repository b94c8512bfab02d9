/* Shared pieces of dwell.core.json: the decoder (json_decode.c), the encoder
 * (json_encode.c), locale-independent number conversion (json_dtoa.c,
 * json_strtod.c and json_bigdec.c, see json_num.h) and the module table
 * (json.c).
 *
 * Both codecs run their work inside lua_pcall on a state struct that lives in
 * the calling C frame: every error (malformed input, out of memory, a Lua
 * stack overflow) unwinds to that frame, which frees the buffers and returns
 * `nil, message`. Buffers are allocated with the state's lua_Alloc so that
 * host applications with their own allocator see all of dwell's memory. */
#ifndef DWELL_JSON_H
#define DWELL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dwell.h"

#define JSON_DEFAULT_MAX_DEPTH 1000
/* Both codecs recurse once per nesting level; this bounds the C stack. */
#define JSON_MAX_MAX_DEPTH 20000

int dwell_json_decode(lua_State *L);
int dwell_json_encode(lua_State *L);
int dwell_json_snake_key(lua_State *L);

/* opts.max_depth of the options table at index `opts` (default 1000);
 * raises an argument error when it is not an integer in range. */
int dwell_json_opt_depth(lua_State *L, int opts);

/* The double nearest to a JSON number literal s[0..n) (already validated),
 * ties to even, whatever the C locale. The decoder passes what it read on
 * the way: w, the first 19 significant digits as an integer, q, the decimal
 * exponent of its last digit, cut, whether digits followed that were not
 * taken into w, and neg, the sign. */
double dwell_json_decimal_to_double(const char *s, size_t n, uint64_t w, long q, int cut, int neg);

/* Shortest text that reads back as d (finite), with '.' as decimal point and
 * at least one of '.', 'e' so that it decodes as a float again. out must have
 * room for JSON_DOUBLE_ROOM bytes (the text is at most 24; the rest is
 * scratch). Returns the length. */
#define JSON_DOUBLE_ROOM 48
size_t dwell_json_fmt_double(double d, char *out);

/* ---- byte-level helpers shared by both codecs -------------------------- */

#define JSON_ONES UINT64_C(0x0101010101010101)
#define JSON_HIGHS UINT64_C(0x8080808080808080)

/* The bytes a string scan must stop at: control characters (< 0x20), '"',
 * '\\' and non-ASCII bytes. json_word_stops(x) has the high bit set in the
 * byte of every such byte of x (x loaded with memcpy), and possibly in bytes
 * above one: a subtraction borrows only out of a byte that is itself a stop,
 * so on a little-endian machine the lowest set bit is always the first stop
 * byte, and the word holds a stop byte exactly when the result is non-zero. */
static inline uint64_t json_word_stops(uint64_t x) {
  return ((x - JSON_ONES * 0x20) | ((x ^ (JSON_ONES * '"')) - JSON_ONES) |
          ((x ^ (JSON_ONES * '\\')) - JSON_ONES) | x) & JSON_HIGHS;
}

static inline int json_byte_stops(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

static inline int json_word_special(uint64_t x) { return json_word_stops(x) != 0; }

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSON_LITTLE_ENDIAN 1
#endif

/* p points at a word whose json_word_stops(x) is the non-zero m: returns a
 * pointer to its first stop byte. */
static inline const char *json_first_stop(const char *p, uint64_t m) {
#ifdef JSON_LITTLE_ENDIAN
  return p + (__builtin_ctzll(m) >> 3);
#else
  (void)m;
  while (!json_byte_stops((unsigned char)*p)) p++;
  return p;
#endif
}

/* Validates one UTF-8 sequence starting at the non-ASCII byte p[0] (Unicode
 * table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF).
 * Returns a pointer past it, or NULL. Relies on the '\0' Lua puts after every
 * string: a continuation byte is never 0, so a truncated sequence stops at
 * the terminator without reading beyond it. */
static inline const char *json_utf8_next(const char *p) {
  const unsigned char *u = (const unsigned char *)p;
  unsigned c = u[0];
  /* First the three-byte forms whose second byte may be any continuation
   * (CJK text is made of them). */
  if (c >= 0xE1 && c <= 0xEF && c != 0xED) {
    if ((u[1] & 0xC0) != 0x80 || (u[2] & 0xC0) != 0x80) return NULL;
    return p + 3;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    if ((u[1] & 0xC0) != 0x80) return NULL;
    return p + 2;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned lo = 0x80, hi = 0xBF;
    if (c == 0xE0) lo = 0xA0;
    else if (c == 0xED) hi = 0x9F;
    if (u[1] < lo || u[1] > hi) return NULL;
    if ((u[2] & 0xC0) != 0x80) return NULL;
    return p + 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned lo = 0x80, hi = 0xBF;
    if (c == 0xF0) lo = 0x90;
    else if (c == 0xF4) hi = 0x8F;
    if (u[1] < lo || u[1] > hi) return NULL;
    if ((u[2] & 0xC0) != 0x80 || (u[3] & 0xC0) != 0x80) return NULL;
    return p + 4;
  }
  return NULL;
}

#endif
