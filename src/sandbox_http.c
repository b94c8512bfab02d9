/* The sandbox's HTTP side: libmicrohttpd, event-driven.
 *
 * A small pool of worker threads polls every connection (epoll), so open
 * connections cost memory, not threads. A request that must wait (latency_ms,
 * a delay fault, a response that never arrives) parks its connection
 * (MHD_suspend_connection) and the timer thread resumes it when due; no
 * worker sleeps. Route handlers run on executor threads (one per lane, see
 * run_job), never on the workers: a worker parks the request's connection,
 * queues it and gets it back with the router's decision.
 *
 * Load: up to max_conns connections are served normally. A connection beyond
 * that is kept only to answer its request with 503 and Retry-After (then
 * closed), unless an admitted connection has waited header_timeout_ms or more
 * for a request (idle, or a slowloris trickling headers): that one is closed
 * and the newcomer admitted, so slow connections cannot starve normal ones.
 * Beyond max_conns + overflow_conns libmicrohttpd itself refuses (closes).
 *
 * No Lua runs inside libmicrohttpd callbacks other than the access handler,
 * which is where the contract puts the route handlers, and there all Lua work
 * is inside lua_pcall so nothing longjmps through libmicrohttpd. */
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <lauxlib.h>

#include "sandbox.h"

#define SB_MAX_BODY ((size_t)64 << 20)

enum { SB_NORMAL, SB_RESET, SB_HANG, SB_TRUNCATE };

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

/* One HTTP request: created by the URI log callback, freed on completion.
 * The access handler runs it in steps, parking it between them. */
typedef struct sb_req {
  char *uri;
  char *body;                    /* sb_big_alloc'd */
  size_t len, cap;
  int started, too_large, oom;
  int counted;                   /* counted in (received, in_flight) */
  int done;                      /* counted out (served) */
  int waited;                    /* latency_ms served */
  int queued;                    /* handed to the executors */
  int routed;                    /* `out` holds the router's decision */
  int parked_after;              /* the decision's delay (or hang) is being served */
  int ran;                       /* lanes: lane 0 ran the handler (replicas do the same) */
  sb_outcome out;
  sb_timer timer;
  /* for the executor: set by the worker before queueing, valid while suspended */
  struct sb_req *job_next;
  struct MHD_Connection *conn;
  const char *method;
  sb_header *headers;
  size_t nheaders;
} sb_req;

/* Which router function a lane runs for a request. */
enum { RUN_DISPATCH, RUN_READ, RUN_REPLAY, RUN_RECORD };

typedef struct sb_dispatch {
  sb_lane *lane;
  sb_req *rq;
  sb_outcome *out;
  int run;                       /* RUN_* */
  lua_Number now;                /* lanes: the request's time, the same on every lane */
  lua_Integer seq;               /* lanes: seeds the request's random values */
  int write;                     /* RUN_READ: set when the request must run on every lane */
} sb_dispatch;

/* A body cut short: the response announces `declared` bytes but sends `send`. */
typedef struct sb_trunc {
  size_t send;
  char data[];
} sb_trunc;

/* ---- time and parking ----------------------------------------------------- */

static long long mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Parks the request on connection c for ms (forever if ms < 0): suspends the
 * connection and lets the timer thread resume it, so a delayed answer holds
 * no worker thread. Called from the access handler. Returns 0, or -1 if the
 * server is stopping (then nothing is parked). */
static int park(sb_server *s, struct MHD_Connection *c, sb_timer *t, long long ms) {
  t->conn = c;
  t->due_ns = ms < 0 ? SB_FOREVER : mono_ns() + ms * 1000000LL;
  pthread_mutex_lock(&s->mu);
  if (s->stopping) {
    pthread_mutex_unlock(&s->mu);
    return -1;
  }
  sb_timer **pp = &s->timers;
  while (*pp && (*pp)->due_ns <= t->due_ns) pp = &(*pp)->next;
  t->next = *pp;
  *pp = t;
  /* Suspended with mu held: the timer thread and stop resume under mu too, so
   * they never see a parked request whose connection is not suspended yet. */
  MHD_suspend_connection(c);
  if (s->timers == t) pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->mu);
  return 0;
}

