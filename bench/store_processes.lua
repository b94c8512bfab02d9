--- bench/store_processes.lua: what sharing a store changes for processes of one account
-- (`make bench-store` runs it after bench/store.lua). Not a test: it prints figures.
--   Tuya: 4 processes on one client id, the sandbox in one-live-token mode with 3 s tokens,
--         calls 4 at a time for 8 s: calls, failed calls, grants and refreshes, tokens ended early.
--   RUCKUS: 4 processes x 150 unit-user queries 16 at a time on one property: 429s, logins, time.
-- For each of the memory (each process on its own), file and Redis stores. The workers are the
-- specs' (spec/support/tuya_worker.lua, ruckus_worker.lua); the sandbox runs in this process
-- for Tuya and as a process of its own (bin/dwell-sandbox) for RUCKUS.
local sandbox = require "dwell.sandbox"
local json = require "dwell.json"
local support = require "support.shell"
local redis = require "support.redis"
local monotonic = require("dwell.core").http.monotonic

local SECONDS = tonumber(os.getenv("SECONDS_TUYA")) or 8

local function spawn(n, env, script, args)
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = support.quote(a) end
  local procs = {}
  for i = 1, n do
    procs[i] = io.popen(env .. " " .. support.lua_cmd(script .. " " .. table.concat(quoted, " ")) .. " 2>&1")
  end
  local out = {}
  for i = 1, n do
    local text = procs[i]:read("a")
    procs[i]:close()
    local line = assert(text:match("({.*})%s*$"), text)
    out[i] = assert(json.decode(line))
  end
  return out
end

local dir = io.popen('mktemp -d "${TMPDIR:-/tmp}/dwell-bench-procs.XXXXXX"'):read("l")
local server = redis.start()
local STORES = { { "memory", "memory" }, { "file", "file://" .. dir .. "/tuya" }, { "redis", server.url } }

print(("Tuya: 4 processes, one client id, one-live-token gateway, 3 s tokens, %d s, 4 calls at a time"):format(SECONDS))
print("   store    calls  failed  grants  refreshes  ended early (revoked)  refused (1011)  seconds")
for _, s in ipairs(STORES) do
  local sb = assert(sandbox.start{ routes = { { set = "tuya", config = { one_live_token = true, token_ttl = 3 } } } })
  local creds = sb:control("tuya", "credentials")
  local t0 = monotonic()
  local kids = spawn(4, "DWELL_BLOCK_ID=" .. creds.block_ids[1], "spec/support/tuya_worker.lua",
    { sb.url, creds.client_id, creds.secret, s[2], tostring(SECONDS), "4", "1" })
  local took = monotonic() - t0
  local calls, failed = 0, 0
  for _, k in ipairs(kids) do calls, failed = calls + k.calls, failed + k.failed end
  local st = sb:control("tuya", "stats")
  print(("   %-7s %6d  %6d  %6d  %9d  %21d  %14d  %7.1f"):format(s[1], calls, failed, st.grants, st.refreshes,
    st.revoked, st.invalid, took))
  sb:stop()
end

print("")
print("RUCKUS: 4 processes x 150 queries, 16 at a time, one property (100 calls, 80/s)")
print("   store    ok   failed  429s  logins  seconds")
STORES[2][2] = "file://" .. dir .. "/ruckus"
for _, s in ipairs(STORES) do
  local p = io.popen("sh -c " .. support.quote("echo $$; exec env " .. support.lua_cmd("bin/dwell-sandbox --routes ruckus")))
  local pid, url, creds = tonumber(p:read("l")), nil, {}
  for line in p:lines() do
    url = url or line:match("listening on (%S+)")
    local k, v = line:match("^%s+([%w_]+) = (%S+)")
    if k then creds[k] = v end
    if creds.unit_guid then break end
  end
  local t0 = monotonic()
  local kids = spawn(4, "", "spec/support/ruckus_worker.lua",
    { url, creds.property_id, creds.hashed_secret, s[2], "150", "16" })
  local took = monotonic() - t0
  local ok, failed, limited, logins = 0, 0, 0, 0
  for _, k in ipairs(kids) do
    ok, failed, logins = ok + k.ok, failed + k.failed, logins + k.logins
    limited = limited + (k.statuses["429"] or 0)
  end
  print(("   %-7s %4d  %6d  %4d  %6d  %7.1f"):format(s[1], ok, failed, limited, logins, took))
  os.execute("kill -TERM " .. pid)
  p:read("a")
  p:close()
end

server:cleanup()
os.execute("rm -rf " .. support.quote(dir))
