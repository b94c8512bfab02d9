/* Internals shared by the number conversions of dwell.core.json: shortest
 * double-to-text (json_dtoa.c), exact text-to-double (json_strtod.c, with its
 * slow path json_bigdec.c) and the table of powers of ten both multiply by
 * (json_pow10.c, written by scripts/gen-json-pow10). None of them reads the C
 * locale: JSON's decimal point is '.' whatever LC_NUMERIC says. */
#ifndef DWELL_JSON_NUM_H
#define DWELL_JSON_NUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JSON_POW10_MIN (-342)
#define JSON_POW10_MAX 324

/* {high, low} halves of the top 128 bits of 10^k, rounded down (exact for
 * 0 <= k <= 55), at index k - JSON_POW10_MIN. The leading bit is always set. */
extern const uint64_t dwell_json_pow10[JSON_POW10_MAX - JSON_POW10_MIN + 1][2];

/* Whether the table holds 10^k exactly: 5^k fits in 128 bits up to k = 55. */
#define JSON_POW10_EXACT_MAX 55

typedef struct {
  uint64_t hi, lo;
} json_u128;

/* The full product a * b. */
static inline json_u128 json_mul64(uint64_t a, uint64_t b) {
  json_u128 r;
#if defined(__SIZEOF_INT128__)
  __extension__ unsigned __int128 p = (unsigned __int128)a * b;
  r.hi = (uint64_t)(p >> 64);
  r.lo = (uint64_t)p;
#else
  uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
  uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
  r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  r.lo = (mid << 32) | (uint32_t)p00;
#endif
  return r;
}

static inline int json_clz64(uint64_t x) { /* x != 0 */
#if defined(__GNUC__)
  return __builtin_clzll(x);
#else
  int n = 0;
  while (!(x >> 63)) { x <<= 1; n++; }
  return n;
#endif
}

static inline uint64_t json_double_bits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

static inline double json_bits_double(uint64_t u) {
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

/* The double nearest to the JSON number literal s[0..n) (already validated),
 * ties to even, by exact decimal arithmetic: the slow path of json_strtod.c. */
double dwell_json_bigdec_to_double(const char *s, size_t n);

#endif
