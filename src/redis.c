/* luaopen_dwell_store_redis_client: a Redis connection over hiredis, bounded in time.
 *
 * Its own module (build/dwell/store/redis_client.so) so that dwell.core never
 * depends on libhiredis, the way the sandbox server keeps libmicrohttpd apart.
 * hiredis formats commands and parses replies (no RESP code here); this file
 * only drives a non-blocking context with poll() so that a connect and every
 * command end by their deadline whatever the server does:
 *
 *   local rc = require "dwell.store.redis_client"
 *   local conn, err = rc.connect(host, port, timeout_ms)
 *   local reply, err = conn:call(timeout_ms, "SET", key, value, "PX", 1000)
 *   conn:close()   -- also __gc / __close
 *
 * Replies: bulk and status strings -> string, integer -> integer, nil -> false,
 * array -> table (1-based, nested). An error reply is `nil, { kind = "reply",
 * message = "ERR ..." }`; the connection stays usable. Any other failure
 * (`kind` = "connect", "timeout", "io", "eof", "protocol") closes the
 * connection: a reply may still be on its way, so the stream cannot be trusted
 * again, and later calls answer `nil, { kind = "closed" }`. Misused arguments
 * raise (luaL_argerror). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <lauxlib.h>
#include <lua.h>

#include "clock.h"

#define RC_MT "dwell.store.redis_client"
#define RC_MAX_ARGS 64
#define RC_MAX_DEPTH 16

typedef struct rc_conn {
  redisContext *c;
  redisReply *reply;            /* held while it is converted (freed at gc if that raised) */
  const char *argv[RC_MAX_ARGS];
  size_t argvlen[RC_MAX_ARGS];
} rc_conn;

/* Pushes nil, { kind = kind, message = msg } and returns 2. */
static int rc_fail(lua_State *L, const char *kind, const char *msg) {
  lua_pushnil(L);
  lua_createtable(L, 0, 2);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, msg);
  lua_setfield(L, -2, "message");
  return 2;
}

static void rc_drop(rc_conn *k) {
  if (k->reply) { freeReplyObject(k->reply); k->reply = NULL; }
  if (k->c) { redisFree(k->c); k->c = NULL; }
}

/* Milliseconds left until `deadline` (monotonic seconds), at least 0. */
static int ms_left(lua_Number deadline) {
  lua_Number left = (deadline - dwell_clock_seconds(CLOCK_MONOTONIC)) * 1000.0;
  if (left <= 0) return 0;
  if (left > 86400000.0) return 86400000;
  return (int)left + 1;
}

/* Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 poll failed. */
static int wait_fd(int fd, short events, lua_Number deadline) {
  for (;;) {
    struct pollfd p;
    int left = ms_left(deadline), r;
    if (left == 0) return 0;
    p.fd = fd;
    p.events = events;
    p.revents = 0;
    r = poll(&p, 1, left);
    if (r > 0) return 1;
    if (r == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

static lua_Number deadline_from(lua_State *L, int idx) {
  lua_Integer ms = luaL_checkinteger(L, idx);
  luaL_argcheck(L, ms > 0 && ms <= 86400000, idx, "timeout_ms must be in 1..86400000");
  return dwell_clock_seconds(CLOCK_MONOTONIC) + (lua_Number)ms / 1000.0;
}

/* connect(host, port, timeout_ms) -> conn | nil, err */
static int l_connect(lua_State *L) {
  const char *host = luaL_checkstring(L, 1);
  lua_Integer port = luaL_checkinteger(L, 2);
  lua_Number deadline;
  rc_conn *k;
  int r, soerr = 0;
  socklen_t len = sizeof soerr;
  luaL_argcheck(L, port > 0 && port < 65536, 2, "port must be in 1..65535");
  deadline = deadline_from(L, 3);
  k = (rc_conn *)lua_newuserdatauv(L, sizeof *k, 0);
  memset(k, 0, sizeof *k);
  luaL_setmetatable(L, RC_MT);
  /* Non-blocking from the start: connect() returns at once and we wait with poll. */
  k->c = redisConnectNonBlock(host, (int)port);
  if (k->c == NULL) return rc_fail(L, "connect", "out of memory");
  if (k->c->err) {
    lua_pushstring(L, k->c->errstr);
    rc_drop(k);
    return rc_fail(L, "connect", lua_tostring(L, -1));
  }
  r = wait_fd(k->c->fd, POLLOUT, deadline);
  if (r <= 0) {
    rc_drop(k);
    return rc_fail(L, r == 0 ? "timeout" : "connect", r == 0 ? "connect timed out" : strerror(errno));
  }
  if (getsockopt(k->c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) soerr = errno;
  if (soerr != 0) {
    rc_drop(k);
    return rc_fail(L, "connect", strerror(soerr));
  }
  return 1;
}

static rc_conn *check_conn(lua_State *L) {
  return (rc_conn *)luaL_checkudata(L, 1, RC_MT);
}

static void push_reply(lua_State *L, const redisReply *r, int depth) {
  size_t i;
  switch (r->type) {
  case REDIS_REPLY_STRING:
  case REDIS_REPLY_STATUS:
    lua_pushlstring(L, r->str, r->len);
    break;
  case REDIS_REPLY_INTEGER:
    lua_pushinteger(L, (lua_Integer)r->integer);
    break;
  case REDIS_REPLY_ARRAY:
    if (depth >= RC_MAX_DEPTH || r->elements > 1000000) {
      lua_pushboolean(L, 0);
      break;
    }
    luaL_checkstack(L, 4, "redis reply");
    lua_createtable(L, (int)r->elements, 0);
    for (i = 0; i < r->elements; i++) {
      push_reply(L, r->element[i], depth + 1);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    break;
  default: /* REDIS_REPLY_NIL (errors are handled by the caller, nested ones become false too) */
    lua_pushboolean(L, 0);
    break;
  }
}

/* A failure that ends the connection. */
static int io_fail(lua_State *L, rc_conn *k, const char *kind, const char *msg) {
  lua_pushstring(L, msg);
  rc_drop(k);
  return rc_fail(L, kind, lua_tostring(L, -1));
}

static int io_error(lua_State *L, rc_conn *k) {
  const redisContext *c = k->c;
  const char *kind = c->err == REDIS_ERR_EOF ? "eof" : c->err == REDIS_ERR_PROTOCOL ? "protocol" : "io";
  return io_fail(L, k, kind, c->errstr[0] ? c->errstr : "connection failed");
}

/* conn:call(timeout_ms, arg, ...) -> reply | nil, err */
static int m_call(lua_State *L) {
  rc_conn *k = check_conn(L);
  int argc = lua_gettop(L) - 2, i, done = 0, r;
  lua_Number deadline = deadline_from(L, 2);
  void *reply = NULL;
  luaL_argcheck(L, argc >= 1, 3, "a command is required");
  luaL_argcheck(L, argc <= RC_MAX_ARGS, 3 + RC_MAX_ARGS, "too many arguments");
  for (i = 0; i < argc; i++) {
    int t = lua_type(L, i + 3);
    if (t != LUA_TSTRING && t != LUA_TNUMBER) luaL_argerror(L, i + 3, "string or number expected");
  }
  if (k->c == NULL) return rc_fail(L, "closed", "connection closed");
  for (i = 0; i < argc; i++) k->argv[i] = lua_tolstring(L, i + 3, &k->argvlen[i]);
  if (redisAppendCommandArgv(k->c, argc, k->argv, k->argvlen) != REDIS_OK) return io_error(L, k);
  while (!done) {
    if (redisBufferWrite(k->c, &done) != REDIS_OK) return io_error(L, k);
    if (!done) {
      r = wait_fd(k->c->fd, POLLOUT, deadline);
      if (r <= 0) return io_fail(L, k, r == 0 ? "timeout" : "io", r == 0 ? "command timed out" : strerror(errno));
    }
  }
  for (;;) {
    if (redisGetReplyFromReader(k->c, &reply) != REDIS_OK) return io_error(L, k);
    if (reply != NULL) break;
    r = wait_fd(k->c->fd, POLLIN, deadline);
    if (r <= 0) return io_fail(L, k, r == 0 ? "timeout" : "io", r == 0 ? "command timed out" : strerror(errno));
    if (redisBufferRead(k->c) != REDIS_OK) return io_error(L, k);
  }
  k->reply = (redisReply *)reply;
  if (k->reply->type == REDIS_REPLY_ERROR) {
    lua_pushlstring(L, k->reply->str, k->reply->len);
    freeReplyObject(k->reply);
    k->reply = NULL;
    return rc_fail(L, "reply", lua_tostring(L, -1));
  }
  push_reply(L, k->reply, 0);
  freeReplyObject(k->reply);
  k->reply = NULL;
  return 1;
}

static int m_close(lua_State *L) {
  rc_drop(check_conn(L));
  return 0;
}

static int m_closed(lua_State *L) {
  lua_pushboolean(L, check_conn(L)->c == NULL);
  return 1;
}

static int m_tostring(lua_State *L) {
  rc_conn *k = check_conn(L);
  lua_pushstring(L, k->c ? "dwell.store.redis_client (open)" : "dwell.store.redis_client (closed)");
  return 1;
}

static const luaL_Reg methods[] = {
  { "call", m_call }, { "close", m_close }, { "closed", m_closed }, { NULL, NULL },
};

static const luaL_Reg funcs[] = {
  { "connect", l_connect }, { NULL, NULL },
};

int luaopen_dwell_store_redis_client(lua_State *L) {
  if (luaL_newmetatable(L, RC_MT)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, m_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, m_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, m_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  lua_pushfstring(L, "%d.%d.%d", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
  lua_setfield(L, -2, "hiredis_version");
  return 1;
}
