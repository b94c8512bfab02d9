/* Clock readings and waits in seconds as Lua numbers. Header-only: dwell.core
 * (http.c) and the sandbox server (sandbox.c) are separate modules. */
#ifndef DWELL_CLOCK_H
#define DWELL_CLOCK_H

#include <time.h>

#include <lua.h>

/* CLOCK_MONOTONIC for intervals, CLOCK_REALTIME for timestamps. */
static inline lua_Number dwell_clock_seconds(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9;
}

/* sec must be >= 0 and within time_t's range (callers cap it). */
static inline struct timespec dwell_timespec(lua_Number sec) {
  struct timespec ts;
  ts.tv_sec = (time_t)sec;
  ts.tv_nsec = (long)((sec - (lua_Number)ts.tv_sec) * 1e9);
  return ts;
}

#endif
