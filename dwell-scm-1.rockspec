-- dwell: resident and member management for Tuya Smart Community, DocuSign
-- Rooms and RUCKUS One Resident Portal, for Lua 5.4 with a C core.
-- Built by the project's Makefile (`make modules`, then `make install`) with the
-- include and library directories LuaRocks finds for each external dependency.
rockspec_format = "3.0"
package = "dwell"
version = "scm-1"

source = {
  -- `luarocks make` in a checkout builds from the working tree and ignores this.
  url = "git+https://github.com/dwell-lua/dwell.git",
}

description = {
  summary = "Automate Tuya Smart Community, DocuSign Rooms and RUCKUS One Resident Portal from Lua",
  detailed = [[
dwell is a Lua 5.4 module with a C core (libcurl for HTTP, OpenSSL's libcrypto
for SHA-256, HMAC and RS256, its own JSON codec) for integrators and
property-management engineers who automate resident, room-user and member
management, from Lua scripts or from host applications that embed Lua.
]],
  license = "MIT",
  labels = { "http", "api", "crypto", "property-management" },
}

dependencies = {
  "lua >= 5.4, < 5.5",
  -- bin/dwell's command line (Debian: lua-argparse)
  "argparse >= 0.7",
}
-- Documentation only, never needed to build or install: `make docs` runs LDoc (the "ldoc"
-- rock; Debian's lua-ldoc, which scripts/bootstrap installs) to write the Lua API's HTML.

-- Optional at run time, like libmicrohttpd for the sandbox server: dwell.loop.luv needs
-- "luv" and dwell.loop.cqueues needs "cqueues", each detected when its transport is made
-- (a dwell.error names the one missing). LuaRocks has no optional dependencies, so they are
-- listed for the specs, which run both.
test_dependencies = {
  "luv",
  "cqueues",
}

-- CURL is found by its library: Debian puts curl/curl.h under the multiarch
-- include directory, which LuaRocks does not search but the compiler does.
external_dependencies = {
  CURL = { library = "curl" },
  OPENSSL = { header = "openssl/evp.h", library = "crypto" },
  -- only the dwell.sandbox.server module (the local test server) links it
  LIBMICROHTTPD = { header = "microhttpd.h", library = "microhttpd" },
  -- only the dwell.store.redis_client module (the Redis store) links it
  HIREDIS = { header = "hiredis/hiredis.h", library = "hiredis" },
}

build = {
  type = "make",
  build_target = "modules",
  build_variables = {
    CC = "$(CC)",
    CFLAGS = "$(CFLAGS)",
    -- a compiler newer than the project's CI may warn; a user's install should not fail on it
    WERROR = "",
    CORE_CFLAGS = "-I$(LUA_INCDIR) -I$(CURL_INCDIR) -I$(OPENSSL_INCDIR)",
    CORE_LIBS = "-L$(CURL_LIBDIR) -L$(OPENSSL_LIBDIR) -lcurl -lcrypto",
    SB_CFLAGS = "-I$(LUA_INCDIR) -I$(LIBMICROHTTPD_INCDIR)",
    SB_LIBS = "-L$(LIBMICROHTTPD_LIBDIR) -lmicrohttpd -lpthread",
    REDIS_CFLAGS = "-I$(LUA_INCDIR) -I$(HIREDIS_INCDIR)",
    REDIS_LIBS = "-L$(HIREDIS_LIBDIR) -lhiredis",
  },
  install_target = "install",
  -- the command line (`dwell tuya community.room_users ...`) and the local sandbox server
  -- (`dwell-sandbox --routes tuya,rooms,ruckus`, also `dwell sandbox`)
  install = { bin = { ["dwell"] = "bin/dwell", ["dwell-sandbox"] = "bin/dwell-sandbox" } },
  install_variables = {
    INST_LIBDIR = "$(LIBDIR)",
    INST_LUADIR = "$(LUADIR)",
    INST_BINDIR = "",
  },
}
