/* dwell.core.http socket sessions: libcurl's multi-socket interface, for
 * host event loops (libuv through luv, cqueues, ...) that watch curl's
 * sockets themselves instead of letting session:poll block.
 *
 *   local s = http.new_socket_session()
 *   local id = s:submit(req)                -- as session:submit
 *   local changes, timeout_ms = s:events()  -- what curl wants watched now
 *   local done, in_flight = s:action(fd, "in")  -- a socket is ready
 *   local done, in_flight = s:action()          -- the timer fired
 *
 * CURLMOPT_SOCKETFUNCTION and CURLMOPT_TIMERFUNCTION only record what curl
 * asks for, in C arrays; no Lua runs inside them. events() hands the record
 * to Lua afterwards, in the order curl asked.
 *
 * The loop never sees curl's own descriptors. curl closes a socket as soon as
 * it is done with it (a refused connect, a connection cut short), before the
 * loop can hear of it, and a loop still watching a closed descriptor fails
 * (cqueues: "unable to update event disposition"; libuv: errors, or events
 * of whatever socket gets the number next). libcurl 7.88 closes sockets that
 * are still connecting without CURLOPT_CLOSESOCKETFUNCTION, so a close cannot
 * be deferred either. Instead each socket curl asks to have watched gets a
 * duplicate descriptor of the loop's own (fcntl F_DUPFD_CLOEXEC), which is
 * what events() reports and action() takes. The session closes it only after
 * its removal was handed out by events() and the loop calls the session again
 * (any method), by which time the loop has stopped watching it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_session.h"

#define SOCKET_MT "dwell.http.socket_session"

typedef struct {
  int fd;   /* the loop's descriptor */
  int what; /* CURL_POLL_IN, _OUT, _INOUT or _REMOVE */
} sock_event;

/* A socket curl wants watched: curl's descriptor and the loop's duplicate. */
typedef struct watch {
  curl_socket_t curl_fd;
  int loop_fd;
  struct watch *prev, *next;
} watch_t;

typedef struct {
  int *fd;
  size_t n, cap;
} fd_list;

typedef struct {
  dwell_session s; /* first: the transfers, as in any session */
  sock_event *ev;  /* changes since the last events() */
  size_t nev, cap;
  watch_t *watches; /* what curl wants watched now */
  int nwatched;
  fd_list closing;  /* duplicates whose removal was recorded since the last events() */
  fd_list closable; /* their removal was handed out: closed at the next call */
  long timer_ms;     /* the last timeout curl asked for (-1: none) */
  int timer_changed; /* since the last events() */
  int failed;        /* a change could not be recorded: 0, or an errno */
} socket_session;

static int fd_push(fd_list *l, int fd) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    int *p = realloc(l->fd, cap * sizeof *p);
    if (!p) return -1;
    l->fd = p;
    l->cap = cap;
  }
  l->fd[l->n++] = fd;
  return 0;
}

static void fd_close_all(fd_list *l) {
  size_t i;
  for (i = 0; i < l->n; i++) close(l->fd[i]);
  l->n = 0;
}

static int record(socket_session *ss, int fd, int what) {
  size_t i;
  /* A later wish for the same descriptor replaces an earlier one. A removal
   * ends it: the descriptor is not used again while the loop may watch it. */
  for (i = ss->nev; i-- > 0;) {
    if (ss->ev[i].fd == fd) {
      ss->ev[i].what = what;
      return 0;
    }
  }
  if (ss->nev == ss->cap) {
    size_t cap = ss->cap ? ss->cap * 2 : 16;
    sock_event *p = realloc(ss->ev, cap * sizeof *p);
    if (!p) return -1;
    ss->ev = p;
    ss->cap = cap;
  }
  ss->ev[ss->nev].fd = fd;
  ss->ev[ss->nev].what = what;
  ss->nev++;
  return 0;
}

static void watch_unlink(socket_session *ss, watch_t *w) {
  if (w->prev) w->prev->next = w->next;
  else ss->watches = w->next;
  if (w->next) w->next->prev = w->prev;
  ss->nwatched--;
}

