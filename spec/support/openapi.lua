--- Just enough OpenAPI for specs: load a vendor description fixture (the RUCKUS YAML as JSON
-- by default; the Rooms Swagger 2.0 file loads too), index its operations, and check a
-- decoded JSON value against one of its schemas (OpenAPI 3.0 components or Swagger 2.0
-- definitions: $ref, object properties and required, additionalProperties, arrays, string
-- maxLength / enum / uuid / date-time, int32 / int64, boolean, number). Unknown object fields are
-- reported too: a response must carry what the schema documents and nothing else.
-- Swagger 2.0 cannot say "nullable": there a JSON null is accepted for a property the schema
-- does not list as required (the Rooms API sends nextUri/priorUri null at the ends of a list,
-- docs/vendors/rooms.md §5); OpenAPI 3.0 documents stay strict.
local json = require("dwell.core").json

local M = {}

function M.load(path)
  local f = assert(io.open(path or "spec/fixtures/ruckus-resident-portal-0.0.1.json", "rb"))
  local doc = assert(json.decode(f:read("a")))
  f:close()
  return doc
end

--- Every operation by operationId: { [id] = { method, path, op } }, and how many there are.
function M.operations(doc)
  local out, n = {}, 0
  for path, item in pairs(doc.paths) do
    for method, op in pairs(item) do
      if method ~= "parameters" then
        out[op.operationId] = { method = method:upper(), path = path, op = op }
        n = n + 1
      end
    end
  end
  return out, n
end

--- The operation with this operationId: { method, path, op }.
function M.operation(doc, id)
  return M.operations(doc)[id] or error("no operation " .. id)
end

--- The declarations' snake_case name for a vendor's camelCase wire name.
function M.snake(name)
  return (name:gsub("(%u)", function(c) return "_" .. c:lower() end))
end

function M.resolve(doc, schema)
  local defs = doc.definitions or doc.components.schemas
  while schema["$ref"] do
    local name = schema["$ref"]:match("[^/]+$")
    schema = defs[name] or error("no schema " .. name)
  end
  return schema
end

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

local function is_array(v)
  return type(v) == "table" and (getmetatable(v) == json.array_mt or v[1] ~= nil)
end

local check -- forward

local function check_object(doc, schema, v, where, errs)
  if type(v) ~= "table" or (is_array(v) and next(v) ~= nil) then
    errs[#errs + 1] = where .. ": not an object"
    return
  end
  local required = {}
  for _, r in ipairs(schema.required or {}) do
    required[r] = true
    if v[r] == nil then errs[#errs + 1] = where .. "." .. r .. ": required" end
  end
  local props = schema.properties or {}
  for k, x in pairs(v) do
    if x == json.null and doc.swagger == "2.0" and props[k] and not required[k] then -- luacheck: ignore 542
      -- an optional Swagger 2.0 property sent as null (see the module comment)
    elseif props[k] then check(doc, props[k], x, where .. "." .. k, errs)
    elseif schema.additionalProperties then check(doc, schema.additionalProperties, x, where .. "." .. k, errs)
    else errs[#errs + 1] = where .. "." .. tostring(k) .. ": not in the schema" end
  end
end

local function check_string(schema, v, where, errs)
  if type(v) ~= "string" then errs[#errs + 1] = where .. ": not a string"; return end
  if schema.maxLength and utf8.len(v) > schema.maxLength then errs[#errs + 1] = where .. ": longer than maxLength" end
  if schema.format == "uuid" and not v:match(UUID) then errs[#errs + 1] = where .. ": not a uuid" end
  if schema.format == "date-time" and not v:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d[%.%d]*[Zz+-]") then
    errs[#errs + 1] = where .. ": not an RFC 3339 date-time"
  end
  if schema.enum then
    local ok = false
    for _, e in ipairs(schema.enum) do if e == v then ok = true end end
    if not ok then errs[#errs + 1] = where .. ": '" .. v .. "' not in the enum" end
  end
end

function check(doc, schema, v, where, errs)
  schema = M.resolve(doc, schema)
  local t = schema.type or (schema.properties and "object")
  if v == json.null then errs[#errs + 1] = where .. ": null"; return end
  if t == "object" then check_object(doc, schema, v, where, errs)
  elseif t == "array" then
    if type(v) ~= "table" or not (is_array(v) or next(v) == nil) then errs[#errs + 1] = where .. ": not an array"; return end
    for i, x in ipairs(v) do check(doc, schema.items, x, where .. "[" .. i .. "]", errs) end
  elseif t == "string" then check_string(schema, v, where, errs)
  elseif t == "integer" then
    if math.type(v) ~= "integer" then errs[#errs + 1] = where .. ": not an integer"
    elseif schema.format == "int32" and (v < -2 ^ 31 or v >= 2 ^ 31) then errs[#errs + 1] = where .. ": not int32" end
  elseif t == "boolean" then
    if type(v) ~= "boolean" then errs[#errs + 1] = where .. ": not a boolean" end
  elseif t == "number" then
    if type(v) ~= "number" then errs[#errs + 1] = where .. ": not a number" end
  end
end

--- The list of ways `v` departs from `schema` (empty when it conforms).
function M.check(doc, schema, v)
  local errs = {}
  check(doc, schema, v, "$", errs)
  return errs
end

return M
