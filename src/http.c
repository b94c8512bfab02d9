/* dwell.core.http: HTTP over libcurl for dwell's Lua layers.
 *
 * A session owns a share handle (DNS cache, TLS sessions, connection cache),
 * a multi handle and a pool of reusable easy handles, so connections stay
 * alive across calls and across concurrent requests. `session:request` runs
 * one transfer on an easy handle; `session:submit` + `session:poll` run many
 * at once on curl multi.
 *
 * No Lua code runs inside libcurl callbacks: the callbacks only append bytes
 * to C buffers, and the response table is built once the transfer is over.
 * An easy handle ("xfer") is always owned by exactly one of the session's two
 * lists (free or active), including while a Lua table is being built from it,
 * so a Lua error at any point (even out of memory) leaks nothing: __gc frees
 * both lists. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "clock.h"
#include "dwell.h"
#include "http_session.h"

#define SESSION_MT "dwell.http.session"
#define RESPONSE_MT "dwell.http.response"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_MAX_RESPONSE ((lua_Integer)64 * 1024 * 1024)
#define MAX_HEADER_BYTES (256 * 1024)
/* Buffers above this are freed after use instead of kept for the next call. */
#define KEEP_BUFFER_BYTES (1024 * 1024)
/* Idle connections a session keeps at least. libcurl's default ties this to
 * the number of transfers running (or 5 for an easy handle) and closes
 * connections after a burst of parallel requests that the next burst could
 * have reused. session:limit_connections raises it for wider runs. */
#define MAX_CONNECTS 64L

/* ---- one-time initialisation ------------------------------------------ */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_result = CURLE_FAILED_INIT;
static char user_agent[160];

static void global_init(void) {
  const curl_version_info_data *v;
  init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
  v = curl_version_info(CURLVERSION_NOW);
  snprintf(user_agent, sizeof user_agent, "dwell/%s libcurl/%s Lua 5.4", DWELL_VERSION,
           v && v->version ? v->version : "unknown");
}

/* ---- growable byte buffer --------------------------------------------- */

typedef struct {
  char *p;
  size_t len, cap;
} buf_t;

static int buf_add(buf_t *b, const char *s, size_t n) {
  if (n > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 16384;
    char *p;
    while (cap - b->len < n) {
      if (cap > SIZE_MAX / 2) return -1;
      cap *= 2;
    }
    p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  return 0;
}

static void buf_trim(buf_t *b) {
  b->len = 0;
  if (b->cap > KEEP_BUFFER_BYTES) {
    free(b->p);
    b->p = NULL;
    b->cap = 0;
  }
}

/* ---- transfers and sessions ------------------------------------------- */

typedef struct dwell_xfer {
  CURL *easy;
  struct curl_slist *hdrs;
  buf_t body, head;
  curl_off_t max;
  int too_large, oom;
  int configured, dirty; /* see prepare() */
  int caller_expect;
  int caller_type; /* the caller set Content-Type */
  /* per-request options as last set, to skip setopts that change nothing */
  char *url;
  size_t url_len;
  lua_Integer timeout, ctimeout, max_set;
  lua_Integer id;
  struct dwell_xfer *prev, *next;
  char errbuf[CURL_ERROR_SIZE];
} xfer_t;

typedef dwell_session session_t;

/* A plain session (new_session) drives its multi handle through the
 * multi-socket interface with its own poll(): curl_multi_perform visits every
 * transfer and polls each one's socket on every call, which at a few hundred
 * transfers costs more than the transfers; socket_action only runs the ones
 * whose socket is ready or whose timer is due. The callbacks only update the
 * poll set and the timer below. */
typedef struct {
  session_t s; /* first: the transfers, as in any session */
  struct pollfd *fds; /* the sockets curl wants watched */
  size_t nfds, cap;
  struct pollfd *ready; /* poll()'s ready ones, copied out before curl runs */
  size_t ready_cap;
  double timer_at; /* monotonic ms when curl's timer is due; < 0: none */
  int failed;      /* the poll set could not grow */
} poll_session;

static void xfer_destroy(xfer_t *x) {
  if (x->easy) curl_easy_cleanup(x->easy);
  free(x->url);
  curl_slist_free_all(x->hdrs);
  free(x->body.p);
  free(x->head.p);
  free(x);
}

static void active_unlink(session_t *s, xfer_t *x) {
  if (x->prev) x->prev->next = x->next;
  else s->active = x->next;
  if (x->next) x->next->prev = x->prev;
  x->prev = x->next = NULL;
  s->nactive--;
}

static void free_push(session_t *s, xfer_t *x) {
  x->prev = NULL;
  x->next = s->free_list;
  s->free_list = x;
}

void dwell_session_release(session_t *s) {
  xfer_t *x, *next;
  for (x = s->active; x; x = next) {
    next = x->next;
    if (s->multi) curl_multi_remove_handle(s->multi, x->easy);
    xfer_destroy(x);
  }
  s->active = NULL;
  s->nactive = 0;
  for (x = s->free_list; x; x = next) {
    next = x->next;
    xfer_destroy(x);
  }
  s->free_list = NULL;
  /* Easy handles are gone, so the share is no longer in use. */
  if (s->multi) curl_multi_cleanup(s->multi);
  if (s->share) curl_share_cleanup(s->share);
  s->multi = NULL;
  s->share = NULL;
  s->closed = 1;
}

static int session_gc(lua_State *L) {
  poll_session *ps = luaL_checkudata(L, 1, SESSION_MT);
  /* libcurl may still call on_socket while the handles go: the set is freed after */
  if (!ps->s.closed) dwell_session_release(&ps->s);
  free(ps->fds);
  free(ps->ready);
  ps->fds = ps->ready = NULL;
  ps->nfds = ps->cap = ps->ready_cap = 0;
  return 0;
}

static session_t *check_session(lua_State *L) {
  session_t *s = luaL_checkudata(L, 1, SESSION_MT);
  if (s->closed) luaL_argerror(L, 1, "session is closed");
  return s;
}

/* ---- libcurl callbacks: bytes into buffers, nothing else -------------- */

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  xfer_t *x = ud;
  size_t len = size * n;
  /* A new status line starts a new response (after 1xx or a proxy CONNECT). */
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) x->head.len = 0;
  if (x->head.len + len > MAX_HEADER_BYTES) {
    x->too_large = 1;
    return 0;
  }
  if (buf_add(&x->head, p, len)) {
    x->oom = 1;
    return 0;
  }
  return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  xfer_t *x = ud;
  size_t len = size * n;
  if ((curl_off_t)(x->body.len + len) > x->max) {
    x->too_large = 1;
    return 0;
  }
  if (buf_add(&x->body, p, len)) {
    x->oom = 1;
    return 0;
  }
  return len;
}

