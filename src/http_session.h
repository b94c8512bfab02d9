/* What src/http.c (sessions, transfers, responses) shares with
 * src/http_socket.c (the multi-socket interface over the same sessions).
 * Transfers stay private to http.c; a socket session is a session plus the
 * socket and timer wishes libcurl's callbacks collected. */
#ifndef DWELL_HTTP_SESSION_H
#define DWELL_HTTP_SESSION_H

#include <curl/curl.h>

#include "dwell.h"

struct dwell_xfer;

typedef struct dwell_session {
  CURLSH *share;
  CURLM *multi;
  struct dwell_xfer *free_list; /* singly linked through next */
  struct dwell_xfer *active;    /* doubly linked: in the multi handle */
  int nactive;
  lua_Integer next_id;
  int closed;
} dwell_session;

/* Creates the share and multi handles (the share carries DNS and TLS
 * sessions, and connections when share_connections is set). Raises when
 * libcurl cannot create them; returns 0, or pushes nil, err and returns 2
 * when curl_global_init failed. */
int dwell_session_init(lua_State *L, dwell_session *s, int share_connections);

/* Frees every transfer and both handles; the session is closed afterwards.
 * Safe to call once; libcurl callbacks may run during it (REMOVE events). */
void dwell_session_release(dwell_session *s);

/* Submits the request table at index arg: pushes the id (1 value) or nil, err
 * (2 values) and returns how many it pushed; raises on misuse. */
int dwell_session_submit(lua_State *L, dwell_session *s, int arg);

/* Abandons a transfer in flight; 1 if id was one. */
int dwell_session_cancel(dwell_session *s, lua_Integer id);

/* Moves finished transfers to the free list and appends { id=, resp= } or
 * { id=, err= } to the table at index out after position n; returns how many. */
int dwell_session_collect(lua_State *L, dwell_session *s, int out, lua_Integer n);

/* http_socket.c: adds new_socket_session to the table on top of the stack
 * (dwell.core.http) and registers the socket session metatable. */
void dwell_http_socket_register(lua_State *L);

#endif
