--- Route patterns for the sandbox: "/v1.0/rooms/{room_id}" matches one path
-- segment per `{name}`; a final `{name*}` matches the rest, slashes included.
-- Captures are percent-decoded; matching is on the raw (encoded) path so a
-- `%2F` inside a segment never splits it.
local support = require "dwell.sandbox.support"

local M = {}

M.unescape = support.decode

--- Compiles a pattern into { names = {...}, lua = "^...$" }; raises on a bad one.
function M.compile(pattern)
  if type(pattern) ~= "string" or pattern:sub(1, 1) ~= "/" then
    error(("route pattern must be a string starting with '/' (got %s)"):format(tostring(pattern)), 0)
  end
  local names, out, pos = {}, { "^" }, 1
  while pos <= #pattern do
    local s, e, name, star = pattern:find("{([%a_][%w_]*)(%*?)}", pos)
    local literal = pattern:sub(pos, (s or #pattern + 1) - 1)
    if literal:find("[{}]") then error(("bad route pattern '%s'"):format(pattern), 0) end
    out[#out + 1] = literal:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")
    if not s then break end
    if star == "*" and e ~= #pattern then
      error(("'{%s*}' must end the route pattern '%s'"):format(name, pattern), 0)
    end
    names[#names + 1] = name
    out[#out + 1] = star == "*" and "(.*)" or "([^/]+)"
    pos = e + 1
  end
  out[#out + 1] = "$"
  return { names = names, lua = table.concat(out), source = pattern }
end

--- Returns the decoded captures table if `path` matches, else nil.
function M.match(compiled, path)
  -- Without captures string.match returns the whole match, so nil means no match either way.
  local found = { path:match(compiled.lua) }
  if found[1] == nil then return nil end
  local captures = {}
  for i, name in ipairs(compiled.names) do captures[name] = M.unescape(found[i]) end
  return captures
end

--- Decodes a raw query string (support.query's pairs): repeated keys become a list of values.
function M.parse_query(query)
  local params = {}
  local _, list = support.query(query)
  for _, kv in ipairs(list) do
    local k, v = kv[1], kv[2]
    local prev = params[k]
    if prev == nil then
      params[k] = v
    elseif type(prev) == "table" then
      prev[#prev + 1] = v
    else
      params[k] = { prev, v }
    end
  end
  return params
end

return M
