/* The slow path of decimal-to-double (json_strtod.c): exact arithmetic on
 * the literal's decimal digits, for the rare literals whose nearest double
 * the fast method cannot tell (a few in a billion random ones, and inputs
 * made to sit on a halfway point).
 *
 * The method is the "simple decimal conversion" of Nigel Tao's notes (also
 * Go's strconv): the digits are kept as a decimal fraction 0.d1d2... * 10^dp,
 * multiplied and divided by powers of two, exactly, until the value lies in
 * [1/2, 1) with a known binary exponent; then it is scaled by 2^53 and
 * rounded to an integer. 800 digits hold every digit that can decide the
 * rounding of a double (a halfway point has at most 767 significant digits);
 * past them, only whether any dropped digit is non-zero matters, and that is
 * kept as `cut`. Slow, but it runs in time linear in the digits kept. */
#include "json_num.h"

#define MAX_DIGITS 800
#define MAX_SHIFT 60 /* keeps digit * 2^shift + carry below 2^64 */

typedef struct {
  int nd;  /* digits in d */
  int dp;  /* the value is 0.d[0]d[1]...d[nd-1] * 10^dp */
  int cut; /* non-zero digits were dropped past d[MAX_DIGITS - 1] */
  unsigned char d[MAX_DIGITS];
} bigdec;

static void trim(bigdec *a) {
  while (a->nd > 0 && a->d[a->nd - 1] == 0) a->nd--;
  if (a->nd == 0) a->dp = 0;
}

/* Reads a validated JSON number literal (its sign is the caller's). */
static void parse(bigdec *a, const char *s, size_t n) {
  const char *p = s, *end = s + n;
  long dp = 0, ex = 0;
  int seen_point = 0, eneg = 0;
  a->nd = 0;
  a->cut = 0;
  if (p < end && *p == '-') p++;
  for (; p < end; p++) {
    char c = *p;
    if (c == '.') {
      seen_point = 1;
    } else if (c >= '0' && c <= '9') {
      if (c == '0' && a->nd == 0) {
        if (seen_point) dp--; /* a leading zero of the fraction */
        continue;
      }
      if (!seen_point) dp++;
      if (a->nd < MAX_DIGITS) a->d[a->nd++] = (unsigned char)(c - '0');
      else if (c != '0') a->cut = 1;
    } else {
      break; /* 'e' or 'E' */
    }
  }
  if (p < end) {
    p++;
    if (*p == '+' || *p == '-') eneg = *p++ == '-';
    for (; p < end; p++)
      if (ex < 100000) ex = ex * 10 + (*p - '0');
  }
  dp += eneg ? -ex : ex;
  /* Far outside the doubles either way; the callers test these bounds. */
  a->dp = dp > 100000 ? 100000 : dp < -100000 ? -100000 : (int)dp;
  trim(a);
}

/* a *= 2^k, 0 < k <= MAX_SHIFT. The product is written from the right end
 * of a buffer with room for the digits it gains, then moved into place. */
static void shift_left(bigdec *a, int k) {
  unsigned char out[MAX_DIGITS + 20];
  int r = a->nd, w = (int)sizeof out, len, keep, i;
  uint64_t carry = 0;
  while (r > 0) {
    uint64_t v = ((uint64_t)a->d[--r] << k) + carry;
    out[--w] = (unsigned char)(v % 10);
    carry = v / 10;
  }
  while (carry > 0) {
    out[--w] = (unsigned char)(carry % 10);
    carry /= 10;
  }
  len = (int)sizeof out - w;
  a->dp += len - a->nd;
  keep = len < MAX_DIGITS ? len : MAX_DIGITS;
  for (i = keep; i < len; i++)
    if (out[w + i]) a->cut = 1;
  memcpy(a->d, out + w, (size_t)keep);
  a->nd = keep;
  trim(a);
}

/* a /= 2^k, 0 < k <= MAX_SHIFT, long division from the first digit; the
 * quotient's digits never overtake the dividend's. */
