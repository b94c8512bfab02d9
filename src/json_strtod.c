/* Exact decimal-to-double for dwell.core.json.decode: which method decides.
 *
 * The decoder hands over the first 19 significant digits w of a literal and
 * its decimal exponent q (value w * 10^q, or more when digits were cut off).
 * The Eisel-Lemire method (json_eisel_lemire in json_num.h) rounds w * 10^q
 * when the error of its 128-bit powers of ten cannot change the result;
 * with digits cut off it must also round w + 1 the same way, since the value
 * lies between the two. Otherwise the literal is converted by exact decimal
 * arithmetic (json_bigdec.c). Both are independent of the locale. */
#include "json.h"
#include "json_num.h"

double dwell_json_decimal_to_double(const char *s, size_t n, uint64_t w, long q, int cut, int neg) {
  uint64_t bits, bits_up;
  if (w == 0) {
    bits = 0;
  } else {
    int qi = q < -100000 ? -100000 : q > 100000 ? 100000 : (int)q;
    /* With digits cut off the value lies between w and w + 1 (times 10^q):
     * when both round to one double, so does the value. */
    if (!json_eisel_lemire(w, qi, &bits) || (cut && (!json_eisel_lemire(w + 1, qi, &bits_up) || bits_up != bits)))
      return dwell_json_bigdec_to_double(s, n);
  }
  return json_bits_double(bits | ((uint64_t)(neg != 0) << 63));
}
