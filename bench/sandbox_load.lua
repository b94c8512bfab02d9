--- The sandbox under load: connections answered, a slowloris, memory.
-- Runs bin/dwell-sandbox as a child process (so its memory is its own) and
-- talks to it over raw sockets on 127.0.0.1 (lua-luv). Prints figures; asserts nothing.
--
--   LUA_PATH='lua/?.lua;lua/?/init.lua;spec/?.lua;;' LUA_CPATH='build/?.so;;' lua5.4 bench/sandbox_load.lua
--   ... lua5.4 bench/sandbox_load.lua connections|slowloris|memory   (one part)
local uv = require "luv"
local raw = require "support.rawconn"

local GET = "GET /static/16 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

local function now() return uv.hrtime() / 1e9 end

-- Starts bin/dwell-sandbox with args; returns { pid, port, handle }.
local function start_server(args)
  local out = uv.new_pipe(false)
  local argv = { "bin/dwell-sandbox", "--routes", "static" }
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  local handle, pid = uv.spawn("lua5.4", { args = argv, stdio = { nil, out, 2 } }, function() end)
  assert(handle, pid)
  local text, port = "", nil
  out:read_start(function(_, data)
    if data then text = text .. data; port = port or tonumber(text:match("listening on http://[^:]+:(%d+)")) end
  end)
  raw.run_until(function() return port ~= nil end, 20, "the sandbox to start")
  return { pid = pid, port = port, handle = handle, out = out }
end

local function stop_server(srv)
  uv.process_kill(srv.handle, "sigterm")
  raw.run_until(function() return not uv.is_active(srv.handle) end, 20, "the sandbox to stop")
  srv.out:close()
  if not srv.handle:is_closing() then srv.handle:close() end
  uv.run("nowait")
end

local function rss_mb(pid)
  local f = io.open(("/proc/%d/status"):format(pid))
  if not f then return nil end
  local kb = f:read("a"):match("VmRSS:%s*(%d+)")
  f:close()
  return tonumber(kb) / 1024
end

local function tally(conns)
  local count = {}
  for _, c in ipairs(conns) do
    local st = raw.status(c) or "no answer"
    count[st] = (count[st] or 0) + 1
  end
  local keys = {}
  for k in pairs(count) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = ("%s: %d"):format(k, count[k]) end
  return table.concat(parts, ", ")
end

-- One request on a new connection; returns status (or "no answer") and seconds.
local function one_request(port, timeout_s)
  local t0 = now()
  local c = raw.connect(port, 1)
  raw.send(c, GET)
  pcall(raw.run_until, function() return c[1].closed or raw.complete(c[1]) end, timeout_s or 10)
  local st = raw.status(c[1]) or "no answer"
  raw.close(c)
  return st, now() - t0
end

local parts = {}

function parts.connections()
  for _, n in ipairs({ 2000 }) do
    local srv = start_server()
    local t0 = now()
    local conns = raw.connect(srv.port, n, { timeout_s = 60 })
    raw.send(conns, GET)
    raw.run_until(function() return raw.all_closed(conns) end, 120, "every answer")
    print(("connections: %d opened at once (defaults: max_connections 1024): %s in %.2fs")
      :format(n, tally(conns), now() - t0))
    raw.close(conns)
    stop_server(srv)
  end
end

function parts.slowloris()
  for _, limit in ipairs({ 1024, 4096 }) do
    local srv = start_server{ "--max-connections", tostring(limit) }
    local slow = raw.connect(srv.port, 1500, { timeout_s = 60 })
    raw.send(slow, "GET /static/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ")
    local t0 = now()
    local seen, first_ok = {}, nil
    while now() - t0 < 12 do
      raw.send(slow, "a") -- keep trickling
      local st, secs = one_request(srv.port, 5)
      seen[#seen + 1] = ("%s@%.1fs(%.0fms)"):format(st, now() - t0, secs * 1000)
      if st == 200 and not first_ok then first_ok = now() - t0 end
      if first_ok and now() - t0 > first_ok + 1 then break end
      local w = uv.new_timer()
      local done = false
      w:start(500, 0, function() done = true end)
      raw.run_until(function() return done end, 5)
      w:close()
    end
    local closed = 0
    for _, c in ipairs(slow) do if c.closed then closed = closed + 1 end end
    print(("slowloris: 1500 slow connections, max_connections %d, header timeout 1 s (the default): first 200 after %s; "
      .. "%d slow connections closed by the server\n  normal requests: %s")
      :format(limit, first_ok and ("%.1fs"):format(first_ok) or "never", closed, table.concat(seen, " ")))
    raw.close(slow)
    stop_server(srv)
  end
end

function parts.memory()
  local srv = start_server()
  local base = rss_mb(srv.pid)
  local body = ("m"):rep(20 * 1024 * 1024)
  local head = ("POST /no/route HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"):format(#body)
  local conns = raw.connect(srv.port, 40)
  raw.send(conns, head)
  raw.send(conns, body)
  local peak = base
  local sampler = uv.new_timer()
  sampler:start(20, 20, function() peak = math.max(peak, rss_mb(srv.pid) or 0) end)
  raw.run_until(function() return raw.all_closed(conns) end, 120, "every answer")
  sampler:stop()
  sampler:close()
  local settle = uv.new_timer()
  local done = false
  settle:start(500, 0, function() done = true end)
  raw.run_until(function() return done end, 5)
  settle:close()
  print(("memory: 40 concurrent POSTs of 20 MB to a path with no route (%s): RSS %.0f MB before, %.0f MB peak, %.0f MB after")
    :format(tally(conns), base, peak, rss_mb(srv.pid)))
  raw.close(conns)
  stop_server(srv)
end

local which = arg[1]
for _, name in ipairs({ "connections", "slowloris", "memory" }) do
  if which == nil or which == name then parts[name]() end
end
