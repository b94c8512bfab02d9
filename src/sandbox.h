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
  lua_Integer rejected;          /* requests answered 503 because their connection was over the limit */
  lua_Integer evicted;           /* idle or slow connections closed to make room for a new one */
  lua_Integer reads;             /* lanes > 1: requests served as reads on one lane */
  lua_Integer writes;            /* lanes > 1: requests run on every lane */
} sb_stats;

/* One TCP connection (libmicrohttpd's socket context). */
typedef struct sb_conn {
  struct sb_conn *prev, *next;   /* in the server's waiting list while waiting */
  long long since_ns;            /* waiting for a request since (monotonic) */
  int fd;
  int admitted;                  /* counted in sb_server.admitted */
  int waiting;                   /* no request in progress: in the waiting list */
  int overflow;                  /* over max_conns: its requests get 503 */
} sb_conn;

/* A request parked (suspended) until `due_ns`, or until the server stops. */
typedef struct sb_timer {
  struct sb_timer *next;
  long long due_ns;              /* SB_FOREVER: only the server stopping wakes it */
  struct MHD_Connection *conn;
} sb_timer;

#define SB_FOREVER ((long long)0x7fffffffffffffffLL)

/* Blocks this big are mapped and unmapped directly (sandbox_mem.c). */
#define SB_MAP_MIN ((size_t)256 << 10)

/* One of the server's Lua states, each with the whole router and every route
 * set: only touched with its mu held. Lane 0 is the primary: it keeps the
 * record, the fault counters and answers controls. */
typedef struct sb_lane {
  lua_State *S;
  int router_ref;
  pthread_mutex_t mu;
} sb_lane;

struct sb_req;

typedef struct sb_server {
  struct MHD_Daemon *daemon;
  /* The server's Lua states (lanes[0..nlanes-1]); a writer locks them all, in order. */
  sb_lane *lanes;
  int nlanes;
  lua_Integer seq;               /* requests run on every lane so far (all lanes locked) */
  lua_Integer *lane_reads;       /* reads each lane served (under mu) */
  lua_Integer rr;                /* the lane the next read tries first (under mu) */
  /* Router calls run on executor threads, one per lane, never on libmicrohttpd's
   * workers: a worker parks the connection and queues the request (jobs, under mu). */
  pthread_t *exec;
  int nexec;
  struct sb_req *jobs_head, *jobs_tail;
  pthread_cond_t job_cond;
  /* Set by start, read-only while serving. */
  unsigned latency_ms;
  unsigned threads;              /* libmicrohttpd worker threads */
  unsigned max_conns;            /* connections served normally */
  unsigned overflow_conns;       /* more connections accepted only to be answered 503 */
  unsigned idle_timeout_s;       /* libmicrohttpd closes a connection idle this long */
  unsigned header_timeout_ms;    /* over the limit, a connection waiting this long for a request may be evicted */
  /* mu guards everything below it; cond wakes the timer thread. */
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int stopping;
  sb_stats st;
  lua_Integer admitted;          /* connections counted against max_conns */
  sb_conn *waiting_head, *waiting_tail; /* admitted connections with no request in progress, oldest first */
  sb_timer *timers;              /* parked requests, soonest first */
  pthread_t timer_thread;
  int timer_running;
  char log[512];                 /* last message libmicrohttpd logged */
  char *cert, *key;
  int port;
} sb_server;

/* sandbox.c */
/* Locks every lane, in order (a writer), and unlocks them. */
void sb_lock_all(sb_server *s);
void sb_unlock_all(sb_server *s);

/* sandbox_http.c */
/* Starts libmicrohttpd on host:port (TLS if s->cert is set). Returns 0, or -1
 * with a message in err. */
int sb_http_start(sb_server *s, const char *host, int port, char *err, size_t errlen);
/* Stops the daemon and joins all its threads; idempotent. */
void sb_http_stop(sb_server *s);

/* sandbox_mem.c */
/* Buffers that go back to the system when freed, whatever malloc's state:
 * blocks of SB_MAP_MIN bytes or more are mapped directly. */
void *sb_big_alloc(size_t n);
/* Grows or shrinks to n bytes keeping the first `used`; NULL (and the old
 * block intact) when out of memory. */
void *sb_big_realloc(void *p, size_t used, size_t n);
void sb_big_free(void *p);
/* lua_Alloc for the server state, on the same rule. */
void *sb_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* sandbox_copy.c */
/* Deep-copies the plain-data value at `idx` of `from` onto `to` (nil,
 * booleans, numbers, strings, light userdata such as json null, and tables of
 * those). Runs protected in `to`: returns 0 with the copy pushed, or -1 with an
 * error message pushed (-2, nothing pushed, if `to` has no stack space left).
 * Never raises in `from`. */
int sb_transfer(lua_State *from, int idx, lua_State *to);

#endif
