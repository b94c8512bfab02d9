--- Many raw TCP connections to 127.0.0.1 at once, for load specs and bench/
-- (lua-luv's event loop: one process holds thousands of sockets).
--
--   local raw = require "support.rawconn"
--   local conns = raw.connect(port, 300)               -- all connected, or an error
--   raw.send(conns, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
--   raw.run_until(function() return raw.all_closed(conns) end, 10)
--   raw.status(conns[1]) --> 200, raw.header(conns[1], "retry-after") --> "1"
--   raw.close(conns)
--
-- Every wait has a deadline (seconds) and raises when it passes, so a spec
-- fails instead of hanging; the loop itself never sleeps past 10 ms.
local uv = require "luv"

local M = {}

--- Runs the event loop until pred() is true; raises after timeout_s.
function M.run_until(pred, timeout_s, what)
  local deadline = uv.hrtime() + math.floor((timeout_s or 10) * 1e9)
  local tick = uv.new_timer()
  tick:start(10, 10, function() end)
  local ok = pred()
  while not ok do
    if uv.hrtime() > deadline then
      tick:stop()
      tick:close()
      error(("rawconn: timed out after %ss waiting for %s"):format(timeout_s or 10, what or "a condition"), 2)
    end
    uv.run("once")
    ok = pred()
  end
  tick:stop()
  tick:close()
  return ok
end

local function start_reading(c)
  c.tcp:read_start(function(err, data)
    if err or not data then
      c.closed = true
      c.error = err
      if not c.tcp:is_closing() then c.tcp:close() end
    else
      c.buf = c.buf .. data
    end
  end)
end

--- Opens n connections to host:port (default 127.0.0.1); returns them once all
-- are connected. Each is { tcp, buf = what arrived, closed, error }.
function M.connect(port, n, opts)
  opts = opts or {}
  local host = opts.host or "127.0.0.1"
  local conns, connected, failed = {}, 0, nil
  for i = 1, n do
    local c = { tcp = uv.new_tcp(), buf = "", closed = false, index = i }
    conns[i] = c
    c.tcp:connect(host, port, function(err)
      if err then failed = failed or err; c.closed = true; return end
      connected = connected + 1
      start_reading(c)
    end)
  end
  M.run_until(function() return failed ~= nil or connected == n end, opts.timeout_s or 20,
    ("%d connections"):format(n))
  if failed then
    M.close(conns)
    error("rawconn: connect failed: " .. tostring(failed), 2)
  end
  return conns
end

--- Writes data on each open connection (a list, or one connection).
function M.send(conns, data)
  if conns.tcp then conns = { conns } end
  for _, c in ipairs(conns) do
    if not c.closed then c.tcp:write(data) end
  end
end

function M.all_closed(conns)
  for _, c in ipairs(conns) do
    if not c.closed then return false end
  end
  return true
end

--- The status of the first response on the connection, or nil.
function M.status(c)
  return math.tointeger(tonumber(c.buf:match("^HTTP/1%.%d (%d%d%d)")))
end

--- A response header's value (first response; name case-insensitive), or nil.
function M.header(c, name)
  local head = c.buf:match("^(.-)\r\n\r\n") or c.buf
  for k, v in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do
    if k:lower() == name:lower() then return v end
  end
end

--- Whether a whole response (head and a Content-Length body) has arrived.
function M.complete(c)
  local head, rest = c.buf:match("^(.-\r\n\r\n)(.*)$")
  if not head then return false end
  local len = math.tointeger(tonumber(M.header(c, "content-length") or ""))
  return len == nil or #rest >= len
end

function M.close(conns)
  for _, c in ipairs(conns) do
    if not c.tcp:is_closing() then c.tcp:close() end
    c.closed = true
  end
  -- Let the loop finish the closes (their callbacks) before anyone goes on.
  uv.run("nowait")
end

return M