/* ---- request validation and preparation ------------------------------- */

static int is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_token(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++)
    if (!is_tchar((unsigned char)s[i])) return 0;
  return 1;
}

static int has_ctl(const char *s, size_t n) {
  return memchr(s, '\r', n) || memchr(s, '\n', n) || memchr(s, '\0', n);
}

static int name_is(const char *a, size_t n, const char *b) {
  size_t i;
  if (strlen(b) != n) return 0;
  for (i = 0; i < n; i++) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != b[i]) return 0;
  }
  return 1;
}

/* Appends one line to the transfer's header list (libcurl copies it). */
/* Appends a header line; 0 when out of memory (the list is then unchanged). */
static int hdrs_try_append(xfer_t *x, const char *line) {
  struct curl_slist *l = curl_slist_append(x->hdrs, line);
  if (!l) return 0;
  x->hdrs = l;
  return 1;
}

static void hdrs_append(lua_State *L, xfer_t *x, const char *line) {
  if (!hdrs_try_append(x, line)) luaL_error(L, "dwell.core.http: out of memory");
}

/* Appends "name: value" (or "name;" for an empty value, libcurl's way of
 * sending an empty header) to the transfer's header list. */
static void add_header(lua_State *L, int arg, xfer_t *x, int name_idx, int value_idx) {
  size_t nn, vn;
  const char *name, *value;
  char small[512], *line;
  int ok;
  if (lua_type(L, name_idx) != LUA_TSTRING) luaL_argerror(L, arg, "header names must be strings");
  name = lua_tolstring(L, name_idx, &nn);
  if (!is_token(name, nn))
    luaL_argerror(L, arg, "header name contains characters outside the token set");
  if (lua_type(L, value_idx) != LUA_TSTRING && lua_type(L, value_idx) != LUA_TNUMBER)
    luaL_argerror(L, arg, lua_pushfstring(L, "value of header '%s' must be a string", name));
  value = lua_tolstring(L, value_idx, &vn);
  if (has_ctl(value, vn))
    luaL_argerror(L, arg, lua_pushfstring(L, "value of header '%s' contains CR, LF or NUL", name));
  if (name_is(name, nn, "expect")) x->caller_expect = 1;
  if (name_is(name, nn, "content-type")) x->caller_type = 1;
  line = nn + vn + 3 <= sizeof small ? small : malloc(nn + vn + 3);
  if (!line) luaL_error(L, "dwell.core.http: out of memory");
  memcpy(line, name, nn);
  if (vn == 0) {
    line[nn] = ';';
    line[nn + 1] = '\0';
  } else {
    line[nn] = ':';
    line[nn + 1] = ' ';
    memcpy(line + nn + 2, value, vn);
    line[nn + 2 + vn] = '\0';
  }
  ok = hdrs_try_append(x, line);
  if (line != small) free(line); /* freed before a raise could skip it */
  if (!ok) luaL_error(L, "dwell.core.http: out of memory");
}

