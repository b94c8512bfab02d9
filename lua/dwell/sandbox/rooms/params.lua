--- Parameter binding for the Rooms model's parts (dwell.sandbox.rooms.model): query integers
-- and booleans as the .NET server binds them, ids and GUIDs, the documented paging fields
-- (docs/vendors/rooms.md §9), name filters and sorts, typed JSON bodies, projections, JSON arrays
-- that stay arrays, and the emulated clock's timestamps. Refusals are the gateway's ApiErrors.
local gateway = require "dwell.sandbox.rooms.gateway"
local support = require "dwell.sandbox.support" -- percent-encoding of its own, not the client's

local json = require("dwell.core").json

local M = {}

M.list = support.array

function M.int(params, name, default, min, max)
  local raw = params[name]
  if raw == nil or raw == "" then return default end
  local v = math.tointeger(tonumber(raw))
  if not v or (min and v < min) or (max and v > max) then
    return nil, name .. " must be an integer" .. (min and max and (" between " .. min .. " and " .. max) or "")
  end
  return v
end

--- A query boolean as a .NET server binds it ("true"/"True"/"false"...), or `default`; nil, err
-- for anything else.
function M.bool(params, name, default)
  local raw = params[name]
  if raw == nil or raw == "" then return default end
  local l = tostring(raw):lower()
  if l == "true" then return true elseif l == "false" then return false end
  return nil, name .. " must be true or false"
end

--- The integer in a route capture, or nil.
function M.id(s)
  return math.tointeger(tonumber(s))
end

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
function M.is_uuid(s)
  return type(s) == "string" and s:match(UUID) ~= nil
end

--- A GUID made from a counter: deterministic, so specs can name them.
function M.guid(prefix, n)
  return string.format("%08x-0000-4000-8000-%012x", prefix, n)
end

function M.copy(t, fields)
  local c = {}
  for _, f in ipairs(fields) do c[f] = t[f] end
  return c
end

--- The model's clock as an ISO 8601 UTC date-time.
function M.now(model)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(model.now()))
end

local function query_without(params, drop)
  local keys = {}
  for k in pairs(params) do
    if not drop[k] then keys[#keys + 1] = k end
  end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = support.encode(k) .. "=" .. support.encode(params[k]) end
  return table.concat(parts, "&")
end

--- One page of `items` under `key` with the documented paging fields (count 1..100, default
-- 100; startPosition from 0; nextUri/priorUri null at the ends), and `extra` fields if any.
function M.page(req, items, key, project, extra)
  local p = req.params or {}
  local count, err = M.int(p, "count", 100, 1, 100)
  if not count then return gateway.bad(err) end
  local start
  start, err = M.int(p, "startPosition", 0, 0)
  if not start then return gateway.bad(err) end
  local out = M.list()
  for i = start + 1, math.min(#items, start + count) do out[#out + 1] = project(items[i]) end
  local n = #out
  local path = req.path:gsub("^/restapi", "")
  local rest = query_without(p, { startPosition = true, count = true })
  local function uri(s)
    return path .. "?startPosition=" .. s .. "&count=" .. count .. (rest ~= "" and ("&" .. rest) or "")
  end
  local body = { [key] = out, resultSetSize = n, startPosition = start, endPosition = start + n - 1,
    totalRowCount = #items,
    nextUri = (n > 0 and start + n < #items) and uri(start + n) or json.null,
    priorUri = start > 0 and uri(math.max(0, start - count)) or json.null }
  for k, v in pairs(extra or {}) do body[k] = v end
  return 200, {}, body
end

-- Query booleans for the rooms and users routes, which take anything but "true" as false.
function M.truthy(v)
  return type(v) == "string" and v:lower() == "true"
end

function M.starts_with(s, prefix)
  return type(s) == "string" and s:sub(1, #prefix):lower() == prefix:lower()
end

--- Whether a person matches a `filter`: the start of the first name, last name or email.
function M.matches(u, filter)
  if not filter or filter == "" then return true end
  return M.starts_with(u.firstName, filter) or M.starts_with(u.lastName, filter) or M.starts_with(u.email, filter)
end

local SORTS = { firstnameasc = { "firstName", false }, firstnamedesc = { "firstName", true },
  lastnameasc = { "lastName", false }, lastnamedesc = { "lastName", true },
  emailasc = { "email", false }, emaildesc = { "email", true } }

M.SORT_ERROR = "sort must be one of FirstNameAsc, LastNameAsc, EmailAsc, FirstNameDesc, LastNameDesc, EmailDesc"

--- People sorted in place by `sort` (or `default`), ties by userId; nil for an unknown sort.
function M.sorted(items, sort, default)
  local key = SORTS[(sort or default):lower()]
  if not key then return nil end
  local field, desc = key[1], key[2]
  table.sort(items, function(a, b)
    local x, y = (a[field] or ""):lower(), (b[field] or ""):lower()
    if x == y then return a.userId < b.userId end
    if desc then return x > y end
    return x < y
  end)
  return items
end

--- Checks a JSON body's fields against { field = "string" | "integer" | "boolean" | "uuid" |
-- "array" | "object" }: the first wrong one as a 400, or nil.
function M.typed(body, types)
  for field, t in pairs(types) do
    local v = body[field]
    if v ~= nil and v ~= json.null then
      local ok
      if t == "integer" then ok = math.type(v) == "integer"
      elseif t == "uuid" then ok = M.is_uuid(v)
      elseif t == "array" or t == "object" then ok = type(v) == "table"
      else ok = type(v) == t end
      if not ok then return gateway.bad(field .. " must be " .. (t == "integer" and "an integer" or ("a " .. t))) end
    end
  end
  return nil
end

return M
