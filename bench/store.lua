--- bench/store.lua: the extra CPU per call of the file and Redis stores over the memory store
-- (`make bench-store`). Not a test: it prints figures, nothing asserts.
--
-- CPU is the main thread's (/proc/self/task/<pid>/schedstat, ns): the client's Lua, libcurl
-- and the store's own system calls and Redis round trips, not the in-process sandbox's server
-- threads. The Redis server's CPU is shown apart (its main thread's). Stores are measured in
-- interleaved rounds; each figure is the median of the rounds.
--   1. what a call adds through the store: the credential's read (get) and a bucket take;
--   2. a whole Tuya call against the sandbox (sign, send, decode), with a rate_limit bucket.
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"
local store = require "dwell.store"
local redis = require "support.redis"
local monotonic = require("dwell.core").http.monotonic

local ROUNDS = tonumber(os.getenv("ROUNDS")) or 5
local OPS = tonumber(os.getenv("OPS")) or 20000
local CALLS = tonumber(os.getenv("CALLS")) or 1000

local function read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local PID = assert(read("/proc/self/stat")):match("^(%d+)")

-- CPU seconds of a thread so far (schedstat's first field is ns on the CPU).
local function cpu(pid, tid)
  local s = read(("/proc/%s/task/%s/schedstat"):format(pid, tid or pid))
  return s and tonumber(s:match("^(%d+)")) / 1e9 or os.clock()
end

local function median(list)
  local t = {}
  for i, v in ipairs(list) do t[i] = v end
  table.sort(t)
  return t[(#t + 1) // 2]
end

local dir = io.popen('mktemp -d "${TMPDIR:-/tmp}/dwell-bench-store.XXXXXX"'):read("l")
local server = redis.start()
local sb = assert(sandbox.start{ routes = { "tuya" } })
local creds = sb:control("tuya", "credentials")

local STORES = {
  { "memory", function() return store.memory() end },
  { "file", function() return assert(store.file{ path = dir .. "/s" }) end },
  { "redis", function() return assert(store.redis{ url = server.url }) end },
}

local results = {}
for _, s in ipairs(STORES) do results[s[1]] = { ops_cpu = {}, ops_wall = {}, call_cpu = {}, call_wall = {}, redis_cpu = {} } end

local function measure(fn, n)
  local rc0 = cpu(server.pid)
  local c0, w0 = cpu(PID), monotonic()
  for _ = 1, n do fn() end
  return (cpu(PID) - c0) / n, (monotonic() - w0) / n, (cpu(server.pid) - rc0) / n
end

for round = 1, ROUNDS do
  for _, s in ipairs(STORES) do
    local name, make = s[1], s[2]
    local r = results[name]
    -- 1. the store's part of a call: read the token entry, take a token from the bucket
    local st = make()
    st:put("tuya:bench@http://gw", { token = "tok-bench-0123456789", expires_at = 4e9, refresh_at = 4e9, gen = 1 })
    local bucket = store.limiter(st, "tuya:bench-" .. round .. "@http://gw", 1e9, 1e9)
    local c, w = measure(function()
      assert(st:get("tuya:bench@http://gw"))
      assert(bucket:take(1))
    end, OPS)
    r.ops_cpu[#r.ops_cpu + 1], r.ops_wall[#r.ops_wall + 1] = c, w
    -- 2. a whole call
    local tuya = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url,
      store = name == "memory" and "memory" or make(), rate_limit = { capacity = 1e9, refill_per_second = 1e9 } })
    local args = { block_id = creds.block_ids[1], page_no = 1, page_size = 5 }
    assert(tuya.community.room_users(args)) -- the token fetch is not what is measured
    local rcpu
    c, w, rcpu = measure(function() assert(tuya.community.room_users(args)) end, CALLS)
    r.call_cpu[#r.call_cpu + 1], r.call_wall[#r.call_wall + 1], r.redis_cpu[#r.redis_cpu + 1] = c, w, rcpu
  end
  io.stderr:write(("round %d/%d done\n"):format(round, ROUNDS))
end

local function us(x) return string.format("%7.1f", x * 1e6) end
local base = results.memory
print(("dwell.store, median of %d interleaved rounds; CPU = this process's main thread"):format(ROUNDS))
print("")
print(("1. the store's part of a call (token read + bucket take), %d times:"):format(OPS))
print("   store    CPU us/op  wall us/op  CPU vs memory  extra CPU us/op")
for _, s in ipairs(STORES) do
  local r = results[s[1]]
  local c, w = median(r.ops_cpu), median(r.ops_wall)
  print(("   %-7s  %s     %s     %6.1fx        %s"):format(s[1], us(c), us(w), c / median(base.ops_cpu),
    us(c - median(base.ops_cpu))))
end
print("")
print(("2. a whole Tuya call against the sandbox (sign, send, decode a 5-user page), %d times:"):format(CALLS))
print("   store    CPU us/call  wall us/call  CPU vs memory  extra CPU us/call  redis-server CPU us/call")
for _, s in ipairs(STORES) do
  local r = results[s[1]]
  local c, w = median(r.call_cpu), median(r.call_wall)
  print(("   %-7s  %s      %s       %6.2fx        %s            %s"):format(s[1], us(c), us(w),
    c / median(base.call_cpu), us(c - median(base.call_cpu)), s[1] == "redis" and us(median(r.redis_cpu)) or "      -"))
end

sb:stop()
server:cleanup()
os.execute("rm -rf '" .. dir .. "'")