static void read_headers(lua_State *L, int arg, int t, xfer_t *x) {
  int type = lua_getfield(L, t, "headers");
  if (type == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (type != LUA_TTABLE) luaL_argerror(L, arg, "'headers' must be a table");
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_type(L, -2) == LUA_TNUMBER && lua_type(L, -1) == LUA_TTABLE) {
      /* list form: { {name, value}, ... } */
      lua_rawgeti(L, -1, 1);
      lua_rawgeti(L, -2, 2);
      add_header(L, arg, x, lua_absindex(L, -2), lua_absindex(L, -1));
      lua_pop(L, 2);
    } else {
      add_header(L, arg, x, lua_absindex(L, -2), lua_absindex(L, -1));
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

static lua_Integer opt_int(lua_State *L, int arg, int t, const char *k, lua_Integer def) {
  lua_Integer v;
  int isnum;
  if (lua_getfield(L, t, k) == LUA_TNIL) {
    lua_pop(L, 1);
    return def;
  }
  v = lua_tointegerx(L, -1, &isnum);
  if (!isnum || v < 0) luaL_argerror(L, arg, lua_pushfstring(L, "'%s' must be a non-negative integer", k));
  lua_pop(L, 1);
  return v;
}

static int opt_bool(lua_State *L, int arg, int t, const char *k) {
  int v = 0, type = lua_getfield(L, t, k);
  if (type != LUA_TNIL) {
    if (type != LUA_TBOOLEAN) luaL_argerror(L, arg, lua_pushfstring(L, "'%s' must be a boolean", k));
    v = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* Sets a string option if the field is present; libcurl copies the string.
 * An empty string is set as is: for proxy it means "no proxy, whatever the
 * environment says", for noproxy "bypass the proxy for no host". */
static void opt_str(lua_State *L, int arg, int t, const char *k, CURL *e, CURLoption o) {
  size_t n;
  const char *v;
  int type = lua_getfield(L, t, k);
  if (type != LUA_TNIL) {
    if (type != LUA_TSTRING) luaL_argerror(L, arg, lua_pushfstring(L, "'%s' must be a string", k));
    v = lua_tolstring(L, -1, &n);
    if (has_ctl(v, n)) luaL_argerror(L, arg, lua_pushfstring(L, "'%s' contains CR, LF or NUL", k));
    if (curl_easy_setopt(e, o, v) != CURLE_OK)
      luaL_argerror(L, arg, lua_pushfstring(L, "'%s' is not supported by this libcurl", k));
  }
  lua_pop(L, 1);
}

static long http_version_opt(lua_State *L, int arg, int t) {
  const char *v;
  long r = CURL_HTTP_VERSION_NONE;
  if (lua_getfield(L, t, "http_version") != LUA_TNIL) {
    v = lua_tostring(L, -1);
    if (!v) luaL_argerror(L, arg, "'http_version' must be a string");
    if (strcmp(v, "1.0") == 0) r = CURL_HTTP_VERSION_1_0;
    else if (strcmp(v, "1.1") == 0) r = CURL_HTTP_VERSION_1_1;
    else if (strcmp(v, "2") == 0) r = CURL_HTTP_VERSION_2_0;
    else if (strcmp(v, "2tls") == 0) r = CURL_HTTP_VERSION_2TLS;
    else if (strcmp(v, "2-prior-knowledge") == 0) r = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
    else if (strcmp(v, "3") == 0) r = CURL_HTTP_VERSION_3;
    else luaL_argerror(L, arg, "'http_version' must be \"1.0\", \"1.1\", \"2\", \"2tls\", \"2-prior-knowledge\" or \"3\"");
  }
  lua_pop(L, 1);
  return r;
}

/* Request fields, as a bit set of those present in the table. One pass with
 * lua_next over a typical 1-4 field request is cheaper than a dozen lookups. */
enum {
  F_URL = 1 << 0, F_METHOD = 1 << 1, F_BODY = 1 << 2, F_HEADERS = 1 << 3,
  F_TIMEOUT = 1 << 4, F_CTIMEOUT = 1 << 5, F_MAX = 1 << 6, F_VERSION = 1 << 7,
  F_CAFILE = 1 << 8, F_CAPATH = 1 << 9, F_PROXY = 1 << 10, F_INSECURE = 1 << 11,
  F_NOPROXY = 1 << 12, F_FRESH = 1 << 13
};

static const struct {
  const char *name;
  unsigned bit;
} FIELDS[] = {
  {"url", F_URL}, {"method", F_METHOD}, {"body", F_BODY}, {"headers", F_HEADERS},
  {"timeout_ms", F_TIMEOUT}, {"connect_timeout_ms", F_CTIMEOUT}, {"max_response_bytes", F_MAX},
  {"http_version", F_VERSION}, {"ca_file", F_CAFILE}, {"ca_path", F_CAPATH}, {"proxy", F_PROXY},
  {"insecure", F_INSECURE}, {"noproxy", F_NOPROXY}, {"fresh_connect", F_FRESH}};

static unsigned scan_fields(lua_State *L, int t) {
  unsigned m = 0;
  size_t i;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -2);
      for (i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++) {
        if (strcmp(k, FIELDS[i].name) == 0) {
          m |= FIELDS[i].bit;
          break;
        }
      }
    }
    lua_pop(L, 1);
  }
  return m;
}

/* Options that every request uses the same way; set once per reset. */
static void set_constant_options(xfer_t *x) {
  CURL *e = x->easy;
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_MAXCONNECTS, MAX_CONNECTS);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  /* A User-Agent given in the request's headers replaces this one. */
  curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_PRIVATE, x);
}

/* Configures x for the request table at index t. Raises on misuse; x stays
 * owned by the session whatever happens. With copy_body the body is copied
 * into libcurl (multi: the Lua string may be collected before the transfer
 * ends); otherwise libcurl reads the Lua string in place, which request() keeps
 * alive on its stack.
 *
 * curl_easy_reset plus a dozen setopts costs about as much as the rest of a
 * keep-alive GET, so a handle is only reset when its previous request set
 * something beyond the per-request options below (a method, a body, TLS or
 * proxy settings, fresh_connect); a run of plain GETs reuses the configuration. */
