--- Answers shared by the Rooms sandbox's handler modules for the operations beyond rooms and
-- users (offices, roles, lookups, documents, forms, tasks, fields): ApiError bodies, query
-- integers and booleans as the .NET server binds them, the documented paging fields
-- (docs/vendors/rooms.md §9), JSON arrays that stay arrays, and the emulated clock's timestamps. They repeat
-- dwell.sandbox.rooms.api's private helpers on purpose: that module is not changed here.
local json = require("dwell.core").json
local url = require "dwell.sandbox.support" -- percent-encoding of its own, not the client's

local M = {}

function M.list(t)
  return setmetatable(t or {}, json.array_mt)
end

function M.error(status, code, message)
  return status, {}, { errorCode = code, message = message, referenceId = "sbx-" .. code:lower() }
end

function M.bad(message)
  return M.error(400, "INVALID_REQUEST_PARAMETER", message)
end

--- A 404 ApiError (as the existing rooms and users routes answer an unknown id).
function M.not_found(what, code)
  return M.error(404, code, "The " .. what .. " was not found.")
end

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

function M.now(st)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(st.now()))
end

--- The first key of `body` that is not one of the model's `fields`, if any.
function M.unknown_field(body, fields)
  local known = {}
  for _, f in ipairs(fields) do known[f] = true end
  for k in pairs(body) do
    if not known[k] then return tostring(k) end
  end
  return nil
end

local function query_without(params, drop)
  local keys = {}
  for k in pairs(params) do
    if not drop[k] then keys[#keys + 1] = k end
  end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = url.encode(k) .. "=" .. url.encode(params[k]) end
  return table.concat(parts, "&")
end

--- One page of `items` under `key` with the documented paging fields (count 1..100, default
-- 100; startPosition from 0; nextUri/priorUri null at the ends).
function M.page(req, items, key, project)
  local p = req.params or {}
  local count, err = M.int(p, "count", 100, 1, 100)
  if not count then return M.bad(err) end
  local start
  start, err = M.int(p, "startPosition", 0, 0)
  if not start then return M.bad(err) end
  local out = M.list()
  for i = start + 1, math.min(#items, start + count) do out[#out + 1] = project(items[i]) end
  local n = #out
  local path = req.path:gsub("^/restapi", "")
  local rest = query_without(p, { startPosition = true, count = true })
  local function uri(s)
    return path .. "?startPosition=" .. s .. "&count=" .. count .. (rest ~= "" and ("&" .. rest) or "")
  end
  return 200, {}, { [key] = out, resultSetSize = n, startPosition = start, endPosition = start + n - 1,
    totalRowCount = #items,
    nextUri = (n > 0 and start + n < #items) and uri(start + n) or json.null,
    priorUri = start > 0 and uri(math.max(0, start - count)) or json.null }
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
      if not ok then return M.bad(field .. " must be " .. (t == "integer" and "an integer" or ("a " .. t))) end
    end
  end
  return nil
end

return M
