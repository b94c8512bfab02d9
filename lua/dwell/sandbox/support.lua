--- What the vendor emulations share, written for the sandbox alone: they check what clients
-- send with this code and never with the client's own modules (dwell.url, dwell.rooms.jwt,
-- dwell.tuya.sign ...), so a client bug cannot hide behind the same bug in its emulator.
-- Only the C core's primitives (hashes, HMAC, RSA, base64, JSON) are shared.
local core = require "dwell.core"

local M = {}

local function hex_char(h) return string.char(tonumber(h, 16)) end

--- Percent-decoding (RFC 3986 §2.1); `plus_is_space` for query strings and form bodies
-- (application/x-www-form-urlencoded, where '+' stands for a space).
function M.decode(s, plus_is_space)
  s = tostring(s)
  if plus_is_space then s = s:gsub("%+", " ") end
  return (s:gsub("%%(%x%x)", hex_char))
end

--- Percent-encodes all but the unreserved set (ALPHA DIGIT - . _ ~), RFC 3986 §2.3.
function M.encode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

--- A raw query string or form body: map (the last of repeated keys wins) and the list of
-- { key, value } pairs in order, both decoded.
function M.query(q)
  local map, list = {}, {}
  for part in (q or ""):gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=?(.*)$")
    k, v = M.decode(k, true), M.decode(v, true)
    map[k] = v
    list[#list + 1] = { k, v }
  end
  return map, list
end

--- Bytewise string order (Lua's `<` follows the C library's collation).
function M.byte_less(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

--- A JWS in compact serialization (RFC 7515 §7.1: BASE64URL(header) "." BASE64URL(payload)
-- "." BASE64URL(signature)) carrying JSON claims (RFC 7519): { header, claims, input (the
-- signing input), signature (raw bytes) }, or nil and a message when it is not one.
function M.jwt_parse(token)
  if type(token) ~= "string" then return nil, "assertion missing" end
  local h, p, s = token:match("^([%w_%-]+)%.([%w_%-]+)%.([%w_%-]*)$")
  if not h then return nil, "assertion is not a compact JWT" end
  local okh, header = pcall(core.json.decode, core.base64url_decode(h) or "")
  local okp, claims = pcall(core.json.decode, core.base64url_decode(p) or "")
  if not okh or not okp or type(header) ~= "table" or type(claims) ~= "table" then
    return nil, "assertion header or claims are not JSON"
  end
  return { header = header, claims = claims, input = h .. "." .. p, signature = core.base64url_decode(s) or "" }
end

--- A JSON array: the codec's array metatable, so that an empty list encodes as `[]`, not `{}`.
function M.array(t)
  return setmetatable(t or {}, core.json.array_mt)
end

--- A JSON object or array decoded from `text`, or nil and a message for anything else (a
-- blank text too). The emulations answer that in their own error shape.
function M.json_value(text)
  local ok, v = pcall(core.json.decode, text or "")
  if not ok or type(v) ~= "table" then return nil, "the request body is not valid JSON" end
  return v
end

--- A request's JSON body as a table: `{}` for an empty (or blank) body, else `json_value`.
function M.json_body(body)
  if not body or not body:find("%S") then return {} end
  return M.json_value(body)
end

--- Whether a request body is empty or only white space.
function M.blank(body)
  return not body or not body:find("%S")
end

--- An emulated clock: `now()` is the sandbox's clock (env.now, which `sb:control("sandbox",
-- "clock")` moves for every set) plus an offset of the emulation's own, which its controls move
-- (`advance`) and a reset puts back.
function M.clock(now)
  local c = { offset = 0 }
  function c.now() return now() + c.offset end
  -- Milliseconds as integers (Tuya's clock): the sandbox's clock in whole milliseconds plus the
  -- offset in whole milliseconds, so that an offset set in ms adds exactly.
  function c.now_ms() return math.floor(now() * 1000) + math.floor(c.offset * 1000 + 0.5) end
  function c.advance(seconds) c.offset = c.offset + (seconds or 0); return c.now() end
  function c.set(seconds) c.offset = seconds or 0 end
  function c.reset() c.offset = 0 end
  return c
end

--- A fixed-window counter for rate limits: the window opens at the first call and lasts `span`
-- seconds; `roll(now)` opens a new one once it has passed. `used` and `start` are read by the
-- emulation for its limit headers.
function M.window(span)
  local w = { span = span, used = 0 }
  function w.roll(now)
    if not w.start or now >= w.start + span then w.start, w.used = now, 0 end
    return w
  end
  function w.reset() w.start, w.used = nil, 0 end
  return w
end

--- A token bucket for rate limits: it starts full with `capacity` calls (at the first call) and
-- gets `rate` back per second, up to `capacity`. `take(now)` spends one and returns true, or
-- false when less than one is left.
function M.bucket(capacity, rate)
  local b = {}
  function b.take(now)
    if not b.at then b.tokens, b.at = capacity, now end
    b.tokens = math.min(capacity, b.tokens + (now - b.at) * rate)
    b.at = now
    if b.tokens < 1 then return false end
    b.tokens = b.tokens - 1
    return true
  end
  function b.reset() b.tokens, b.at = nil, nil end
  return b
end

--- A queue of injected answers for an emulation's `fault` control: `push(kind, count)` queues
-- `count` (default 1) requests' worth of `kind`; `take()` returns the kind the next request
-- meets (and uses it up), or nil; `pending()` whether one waits. The emulation keeps the kinds
-- (which answers it can give) and checks them before pushing.
function M.fault_queue()
  local q, list = {}, {}
  function q.push(kind, count) list[#list + 1] = { kind = kind, count = count or 1 } end
  function q.pending() return list[1] ~= nil end
  function q.take()
    local f = list[1]
    if not f then return nil end
    f.count = f.count - 1
    if f.count <= 0 then table.remove(list, 1) end
    return f.kind
  end
  function q.reset() list = {} end
  return q
end

--- A deep copy of plain data; every table keeps its metatable (a JSON array stays one).
function M.copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = M.copy(x) end
  return setmetatable(t, getmetatable(v))
end

--- Random hex for tokens and ids. The lookup of core.random_hex happens at each call, not at
-- load: with several lanes the router swaps in a generator seeded per request, so every lane
-- issues the same token.
function M.random_hex(n)
  return core.random_hex(n)
end

local rng = require "dwell.sandbox.rng"
--- The seeded generators (dwell.sandbox.rng): `picker` for seed data (the same ids on every
-- platform), `lcg` (RUCKUS's ids and tokens), `xorshift` (fault choices, per-request hex).
M.picker, M.lcg, M.xorshift = rng.picker, rng.lcg, rng.xorshift

return M