static void prepare(lua_State *L, int arg, int t, xfer_t *x, int copy_body) {
  CURL *e = x->easy;
  size_t n, bn = 0;
  const char *url, *method = "GET", *body = NULL;
  lua_Integer timeout, ctimeout, max;
  long version;
  int type, plain, fresh;
  unsigned m;

  luaL_checktype(L, t, LUA_TTABLE);
  m = scan_fields(L, t);
  curl_slist_free_all(x->hdrs);
  x->hdrs = NULL;
  buf_trim(&x->body);
  buf_trim(&x->head);
  x->too_large = x->oom = x->caller_expect = x->caller_type = 0;
  x->errbuf[0] = '\0';

  type = (m & F_METHOD) ? lua_getfield(L, t, "method") : (lua_pushnil(L), LUA_TNIL);
  if (type != LUA_TNIL) {
    if (type != LUA_TSTRING) luaL_argerror(L, arg, "'method' must be a string");
    method = lua_tolstring(L, -1, &n);
    if (!is_token(method, n)) luaL_argerror(L, arg, "'method' must be an HTTP token");
  }
  lua_pop(L, 1); /* the request table keeps the string alive */
  type = (m & F_BODY) ? lua_getfield(L, t, "body") : (lua_pushnil(L), LUA_TNIL);
  if (type != LUA_TNIL) {
    if (type != LUA_TSTRING) luaL_argerror(L, arg, "'body' must be a string");
    body = lua_tolstring(L, -1, &bn);
  }
  lua_pop(L, 1);
  timeout = (m & F_TIMEOUT) ? opt_int(L, arg, t, "timeout_ms", DEFAULT_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS;
  ctimeout = (m & F_CTIMEOUT) ? opt_int(L, arg, t, "connect_timeout_ms", DEFAULT_CONNECT_TIMEOUT_MS)
                              : DEFAULT_CONNECT_TIMEOUT_MS;
  max = (m & F_MAX) ? opt_int(L, arg, t, "max_response_bytes", DEFAULT_MAX_RESPONSE) : DEFAULT_MAX_RESPONSE;
  version = (m & F_VERSION) ? http_version_opt(L, arg, t) : CURL_HTTP_VERSION_NONE;
  fresh = (m & F_FRESH) ? opt_bool(L, arg, t, "fresh_connect") : 0;
  plain = !body && !fresh && strcmp(method, "GET") == 0 && version == CURL_HTTP_VERSION_NONE &&
          !(m & (F_CAFILE | F_CAPATH | F_PROXY | F_NOPROXY | F_INSECURE));

  if (x->dirty || !x->configured) {
    curl_easy_reset(e);
    set_constant_options(x);
    x->configured = 1;
    free(x->url);
    x->url = NULL;
    x->url_len = 0;
    x->timeout = x->ctimeout = x->max_set = -1;
  }
  /* Marked before anything can raise, so a half-configured handle is reset. */
  x->dirty = !plain;

  if (lua_getfield(L, t, "url") != LUA_TSTRING) luaL_argerror(L, arg, "'url' must be a string");
  url = lua_tolstring(L, -1, &n);
  if (has_ctl(url, n)) luaL_argerror(L, arg, "'url' contains CR, LF or NUL");
  if (!x->url || x->url_len != n || memcmp(x->url, url, n) != 0) {
    char *copy = malloc(n + 1);
    free(x->url);
    x->url = copy;
    x->url_len = copy ? n : 0;
    if (copy) memcpy(copy, url, n + 1);
    curl_easy_setopt(e, CURLOPT_URL, url);
  }
  lua_pop(L, 1);

  if (m & F_HEADERS) read_headers(L, arg, t, x);
  if (strcmp(method, "HEAD") == 0 && !body) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (strcmp(method, "GET") != 0 || body) {
    if (strcmp(method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    /* POST, PUT and PATCH always carry a body (possibly empty) so that a
     * Content-Length is sent; other methods only when given one. */
    if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bn);
      if (copy_body) curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? body : "");
      else curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
      /* libcurl waits for "100 Continue" before large bodies unless told
       * otherwise; APIs do not need the extra round trip. */
      if (!x->caller_expect) hdrs_append(L, x, "Expect:");
      /* Without this libcurl labels every body, even an empty one, as
       * application/x-www-form-urlencoded, which is a lie for JSON APIs. */
      if (!x->caller_type) hdrs_append(L, x, "Content-Type:");
    }
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);

  if (!plain) {
    opt_str(L, arg, t, "ca_file", e, CURLOPT_CAINFO);
    opt_str(L, arg, t, "ca_path", e, CURLOPT_CAPATH);
    opt_str(L, arg, t, "proxy", e, CURLOPT_PROXY);
    opt_str(L, arg, t, "noproxy", e, CURLOPT_NOPROXY);
    if (opt_bool(L, arg, t, "insecure")) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* On a reused connection that turns out dead after the request went out
     * but before any answer, libcurl sends the request again on a new one,
     * even a POST the server may already have acted on. A fresh connection
     * is never retried that way. */
    if (fresh) curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    if (version != CURL_HTTP_VERSION_NONE && curl_easy_setopt(e, CURLOPT_HTTP_VERSION, version) != CURLE_OK)
      luaL_argerror(L, arg, "'http_version' is not supported by this libcurl");
  }

  x->max = (curl_off_t)max;
  if (max != x->max_set) curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
  if (timeout != x->timeout) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
  if (ctimeout != x->ctimeout) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)ctimeout);
  x->max_set = max;
  x->timeout = timeout;
  x->ctimeout = ctimeout;
}

