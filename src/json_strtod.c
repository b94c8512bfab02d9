/* Exact decimal-to-double for dwell.core.json.decode.
 *
 * The decoder hands over the first 19 significant digits w of a literal and
 * its decimal exponent q (value w * 10^q, or more when digits were cut off).
 * This file rounds that to the nearest double, ties to even, in the manner
 * of the Eisel-Lemire method (Daniel Lemire, "Number parsing at a gigabyte
 * per second", 2021): w times the top 128 bits of 10^q (json_pow10.c) gives
 * the top bits of the exact product within a known error, and when that
 * error cannot change the rounding, those bits are the answer. When it could
 * (the product lies within the error of a halfway point between doubles, or
 * cut-off digits could tip it), the literal is converted by exact decimal
 * arithmetic instead (json_bigdec.c). Both are independent of the locale. */
#include "json.h"
#include "json_num.h"

#define SIGNIFICAND_BITS 52
#define INFINITY_BITS UINT64_C(0x7FF0000000000000)

/* floor(log2(10^q)) for the q of the table (checked by scripts/gen-json-pow10). */
static inline int floor_log2_pow10(int q) { return (q * 217706) >> 16; }

/* Sets *bits to the bits of the double nearest to w * 10^q (w != 0) and
 * returns 1, or returns 0 when the product is too close to a halfway point
 * for the 128-bit approximation of 10^q to decide. */
static int eisel_lemire(uint64_t w, int q, uint64_t *bits) {
  json_u128 a, b, z;
  uint64_t mant, rest, half, low;
  int lz, upper, biased, drop, exact;
  if (q < JSON_POW10_MIN) { /* below 10^19 * 10^-343: nearer 0 than any subnormal */
    *bits = 0;
    return 1;
  }
  if (q > 308) { /* above 10^309: past the largest double */
    *bits = INFINITY_BITS;
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
  biased = floor_log2_pow10(q) + 63 + upper - lz + 1023;
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
  *bits = ((uint64_t)biased << SIGNIFICAND_BITS) + (mant - (UINT64_C(1) << SIGNIFICAND_BITS));
  if (*bits >= INFINITY_BITS) *bits = INFINITY_BITS;
  return 1;
}

double dwell_json_decimal_to_double(const char *s, size_t n, uint64_t w, long q, int cut, int neg) {
  uint64_t bits, bits_up;
  if (w == 0) {
    bits = 0;
  } else {
    int qi = q < -100000 ? -100000 : q > 100000 ? 100000 : (int)q;
    /* With digits cut off the value lies between w and w + 1 (times 10^q):
     * when both round to one double, so does the value. */
    if (!eisel_lemire(w, qi, &bits) || (cut && (!eisel_lemire(w + 1, qi, &bits_up) || bits_up != bits)))
      return dwell_json_bigdec_to_double(s, n);
  }
  return json_bits_double(bits | ((uint64_t)(neg != 0) << 63));
}
