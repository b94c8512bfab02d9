--- dwell.sandbox: a local HTTP(S) server emulating the vendor APIs, for tests,
-- examples and users' own automation (see docs/internals.md, "Sandbox").
--
--   local sb = assert(require("dwell.sandbox").start{ routes = { "echo" }, latency_ms = 0 })
--   sb.url, sb.port, sb:requests(), sb:stats(), sb:reset(), sb:control(set, action, args), sb:stop()
--
-- start returns `nil, err` for every bad option (unknown route set, invalid
-- fault spec, port in use, invalid certificate, ...); it never raises for them.
-- @module dwell.sandbox
local server = require "dwell.sandbox.server"
local pem = require "dwell.sandbox.pem"

local M = {}

--- A running sandbox: `sb.url`, `sb.host`, `sb.port` and the methods below.
-- @type Sandbox
local Sandbox = {}
Sandbox.__index = Sandbox

--- Every request received so far (oldest first, the newest `record_limit` of
-- them within `record_bytes`): { method, path, query (raw), params (decoded),
-- headers (lower-case names), body, body_size }. `body` keeps the first
-- `record_body_bytes` bytes; `body_truncated` is true when it was cut.
-- Requests answered 503 over the connection limit are not recorded.
function Sandbox:requests() return self._srv:requests() end

--- { served, received, in_flight, max_in_flight, connections, connections_total,
--    max_connections (most open at once), rejected (503s over the connection
--    limit), evicted (waiting connections closed to make room) }
function Sandbox:stats() return self._srv:stats() end

--- Clears recorded requests, statistics and fault counters and re-runs every
-- route set's setup, so seeded state is fresh. Returns true or nil, err.
function Sandbox:reset() return self._srv:reset() end

--- Runs a route set's control function in the server; returns its result or nil, err.
-- The built-in set "sandbox" has `clock` ({ offset = s } or { advance = s }) and `controls`.
function Sandbox:control(set, action, args) return self._srv:control(set, action, args) end

--- Stops serving (idempotent); requests() and stats() keep working until close.
function Sandbox:stop() self._srv:stop() end

--- Stops and frees everything; also what __close and garbage collection do.
function Sandbox:close() self._srv:close() end

Sandbox.__close = Sandbox.close

local function check_int(opts, name, lo, hi)
  local v = opts[name]
  if v ~= nil and (math.type(v) ~= "integer" or v < lo or v > hi) then
    return ("'%s' must be an integer in %d..%d"):format(name, lo, hi)
  end
end

local function check_options(opts)
  if opts.host ~= nil and type(opts.host) ~= "string" then return "'host' must be a string" end
  local err = check_int(opts, "port", 0, 65535) or check_int(opts, "latency_ms", 0, 3600000)
    or check_int(opts, "seed", 0, math.maxinteger) or check_int(opts, "record_limit", 1, math.maxinteger)
    or check_int(opts, "record_bytes", 0, math.maxinteger) or check_int(opts, "record_body_bytes", 0, math.maxinteger)
    or check_int(opts, "threads", 1, 256) or check_int(opts, "lanes", 1, 64)
    or check_int(opts, "max_connections", 1, 1000000)
    or check_int(opts, "overflow_connections", 0, 1000000) or check_int(opts, "idle_timeout_s", 0, 86400)
    or check_int(opts, "header_timeout_ms", 0, 3600000)
  if err then return err end
  if opts.faults ~= nil and type(opts.faults) ~= "table" then return "'faults' must be a list" end
  local tls = opts.tls
  if tls ~= nil then
    if type(tls) ~= "table" or type(tls.cert) ~= "string" or type(tls.key) ~= "string" then
      return "'tls' must be { cert = pem, key = pem }"
    end
    local ok, why = pem.check(tls.cert, true)
    if not ok then return "tls.cert is not a PEM certificate: " .. why end
    ok, why = pem.check(tls.key)
    if not ok then return "tls.key is not a PEM private key: " .. why end
  end
end