/* Returns the head of the free list, creating a transfer if it is empty. The
 * transfer stays in the free list until the caller moves it. */
static xfer_t *free_head(lua_State *L, session_t *s) {
  xfer_t *x;
  if (s->free_list) return s->free_list;
  x = calloc(1, sizeof *x);
  if (!x) luaL_error(L, "dwell.core.http: out of memory");
  x->easy = curl_easy_init();
  if (!x->easy) {
    free(x);
    luaL_error(L, "dwell.core.http: curl_easy_init failed");
  }
  curl_easy_setopt(x->easy, CURLOPT_SHARE, s->share);
  free_push(s, x);
  return x;
}

/* ---- results ---------------------------------------------------------- */

static const char *error_kind(CURLcode c, const xfer_t *x) {
  switch (c) {
  case CURLE_OPERATION_TIMEDOUT: return "timeout";
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY: return "dns";
  case CURLE_COULDNT_CONNECT: return "connect";
  case CURLE_FILESIZE_EXCEEDED: return "too_large";
  case CURLE_WRITE_ERROR: return x->too_large ? "too_large" : "transport";
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_USE_SSL_FAILED: return "tls";
  default: return "transport";
  }
}

/* Pushes an error table. libcurl's messages name hosts and addresses, never
 * request headers or bodies. `sent` tells "never went out" (DNS, connect,
 * TLS: the server cannot have acted on it) from "went out, answer lost". It
 * counts every request byte libcurl wrote, a proxy's CONNECT included, so it
 * errs towards true, the side on which a caller does not resend. */
static void push_error(lua_State *L, CURLcode c, const xfer_t *x) {
  const char *kind = error_kind(c, x);
  long sent = 0;
  curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &sent);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  if (x->oom) lua_pushliteral(L, "out of memory while buffering the response");
  else if (x->too_large && c != CURLE_FILESIZE_EXCEEDED) lua_pushliteral(L, "response exceeds max_response_bytes");
  else if (x->errbuf[0]) lua_pushstring(L, x->errbuf);
  else lua_pushstring(L, curl_easy_strerror(c));
  lua_setfield(L, -2, "message");
  lua_pushinteger(L, (lua_Integer)c);
  lua_setfield(L, -2, "curl_code");
  lua_pushboolean(L, sent > 0);
  lua_setfield(L, -2, "sent");
}

static void get_us(CURL *e, CURLINFO info, curl_off_t *us) {
  *us = 0;
  curl_easy_getinfo(e, info, us);
}

static void push_timing(lua_State *L, CURL *e) {
  curl_off_t dns, conn, tls, first, total;
  get_us(e, CURLINFO_NAMELOOKUP_TIME_T, &dns);
  get_us(e, CURLINFO_CONNECT_TIME_T, &conn);
  get_us(e, CURLINFO_APPCONNECT_TIME_T, &tls);
  get_us(e, CURLINFO_STARTTRANSFER_TIME_T, &first);
  get_us(e, CURLINFO_TOTAL_TIME_T, &total);
  lua_createtable(L, 0, 5);
  /* dns, connect and tls are the durations of those phases; first_byte and
   * total are measured from the start of the transfer. */
  lua_pushnumber(L, (lua_Number)dns / 1000.0);
  lua_setfield(L, -2, "dns");
  lua_pushnumber(L, conn > dns ? (lua_Number)(conn - dns) / 1000.0 : 0.0);
  lua_setfield(L, -2, "connect");
  lua_pushnumber(L, tls > conn ? (lua_Number)(tls - conn) / 1000.0 : 0.0);
  lua_setfield(L, -2, "tls");
  lua_pushnumber(L, (lua_Number)first / 1000.0);
  lua_setfield(L, -2, "first_byte");
  lua_pushnumber(L, (lua_Number)total / 1000.0);
  lua_setfield(L, -2, "total");
}

static const char *version_name(long v) {
  switch (v) {
  case CURL_HTTP_VERSION_1_0: return "1.0";
  case CURL_HTTP_VERSION_1_1: return "1.1";
  case CURL_HTTP_VERSION_2_0: return "2";
  case CURL_HTTP_VERSION_3: return "3";
  default: return "unknown";
  }
}

/* Parses a header block into `headers` (lower-cased name -> value, repeats
 * joined with ", ") at index map, or, when list is not 0, into `header_list`
 * ({ name, value } pairs in order) at index list. */
