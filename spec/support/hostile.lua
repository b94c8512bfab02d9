--- A hostile HTTP server for specs: a real dwell.sandbox on 127.0.0.1 whose
-- answers a spec scripts per method and path, and which counts what reached
-- the wire.
--
--   local hostile = require "support.hostile"
--   local h <close> = hostile.start{}
--   h:script("GET", "/v1/x", { { close = true }, { status = 200, body = { ok = true } } })
--   h:pages("GET", "/v1/users", "rooms", "alternate")
--   ... h.url ..., h:count("GET", "/v1/x"), h:requests(), h:reset(), h:stop()
--
-- The sandbox runs its handlers in a lua_State of its own, so this file is
-- loaded twice: in the spec (the API below) and, through a throw-away route
-- set module, in the server (route_set and everything it calls). Only plain
-- data crosses between the two; a scripted `fn` travels as bytecode.
local M = {}

-- ---------------------------------------------------------------------------
-- Shared by both states: what an entry may hold.

local FIELDS = {
  status = "number", headers = "table", body = true, close = "boolean", delay_ms = "number",
  echo = "string", code = true, retry_after = true, fn = true, page = "table",
}
local ECHO_KINDS = { tuya = true, rooms = true, ruckus = true, raw = true }
local STYLES = { tuya = "tuya", page_number = "tuya", rooms = "rooms", offset = "rooms",
                 ruckus = "ruckus", spring = "ruckus" }
local MODES = { alternate = true, growing = true, repeat_old = true, no_position = true }

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

