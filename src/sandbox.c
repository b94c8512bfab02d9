/* luaopen_dwell_sandbox_server: the sandbox server object seen from Lua.
 *
 * start(spec) creates the server's own lua_State, loads dwell.sandbox.router
 * into it (with the caller's package.path/cpath) and starts libmicrohttpd.
 * The caller's lua_State is only ever used from the caller's thread; the
 * methods below reach the server state under its lock and copy plain data
 * across. lua/dwell/sandbox/init.lua wraps this into the public API. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "clock.h"
#include "sandbox.h"

#define SB_MT "dwell.sandbox.server"

typedef struct sb_handle {
  sb_server *s;
} sb_handle;

/* ---- server lifetime ---------------------------------------------------- */

static sb_server *server_new(int nlanes) {
  sb_server *s = (sb_server *)calloc(1, sizeof *s);
  pthread_condattr_t ca;
  if (s == NULL) return NULL;
  s->lanes = (sb_lane *)calloc((size_t)nlanes, sizeof *s->lanes);
  s->lane_reads = (lua_Integer *)calloc((size_t)nlanes, sizeof *s->lane_reads);
  if (s->lanes == NULL || s->lane_reads == NULL) {
    free(s->lanes);
    free(s->lane_reads);
    free(s);
    return NULL;
  }
  s->nlanes = nlanes;
  for (int i = 0; i < nlanes; i++) {
    s->lanes[i].router_ref = LUA_NOREF;
    pthread_mutex_init(&s->lanes[i].mu, NULL);
  }
  pthread_mutex_init(&s->mu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the timer thread waits on the monotonic clock */
  pthread_cond_init(&s->cond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_cond_init(&s->job_cond, NULL);
  return s;
}

static void server_free(sb_server *s) {
  sb_http_stop(s);
  for (int i = 0; i < s->nlanes; i++) {
    if (s->lanes[i].S) lua_close(s->lanes[i].S);
    pthread_mutex_destroy(&s->lanes[i].mu);
  }
  free(s->lanes);
  free(s->lane_reads);
  pthread_cond_destroy(&s->job_cond);
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->mu);
  free(s->cert);
  free(s->key);
  free(s);
}

void sb_lock_all(sb_server *s) {
  for (int i = 0; i < s->nlanes; i++) pthread_mutex_lock(&s->lanes[i].mu);
}

void sb_unlock_all(sb_server *s) {
  for (int i = s->nlanes - 1; i >= 0; i--) pthread_mutex_unlock(&s->lanes[i].mu);
}

static sb_server *check_open(lua_State *L) {
  sb_handle *h = (sb_handle *)luaL_checkudata(L, 1, SB_MT);
  if (h->s == NULL) luaL_error(L, "sandbox server is closed");
  return h->s;
}

/* ---- the server's Lua state --------------------------------------------- */

static int sb_now(lua_State *S) {
  lua_pushnumber(S, dwell_clock_seconds(CLOCK_REALTIME));
  return 1;
}

typedef struct setup_ctx {
  const char *path, *cpath;
  int lane, nlanes;
} setup_ctx;

/* (ctx, router_spec) -> router table, in the server state. */
static int setup_protected(lua_State *S) {
  setup_ctx *c = (setup_ctx *)lua_touserdata(S, 1);
  luaL_openlibs(S);
  lua_getglobal(S, "package");
  lua_pushstring(S, c->path);
  lua_setfield(S, -2, "path");
  lua_pushstring(S, c->cpath);
  lua_setfield(S, -2, "cpath");
  lua_pop(S, 1);
  lua_getglobal(S, "require");
  lua_pushliteral(S, "dwell.sandbox.router");
  lua_call(S, 1, 1);
  lua_getfield(S, -1, "new");
  lua_pushinteger(S, c->nlanes);
  lua_setfield(S, 2, "lanes");
  lua_pushinteger(S, c->lane + 1);
  lua_setfield(S, 2, "lane");
  lua_pushvalue(S, 2);
  lua_pushcfunction(S, sb_now);
  lua_call(S, 2, 1);
  luaL_checktype(S, -1, LUA_TTABLE);
  return 1;
}

/* Pushes the error on top of S onto L as a string. */
static void push_state_error(lua_State *L, lua_State *S, const char *fallback) {
  const char *msg = lua_tostring(S, -1);
  lua_pushstring(L, msg ? msg : fallback);
}

typedef struct call_ctx {
  sb_lane *lane;
  lua_State *L;
  const char *fname;
  int first, nargs;
  int nextra;                    /* values already on the lane's stack to pass after the args */
} call_ctx;

static int call_protected(lua_State *S) {
  call_ctx *c = (call_ctx *)lua_touserdata(S, 1);
  int extra = lua_gettop(S) - 1;
  luaL_checkstack(S, c->nargs + 4, "router call");
  lua_rawgeti(S, LUA_REGISTRYINDEX, c->lane->router_ref);
  lua_getfield(S, -1, c->fname);
  lua_remove(S, -2);
  for (int i = 0; i < c->nargs; i++)
    if (sb_transfer(c->L, c->first + i, S) != 0) return lua_error(S);
  for (int i = 0; i < extra; i++) lua_pushvalue(S, 2 + i);
  lua_call(S, c->nargs + extra, 1);
  return 1;
}

/* Calls router[fname](copies of L's args first..first+nargs-1, then the
 * `extra` values on top of the lane's stack) in the lane; leaves the result
 * on the lane's stack (alone). Returns 0, or -1 with the error message on the
 * lane's stack. The lane's lock is held by the caller. */
static int lane_call(sb_lane *ln, lua_State *L, const char *fname, int first, int nargs, int extra) {
  call_ctx c = { ln, L, fname, first, nargs, extra };
  lua_State *S = ln->S;
  int base = lua_gettop(S) - extra;
  lua_pushcfunction(S, call_protected);
  lua_insert(S, base + 1);
  lua_pushlightuserdata(S, &c);
  lua_insert(S, base + 2);
  int rc = lua_pcall(S, 1 + extra, 1, 0) == LUA_OK ? 0 : -1;
  if (rc != 0 && !lua_isstring(S, -1)) {
    lua_pop(S, 1);
    lua_pushliteral(S, "sandbox: error in the server state");
  }
  return rc;
}

/* Copies the lane's top value onto L (or its error message); returns 0 or -1
 * with an error message pushed onto L. Clears the lane's stack. */
static int finish_call(lua_State *L, lua_State *S, int rc, char *msg, size_t msglen) {
  if (rc != 0) {
    const char *e = lua_tostring(S, -1); /* copied to C: nothing may raise in L under the lock */
    snprintf(msg, msglen, "%s", e ? e : "sandbox: error in the server state");
  } else {
    rc = sb_transfer(S, -1, L); /* protected in L */
    if (rc == -2) snprintf(msg, msglen, "sandbox: no stack space for the result");
  }
  lua_settop(S, 0);
  return rc;
}

/* Calls router[fname](copies of L's args) in lane 0 only and pushes a copy of
 * its result onto L. Returns 0, or -1 with an error message pushed onto L. */
static int call_router(sb_server *s, lua_State *L, const char *fname, int first, int nargs) {
  char msg[1024] = "";
  int rc;
  luaL_checkstack(L, 4, "sandbox call");
  pthread_mutex_lock(&s->lanes[0].mu);
  lua_settop(s->lanes[0].S, 0);
  rc = lane_call(&s->lanes[0], L, fname, first, nargs, 0);
  rc = finish_call(L, s->lanes[0].S, rc, msg, sizeof msg);
  pthread_mutex_unlock(&s->lanes[0].mu);
  if (rc == 0) return 0;
  if (msg[0] == '\0') return -1; /* sb_transfer pushed its own message */
  lua_pushstring(L, msg);
  return -1;
}

/* Calls router[fname] with the same arguments in every lane, every lane
 * locked, so the replicas stay alike (reset, controls). With one lane that is
 * call_router. With more, `merge` (if not NULL) is called in lane 0 with
 * (the args, result of lane 1, ..., result of lane n) and its result is the
 * answer: router.merge combines e.g. per-lane counters; otherwise lane 0's
 * result is. */
static int call_every_lane(sb_server *s, lua_State *L, const char *fname, int first, int nargs,
                           const char *merge) {
  char msg[1024] = "";
  int rc = 0;
  lua_State *S0 = s->lanes[0].S;
  luaL_checkstack(L, 4, "sandbox call");
  sb_lock_all(s);
  for (int i = 0; i < s->nlanes; i++) lua_settop(s->lanes[i].S, 0);
  /* lanes 1..n-1 first: their results go onto lane 0's stack for merge */
  for (int i = 1; i < s->nlanes && rc == 0; i++) {
    lua_State *S = s->lanes[i].S;
    rc = lane_call(&s->lanes[i], L, fname, first, nargs, 0);
    if (rc == 0 && merge) {
      int t = sb_transfer(S, -1, S0);
      if (t == -1) lua_pop(S0, 1); /* a result that cannot be copied is left out of the merge */
    }
    if (rc != 0) {
      const char *e = lua_tostring(S, -1);
      snprintf(msg, sizeof msg, "lane %d: %s", i + 1, e ? e : "error");
    }
    lua_settop(S, 0);
  }
  if (rc == 0) {
    int extra = lua_gettop(S0);
    rc = lane_call(&s->lanes[0], L, fname, first, nargs, 0);
    if (rc == 0 && merge && s->nlanes > 1) {
      /* stack: results 1..n-1, result 0 -> merge(args..., result 0, results 1..n-1) */
      lua_insert(S0, 1);
      rc = lane_call(&s->lanes[0], L, merge, first, nargs, extra + 1);
    }
    rc = finish_call(L, S0, rc, msg, sizeof msg);
  } else {
    lua_settop(S0, 0);
  }
  sb_unlock_all(s);
  if (rc == 0) return 0;
  if (msg[0] == '\0') return -1;
  lua_pushstring(L, msg);
  return -1;
}

/* ---- module functions ----------------------------------------------------- */

static char *dup_field(lua_State *L, int idx, const char *name) {
  char *p = NULL;
  lua_getfield(L, idx, name);
  if (!lua_isnil(L, -1)) {
    size_t n;
    const char *v = luaL_checklstring(L, -1, &n);
    p = (char *)malloc(n + 1);
    /* Failing silently would start a cert-less server as plain HTTP. */
    if (p == NULL) luaL_error(L, "out of memory");
    memcpy(p, v, n + 1);
  }
  lua_pop(L, 1);
  return p;
}

static lua_Integer int_field(lua_State *L, int idx, const char *name, lua_Integer def,
                             lua_Integer lo, lua_Integer hi) {
  lua_Integer v;
  lua_getfield(L, idx, name);
  if (lua_isnil(L, -1)) v = def;
  else if (!lua_isinteger(L, -1) || (v = lua_tointeger(L, -1)) < lo || v > hi)
    return luaL_error(L, "bad field '%s' (integer in %I..%I expected)", name, lo, hi);
  lua_pop(L, 1);
  return v;
}

static const char *package_field(lua_State *L, const char *name) {
  const char *v;
  lua_getglobal(L, "package");
  lua_getfield(L, -1, name);
  v = lua_tostring(L, -1); /* stays alive: package keeps a reference */
  lua_pop(L, 2);
  return v ? v : "";
}

/* Errors in the server state are always caught (lua_pcall); this is for bugs. */
static int state_panic(lua_State *S) {
  const char *msg = lua_tostring(S, -1);
  fprintf(stderr, "dwell.sandbox: unprotected error in the server state: %s\n", msg ? msg : "?");
  return 0; /* then Lua aborts */
}

/* start{ host, port, latency_ms, threads, lanes, max_connections, overflow_connections,
 *        idle_timeout_s, header_timeout_ms, cert, key, router = plain data }
 *   -> server | nil, err */
static int l_start(lua_State *L) {
  char err[768];
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "host");
  const char *host = luaL_optstring(L, -1, "127.0.0.1");
  int port = (int)int_field(L, 1, "port", 0, 0, 65535);
  lua_Integer latency = int_field(L, 1, "latency_ms", 0, 0, 3600000);
  lua_Integer threads = int_field(L, 1, "threads", 4, 1, 256);
  lua_Integer max_conns = int_field(L, 1, "max_connections", 1024, 1, 1000000);
  lua_Integer overflow = int_field(L, 1, "overflow_connections", 4096, 0, 1000000);
  lua_Integer idle_s = int_field(L, 1, "idle_timeout_s", 30, 0, 86400);
  lua_Integer header_ms = int_field(L, 1, "header_timeout_ms", 1000, 0, 3600000);
  lua_Integer nlanes = int_field(L, 1, "lanes", 1, 1, 64);
  lua_getfield(L, 1, "router");
  luaL_argcheck(L, lua_istable(L, -1), 1, "field 'router' must be a table");
  int spec = lua_gettop(L);
  setup_ctx paths = { package_field(L, "path"), package_field(L, "cpath"), 0, (int)nlanes };

  sb_handle *h = (sb_handle *)lua_newuserdatauv(L, sizeof *h, 0);
  h->s = NULL;
  luaL_setmetatable(L, SB_MT);
  sb_server *s = server_new((int)nlanes);
  if (s == NULL) return luaL_error(L, "out of memory");
  h->s = s;
  s->latency_ms = (unsigned)latency;
  s->threads = (unsigned)threads;
  s->max_conns = (unsigned)max_conns;
  s->overflow_conns = (unsigned)overflow;
  s->idle_timeout_s = (unsigned)idle_s;
  s->header_timeout_ms = (unsigned)header_ms;
  s->cert = dup_field(L, 1, "cert");
  s->key = dup_field(L, 1, "key");
  if ((s->cert == NULL) != (s->key == NULL))
    return luaL_error(L, "TLS needs both 'cert' and 'key'");

  /* Every lane sets up the same route sets from the same config and seed. */
  for (int i = 0; i < s->nlanes; i++) {
    lua_State *S = lua_newstate(sb_lua_alloc, NULL);
    if (S == NULL) return luaL_error(L, "out of memory");
    s->lanes[i].S = S;
    lua_atpanic(S, state_panic);
    paths.lane = i;
    lua_pushcfunction(S, setup_protected);
    lua_pushlightuserdata(S, &paths);
    int rc = sb_transfer(L, spec, S);
    if (rc == 0) rc = lua_pcall(S, 2, 1, 0) == LUA_OK ? 0 : -1;
    if (rc != 0) {
      lua_pushnil(L);
      if (rc == -2) lua_pushliteral(L, "sandbox: cannot set up the server state");
      else push_state_error(L, S, "sandbox: cannot set up the server state");
      server_free(s);
      h->s = NULL;
      return 2;
    }
    s->lanes[i].router_ref = luaL_ref(S, LUA_REGISTRYINDEX);
    lua_settop(S, 0);
  }

  if (sb_http_start(s, host, port, err, sizeof err) != 0) {
    server_free(s);
    h->s = NULL;
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  return 1;
}

/* wait_for_signal([timeout_s]) -> "SIGINT" | "SIGTERM" | nil on timeout.
 * The server's threads block every signal, so the caller's thread gets them. */
static int l_wait_for_signal(lua_State *L) {
  sigset_t set, old;
  int sig = -1;
  lua_Number timeout = luaL_optnumber(L, 1, -1);
  struct sigaction dfl, old_int, old_term;
  luaL_argcheck(L, timeout == timeout, 1, "timeout must not be NaN");
  /* Past time_t's range the conversion below is undefined: wait without one. */
  if (timeout > 1e15) timeout = -1;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  /* A shell starts background jobs with SIGINT ignored, and an ignored signal
   * is discarded instead of left pending for sigwait: take them back for the
   * wait, and give the process its own dispositions back afterwards. */
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGINT, &dfl, &old_int);
  sigaction(SIGTERM, &dfl, &old_term);
  if (timeout < 0) {
    if (sigwait(&set, &sig) != 0) sig = -1;
  } else {
    struct timespec ts = dwell_timespec(timeout);
    sig = sigtimedwait(&set, NULL, &ts);
  }
  /* Restored while both are still blocked: one arriving now goes to the
   * process's own disposition when the mask is lifted. */
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (sig == SIGINT) lua_pushliteral(L, "SIGINT");
  else if (sig == SIGTERM) lua_pushliteral(L, "SIGTERM");
  else lua_pushnil(L);
  return 1;
}

