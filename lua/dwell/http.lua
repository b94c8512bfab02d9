--- dwell.http: helpers the vendor clients share over transport responses ({ status, headers,
-- body }): header lookup that does not depend on the case the server (or a host transport)
-- used, and JSON decoding that never raises.
local M = {}

local json = require("dwell.core").json

--- The value of header `name` in `headers` (any letter case), or nil.
function M.header(headers, name)
  if type(headers) ~= "table" then return nil end
  local v = headers[name] or headers[name:lower()]
  if v ~= nil then return v end
  local lname = name:lower()
  for k, val in pairs(headers) do
    if type(k) == "string" and k:lower() == lname then return val end
  end
  return nil
end

--- Decodes a JSON body: the value, or nil when the body is empty or not JSON.
function M.decode(body)
  if type(body) ~= "string" or not body:find("%S") then return nil end
  local ok, v = pcall(json.decode, body)
  if ok then return v end
  return nil
end

return M
