--- The endpoint engine: turns a vendor's declarations (lua/dwell/<vendor>/endpoints.lua)
-- into callable endpoint objects arranged as a tree that mirrors the URL path.
--
-- Declaration:
--   { name = "community.member.update", method = "PUT",
--     path = "/v1.0/iot-02/community/member/{block_id}/{member_id}",   -- {wire name}
--     summary = "Modify a member",
--     params = { { "block_id", "path", "string", required = true }, ... },
--     paging = { style = "page_number", page = "page_no", size = "page_size", ... },
--     idempotent = true|false,   -- default: reads only (GET, HEAD); a write only where documented
--     prepare = function(args) -> nil | param, rule,   -- optional: completes a copy of the
--                                -- arguments before validation (e.g. reads a file named by `path`)
--     ... vendor-specific fields (the adapter reads them from .spec) }
-- Param fields: name, in (path|query|body|header|formData|local: formData parts and local
-- values are not laid out here, the adapter reads them from request.values), type (string,
-- integer, long, number, boolean, uuid, datetime, file (bytes as a Lua string), array, object,
-- any), wire (vendor spelling, accepted as an alias), required, default (filled in and sent),
-- vendor_default (what the server assumes when the parameter is left out; documentation, never
-- sent), enum, min, max, min_length, max_length, pattern + pattern_rule, max_bytes (strings,
-- counted in bytes), check(v) -> rule|nil, normalize(v) -> v (canonical wire form), items
-- (arrays), join (arrays sent as "a,b"), fields (objects), secret (never echoed), from_client
-- (filled from the client's config),
-- default_from (defaults to another parameter's value, e.g. a body field repeating a path id).
--
-- Adapter (one per vendor client):
--   adapter.vendor, adapter.config
--   adapter:call(spec, request, opts)    -> result | nil, err
--   adapter:prepare(spec, request, opts) -> { method, url, headers, body } | nil, err
-- where request = { method, path, query = { {wire, text}, ... }, body = table|nil,
--                   headers = { name = text }, values = { name = value } }.
-- @module dwell.api
local errors = require "dwell.error"
local paging = require "dwell.paging"
local retry = require "dwell.retry"
local scheduler = require "dwell.scheduler"
local transport = require "dwell.transport"
local url = require "dwell.url"
local validate = require "dwell.validate"

local M = {}

--- An endpoint object: `client.community.room_users`, `rooms.rooms.users.list`, ... Calling it
-- (`ep(args [, opts])`) is `ep:call(args, opts)`; `ep.spec` is its normalised declaration
-- (name, method, path, summary, params, paging, repeatable); docs/reference/<vendor>.md lists
-- every one.
-- @type Endpoint
local Endpoint = {}
Endpoint.__index = Endpoint
Endpoint.__name = "dwell.endpoint"

function Endpoint:__tostring()
  return string.format("dwell endpoint %s %s (%s %s)", self.adapter.vendor, self.spec.name,
    self.spec.method, self.spec.path)
end

-- Endpoint:call without its check_self: through __call, self is an endpoint.
function Endpoint:__call(args, opts)
  local req, err = self:build(args)
  if not req then return nil, err end
  return self.adapter:call(self.spec, req, opts)
end

-- `ep.each{...}` (a dot for a colon) would otherwise fail deep inside with "attempt to call a
-- nil value (method 'pages')": say what to write instead.
local concurrency_of -- forward, below

local function check_self(self, method)
  if getmetatable(self) ~= Endpoint then
    error(errors.invalid_argument(nil, nil, nil, "endpoint method '" .. method .. "' called without its endpoint: write ep:"
      .. method .. "{...} (a colon), not ep." .. method .. "{...}"), 3)
  end
end

local function fail(self, param, rule)
  return nil, errors.invalid_argument(self.adapter.vendor, self.spec.name, param, rule)
end

-- Declared values have been checked, so every one has a text form (url.value_text).
local function text(v)
  if type(v) == "string" then return v end
  return (assert(url.value_text(v)))
end

-- What is the same for every call of an endpoint, worked out on its first build: the compiled
-- checker (validate.compile), where each parameter goes (query parameters in declaration
-- order, header and body ones by wire name) and the path template cut into pieces. `fast` is
-- false for the declarations the general build below handles alone (from_client, prepare, a
-- whole-body parameter).
local function compile(self)
  local spec = self.spec
  local c = { fast = not (self.from_client or spec.prepare) }
  local qn, qw, hn, hw, bn, bw = {}, {}, {}, {}, {}, {}
  for _, p in ipairs(spec.params) do
    local where = p["in"]
    if where == "query" then qn[#qn + 1], qw[#qw + 1] = p.name, p.wire
    elseif where == "header" then hn[#hn + 1], hw[#hw + 1] = p.name, p.wire
    elseif where == "body" then
      if p.whole then c.fast = false end
      bn[#bn + 1], bw[#bw + 1] = p.name, p.wire
    end
  end
  c.qn, c.qw, c.hn, c.hw, c.bn, c.bw = qn, qw, hn, hw, bn, bw
  c.check = validate.compile(spec.params)
  -- "/a/{x}/b" -> { "/a/", "x's declared name", "/b" }: literal pieces at odd indices
  if self.has_placeholders then
    local pieces, pos, path = {}, 1, spec.path
    while true do
      local i, j, wire = path:find("{([^}]+)}", pos)
      if not i then break end
      local p = self.by_wire[wire]
      if not p then c.fast = false end
      pieces[#pieces + 1] = path:sub(pos, i - 1)
      pieces[#pieces + 1] = p and p.name or wire
      pos = j + 1
    end
    pieces[#pieces + 1] = path:sub(pos)
    c.pieces = pieces
  end
  self.compiled = c
  return c
end

local EMPTY = {}
local concat, math_type = table.concat, math.type
-- the text of small integers (page numbers and sizes), as url.value_text gives it
local SMALL = {}
for i = 0, 1023 do SMALL[i] = tostring(i) end

-- The build of arguments that are all fine, with everything resolved by compile; nil for
-- anything else (the general build then finds the violation and its error).
local function fast_build(self, c, args)
  local values = c.check(args)
  if not values then return nil end
  local spec = self.spec
  local query, headers = {}, {}
  local qn, nq = c.qn, 0
  for i = 1, #qn do
    local v = values[qn[i]]
    if v ~= nil then
      nq = nq + 1
      if type(v) ~= "string" then v = math_type(v) == "integer" and SMALL[v] or text(v) end
      query[nq] = { c.qw[i], v }
    end
  end
  local hn = c.hn
  for i = 1, #hn do
    local v = values[hn[i]]
    if v ~= nil then headers[c.hw[i]] = text(v) end
  end
  local body
  local bn = c.bn
  for i = 1, #bn do
    local v = values[bn[i]]
    if v ~= nil then
      body = body or {}
      body[c.bw[i]] = v
    end
  end
  local path = spec.path
  local pieces = c.pieces
  if pieces then
    local parts = {}
    for i = 1, #pieces, 2 do
      parts[i] = pieces[i]
      local name = pieces[i + 1]
      if name then
        local v = values[name]
        if v == nil then return nil end
        parts[i + 1] = url.encode_segment(text(v))
      end
    end
    path = concat(parts)
  end
  return { method = spec.method, path = path, query = query, headers = headers, values = values, body = body }
end

--- Validates `args` and lays the values out as a request; nil, err on bad input.
-- @local
function Endpoint:build(args)
  local c = self.compiled or compile(self)
  if c.fast and (args == nil or type(args) == "table") then
    local req = fast_build(self, c, args or EMPTY)
    if req then return req end
  end
  local spec, config = self.spec, self.adapter.config or {}
  if args ~= nil and type(args) ~= "table" then
    return fail(self, nil, "arguments must be a table (got " .. type(args) .. ")")
  end
  local given = args or {}
  if self.from_client or spec.prepare then
    -- Filled in on a copy: the caller's table is never changed.
    given = {}
    for k, v in pairs(args or {}) do given[k] = v end
    for _, p in ipairs(self.from_client or {}) do
      if given[p.name] == nil and given[p.wire] == nil then given[p.name] = config[p.name] end
    end
    if spec.prepare then
      local param, rule = spec.prepare(given)
      if rule then return fail(self, param, rule) end
    end
  end
  local values, rule, param = validate.check(spec.params, given)
  if not values then return fail(self, param, rule) end
  local query, headers = {}, {}
  local req = { method = spec.method, query = query, headers = headers, values = values }
  local body
  local params, nq = spec.params, 0
  for i = 1, #params do
    local p = params[i]
    local v = values[p.name]
    if v ~= nil then
      local where = p["in"]
      if where == "query" then
        nq = nq + 1
        query[nq] = { p.wire, text(v) }
      elseif where == "header" then
        headers[p.wire] = text(v)
      elseif where == "body" then
        if p.whole then body = v else body = body or {}; body[p.wire] = v end
      end
    end
  end
  req.body = body
  if not self.has_placeholders then
    req.path = spec.path
    return req
  end
  local missing
  req.path = spec.path:gsub("{([^}]+)}", function(wire)
    local p = self.by_wire[wire]
    local v = p and values[p.name]
    if v == nil then missing = wire; return "" end
    return url.encode_segment(text(v))
  end)
  if missing then return fail(self, missing, "is required (path parameter)") end
  return req
end

--- Calls the endpoint: the unwrapped result, or nil, dwell.error.
-- @tparam[opt] table args the arguments, by dwell name (the vendor's spelling is accepted too)
-- @tparam[opt] table opts per-call options for the client
-- @return the result (Tuya's `result`, the Rooms or RUCKUS body; `true` for a bodiless 2xx), or nil and a dwell.error
function Endpoint:call(args, opts)
  check_self(self, "call")
  local req, err = self:build(args)
  if not req then return nil, err end
  return self.adapter:call(self.spec, req, opts)
end

--- The signed request this call would send, without sending it (for debugging and tests).
-- @tparam[opt] table args as for call
-- @tparam[opt] table opts per-call options (Tuya and Rooms: `access_token`)
-- @return `{ method, url, headers, body }`, or nil and a dwell.error
function Endpoint:prepare(args, opts)
  check_self(self, "prepare")
  local req, err = self:build(args)
  if not req then return nil, err end
  return self.adapter:prepare(self.spec, req, opts)
end

local function pager(self)
  local p = self.spec.paging
  if not p then error(tostring(errors.invalid_argument(self.adapter.vendor, self.spec.name, nil,
      "is not a paged endpoint: call it directly")), 2) end
  return p, paging[p.style]
end

-- Where a page is, in the caller's argument names: { page_no = 3 } or { start_position = 200 },
-- so that a long export that failed can resume from it.
local function position(p, args)
  if type(args) ~= "table" then return nil end
  local names = { p.page or (p.style == "spring" and "page") or nil, p.start or (p.style == "offset" and "start_position") }
  for _, n in ipairs(names) do
    if args[n] ~= nil then return { [n] = args[n] } end
  end
  return nil
end

-- Paging errors raised by a style name this endpoint, like every other error it returns, and
-- the page that failed.
local function paging_error(self, err, args)
  if errors.is(err) then
    err.vendor = err.vendor or self.adapter.vendor
    err.endpoint = err.endpoint or self.spec.name
    err.page = err.page or position(self.spec.paging, args)
  end
  return err
end

-- `opts.concurrency` of :pages, :each and :all: an integer >= 1 (1: one page at a time).
concurrency_of = function(self, opts)
  local n = type(opts) == "table" and opts.concurrency or 1
  if math.type(n) ~= "integer" or n < 1 then
    error(errors.invalid_argument(self.adapter.vendor, self.spec.name, "concurrency", "must be an integer >= 1"), 3)
  end
  return n
end

-- Fetching ahead: once a page says how many are left (its total), the pages after it are
-- fetched while the reader works on it, up to n in flight (each with the pipeline's retries,
-- rate limits and deadline), and handed out in order. Every page still goes through the
-- style's advance, so the bounds and the order are those of a sequential read; a page whose
-- position is not the one fetched (the server's endPosition disagreed) drops what was fetched
-- and goes on one at a time. Memory: at most n pages. Stopping (the end, an error, a `break`)
-- cancels what is still in flight.
--
-- Outside a scheduler task the pages stay in flight between reads (transport.window); inside
-- one (ep:each within dwell.parallel) the next n are fetched together by dwell.parallel, so
-- the task's siblings keep running while it waits.
local function window_ahead(self, p, style, n)
  local name, w = style.position(p), transport.window{ concurrency = n }
  local q = {}
  function q.take(args)
    local head = w:peek()
    if head and head.args[name] == args[name] then return w:take() end
    w:cancel()
    return self:call(args)
  end
  function q.fill(args, result)
    local left = style.pages_left(p, args, result)
    if not left or left < 2 and w:size() == 0 then return end
    for k = w:size(), math.min(n, left) - 1 do w:push(self, style.ahead(p, args, k)) end
    w:kick()
  end
  function q.close() w:close() end
  return q
end

local function batch_ahead(self, p, style, n)
  local queue, name = {}, style.position(p)
  local q = {}
  function q.take(args)
    local head = table.remove(queue, 1)
    if head and head.args[name] == args[name] then return head.result, head.err end
    queue = {}
    return self:call(args)
  end
  function q.fill(args, result)
    if #queue > 0 then return end
    local left = style.pages_left(p, args, result)
    if not left or left < 2 then return end
    local calls = {}
    for k = 0, math.min(n, left) - 1 do calls[k + 1] = { self, style.ahead(p, args, k) } end
    local results, errs = transport.parallel(calls, { concurrency = #calls })
    for k, c in ipairs(calls) do queue[k] = { args = c[2], result = results[k], err = errs[k] } end
  end
  function q.close() queue = {} end
  return q
end

local function fetch_ahead(self, p, style, n)
  if scheduler.current() then return batch_ahead(self, p, style, n) end
  return window_ahead(self, p, style, n)
end

--- Iterates over pages: `for page, items in ep:pages(args)`. Raises the dwell.error on failure.
-- The error's `page` names the page to resume from (`{ page_no = 7 }`).
-- @tparam[opt] table args as for call; the paging parameters are filled in
-- @tparam[opt] table opts `{ concurrency = n }`: fetch up to n pages at once once the total is known
-- @return an iterator of page, items
function Endpoint:pages(args, opts)
  check_self(self, "pages")
  local p, style = pager(self)
  local ahead = concurrency_of(self, opts) > 1 and style.ahead and fetch_ahead(self, p, style, concurrency_of(self, opts))
  local cur, state = style.start(p, args), {}
  local asked
  local function step()
    asked = cur
    local result, err
    if ahead then result, err = ahead.take(cur) else result, err = self:call(cur) end
    if result == nil then
      error(err or errors.new{ kind = "decode", message = "the call returned no result" }, 0)
    end
    local items = style.items(p, result)
    cur = style.advance(p, cur, result, items, state)
    if ahead then
      if cur then ahead.fill(cur, result) else ahead.close() end
    end
    return result, items
  end
  -- the fourth value of a generic for: closed when the loop ends, by a break or an error too
  local closer = setmetatable({}, { __close = function() if ahead then ahead.close() end end })
  return function()
    if not cur then return nil end
    local ok, result, items = pcall(step)
    if not ok then
      cur = nil
      if ahead then ahead.close() end
      error(paging_error(self, result, asked), 0)
    end
    return result, items
  end, nil, nil, closer
end

--- Iterates over items across all pages, fetching lazily one page at a time.
-- Raises the dwell.error on failure (use :all for nil, err).
-- @tparam[opt] table args as for call
-- @tparam[opt] table opts `{ concurrency = n }` as for pages
-- @return an iterator of items
function Endpoint:each(args, opts)
  check_self(self, "each")
  local next_page, _, _, closer = self:pages(args, opts)
  local items, i = nil, 0
  return function()
    while true do
      if items and i < #items then
        i = i + 1
        return items[i]
      end
      local page
      page, items = next_page()
      if page == nil then return nil end
      i = 0
    end
  end, nil, nil, closer
end

--- Every item of every page as one list, or nil, err.
-- @tparam[opt] table args as for call
-- @tparam[opt] table opts `{ concurrency = n }` as for pages
-- @return a list, or nil and a dwell.error
function Endpoint:all(args, opts)
  check_self(self, "all")
  local out = {}
  local ok, err = pcall(function()
    for item in self:each(args, opts) do out[#out + 1] = item end
  end)
  if not ok then
    if errors.is(err) then return nil, err end
    error(err, 0)
  end
  return out
end

local Group = {}
Group.__name = "dwell.endpoints"

-- Every endpoint and group name under a group, in full ("community.room_users"), for
-- did-you-mean: endpoints first, each list sorted, so that a tie goes the same way every time
-- and to an endpoint ("room_userz" is "room_users", not the group "room_user").
local function names_under(g, eps, groups)
  for k, v in pairs(g) do
    if k ~= "\0path" then
      if getmetatable(v) == Endpoint then
        eps[#eps + 1] = v.spec.name
      else
        groups[#groups + 1] = rawget(v, "\0path")
        names_under(v, eps, groups)
      end
    end
  end
end

local function candidates(g)
  local eps, groups = {}, {}
  names_under(g, eps, groups)
  table.sort(eps)
  table.sort(groups)
  table.move(groups, 1, #groups, #eps + 1, eps)
  return eps
end

-- Each group's vendor and whether it is the root (its path is then the vendor's name).
local group_info = setmetatable({}, { __mode = "k" })

--- The engine's functions.
-- @section engine

--- Raises a dwell.error naming a name a tree does not have, with a did-you-mean: a misspelt
-- endpoint otherwise fails as "attempt to call a nil value (field 'room_userz')".
function M.unknown(g, name, level)
  local info = group_info[g] or {}
  local wanted = (info.root and "" or (rawget(g, "\0path") .. ".")) .. tostring(name)
  local guess = type(name) == "string" and validate.did_you_mean(wanted, candidates(g))
  error(errors.invalid_argument(info.vendor, nil, nil, (info.vendor or "dwell") .. " has no endpoint or group '"
    .. wanted .. "'" .. (guess and (" (did you mean '" .. guess .. "'?)") or "")
    .. "; client:endpoints() lists them"), level or 2)
end

function Group.__index(g, k)
  if type(k) ~= "string" or k:sub(1, 1) == "_" or k:find("^\0") then return nil end
  M.unknown(g, k, 3)
end

function Group.__call(g)
  local names = {}
  for k in pairs(g) do
    if k ~= "\0path" then names[#names + 1] = k end
  end
  table.sort(names)
  error("dwell: " .. rawget(g, "\0path") .. " is a group of endpoints, not one: use ."
    .. table.concat(names, ", ."), 2)
end

local function normalize(decl)
  local spec = {}
  for k, v in pairs(decl) do spec[k] = v end
  spec.params = {}
  for i, p in ipairs(decl.params or {}) do spec.params[i] = validate.normalize_param(p) end
  -- Reads may be sent again; a write only where the declaration says the vendor documents it
  -- as idempotent (dwell.retry).
  spec.repeatable = retry.repeatable(spec.method, decl.idempotent)
  spec.idempotent = spec.repeatable
  return spec
end

--- Builds the tree of endpoint objects for `decls` served by `adapter`.
function M.build(decls, adapter)
  local root = setmetatable({ ["\0path"] = adapter.vendor }, Group)
  group_info[root] = { vendor = adapter.vendor, root = true }
  for _, decl in ipairs(decls) do
    local spec = normalize(decl)
    local ep = setmetatable({ spec = spec, adapter = adapter, by_wire = {},
      has_placeholders = spec.path:find("{", 1, true) ~= nil }, Endpoint)
    for _, p in ipairs(spec.params) do
      if p.from_client then
        ep.from_client = ep.from_client or {}
        ep.from_client[#ep.from_client + 1] = p
      end
    end
    -- Path placeholders resolve to path parameters first, so a body field that
    -- repeats a path parameter's wire name (member_id) never lands in the path.
    for _, p in ipairs(spec.params) do
      if p["in"] ~= "path" then ep.by_wire[p.wire] = p; ep.by_wire[p.name] = p end
    end
    for _, p in ipairs(spec.params) do
      if p["in"] == "path" then ep.by_wire[p.wire] = p; ep.by_wire[p.name] = p end
    end
    local node, parts = root, {}
    for part in spec.name:gmatch("[^.]+") do parts[#parts + 1] = part end
    for i = 1, #parts - 1 do
      local child = rawget(node, parts[i])
      if not child then
        child = setmetatable({ ["\0path"] = table.concat(parts, ".", 1, i) }, Group)
        group_info[child] = { vendor = adapter.vendor }
        rawset(node, parts[i], child)
      end
      node = child
    end
    assert(rawget(node, parts[#parts]) == nil, "dwell: endpoint declared twice: " .. spec.name)
    rawset(node, parts[#parts], ep)
  end
  return root
end

--- Every endpoint under a tree, sorted by name (for docs, tests and the sandbox).
function M.list(tree, out)
  out = out or {}
  for k, v in pairs(tree) do
    if k ~= "\0path" then
      if getmetatable(v) == Endpoint then out[#out + 1] = v else M.list(v, out) end
    end
  end
  table.sort(out, function(a, b) return a.spec.name < b.spec.name end)
  return out
end

M.Endpoint = Endpoint
return M
