/* libFuzzer harness for dwell.core.json, built by scripts/fuzz with
 * clang -fsanitize=fuzzer,address,undefined.
 *
 * Each input gets a fresh lua_State (so LeakSanitizer sees every leak) and is
 * decoded with and without opts. Whatever decodes must re-encode (unless it
 * holds a float too large for a double), and the encoding must be a fixed
 * point: encode(decode(encode(v))) == encode(v), pretty-printed or not. The
 * raw input, encoded as a JSON string, must decode back to itself. A float
 * at the top level must equal what the C library's strtod reads from the
 * same text (the harness runs in the C locale), and encode to a text that
 * decodes back to the same bits.
 *
 * With key_case = "snake" an input must fail exactly as without it, and
 * otherwise give what renaming the keys of the plain result gives (a
 * reference written in Lua, skipped for the objects where two different
 * keys with capitals rename to one name, whose order the plain result has
 * lost); its rows must decode like it with the key cache too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "dwell.h"

#define JSON 1 /* stack index of the json table */

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "json_fuzz: invariant broken: %s (%s)\n", what, detail ? detail : "");
  abort();
}

/* json.<fn>(value at idx [, opts at optidx]); leaves result, err (2 values). */
static void call2(lua_State *L, const char *fn, int idx, int optidx) {
  lua_getfield(L, JSON, fn);
  lua_pushvalue(L, idx);
  if (optidx) lua_pushvalue(L, optidx);
  else lua_pushnil(L);
  if (lua_pcall(L, 2, 2, 0) != LUA_OK) fail("codec raised", lua_tostring(L, -1));
}

static void push_opts(lua_State *L, int sort, int indent, const char *big) {
  lua_newtable(L);
  lua_pushboolean(L, sort);
  lua_setfield(L, -2, "sort_keys");
  lua_pushinteger(L, indent);
  lua_setfield(L, -2, "indent");
  if (big) {
    lua_pushstring(L, big);
    lua_setfield(L, -2, "big");
  }
}

/* The value at idx decoded fine: check the encode/decode fixed point. */
static void check_reencode(lua_State *L, int idx, int enc_opts) {
  int base = lua_gettop(L);
  call2(L, "encode", idx, enc_opts); /* s1, err */
  if (lua_isnil(L, -2)) {
    const char *err = lua_tostring(L, -1);
    if (!err || !strstr(err, "NaN or infinity")) fail("decoded value does not encode", err);
    lua_settop(L, base);
    return;
  }
  lua_pop(L, 1);
  call2(L, "decode", base + 1, 0); /* v2, err */
  if (lua_isnil(L, -2)) fail("encoded text does not decode", lua_tostring(L, -1));
  lua_pop(L, 1);
  call2(L, "encode", base + 2, enc_opts); /* s2, err */
  if (lua_isnil(L, -2)) fail("re-decoded value does not encode", lua_tostring(L, -1));
  lua_pop(L, 1);
  if (!lua_rawequal(L, base + 1, base + 3)) fail("encoding is not a fixed point", lua_tostring(L, base + 1));
  lua_settop(L, base);
}

/* The reference for key_case = "snake", applied to a plain decode: the
 * spelling of dwell.tuya.envelope.snake; a key spelt in snake_case wins over
 * a renamed one. Returns nil when the outcome would depend on key order. */
static const char SNAKE_REF[] =
  "local array_mt = ...\n"
  "local function snake(k)\n"
  "  if not k:find('%u') then return k end\n"
  "  return (k:gsub('(%l)(%u)', '%1_%2'):gsub('(%d)(%u)', '%1_%2'):gsub('(%u)(%u%l)', '%1_%2'):lower())\n"
  "end\n"
  "local function ref(v)\n"
  "  if type(v) ~= 'table' then return v end\n"
  "  local out, from = setmetatable({}, getmetatable(v)), {}\n"
  "  for k, x in pairs(v) do\n"
  "    local r = ref(x)\n"
  "    if r == nil then return nil end\n"
  "    if getmetatable(v) == array_mt then out[k] = r\n"
  "    else\n"
  "      local s = snake(k)\n"
  "      if s == k then out[s] = r\n"
  "      elseif v[s] == nil then\n"
  "        if from[s] then return nil end\n"
  "        from[s], out[s] = k, r\n"
  "      end\n"
  "    end\n"
  "  end\n"
  "  return out\n"
  "end\n"
  "return ref\n";