static void push_headers(lua_State *L, const char *p, size_t len, int map, int list) {
  const char *end = p + len;
  char name[256];
  lua_Integer n = 0;
  int first = 1;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end, *colon, *v, *ve;
    size_t nn, i;
    if (line_end > p && line_end[-1] == '\r') line_end--;
    colon = memchr(p, ':', (size_t)(line_end - p));
    if (first || !colon || p[0] == ' ' || p[0] == '\t' || (size_t)(colon - p) >= sizeof name) {
      first = 0; /* status line, blank line, continuation or oversized name */
      p = eol ? eol + 1 : end;
      continue;
    }
    nn = (size_t)(colon - p);
    for (i = 0; i < nn; i++) {
      char c = p[i];
      name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    v = colon + 1;
    ve = line_end;
    while (v < ve && (*v == ' ' || *v == '\t')) v++;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;

    if (list) {
      lua_createtable(L, 2, 0);
      lua_pushlstring(L, name, nn);
      lua_rawseti(L, -2, 1);
      lua_pushlstring(L, v, (size_t)(ve - v));
      lua_rawseti(L, -2, 2);
      lua_rawseti(L, list, ++n);
      p = eol ? eol + 1 : end;
      continue;
    }
    lua_pushlstring(L, name, nn);
    if (lua_rawget(L, map) == LUA_TSTRING) {
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, v, (size_t)(ve - v));
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushlstring(L, v, (size_t)(ve - v));
    }
    lua_pushlstring(L, name, nn);
    lua_insert(L, -2);
    lua_rawset(L, map);
    p = eol ? eol + 1 : end;
  }
}

/* __index of responses: `headers` and `header_list` are each parsed from
 * `raw_headers` on first access (and then stored). Building them costs more
 * than the rest of the response table, and most callers only look at status
 * and body. */
static int response_index(lua_State *L) {
  size_t len;
  const char *raw, *k = lua_tostring(L, 2);
  int list;
  if (!k) return 0;
  if (strcmp(k, "headers") == 0) list = 0;
  else if (strcmp(k, "header_list") == 0) list = 1;
  else return 0;
  lua_getfield(L, 1, "raw_headers");
  raw = lua_tolstring(L, -1, &len);
  if (!raw) return 0;
  lua_createtable(L, list ? 8 : 0, list ? 0 : 8);
  push_headers(L, raw, len, list ? 0 : lua_gettop(L), list ? lua_gettop(L) : 0);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

static void push_response(lua_State *L, xfer_t *x) {
  long status = 0, version = 0, connects = 0;
  int top;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &version);
  curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
  lua_createtable(L, 0, 8);
  top = lua_gettop(L);
  lua_pushinteger(L, status);
  lua_setfield(L, top, "status");
  lua_pushstring(L, version_name(version));
  lua_setfield(L, top, "http_version");
  lua_pushboolean(L, connects == 0);
  lua_setfield(L, top, "reused");
  lua_pushlstring(L, x->body.p ? x->body.p : "", x->body.len);
  lua_setfield(L, top, "body");
  lua_pushlstring(L, x->head.p ? x->head.p : "", x->head.len);
  lua_setfield(L, top, "raw_headers");
  push_timing(L, x->easy);
  lua_setfield(L, top, "timing");
  luaL_setmetatable(L, RESPONSE_MT);
}

/* Pushes resp or nil, err; returns the number of values pushed. */
static int push_result(lua_State *L, xfer_t *x, CURLcode c) {
  if (c == CURLE_OK) {
    push_response(L, x);
    return 1;
  }
  lua_pushnil(L);
  push_error(L, c, x);
  return 2;
}

/* ---- Lua API ---------------------------------------------------------- */

/* session:request(req) -> resp | nil, err */
static int s_request(lua_State *L) {
  session_t *s = check_session(L);
  xfer_t *x = free_head(L, s);
  CURLcode c;
  int n;
  prepare(L, 2, 2, x, 0);
  c = curl_easy_perform(x->easy);
  n = push_result(L, x, c);
  buf_trim(&x->body);
  buf_trim(&x->head);
  return n;
}

/* Submits the request at index arg on the session's multi handle. */
int dwell_session_submit(lua_State *L, session_t *s, int arg) {
  xfer_t *x = free_head(L, s);
  CURLMcode mc;
  prepare(L, arg, arg, x, 1);
  mc = curl_multi_add_handle(s->multi, x->easy);
  if (mc != CURLM_OK) return dwell_fail(L, "dwell.core.http: %s", curl_multi_strerror(mc));
  s->free_list = x->next;
  x->prev = NULL;
  x->next = s->active;
  if (s->active) s->active->prev = x;
  s->active = x;
  s->nactive++;
  x->id = ++s->next_id;
  lua_pushinteger(L, x->id);
  return 1;
}

/* session:submit(req) -> id | nil, err */
static int s_submit(lua_State *L) {
  return dwell_session_submit(L, check_session(L), 2);
}

static double now_ms(void) {
  return (double)dwell_clock_seconds(CLOCK_MONOTONIC) * 1000.0;
}

/* Moves finished transfers to the free list and appends their results to the
 * table at index out; returns how many there were. */
int dwell_session_collect(lua_State *L, session_t *s, int out, lua_Integer n) {
  CURLMsg *msg;
  int queued, got = 0;
  while ((msg = curl_multi_info_read(s->multi, &queued))) {
    xfer_t *x;
    char *priv = NULL;
    CURLcode c;
    if (msg->msg != CURLMSG_DONE) continue;
    c = msg->data.result;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    x = (xfer_t *)priv;
    curl_multi_remove_handle(s->multi, x->easy);
    active_unlink(s, x);
    free_push(s, x);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, x->id);
    lua_setfield(L, -2, "id");
    if (push_result(L, x, c) == 1) {
      lua_setfield(L, -2, "resp");
    } else {
      lua_setfield(L, -3, "err");
      lua_pop(L, 1);
    }
    lua_rawseti(L, out, n + ++got);
    buf_trim(&x->body);
    buf_trim(&x->head);
  }
  return got;
}

