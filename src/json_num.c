/* Locale-independent number conversion for dwell.core.json.
 *
 * strtod and snprintf follow LC_NUMERIC, so a host application running under
 * a comma locale would otherwise read "0.5" as 0 and write "0,5". Both are
 * wrapped here: the literal is copied with '.' replaced by the locale's
 * decimal point before strtod, and the locale's decimal point is replaced by
 * '.' after snprintf. glibc's strtod and printf are correctly rounded, so the
 * results are exact; the decoder only comes here when its exact fast path
 * (json_decode.c) cannot be used. */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "json.h"

size_t dwell_json_strtod_scratch(size_t n) {
  return n + 8 + strlen(localeconv()->decimal_point);
}

double dwell_json_strtod(const char *s, size_t n, char *scratch) {
  const char *dp = localeconv()->decimal_point;
  size_t dpl = strlen(dp), i, j = 0;
  for (i = 0; i < n; i++) {
    if (s[i] == '.') {
      memcpy(scratch + j, dp, dpl);
      j += dpl;
    } else {
      scratch[j++] = s[i];
    }
  }
  scratch[j] = '\0';
  return strtod(scratch, NULL);
}

/* snprintf with "%.*g", rewritten to use '.' whatever the locale. */
static size_t fmt_g(double d, int prec, char *out) {
  char tmp[48];
  const char *dp = localeconv()->decimal_point;
  size_t dpl = strlen(dp), i = 0, j = 0;
  int n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
  if (n < 0 || (size_t)n >= sizeof tmp) n = 0;
  while (i < (size_t)n) {
    if (dpl > 0 && strncmp(tmp + i, dp, dpl) == 0) {
      out[j++] = '.';
      i += dpl;
    } else {
      out[j++] = tmp[i++];
    }
  }
  out[j] = '\0';
  return j;
}

/* Any double is identified by 17 significant digits, and any decimal with at
 * most 15 survives the trip through a normal double (DBL_DIG), so the first
 * of %.15g, %.16g, %.17g that reads back exactly is a shortest
 * representation. Subnormals carry fewer digits, so for them every
 * precision is tried from 1 up. */
size_t dwell_json_fmt_double(double d, char *out) {
  char scratch[64];
  size_t n = 0;
  int prec = fabs(d) < DBL_MIN ? 1 : 15;
  for (; prec <= 17; prec++) {
    n = fmt_g(d, prec, out);
    if (prec == 17 || dwell_json_strtod(out, n, scratch) == d) break;
  }
  if (!strpbrk(out, ".en")) { /* "3" would decode as the integer 3 */
    out[n++] = '.';
    out[n++] = '0';
    out[n] = '\0';
  }
  return n;
}
