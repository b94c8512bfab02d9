--- URL pieces: percent-encoding, query strings and form bodies (RFC 3986).
local core_url = require("dwell.core").url

local M = {}

local c_encode, c_query_string = core_url.encode, core_url.query_string

--- Percent-encodes everything but the unreserved set (ALPHA DIGIT - . _ ~),
-- so a value can never change the structure of a path or query: `/`, `?`,
-- `#`, `&`, `=` and `..` segments are all inert once encoded. A string that needs no
-- encoding (most ids, numbers and parameter names) comes back as it is (dwell.core.url).
function M.encode(s)
  if type(s) ~= "string" then s = tostring(s) end
  return c_encode(s)
end

--- A path segment: like encode, and "." / ".." are encoded too so they can
-- never be read as dot-segments.
function M.encode_segment(s)
  s = tostring(s)
  if s == "." then return "%2E" elseif s == ".." then return "%2E%2E" end
  return M.encode(s)
end

-- A float's shortest decimal that reads back as the same float, or nil when none of up to 17
-- significant digits does (NaN, infinities): "0.1", not "0.10000000000000001"; "9007199254740993"
-- is never turned into "9.007199254741e+15".
local function float_text(v)
  if v ~= v or v == math.huge or v == -math.huge then return nil end
  local i = math.tointeger(v)
  if i then return tostring(i) end
  for digits = 15, 17 do
    local s = string.format("%." .. digits .. "g", v)
    if tonumber(s) == v then return s end
  end
  return nil
end

--- The text a query, header or path value travels as: strings as they are, numbers exactly,
-- booleans as true/false, a list of those joined with commas (how these APIs take lists).
-- nil and the rule for anything else (tables that are not lists of scalars, NaN, functions).
-- The text of small integers (page numbers and sizes, flags), made once.
local SMALL = {}
for i = 0, 1023 do SMALL[i] = tostring(i) end

function M.value_text(v)
  local t = type(v)
  if t == "string" then return v end
  if math.type(v) == "integer" then return SMALL[v] or tostring(v) end
  if t == "number" then
    local s = float_text(v)
    if s then return s end
    return nil, "must be a finite number (got " .. tostring(v) .. ")"
  end
  if t == "boolean" then return v and "true" or "false" end
  if t == "table" then
    local parts = {}
    for k in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 or k > #v then return nil, "must be a list of values, not a map" end
    end
    for i, item in ipairs(v) do
      if type(item) == "table" then return nil, "must be a flat list (item " .. i .. " is a table)" end
      local s, why = M.value_text(item)
      if not s then return nil, why end
      parts[i] = s
    end
    return table.concat(parts, ",")
  end
  return nil, "cannot be sent as text (got " .. t .. ")"
end

--- `pairs_list` is { {key, value}, ... }; returns "k=v&k2=v2" encoded, or "" when empty.
M.query_string = c_query_string

--- application/x-www-form-urlencoded body from { {key, value}, ... }.
M.form = M.query_string

local function decode_hex(h)
  return string.char(tonumber(h, 16))
end

--- Percent-decoding; `plus_is_space` for form bodies and query strings.
function M.decode(s, plus_is_space)
  if plus_is_space then s = s:gsub("%+", " ") end
  return (s:gsub("%%(%x%x)", decode_hex))
end

--- Parses "a=1&b=2" into { a = "1", b = "2" } (the last of repeated keys wins)
-- and a list of pairs in order.
function M.parse_query(q)
  local map, list = {}, {}
  for part in (q or ""):gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=?(.*)$")
    k, v = M.decode(k, true), M.decode(v, true)
    map[k] = v
    list[#list + 1] = { k, v }
  end
  return map, list
end

return M
