--- `name=value` words of the command line as the argument table of an endpoint call, typed by
-- the declaration: integers and numbers as Lua numbers (19-digit ids declared as strings stay
-- strings, so they are exact), booleans (true/false, yes/no, 1/0), lists as `a,b` or a
-- repeated name, and raw JSON as `name:=<json>`. The vendor's spelling of a name (roomId) is
-- the declared one (room_id). A value that does not convert is passed on as text, and an
-- unknown name as it is, so that the library's own check refuses them with its own message.
local json = require "dwell.json"

local M = {}

local function integer(s)
  if s:match("^[+-]?%d+$") then return math.tointeger(tonumber(s)) end
  return nil
end

local BOOLEANS = { ["true"] = true, yes = true, on = true, ["1"] = true,
  ["false"] = false, no = false, off = false, ["0"] = false }

local function scalar(p, s)
  local t = p and p.type or "string"
  if t == "integer" or t == "long" then
    local i = integer(s)
    if i ~= nil then return i end
  elseif t == "number" then
    local n = tonumber(s)
    if n ~= nil then return n end
  elseif t == "boolean" then
    local b = BOOLEANS[s:lower()]
    if b ~= nil then return b end
  elseif t == "object" or t == "any" then
    if s:match("^%s*[%[{]") then
      local v = json.decode(s)
      if v ~= nil then return v end
    end
  end
  return s
end

local function split(s)
  local out = setmetatable({}, json.array_mt)
  if s == "" then return out end
  for part in (s .. ","):gmatch("([^,]*),") do out[#out + 1] = part end
  return out
end

--- The parameter a name stands for: declared name first, then the vendor's spelling.
function M.param(spec, name)
  for _, p in ipairs(spec.params) do
    if p.name == name then return p end
  end
  for _, p in ipairs(spec.params) do
    if p.wire == name then return p end
  end
  return nil
end

--- The argument table for `spec` from `words` ({ "block_id=1", "role_ids=a,b", "x:=[1]" }),
-- or nil, message.
function M.parse(spec, words)
  local args = {}
  for _, word in ipairs(words) do
    local name, raw = word:match("^([%w_.%-]+):=(.*)$")
    local value
    if not name then name, value = word:match("^([%w_.%-]+)=(.*)$") end
    if not name then
      return nil, ("'%s' is not name=value (or name:=<json>)"):format(word)
    end
    local p = M.param(spec, name)
    local key = p and p.name or name
    local v
    if raw then
      local err
      v, err = json.decode(raw)
      if v == nil then return nil, ("'%s': the value after := is not JSON (%s)"):format(name, tostring(err)) end
    elseif p and p.type == "array" then
      v = split(value)
      for i, item in ipairs(v) do v[i] = scalar(p.items, item) end
    else
      v = scalar(p, value)
    end
    if args[key] ~= nil then
      if p and p.type == "array" and type(args[key]) == "table" and type(v) == "table" then
        -- a repeated list parameter adds to the list
        for _, item in ipairs(v) do args[key][#args[key] + 1] = item end
      else
        return nil, ("'%s' is given more than once (only list parameters may repeat)"):format(key)
      end
    else
      args[key] = v
    end
  end
  return args
end

return M
