/* bench/json_count.c: a minimal Lua host for bench/json_count.lua.
 *
 * It runs a Lua script with one extra global, measured(fn, arg), which calls
 * fn(arg) with callgrind's instruction counting switched on: run under
 * `valgrind --tool=callgrind --collect-atstart=no`, the total then covers
 * exactly the measured calls (the decoder and everything it calls in Lua and
 * libc: interning, tables, malloc, GC steps), not the setup or the
 * collections between them. Outside valgrind the macros do nothing. */
#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <valgrind/callgrind.h>

static int measured(lua_State *L) {
  lua_settop(L, 2);
  CALLGRIND_TOGGLE_COLLECT;
  lua_call(L, 1, 0);
  CALLGRIND_TOGGLE_COLLECT;
  return 0;
}

int main(int argc, char **argv) {
  lua_State *L;
  int i;
  if (argc < 2) {
    fprintf(stderr, "usage: json_count script.lua [args...]\n");
    return 2;
  }
  L = luaL_newstate();
  if (!L) return 1;
  luaL_openlibs(L);
  lua_register(L, "measured", measured);
  lua_createtable(L, argc, 0);
  for (i = 1; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");
  if (luaL_dofile(L, argv[1]) != LUA_OK) {
    fprintf(stderr, "json_count: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  lua_close(L);
  return 0;
}