static void check_snake(lua_State *L, int input, int snake, int plain) {
  int base = lua_gettop(L);
  call2(L, "decode", input, 0); /* base+1 v, base+2 err */
  call2(L, "decode", input, snake); /* base+3 sv, base+4 serr */
  if (lua_isnil(L, base + 1) != lua_isnil(L, base + 3)) fail("key_case changes whether a text decodes", lua_tostring(L, base + 2));
  if (lua_isnil(L, base + 1)) {
    if (!lua_rawequal(L, base + 2, base + 4)) fail("key_case changes the error", lua_tostring(L, base + 4));
    lua_settop(L, base);
    return;
  }
  if (luaL_loadstring(L, SNAKE_REF) != LUA_OK) fail("reference does not load", lua_tostring(L, -1));
  lua_getfield(L, JSON, "array_mt");
  lua_call(L, 1, 1); /* base+5 ref */
  lua_pushvalue(L, base + 5);
  lua_pushvalue(L, base + 1);
  lua_call(L, 1, 1); /* base+6 expected (nil: ambiguous) */
  if (!lua_isnil(L, base + 6)) {
    call2(L, "encode", base + 6, plain); /* base+7 */
    call2(L, "encode", base + 3, plain); /* base+9 */
    if (lua_isnil(L, base + 7) != lua_isnil(L, base + 9)) fail("renamed value encodes differently", NULL);
    if (!lua_isnil(L, base + 7) && !lua_rawequal(L, base + 7, base + 9))
      fail("key_case result differs from the reference", lua_tostring(L, base + 9));
  }
  lua_settop(L, base);
}

static void check_string_roundtrip(lua_State *L, int idx) {
  int base = lua_gettop(L);
  call2(L, "encode", idx, 0);
  if (!lua_isnil(L, -2)) {
    lua_pop(L, 1);
    call2(L, "decode", base + 1, 0);
    if (!lua_rawequal(L, -2, idx)) fail("string does not round-trip", lua_tostring(L, -1));
  }
  lua_settop(L, base);
}

/* The decoder caches strings and predicts keys only in documents of at
 * least 4 KB, so most fuzz inputs would never reach that code. Decoded as
 * three rows of an array after 4 KB of spaces, a valid input must give three
 * copies of its own value: same encoding with sorted keys (with key_case
 * non-NULL, both decodes use that key_case). */
