--- The JWT bearer assertion for DocuSign's JWT grant (docs/vendors/rooms.md §2.2):
-- header {"alg":"RS256","typ":"JWT"}, claims iss/sub/aud/iat/exp/scope, RS256
-- over base64url(header) .. "." .. base64url(claims), signed by the C core.
local core = require "dwell.core"

local M = {}

M.LIFETIME = 3600   -- DocuSign: exp defaults to, and must not exceed, one hour after iat
M.IAT_SKEW = 60     -- seconds iat is back-dated so a fast local clock is not "in the future"


-- Claims in a fixed order so that assertions are reproducible (tests, debugging).
local function encode_claims(c)
  local j = core.json
  local parts = {}
  for _, k in ipairs({ "iss", "sub", "aud", "iat", "nbf", "exp", "scope" }) do
    if c[k] ~= nil then parts[#parts + 1] = j.encode(k) .. ":" .. j.encode(c[k]) end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

--- The claims table for `opts` = { integration_key, user_id (optional), aud (bare host),
-- scopes (list), now (seconds), iat_skew, lifetime }.
function M.claims(opts)
  local now = math.floor(opts.now)
  local iat = now - (opts.iat_skew or M.IAT_SKEW)
  return {
    iss = opts.integration_key,
    sub = opts.user_id,
    aud = opts.aud,
    iat = iat,
    exp = iat + (opts.lifetime or M.LIFETIME),
    scope = table.concat(opts.scopes, " "),
  }
end

--- Signs `claims` with the PEM private key: the compact JWT, or nil, message
-- (the message never contains the key or the passphrase).
function M.sign(claims, private_key, passphrase)
  local b64 = core.base64url_encode
  local input = b64('{"alg":"RS256","typ":"JWT"}') .. "." .. b64(encode_claims(claims))
  local sig, err = core.rs256_sign(private_key, input, passphrase)
  if not sig then
    return nil, "cannot sign the JWT assertion with the configured private key: " .. tostring(err)
  end
  return input .. "." .. b64(sig)
end

--- Splits a compact JWT into header, claims (decoded tables), signing input and
-- raw signature; nil, message when malformed. Used by the sandbox and the specs.
function M.parse(token)
  if type(token) ~= "string" then return nil, "assertion missing" end
  local h, p, s = token:match("^([%w_%-]+)%.([%w_%-]+)%.([%w_%-]*)$")
  if not h then return nil, "assertion is not a compact JWT" end
  local j = core.json
  local okh, header = pcall(j.decode, core.base64url_decode(h) or "")
  local okp, claims = pcall(j.decode, core.base64url_decode(p) or "")
  if not okh or type(header) ~= "table" or not okp or type(claims) ~= "table" then
    return nil, "assertion header or claims are not JSON"
  end
  return { header = header, claims = claims, input = h .. "." .. p, signature = core.base64url_decode(s) or "" }
end

return M
