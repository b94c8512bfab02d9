/* Shortest double-to-text for dwell.core.json.encode.
 *
 * The digits come from Raffaello Giulietti's Schubfach method ("The Schubfach
 * way to render doubles", 2020): the rounding interval of the double is
 * scaled by one power of ten taken from the table (json_pow10.c) so that it
 * holds at most one multiple of 10 (the shorter candidate) and the integers
 * next to the scaled value; a 64x128-bit multiplication rounded to odd gives
 * the three scaled points exactly enough to choose among them. The result is
 * the shortest digit string that reads back as the same double and, among
 * strings of that length, the one nearest to it: the digits printf("%.*g")
 * prints at that precision.
 *
 * The text is laid out as the encoder always has: like "%.{P}g" with P the
 * larger of 15 and the digit count (fixed notation from 1e-5 up to 10^P,
 * exponents of at least two digits, "1e+300"), with ".0" added when the text
 * would otherwise read back as an integer. Nothing here reads the locale. */
#include "json.h"
#include "json_num.h"

#define SIGNIFICAND_BITS 52
#define EXPONENT_BIAS 1075 /* 1023, and the significand read as an integer */

typedef struct {
  uint64_t digits; /* no trailing zeros, unless it is 0 */
  int exp10;       /* the value is digits * 10^exp10 */
} decimal;

/* ---- Schubfach ---------------------------------------------------------- */

/* floor(log10(2^q)), or with lower_closer floor(log10(3/4 * 2^q)), for the
 * binary exponents of doubles (checked by scripts/gen-json-pow10). */
static inline int floor_log10_pow2(int q, int lower_closer) {
  return (q * 1262611 - (lower_closer ? 524031 : 0)) >> 22;
}

/* floor(log2(10^k)) for the k of the table. */
static inline int floor_log2_pow10(int k) { return (k * 1741647) >> 19; }

/* The top 128 bits of 10^k rounded up, as Schubfach's bounds require; the
 * table holds them rounded down, and exactly for 0 <= k <= 55. */
static inline json_u128 pow10_up(int k) {
  json_u128 g;
  g.hi = dwell_json_pow10[k - JSON_POW10_MIN][0];
  g.lo = dwell_json_pow10[k - JSON_POW10_MIN][1];
  if (k < 0 || k > JSON_POW10_EXACT_MAX) {
    g.lo++;
    g.hi += g.lo == 0;
  }
  return g;
}

/* floor(g * cp / 2^128), with its lowest bit set when the product is not an
 * integer ("round to odd"), which is what the comparisons below need to see.
 * g overestimates the power by less than 2^-68 of cp, so a product that is
 * an integer leaves nothing in the 64 bits below the point. */
static inline uint64_t round_to_odd(json_u128 g, uint64_t cp) {
  json_u128 x = json_mul64(g.lo, cp), y = json_mul64(g.hi, cp);
  uint64_t z = y.lo + x.hi;
  uint64_t carry = z < y.lo;
  return (y.hi + carry) | (z != 0);
}

/* The shortest nearest decimal of the finite positive double with biased
 * exponent `be` and stored significand `f` (not both zero). */
static decimal shortest(uint64_t f, int be) {
  decimal r;
  uint64_t c, cb, cbl, cbr, vb, vbl, vbr, lower, upper, s;
  int q, k, h, even, lower_closer;
  if (be != 0) {
    c = f | (UINT64_C(1) << SIGNIFICAND_BITS);
    q = be - EXPONENT_BIAS;
    /* An integer below 2^53 is its own shortest form. */
    if (q <= 0 && q > -53 && (c & ((UINT64_C(1) << -q) - 1)) == 0) {
      r.digits = c >> -q;
      r.exp10 = 0;
      return r;
    }
  } else {
    c = f;
    q = 1 - EXPONENT_BIAS;
  }
  even = (c & 1) == 0;
  /* At a power of two the next double down is half as far as the next up. */
  lower_closer = f == 0 && be > 1;
  cb = 4 * c;
  cbl = cb - 2 + (uint64_t)lower_closer;
  cbr = cb + 2;
  k = floor_log10_pow2(q, lower_closer);
  h = q + floor_log2_pow10(-k) + 1; /* 1..4: cb << h stays below 2^60 */
  {
    json_u128 g = pow10_up(-k);
    vbl = round_to_odd(g, cbl << h);
    vb = round_to_odd(g, cb << h);
    vbr = round_to_odd(g, cbr << h);
  }
  /* 4 * the value, and 4 * the ends of its rounding interval, times 10^-k;
   * the ends belong to the interval when the significand is even. */
  lower = vbl + !even;
  upper = vbr - !even;
  s = vb >> 2;
  if (s >= 10) {
    /* The one multiple of ten (times 10^k) that may lie in the interval. */
    uint64_t sp = s / 10;
    int up_in = lower <= 40 * sp, wp_in = 40 * sp + 40 <= upper;
    if (up_in != wp_in) {
      r.digits = sp + (uint64_t)wp_in;
      r.exp10 = k + 1;
      return r;
    }
  }
  {
    int u_in = lower <= 4 * s, w_in = 4 * s + 4 <= upper;
    if (u_in != w_in) {
      r.digits = s + (uint64_t)w_in;
    } else {
      /* Both neighbours read back: take the nearer, ties to even. */
      uint64_t mid = 4 * s + 2;
      r.digits = s + (uint64_t)(vb > mid || (vb == mid && (s & 1)));
    }
    r.exp10 = k;
  }
  return r;
}

