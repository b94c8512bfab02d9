/* The sandbox's HTTP side: libmicrohttpd in thread-per-connection mode.
 *
 * Each connection has its own thread, so a request that sleeps (latency, a
 * delay fault, a response that never arrives) blocks only itself. Route
 * handlers run in the one server lua_State under lua_mu; the sleeps happen
 * outside it. No Lua runs inside libmicrohttpd callbacks other than the access
 * handler, which is where the contract puts the route handlers, and there all
 * Lua work is inside lua_pcall so nothing longjmps through libmicrohttpd. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <lauxlib.h>

#include "sandbox.h"

#define SB_MAX_BODY ((size_t)64 << 20)

enum { SB_NORMAL, SB_RESET, SB_HANG, SB_TRUNCATE };

/* One HTTP request: created by the URI log callback, freed on completion. */
typedef struct sb_req {
  char *uri;
  char *body;
  size_t len, cap;
  int started, too_large, oom;
} sb_req;

typedef struct sb_header {
  const char *name, *value;
} sb_header;

/* What the router decided, carried out of the lock. */
typedef struct sb_outcome {
  struct MHD_Response *resp;
  unsigned status;
  lua_Integer delay_ms;
  int kind;
} sb_outcome;

typedef struct sb_dispatch {
  sb_server *s;
  const char *method;
  sb_req *rq;
  sb_header *headers;
  size_t nheaders;
  sb_outcome *out;
} sb_dispatch;

/* A body cut short: the response announces `declared` bytes but sends `send`. */
typedef struct sb_trunc {
  size_t send;
  char data[];
} sb_trunc;

/* ---- sleeping ---------------------------------------------------------- */

int sb_sleep(sb_server *s, long long ms) {
  struct timespec until;
  int stopping;
  clock_gettime(CLOCK_MONOTONIC, &until);
  if (ms > 0) {
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec += 1;
      until.tv_nsec -= 1000000000L;
    }
  }
  pthread_mutex_lock(&s->mu);
  while (!s->stopping && ms != 0) {
    int rc = ms < 0 ? pthread_cond_wait(&s->cond, &s->mu)
                    : pthread_cond_timedwait(&s->cond, &s->mu, &until);
    if (rc == ETIMEDOUT) break;
  }
  stopping = s->stopping;
  pthread_mutex_unlock(&s->mu);
  return stopping;
}

/* ---- libmicrohttpd callbacks without Lua -------------------------------- */

static void on_log(void *cls, const char *fmt, va_list ap) {
  sb_server *s = (sb_server *)cls;
  char line[256];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t n = strlen(line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == '.')) line[--n] = '\0';
  /* Keeps the first messages: when start fails, the first one is the cause. */
  pthread_mutex_lock(&s->mu);
  size_t used = strlen(s->log);
  if (used + n + 3 < sizeof s->log)
    snprintf(s->log + used, sizeof s->log - used, "%s%s", used ? "; " : "", line);
  pthread_mutex_unlock(&s->mu);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode toe) {
  sb_server *s = (sb_server *)cls;
  (void)c;
  (void)socket_ctx;
  pthread_mutex_lock(&s->mu);
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    s->st.connections++;
    s->st.connections_total++;
    if (s->st.connections > s->st.max_connections) s->st.max_connections = s->st.connections;
  } else {
    s->st.connections--;
  }
  pthread_mutex_unlock(&s->mu);
}

