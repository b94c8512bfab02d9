--- bench/loop.lua: dwell.loop.luv and dwell.loop.cqueues against the Tuya sandbox (50 ms
-- latency): how late a 10 ms timer of the same loop fires while 64 signed calls are in flight,
-- how many requests overlap, and the time of 64 calls made one after another against 64 made
-- at once. Not a test: it prints figures, nothing asserts speed.
--   lua5.4 bench/loop.lua [rounds, default 5]
-- Each round runs a fresh sandbox and client; the token is fetched before the batch. Lateness
-- is the time between a tick being due (the previous tick + 10 ms) and its callback running,
-- over every tick while the batch is in flight; an idle round (no calls) gives the baseline.
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"
local http = require("dwell.core").http

local ROUNDS = tonumber(arg[1]) or 5
local N, LATENCY_MS, TICK_MS = 64, 50, 10

-- ---- the two loops behind one face -----------------------------------------------------------

local function luv_loop()
  local uv = require "luv"
  local l = { name = "luv" }
  l.t = assert(require("dwell.loop.luv").transport(uv))
  function l.spawn(fn) coroutine.wrap(fn)() end
  function l.every(ms, fn)
    local tm = uv.new_timer()
    tm:start(ms, ms, function() if fn() == false then tm:stop(); tm:close() end end)
  end
  function l.run() uv.run() end
  function l.close() l.t:close(); uv.run() end
  return l
end

local function cqueues_loop()
  local cqueues = require "cqueues"
  local l = { name = "cqueues", cq = cqueues.new() }
  l.t = assert(require("dwell.loop.cqueues").transport(l.cq))
  function l.spawn(fn) l.cq:wrap(fn) end
  function l.every(ms, fn)
    l.cq:wrap(function() repeat cqueues.sleep(ms / 1000) until fn() == false end)
  end
  function l.run() assert(l.cq:loop()) end
  function l.close() l.t:close() end
  return l
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, math.ceil(#sorted * p))]
end

-- One round: warm-up, then `calls` (0: idle) concurrent calls with the ticker measuring.
local function round(make, calls)
  local sb = assert(sandbox.start{ routes = { "tuya" }, latency_ms = LATENCY_MS })
  local creds = sb:control("tuya", "credentials")
  local l = make()
  local tuya = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url, transport = l.t })
  local block = creds.block_ids[1]
  l.spawn(function() assert(tuya.community.room_users{ block_id = block, page_no = 1, page_size = 1 }) end)
  l.run()

  local late, finished, t0, t1 = {}, 0, http.monotonic(), nil
  local due = t0 + TICK_MS / 1000
  local idle_until = t0 + 0.3
  l.every(TICK_MS, function()
    local now = http.monotonic()
    if calls == 0 or l.t:stats().in_flight > 0 then late[#late + 1] = (now - due) * 1000 end
    due = now + TICK_MS / 1000
    if calls == 0 then return now < idle_until end
    return finished < calls
  end)
  for i = 1, calls do
    l.spawn(function()
      assert(tuya.community.room_users{ block_id = block, page_no = i, page_size = 2 })
      finished = finished + 1
      if finished == calls then t1 = http.monotonic() end
    end)
  end
  l.run()
  local st = l.t:stats()
  l.close()
  sb:stop()
  table.sort(late)
  return { late = late, max_in_flight = st.max_in_flight, seconds = (t1 or http.monotonic()) - t0 }
end

-- 64 calls in one coroutine, one after another.
local function sequential(make)
  local sb = assert(sandbox.start{ routes = { "tuya" }, latency_ms = LATENCY_MS })
  local creds = sb:control("tuya", "credentials")
  local l = make()
  local tuya = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url, transport = l.t })
  local block = creds.block_ids[1]
  local seconds
  l.spawn(function()
    assert(tuya.community.room_users{ block_id = block, page_no = 1, page_size = 1 })
    local t0 = http.monotonic()
    for i = 1, N do assert(tuya.community.room_users{ block_id = block, page_no = i, page_size = 2 }) end
    seconds = http.monotonic() - t0
  end)
  l.run()
  l.close()
  sb:stop()
  return seconds
end

local function median(xs)
  table.sort(xs)
  return xs[math.ceil(#xs / 2)]
end

print(("bench/loop.lua: %d signed Tuya calls, sandbox latency %d ms, a %d ms loop timer, %d rounds")
  :format(N, LATENCY_MS, TICK_MS, ROUNDS))
print(("%-8s %-6s %8s %8s %8s %8s %6s %10s"):format("loop", "batch", "ticks", "p50 ms", "p95 ms", "max ms",
  "overlap", "batch s"))
for _, entry in ipairs{ { "luv", luv_loop }, { "cqueues", cqueues_loop } } do
  local name, make = entry[1], entry[2]
  local conc_times = {}
  for _, calls in ipairs{ 0, N } do
    local all, overlap, secs = {}, 0, {}
    for _ = 1, ROUNDS do
      local r = round(make, calls)
      for _, v in ipairs(r.late) do all[#all + 1] = v end
      overlap = math.max(overlap, r.max_in_flight)
      secs[#secs + 1] = r.seconds
    end
    table.sort(all)
    if calls > 0 then conc_times = secs end
    print(("%-8s %-6s %8d %8.2f %8.2f %8.2f %6d %10.3f"):format(name, calls == 0 and "idle" or tostring(calls),
      #all, percentile(all, 0.5), percentile(all, 0.95), all[#all] or 0, calls == 0 and 0 or overlap,
      calls == 0 and 0 or median(secs)))
  end
  local seq = {}
  for _ = 1, math.max(1, ROUNDS // 2) do seq[#seq + 1] = sequential(make) end
  local s, c = median(seq), median(conc_times)
  print(("%-8s sequential %d calls %.3f s, concurrent %.3f s: ratio %.1f"):format(name, N, s, c, s / c))
end