/* ---- the poll set (multi-socket callbacks) ------------------------------ */

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  poll_session *ps = userp;
  size_t i;
  (void)easy;
  (void)socketp;
  for (i = 0; i < ps->nfds && ps->fds[i].fd != fd; i++) {
  }
  if (what == CURL_POLL_REMOVE) {
    if (i < ps->nfds) ps->fds[i] = ps->fds[--ps->nfds];
    return 0;
  }
  if (i == ps->nfds) {
    if (ps->nfds == ps->cap) {
      size_t cap = ps->cap ? ps->cap * 2 : 16;
      struct pollfd *p = realloc(ps->fds, cap * sizeof *p);
      if (!p) {
        ps->failed = 1;
        return -1;
      }
      ps->fds = p;
      ps->cap = cap;
    }
    ps->fds[ps->nfds].fd = fd;
    ps->nfds++;
  }
  ps->fds[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
  ps->fds[i].revents = 0;
  return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
  poll_session *ps = userp;
  (void)multi;
  ps->timer_at = timeout_ms < 0 ? -1.0 : now_ms() + (double)timeout_ms;
  return 0;
}

static CURLMcode run_timer(poll_session *ps) {
  int running;
  ps->timer_at = -1.0; /* curl sets it again if it wants */
  return curl_multi_socket_action(ps->s.multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

/* Waits up to ms for a socket or curl's timer and lets curl act on what is
 * ready. Returns CURLM_OK or curl's error; -1 with errno when poll failed. */
static int wait_and_act(poll_session *ps, double ms) {
  size_t i, nready = 0;
  int rc, running;
  double t = now_ms();
  if (ps->timer_at >= 0 && ps->timer_at - t < ms) ms = ps->timer_at - t;
  if (ms < 0) ms = 0;
  if (ms > (double)INT_MAX) ms = (double)INT_MAX - 1.0;
  rc = poll(ps->fds, (nfds_t)ps->nfds, (int)(ms + 0.999));
  if (rc < 0) return errno == EINTR ? CURLM_OK : -1;
  if (rc > 0) {
    /* Copied out first: socket_action changes the set while it runs. */
    if (ps->ready_cap < (size_t)rc) {
      struct pollfd *p = realloc(ps->ready, (size_t)rc * sizeof *p);
      if (!p) return CURLM_OUT_OF_MEMORY;
      ps->ready = p;
      ps->ready_cap = (size_t)rc;
    }
    for (i = 0; i < ps->nfds && nready < (size_t)rc; i++)
      if (ps->fds[i].revents) ps->ready[nready++] = ps->fds[i];
    for (i = 0; i < nready; i++) {
      short re = ps->ready[i].revents;
      int mask = ((re & (POLLIN | POLLHUP)) ? CURL_CSELECT_IN : 0) | ((re & POLLOUT) ? CURL_CSELECT_OUT : 0) |
                 ((re & (POLLERR | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
      CURLMcode mc = curl_multi_socket_action(ps->s.multi, ps->ready[i].fd, mask, &running);
      if (mc != CURLM_OK && mc != CURLM_BAD_SOCKET) return mc;
      if (re & POLLNVAL) on_socket(NULL, ps->ready[i].fd, CURL_POLL_REMOVE, ps, NULL); /* closed behind our back */
    }
  }
  if (ps->timer_at >= 0 && ps->timer_at <= now_ms()) return run_timer(ps);
  return CURLM_OK;
}

/* session:poll(timeout_ms) -> { {id=, resp=} | {id=, err=}, ... }, active
 * Waits up to timeout_ms for at least one transfer to finish; returns at once
 * when nothing is in flight. */
static int s_poll(lua_State *L) {
  poll_session *ps = (poll_session *)check_session(L);
  session_t *s = &ps->s;
  lua_Integer timeout = luaL_optinteger(L, 2, 0);
  double deadline = now_ms() + (double)(timeout < 0 ? 0 : timeout);
  lua_Integer n = 0;
  int out, mc = CURLM_OK;
  lua_newtable(L);
  out = lua_gettop(L);
  /* Transfers submitted since the last call: curl asked for a timer of 0. */
  if (ps->timer_at >= 0 && ps->timer_at <= now_ms()) mc = run_timer(ps);
  for (;;) {
    double left;
    if (ps->failed) {
      ps->failed = 0;
      return dwell_fail(L, "dwell.core.http: out of memory");
    }
    if (mc < 0) return dwell_fail(L, "dwell.core.http: poll: %s", strerror(errno));
    if (mc != CURLM_OK) return dwell_fail(L, "dwell.core.http: %s", curl_multi_strerror((CURLMcode)mc));
    n += dwell_session_collect(L, s, out, n);
    if (n > 0 || s->nactive == 0) break;
    left = deadline - now_ms();
    if (left <= 0) break;
    mc = wait_and_act(ps, left);
  }
  lua_pushinteger(L, s->nactive);
  return 2;
}

int dwell_session_cancel(session_t *s, lua_Integer id) {
  xfer_t *x;
  for (x = s->active; x; x = x->next) {
    if (x->id == id) {
      curl_multi_remove_handle(s->multi, x->easy);
      active_unlink(s, x);
      free_push(s, x);
      return 1;
    }
  }
  return 0;
}

/* session:cancel(id) -> boolean: abandons an in-flight transfer. */
static int s_cancel(lua_State *L) {
  session_t *s = check_session(L);
  lua_Integer id = luaL_checkinteger(L, 2);
  lua_pushboolean(L, dwell_session_cancel(s, id));
  return 1;
}

/* session:limit_connections(n): at most n connections open at once on the
 * multi handle, to one host or in all, and at least n kept idle for reuse;
 * a transfer that would need an (n+1)th connection waits in libcurl's queue
 * for one to come free instead of opening it. 0 lifts the limit and restores
 * the default idle cache. Without this, a run of n > MAX_CONNECTS transfers
 * closes connections it is about to need and opens one per request. */
static int s_limit_connections(lua_State *L) {
  session_t *s = check_session(L);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 0 && n <= INT_MAX, 2, "must be an integer in 0..INT_MAX");
  curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, n > MAX_CONNECTS ? (long)n : MAX_CONNECTS);
  curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n);
  curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);
  return 0;
}

static int s_pending(lua_State *L) {
  session_t *s = check_session(L);
  lua_pushinteger(L, s->nactive);
  return 1;
}

static int s_tostring(lua_State *L) {
  session_t *s = luaL_checkudata(L, 1, SESSION_MT);
  lua_pushfstring(L, "dwell.http.session (%s, %d in flight)", s->closed ? "closed" : "open", s->nactive);
  return 1;
}

int dwell_session_init(lua_State *L, session_t *s, int share_connections) {
  pthread_once(&init_once, global_init);
  if (init_result != CURLE_OK) return dwell_fail(L, "dwell.core.http: curl_global_init failed");
  s->share = curl_share_init();
  s->multi = curl_multi_init();
  if (!s->share || !s->multi) luaL_error(L, "dwell.core.http: cannot create libcurl handles");
  curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  if (share_connections) curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, MAX_CONNECTS);
  return 0;
}