/* Keeps the raw request target: the access handler only sees it decoded and
 * without its query, and vendor emulations verify signatures over it. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
  sb_req *rq = (sb_req *)calloc(1, sizeof *rq);
  (void)cls;
  (void)c;
  if (rq == NULL) return NULL;
  rq->uri = strdup(uri);
  if (rq->uri == NULL) {
    free(rq);
    return NULL;
  }
  return rq;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  sb_req *rq = (sb_req *)*con_cls;
  (void)cls;
  (void)c;
  (void)toe;
  if (rq == NULL) return;
  free(rq->uri);
  free(rq->body);
  free(rq);
  *con_cls = NULL;
}

static int append_body(sb_req *rq, const char *data, size_t n) {
  if (rq->too_large || rq->oom) return 0;
  if (n > SB_MAX_BODY - rq->len) {
    rq->too_large = 1;
    return 0;
  }
  if (rq->len + n > rq->cap) {
    size_t cap = rq->cap ? rq->cap : 1024;
    while (cap < rq->len + n) cap *= 2;
    char *p = (char *)realloc(rq->body, cap);
    if (p == NULL) {
      rq->oom = 1;
      return 0;
    }
    rq->body = p;
    rq->cap = cap;
  }
  memcpy(rq->body + rq->len, data, n);
  rq->len += n;
  return 1;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *k,
                                    const char *v) {
  (void)kind;
  (void)k;
  (void)v;
  (*(size_t *)cls)++;
  return MHD_YES;
}

typedef struct header_fill {
  sb_header *h;
  size_t n, cap;
} header_fill;

static enum MHD_Result fill_header(void *cls, enum MHD_ValueKind kind, const char *k,
                                   const char *v) {
  header_fill *f = (header_fill *)cls;
  (void)kind;
  if (f->n >= f->cap) return MHD_NO;
  f->h[f->n].name = k;
  f->h[f->n].value = v ? v : "";
  f->n++;
  return MHD_YES;
}

static ssize_t trunc_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  sb_trunc *t = (sb_trunc *)cls;
  if (pos >= t->send) return MHD_CONTENT_READER_END_WITH_ERROR;
  size_t n = t->send - (size_t)pos;
  if (n > max) n = max;
  memcpy(buf, t->data + pos, n);
  return (ssize_t)n;
}

/* ---- the router call, protected in the server state --------------------- */

static void push_headers(lua_State *S, const sb_header *h, size_t n) {
  lua_createtable(S, 0, (int)n);
  for (size_t i = 0; i < n; i++) {
    luaL_Buffer b;
    const char *p = h[i].name;
    luaL_buffinit(S, &b);
    for (; *p; p++) {
      char ch = *p;
      luaL_addchar(&b, (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch);
    }
    luaL_pushresult(&b);
    lua_pushvalue(S, -1);
    if (lua_rawget(S, -3) == LUA_TSTRING) { /* repeated header: join as HTTP does */
      lua_pushliteral(S, ", ");
      lua_pushstring(S, h[i].value);
      lua_concat(S, 3);
    } else {
      lua_pop(S, 1);
      lua_pushstring(S, h[i].value);
    }
    lua_rawset(S, -3);
  }
}

static void push_request(lua_State *S, const sb_dispatch *d) {
  const char *uri = d->rq->uri;
  const char *q = strchr(uri, '?');
  lua_createtable(S, 0, 6);
  lua_pushstring(S, d->method);
  lua_setfield(S, -2, "method");
  if (q) {
    lua_pushlstring(S, uri, (size_t)(q - uri));
    lua_setfield(S, -2, "path");
    lua_pushstring(S, q + 1);
  } else {
    lua_pushstring(S, uri);
    lua_setfield(S, -2, "path");
    lua_pushliteral(S, "");
  }
  lua_setfield(S, -2, "query");
  push_headers(S, d->headers, d->nheaders);
  lua_setfield(S, -2, "headers");
  lua_pushlstring(S, d->rq->body ? d->rq->body : "", d->rq->len);
  lua_setfield(S, -2, "body");
}

static void add_headers(lua_State *S, int idx, struct MHD_Response *resp) {
  if (!lua_istable(S, idx)) return;
  lua_pushnil(S);
  while (lua_next(S, idx) != 0) {
    if (lua_type(S, -2) == LUA_TSTRING) {
      const char *name = lua_tostring(S, -2);
      if (lua_istable(S, -1)) { /* several values, e.g. Set-Cookie */
        lua_Integer n = (lua_Integer)lua_rawlen(S, -1);
        for (lua_Integer i = 1; i <= n; i++) {
          lua_rawgeti(S, -1, i);
          if (lua_type(S, -1) == LUA_TSTRING || lua_type(S, -1) == LUA_TNUMBER)
            MHD_add_response_header(resp, name, lua_tostring(S, -1));
          lua_pop(S, 1);
        }
      } else if (lua_type(S, -1) == LUA_TSTRING || lua_type(S, -1) == LUA_TNUMBER) {
        lua_pushvalue(S, -1); /* tostring on a copy so lua_next sees the original */
        MHD_add_response_header(resp, name, lua_tostring(S, -1));
        lua_pop(S, 1);
      }
    }
    lua_pop(S, 1);
  }
}

static int kind_of(const char *k) {
  if (k == NULL) return SB_NORMAL;
  if (strcmp(k, "reset") == 0) return SB_RESET;
  if (strcmp(k, "hang") == 0) return SB_HANG;
  if (strcmp(k, "truncate") == 0) return SB_TRUNCATE;
  return SB_NORMAL;
}

/* router.dispatch(req) -> status, headers, body, delay_ms, kind */
static int dispatch_protected(lua_State *S) {
  sb_dispatch *d = (sb_dispatch *)lua_touserdata(S, 1);
  sb_outcome *out = d->out;
  size_t blen;
  lua_settop(S, 0);
  lua_rawgeti(S, LUA_REGISTRYINDEX, d->s->router_ref);
  lua_getfield(S, 1, "dispatch");
  push_request(S, d);
  lua_call(S, 1, 5); /* results at 2..6 */
  lua_Integer status = luaL_optinteger(S, 2, 200);
  out->status = (status >= 100 && status <= 999) ? (unsigned)status : 500;
  out->delay_ms = luaL_optinteger(S, 5, 0);
  out->kind = kind_of(lua_tostring(S, 6));
  const char *body = luaL_optlstring(S, 4, "", &blen);
  if (out->kind == SB_RESET || out->kind == SB_HANG) return 0;
  if (out->kind == SB_TRUNCATE) {
    /* Announce the whole body, send half of it (at least one byte). */
    sb_trunc *t = (sb_trunc *)malloc(sizeof *t + blen + 1);
    if (t == NULL) return luaL_error(S, "out of memory");
    memcpy(t->data, body, blen);
    t->send = blen / 2;
    out->resp = MHD_create_response_from_callback(blen, 4096, trunc_reader, t, free);
    if (out->resp == NULL) free(t);
  } else {
    out->resp = MHD_create_response_from_buffer(blen, (void *)body, MHD_RESPMEM_MUST_COPY);
  }
  if (out->resp == NULL) return luaL_error(S, "cannot create the response");
  add_headers(S, 3, out->resp);
  return 0;
}

static struct MHD_Response *plain_response(const char *text, size_t n) {
  struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)text, MHD_RESPMEM_MUST_COPY);
  if (r) MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
  return r;
}