--- Everything a request carried, as one text: method, path and full query,
-- every header (sorted, as received) and the body. The echo answers send this
-- back so a spec can see which secrets a client lets reach an error message.
function M.echo_text(req)
  local query = (req.query or "") ~= "" and ("?" .. req.query) or ""
  local parts = { req.method .. " " .. req.path .. query }
  for _, k in ipairs(sorted_keys(req.headers or {})) do parts[#parts + 1] = k .. ": " .. req.headers[k] end
  parts[#parts + 1] = "body: " .. (req.body or "")
  return table.concat(parts, "\n")
end

-- ---------------------------------------------------------------------------
-- Server state: echo answers in each vendor's error shape.

local REASONS = {
  [400] = "BAD_REQUEST", [401] = "UNAUTHORIZED", [403] = "FORBIDDEN", [404] = "NOT_FOUND",
  [409] = "CONFLICT", [422] = "UNPROCESSABLE_ENTITY", [429] = "TOO_MANY_REQUESTS",
  [500] = "INTERNAL_SERVER_ERROR", [502] = "BAD_GATEWAY", [503] = "SERVICE_UNAVAILABLE",
}

local ECHO = {}

-- Tuya reports errors with HTTP 200 and success=false (docs/vendors/tuya.md §5).
function ECHO.tuya(req, e, st)
  return e.status or 200, {}, { success = false, code = e.code or 1106, msg = M.echo_text(req),
    t = st.now_ms(), tid = req.headers.access_token or "" }
end

function ECHO.rooms(req, e)
  local auth = req.headers.authorization or ""
  return e.status or 400,
    { ["X-Request-Id"] = auth, ["WWW-Authenticate"] = 'Bearer error="invalid_token", error_description="' .. auth .. '"' },
    { errorCode = e.code or "INVALID_REQUEST", message = M.echo_text(req), referenceId = auth }
end

function ECHO.ruckus(req, e)
  local status, auth, text = e.status or 400, req.headers.authorization or "", M.echo_text(req)
  return status, { ["X-Request-Id"] = auth }, { status = status .. " " .. (REASONS[status] or "ERROR"),
    message = text, detailedMessage = text, timestamp = auth, validationErrors = { req.body } }
end

function ECHO.raw(req, e)
  return e.status or 400, { ["X-Echo"] = req.headers.authorization or "", ["Content-Type"] = "text/plain" },
    M.echo_text(req)
end

-- ---------------------------------------------------------------------------
-- Server state: non-converging pages in each vendor's shape.

local HUGE_TOTAL = 1000000 -- far beyond any page cap, so totals never end a listing

local function int(v, default)
  return math.tointeger(tonumber(v)) or default
end

local function clamp_size(n)
  return math.max(1, math.min(n, 1000))
end

-- Where a request asks to be: index (0-based page), size, and the asked page or start.
local ASK = {}

function ASK.tuya(req)
  local page, size = int(req.params.page_no, 1), clamp_size(int(req.params.page_size, 20))
  return { index = math.max(page - 1, 0), size = size, page = page }
end

function ASK.rooms(req)
  local start, size = int(req.params.startPosition, 0), clamp_size(int(req.params.count, 100))
  return { index = start // size, size = size, start = start }
end

-- RUCKUS queries carry page/pageSize in a JSON body; the query string is the fallback.
function ASK.ruckus(req)
  local body = require("dwell.sandbox.json").decode(req.body ~= "" and req.body or "{}")
  body = type(body) == "table" and body or {}
  local page = int(body.page, int(req.params.page, 0))
  local size = clamp_size(int(body.pageSize, int(req.params.pageSize or req.params.size, 20)))
  return { index = page, size = size, page = page }
end

-- The item numbers (global, 1-based) on page `index` of `size` items in this mode.
local function item_numbers(p, index, size)
  local base = index
  if p.mode == "alternate" then base = index % 2 end
  if p.mode == "no_position" and p.same_items then base = 0 end
  local list = {}
  for i = 1, size do list[i] = base * size + i end
  -- The first item of the page two back replaces this page's last one.
  if p.mode == "repeat_old" and index >= 2 then list[size] = (index - 2) * size + 1 end
  return list
end

local ITEM = {}
function ITEM.tuya(k) return { room_user_id = "ru-" .. k, uid = "uid-" .. k, name = "user " .. k } end
function ITEM.rooms(k) return { userId = k, email = ("user%d@example.test"):format(k), firstName = "User" .. k } end
function ITEM.ruckus(k)
  local id = ("00000000-0000-4000-8000-%012x"):format(k)
  return { id = id, userId = id, name = "user " .. k }
end

-- "growing" always claims one more page than the one asked for.
local function total_items(p, ask)
  if p.mode == "growing" then return (ask.index + 2) * ask.size end
  return HUGE_TOTAL
end

local SHAPE = {}

function SHAPE.tuya(p, ask, items, st)
  local result = { [p.items or "data"] = items, has_more = true }
  if p.mode ~= "no_position" then result.total = total_items(p, ask) end
  return { success = true, result = result, t = st.now_ms(), tid = "hostile" }
end

function SHAPE.rooms(p, ask, items, _, req)
  local n = #items
  local page = { [p.items or "users"] = items, resultSetSize = n,
    nextUri = ("%s?startPosition=%d&count=%d"):format(req.path, ask.start + n, ask.size) }
  if p.mode ~= "no_position" then
    page.startPosition, page.endPosition, page.totalRowCount = ask.start, ask.start + n - 1, total_items(p, ask)
  end
  return page
end

function SHAPE.ruckus(p, ask, items)
  local total = total_items(p, ask)
  local page = { [p.items or "content"] = items, size = ask.size, numberOfElements = #items,
    last = false, empty = false, first = ask.page == 0 }
  if p.mode ~= "no_position" then
    page.number, page.pageable = ask.page, { pageNumber = ask.page, pageSize = ask.size }
    page.totalPages, page.totalElements = (total + ask.size - 1) // ask.size, total
  end
  return page
end

local function page_answer(p, req, st)
  local ask = ASK[p.style](req)
  local size = p.size or ask.size
  local items = {}
  for i, k in ipairs(item_numbers(p, ask.index, size)) do items[i] = ITEM[p.style](k) end
  return 200, {}, SHAPE[p.style](p, ask, items, st, req)
end

-- ---------------------------------------------------------------------------
-- Server state: scripts, the per-request choice and the answer.

-- A scripted fn arrives as bytecode plus copies of its upvalues (or as source).
local function unpack_fn(packed)
  if packed.source then
    local f = assert(load(packed.source, "=hostile fn", "t"))()
    assert(type(f) == "function", "a fn source must return a function")
    return f
  end
  local f = assert(load(packed.code, "=hostile fn", "b"))
  for i = 1, packed.n do
    local up = packed.upvalues[i]
    debug.setupvalue(f, i, up.env and _ENV or up.value)
  end
  return f
end

local function compile_list(list)
  for _, e in ipairs(list) do
    if e.fn then e.fn = unpack_fn(e.fn) end
  end
  return list
end

local function key_of(method, path) return method .. " " .. path end

-- Consumes the next entry of the script for this request (the last one repeats).
local function take(st, method, path)
  local s = st.scripts[key_of(method, path)] or st.scripts[key_of("*", path)]
  if not s then return nil end
  s.n = s.n + 1
  return { entry = s.list[math.min(s.n, #s.list)], n = s.n, method = method, path = path }
end

-- What the C server does with the connection: drop it, or answer late.
local function wire_fault(e)
  if not e then return nil end
  if e.close then return { kind = "reset", handled = true, delay_ms = e.delay_ms } end
  if e.delay_ms and e.delay_ms > 0 then return { kind = "delay", delay_ms = e.delay_ms } end
  return nil
end

-- Adds an entry's own headers and Retry-After on top of an answer.
local function with_extras(e, status, headers, body)
  headers = headers or {}
  for k, v in pairs(e.headers or {}) do headers[k] = v end
  if e.retry_after ~= nil then headers["Retry-After"] = tostring(e.retry_after) end
  return status, headers, body
end

local function answer(st, req, pending)
  local e = pending.entry
  if e.close then return 200, {}, "" end -- the handler runs so the request takes effect; C drops the answer
  if e.fn then return e.fn(req, pending.n) end
  if e.echo then return with_extras(e, ECHO[e.echo](req, e, st)) end
  if e.page then return with_extras(e, page_answer(e.page, req, st)) end
  return with_extras(e, e.status or 200, {}, e.body)
end

local function handle(st, req)
  local pending = st.pending
  st.pending = nil
  if not pending or pending.method ~= req.method or pending.path ~= req.path then
    return 404, {}, { error = "unscripted", message = req.method .. " " .. req.path }
  end
  return answer(st, req, pending)
end

-- The router asks faults.pick for every request, just before it runs the
-- handler, under the server's lock; wrapping it is the one place where a route
-- set can choose "drop the connection" or "answer later" per request. Faults
-- given to start still apply and win.
local original_pick

local function install_pick(st)
  local faults = require "dwell.sandbox.faults"
  original_pick = original_pick or faults.pick
  faults.pick = function(compiled, method, path)
    local f = original_pick(compiled, method, path)
    st.pending = take(st, method, path)
    return f or wire_fault(st.pending and st.pending.entry)
  end
end

--- The route set (runs in the server state): one catch-all route, and the
-- controls `script` ({ key, list }) and `scripts` (the scripted keys).
function M.route_set(_, env)
  local st = { scripts = {} }
  function st.now_ms() return math.floor(env.now() * 1000) end
  install_pick(st)
  local controls = {
    script = function(args)
      st.scripts[args.key] = { list = compile_list(args.list), n = 0 }
      return true
    end,
    scripts = function() return sorted_keys(st.scripts) end,
  }
  return { { "*", "/{rest*}", function(req) return handle(st, req) end } }, controls
end

-- ---------------------------------------------------------------------------
-- Spec state: checking entries and packing them for the server.

local function plain(v, where, depth)
  local t = type(v)
  if t == "nil" or t == "boolean" or t == "number" or t == "string" then return end
  if t ~= "table" or depth > 32 then
    error(("hostile script: %s is a %s: a scripted fn runs in the server's own Lua state, so its upvalues must be plain data "
      .. "(require modules inside the fn)"):format(where, t), 0)
  end
  for k, x in pairs(v) do plain(k, where, depth + 1); plain(x, where, depth + 1) end
end

local function pack_fn(f)
  if type(f) == "string" then return { source = f } end
  if type(f) ~= "function" then error("hostile script: 'fn' must be a function or Lua source returning one", 0) end
  local ups, n = {}, 0
  while true do
    local name, value = debug.getupvalue(f, n + 1)
    if not name then break end
    n = n + 1
    if name == "_ENV" then ups[n] = { env = true }
    else plain(value, ("fn's upvalue '%s'"):format(name), 0); ups[n] = { name = name, value = value } end
  end
  return { code = string.dump(f), upvalues = ups, n = n }
end

local function check_entry(e, i)
  local where = ("hostile script: entry %d"):format(i)
  if type(e) ~= "table" then error(where .. " must be a table", 0) end
  for k, v in pairs(e) do
    local want = FIELDS[k]
    if not want then error(("%s: unknown field '%s'"):format(where, tostring(k)), 0) end
    if want ~= true and type(v) ~= want then error(("%s: '%s' must be a %s"):format(where, k, want), 0) end
  end
  if e.status and (math.type(e.status) ~= "integer" or e.status < 100 or e.status > 599) then
    error(where .. ": 'status' must be an integer in 100..599", 0)
  end
  if e.echo and not ECHO_KINDS[e.echo] then error(where .. ": 'echo' must be tuya, rooms, ruckus or raw", 0) end
  if e.delay_ms and (math.type(e.delay_ms) ~= "integer" or e.delay_ms < 0) then
    error(where .. ": 'delay_ms' must be a non-negative integer", 0)
  end
end

local function pack_list(list)
  if type(list) ~= "table" or #list == 0 then error("hostile script: expected a non-empty list of entries", 0) end
  local out = {}
  for i, e in ipairs(list) do
    check_entry(e, i)
    local c = {}
    for k, v in pairs(e) do c[k] = v end
    if c.fn then c.fn = pack_fn(c.fn) end
    out[i] = c
  end
  return out
end

--- An entry answering pages that never converge, in a vendor's shape.
-- style: "tuya" | "rooms" | "ruckus" (or page_number | offset | spring);
-- mode: "alternate" | "growing" | "repeat_old" | "no_position";
-- opts: items = the item list's key (default data | users | content),
--       size = items per page (default: the page size the request asks for),
--       same_items = true (no_position only: every page the same items),
--       plus any entry field (status, headers, delay_ms, retry_after).
function M.page(style, mode, opts)
  local s = STYLES[style]
  if not s then error(("page: unknown style '%s'"):format(tostring(style)), 2) end
  if not MODES[mode] then error(("page: unknown mode '%s'"):format(tostring(mode)), 2) end
  opts = opts or {}
  local entry = { page = { style = s, mode = mode, items = opts.items, size = opts.size,
                           same_items = opts.same_items } }
  for k, v in pairs(opts) do
    if k ~= "items" and k ~= "size" and k ~= "same_items" then entry[k] = v end
  end
  return entry
end

-- ---------------------------------------------------------------------------
-- Spec state: the server object.

local Hostile = {}
Hostile.__index = Hostile

--- Scripts `method` `path` (exact, query ignored; method "*" for any): the n-th
-- request gets list[n], the last entry repeats. Restarts that path's ordinal.
function Hostile:script(method, path, list)
  local ok, err = self.sb:control("spec_hostile", "script",
    { key = key_of(method:upper(), path), list = pack_list(list) })
  if not ok then error("script: " .. tostring(err), 2) end
  return self
end

--- Shorthand for h:script(method, path, { hostile.page(style, mode, opts) }).
function Hostile:pages(method, path, style, mode, opts)
  return self:script(method, path, { M.page(style, mode, opts) })
end

--- Every request received (oldest first): { method, path, query, params, headers, body }.
function Hostile:requests() return self.sb:requests() end

--- How many requests for `method` (or "*") and exactly `path` reached the server.
function Hostile:count(method, path)
  method = method:upper()
  local n = 0
  for _, r in ipairs(self.sb:requests()) do
    if (method == "*" or r.method == method) and r.path == path then n = n + 1 end
  end
  return n
end

--- Forgets every script, recording and fault counter.
function Hostile:reset()
  assert(self.sb:reset())
  return self
end

--- Stops and frees the server (idempotent).
function Hostile:stop() self.sb:close() end

Hostile.__close = Hostile.stop

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- The server state finds route sets only as modules dwell.sandbox.<name> on
-- package.path (copied at start), so a one-line module that loads this very
-- file goes in a temporary directory for the duration of start.
local function with_route_module(fn)
  local self_path = debug.getinfo(1, "S").source:sub(2)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. quote(dir .. "/dwell/sandbox")))
  local f = assert(io.open(dir .. "/dwell/sandbox/spec_hostile.lua", "w"))
  f:write(("return assert(loadfile(%q))().route_set\n"):format(self_path))
  f:close()
  local saved = package.path
  package.path = dir .. "/?.lua;" .. saved
  local ok, a, b = pcall(fn)
  package.path = saved
  os.execute("rm -rf " .. quote(dir))
  if not ok then error(a, 0) end
  return a, b
end

--- Starts a hostile server on 127.0.0.1. opts (all optional): faults (sandbox
-- fault specs, applied before any script), latency_ms, record_limit, seed.
-- Raises if the server cannot start.
function M.start(opts)
  opts = opts or {}
  local sb = assert(with_route_module(function()
    return require("dwell.sandbox").start{ host = "127.0.0.1", port = 0, routes = { "spec_hostile" },
      faults = opts.faults, latency_ms = opts.latency_ms, record_limit = opts.record_limit, seed = opts.seed }
  end))
  return setmetatable({ sb = sb, url = sb.url, port = sb.port }, Hostile)
end

return M
