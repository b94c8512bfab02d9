--- The signed Tuya request (docs/vendors/tuya.md §3): the canonical URL, the string to sign, the headers.
-- `a` is the client state: config (client_id, base_url, lang), signer, use_nonce, sign_scheme
-- and now_ms().
local core = require "dwell.core"
local errors = require "dwell.error"
local json = require "dwell.json"
local url_mod = require "dwell.url"
local sign = require "dwell.tuya.sign"

local M = {}

local NONE = {} -- read only: no options, no signature headers

--- Builds the signed HTTP request for `req` (an engine request); opts may inject t, nonce,
-- access_token and signature_headers ({ {name, value}, ... }) for reproducible signatures.
function M.build(self, spec, req, opts, access_token)
  opts = opts or NONE
  local body
  if req.body ~= nil then
    -- Encoded once; these exact bytes are hashed and sent.
    body = type(req.body) == "string" and req.body or json.encode(req.body)
  end
  local query = req.query or NONE
  local canon, err = sign.canonical_url(req.path, query)
  if not canon then return nil, errors.invalid_argument("tuya", spec.name, nil, err) end
  local t = opts.t and tostring(opts.t) or string.format("%d", self:now_ms())
  local nonce = opts.nonce
  if nonce == nil and self.use_nonce then nonce = core.random_hex(16) end
  nonce = nonce or ""
  local token_api = spec.auth == "none"
  access_token = token_api and "" or (opts.access_token or access_token or "")
  local sig_headers = opts.signature_headers or NONE
  local message, sts
  if self.sign_scheme == "legacy" then
    message = sign.legacy_message(self.config.client_id, access_token, t)
  else
    sts = sign.string_to_sign(spec.method, body, sig_headers, canon)
    message = sign.message(self.config.client_id, access_token, t, nonce, sts)
  end
  if self.trace then
    -- the optional `trace` client option (dwell.trace): what was signed, without the secret
    -- or the access token (the string-to-sign carries neither)
    self.trace{ method = spec.method, string_to_sign = sts or "(legacy scheme: client_id .. access_token .. t)",
      t = t, nonce = nonce, token_api = token_api }
  end
  local config = self.config
  local headers = {
    client_id = config.client_id, sign = self.signer(message), sign_method = "HMAC-SHA256", t = t,
    nonce = nonce ~= "" and nonce or nil, access_token = not token_api and access_token or nil,
    lang = config.lang, ["Content-Type"] = body and "application/json" or nil,
  }
  if sig_headers[1] ~= nil then
    local names = {}
    for i, h in ipairs(sig_headers) do names[i] = h[1]; headers[h[1]] = h[2] end
    headers["Signature-Headers"] = table.concat(names, ":")
  end
  local extra = req.headers
  if extra and next(extra) ~= nil then
    for k, v in pairs(extra) do headers[k] = v end
  end
  local url = config.base_url .. req.path
  if query[1] ~= nil then url = url .. "?" .. url_mod.query_string(query) end
  return { method = spec.method, url = url, headers = headers, body = body }
end

return M
