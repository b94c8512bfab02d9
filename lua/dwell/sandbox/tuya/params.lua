--- Request parameters as the Tuya community gateway binds and checks them, for the sandbox:
-- every refusal is code 1109 "param is illegal" with the parameter named, as the gateway does.
-- Functions answer value | nil, code, msg (or true | nil, code, msg for pure checks).
local M = {}

local support = require "dwell.sandbox.support"
local array = support.array

local ILLEGAL = 1109
M.ILLEGAL = ILLEGAL

local function required(src, names)
  for _, n in ipairs(names) do
    local v = src and src[n]
    if v == nil or v == "" or v == require("dwell.core").json.null then
      return nil, ILLEGAL, "param is illegal: " .. n .. " is required"
    end
  end
  return true
end

local function int_param(params, name, min)
  local v = math.tointeger(tonumber(params[name]))
  if v == nil or (min and v < min) then return nil end
  return v
end

local function paging(params)
  local no, size = int_param(params, "page_no", 1), int_param(params, "page_size", 1)
  if not no then return nil, ILLEGAL, "param is illegal: page_no" end
  if not size or size > 1000 then return nil, ILLEGAL, "param is illegal: page_size" end
  return no, size
end

local function page(list, no, size)
  local out = array()
  for i = (no - 1) * size + 1, math.min(#list, no * size) do out[#out + 1] = list[i] end
  return out
end

-- Scalars the way a Java gateway binds them: numbers and numeric strings are interchangeable,
-- lists and objects are not.
local function scalar(body, name)
  local v = body[name]
  if type(v) == "table" then return nil, ILLEGAL, "param is illegal: " .. name .. " must be a " ..
    "string (multi-valued fields are comma-separated strings)" end
  if math.type(v) == "float" and math.tointeger(v) then v = math.tointeger(v) end
  return v
end

local function as_int(body, name)
  local v, code, msg = scalar(body, name)
  if code then return nil, code, msg end
  if v == nil then return nil end
  local i = math.tointeger(tonumber(v))
  if not i then return nil, ILLEGAL, "param is illegal: " .. name .. " must be an integer" end
  return i
end

local function as_str(body, name)
  local v, code, msg = scalar(body, name)
  if code then return nil, code, msg end
  if v == nil then return nil end
  if type(v) == "boolean" then return nil, ILLEGAL, "param is illegal: " .. name end
  return tostring(v)
end

local function split(s)
  local out = {}
  for part in tostring(s):gmatch("[^,]+") do
    local p = part:match("^%s*(.-)%s*$")
    if p ~= "" then out[#out + 1] = p end
  end
  return out
end

-- A list filter counts only when the query sets it to something.
local function is_set(params, name)
  return params[name] ~= nil and params[name] ~= ""
end

local function any_set(params, names)
  for _, n in ipairs(names) do
    if is_set(params, n) then return true end
  end
  return false
end

-- True when every filter among `names` that the query sets equals the record's field.
local function matches_filters(record, params, names)
  for _, n in ipairs(names) do
    if is_set(params, n) and tostring(record[n]) ~= params[n] then return false end
  end
  return true
end

local function contains(list, value)
  for _, v in ipairs(list) do
    if v == value then return true end
  end
  return false
end

-- Copies the named fields present in body onto target, each read through `as` (as_str or as_int).
local function bind(target, body, names, as)
  for _, n in ipairs(names) do
    local v, code, msg = as(body, n)
    if code then return nil, code, msg end
    if v ~= nil then target[n] = v end
  end
  return true
end

local function mobile_or_name(params)
  local q = params.mobile_or_name
  if q == nil or q == "" then return nil end
  local digits = q:match("^%+?(%d+)$")
  if digits and #digits < 4 then return nil, ILLEGAL, "param is illegal: a mobile number must be four or more digits" end
  return q:lower()
end

local function matches_person(q, name, mobile)
  if not q then return true end
  return (name or ""):lower():find(q, 1, true) ~= nil or (mobile or ""):find(q, 1, true) ~= nil
end

-- Sorts list by gmt_create as field_order_by asks (newest first by default), ties by `key`.
local function order(list, params, key)
  local by = params.field_order_by
  if by and by ~= "" and by ~= "CREATE_TIME_DESC" and by ~= "CREATE_TIME_ASC" then
    return nil, ILLEGAL, "param is illegal: field_order_by"
  end
  table.sort(list, function(a, b)
    if a.gmt_create == b.gmt_create then return a[key] < b[key] end
    if by == "CREATE_TIME_ASC" then return a.gmt_create < b.gmt_create end
    return a.gmt_create > b.gmt_create
  end)
  return list
end

M.required = required
M.paging = paging
M.page = page
M.as_int = as_int
M.as_str = as_str
M.split = split
M.is_set = is_set
M.any_set = any_set
M.matches_filters = matches_filters
M.contains = contains
M.bind = bind
M.mobile_or_name = mobile_or_name
M.matches_person = matches_person
M.order = order

return M
