--- Shared helpers for the sandbox specs: curl over real HTTP, throw-away
-- route sets, polling. Not a spec itself (no _spec suffix).
local M = {}

--- Single-quotes `s` for a POSIX shell.
M.quote = require("support.openssl").quote

-- Sanitizer runs (valgrind) are ~20x slower: stretch timing knobs, never assertions.
M.slow = os.getenv("DWELL_SANITIZER") and 10 or 1

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end
M.read_all = read_all

-- External tools run without the sanitizer runtime that `make asan` preloads
-- into lua5.4 (curl deadlocks at startup under a preloaded ASan).
M.tool_env = "env -u LD_PRELOAD -u ASAN_OPTIONS -u LSAN_OPTIONS "
M.curl_cmd = M.tool_env .. "curl"

--- The sanitizer settings of this process as shell assignments, to give back
-- to a lua5.4 child (which loads the instrumented modules) run from a tool_env shell.
function M.sanitizer_env()
  local out = {}
  for _, name in ipairs{ "LD_PRELOAD", "ASAN_OPTIONS", "LSAN_OPTIONS" } do
    local v = os.getenv(name)
    if v then out[#out + 1] = ("%s='%s'"):format(name, v) end
  end
  return table.concat(out, " ")
end

--- The shell command line that runs lua5.4 on `args` with the Lua paths this runner
-- uses (`make asan` points LUA_CPATH at its own build), defaulting to the repo's.
function M.lua_cmd(args)
  return ("LUA_PATH=%s LUA_CPATH=%s lua5.4 %s"):format(M.quote(os.getenv("LUA_PATH") or "lua/?.lua;lua/?/init.lua;;"),
    M.quote(os.getenv("LUA_CPATH") or "build/?.so;;"), args)
end

function M.shell(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  local _, _, rc = p:close()
  return out, rc
end

--- Runs curl with `args` (already shell-quoted); returns
-- { rc = exit code, status = HTTP status or 0, body, err (stderr), out (-w output) }.
function M.curl(args, write_out)
  local body, err = os.tmpname(), os.tmpname()
  local out, rc = M.shell(("%s -sS -o %s -w '%s' %s 2>%s"):format(
    M.curl_cmd, body, write_out or "%{http_code}", args, err))
  local r = { rc = rc, out = out, body = read_all(body), err = read_all(err) }
  r.status = tonumber(out:match("^(%d%d%d)")) or 0
  os.remove(body)
  os.remove(err)
  return r
end

--- Polls `fn` until it returns true or `seconds` pass.
function M.wait_until(fn, seconds)
  for _ = 1, math.ceil((seconds or 5) * M.slow / 0.02) do
    if fn() then return true end
    os.execute("sleep 0.02")
  end
  return fn()
end

--- Writes route-set modules into a temp dir and puts it on package.path, so
-- that the sandbox's own lua_State (which copies package.path) finds them.
-- `sets` maps name -> Lua source. Returns a function that undoes it, and the dir.
function M.route_sets(sets)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute(("mkdir -p '%s/dwell/sandbox'"):format(dir)))
  for name, src in pairs(sets) do
    local f = assert(io.open(("%s/dwell/sandbox/%s.lua"):format(dir, name), "w"))
    f:write(src)
    f:close()
  end
  local saved = package.path
  package.path = dir .. "/?.lua;" .. package.path
  return function()
    package.path = saved
    os.execute(("rm -rf '%s'"):format(dir))
  end, dir
end

return M
