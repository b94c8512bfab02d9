/* dwell.core: the pieces of the C core and how core.c assembles them. */
#ifndef DWELL_H
#define DWELL_H

#include <lua.h>
#include <lauxlib.h>

#define DWELL_VERSION "0.1.0"

/* crypto.c: adds the hashing, HMAC, base64, random and RS256 functions to
 * the table on top of the stack. */
void dwell_crypto_register(lua_State *L);

/* http.c: pushes the dwell.core.http table (sessions over libcurl). */
int dwell_http_open(lua_State *L);

/* json*.c: pushes the dwell.core.json table (decode, encode, null, array_mt). */
int dwell_json_open(lua_State *L);

/* fs.c: pushes the dwell.core.fs table (mkdir, write_atomic, lock, unlink, mode). */
int dwell_fs_open(lua_State *L);
/* sys.c: pushes the dwell.core.sys table (stat, isatty, getuid) for the CLI and profiles. */
int dwell_sys_open(lua_State *L);

/* url.c: pushes the dwell.core.url table (percent-encoding, query strings). */
int dwell_url_open(lua_State *L);

/* Pushes `nil, message` and returns 2: the runtime-failure convention. */
int dwell_fail(lua_State *L, const char *fmt, ...);

#endif
