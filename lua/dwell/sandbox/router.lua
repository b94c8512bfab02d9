--- The sandbox's dispatcher. Runs only inside the server's own lua_State
-- (src/sandbox.c loads it there); every call happens under the server's lock.
--
-- new(spec, now) -> router with
--   dispatch(req) -> status, headers, body (string), delay_ms, kind, ran
--                    (kind: nil | "reset" | "hang" | "truncate", carried out in C)
--   lane_dispatch(req), replay(req), record(req), merge(set, action, args, results...):
--                    for several lanes (spec.lanes > 1), see src/sandbox_http.c run_job
--   requests()    -> the recorded requests, oldest first
--   reset()       -> re-runs every route set's setup, clears recordings and fault counters
--   control(set, action, args) -> the control function's result
-- A route set's setup returns routes, controls and optionally merge = { control = fn(results) };
-- a route `{ method, pattern, handler, read = true }` changes no state, so with several lanes
-- it runs on any one of them (its handler gets ctx.read_only and may return ctx.WRITE).
-- spec = { sets = { { name = "echo", config = {...} }, ... }, faults = {...}, lanes = 1, lane = 1,
--          seed = 1, record_limit = 10000, record_bytes = 32 MiB, record_body_bytes = 64 KiB }
local routes = require "dwell.sandbox.routes"
local faults = require "dwell.sandbox.faults"
local rng = require "dwell.sandbox.rng"
local support = require "dwell.sandbox.support"
local json = require "dwell.sandbox.json"
local core = require "dwell.core"

local M = {}

-- Before any route set can wrap it (spec/support/hostile.lua does).
local original_pick = faults.pick
local real_random_hex = core.random_hex

--- What a handler called as a read (ctx.read_only) returns to be run as a write instead.
M.WRITE = setmetatable({}, { __name = "dwell.sandbox.WRITE", __tostring = function() return "WRITE" end })

local deep_copy = support.copy

local function load_set(name)
  if type(name) ~= "string" or not name:match("^[%w_]+$") then
    error(("bad route set name %s"):format(tostring(name)), 0)
  end
  local ok, mod = pcall(require, "dwell.sandbox." .. name)
  if not ok then
    local missing = tostring(mod):match("^module '[^']+' not found")
    error(missing and ("unknown route set '%s' (no module dwell.sandbox.%s)"):format(name, name)
      or ("route set '%s' failed to load: %s"):format(name, tostring(mod)), 0)
  end
  if type(mod) ~= "function" then
    error(("'%s' is not a route set (dwell.sandbox.%s must return a setup function)"):format(name, name), 0)
  end
  return mod
end

-- Runs one set's setup and appends its routes (compiled) to `into`.
local function setup_set(set, env, into)
  local ok, set_routes, controls, merge = pcall(set.setup, deep_copy(set.config), env)
  if not ok then error(("route set '%s' setup failed: %s"):format(set.name, tostring(set_routes)), 0) end
  if type(set_routes) ~= "table" then error(("route set '%s' returned no routes"):format(set.name), 0) end
  for i, r in ipairs(set_routes) do
    local where = ("route set '%s', route %d"):format(set.name, i)
    if type(r) ~= "table" or type(r[1]) ~= "string" or type(r[3]) ~= "function" then
      error(where .. ": expected { method, pattern, handler }", 0)
    end
    local okc, compiled = pcall(routes.compile, r[2])
    if not okc then error(where .. ": " .. compiled, 0) end
    into[#into + 1] = { method = r[1]:upper(), pattern = compiled, handler = r[3], set = set.name,
                        read = r.read == true }
  end
  set.controls = type(controls) == "table" and controls or {}
  set.merge = type(merge) == "table" and merge or {}
end

local function find_route(list, method, path)
  local path_matched = false
  for _, r in ipairs(list) do
    local captures = routes.match(r.pattern, path)
    if captures then
      if r.method == "*" or r.method == method or (method == "HEAD" and r.method == "GET") then
        return r, captures
      end
      path_matched = true
    end
  end
  return nil, path_matched
end

local function has_header(headers, name)
  for k in pairs(headers) do
    if type(k) == "string" and k:lower() == name then return true end
  end
  return false
end

-- Turns a handler's return values into status, headers, body string.
local function finish(status, headers, body)
  if status == nil then status = 200 end
  if math.type(status) ~= "integer" or status < 100 or status > 599 then
    return 500, { ["Content-Type"] = "text/plain" }, "sandbox: handler returned a bad status " .. tostring(status)
  end
  headers = type(headers) == "table" and headers or {}
  if type(body) == "table" then
    local text, err = json.encode(body)
    if not text then
      return 500, { ["Content-Type"] = "text/plain" }, "sandbox: cannot encode the handler's body: " .. tostring(err)
    end
    if not has_header(headers, "content-type") then headers["Content-Type"] = "application/json" end
    body = text
  elseif body == nil then
    body = ""
  else
    body = tostring(body)
  end
  return status, headers, body
