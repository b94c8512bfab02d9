--- bench/parallel.lua: dwell.parallel throughput at concurrency 16, 64 and 256 against a server
-- that adds a fixed latency per request and is not the bottleneck (bench/delay_server.c: one
-- thread, epoll, a 1 KB JSON body), as a ratio of the ideal concurrency / latency, with the
-- connections the server accepted; `curl -Z --parallel-max N` on the same server as a peer.
-- Not a test: it prints figures, nothing asserts speed.
--   lua5.4 bench/parallel.lua DELAY_SERVER_BINARY [requests, default 2048] [rounds, default 5]
--                             [latency ms, default 50]
--
-- Every round is a fresh process (a dwell child or a curl), so each opens its own connections;
-- rounds of the two clients are interleaved and the best round is shown with the median, since
-- a shared machine only adds noise upward. dwell's time is taken inside the child around the
-- dwell.parallel call (connecting included, interpreter start-up not); curl's around the whole
-- process, less the best time of a curl that fetches one answer without latency (its start-up).
-- Client CPU is user+sys of the client process (bash `times`), per request.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*)/") or ".") .. "/common.lua")
local http = require("dwell.core").http

local sh = common.sh

local quote = common.quote

-- ---- the child: one dwell.parallel run ------------------------------------------------------

if arg[1] == "--child" then
  local dwell = require "dwell"
  local url, conc, n = arg[2], math.tointeger(tonumber(arg[3])), math.tointeger(tonumber(arg[4]))
  local t = dwell.transport.new{}
  local function fetch() return assert(t:send{ url = url }).status end
  local calls = {}
  for i = 1, n do calls[i] = { fetch } end
  local c0, t0 = os.clock(), http.monotonic()
  local results, errs = dwell.parallel(calls, { concurrency = conc })
  local dt, cpu = http.monotonic() - t0, os.clock() - c0
  assert(next(errs) == nil and #results == n, "a request failed")
  for i = 1, n do assert(results[i] == 200) end
  print(("%.6f %.6f"):format(dt, cpu))
  return
end

-- ---- the driver -----------------------------------------------------------------------------

local server_bin = assert(arg[1], "usage: bench/parallel.lua DELAY_SERVER_BINARY [requests] [rounds] [latency_ms]")
local N = math.tointeger(tonumber(arg[2])) or 2048
local ROUNDS = math.tointeger(tonumber(arg[3])) or 5
local LATENCY_MS = math.tointeger(tonumber(arg[4])) or 50
local CONCURRENCY = { 16, 64, 256 }
local LUA = "lua5.4"
local SELF = debug.getinfo(1, "S").source:sub(2)

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local pid = assert(tonumber((sh(("%s %d 1024 >%s/port & echo $!"):format(quote(server_bin), LATENCY_MS, dir)))))
local port
for _ = 1, 100 do
  local f = io.open(dir .. "/port")
  local s = f and f:read("a")
  if f then f:close() end
  port = s and s:match("port (%d+)")
  if port then break end
  os.execute("sleep 0.02")
end
assert(port, "delay_server did not start")
local base = "http://127.0.0.1:" .. port

local function stop()
  os.execute("kill " .. math.tointeger(pid) .. " 2>/dev/null")
  os.execute("rm -rf " .. dir)
end

local function control(path)
  local out = sh(("curl -s %s"):format(quote(base .. path)))
  return out
end

local function stats()
  local s = control("/stats")
  return { accepted = tonumber(s:match('"accepted":(%d+)')), max_open = tonumber(s:match('"max_open":(%d+)')) }
end

-- Runs cmd under bash; returns its stdout and the children's user+sys CPU seconds.
local function timed(cmd)
  local out = sh("bash -c " .. quote(cmd .. "; echo; times"))
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  local cu, cum, cs, csm = lines[#lines]:match("(%d+)m([%d.]+)s (%d+)m([%d.]+)s")
  local cpu = tonumber(cu) * 60 + tonumber(cum) + tonumber(cs) * 60 + tonumber(csm)
  table.remove(lines)
  table.remove(lines)
  return table.concat(lines, "\n"), cpu
end

local curl_cfg = dir .. "/urls.cfg"
do
  local f = assert(io.open(curl_cfg, "w"))
  for _ = 1, N do f:write('url = "', base, '/x"\noutput = "/dev/null"\n') end
  f:close()
end

local function dwell_round(conc)
  control("/reset")
  local out, cpu = timed(("%s %s --child %s %d %d"):format(LUA, quote(SELF), quote(base .. "/x"), conc, N))
  local dt = assert(tonumber(out:match("^([%d.]+)")), "dwell child failed: " .. out)
  local st = stats()
  return { rate = N / dt, cpu = cpu, conns = st.accepted, max_open = st.max_open }
end

local function curl_round(conc, startup)
  control("/reset")
  local t0 = http.monotonic()
  local _, cpu = timed(("curl -s --no-progress-meter -Z --parallel-max %d -K %s 2>/dev/null"):format(conc,
    quote(curl_cfg)))
  local dt = http.monotonic() - t0 - startup
  local st = stats()
  return { rate = N / dt, cpu = cpu, conns = st.accepted, max_open = st.max_open }
end

-- curl's start-up: one answer without latency (/stats), best of a few.
local function curl_startup()
  local best = math.huge
  for _ = 1, 5 do
    local t0 = http.monotonic()
    timed(("curl -s -o /dev/null %s"):format(quote(base .. "/stats")))
    best = math.min(best, http.monotonic() - t0)
  end
  return best
end

local function summary(rounds)
  local rates = {}
  for i, r in ipairs(rounds) do rates[i] = r.rate end
  table.sort(rates)
  local mid = #rates // 2
  local median = #rates % 2 == 1 and rates[mid + 1] or (rates[mid] + rates[mid + 1]) / 2
  local best_cpu, max_conns, max_open = math.huge, 0, 0
  for _, r in ipairs(rounds) do
    best_cpu = math.min(best_cpu, r.cpu)
    max_conns, max_open = math.max(max_conns, r.conns), math.max(max_open, r.max_open)
  end
  return rates[#rates], median, best_cpu, max_conns, max_open
end

local ok, err = xpcall(function()
  control("/x") -- the server answers
  local startup = curl_startup()
  print(("dwell.parallel vs curl -Z: %d GETs of 1 KB per round, server latency %d ms, %d rounds (best, median)")
    :format(N, LATENCY_MS, ROUNDS))
  print(("  curl start-up subtracted: %.1f ms"):format(startup * 1000))
  print(("  %-6s %-22s %9s %9s %9s %11s %10s %9s"):format("conc", "client", "best", "median", "req/s",
    "CPU us/req", "conns", "max open"))
  for _, conc in ipairs(CONCURRENCY) do
    local d, c = {}, {}
    for _ = 1, ROUNDS do
      d[#d + 1] = dwell_round(conc)
      c[#c + 1] = curl_round(conc, startup)
    end
    local ideal = conc / (LATENCY_MS / 1000)
    for _, row in ipairs{ { "dwell.parallel", d }, { "curl -Z --parallel-max", c } } do
      local best, median, cpu, conns, max_open = summary(row[2])
      print(("  %-6d %-22s %8.3fx %8.3fx %9.0f %11.1f %10d %9d"):format(conc, row[1], best / ideal,
        median / ideal, best, cpu / N * 1e6, conns, max_open))
    end
  end
  print("  best/median: throughput as a ratio of ideal = concurrency / latency; conns: connections"
    .. " the server accepted in a round (most of any round)")
end, debug.traceback)
stop()
assert(ok, err)