/* ---- libcurl callbacks: record, nothing else -------------------------- */

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  socket_session *ss = userp;
  watch_t *w = socketp;
  (void)easy;
  if (what == CURL_POLL_REMOVE) {
    if (!w) return 0;
    watch_unlink(ss, w);
    if (record(ss, w->loop_fd, CURL_POLL_REMOVE) || fd_push(&ss->closing, w->loop_fd)) {
      /* cannot tell the loop: it may go on watching a closed descriptor */
      if (!ss->failed) ss->failed = ENOMEM;
      close(w->loop_fd);
    }
    free(w);
    return 0;
  }
  if (!w) {
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {
      if (!ss->failed) ss->failed = errno;
      return -1;
    }
    w = calloc(1, sizeof *w);
    if (!w) {
      close(dup);
      if (!ss->failed) ss->failed = ENOMEM;
      return -1;
    }
    w->curl_fd = fd;
    w->loop_fd = dup;
    w->next = ss->watches;
    if (ss->watches) ss->watches->prev = w;
    ss->watches = w;
    ss->nwatched++;
    curl_multi_assign(ss->s.multi, fd, w);
  }
  if (record(ss, w->loop_fd, what)) {
    if (!ss->failed) ss->failed = ENOMEM;
    return -1;
  }
  return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
  socket_session *ss = userp;
  (void)multi;
  ss->timer_ms = timeout_ms < 0 ? -1 : timeout_ms;
  ss->timer_changed = 1;
  return 0;
}

/* ---- the handle ------------------------------------------------------- */

static void socket_release(socket_session *ss) {
  watch_t *w, *next;
  /* curl reports its sockets removed here (recorded, their duplicates queued) */
  if (!ss->s.closed) dwell_session_release(&ss->s);
  for (w = ss->watches; w; w = next) {
    next = w->next;
    close(w->loop_fd);
    free(w);
  }
  ss->watches = NULL;
  ss->nwatched = 0;
  fd_close_all(&ss->closable);
  fd_close_all(&ss->closing);
  free(ss->closable.fd);
  free(ss->closing.fd);
  memset(&ss->closable, 0, sizeof ss->closable);
  memset(&ss->closing, 0, sizeof ss->closing);
  free(ss->ev);
  ss->ev = NULL;
  ss->nev = ss->cap = 0;
}

static int ss_gc(lua_State *L) {
  socket_release(luaL_checkudata(L, 1, SOCKET_MT));
  return 0;
}

/* Every method starts here: the duplicates whose removal the loop has seen
 * are closed now. */
static socket_session *check_socket(lua_State *L) {
  socket_session *ss = luaL_checkudata(L, 1, SOCKET_MT);
  if (ss->s.closed) luaL_argerror(L, 1, "socket session is closed");
  fd_close_all(&ss->closable);
  return ss;
}

static int failure(lua_State *L, socket_session *ss) {
  return dwell_fail(L, "dwell.core.http: cannot record curl's socket events (%s); close the session",
                    strerror(ss->failed));
}

