/* dwell.sandbox.server: shared declarations of the sandbox server's C files.
 * Only src/sandbox*.c include this; they build dwell/sandbox/server.so, the
 * one module that links libmicrohttpd. */
#ifndef DWELL_SANDBOX_H
#define DWELL_SANDBOX_H

#include <pthread.h>
#include <stddef.h>

#include <lua.h>
#include <microhttpd.h>

typedef struct sb_stats {
  lua_Integer received;          /* requests whose body was fully read */
  lua_Integer served;            /* requests fully processed (response queued or fault applied) */
  lua_Integer in_flight;         /* between those two points now */
  lua_Integer max_in_flight;
  lua_Integer connections;       /* TCP connections open now */
  lua_Integer connections_total; /* TCP connections accepted */
  lua_Integer max_connections;   /* most TCP connections open at once */
} sb_stats;

typedef struct sb_server {
  struct MHD_Daemon *daemon;
  /* The server's own Lua state: only touched with lua_mu held. */
  lua_State *S;
  int router_ref;
  pthread_mutex_t lua_mu;
  /* mu guards everything below it; cond wakes sleepers when stopping. */
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int stopping;
  unsigned latency_ms;
  sb_stats st;
  char log[512];                 /* last message libmicrohttpd logged */
  char *cert, *key;
  int port;
} sb_server;

/* sandbox_http.c */
/* Starts libmicrohttpd on host:port (TLS if s->cert is set). Returns 0, or -1
 * with a message in err. */
int sb_http_start(sb_server *s, const char *host, int port, char *err, size_t errlen);
/* Stops the daemon and joins all its threads; idempotent. */
void sb_http_stop(sb_server *s);
/* Sleeps up to ms (forever if ms < 0) or until the server stops; returns 1
 * if it woke because the server is stopping. */
int sb_sleep(sb_server *s, long long ms);

/* sandbox_copy.c */
/* Deep-copies the plain-data value at `idx` of `from` onto `to` (nil,
 * booleans, numbers, strings, light userdata such as json null, and tables of
 * those). Runs protected in `to`: returns 0 with the copy pushed, or -1 with an
 * error message pushed (-2, nothing pushed, if `to` has no stack space left).
 * Never raises in `from`. */
int sb_transfer(lua_State *from, int idx, lua_State *to);

#endif
