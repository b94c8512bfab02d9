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

#define JSON_INFINITY_BITS UINT64_C(0x7FF0000000000000)

/* floor(log2(10^q)) for the q of the table (checked by scripts/gen-json-pow10). */
static inline int json_floor_log2_pow10(int q) { return (q * 217706) >> 16; }

/* The Eisel-Lemire method (Daniel Lemire, "Number parsing at a gigabyte per
 * second", 2021), in its own words here: w times the top 128 bits of 10^q
 * gives the top bits of the exact product within a known error; when that
 * error cannot change the rounding, those bits are the answer.
 *
 * Sets *bits to the bits of the double nearest to w * 10^q (w != 0), ties
 * to even, and returns 1; or returns 0 when the product lies too close to a
 * halfway point between doubles for the approximation to decide. Inline, as
 * the decoder's common path for floats of up to 19 digits. */
static inline int json_eisel_lemire(uint64_t w, int q, uint64_t *bits) {
  json_u128 a, b, z;
  uint64_t mant, rest, half, low;
  int lz, upper, biased, drop, exact;
  if (q < JSON_POW10_MIN) { /* below 10^19 * 10^-343: nearer 0 than any subnormal */
    *bits = 0;
    return 1;
  }
  if (q > 308) { /* above 10^309: past the largest double */
    *bits = JSON_INFINITY_BITS;
    return 1;
  }
  lz = json_clz64(w);
  w <<= lz;
  /* z = floor(w * T / 2^64), T the table's 10^q; the exact product w * 10^q,
   * in the same units, lies in [z, z + 2) (T is at most 1 low, and the
   * dropped 64 bits are less than 1), and exactly at z + b.lo / 2^64 when T
   * is exact. */
  a = json_mul64(w, dwell_json_pow10[q - JSON_POW10_MIN][0]);
  b = json_mul64(w, dwell_json_pow10[q - JSON_POW10_MIN][1]);
  z.lo = a.lo + b.hi;
  z.hi = a.hi + (z.lo < a.lo);
  exact = q >= 0 && q <= JSON_POW10_EXACT_MAX;
  upper = (int)(z.hi >> 63); /* z >= 2^126: its top bit is bit 127 or 126 */
  biased = json_floor_log2_pow10(q) + 63 + upper - lz + 1023;
  /* Bits of z below the 53 kept (more for subnormals, whose exponent is
   * fixed): at least 74, so the kept bits all come from z.hi. */
  drop = 74 + upper + (biased <= 0 ? 1 - biased : 0);
  if (drop >= 128) return 0; /* under half the smallest subnormal, or near it */
  mant = z.hi >> (drop - 64);
  rest = z.hi & ((UINT64_C(1) << (drop - 64)) - 1);
  half = UINT64_C(1) << (drop - 65);
  low = z.lo;
  if (exact) {
    /* The product is z + b.lo / 2^64: only an exact tie needs a choice. */
    if (rest == half && low == 0 && b.lo == 0) mant += mant & 1;
    else mant += rest >= half;
  } else {
    /* With [z, z + 2) straddling or touching the halfway point, the exact
     * digits decide. */
    if ((rest == half && low == 0) || (rest == half - 1 && low == UINT64_MAX)) return 0;
    mant += rest >= half;
  }
  if (biased <= 0) {
    *bits = mant; /* a carry into bit 52 makes it the smallest normal */
    return 1;
  }
  /* mant is 2^52..2^53; a carry to 2^53 moves into the exponent by itself. */
  *bits = ((uint64_t)biased << 52) + (mant - (UINT64_C(1) << 52));
  if (*bits >= JSON_INFINITY_BITS) *bits = JSON_INFINITY_BITS;
  return 1;
}

/* The double nearest to the JSON number literal s[0..n) (already validated),
 * ties to even, by exact decimal arithmetic: the slow path of json_strtod.c. */
double dwell_json_bigdec_to_double(const char *s, size_t n);

#endif