/* http.new_socket_session() -> session | nil, err */
static int new_socket_session(lua_State *L) {
  socket_session *ss = lua_newuserdatauv(L, sizeof *ss, 0);
  memset(ss, 0, sizeof *ss);
  ss->timer_ms = -1;
  luaL_setmetatable(L, SOCKET_MT);
  /* Connections stay in the multi handle's own cache, whose sockets the
   * socket callback reports; a share's cache would hide them from it. */
  if (dwell_session_init(L, &ss->s, 0)) return 2;
  curl_multi_setopt(ss->s.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(ss->s.multi, CURLMOPT_SOCKETDATA, ss);
  curl_multi_setopt(ss->s.multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(ss->s.multi, CURLMOPT_TIMERDATA, ss);
  return 1;
}

/* s:submit(req) -> id | nil, err */
static int ss_submit(lua_State *L) {
  return dwell_session_submit(L, &check_socket(L)->s, 2);
}

/* s:cancel(id) -> boolean */
static int ss_cancel(lua_State *L) {
  socket_session *ss = check_socket(L);
  lua_Integer id = luaL_checkinteger(L, 2);
  lua_pushboolean(L, dwell_session_cancel(&ss->s, id));
  return 1;
}

static int ss_pending(lua_State *L) {
  lua_pushinteger(L, check_socket(L)->s.nactive);
  return 1;
}

static const char *what_name(int what) {
  switch (what) {
  case CURL_POLL_IN: return "in";
  case CURL_POLL_OUT: return "out";
  case CURL_POLL_INOUT: return "inout";
  default: return "remove";
  }
}

/* s:events() -> { { fd =, what = "in"|"out"|"inout"|"remove" }, ... }, timeout_ms
 * The socket changes since the last call, in order, and the timer curl
 * wants: nil when unchanged, -1 for none, else milliseconds from now (0: act
 * at once). fd is the loop's own descriptor for the socket. Call it after
 * submit, cancel and action. nil, err when a change could not be recorded
 * (out of memory or descriptors): the session can no longer be driven
 * reliably. */
static int ss_events(lua_State *L) {
  socket_session *ss = check_socket(L);
  size_t i;
  if (ss->failed) return failure(L, ss);
  lua_createtable(L, (int)ss->nev, 0);
  for (i = 0; i < ss->nev; i++) {
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)ss->ev[i].fd);
    lua_setfield(L, -2, "fd");
    lua_pushstring(L, what_name(ss->ev[i].what));
    lua_setfield(L, -2, "what");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  /* only once the table is built: a Lua error above loses nothing */
  ss->nev = 0;
  {
    /* the removals are out: their duplicates are closed at the next call */
    fd_list t = ss->closable;
    ss->closable = ss->closing;
    ss->closing = t;
  }
  if (ss->timer_changed) {
    lua_pushinteger(L, (lua_Integer)ss->timer_ms);
    ss->timer_changed = 0;
  } else {
    lua_pushnil(L);
  }
  return 2;
}

/* s:action([fd [, what]]) -> { {id=, resp=} | {id=, err=}, ... }, in_flight
 * Tells curl that the socket of the loop's descriptor fd is ready (what:
 * "in", "out", "inout", "err", or nil to let curl look), or without fd that
 * its timer fired; returns the transfers that finished, as session:poll
 * does. A descriptor the session no longer watches is ignored. */
static int ss_action(lua_State *L) {
  static const char *const names[] = {"in", "out", "inout", "err", NULL};
  static const int masks[] = {CURL_CSELECT_IN, CURL_CSELECT_OUT, CURL_CSELECT_IN | CURL_CSELECT_OUT,
                              CURL_CSELECT_ERR};
  socket_session *ss = check_socket(L);
  curl_socket_t fd = CURL_SOCKET_TIMEOUT;
  int mask = 0, running = 0, out, known = 1;
  if (!lua_isnoneornil(L, 2)) {
    int isnum;
    lua_Integer v = lua_tointegerx(L, 2, &isnum);
    watch_t *w;
    if (!isnum || v < 0 || v > 0x7fffffff) luaL_argerror(L, 2, "fd must be a non-negative integer or nil");
    if (!lua_isnoneornil(L, 3)) mask = masks[luaL_checkoption(L, 3, NULL, names)];
    for (w = ss->watches; w && w->loop_fd != (int)v; w = w->next) {
    }
    if (w) fd = w->curl_fd;
    else known = 0;
  } else if (!lua_isnoneornil(L, 3)) {
    luaL_argerror(L, 3, "an event needs an fd");
  }
  lua_newtable(L);
  out = lua_gettop(L);
  if (known) {
    CURLMcode mc = curl_multi_socket_action(ss->s.multi, fd, mask, &running);
    if (ss->failed) return failure(L, ss);
    if (mc != CURLM_OK && mc != CURLM_BAD_SOCKET) return dwell_fail(L, "dwell.core.http: %s", curl_multi_strerror(mc));
  }
  dwell_session_collect(L, &ss->s, out, 0);
  lua_pushinteger(L, ss->s.nactive);
  return 2;
}

static int ss_close(lua_State *L) {
  socket_release(luaL_checkudata(L, 1, SOCKET_MT));
  return 0;
}

static int ss_tostring(lua_State *L) {
  socket_session *ss = luaL_checkudata(L, 1, SOCKET_MT);
  lua_pushfstring(L, "dwell.http.socket_session (%s, %d in flight, %d sockets watched)",
                  ss->s.closed ? "closed" : "open", ss->s.nactive, ss->nwatched);
  return 1;
}

void dwell_http_socket_register(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"submit", ss_submit}, {"cancel", ss_cancel}, {"pending", ss_pending}, {"events", ss_events},
    {"action", ss_action}, {"close", ss_close}, {NULL, NULL}};
  if (luaL_newmetatable(L, SOCKET_MT)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ss_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, ss_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, ss_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, new_socket_session);
  lua_setfield(L, -2, "new_socket_session");
}