#define PAD 4096
#define JSON_MAX_DEPTH_FOR_ROWS 1001 /* the default 1000, plus the rows array */
static void check_cached(lua_State *L, int input, int plain, const char *key_case) {
  int top0 = lua_gettop(L), base = top0, dec_opts = 0;
  size_t n;
  const char *s = lua_tolstring(L, input, &n);
  luaL_Buffer b;
  if (key_case) {
    lua_newtable(L);
    lua_pushstring(L, key_case);
    lua_setfield(L, -2, "key_case");
    dec_opts = ++base;
  }
  call2(L, "decode", input, dec_opts);
  if (lua_isnil(L, -2)) {
    lua_settop(L, top0);
    return;
  }
  lua_pop(L, 1);
  call2(L, "encode", base + 1, plain); /* e, err */
  if (lua_isnil(L, -2)) {
    lua_settop(L, top0);
    return;
  }
  lua_pop(L, 1);
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '[');
  for (int i = 0; i < PAD; i++) luaL_addchar(&b, ' ');
  for (int i = 0; i < 3; i++) {
    if (i) luaL_addchar(&b, ',');
    luaL_addlstring(&b, s, n);
  }
  luaL_addchar(&b, ']');
  luaL_pushresult(&b); /* base + 3 */
  {
    const char *e = lua_tostring(L, base + 2);
    lua_pushfstring(L, "[%s,%s,%s]", e, e, e); /* base + 4 */
  }
  lua_newtable(L); /* base + 5: one level more than the value needed */
  lua_pushinteger(L, JSON_MAX_DEPTH_FOR_ROWS);
  lua_setfield(L, -2, "max_depth");
  if (key_case) {
    lua_pushstring(L, key_case);
    lua_setfield(L, -2, "key_case");
  }
  call2(L, "decode", base + 3, base + 5);
  if (lua_isnil(L, -2)) fail("rows of a valid value do not decode", lua_tostring(L, -1));
  lua_pop(L, 1);
  call2(L, "encode", base + 6, plain);
  if (lua_isnil(L, -2)) fail("decoded rows do not encode", lua_tostring(L, -1));
  lua_pop(L, 1);
  if (!lua_rawequal(L, -1, base + 4)) fail("rows decode differently from the value", lua_tostring(L, base + 4));
  lua_settop(L, top0);
}

/* The decoder's own number conversion against strtod, for an input that
 * decodes to a float: same bits, and the encoding reads back exactly. */
static void check_float(lua_State *L, int input, int value) {
  size_t n;
  const char *s = lua_tolstring(L, input, &n);
  double want, got = (double)lua_tonumber(L, value);
  int base = lua_gettop(L);
  if (strlen(s) != n) return; /* an embedded '\0' never decodes anyway */
  want = strtod(s, NULL);
  if (memcmp(&want, &got, sizeof got) != 0) fail("float differs from strtod", s);
  call2(L, "encode", value, 0);
  if (!lua_isnil(L, -2)) {
    lua_pop(L, 1);
    call2(L, "decode", base + 1, 0);
    want = (double)lua_tonumber(L, -2);
    if (!lua_isnumber(L, -2) || memcmp(&want, &got, sizeof got) != 0) fail("float does not round-trip", lua_tostring(L, base + 1));
  }
  lua_settop(L, base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = luaL_newstate();
  int input, plain, pretty, bigs, snake, base;
  if (!L) return 0;
  /* the key_case reference (check_snake) needs pairs, type, ... and string methods */
  luaL_requiref(L, "_G", luaopen_base, 1);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  lua_pop(L, 2);
  dwell_json_open(L);
  lua_pushlstring(L, (const char *)data, size);
  input = lua_gettop(L);
  push_opts(L, 1, 0, NULL);
  plain = lua_gettop(L);
  push_opts(L, 1, 2, NULL);
  pretty = lua_gettop(L);
  push_opts(L, 0, 0, "string");
  bigs = lua_gettop(L);
  lua_newtable(L);
  lua_pushstring(L, "snake");
  lua_setfield(L, -2, "key_case");
  snake = lua_gettop(L);
  base = lua_gettop(L);

  call2(L, "decode", input, 0);
  if (lua_type(L, -2) == LUA_TNUMBER && !lua_isinteger(L, -2)) check_float(L, input, base + 1);
  if (!lua_isnil(L, -2)) {
    check_reencode(L, base + 1, plain);
    check_reencode(L, base + 1, pretty);
  } else if (!lua_isstring(L, -1) || strncmp(lua_tostring(L, -1), "dwell.json: ", 12) != 0) {
    fail("decode error without a message", NULL);
  }
  lua_settop(L, base);

  call2(L, "decode", input, bigs);
  if (!lua_isnil(L, -2)) check_reencode(L, base + 1, plain);
  lua_settop(L, base);

  check_string_roundtrip(L, input);
  check_cached(L, input, plain, NULL);
  check_snake(L, input, snake, plain);
  check_cached(L, input, plain, "snake");
  lua_close(L);
  return 0;
}
