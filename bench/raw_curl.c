/* The floor for bench/http.lua: N keep-alive GETs on one libcurl easy handle,
 * body appended to a reused buffer, printing the client's CPU seconds
 * (user + sys from getrusage) spent in the loop. It puts the same request on
 * the wire as dwell.core.http (User-Agent, Accept-Encoding, timeouts), so the
 * ratio measures the binding, not a different request. Extra arguments are
 * request headers ("name: value"), so the floor of a signed vendor call can
 * send the same header block as dwell does.
 *   raw_curl URL N USER_AGENT [HEADER ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>

typedef struct {
  char *p;
  size_t len, cap;
} buf_t;

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  buf_t *b = ud;
  size_t len = size * n;
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 16384;
    while (cap < b->len + len) cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) return 0;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, len);
  b->len += len;
  return len;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  buf_t b = {NULL, 0, 0};
  struct curl_slist *hdrs = NULL;
  CURL *e;
  int a;
  long i, n, status = 0;
  double t0;
  if (argc < 4) {
    fprintf(stderr, "usage: raw_curl URL N USER_AGENT [HEADER ...]\n");
    return 2;
  }
  n = atol(argv[2]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, argv[1]);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_USERAGENT, argv[3]);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)64 * 1024 * 1024);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
  for (a = 4; a < argc; a++) hdrs = curl_slist_append(hdrs, argv[a]);
  if (hdrs) curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
  /* one warm-up request opens the connection, as for the Lua runs */
  curl_easy_perform(e);
  t0 = cpu_seconds();
  for (i = 0; i < n; i++) {
    b.len = 0;
    if (curl_easy_perform(e) != CURLE_OK) {
      fprintf(stderr, "raw_curl: request %ld failed\n", i);
      return 1;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return 1;
  }
  printf("%.6f\n", cpu_seconds() - t0);
  curl_easy_cleanup(e);
  curl_slist_free_all(hdrs);
  curl_global_cleanup();
  free(b.p);
  return 0;
}
