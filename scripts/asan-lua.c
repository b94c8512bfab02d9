/* A minimal `lua5.4` stand-in for `make asan`, linked with the sanitizer
 * runtimes so that the interpreter process has ASan first without LD_PRELOAD.
 *
 * Why not LD_PRELOAD: the variable is inherited by every program the specs
 * start, and uninstrumented programs run under a preloaded ASan can hang
 * (curl 7.88 deadlocks on glibc's setlocale lock at start-up under GCC 12's
 * libasan). With the runtime linked into this launcher only, children (curl,
 * openssl, sh) run normally, while a child `lua5.4` resolves to this launcher
 * too because `make asan` puts its directory first in PATH.
 *
 * Supports what the specs and tools use: `lua5.4 [-e chunk]... [script [args]]`,
 * `-` for stdin, and the `arg` table as lua.c builds it. liblua itself is not
 * instrumented; only allocations and dwell's modules are checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* lua_close unloads C modules with dlclose; a leak found after that would be
 * reported against "<unknown module>" frames. Keeping every library mapped
 * lets LeakSanitizer name the function that allocated. */
int dlclose(void *handle) {
  (void)handle;
  return 0;
}

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Calls the function under the arguments on the stack; prints errors. */
static int docall(lua_State *L, int nargs) {
  int base = lua_gettop(L) - nargs;
  int status;
  lua_pushcfunction(L, traceback);
  lua_insert(L, base);
  status = lua_pcall(L, nargs, 0, base);
  lua_remove(L, base);
  if (status != LUA_OK) {
    fprintf(stderr, "lua5.4: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return status == LUA_OK;
}

static int run(lua_State *L, int argc, char **argv) {
  int i = 1, script, n;
  luaL_openlibs(L);
  while (i < argc && strcmp(argv[i], "-e") == 0 && i + 1 < argc) {
    if (luaL_loadstring(L, argv[i + 1]) != LUA_OK) {
      fprintf(stderr, "lua5.4: %s\n", lua_tostring(L, -1));
      return 0;
    }
    if (!docall(L, 0)) return 0;
    i += 2;
  }
  if (i >= argc) return 1;
  script = i;
  /* arg[0] = script, arg[1..] = its arguments, negative = the interpreter's */
  lua_createtable(L, argc - script - 1, script + 1);
  for (n = 0; n < argc; n++) {
    lua_pushstring(L, argv[n]);
    lua_rawseti(L, -2, n - script);
  }
  lua_setglobal(L, "arg");
  if (luaL_loadfile(L, strcmp(argv[script], "-") == 0 ? NULL : argv[script]) != LUA_OK) {
    fprintf(stderr, "lua5.4: %s\n", lua_tostring(L, -1));
    return 0;
  }
  for (n = script + 1; n < argc; n++) lua_pushstring(L, argv[n]);
  return docall(L, argc - script - 1);
}

int main(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  int ok;
  if (!L) {
    fprintf(stderr, "lua5.4: cannot create state: not enough memory\n");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCGEN, 0, 0); /* lua.c's default mode */
  ok = run(L, argc, argv);
  lua_close(L);
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
