/* sys.c: the few system facts the command line and the profile file need that
 * plain Lua cannot see: a file's permission bits and owner, and whether a
 * descriptor is a terminal. core.sys = { stat = fn, isatty = fn, getuid = fn }. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dwell.h"

/* stat(path) -> { mode = permission bits (0..07777), uid = owner, size = bytes,
 * kind = "file"|"directory"|"other" } | nil, message */
static int l_stat(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) return dwell_fail(L, "%s: %s", path, strerror(errno));
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
  lua_setfield(L, -2, "mode");
  lua_pushinteger(L, (lua_Integer)st.st_uid);
  lua_setfield(L, -2, "uid");
  lua_pushinteger(L, (lua_Integer)st.st_size);
  lua_setfield(L, -2, "size");
  lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "directory" : "other");
  lua_setfield(L, -2, "kind");
  return 1;
}

/* isatty(fd) -> boolean */
static int l_isatty(lua_State *L) {
  lua_Integer fd = luaL_checkinteger(L, 1);
  lua_pushboolean(L, fd >= 0 && fd <= 1024 && isatty((int)fd) == 1);
  return 1;
}

/* getuid() -> the real user id */
static int l_getuid(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getuid());
  return 1;
}

int dwell_sys_open(lua_State *L) {
  static const luaL_Reg fns[] = {
    { "stat", l_stat }, { "isatty", l_isatty }, { "getuid", l_getuid }, { NULL, NULL },
  };
  luaL_newlib(L, fns);
  return 1;
}
