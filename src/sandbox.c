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

static sb_server *server_new(void) {
  sb_server *s = (sb_server *)calloc(1, sizeof *s);
  pthread_condattr_t ca;
  if (s == NULL) return NULL;
  s->router_ref = LUA_NOREF;
  pthread_mutex_init(&s->lua_mu, NULL);
  pthread_mutex_init(&s->mu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the timer thread waits on the monotonic clock */
  pthread_cond_init(&s->cond, &ca);
  pthread_condattr_destroy(&ca);
  return s;
}

static void server_free(sb_server *s) {
  sb_http_stop(s);
  if (s->S) lua_close(s->S);
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->mu);
  pthread_mutex_destroy(&s->lua_mu);
  free(s->cert);
  free(s->key);
  free(s);
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
  sb_server *s;
  lua_State *L;
  const char *fname;
  int first, nargs;
} call_ctx;

static int call_protected(lua_State *S) {
  call_ctx *c = (call_ctx *)lua_touserdata(S, 1);
  lua_settop(S, 0);
  luaL_checkstack(S, c->nargs + 4, "router call");
  lua_rawgeti(S, LUA_REGISTRYINDEX, c->s->router_ref);
  lua_getfield(S, 1, c->fname);
  lua_remove(S, 1);
  for (int i = 0; i < c->nargs; i++)
    if (sb_transfer(c->L, c->first + i, S) != 0) return lua_error(S);
  lua_call(S, c->nargs, 1);
  return 1;
}

/* Calls router[fname](copies of L's args first..first+nargs-1) in the server
 * state and pushes a copy of its result onto L. Returns 0, or -1 with an
 * error message pushed onto L. */
static int call_router(sb_server *s, lua_State *L, const char *fname, int first, int nargs) {
  call_ctx c = { s, L, fname, first, nargs };
  char msg[1024] = "";
  int rc;
  luaL_checkstack(L, 4, "sandbox call");
  pthread_mutex_lock(&s->lua_mu);
  lua_State *S = s->S;
  lua_settop(S, 0);
  lua_pushcfunction(S, call_protected);
  lua_pushlightuserdata(S, &c);
  if (lua_pcall(S, 1, 1, 0) != LUA_OK) {
    /* Copied to C first: nothing may raise in L while the lock is held. */
    const char *e = lua_tostring(S, -1);
    snprintf(msg, sizeof msg, "%s", e ? e : "sandbox: error in the server state");
    rc = -1;
  } else {
    rc = sb_transfer(S, -1, L); /* protected in L */
    if (rc == -2) snprintf(msg, sizeof msg, "sandbox: no stack space for the result");
  }
  lua_settop(S, 0);
  pthread_mutex_unlock(&s->lua_mu);
  if (rc == 0) return 0;
  if (msg[0] == '\0') return -1; /* sb_transfer pushed its own message */
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

/* start{ host, port, latency_ms, threads, max_connections, overflow_connections,
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
  lua_Integer header_ms = int_field(L, 1, "header_timeout_ms", 10000, 0, 3600000);
  lua_getfield(L, 1, "router");
  luaL_argcheck(L, lua_istable(L, -1), 1, "field 'router' must be a table");
  int spec = lua_gettop(L);
  setup_ctx paths = { package_field(L, "path"), package_field(L, "cpath") };

  sb_handle *h = (sb_handle *)lua_newuserdatauv(L, sizeof *h, 0);
  h->s = NULL;
  luaL_setmetatable(L, SB_MT);
  sb_server *s = server_new();
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

  s->S = lua_newstate(sb_lua_alloc, NULL);
  if (s->S == NULL) return luaL_error(L, "out of memory");
  lua_atpanic(s->S, state_panic);
  lua_State *S = s->S;
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
  s->router_ref = luaL_ref(S, LUA_REGISTRYINDEX);
  lua_settop(S, 0);

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
  pthread_mutex_lock(&s->mu);
  st = s->st;
  pthread_mutex_unlock(&s->mu);
  lua_createtable(L, 0, 9);
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
  int rc = call_router(s, L, "reset", 0, 0);
  if (rc != 0) return result_or_fail(L, rc);
  pthread_mutex_lock(&s->mu);
  s->st.received = 0;
  s->st.served = 0;
  s->st.max_in_flight = s->st.in_flight;
  s->st.connections_total = s->st.connections;
  s->st.max_connections = s->st.connections;
  s->st.rejected = 0;
  s->st.evicted = 0;
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
  return result_or_fail(L, call_router(s, L, "control", 2, 3));
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