static decimal trim_zeros(decimal d) {
  if (d.digits == 0) return d;
  while (d.digits % 100 == 0) {
    d.digits /= 100;
    d.exp10 += 2;
  }
  if (d.digits % 10 == 0) {
    d.digits /= 10;
    d.exp10++;
  }
  return d;
}

/* ---- layout ------------------------------------------------------------- */

static const char DIGITS2[] =
  "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
  "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
  "8081828384858687888990919293949596979899";

static const uint64_t POW10[18] = {
  UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000), UINT64_C(100000),
  UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000), UINT64_C(1000000000),
  UINT64_C(10000000000), UINT64_C(100000000000), UINT64_C(1000000000000),
  UINT64_C(10000000000000), UINT64_C(100000000000000), UINT64_C(1000000000000000),
  UINT64_C(10000000000000000), UINT64_C(100000000000000000),
};

/* Decimal digits of v (1 <= v < 10^17): log10 from the bit length, then one
 * comparison to correct it. */
static inline int digit_count(uint64_t v) {
  int t = ((64 - json_clz64(v)) * 1233) >> 12;
  return t + (v >= POW10[t]);
}

/* The eight digits of v < 10^8 at out. */
static inline void put8(char *out, uint32_t v) {
  uint32_t hi = v / 10000, lo = v % 10000;
  memcpy(out, DIGITS2 + 2 * (hi / 100), 2);
  memcpy(out + 2, DIGITS2 + 2 * (hi % 100), 2);
  memcpy(out + 4, DIGITS2 + 2 * (lo / 100), 2);
  memcpy(out + 6, DIGITS2 + 2 * (lo % 100), 2);
}

/* The digits of v (n of them) right-aligned to end at buf + 24; returns
 * where they start. Eight at a time, so that a 17-digit significand costs
 * three steps instead of seventeen. */
static inline const char *put_digits(char *buf, uint64_t v, int n) {
  put8(buf + 16, (uint32_t)(v % 100000000));
  if (n > 8) {
    uint64_t rest = v / 100000000;
    put8(buf + 8, (uint32_t)(rest % 100000000));
    if (n > 16) buf[7] = (char)('0' + rest / 100000000);
  }
  return buf + 24 - n;
}

/* The copies below move fixed sizes (inlined moves, no library calls) and
 * may write past the text's end, into the room the caller provides. */

/* d.ddde+XX, as %g writes it: a sign and at least two exponent digits. */
static size_t put_scientific(char *out, const char *dig, int n, int x) {
  size_t o;
  unsigned ax = (unsigned)(x < 0 ? -x : x);
  out[0] = dig[0];
  out[1] = '.';
  memcpy(out + 2, dig + 1, 16);
  o = n > 1 ? (size_t)n + 1 : 1;
  out[o++] = 'e';
  out[o++] = x < 0 ? '-' : '+';
  if (ax >= 100) {
    out[o++] = (char)('0' + ax / 100);
    ax %= 100;
  }
  memcpy(out + o, DIGITS2 + 2 * ax, 2);
  return o + 2;
}

/* The digits with the point placed for the exponent x of the first digit
 * (-5 < x < 17), and ".0" when no digit falls after the point. */
static size_t put_fixed(char *out, const char *dig, int n, int x) {
  if (x < 0) {
    memcpy(out, "0.0000", 6);
    memcpy(out + 1 - x, dig, 17);
    return (size_t)(1 - x + n);
  }
  memcpy(out, dig, 17);
  if (n <= x + 1) {
    memset(out + n, '0', 17);
    out[x + 1] = '.';
    out[x + 2] = '0';
    return (size_t)x + 3;
  }
  memcpy(out + x + 2, dig + x + 1, 16);
  out[x + 1] = '.';
  return (size_t)n + 1;
}

size_t dwell_json_fmt_double(double v, char *out) {
  uint64_t bits = json_double_bits(v);
  uint64_t f = bits & ((UINT64_C(1) << SIGNIFICAND_BITS) - 1);
  int be = (int)((bits >> SIGNIFICAND_BITS) & 0x7FF);
  size_t o = 0;
  char buf[48]; /* digits end at buf + 24; copies read up to 17 past the first */
  const char *dig;
  decimal d;
  int n, x;
  if (bits >> 63) out[o++] = '-';
  if (be == 0 && f == 0) {
    memcpy(out + o, "0.0", 3);
    return o + 3;
  }
  d = trim_zeros(shortest(f, be));
  n = digit_count(d.digits);
  dig = put_digits(buf, d.digits, n);
  x = d.exp10 + n - 1;
  if (x < -4 || x >= (n > 15 ? n : 15)) return o + put_scientific(out + o, dig, n, x);
  return o + put_fixed(out + o, dig, n, x);
}
