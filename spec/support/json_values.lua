--- Helpers for the JSON specs: deep equality that sees integer/float and -0.0,
-- and a seeded generator of random JSON-representable Lua values.
local json = require "dwell.json"

local M = {}

local function same_number(a, b)
  if math.type(a) ~= math.type(b) then return false end
  if a ~= b then return false end
  if a == 0 and math.type(a) == "float" then return 1 / a == 1 / b end
  return true
end

--- Deep equality. `loose` compares numbers by value only and ignores
-- metatables (for comparing with lua-cjson, which decodes every number as a
-- float and has no array marker).
function M.deep_equal(a, b, loose, path)
  path = path or "$"
  if type(a) ~= type(b) then return false, path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) == "number" then
    if loose then return a == b, path end
    return same_number(a, b), path .. ": " .. tostring(a) .. " vs " .. tostring(b)
  end
  if type(a) ~= "table" then return a == b, path end
  if not loose and getmetatable(a) ~= getmetatable(b) then return false, path .. ": metatable" end
  for k, v in pairs(a) do
    local ok, where = M.deep_equal(v, b[k], loose, path .. "." .. tostring(k))
    if not ok then return false, where end
  end
  for k in pairs(b) do
    if a[k] == nil then return false, path .. "." .. tostring(k) .. ": extra" end
  end
  return true
end

--- A small LCG, so that the property specs see the same values everywhere.
function M.rng(seed)
  local state = seed
  return function(n)
    state = (state * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    return (state >> 20) % n
  end
end

local SPECIAL_CHARS = { '"', "\\", "/", "\n", "\t", "\0", "\31", "\127", "é", "中", "😀", "\u{10FFFF}", "\u{FFFF}" }

local function random_string(r)
  local parts = {}
  for i = 1, r(12) do
    local pick = r(4)
    if pick == 0 then
      parts[i] = SPECIAL_CHARS[r(#SPECIAL_CHARS) + 1]
    elseif pick == 1 then
      local cp = r(0x10FFFF)
      if cp >= 0xD800 and cp <= 0xDFFF then cp = cp - 0x800 end
      parts[i] = utf8.char(cp)
    else
      parts[i] = string.char(32 + r(95))
    end
  end
  return table.concat(parts)
end

local function rand64(r)
  return (r(1 << 32) << 32) | r(1 << 32)
end

local function random_number(r, small)
  local pick = r(6)
  if pick == 0 then return r(1000) - 500 end
  if pick == 1 then
    if small then return r(1 << 50) - (1 << 49) end
    return rand64(r)
  end
  if pick == 2 then return (r(2000000) - 1000000) / 64 end
  if pick == 3 then return (r(1000000) - 500000) / 1000 end
  if pick == 4 and not small then
    while true do
      local v = string.unpack("<d", string.pack("<i8", rand64(r)))
      if v == v and v ~= math.huge and v ~= -math.huge then return v end
    end
  end
  return (r(2) == 0 and -1 or 1) * r(1000) * 10.0 ^ (r(40) - 20)
end

local function random_scalar(r, small)
  local pick = r(6)
  if pick == 0 then return json.null end
  if pick == 1 then return r(2) == 0 end
  if pick == 2 or pick == 3 then return random_number(r, small) end
  return random_string(r)
end

--- A random value (table nesting up to `depth`); `small` keeps numbers that
-- a double represents exactly and that lua-cjson prints exactly.
function M.random_value(r, depth, small)
  local pick = depth > 0 and r(4) or 3
  if pick == 0 then
    local t = setmetatable({}, json.array_mt)
    for i = 1, r(6) do t[i] = M.random_value(r, depth - 1, small) end
    return t
  elseif pick == 1 then
    local t = {}
    for _ = 1, r(6) do t[random_string(r)] = M.random_value(r, depth - 1, small) end
    return t
  end
  return random_scalar(r, small)
end

return M