/* Runs the router under the Lua lock; fills `out`. */
static void run_router(sb_server *s, struct MHD_Connection *c, const char *method, sb_req *rq,
                       sb_outcome *out) {
  size_t n = 0;
  MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &n);
  header_fill f = { NULL, 0, n };
  f.h = (sb_header *)calloc(n ? n : 1, sizeof *f.h);
  if (f.h) MHD_get_connection_values(c, MHD_HEADER_KIND, fill_header, &f);
  sb_dispatch d = { s, method, rq, f.h, f.n, out };

  pthread_mutex_lock(&s->lua_mu);
  lua_State *S = s->S;
  lua_settop(S, 0);
  if (!lua_checkstack(S, 8)) {
    out->status = 500;
    out->resp = plain_response("sandbox: server Lua stack exhausted", 35);
  } else {
    lua_pushcfunction(S, dispatch_protected);
    lua_pushlightuserdata(S, &d);
    if (lua_pcall(S, 1, 0, 0) != LUA_OK) {
      size_t len = 0;
      const char *msg = lua_isstring(S, -1) ? lua_tolstring(S, -1, &len) : "sandbox: router error";
      if (out->resp) MHD_destroy_response(out->resp);
      out->kind = SB_NORMAL;
      out->delay_ms = 0;
      out->status = 500;
      out->resp = plain_response(msg, len ? len : strlen(msg));
    }
  }
  lua_settop(S, 0);
  pthread_mutex_unlock(&s->lua_mu);
  free(f.h);
}

static void count_in(sb_server *s) {
  pthread_mutex_lock(&s->mu);
  s->st.received++;
  s->st.in_flight++;
  if (s->st.in_flight > s->st.max_in_flight) s->st.max_in_flight = s->st.in_flight;
  pthread_mutex_unlock(&s->mu);
}

static void count_out(sb_server *s) {
  pthread_mutex_lock(&s->mu);
  s->st.in_flight--;
  s->st.served++;
  pthread_mutex_unlock(&s->mu);
}

