/* Copies plain data between two independent lua_States (the caller's and the
 * server's): route-set config and control arguments go in, recorded requests
 * and control results come out. */
#include <lauxlib.h>

#include "sandbox.h"

#define SB_COPY_MAX_DEPTH 64

typedef struct copy_job {
  lua_State *from;
  int idx;
} copy_job;

static void copy_value(lua_State *from, int idx, lua_State *to, int depth);

static void copy_table(lua_State *from, int idx, lua_State *to, int depth) {
  if (depth > SB_COPY_MAX_DEPTH)
    luaL_error(to, "table nested too deeply (or cyclic) to copy into the sandbox");
  /* lua_checkstack never raises, so `from` stays untouched on failure. */
  if (!lua_checkstack(from, 3)) luaL_error(to, "stack overflow while copying");
  luaL_checkstack(to, 4, "copying a table");
  lua_newtable(to);
  lua_pushnil(from);
  while (lua_next(from, idx) != 0) {
    int top = lua_gettop(from);
    copy_value(from, top - 1, to, depth + 1);
    copy_value(from, top, to, depth + 1);
    lua_rawset(to, -3);
    lua_pop(from, 1);
  }
}

static void copy_value(lua_State *from, int idx, lua_State *to, int depth) {
  switch (lua_type(from, idx)) {
  case LUA_TNIL: lua_pushnil(to); break;
  case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); break;
  case LUA_TNUMBER:
    if (lua_isinteger(from, idx)) lua_pushinteger(to, lua_tointeger(from, idx));
    else lua_pushnumber(to, lua_tonumber(from, idx));
    break;
  case LUA_TSTRING: {
    size_t n;
    const char *p = lua_tolstring(from, idx, &n); /* a string: no conversion, no raise */
    lua_pushlstring(to, p, n);
    break;
  }
  case LUA_TLIGHTUSERDATA: lua_pushlightuserdata(to, lua_touserdata(from, idx)); break;
  case LUA_TTABLE: copy_table(from, lua_absindex(from, idx), to, depth); break;
  default:
    luaL_error(to, "cannot copy a %s between Lua states (plain data only)",
               lua_typename(to, lua_type(from, idx)));
  }
}

static int copy_protected(lua_State *to) {
  copy_job *job = (copy_job *)lua_touserdata(to, 1);
  copy_value(job->from, job->idx, to, 0);
  return 1;
}

int sb_transfer(lua_State *from, int idx, lua_State *to) {
  copy_job job;
  job.from = from;
  job.idx = lua_absindex(from, idx);
  if (!lua_checkstack(to, 3)) return -2; /* nothing pushed: cannot even report */
  lua_pushcfunction(to, copy_protected);
  lua_pushlightuserdata(to, &job);
  if (lua_pcall(to, 1, 1, 0) != LUA_OK) {
    if (!lua_isstring(to, -1)) {
      lua_pop(to, 1);
      lua_pushliteral(to, "error while copying between Lua states");
    }
    return -1;
  }
  return 0;
}