static int l_tls_supported(lua_State *L) {
  lua_pushboolean(L, MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES);
  return 1;
}

/* ---- methods ------------------------------------------------------------ */

static int m_port(lua_State *L) {
  lua_pushinteger(L, check_open(L)->port);
  return 1;
}

/* Stops serving; requests()/stats() still work until close/__gc. */
static int m_stop(lua_State *L) {
  sb_handle *h = (sb_handle *)luaL_checkudata(L, 1, SB_MT);
  if (h->s) sb_http_stop(h->s);
  return 0;
}

static int m_close(lua_State *L) {
  sb_handle *h = (sb_handle *)luaL_checkudata(L, 1, SB_MT);
  if (h->s) {
    server_free(h->s);
    h->s = NULL;
  }
  return 0;
}

static int m_stats(lua_State *L) {
  sb_server *s = check_open(L);
  sb_stats st;
  lua_Integer per_lane[64];
  pthread_mutex_lock(&s->mu);
  st = s->st;
  for (int i = 0; i < s->nlanes && i < 64; i++) per_lane[i] = s->lane_reads[i];
  pthread_mutex_unlock(&s->mu);
  lua_createtable(L, 0, 12);
  if (s->nlanes > 1) {
    lua_createtable(L, s->nlanes, 0);
    for (int i = 0; i < s->nlanes && i < 64; i++) {
      lua_pushinteger(L, per_lane[i]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "lane_reads");
  }
  lua_pushinteger(L, st.received);
  lua_setfield(L, -2, "received");
  lua_pushinteger(L, st.served);
  lua_setfield(L, -2, "served");
  lua_pushinteger(L, st.in_flight);
  lua_setfield(L, -2, "in_flight");
  lua_pushinteger(L, st.max_in_flight);
  lua_setfield(L, -2, "max_in_flight");
  lua_pushinteger(L, st.connections);
  lua_setfield(L, -2, "connections");
  lua_pushinteger(L, st.connections_total);
  lua_setfield(L, -2, "connections_total");
  lua_pushinteger(L, st.max_connections);
  lua_setfield(L, -2, "max_connections");
  lua_pushinteger(L, st.rejected);
  lua_setfield(L, -2, "rejected");
  lua_pushinteger(L, st.evicted);
  lua_setfield(L, -2, "evicted");
  lua_pushinteger(L, st.reads);
  lua_setfield(L, -2, "reads");
  lua_pushinteger(L, st.writes);
  lua_setfield(L, -2, "writes");
  return 1;
}

static int result_or_fail(lua_State *L, int rc) {
  if (rc == 0) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

static int m_requests(lua_State *L) {
  sb_server *s = check_open(L);
  return result_or_fail(L, call_router(s, L, "requests", 0, 0));
}

static int m_reset(lua_State *L) {
  sb_server *s = check_open(L);
  int rc = call_every_lane(s, L, "reset", 0, 0, NULL);
  if (rc != 0) return result_or_fail(L, rc);
  pthread_mutex_lock(&s->mu);
  s->st.received = 0;
  s->st.served = 0;
  s->st.max_in_flight = s->st.in_flight;
  s->st.connections_total = s->st.connections;
  s->st.max_connections = s->st.connections;
  s->st.rejected = 0;
  s->st.evicted = 0;
  s->st.reads = 0;
  s->st.writes = 0;
  for (int i = 0; i < s->nlanes; i++) s->lane_reads[i] = 0;
  pthread_mutex_unlock(&s->mu);
  lua_pushboolean(L, 1);
  return 1;
}

/* control(set, action [, args]) -> result | nil, err */
static int m_control(lua_State *L) {
  sb_server *s = check_open(L);
  luaL_checkstring(L, 2);
  luaL_checkstring(L, 3);
  lua_settop(L, 4);
  return result_or_fail(L, call_every_lane(s, L, "control", 2, 3, "merge"));
}

static const luaL_Reg methods[] = {
  { "port", m_port },         { "stop", m_stop },   { "close", m_close },
  { "stats", m_stats },       { "reset", m_reset }, { "requests", m_requests },
  { "control", m_control },   { NULL, NULL },
};

static const luaL_Reg funcs[] = {
  { "start", l_start },
  { "wait_for_signal", l_wait_for_signal },
  { "tls_supported", l_tls_supported },
  { NULL, NULL },
};

int luaopen_dwell_sandbox_server(lua_State *L) {
  if (luaL_newmetatable(L, SB_MT)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, m_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, m_close);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