end

local function error_body(status, err, detail)
  local body = { error = err, message = detail }
  return finish(status, {}, body)
end

local function run_handler(self, req)
  local route, captures = find_route(self.routes, req.method, req.path)
  if not route then
    if captures then return error_body(405, "method_not_allowed", req.method .. " " .. req.path) end
    return error_body(404, "no_route", req.method .. " " .. req.path)
  end
  req.captures = captures
  local ok, status, headers, body = pcall(route.handler, req, self.ctx)
  if not ok then return error_body(500, "handler_error", tostring(status)) end
  return finish(status, headers, body)
end

local NON_JSON = "<html><body><h1>Service temporarily unavailable</h1></body></html>"

-- Replaces or alters the response as the fault says; returns the 5 results.
local function apply_fault(f, status, headers, body)
  local delay = f.delay_ms or 0
  if f.kind == "reset" or f.kind == "hang" then return 0, {}, "", delay, f.kind end
  if f.kind == "status" then
    status, headers, body = finish(f.status or 503, deep_copy(f.headers) or {},
      f.body == nil and { error = "injected_fault", status = f.status or 503 } or deep_copy(f.body))
  elseif f.kind == "non_json" then
    headers = deep_copy(f.headers) or { ["Content-Type"] = "application/json" }
    status, body = f.status or 200, type(f.body) == "string" and f.body or NON_JSON
  elseif f.kind == "truncate" then
    -- A body of at least two bytes so that half of it is something.
    if #body < 2 then body = '{"truncated":true}' end
    return status, headers, body, delay, "truncate"
  end
  return status, headers, body, delay, nil
end

-- What a record costs in bytes, roughly: its strings (the table overhead aside).
local function record_size(r)
  local n = #r.method + #r.path + #r.query + #r.body
  for k, v in pairs(r.headers) do n = n + #k + #v end
  return n
end

-- Keeps the newest record_limit requests within record_bytes, each body cut to
-- record_body_bytes: a load test's uploads must not stay in memory.
local function record(self, req)
  local body = req.body
  local r = { method = req.method, path = req.path, query = req.query, params = req.params,
              headers = req.headers, body = body, body_size = #body }
  if #body > self.record_body_bytes then
    r.body, r.body_truncated = body:sub(1, self.record_body_bytes), true
  end
  r.size = record_size(r)
  self.last = self.last + 1
  self.log[self.last] = r
  self.log_bytes = self.log_bytes + r.size
  while self.last - self.first + 1 > self.record_limit
    or (self.log_bytes > self.record_bytes and self.first < self.last) do
    self.log_bytes = self.log_bytes - self.log[self.first].size
    self.log[self.first] = nil
    self.first = self.first + 1
  end
end

local Router = {}
Router.__index = Router

-- A random stream for one request that every lane replays alike (xorshift64*,
-- dwell.sandbox.rng): tokens issued by a write are the same on every replica.
local function seeded_hex(seed)
  local step = rng.xorshift(seed)
  return function(n)
    local out = {}
    for i = 1, (n or 16) do out[i] = ("%02x"):format((step() >> 56) & 0xff) end
    return table.concat(out)
  end
end

-- With several lanes, a request runs at the time C read once for it, and a write
-- (seq > 0) with random values seeded by its sequence number.
function Router:pin(req)
  if self.lanes == 1 then return end
  self.clock.pinned = req.now
  if (req.seq or 0) > 0 then core.random_hex = seeded_hex(self.seed * 1000003 + req.seq) end
end

function Router:unpin()
  self.clock.pinned = nil
  core.random_hex = real_random_hex
end

local function run_pinned(self, req)
  self:pin(req)
  local ok, status, headers, body = pcall(run_handler, self, req)
  self:unpin()
  if not ok then return error_body(500, "handler_error", tostring(status)) end
  return status, headers, body
end

-- Returns status, headers, body, delay_ms, kind, ran (whether the handler ran).
function Router:dispatch(req)
  req.params = routes.parse_query(req.query)
  record(self, req)
  local f = faults.pick(self.faults, req.method, req.path)
  local skip_handler = f and not f.handled and f.kind ~= "truncate" and f.kind ~= "delay"
  local status, headers, body = 0, {}, ""
  if not skip_handler then status, headers, body = run_pinned(self, req) end
  if f then
    local s, h, b, delay, kind = apply_fault(f, status, headers, body)
    return s, h, b, delay, kind, not skip_handler
  end
  return status, headers, body, 0, nil, not skip_handler
end

--- Lanes: the request as a read on this lane, or false when it must run on every lane
-- (a route not declared `read = true`, any fault configured, or the handler returning
-- ctx.WRITE). Not recorded here: C records it on lane 0 afterwards.
function Router:lane_dispatch(req)
  if #self.faults > 0 or faults.pick ~= original_pick then return false end
  local route, captures = find_route(self.routes, req.method, req.path)
  if not route or not route.read then return false end
  req.params = routes.parse_query(req.query)
  req.captures = captures
  self:pin(req)
  local ok, status, headers, body = pcall(route.handler, req, self.read_ctx)
  self:unpin()
  if ok and status == M.WRITE then return false end
  if not ok then status, headers, body = error_body(500, "handler_error", tostring(status))
  else status, headers, body = finish(status, headers, body) end
  return status, headers, body, 0, nil, true
end

--- Lanes: a write that lane 0 answered, replayed on another lane (no record, no faults).
function Router:replay(req)
  req.params = routes.parse_query(req.query)
  if req.run_handler then run_pinned(self, req) end
end

--- Lanes: records a request another lane served as a read.
function Router:record(req)
  req.params = routes.parse_query(req.query)
  record(self, req)
end

--- Lanes: one control's results from every lane (lane 0's first) made into one answer
-- by the route set's merge function for it, if it has one; else lane 0's.
function Router:merge(set_name, action, _, ...)
  local results = { ... }
  for _, set in ipairs(self.sets) do
    if set.name == set_name and type(set.merge[action]) == "function" then return set.merge[action](results) end
  end
  return results[1]
