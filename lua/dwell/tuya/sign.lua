--- Tuya request signing, HMAC-SHA256 "new signature" (docs/vendors/tuya.md §3).
--
--   str  = client_id [.. access_token] .. t .. nonce .. stringToSign
--   stringToSign = METHOD \n sha256_hex(body) \n signed-header lines (each ending in \n) \n Url
--   Url  = decoded path [.. "?" .. k=v&... sorted bytewise by key, values raw (not percent-encoded)]
--   sign = UPPER(HEX(HMAC_SHA256(secret, str)))
--
-- Pure functions: the caller supplies t, nonce and the exact body bytes it will send.
local core = require "dwell.core"

local M = {}

M.EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

--- Bytewise string order: Lua's `<` uses strcoll, which a host application's locale can change.
local function bytewise_less(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
M.bytewise_less = bytewise_less

--- The path as it is signed: percent-decoded. Tuya's official connectors all sign the
-- decoded path, whatever goes on the wire: tuya-connector-python signs the path string its
-- caller passed, before `requests` percent-encodes it for the request line;
-- tuya-connector-go signs req.URL.Path, which Go keeps decoded; tuya-connector-nodejs runs
-- decodeURIComponent over the URL before signing. Query values are signed raw by the same
-- rule (docs/vendors/tuya.md §3.2). Only ids that need encoding (spaces, '/', non-ASCII) see a difference.
function M.signed_path(path)
  return (path:gsub("%%(%x%x)", function(hex) return string.char(tonumber(hex, 16)) end))
end

local find = string.find
local canonical_query = core.url.canonical_query

--- The signed Url: the decoded path (signed_path), then the query pairs sorted by key
-- (bytewise, whatever the locale: dwell.core.url.canonical_query) with raw values. `path` is
-- the path as sent (percent-encoded); `query` is a list of { key, value }; duplicate keys are
-- refused (their order on the gateway is undocumented), as nil, message.
function M.canonical_url(path, query)
  -- only an encoded path has anything to decode
  if find(path, "%", 1, true) then path = M.signed_path(path) end
  if not query or query[1] == nil then return path end
  local q, dup = canonical_query(query)
  if not q then return nil, "query parameter '" .. dup .. "' given twice" end
  return path .. "?" .. q
end

--- The SignedHeaders field: one `name:value\n` line per signed header, in the listed order.
function M.signed_header_lines(signature_headers)
  if not signature_headers or signature_headers[1] == nil then return "" end
  local lines = {}
  for i, h in ipairs(signature_headers or {}) do lines[i] = h[1] .. ":" .. h[2] .. "\n" end
  return table.concat(lines)
end

--- stringToSign for `method`, the exact `body` bytes (nil or "" for none), signed headers
-- ({ {name, value}, ... }) and the canonical Url.
function M.string_to_sign(method, body, signature_headers, url)
  local hash = (body == nil or body == "") and M.EMPTY_SHA256 or core.sha256_hex(body)
  return method:upper() .. "\n" .. hash .. "\n" .. M.signed_header_lines(signature_headers) .. "\n" .. url
end

--- The message that is signed; access_token is nil/"" for the token APIs, nonce nil/"" when not sent.
function M.message(client_id, access_token, t, nonce, string_to_sign)
  if type(t) ~= "string" then t = tostring(t) end
  return client_id .. (access_token or "") .. t .. (nonce or "") .. string_to_sign
end

--- The `sign` header value: 64 uppercase hex digits.
function M.sign(secret, message)
  return core.hmac_sha256_hex(secret, message, true)
end

--- Legacy scheme (projects created before 2021-06-30, docs/vendors/tuya.md §3.6): no stringToSign.
function M.legacy_message(client_id, access_token, t)
  return client_id .. (access_token or "") .. tostring(t)
end

return M