static void shift_right(bigdec *a, int k) {
  uint64_t acc = 0, mask = (UINT64_C(1) << k) - 1;
  int r = 0, w = 0;
  /* Take in digits until the accumulator reaches 2^k. */
  while ((acc >> k) == 0) {
    if (r < a->nd) {
      acc = acc * 10 + a->d[r];
    } else {
      if (acc == 0) { /* the value was 0 */
        a->nd = 0;
        a->dp = 0;
        return;
      }
      acc *= 10;
    }
    r++;
  }
  a->dp -= r - 1;
  for (; r < a->nd; r++) {
    unsigned char next = a->d[r];
    a->d[w++] = (unsigned char)(acc >> k);
    acc = (acc & mask) * 10 + next;
  }
  while (acc > 0) {
    unsigned char dig = (unsigned char)(acc >> k);
    if (w < MAX_DIGITS) a->d[w++] = dig;
    else if (dig) a->cut = 1;
    acc = (acc & mask) * 10;
  }
  a->nd = w;
  trim(a);
}

static void shift(bigdec *a, int k) {
  for (; k > MAX_SHIFT; k -= MAX_SHIFT) shift_left(a, MAX_SHIFT);
  for (; k < -MAX_SHIFT; k += MAX_SHIFT) shift_right(a, MAX_SHIFT);
  if (k > 0) shift_left(a, k);
  else if (k < 0) shift_right(a, -k);
}

/* The integer part of a (at most 2^54 here), rounded to nearest, ties even. */
static uint64_t rounded_integer(const bigdec *a) {
  uint64_t v = 0;
  int i, up = 0;
  for (i = 0; i < a->dp; i++) v = v * 10 + (i < a->nd ? a->d[i] : 0);
  if (a->dp >= 0 && a->dp < a->nd) {
    int first = a->d[a->dp];
    if (first > 5 || (first == 5 && (a->dp + 1 < a->nd || a->cut))) up = 1;
    else if (first == 5) up = (int)(v & 1); /* exactly halfway */
  }
  return v + (uint64_t)up;
}

/* How far to shift to move dp towards 0 without overshooting: about
 * log2(10^|dp|), capped. */
static int step(int dp) {
  static const int LOG2_POW10[] = {0, 3, 6, 9, 13, 16, 19, 23, 26, 29, 33, 36, 39, 43, 46, 49, 53, 56, 59};
  int m = dp < 0 ? -dp : dp;
  return m < (int)(sizeof LOG2_POW10 / sizeof *LOG2_POW10) ? (LOG2_POW10[m] ? LOG2_POW10[m] : 1) : MAX_SHIFT;
}

double dwell_json_bigdec_to_double(const char *s, size_t n) {
  bigdec a;
  uint64_t mant, bits;
  int e2 = 0; /* the value is a * 2^e2 */
  int neg = n > 0 && s[0] == '-';
  parse(&a, s, n);
  if (a.nd == 0 || a.dp < -330) {
    bits = 0;
  } else if (a.dp > 310) {
    bits = UINT64_C(0x7FF0000000000000);
  } else {
    /* Into [1/2, 1): divide while >= 1, multiply while < 1/2. */
    while (a.dp > 0) {
      int k = step(a.dp);
      shift(&a, -k);
      e2 += k;
    }
    while (a.dp < 0 || (a.dp == 0 && a.d[0] < 5)) {
      int k = step(a.dp);
      shift(&a, k);
      e2 -= k;
    }
    /* Now a in [1/2, 1) and the value is a * 2^e2 = (2a) * 2^(e2 - 1). The
     * smallest normal exponent is -1022; below it the significand is
     * shifted down instead (a subnormal). */
    e2--;
    if (e2 < -1022) {
      shift(&a, e2 + 1022);
      e2 = -1022;
    }
    if (e2 > 1023) {
      bits = UINT64_C(0x7FF0000000000000);
    } else {
      shift(&a, 53);
      mant = rounded_integer(&a);
      if (mant == UINT64_C(1) << 53) { /* rounding carried out */
        mant >>= 1;
        e2++;
      }
      if (e2 > 1023) {
        bits = UINT64_C(0x7FF0000000000000);
      } else if (!(mant >> 52)) {
        bits = mant; /* subnormal */
      } else {
        bits = ((uint64_t)(e2 + 1023) << 52) | (mant & ((UINT64_C(1) << 52) - 1));
      }
    }
  }
  return json_bits_double(bits | ((uint64_t)neg << 63));
}
