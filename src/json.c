/* dwell.core.json: the module table.
 *
 * `null` is the NULL light userdata, so it equals lua-cjson's cjson.null.
 * `array_mt` marks decoded arrays so that [] and {} re-encode faithfully; it
 * is shared by decode and encode as their first upvalue. Its __jsontype
 * field is dkjson's marker, so dkjson also encodes decoded arrays as arrays. */
#include "json.h"

int dwell_json_opt_depth(lua_State *L, int opts) {
  lua_Integer md = JSON_DEFAULT_MAX_DEPTH;
  int isnum = 0;
  if (lua_getfield(L, opts, "max_depth") != LUA_TNIL) {
    md = lua_tointegerx(L, -1, &isnum);
    if (!isnum || md < 1 || md > JSON_MAX_MAX_DEPTH)
      luaL_argerror(L, opts, "opts.max_depth must be an integer from 1 to 20000");
  }
  lua_pop(L, 1);
  return (int)md;
}

int dwell_json_open(lua_State *L) {
  lua_createtable(L, 0, 5);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "array");
  lua_setfield(L, -2, "__jsontype");
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "array_mt");
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, dwell_json_decode, 1);
  lua_setfield(L, -3, "decode");
  lua_pushcclosure(L, dwell_json_encode, 1);
  lua_setfield(L, -2, "encode");
  lua_pushcfunction(L, dwell_json_snake_key);
  lua_setfield(L, -2, "snake_key");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  return 1;
}
