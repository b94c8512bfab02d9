--- Throughput of the sandbox's signed Tuya routes at 1, 16 and 256 concurrent clients.
-- Runs bin/dwell-sandbox --routes tuya as a child process (optionally with --lanes N) and drives
-- it over keep-alive connections on 127.0.0.1 (lua-luv), each client signing every request
-- (HMAC-SHA256, docs/vendors/tuya.md §3) for GET /v1.0/iot-02/community/room-users (PAGE_SIZE=20 in the
-- environment sets the page). Prints requests/s, the
-- server's CPU per request and the speed-up over one client; asserts nothing. The load
-- generator shares the machine's cores with the server: read the figures as a lower bound.
--
--   LUA_PATH='lua/?.lua;lua/?/init.lua;spec/?.lua;;' LUA_CPATH='build/?.so;;' \
--     lua5.4 bench/sandbox_throughput.lua [seconds=4] [lanes=1,2] [concurrency=1,16,256] [rounds=3]
--   LOADGEN=wrk ... the same with wrk as the load generator ("cores busy" is then the server's)
local uv = require "luv"
local core = require "dwell.core"
local raw = require "support.rawconn"

local SECONDS = tonumber(arg[1]) or 4
local function numbers(s, default)
  local out = {}
  for n in (s or default):gmatch("%d+") do out[#out + 1] = tonumber(n) end
  return out
end
local LANES = numbers(arg[2], "1,2")
local CONC = numbers(arg[3], "1,16,256")
local EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
local C = "/v1.0/iot-02/community"

local function now() return uv.hrtime() / 1e9 end

local function start_server(args)
  local out = uv.new_pipe(false)
  local argv = { "bin/dwell-sandbox", "--routes", "tuya" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local handle, pid = uv.spawn("lua5.4", { args = argv, stdio = { nil, out, 2 } }, function() end)
  assert(handle, pid)
  local text = ""
  out:read_start(function(_, data) if data then text = text .. data end end)
  raw.run_until(function() return text:find("secret = %w+") ~= nil end, 30, "the sandbox to start")
  return { pid = pid, handle = handle, out = out, port = tonumber(text:match("listening on http://[^:]+:(%d+)")),
           client_id = text:match("client_id = (%w+)"), secret = text:match("secret = (%w+)"),
           block = text:match("block_ids = %s*1 = (%d+)") }
end

local function stop_server(srv)
  uv.process_kill(srv.handle, "sigterm")
  raw.run_until(function() return not uv.is_active(srv.handle) end, 20, "the sandbox to stop")
  srv.out:close()
  if not srv.handle:is_closing() then srv.handle:close() end
  uv.run("nowait")
end

local function cpu_seconds(pid)
  local f = assert(io.open(("/proc/%d/stat"):format(pid)))
  local fields = {}
  for x in f:read("a"):gsub("^.-%) ", ""):gmatch("%S+") do fields[#fields + 1] = x end
  f:close()
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100 -- utime + stime, in clock ticks
end

local function signed_get(srv, path, query, token)
  local t = ("%d"):format(math.floor(core.http.realtime() * 1000))
  local url = path .. (query ~= "" and ("?" .. query) or "")
  local str = srv.client_id .. (token or "") .. t .. "GET\n" .. EMPTY .. "\n\n" .. url
  local head = { "GET " .. url .. " HTTP/1.1", "Host: 127.0.0.1", "client_id: " .. srv.client_id, "t: " .. t,
                 "sign_method: HMAC-SHA256", "sign: " .. core.hmac_sha256_hex(srv.secret, str, true) }
  if token then head[#head + 1] = "access_token: " .. token end
  return table.concat(head, "\r\n") .. "\r\n\r\n"
end

-- Takes whole responses off the front of c.buf; returns how many, and whether each succeeded.
local function take_responses(c)
  local n, bad = 0, 0
  while true do
    local hend = c.buf:find("\r\n\r\n", 1, true)
    if not hend then break end
    local len = tonumber(c.buf:sub(1, hend):match("[Cc]ontent%-[Ll]ength:%s*(%d+)")) or 0
    if #c.buf < hend + 3 + len then break end
    local body = c.buf:sub(hend + 4, hend + 3 + len)
    if not body:find('"success":true', 1, true) then bad = bad + 1 end
    c.buf = c.buf:sub(hend + 4 + len)
    n = n + 1
  end
  return n, bad
end

local function token(srv)
  local c = raw.connect(srv.port, 1)
  raw.send(c, signed_get(srv, "/v1.0/token", "grant_type=1"))
  raw.run_until(function() return raw.complete(c[1]) end, 10, "a token")
  local tok = c[1].buf:match('"access_token":"(%w+)"')
  raw.close(c)
  return assert(tok, c[1].buf)
end

local PAGE = tonumber(os.getenv("PAGE_SIZE") or "") or 20

local run
function run(srv, tok, conc, seconds)
  local query = ("block_id=%s&page_no=1&page_size=%d"):format(srv.block, PAGE)
  local path = C .. "/room-users"
  local conns = raw.connect(srv.port, conc, { timeout_s = 30 })
  -- rawconn appends what arrives to c.buf; a timer takes whole answers and sends the next request.
  local done, bad, stop_at, measuring = 0, 0, nil, false
  for _, c in ipairs(conns) do raw.send(c, signed_get(srv, path, query, tok)) end
  local pump = uv.new_check()
  pump:start(function()
    for _, c in ipairs(conns) do
      local n, b = take_responses(c)
      if n > 0 then
        if measuring then done = done + n; bad = bad + b end
        if not stop_at or now() < stop_at then raw.send(c, signed_get(srv, path, query, tok)) end
      end
    end
  end)
  -- one second of warm-up, then the measured window
  local t0 = now()
  raw.run_until(function() return now() - t0 > 1 end, 5)
  measuring = true
  local cpu0, w0, own0 = cpu_seconds(srv.pid), now(), os.clock()
  stop_at = w0 + seconds
  raw.run_until(function() return now() >= stop_at end, seconds + 5)
  local wall, cpu, own = now() - w0, cpu_seconds(srv.pid) - cpu0, os.clock() - own0
  measuring = false
  pump:stop()
  pump:close()
  raw.close(conns)
  return done / wall, cpu / math.max(done, 1) * 1000, bad, (cpu + own) / wall
end

-- LOADGEN=wrk: wrk (Debian's package: `DWELL_BOOTSTRAP_EXTRAS=wrk scripts/bootstrap`) drives the
-- connections instead, re-sending one request signed at the start (the gateway accepts a `t`
-- within 15 minutes and checks no nonce), so the load generator costs far less than the
-- server; after each run the same request is sent once more and must still succeed.
local function run_wrk(srv, tok, conc, seconds)
  local query = ("block_id=%s&page_no=1&page_size=%d"):format(srv.block, PAGE)
  local path = C .. "/room-users"
  local head = signed_get(srv, path, query, tok)
  local words = {}
  for line in head:gmatch("[^\r\n]+") do
    if not line:find("^GET ") and not line:find("^Host:") then words[#words + 1] = "-H '" .. line .. "'" end
  end
  local url = ("http://127.0.0.1:%d%s?%s"):format(srv.port, path, query)
  local cpu0, w0 = cpu_seconds(srv.pid), now()
  local p = assert(io.popen(("wrk -t1 -c%d -d%ds %s '%s' 2>&1"):format(conc, seconds, table.concat(words, " "), url)))
  local out = p:read("a")
  p:close()
  local wall, cpu = now() - w0, cpu_seconds(srv.pid) - cpu0
  local rps = tonumber(out:match("Requests/sec:%s*([%d.]+)")) or 0
  local bad = tonumber(out:match("Non%-2xx or 3xx responses:%s*(%d+)")) or 0
  -- the same request after the run, answered with success (Tuya errors are HTTP 200)
  local c = raw.connect(srv.port, 1)
  raw.send(c, head)
  raw.run_until(function() return raw.complete(c[1]) end, 10, "a check")
  if not c[1].buf:find('"success":true', 1, true) then bad = bad + 1 end
  raw.close(c)
  return rps, cpu / math.max(rps * seconds, 1) * 1000, bad, cpu / wall
end
if os.getenv("LOADGEN") == "wrk" then run = run_wrk end

-- Rounds alternate the lane counts so that a busy neighbour on the machine hits each alike;
-- the median of the rounds is printed.
local ROUNDS = tonumber(arg[4]) or 3
local results = {}
for _ = 1, ROUNDS do
  for _, lanes in ipairs(LANES) do
    local srv = start_server(lanes > 1 and { "--lanes", tostring(lanes) } or {})
    local tok = token(srv)
    for _, conc in ipairs(CONC) do
      local rps, cpu_ms, bad, busy = run(srv, tok, conc, SECONDS)
      local key = lanes .. ":" .. conc
      results[key] = results[key] or {}
      table.insert(results[key], { rps = rps, cpu = cpu_ms, bad = bad, busy = busy })
    end
    stop_server(srv)
  end
end

local function median(list, field)
  local v = {}
  for i, r in ipairs(list) do v[i] = r[field] end
  table.sort(v)
  return v[(#v + 1) // 2]
end

print(("signed GET room-users (page_size %d), %ds per point, median of %d rounds, %d cores; 'cores busy' ="
  .. (os.getenv("LOADGEN") == "wrk" and " the server's (load: wrk)" or " server + this client, of the machine's"))
  :format(PAGE, SECONDS, ROUNDS,
  tonumber(io.popen("nproc"):read("l")) or 0))
local one_lane = {}
for _, lanes in ipairs(LANES) do
  local base
  for _, conc in ipairs(CONC) do
    local list = results[lanes .. ":" .. conc]
    local rps, cpu, busy = median(list, "rps"), median(list, "cpu"), median(list, "busy")
    local bad = 0
    for _, r in ipairs(list) do bad = bad + r.bad end
    base = base or rps
    if lanes == LANES[1] then one_lane[conc] = rps end
    print(("lanes %d, %3d clients: %7.0f req/s, server CPU %.2f ms/req, cores busy %.2f, x%.2f of 1 client, x%.2f of lanes %d%s")
      :format(lanes, conc, rps, cpu, busy, rps / base, rps / one_lane[conc], LANES[1],
              bad > 0 and (" (" .. bad .. " failed)") or ""))
  end
end