static void reset_connection(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci) {
    /* Linux disconnects a TCP socket "connected" to AF_UNSPEC, sending RST
     * (with zero linger) at once; libmicrohttpd still owns and closes the fd. */
    struct linger lg = { 1, 0 };
    struct sockaddr sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_family = AF_UNSPEC;
    setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    (void)connect(ci->connect_fd, &sa, sizeof sa); /* on failure close() still sends RST */
  }
}

static enum MHD_Result respond(sb_server *s, struct MHD_Connection *c, const char *method,
                               sb_req *rq) {
  sb_outcome out = { NULL, 200, 0, SB_NORMAL };
  enum MHD_Result ret = MHD_NO;
  count_in(s);
  /* Stopping: drop the request instead of answering after the daemon began
   * shutting down. */
  if (s->latency_ms && sb_sleep(s, s->latency_ms)) {
    count_out(s);
    return MHD_NO;
  }
  if (rq->too_large || rq->oom) {
    static const char msg[] = "sandbox: request body too large";
    out.status = 413;
    out.resp = plain_response(msg, sizeof msg - 1);
  } else {
    run_router(s, c, method, rq, &out);
  }
  int stopping = 0;
  if (out.delay_ms > 0) stopping = sb_sleep(s, out.delay_ms);
  switch (out.kind) {
  case SB_RESET:
    reset_connection(c);
    break;
  case SB_HANG:
    sb_sleep(s, -1); /* until the client gives up or the server stops */
    break;
  default:
    if (!stopping && out.resp) ret = MHD_queue_response(c, out.status, out.resp);
  }
  if (out.resp) MHD_destroy_response(out.resp);
  count_out(s);
  return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls) {
  sb_server *s = (sb_server *)cls;
  sb_req *rq = (sb_req *)*con_cls;
  (void)url;
  (void)version;
  if (rq == NULL) return MHD_NO; /* out of memory in on_uri */
  if (!rq->started) {            /* headers only so far */
    rq->started = 1;
    return MHD_YES;
  }
  if (*upload_size != 0) {
    append_body(rq, upload, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  return respond(s, c, method, rq);
}

/* ---- start and stop ---------------------------------------------------- */

int sb_http_start(sb_server *s, const char *host, int port, char *err, size_t errlen) {
  struct addrinfo hints, *ai = NULL;
  char portbuf[16];
  unsigned int flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                       MHD_USE_ERROR_LOG | MHD_USE_ITC;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  snprintf(portbuf, sizeof portbuf, "%d", port);
  int rc = getaddrinfo(host, portbuf, &hints, &ai);
  if (rc != 0 || ai == NULL) {
    snprintf(err, errlen, "cannot resolve host '%s': %s", host, gai_strerror(rc));
    return -1;
  }
  if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
  if (s->cert) {
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
      freeaddrinfo(ai);
      snprintf(err, errlen, "this libmicrohttpd has no TLS support");
      return -1;
    }
    flags |= MHD_USE_TLS;
  }
  /* The server's threads never take signals: SIGINT/SIGTERM reach the
   * caller's thread (bin/dwell-sandbox waits for them there). */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  s->log[0] = '\0';
  s->daemon = MHD_start_daemon(
      flags, (uint16_t)port, NULL, NULL, on_request, s,
      MHD_OPTION_EXTERNAL_LOGGER, on_log, s, /* first, so every message comes here */
      MHD_OPTION_SOCK_ADDR, ai->ai_addr,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)256,
      s->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->cert,
      MHD_OPTION_HTTPS_MEM_KEY, s->key,
      MHD_OPTION_END);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  freeaddrinfo(ai);
  if (s->daemon == NULL) {
    pthread_mutex_lock(&s->mu);
    snprintf(err, errlen, "cannot start the sandbox on %s:%d%s%s%s", host, port,
             s->cert ? " with TLS" : "", s->log[0] ? ": " : "", s->log);
    pthread_mutex_unlock(&s->mu);
    return -1;
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->port = di ? (int)di->port : port;
  return 0;
}

void sb_http_stop(sb_server *s) {
  if (s->daemon == NULL) return;
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->mu);
  MHD_stop_daemon(s->daemon); /* joins every connection thread */
  s->daemon = NULL;
}
