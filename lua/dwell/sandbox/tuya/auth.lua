--- The Tuya gateway's request checks (docs/vendors/tuya.md §2-§4), shared by the "tuya"
-- emulation (tuya/gateway.lua) and the "replay" set, which verifies recorded-session clients
-- with its own credentials: the HMAC-SHA256 signature over client_id [+ access_token] + t +
-- nonce + stringToSign (§3), the legacy scheme (§3.6), and the gateway's order of checks.
-- Written from the docs, never with the client's dwell.tuya modules.
local core = require "dwell.core"
local support = require "dwell.sandbox.support"

local M = {}

local EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
local byte_less = support.byte_less

-- The signed path is the decoded one, as Tuya's official connectors sign it: the Python
-- connector (tuya-connector-python) signs the path string its caller passed, before
-- `requests` percent-encodes it for the wire; the Go connector signs req.URL.Path, which Go
-- keeps decoded; the Node connector runs decodeURIComponent over the URL before signing.
-- They agree with the query rule (raw values, docs/vendors/tuya.md §3.2); for paths that need no encoding
-- (every seeded id) decoded and encoded are the same string.
local function signed_path(raw)
  return support.decode(raw)
end

--- stringToSign exactly as Tuya documents it, from what arrived on the wire; the expected
-- signature (upper-case hex), or nil when the query repeats a key (unsignable).
function M.expected_sign(creds, req, token_api)
  local h = req.headers
  local _, pairs_list = support.query(req.query or "")
  local seen = {}
  for _, kv in ipairs(pairs_list) do
    if seen[kv[1]] then return nil end
    seen[kv[1]] = true
  end
  table.sort(pairs_list, function(a, b) return byte_less(a[1], b[1]) end)
  local q = {}
  for i, kv in ipairs(pairs_list) do q[i] = kv[1] .. "=" .. kv[2] end
  local signed_url = signed_path(req.path) .. (#q > 0 and ("?" .. table.concat(q, "&")) or "")
  local lines = {}
  for name in (h["signature-headers"] or ""):gmatch("[^:]+") do
    lines[#lines + 1] = name .. ":" .. (h[name:lower()] or "") .. "\n"
  end
  local body = req.body or ""
  local sts = req.method .. "\n" .. (body == "" and EMPTY_SHA256 or core.sha256_hex(body)) .. "\n"
    .. table.concat(lines) .. "\n" .. signed_url
  local str = creds.client_id .. (token_api and "" or (h.access_token or "")) .. (h.t or "") .. (h.nonce or "") .. sts
  return core.hmac_sha256_hex(creds.secret, str, true)
end

--- Legacy scheme (docs/vendors/tuya.md §3.6): no stringToSign.
function M.legacy_sign(creds, req, token_api)
  local h = req.headers
  local str = creds.client_id .. (token_api and "" or (h.access_token or "")) .. (h.t or "")
  return core.hmac_sha256_hex(creds.secret, str, true)
end

--- Whether the request's `sign` header is right under `scheme` ("hmac", "legacy", "either").
function M.sign_ok(creds, scheme, req, token_api)
  local got = req.headers.sign or ""
  if scheme ~= "legacy" then
    local want = M.expected_sign(creds, req, token_api)
    if want and core.constant_eq(want, got) then return true end
  end
  if scheme ~= "hmac" then return core.constant_eq(M.legacy_sign(creds, req, token_api), got) end
  return false
end

--- The gateway's checks in its order; nil when the request may proceed, else the refusal
-- (fail's answer). g = { creds, scheme, now_ms(), skew_ms, fail(code, msg), count(name) (optional),
-- token(access) -> { expires_at } | nil, invalid() (optional: an unknown token was used) }.
function M.admit(g, req, token_api)
  local h = req.headers
  local count = g.count or function() end
  if h.client_id ~= g.creds.client_id then return g.fail(1005, "clientId invalid") end
  -- sign_method is a required header (docs/vendors/tuya.md §2; Tuya's header tables mark it mandatory) and
  -- HMAC-SHA256 its only value: the gateway cannot verify a request without it, and refuses
  -- it as it refuses a wrong signature (1004).
  if h.sign_method ~= "HMAC-SHA256" then
    count("sign_invalid")
    return g.fail(1004, "sign invalid")
  end
  local t = h.t and h.t:match("^%d+$") and math.tointeger(tonumber(h.t))
  if not t or math.abs(t - g.now_ms()) > g.skew_ms() then
    count("skewed")
    return g.fail(1013, "request time is invalid")
  end
  if not M.sign_ok(g.creds, g.scheme, req, token_api) then
    count("sign_invalid")
    return g.fail(1004, "sign invalid")
  end
  if token_api then return nil end
  local access = h.access_token
  if access == nil or access == "" then return g.fail(1002, "access_token is null") end
  local tok = g.token(access)
  if not tok then
    if g.invalid then g.invalid() end
    return g.fail(1011, "token invalid")
  end
  if tok.expires_at <= g.now_ms() then
    count("expired")
    return g.fail(1010, "token is expired")
  end
  return nil
end

return M
