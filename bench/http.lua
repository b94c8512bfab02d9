--- bench/http.lua: client CPU per keep-alive GET, dwell.core.http against a
-- plain libcurl loop, and dwell.parallel throughput against the sandbox.
-- Not a test: it prints figures, nothing asserts speed.
--   lua5.4 bench/http.lua RAW_CURL_BINARY [requests, default 20000]
--
-- nginx (Debian's nginx-light) serves a static 15 KB JSON page on 127.0.0.1
-- from a temp config. CPU time is user+sys of the client only: getrusage in
-- raw_curl, os.clock() (process CPU time) here. Each figure is the best of
-- several interleaved rounds, since a shared machine adds noise upward only.
local http = require("dwell.core").http

local raw_curl = assert(arg[1], "usage: bench/http.lua RAW_CURL_BINARY [requests]")
local N = tonumber(arg[2]) or 20000
local ROUNDS = 5

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

local function write(path, s)
  local f = assert(io.open(path, "w"))
  f:write(s)
  f:close()
end

local function nginx_binary()
  for _, p in ipairs{ "/usr/sbin/nginx", "/usr/bin/nginx" } do
    local f = io.open(p)
    if f then f:close() return p end
  end
  error("nginx not found: run `DWELL_BOOTSTRAP_EXTRAS=nginx-light scripts/bootstrap`")
end

-- Starts nginx on a free port; returns the page URL and a stop function.
local function start_nginx()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/logs"))
  local page = '{"rows":[' .. ('{"id":1234567890123456789,"name":"resident"},'):rep(340) .. '{"id":0}]}'
  write(dir .. "/page.json", page)
  local nginx = nginx_binary()
  for _ = 1, 20 do
    local port = math.random(20000, 60000)
    write(dir .. "/nginx.conf", table.concat({
      "worker_processes 1;", "daemon on;", "pid " .. dir .. "/nginx.pid;",
      "error_log " .. dir .. "/logs/error.log;", "events { worker_connections 64; }",
      "http { access_log off; keepalive_requests 10000000; keepalive_timeout 300s;",
      "  default_type application/json;",
      "  server { listen 127.0.0.1:" .. port .. "; root " .. dir .. "; } }",
    }, "\n"))
    local _, ok = sh(("%s -c %s/nginx.conf -p %s 2>&1"):format(nginx, dir, dir))
    if ok then
      local function stop()
        local f = io.open(dir .. "/nginx.pid")
        local pid = f and f:read("n")
        if f then f:close() end
        if pid then os.execute("kill " .. math.tointeger(pid)) end
        os.execute("sleep 0.2; rm -rf " .. dir)
      end
      return ("http://127.0.0.1:%d/page.json"):format(port), #page, stop
    end
  end
  error("could not start nginx")
end

local function raw_round(url)
  local out = sh(("%s '%s' %d '%s'"):format(raw_curl, url, N, http.user_agent))
  return (assert(tonumber(out), "raw_curl failed: " .. out))
end

local function dwell_round(session, url, touch_headers)
  local req = { url = url }
  assert(session:request(req).status == 200)
  local t0 = os.clock()
  for _ = 1, N do
    local r = session:request(req)
    if touch_headers then local _ = r.headers end
  end
  return os.clock() - t0
end

local function parallel_throughput()
  local ok, sandbox = pcall(require, "dwell.sandbox")
  if not ok then return nil end
  local dwell = require "dwell"
  local sb <close> = assert(sandbox.start{ routes = { "static" }, latency_ms = 50 })
  local t = dwell.transport.new{}
  local calls, n = {}, 16 * 20
  for i = 1, n do calls[i] = { function() return assert(t:send{ url = sb.url .. "/static/1024" }).status end } end
  dwell.parallel({ calls[1] }, { concurrency = 1 })
  local t0 = http.monotonic()
  local results = dwell.parallel(calls, { concurrency = 16 })
  local dt = http.monotonic() - t0
  assert(#results == n)
  return n / dt, sb:stats().max_in_flight
end

local url, size, stop = start_nginx()
local ok, err = xpcall(function()
  local session = http.new_session()
  local best = { raw = math.huge, dwell = math.huge, dwell_h = math.huge }
  for _ = 1, ROUNDS do
    best.raw = math.min(best.raw, raw_round(url))
    best.dwell = math.min(best.dwell, dwell_round(session, url, false))
    best.dwell_h = math.min(best.dwell_h, dwell_round(session, url, true))
  end
  local function line(name, secs)
    print(("%-44s %8.2f us/request  %5.3fx"):format(name, secs / N * 1e6, secs / best.raw))
  end
  print(("client CPU (user+sys) per keep-alive GET of a %d-byte page, %d requests, best of %d"):format(
    size, N, ROUNDS))
  line("C loop, one libcurl easy handle (floor)", best.raw)
  line("dwell.core.http session:request", best.dwell)
  line("dwell.core.http session:request + .headers", best.dwell_h)
  local vendor = pcall(require, "dwell.tuya")
  if not vendor then print("full signed vendor call: skipped (no vendor client in this tree)") end
end, debug.traceback)
stop()
assert(ok, err)

local rate, max_in_flight = parallel_throughput()
if rate then
  local ideal = 16 / 0.05
  print(("dwell.parallel, concurrency 16, sandbox latency 50 ms: %.1f req/s = %.3f of ideal %d req/s"
    .. " (max in flight %d)"):format(rate, rate / ideal, ideal, max_in_flight))
end