-- "echo" | { set = "tuya", config = {...} } -> { name =, config = }
local function route_sets(list)
  if list == nil then list = { "echo", "static" } end
  if type(list) ~= "table" then return nil, "'routes' must be a list of route set names or { set =, config = }" end
  local sets = {}
  for i, entry in ipairs(list) do
    if type(entry) == "string" then
      sets[i] = { name = entry, config = {} }
    elseif type(entry) == "table" and type(entry.set) == "string" then
      if entry.config ~= nil and type(entry.config) ~= "table" then
        return nil, ("routes[%d]: 'config' must be a table"):format(i)
      end
      sets[i] = { name = entry.set, config = entry.config or {} }
    else
      return nil, ("routes[%d]: expected a route set name or { set = name, config = {...} }"):format(i)
    end
  end
  return sets
end

local function url_host(host)
  if host == "0.0.0.0" then return "127.0.0.1" end
  if host == "::" then return "[::1]" end
  if host:find(":", 1, true) then return "[" .. host .. "]" end
  return host
end

--- Module functions.
-- @section module

--- Starts a sandbox (see the module comment); returns it, or nil and a message.
-- @tparam[opt] table opts the options:
-- @tparam[opt] {string|table,...} opts.routes route sets: "tuya", "rooms", "ruckus", "echo", "static", or
--   `{ set = "tuya", config = {...} }` (README, "The local sandbox", lists each set's configuration)
-- @tparam[opt] string opts.host address to listen on (default 127.0.0.1)
-- @tparam[opt] integer opts.port port (default 0: any free port)
-- @tparam[opt] integer opts.latency_ms delay every answer
-- @tparam[opt] table opts.faults faults to inject (docs/internals.md, "Sandbox")
-- @tparam[opt] integer opts.seed seed for probabilistic faults
-- @tparam[opt] integer opts.record_limit most recent requests kept (10000)
-- @tparam[opt] table opts.tls `{ cert = pem, key = pem }` serves HTTPS
-- @tparam[opt] integer opts.record_bytes bytes of recorded requests kept in all (32 MiB)
-- @tparam[opt] integer opts.record_body_bytes bytes of each recorded body kept (64 KiB)
-- @tparam[opt] integer opts.threads worker threads, event-driven (4)
-- @tparam[opt] integer opts.max_connections connections served at once (1024)
-- @tparam[opt] integer opts.overflow_connections more connections, each answered 503 with Retry-After (4096)
-- @tparam[opt] integer opts.header_timeout_ms over the limit, a connection that has waited this long for
--   a request is closed to admit a new one (1000)
-- @tparam[opt] integer opts.idle_timeout_s an idle connection is closed after this (30)
-- @tparam[opt] integer opts.lanes Lua states serving the routes (1); with more, routes declared
--   read-only run on any of them in parallel and the rest on every one in turn (docs/internals.md)
-- @return a Sandbox, or nil and a message
function M.start(opts)
  opts = opts or {}
  if type(opts) ~= "table" then return nil, "sandbox.start: options must be a table" end
  local err = check_options(opts)
  local sets
  if not err then sets, err = route_sets(opts.routes) end
  if err then return nil, "sandbox.start: " .. err end
  local host = opts.host or "127.0.0.1"
  local ok, srv, serr = pcall(server.start, {
    host = host, port = opts.port or 0, latency_ms = opts.latency_ms or 0,
    threads = opts.threads, lanes = opts.lanes, max_connections = opts.max_connections,
    overflow_connections = opts.overflow_connections, idle_timeout_s = opts.idle_timeout_s,
    header_timeout_ms = opts.header_timeout_ms,
    cert = opts.tls and opts.tls.cert, key = opts.tls and opts.tls.key,
    router = { sets = sets, faults = opts.faults, seed = opts.seed or 1,
               record_limit = opts.record_limit or 10000, record_bytes = opts.record_bytes,
               record_body_bytes = opts.record_body_bytes },
  })
  if not ok then return nil, "sandbox.start: " .. tostring(srv) end
  if not srv then return nil, "sandbox.start: " .. tostring(serr) end
  local port = srv:port()
  return setmetatable({
    _srv = srv, host = host, port = port,
    url = ("%s://%s:%d"):format(opts.tls and "https" or "http", url_host(host), port),
  }, Sandbox)
end

--- Blocks until SIGINT or SIGTERM (or `timeout_s`); returns the signal's name or nil.
M.wait_for_signal = server.wait_for_signal

--- Whether this libmicrohttpd was built with TLS.
M.tls_supported = server.tls_supported

return M
