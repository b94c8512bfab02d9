/* A host application that embeds Lua and drives dwell from its own lua_State.
 *
 * This is how a gateway or building-management app uses dwell: it owns the
 * interpreter, registers its own functions (here `host.record`, which the
 * automation calls for every resident it sees), runs an automation script, and
 * reads the results back in C. dwell loads as an ordinary C module through
 * package.cpath; nothing about it is special to lua5.4 the program.
 *
 *   build/examples/dwell-host SCRIPT [ARGS...]
 */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

typedef struct {
  long residents;
  long with_mobile;
} Tally;

/* host.record(resident): counts what the automation reports. */
static int host_record(lua_State *L) {
  Tally *t = (Tally *)lua_touserdata(L, lua_upvalueindex(1));
  luaL_checktype(L, 1, LUA_TTABLE);
  t->residents++;
  if (lua_getfield(L, 1, "mobile") == LUA_TSTRING && lua_rawlen(L, -1) > 0) t->with_mobile++;
  lua_pop(L, 1);
  return 0;
}

static void open_host(lua_State *L, Tally *t) {
  lua_newtable(L);
  lua_pushlightuserdata(L, t);
  lua_pushcclosure(L, host_record, 1);
  lua_setfield(L, -2, "record");
  lua_setglobal(L, "host");
}

static int run(lua_State *L, int argc, char **argv) {
  int i;
  if (luaL_loadfile(L, argv[1]) != LUA_OK) return 0;
  for (i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
  return lua_pcall(L, argc - 2, 0, 0) == LUA_OK;
}

int main(int argc, char **argv) {
  Tally tally = {0, 0};
  lua_State *L;
  int ok;
  if (argc < 2) {
    fprintf(stderr, "usage: %s SCRIPT [ARGS...]\n", argv[0]);
    return 2;
  }
  L = luaL_newstate();
  if (!L) return 1;
  luaL_openlibs(L);
  open_host(L, &tally);
  ok = run(L, argc, argv);
  if (!ok) {
    /* luaL_tolstring honours __tostring: dwell errors are tables with one. */
    fprintf(stderr, "dwell-host: %s\n", luaL_tolstring(L, -1, NULL));
  }
  lua_close(L); /* closes dwell's sessions and frees everything it held */
  if (ok) printf("host: %ld residents recorded, %ld with a mobile number\n", tally.residents, tally.with_mobile);
  return ok ? 0 : 1;
}
