--- What the "replay" set matches a request by (docs/internals.md, "Record and replay"): the
-- method, the path, the query and the body, each in a canonical form that leaves out the
-- values that change from one request to the next.
--   query  sorted, percent-decoded name=value pairs;
--   body   JSON: decoded and encoded again with sorted keys; a form body
--          (application/x-www-form-urlencoded): sorted decoded pairs; anything else: its bytes.
-- Left out everywhere: fields named like a timestamp, a nonce or a date (IGNORED, plus the
-- config's `ignore` list). Secret-named fields (dwell.redact.is_secret, the list the recording
-- masked them by) are kept by name only, their values read as the mask.
local json = require "dwell.sandbox.json"
local redact = require "dwell.redact"
local support = require "dwell.sandbox.support"

local M = {}

--- Per-request values, by name (lower case): Tuya's t / nonce / sign, and the usual stamps.
M.IGNORED = { t = true, nonce = true, sign = true, timestamp = true, ts = true, date = true,
  nonce_str = true, iat = true, exp = true, jti = true }

--- A matcher: `ignore` lists more names to leave out.
function M.new(ignore)
  local extra = {}
  for _, name in ipairs(ignore or {}) do extra[tostring(name):lower()] = true end
  local function ignored(name)
    local n = name:lower()
    return M.IGNORED[n] or extra[n]
  end

  local function pairs_text(list)
    local out = {}
    for _, kv in ipairs(list) do
      local k, v = kv[1], kv[2]
      if not ignored(k) then
        if v ~= "" and redact.is_secret(k) then v = redact.MASK end
        out[#out + 1] = support.encode(k) .. "=" .. support.encode(v)
      end
    end
    table.sort(out, support.byte_less)
    return table.concat(out, "&")
  end

  local function canonical_json(v)
    if type(v) ~= "table" then return v end
    local out = setmetatable({}, getmetatable(v))
    for k, x in pairs(v) do
      if type(k) ~= "string" then out[k] = canonical_json(x)
      elseif not ignored(k) then
        if redact.is_secret(k) and type(x) ~= "table" then out[k] = redact.MASK
        else out[k] = canonical_json(x) end
      end
    end
    return out
  end

  local m = {}

  --- The canonical query.
  function m.query(q)
    local _, list = support.query(q or "")
    return pairs_text(list)
  end

  --- The canonical body, tagged by its kind ("", "json:...", "form:...", "raw:...").
  function m.body(body, content_type)
    if support.blank(body) then return "" end
    local ctype = (content_type or ""):lower()
    if ctype:find("json", 1, true) or body:match("^%s*[{%[]") then
      local doc = support.json_value(body)
      if doc then
        local text = json.encode(canonical_json(doc), { sort_keys = true })
        if text then return "json:" .. text end
      end
    end
    if ctype:find("application/x-www-form-urlencoded", 1, true) then
      local _, list = support.query(body)
      return "form:" .. pairs_text(list)
    end
    return "raw:" .. body
  end

  --- The request's keys: "METHOD path", "METHOD path?query" and that plus "\n" .. body.
  function m.keys(method, path, query, body, content_type)
    local route = method .. " " .. path
    local with_query = route .. "?" .. m.query(query)
    return route, with_query, with_query .. "\n" .. m.body(body, content_type)
  end

  return m
end

return M