/* Resumes every parked request that is due (all of them when stopping). mu held. */
static void resume_due(sb_server *s, long long now) {
  while (s->timers && (s->stopping || s->timers->due_ns <= now)) {
    sb_timer *t = s->timers;
    s->timers = t->next;
    t->next = NULL;
    t->due_ns = 0;
    MHD_resume_connection(t->conn);
  }
}

static void stop_timer(sb_server *s);

static void *timer_main(void *arg) {
  sb_server *s = (sb_server *)arg;
  pthread_mutex_lock(&s->mu);
  while (!s->stopping) {
    resume_due(s, mono_ns());
    if (s->timers == NULL || s->timers->due_ns == SB_FOREVER) {
      pthread_cond_wait(&s->cond, &s->mu);
    } else {
      struct timespec until;
      until.tv_sec = (time_t)(s->timers->due_ns / 1000000000LL);
      until.tv_nsec = (long)(s->timers->due_ns % 1000000000LL);
      pthread_cond_timedwait(&s->cond, &s->mu, &until);
    }
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* Sets stopping, resumes every parked or queued request and joins the timer
 * and executor threads (each resumes what it holds before it ends). */
static void stop_timer(sb_server *s) {
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  resume_due(s, 0);
  pthread_cond_broadcast(&s->cond);
  pthread_cond_broadcast(&s->job_cond);
  pthread_mutex_unlock(&s->mu);
  if (s->timer_running) {
    pthread_join(s->timer_thread, NULL);
    s->timer_running = 0;
  }
  for (int i = 0; i < s->nexec; i++) pthread_join(s->exec[i], NULL);
  s->nexec = 0;
  free(s->exec);
  s->exec = NULL;
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

static void unlink_waiting(sb_server *s, sb_conn *k) {
  if (!k->waiting) return;
  if (k->prev) k->prev->next = k->next;
  else s->waiting_head = k->next;
  if (k->next) k->next->prev = k->prev;
  else s->waiting_tail = k->prev;
  k->prev = k->next = NULL;
  k->waiting = 0;
}

static void link_waiting(sb_server *s, sb_conn *k, long long now) {
  if (k->waiting || !k->admitted) return;
  k->since_ns = now;
  k->prev = s->waiting_tail;
  k->next = NULL;
  if (s->waiting_tail) s->waiting_tail->next = k;
  else s->waiting_head = k;
  s->waiting_tail = k;
  k->waiting = 1;
}

/* Counts a new connection against max_conns. When the limit is reached, the
 * admitted connection that has waited longest for a request (idle keep-alive,
 * or a slowloris trickling its headers) is closed to make room if it has
 * waited header_timeout_ms or more; otherwise the new connection is overflow:
 * it is kept only to answer 503. mu held. */
static void admit(sb_server *s, sb_conn *k, long long now) {
  if (s->admitted >= (lua_Integer)s->max_conns) {
    sb_conn *v = s->waiting_head;
    if (v && v->fd >= 0 && now - v->since_ns >= (long long)s->header_timeout_ms * 1000000LL) {
      unlink_waiting(s, v);
      v->admitted = 0;
      v->overflow = 1;
      s->admitted--;
      s->st.evicted++;
      /* libmicrohttpd closes the fd only after NOTIFY_CLOSED, which takes mu
       * and unlinks v first: the fd is still v's here. */
      shutdown(v->fd, SHUT_RDWR);
    }
  }
  if (s->admitted < (lua_Integer)s->max_conns) {
    k->admitted = 1;
    s->admitted++;
    link_waiting(s, k, now);
  } else {
    k->overflow = 1;
  }
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode toe) {
  sb_server *s = (sb_server *)cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    sb_conn *k = (sb_conn *)calloc(1, sizeof *k);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    long long now = mono_ns();
    pthread_mutex_lock(&s->mu);
    s->st.connections++;
    s->st.connections_total++;
    if (s->st.connections > s->st.max_connections) s->st.max_connections = s->st.connections;
    if (k) {
      k->fd = ci ? (int)ci->connect_fd : -1;
      admit(s, k, now);
    }
    pthread_mutex_unlock(&s->mu);
    *socket_ctx = k; /* NULL when out of memory: served, untracked */
  } else {
    sb_conn *k = (sb_conn *)*socket_ctx;
    pthread_mutex_lock(&s->mu);
    s->st.connections--;
    if (k) {
      unlink_waiting(s, k);
      if (k->admitted) s->admitted--;
    }
    pthread_mutex_unlock(&s->mu);
    free(k);
    *socket_ctx = NULL;
  }
}

static sb_conn *conn_of(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? (sb_conn *)ci->socket_context : NULL;
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

static void count_out(sb_server *s);

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  sb_server *s = (sb_server *)cls;
  sb_req *rq = (sb_req *)*con_cls;
  (void)toe;
  if (rq == NULL) return;
  if (rq->counted && !rq->done) count_out(s); /* dropped: hang or stop */
  if (rq->started) { /* back to waiting for the next request on this connection */
    sb_conn *k = conn_of(c);
    if (k) {
      pthread_mutex_lock(&s->mu);
      link_waiting(s, k, mono_ns());
      pthread_mutex_unlock(&s->mu);
    }
  }
  if (rq->out.resp) MHD_destroy_response(rq->out.resp);
  free(rq->headers);
  free(rq->uri);
  sb_big_free(rq->body);
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
    size_t cap = rq->cap ? rq->cap : 16384;
    while (cap < rq->len + n) cap *= 2;
    char *p = (char *)sb_big_realloc(rq->body, rq->len, cap);
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
  lua_createtable(S, 0, 9);
  lua_pushnumber(S, d->now);
  lua_setfield(S, -2, "now");
  lua_pushinteger(S, d->seq);
  lua_setfield(S, -2, "seq");
  lua_pushboolean(S, d->rq->ran);
  lua_setfield(S, -2, "run_handler");
  lua_pushstring(S, d->rq->method);
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
  push_headers(S, d->rq->headers, d->rq->nheaders);
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

static const char *const RUN_NAMES[] = { "dispatch", "lane_dispatch", "replay", "record" };

/* router.dispatch(req) -> status, headers, body, delay_ms, kind, ran
 * router.lane_dispatch(req) -> the same, or false: run it on every lane
 * router.replay(req), router.record(req) -> nothing that matters */
static int dispatch_protected(lua_State *S) {
  sb_dispatch *d = (sb_dispatch *)lua_touserdata(S, 1);
  sb_outcome *out = d->out;
  size_t blen;
  lua_settop(S, 0);
  lua_rawgeti(S, LUA_REGISTRYINDEX, d->lane->router_ref);
  lua_getfield(S, 1, RUN_NAMES[d->run]);
  push_request(S, d);
  lua_call(S, 1, 6); /* results at 2..7 */
  if (d->run == RUN_REPLAY || d->run == RUN_RECORD) return 0;
  if (d->run == RUN_READ && lua_type(S, 2) == LUA_TBOOLEAN && !lua_toboolean(S, 2)) {
    d->write = 1;
    return 0;
  }
  d->rq->ran = lua_toboolean(S, 7);
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
  } else if (blen >= SB_MAP_MIN) { /* a copy that goes back to the system when sent */
    char *copy = (char *)sb_big_alloc(blen);
    if (copy == NULL) return luaL_error(S, "out of memory");
    memcpy(copy, body, blen);
    out->resp = MHD_create_response_from_buffer_with_free_callback(blen, copy, sb_big_free);
    if (out->resp == NULL) sb_big_free(copy);
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

/* Runs one router function for rq in a lane whose lock the caller holds.
 * For RUN_DISPATCH and RUN_READ fills rq->out (a 500 if the router fails);
 * returns 1 if RUN_READ found that the request must run on every lane. */
static int run_lane(sb_lane *ln, int run, sb_req *rq, lua_Number now, lua_Integer seq) {
  sb_outcome *out = &rq->out;
  sb_dispatch d = { ln, rq, out, run, now, seq, 0 };
  lua_State *S = ln->S;
  lua_settop(S, 0);
  if (!lua_checkstack(S, 8)) {
    if (run == RUN_DISPATCH || run == RUN_READ) {
      out->status = 500;
      out->resp = plain_response("sandbox: server Lua stack exhausted", 35);
    }
    return 0;
  }
  lua_pushcfunction(S, dispatch_protected);
  lua_pushlightuserdata(S, &d);
  if (lua_pcall(S, 1, 0, 0) != LUA_OK && (run == RUN_DISPATCH || run == RUN_READ)) {
    size_t len = 0;
    const char *msg = lua_isstring(S, -1) ? lua_tolstring(S, -1, &len) : "sandbox: router error";
    if (out->resp) MHD_destroy_response(out->resp);
    out->kind = SB_NORMAL;
    out->delay_ms = 0;
    out->status = 500;
    out->resp = plain_response(msg, len ? len : strlen(msg));
    d.write = 0;
  }
  lua_settop(S, 0);
  /* A big body is garbage now (the record keeps at most a prefix): collect it
   * at once so the memory goes back instead of waiting for the next cycle. */
  if (rq->len >= SB_MAP_MIN) lua_gc(S, LUA_GCCOLLECT);
  return d.write;
}

/* The router's work for one request, on executor `me`. One lane: lane 0 does
 * everything. Several: the request is first tried as a read on the
 * executor's own lane (routes declared read-only, no faults); if the router
 * says it changes state, it runs on every lane in order, all locked, lane 0
 * answering and the others replaying it with the same time and random seed,
 * so the replicas stay alike. A read is then recorded on lane 0. */
static void run_job(sb_server *s, sb_req *rq) {
  lua_Number now = 0;
  if (s->nlanes == 1) {
    pthread_mutex_lock(&s->lanes[0].mu);
    run_lane(&s->lanes[0], RUN_DISPATCH, rq, 0, 0);
    pthread_mutex_unlock(&s->lanes[0].mu);
    return;
  }
  {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    now = (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9;
  }
  /* Reads take the lanes in turn (the first free one from there), whichever
   * executor runs them: every lane serves, even when one executor drains the queue. */
  pthread_mutex_lock(&s->mu);
  int start = (int)(s->rr++ % (lua_Integer)s->nlanes);
  pthread_mutex_unlock(&s->mu);
  int li = -1;
  for (int k = 0; k < s->nlanes && li < 0; k++) {
    int j = (start + k) % s->nlanes;
    if (pthread_mutex_trylock(&s->lanes[j].mu) == 0) li = j;
  }
  if (li < 0) {
    li = start;
    pthread_mutex_lock(&s->lanes[li].mu);
  }
  int write = run_lane(&s->lanes[li], RUN_READ, rq, now, 0);
  pthread_mutex_unlock(&s->lanes[li].mu);
  if (write) {
    sb_lock_all(s);
    lua_Integer seq = ++s->seq;
    run_lane(&s->lanes[0], RUN_DISPATCH, rq, now, seq);
    for (int i = 1; i < s->nlanes; i++) run_lane(&s->lanes[i], RUN_REPLAY, rq, now, seq);
    sb_unlock_all(s);
  } else {
    pthread_mutex_lock(&s->lanes[0].mu);
    run_lane(&s->lanes[0], RUN_RECORD, rq, now, 0);
    pthread_mutex_unlock(&s->lanes[0].mu);
  }
  pthread_mutex_lock(&s->mu);
  if (write) s->st.writes++;
  else {
    s->st.reads++;
    s->lane_reads[li]++;
  }
  pthread_mutex_unlock(&s->mu);
}


/* Queues rq for the executors and parks its connection until one has run it.
 * Returns 0, or -1 if the server is stopping (nothing queued). */
static int enqueue(sb_server *s, struct MHD_Connection *c, sb_req *rq) {
  rq->conn = c;
  rq->job_next = NULL;
  pthread_mutex_lock(&s->mu);
  if (s->stopping) {
    pthread_mutex_unlock(&s->mu);
    return -1;
  }
  if (s->jobs_tail) s->jobs_tail->job_next = rq;
  else s->jobs_head = rq;
  s->jobs_tail = rq;
  rq->queued = 1;
  MHD_suspend_connection(c); /* with mu held, as park does */
  pthread_cond_signal(&s->job_cond);
  pthread_mutex_unlock(&s->mu);
  return 0;
}

static void *exec_main(void *arg) {
  sb_server *s = (sb_server *)arg;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (s->jobs_head == NULL && !s->stopping) pthread_cond_wait(&s->job_cond, &s->mu);
    sb_req *rq = s->jobs_head;
    if (rq == NULL) break; /* stopping, nothing left */
    s->jobs_head = rq->job_next;
    if (s->jobs_head == NULL) s->jobs_tail = NULL;
    if (!s->stopping) {
      pthread_mutex_unlock(&s->mu);
      run_job(s, rq);
      pthread_mutex_lock(&s->mu);
      rq->routed = 1;
    }
    /* Stopping: resumed unrun; the access handler then drops it. */
    MHD_resume_connection(rq->conn);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
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

static int is_stopping(sb_server *s) {
  int v;
  pthread_mutex_lock(&s->mu);
  v = s->stopping;
  pthread_mutex_unlock(&s->mu);
  return v;
}

/* The answer for a connection over the limit: at once, without reading the
 * body, and the connection closes after it. */
static enum MHD_Result overloaded(sb_server *s, struct MHD_Connection *c) {
  char msg[160];
  int n = snprintf(msg, sizeof msg,
                   "{\"error\":\"overloaded\",\"message\":\"sandbox: more than %u connections open\"}",
                   s->max_conns);
  struct MHD_Response *r = MHD_create_response_from_buffer((size_t)n, msg, MHD_RESPMEM_MUST_COPY);
  enum MHD_Result ret;
  if (r == NULL) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", "application/json");
  MHD_add_response_header(r, "Retry-After", "1");
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  ret = MHD_queue_response(c, 503, r);
  MHD_destroy_response(r);
  pthread_mutex_lock(&s->mu);
  s->st.rejected++;
  pthread_mutex_unlock(&s->mu);
  return ret;
}

/* The last call for a request (its body complete); runs again after each park.
 * Steps: the latency_ms wait, the router, the fault's delay, the answer. */
static enum MHD_Result respond(sb_server *s, struct MHD_Connection *c, const char *method,
                               sb_req *rq) {
  /* Stopping: drop the request instead of answering after the daemon began
   * shutting down (parked requests are resumed then, and end here). */
  if (is_stopping(s)) return MHD_NO;
  if (!rq->counted) {
    rq->counted = 1;
    count_in(s);
  }
  if (s->latency_ms && !rq->waited) {
    rq->waited = 1;
    return park(s, c, &rq->timer, s->latency_ms) == 0 ? MHD_YES : MHD_NO;
  }
  if (!rq->routed) {
    if (rq->too_large || rq->oom) {
      static const char msg[] = "sandbox: request body too large";
      rq->out.status = 413;
      rq->out.resp = plain_response(msg, sizeof msg - 1);
      rq->routed = 1;
    } else if (rq->queued) {
      return MHD_NO; /* resumed unrun: the server is stopping */
    } else {
      /* The headers are read here, on the worker; the executor only reads
       * these pointers, which stay valid while the connection is parked. */
      size_t n = 0;
      MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &n);
      header_fill f = { NULL, 0, n };
      f.h = (sb_header *)calloc(n ? n : 1, sizeof *f.h);
      if (f.h) MHD_get_connection_values(c, MHD_HEADER_KIND, fill_header, &f);
      rq->headers = f.h;
      rq->nheaders = f.n;
      rq->method = method;
      rq->out.status = 200;
      return enqueue(s, c, rq) == 0 ? MHD_YES : MHD_NO;
    }
  }
  if (!rq->parked_after) {
    rq->parked_after = 1;
    if (rq->out.kind == SB_HANG) /* until the server stops */
      return park(s, c, &rq->timer, -1) == 0 ? MHD_YES : MHD_NO;
    if (rq->out.delay_ms > 0)
      return park(s, c, &rq->timer, rq->out.delay_ms) == 0 ? MHD_YES : MHD_NO;
  }
  enum MHD_Result ret = MHD_NO;
  switch (rq->out.kind) {
  case SB_RESET:
    reset_connection(c);
    break;
  case SB_HANG:
    break;
  default:
    if (rq->out.resp) ret = MHD_queue_response(c, rq->out.status, rq->out.resp);
  }
  if (rq->out.resp) MHD_destroy_response(rq->out.resp);
  rq->out.resp = NULL;
  rq->done = 1;
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
    sb_conn *k = conn_of(c);
    rq->started = 1;
    if (k) {
      int over;
      pthread_mutex_lock(&s->mu);
      unlink_waiting(s, k); /* a request in progress: never evicted */
      over = k->overflow;
      pthread_mutex_unlock(&s->mu);
      if (over) return overloaded(s, c);
    }
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

/* Raises this process's soft limit on open files to `want` (at most the hard
 * limit): every connection is a file descriptor, and the usual soft limit of
 * 1024 would otherwise cap the sandbox below its own connection limit. */
static void raise_fd_limit(rlim_t want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want) return;
  rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want) ? want : rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

/* How many connections libmicrohttpd may hold: max_conns + overflow_conns, or
 * fewer when the process cannot have that many files open. */
static unsigned connection_limit(sb_server *s) {
  struct rlimit rl;
  rlim_t want = (rlim_t)s->max_conns + s->overflow_conns;
  raise_fd_limit(want + 256);
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want + 64)
    want = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : 64; /* room for the process's other files */
  return (unsigned)want;
}

int sb_http_start(sb_server *s, const char *host, int port, char *err, size_t errlen) {
  struct addrinfo hints, *ai = NULL;
  char portbuf[16];
  /* Event-driven: a pool of worker threads, each polling many connections;
   * delayed answers park their connection (suspend/resume) instead of a thread. */
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
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
  unsigned limit = connection_limit(s);
  /* The server's threads never take signals: SIGINT/SIGTERM reach the
   * caller's thread (bin/dwell-sandbox waits for them there). */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  s->log[0] = '\0';
  s->stopping = 0;
  if (pthread_create(&s->timer_thread, NULL, timer_main, s) != 0) {
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    freeaddrinfo(ai);
    snprintf(err, errlen, "cannot start the sandbox's timer thread");
    return -1;
  }
  s->timer_running = 1;
  s->exec = (pthread_t *)calloc((size_t)s->nlanes, sizeof *s->exec);
  for (int i = 0; s->exec && i < s->nlanes; i++) {
    if (pthread_create(&s->exec[i], NULL, exec_main, s) != 0) break;
    s->nexec++;
  }
  if (s->nexec == 0) {
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    freeaddrinfo(ai);
    stop_timer(s);
    snprintf(err, errlen, "cannot start the sandbox's executor threads");
    return -1;
  }
  s->daemon = MHD_start_daemon(
      flags, (uint16_t)port, NULL, NULL, on_request, s,
      MHD_OPTION_EXTERNAL_LOGGER, on_log, s, /* first, so every message comes here */
      MHD_OPTION_SOCK_ADDR, ai->ai_addr,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->threads,
      MHD_OPTION_CONNECTION_LIMIT, limit,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->idle_timeout_s,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)4096,
      s->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->cert,
      MHD_OPTION_HTTPS_MEM_KEY, s->key,
      MHD_OPTION_END);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  freeaddrinfo(ai);
  if (s->daemon == NULL) {
    stop_timer(s);
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
  /* Every parked request is resumed (under mu, so no new one is parked after
   * this); libmicrohttpd must not be stopped with suspended connections. */
  stop_timer(s);
  MHD_stop_daemon(s->daemon); /* joins every worker thread */
  s->daemon = NULL;
}