static int new_session(lua_State *L) {
  poll_session *ps = lua_newuserdatauv(L, sizeof *ps, 0);
  memset(ps, 0, sizeof *ps);
  ps->timer_at = -1.0;
  luaL_setmetatable(L, SESSION_MT);
  /* a half-made session is closed by __gc like any other */
  if (dwell_session_init(L, &ps->s, 1)) return 2;
  curl_multi_setopt(ps->s.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(ps->s.multi, CURLMOPT_SOCKETDATA, ps);
  curl_multi_setopt(ps->s.multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(ps->s.multi, CURLMOPT_TIMERDATA, ps);
  return 1;
}

/* monotonic() -> seconds as a float, for the scheduler's default clock. */
static int c_monotonic(lua_State *L) {
  lua_pushnumber(L, dwell_clock_seconds(CLOCK_MONOTONIC));
  return 1;
}

/* realtime() -> seconds since the Unix epoch as a float: for timestamps that
 * go on the wire (Tuya's `t`, JWT iat/exp), never for measuring intervals. */
static int c_realtime(lua_State *L) {
  lua_pushnumber(L, dwell_clock_seconds(CLOCK_REALTIME));
  return 1;
}

/* sleep(seconds): blocks the thread; the scheduler's default clock uses it
 * when nothing is in flight. */
static int c_sleep(lua_State *L) {
  lua_Number sec = luaL_checknumber(L, 1);
  struct timespec ts;
  luaL_argcheck(L, sec == sec, 1, "seconds must not be NaN");
  if (sec <= 0) return 0;
  /* Converting a double past time_t's range is undefined: cap it (some
   * thirty million years, which is forever enough). */
  if (sec > 1e15) sec = 1e15;
  ts = dwell_timespec(sec);
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
  return 0;
}

/* http.unsafe_header(headers) -> the first key (in next() order) whose value is not a string
 * or carries CR, LF or NUL, or nil: the pipeline's check before a request is handed to a
 * transport, so that a hostile token is an error of its own, not a raise here. */
static int c_unsafe_header(lua_State *L) {
  if (lua_isnoneornil(L, 1)) return 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    size_t n;
    const char *v;
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 1);
      return 1;
    }
    v = lua_tolstring(L, -1, &n);
    if (has_ctl(v, n)) {
      lua_pop(L, 1);
      return 1;
    }
    lua_pop(L, 1);
  }
  return 0;
}

int dwell_http_open(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"request", s_request}, {"submit", s_submit}, {"poll", s_poll}, {"cancel", s_cancel},
    {"pending", s_pending}, {"limit_connections", s_limit_connections}, {"close", session_gc},
    {NULL, NULL}};
  static const luaL_Reg funcs[] = {
    {"new_session", new_session}, {"monotonic", c_monotonic}, {"realtime", c_realtime}, {"sleep", c_sleep},
    {"unsafe_header", c_unsafe_header}, {NULL, NULL}};
  pthread_once(&init_once, global_init);
  if (luaL_newmetatable(L, SESSION_MT)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, session_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, session_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, s_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, RESPONSE_MT)) {
    lua_pushcfunction(L, response_index);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  lua_pushstring(L, user_agent);
  lua_setfield(L, -2, "user_agent");
  dwell_http_socket_register(L);
  return 1;
}
