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

local find, format, upper, concat = string.find, string.format, string.upper, table.concat
local canonical_query, sha256_hex, random_hex = core.url.canonical_query, core.sha256_hex, core.random_hex
local query_string = url_mod.query_string
local EMPTY_SHA256 = sign.EMPTY_SHA256
local UPPER = { GET = true, POST = true, PUT = true, DELETE = true, PATCH = true, HEAD = true, OPTIONS = true }

--- Builds the signed HTTP request for `req` (an engine request); opts may inject t, nonce,
-- access_token and signature_headers ({ {name, value}, ... }) for reproducible signatures.
-- The string to sign and the message are laid out as dwell.tuya.sign's functions do
-- (canonical_url, string_to_sign, message), in one concatenation each.
function M.build(self, spec, req, opts, access_token)
  opts = opts or NONE
  local body = req.body
  if body ~= nil then
    -- Encoded once; these exact bytes are hashed and sent.
    body = type(body) == "string" and body or json.encode(body)
  end
  local query = req.query or NONE
  local path = req.path
  -- sign.canonical_url: only an encoded path has anything to decode
  local canon = path
  if find(path, "%", 1, true) then canon = sign.signed_path(path) end
  if query[1] ~= nil then
    local q, dup = canonical_query(query)
    if not q then return nil, errors.invalid_argument("tuya", spec.name, nil, "query parameter '" .. dup .. "' given twice") end
    canon = canon .. "?" .. q
  end
  local t = opts.t and tostring(opts.t) or format("%d", self:now_ms())
  local nonce = opts.nonce
  if nonce == nil and self.use_nonce then nonce = random_hex(16) end
  nonce = nonce or ""
  local token_api = spec.auth == "none"
  access_token = token_api and "" or (opts.access_token or access_token or "")
  local sig_headers = opts.signature_headers or NONE
  local config = self.config
  local client_id = config.client_id
  local message, sts
  if self.sign_scheme == "legacy" then
    message = sign.legacy_message(client_id, access_token, t)
  else
    local method = spec.method
    if not UPPER[method] then method = upper(method) end
    local hash = (body == nil or body == "") and EMPTY_SHA256 or sha256_hex(body)
    local lines = sig_headers[1] ~= nil and sign.signed_header_lines(sig_headers) or ""
    message = client_id .. access_token .. t .. nonce .. method .. "\n" .. hash .. "\n" .. lines .. "\n" .. canon
    if self.trace then sts = method .. "\n" .. hash .. "\n" .. lines .. "\n" .. canon end
  end
  if self.trace then
    -- the optional `trace` client option (dwell.trace): what was signed, without the secret
    -- or the access token (the string-to-sign carries neither)
    self.trace{ method = spec.method, string_to_sign = sts or "(legacy scheme: client_id .. access_token .. t)",
      t = t, nonce = nonce, token_api = token_api }
  end
  local headers = {
    client_id = client_id, sign = self.signer(message), sign_method = "HMAC-SHA256", t = t,
    nonce = nonce ~= "" and nonce or nil, access_token = not token_api and access_token or nil,
    lang = config.lang, ["Content-Type"] = body and "application/json" or nil,
  }
  if sig_headers[1] ~= nil then
    local names = {}
    for i, h in ipairs(sig_headers) do names[i] = h[1]; headers[h[1]] = h[2] end
    headers["Signature-Headers"] = concat(names, ":")
  end
  local extra = req.headers
  if extra and next(extra) ~= nil then
    for k, v in pairs(extra) do headers[k] = v end
  end
  local url = config.base_url .. path
  if query[1] ~= nil then url = url .. "?" .. query_string(query) end
  return { method = spec.method, url = url, headers = headers, body = body }
end

return M
