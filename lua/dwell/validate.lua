--- Argument validation for endpoint declarations, before any I/O.
-- check(params, args, fail) returns a table keyed by declared name holding the
-- values converted for the wire, or calls fail(param_label, rule) (which
-- returns nil, err) on the first violation.
local json = require "dwell.json"
local json_null = json.null

local M = {}

local INT32_MIN, INT32_MAX = -2147483648, 2147483647

local function levenshtein(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

--- The closest of `candidates` to `name`, when close enough to be a typo.
function M.did_you_mean(name, candidates)
  local best, best_d
  local lname = name:lower()
  for _, c in ipairs(candidates) do
    local d = levenshtein(lname, c:lower())
    if not best_d or d < best_d then best, best_d = c, d end
  end
  if best_d and best_d <= math.max(2, #name // 3) then return best end
  return nil
end

local function type_name(v)
  local mt = math.type(v)
  if mt then return mt end
  return type(v)
end

local function is_sequence(t)
  local n = #t
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local converters = {}

function converters.string(v)
  if type(v) == "string" then return v end
  -- Integers are exact, so an id given as 1367673991539501234 is sent as its
  -- digits; floats would not be, so they are refused.
  if math.type(v) == "integer" then return tostring(v) end
  return nil, "must be a string (got " .. type_name(v) .. ")"
end

-- Integers, floats with an integral value, and strings of decimal digits ("42": ids read from
-- a CSV or the command line), each exactly or not at all.
local function to_integer(v)
  if math.type(v) == "integer" then return v end
  if math.type(v) == "float" then return math.tointeger(v) end
  if type(v) == "string" and v:match("^%-?%d+$") then return math.tointeger(tonumber(v)) end
  return nil
end

function converters.integer(v)
  local i = to_integer(v)
  if not i then return nil, "must be an integer (got " .. type_name(v) .. ")" end
  if i < INT32_MIN or i > INT32_MAX then return nil, "must fit in 32 bits (got " .. i .. ")" end
  return i
end

function converters.long(v)
  local i = to_integer(v)
  if not i then return nil, "must be an integer (got " .. type_name(v) .. ")" end
  return i
end

function converters.number(v)
  if type(v) == "number" then return v end
  return nil, "must be a number (got " .. type_name(v) .. ")"
end

function converters.boolean(v)
  if type(v) == "boolean" then return v end
  return nil, "must be a boolean (got " .. type_name(v) .. ")"
end

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

function converters.uuid(v)
  if type(v) ~= "string" then return nil, "must be a UUID string (got " .. type_name(v) .. ")" end
  if v:match(UUID) then return v:lower() end
  if #v == 32 and v:match("^%x+$") then
    -- Accepted without hyphens (RUCKUS admin APIs return ids that way), always sent hyphenated.
    return (v:sub(1, 8) .. "-" .. v:sub(9, 12) .. "-" .. v:sub(13, 16) .. "-" .. v:sub(17, 20) .. "-" .. v:sub(21)):lower()
  end
  return nil, "must be a UUID (8-4-4-4-12 hex digits, hyphens optional)"
end
M.normalize_uuid = converters.uuid

-- Bytes to upload: any Lua string (binary safe).
function converters.file(v)
  if type(v) ~= "string" then return nil, "must be the contents as a Lua string (got " .. type_name(v) .. ")" end
  return v
end

function converters.datetime(v)
  if type(v) ~= "string" then return nil, "must be a date-time string (got " .. type_name(v) .. ")" end
  return v
end

local check_value -- forward

local function check_rules(p, v)
  if p.enum then
    local found = false
    for _, e in ipairs(p.enum) do
      if e == v or tostring(e) == tostring(v) then found, v = true, e; break end
    end
    if not found then
      local shown = {}
      for i, e in ipairs(p.enum) do shown[i] = tostring(e) end
      local got = p.secret and "" or (" (got " .. tostring(v) .. ")")
      return nil, "must be one of " .. table.concat(shown, ", ") .. got
    end
  end
  if type(v) == "number" then
    if (p.min and v < p.min) or (p.max and v > p.max) then
      if p.min and p.max then return nil, "must be between " .. p.min .. " and " .. p.max .. " (got " .. v .. ")" end
      if p.min then return nil, "must be at least " .. p.min .. " (got " .. v .. ")" end
      return nil, "must be at most " .. p.max .. " (got " .. v .. ")"
    end
  elseif type(v) == "string" and p.max_bytes and #v > p.max_bytes then
    return nil, "must be at most " .. p.max_bytes .. " bytes (got " .. #v .. ")"
  elseif type(v) == "string" and (p.min_length or p.max_length or p.pattern) then
    local n = utf8.len(v) or #v
    if p.min_length and n < p.min_length then
      return nil, "must be at least " .. p.min_length .. " characters (got " .. n .. ")"
    end
    if p.max_length and n > p.max_length then
      return nil, "must be at most " .. p.max_length .. " characters (got " .. n .. ")"
    end
    if p.pattern and not v:match(p.pattern) then
      return nil, p.pattern_rule or ("must match " .. p.pattern)
    end
  end
  if p.check then
    local rule = p.check(v)
    if rule then return nil, rule end
  end
  return v
end

local function check_array(p, v, label)
  if type(v) ~= "table" then
    if p.join and type(v) == "string" then
      -- An already-joined "a,b" is split so that each item is still validated.
      local parts = {}
      for part in v:gmatch("[^" .. p.join:gsub("%p", "%%%0") .. "]+") do parts[#parts + 1] = part end
      v = parts
    else
      v = { v } -- a single value stands for a list of one (sortFields = "userId")
    end
  elseif not is_sequence(v) then
    return nil, "must be a list (a sequence 1..n)", label
  end
  local out = setmetatable({}, json.array_mt)
  for i, item in ipairs(v) do
    local cv, rule, where = check_value(p.items or { type = "string" }, item, label .. "[" .. i .. "]")
    if rule then return nil, rule, where end
    out[i] = cv
  end
  if p.min_items and #out < p.min_items then return nil, "must have at least " .. p.min_items .. " items", label end
  if p.max_items and #out > p.max_items then return nil, "must have at most " .. p.max_items .. " items", label end
  if p.join then
    for i, item in ipairs(out) do out[i] = tostring(item) end
    return table.concat(out, p.join)
  end
  return out
end

local check_fields -- forward: validates named fields; a table keyed by wire
-- name (or declared name with keep_names), or nil, rule, label

function check_value(p, v, label)
  local t = p.type or "string"
  if t == "array" then return check_array(p, v, label) end
  if t == "object" then
    if type(v) ~= "table" then return nil, "must be a table (got " .. type_name(v) .. ")", label end
    if not p.fields then return v end
    return check_fields(p.fields, v, label .. ".")
  end
  if t == "any" then return v end
  local conv = converters[t]
  if not conv then error("dwell: declaration of " .. label .. " has unknown type " .. tostring(t)) end
  local cv, rule = conv(v)
  if rule then return nil, rule, label end
  -- A declaration may canonicalise a value for the wire (e.g. hyphenate an id).
  if p.normalize then cv = p.normalize(cv) end
  cv, rule = check_rules(p, cv)
  if rule then return nil, rule, label end
  return cv
end

-- Per declaration list: the accepted names (declared and wire) and the parameters by
-- declared name. Built once: declarations do not change after normalize_param.
local shapes = setmetatable({}, { __mode = "k" })

-- Also for the fast path of check: `by_key` finds a parameter by the name an argument is given
-- under (its declared name, or its wire name where no other parameter is called that), and
-- `absent` lists the parameters that matter when not given (required, default, default_from).
local function shape(fields)
  local sh = shapes[fields]
  if not sh then
    sh = { known = {}, named = {}, by_key = {}, absent = {} }
    for _, p in ipairs(fields) do
      sh.known[p.name], sh.known[p.wire] = true, true
      sh.named[p.name] = p
      if p.required or p.default ~= nil or p.default_from ~= nil then sh.absent[#sh.absent + 1] = p end
    end
    for _, p in ipairs(fields) do
      sh.by_key[p.name] = p
      if p.wire ~= p.name and not sh.named[p.wire] then sh.by_key[p.wire] = p end
    end
    shapes[fields] = sh
  end
  return sh
end

local function check_unknown(fields, args, prefix)
  local known = shape(fields).known
  for k in pairs(args) do
    if not known[k] then
      if type(k) ~= "string" then return nil, "is not a parameter name", prefix .. tostring(k) end
      local names = {}
      for _, p in ipairs(fields) do names[#names + 1] = p.name end
      local guess = M.did_you_mean(k, names)
      return nil, "is not a parameter of this endpoint" .. (guess and (" (did you mean '" .. guess .. "'?)") or ""),
        prefix .. k
    end
  end
  return true
end

-- The value a parameter that was not given takes: another parameter's (default_from), else its
-- default, else nil.
local function absent_value(p, args, named)
  local v
  if p.default_from then
    -- Defaults to another parameter's value (a body field that repeats a path id).
    local src = named[p.default_from]
    v = args[p.default_from]
    if v == nil and src and src.wire ~= src.name and not named[src.wire] then v = args[src.wire] end
  end
  if v == nil then v = p.default end
  return v
end

function check_fields(fields, args, prefix, keep_names)
  local ok, rule, where = check_unknown(fields, args, prefix)
  if not ok then return nil, rule, where end
  local named = shape(fields).named
  local out = {}
  for _, p in ipairs(fields) do
    local v = args[p.name]
    -- The wire spelling is an alias unless another parameter is called that
    -- (a body field repeating a path parameter's wire name, e.g. member_id).
    local alias = p.wire ~= p.name and not named[p.wire] and args[p.wire] or nil
    if v ~= nil and alias ~= nil and v ~= alias then
      return nil, "given twice, as '" .. p.name .. "' and '" .. p.wire .. "'", prefix .. p.name
    end
    if v == nil then v = alias end
    if v == nil then v = absent_value(p, args, named) end
    if v == nil then
      if p.required then return nil, "is required", prefix .. p.name end
    elseif v == json_null and p.nullable then
      out[keep_names and p.name or p.wire] = v
    else
      local cv
      cv, rule, where = check_value(p, v, prefix .. p.name)
      if rule then return nil, rule, where end
      out[keep_names and p.name or p.wire] = cv
    end
  end
  return out
end

--- The first key of `cfg` that is not among the `known` lists of option names, with the
-- rule it breaks (including a did-you-mean for a near miss), or nil when all are known.
function M.unknown_option(cfg, vendor_label, ...)
  local known, names = {}, {}
  for _, list in ipairs({ ... }) do
    for _, name in ipairs(list) do
      if not known[name] then known[name] = true; names[#names + 1] = name end
    end
  end
  for k in pairs(cfg) do
    if not known[k] then
      local guess = type(k) == "string" and M.did_you_mean(k, names)
      return tostring(k), "is not a " .. vendor_label .. " client option"
        .. (guess and (" (did you mean '" .. guess .. "'?)") or "")
    end
  end
  return nil
end

--- The first string option (nested tables such as jwt = {...} included) that carries CR, LF
-- or NUL, as "name" or "jwt.private_key", or nil. Such a value would end up in a header or a
-- URL; it is refused when the client is built. `multiline` names options that may span lines
-- (PEM keys).
function M.control_option(cfg, multiline, prefix, depth)
  prefix, depth = prefix or "", depth or 0
  for k, v in pairs(cfg) do
    local name = prefix .. tostring(k)
    if type(v) == "string" and not (multiline and multiline[name]) and v:find("[%z\r\n]") then
      return name
    elseif type(v) == "table" and depth < 2 and getmetatable(v) == nil then
      local bad = M.control_option(v, multiline, name .. ".", depth + 1)
      if bad then return bad end
    end
  end
  return nil
end

-- check_fields(params, args, "", true) for arguments that are all fine, visiting only the
-- arguments given and the parameters that matter when absent (most endpoints declare many
-- optional filters and a call gives a few). Anything out of the ordinary (an unknown name, a
-- parameter given under both spellings, a value that breaks a rule, a required one missing)
-- returns nil: check_fields then finds the same first violation in declaration order.
-- Puts p's checked value v into out; false when v breaks a rule.
local function put_checked(out, p, v)
  if v == json_null and p.nullable then
    out[p.name] = v
    return true
  end
  local cv, rule = check_value(p, v, p.name)
  if rule then return false end
  out[p.name] = cv
  return true
end

local function check_given(params, args)
  local sh = shape(params)
  local by_key, out = sh.by_key, {}
  for k, v in next, args do
    local p = by_key[k]
    if not p or (k ~= p.name and args[p.name] ~= nil) or not put_checked(out, p, v) then return nil end
  end
  for _, p in ipairs(sh.absent) do
    if out[p.name] == nil then
      local v = absent_value(p, args, sh.named)
      if v == nil then
        if p.required then return nil end
      elseif not put_checked(out, p, v) then
        return nil
      end
    end
  end
  return out
end

-- ---- compiled checkers ------------------------------------------------------------------
-- validate.compile(params) does what check_given does, with what is the same for every call
-- resolved once: each parameter's checker is a closure with its type, enum and bounds already
-- looked up. A checker answers the checked value, or nil for anything out of the ordinary (a
-- wrong type, a broken rule, a normalize or check hook that answers nil): the caller then runs
-- check_fields, which finds the first violation in declaration order, as before.

local math_type, tostring_ = math.type, tostring

-- Parameters with no rule beyond their type and, for strings, an enum; numbers with min/max.
local function plain(p, except)
  for _, k in ipairs{ "enum", "check", "normalize", "min", "max", "max_bytes", "min_length", "max_length", "pattern" } do
    if p[k] ~= nil and not except[k] then return false end
  end
  return true
end

local NO_EXCEPT, ENUM_ONLY, BOUNDS = {}, { enum = true }, { min = true, max = true }

local function generic_checker(p)
  local name = p.name
  return function(v)
    local cv, rule = check_value(p, v, name)
    if rule then return nil end
    return cv
  end
end

local function value_checker(p)
  local t = p.type or "string"
  if t == "string" and plain(p, NO_EXCEPT) then
    return function(v)
      if type(v) == "string" then return v end
      if math_type(v) == "integer" then return tostring_(v) end
      return nil
    end
  end
  if t == "string" and plain(p, ENUM_ONLY) and type(p.enum) == "table" then
    -- check_rules' loop, answered by a lookup: the first member whose text is the value's.
    local by_text = {}
    for _, e in ipairs(p.enum) do
      local k = tostring_(e)
      if by_text[k] == nil then by_text[k] = e end
    end
    return function(v)
      if type(v) == "string" then return by_text[v] end
      if math_type(v) == "integer" then return by_text[tostring_(v)] end
      return nil
    end
  end
  if (t == "integer" or t == "long") and plain(p, BOUNDS)
    and (p.min == nil or type(p.min) == "number") and (p.max == nil or type(p.max) == "number") then
    local min, max, is32 = p.min, p.max, t == "integer"
    return function(v)
      local i = v
      if math_type(i) ~= "integer" then
        i = to_integer(v)
        if not i then return nil end
      end
      if is32 and (i < INT32_MIN or i > INT32_MAX) then return nil end
      if (min and i < min) or (max and i > max) then return nil end
      return i
    end
  end
  if t == "boolean" and plain(p, NO_EXCEPT) then
    return function(v)
      if type(v) == "boolean" then return v end
      return nil
    end
  end
  return generic_checker(p)
end

local function param_checker(p)
  local f = value_checker(p)
  if not p.nullable then return f end
  return function(v)
    if v == json_null then return v end
    return f(v)
  end
end

--- A checker for `params` compiled once: `fn(args) -> values` (keyed by declared name) for
-- arguments that are all fine, or nil for anything else, when M.check_fields(params, args)
-- gives the violation. `args` must be a table.
function M.compile(params)
  local sh = shape(params)
  local entries = {} -- by the key an argument is given under: { name, check }
  local checks = {}
  for _, p in ipairs(params) do checks[p] = param_checker(p) end
  for k, p in pairs(sh.by_key) do entries[k] = { name = p.name, check = checks[p] } end
  local absent, named = sh.absent, sh.named
  local n_absent = #absent
  return function(args)
    local out = {}
    for k, v in next, args do
      local e = entries[k]
      if not e then return nil end
      local name = e.name
      if k ~= name and args[name] ~= nil then return nil end
      local cv = e.check(v)
      if cv == nil then return nil end
      out[name] = cv
    end
    for i = 1, n_absent do
      local p = absent[i]
      local name = p.name
      if out[name] == nil then
        local v = absent_value(p, args, named)
        if v == nil then
          if p.required then return nil end
        else
          local cv = checks[p](v)
          if cv == nil then return nil end
          out[name] = cv
        end
      end
    end
    return out
  end
end

--- check_fields(params, args, "", true): values keyed by declared name, or nil, rule, param.
function M.check_fields(params, args)
  return check_fields(params, args, "", true)
end

--- Validates endpoint arguments: returns values keyed by declared name, or nil, rule, param.
function M.check(params, args)
  if args ~= nil and type(args) ~= "table" then
    return nil, "arguments must be a table (got " .. type(args) .. ")", nil
  end
  args = args or {}
  local out = check_given(params, args)
  if out then return out end
  return check_fields(params, args, "", true)
end

--- Normalises a declaration's parameter: positional shorthand
-- { "name", "query", "string", required = true } and defaults (wire = name).
function M.normalize_param(p)
  local q = {}
  for k, v in pairs(p) do q[k] = v end
  q.name = q.name or p[1]
  q["in"] = q["in"] or p[2]
  q.type = q.type or p[3] or "string"
  q[1], q[2], q[3] = nil, nil, nil
  q.wire = q.wire or q.name
  if q.fields then
    local fields = {}
    for i, f in ipairs(q.fields) do fields[i] = M.normalize_param(f) end
    q.fields = fields
  end
  if type(q.items) == "string" then q.items = { type = q.items } end
  if q.items and q.items.fields then q.items = M.normalize_param(q.items) end
  return q
end

return M