end

function Router:requests()
  local out = {}
  for i = self.first, self.last do
    local r = self.log[i]
    out[#out + 1] = { method = r.method, path = r.path, query = r.query, params = r.params,
                      headers = r.headers, body = r.body, body_size = r.body_size,
                      body_truncated = r.body_truncated }
  end
  return out
end

function Router:reset()
  local list = {}
  self.env.clock_offset = self.initial_offset
  for _, set in ipairs(self.sets) do setup_set(set, self.env, list) end
  self.routes = list
  self.log, self.first, self.last, self.log_bytes = {}, 1, 0, 0
  faults.reset(self.faults)
  return true
end

-- The built-in "sandbox" control set: the emulated clock and introspection.
local function builtin_control(self, action, args)
  args = args or {}
  if action == "clock" then
    if args.offset ~= nil then self.env.clock_offset = args.offset end
    if args.advance ~= nil then self.env.clock_offset = self.env.clock_offset + args.advance end
    return { now = self.env.now(), offset = self.env.clock_offset }
  elseif action == "controls" then
    local out = {}
    for _, set in ipairs(self.sets) do
      local names = {}
      for name in pairs(set.controls) do names[#names + 1] = name end
      table.sort(names)
      out[set.name] = names
    end
    return out
  end
  error(("the sandbox has no control '%s' (expected clock or controls)"):format(tostring(action)), 0)
end

function Router:control(set_name, action, args)
  if set_name == "sandbox" then return builtin_control(self, action, args) end
  for _, set in ipairs(self.sets) do
    if set.name == set_name then
      local fn = set.controls[action]
      if type(fn) ~= "function" then
        error(("route set '%s' has no control '%s'"):format(set_name, tostring(action)), 0)
      end
      return fn(args)
    end
  end
  error(("no route set '%s' in this sandbox"):format(tostring(set_name)), 0)
end

function M.new(spec, now)
  spec = spec or {}
  local env = { clock_offset = spec.clock_offset or 0, lanes = math.tointeger(spec.lanes) or 1 }
  local clock = { pinned = nil }
  function env.now() return (clock.pinned or now()) + env.clock_offset end
  local self = setmetatable({
    env = env, initial_offset = env.clock_offset, sets = {}, clock = clock,
    lanes = math.tointeger(spec.lanes) or 1, seed = math.tointeger(spec.seed) or 1,
    faults = faults.compile(spec.faults, spec.seed),
    record_limit = spec.record_limit or 10000,
    record_bytes = spec.record_bytes or 32 * 1024 * 1024,
    record_body_bytes = spec.record_body_bytes or 64 * 1024,
  }, Router)
  self.ctx = { env = env, WRITE = M.WRITE }
  self.read_ctx = { env = env, WRITE = M.WRITE, read_only = true }
  for _, s in ipairs(spec.sets or {}) do
    self.sets[#self.sets + 1] = { name = s.name, config = s.config or {}, setup = load_set(s.name) }
  end
  self:reset()
  -- C calls these as plain functions.
  return {
    dispatch = function(req) return self:dispatch(req) end,
    requests = function() return self:requests() end,
    reset = function() return self:reset() end,
    control = function(set, action, args) return self:control(set, action, args) end,
    lane_dispatch = function(req) return self:lane_dispatch(req) end,
    replay = function(req) return self:replay(req) end,
    record = function(req) return self:record(req) end,
    merge = function(...) return self:merge(...) end,
  }
end

return M
