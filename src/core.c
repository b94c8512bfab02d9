/* luaopen_dwell_core: assembles the C core's pieces into one module table. */
#include <stdarg.h>

#include "dwell.h"

int dwell_fail(lua_State *L, const char *fmt, ...) {
  va_list ap;
  lua_pushnil(L);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return 2;
}

int luaopen_dwell_core(lua_State *L) {
  lua_newtable(L);
  lua_pushliteral(L, DWELL_VERSION);
  lua_setfield(L, -2, "version");
  dwell_crypto_register(L);
  dwell_http_open(L);
  lua_setfield(L, -2, "http");
  dwell_json_open(L);
  lua_setfield(L, -2, "json");
  dwell_fs_open(L);
  lua_setfield(L, -2, "fs");
  dwell_sys_open(L);
  lua_setfield(L, -2, "sys");
  dwell_url_open(L);
  lua_setfield(L, -2, "url");
  return 1;
}
