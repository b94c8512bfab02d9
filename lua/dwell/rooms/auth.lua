--- Access tokens for the Rooms client (NOTES.md §2): a fixed token, the JWT grant
-- (service integrations) or the refresh-token flow (authorization-code users).
-- Tokens are cached and renewed ahead of `expires_in`; concurrent callers share
-- one renewal (single flight under transport.lock()). Nothing here ever puts a
-- token, key, secret or assertion into an error message.
local errors = require "dwell.error"
local http = require "dwell.http"
local jwt = require "dwell.rooms.jwt"
local url = require "dwell.url"

local M = {}

M.DEFAULT_SCOPES = { "signature", "impersonation", "dtr.rooms.read", "dtr.rooms.write",
  "dtr.documents.read", "dtr.documents.write", "dtr.profile.read", "dtr.profile.write",
  "dtr.company.read", "dtr.company.write", "room_forms" }
-- DocuSign's own example of a redirect URI for one-off consent; a registered URI is better.
M.DEFAULT_REDIRECT = "https://developers.docusign.com/platform/auth/consent"
M.RENEW_BEFORE = 300

-- Why the token endpoint said no, in words a user can act on.
local REASONS = {
  no_valid_keys_or_signatures = "the private key does not match a public key of the integration, or the signature is bad",
  issuer_not_found = "the integration key is unknown in this environment (wrong key or wrong environment)",
  user_not_found = "the user id (sub) is not a valid user GUID in this environment",
  invalid_client = "the integration key or secret is wrong",
  expired_grant = "the refresh token or authorization code has expired",
}

local Auth = {}
Auth.__index = Auth
Auth.__name = "dwell.rooms.auth"

function Auth:__tostring()
  return "dwell.rooms.auth (" .. self.mode .. ")"
end

local function scopes_of(s)
  if s == nil then return M.DEFAULT_SCOPES end
  if type(s) == "string" then
    local list = {}
    for w in s:gmatch("%S+") do list[#list + 1] = w end
    return list
  end
  return s
end

--- `cfg` = { access_token | jwt = {...} | auth_code = {...}, auth_base_url, send (function
-- sending a request table, see dwell/http.lua), now (function), lock (transport lock) }.
function M.new(cfg)
  local self = setmetatable({ send = cfg.send, now = cfg.now, lock = cfg.lock,
    auth_base_url = cfg.auth_base_url:gsub("/+$", "") }, Auth)
  self.oauth_host = cfg.oauth_host or self.auth_base_url:gsub("^%a[%w+.-]*://", ""):gsub("/.*$", "")
  if cfg.jwt then
    local j = cfg.jwt
    self.mode = "jwt"
    -- user_id false/"" = an application-only token: no sub claim.
    self.jwt = { integration_key = j.integration_key, user_id = j.user_id ~= "" and j.user_id or nil, private_key = j.private_key,
      passphrase = j.passphrase, scopes = scopes_of(j.scopes), aud = j.aud or self.oauth_host,
      iat_skew = j.iat_skew, lifetime = j.lifetime, redirect_uri = j.redirect_uri }
    self.renew_before = j.renew_before or M.RENEW_BEFORE
  elseif cfg.auth_code then
    local a = cfg.auth_code
    self.mode = "auth_code"
    self.code = { integration_key = a.integration_key, secret = a.secret, refresh_token = a.refresh_token,
      code = a.code, redirect_uri = a.redirect_uri, code_verifier = a.code_verifier,
      scopes = a.scopes and scopes_of(a.scopes),
      on_refresh_token = a.on_refresh_token }
    self.renew_before = a.renew_before or M.RENEW_BEFORE
  else
    self.mode = "static"
    self.token = cfg.access_token
  end
  return self
end

--- True when a rejected token can be replaced by asking the token endpoint again.
function Auth:renewable()
  return self.mode ~= "static"
end

-- JWT impersonation needs the user's consent to `impersonation` as well as to the
-- API scopes (NOTES.md §2.2), so the consent URL always asks for it.
local function consent_scopes(scopes, jwt_mode)
  local list, has = {}, false
  for i, sc in ipairs(scopes) do list[i] = sc; has = has or sc == "impersonation" end
  if jwt_mode and not has then list[#list + 1] = "impersonation" end
  return table.concat(list, " ")
end

--- The individual-consent (or authorization-code) URL for the integration key,
-- scopes and environment: {oauth}/oauth/auth?response_type=code&scope=...&client_id=...
-- &redirect_uri=...[&state=...][&code_challenge=...&code_challenge_method=S256].
-- opts = { state, code_verifier (PKCE: the S256 challenge is derived from it) }.
function Auth:consent_url(opts)
  opts = type(opts) == "table" and opts or {}
  local c = self.jwt or self.code or {}
  local pairs_list = { { "response_type", "code" },
    { "scope", consent_scopes(c.scopes or M.DEFAULT_SCOPES, self.mode == "jwt") },
    { "client_id", tostring(c.integration_key) }, { "redirect_uri", c.redirect_uri or M.DEFAULT_REDIRECT } }
  if opts.state ~= nil then pairs_list[#pairs_list + 1] = { "state", tostring(opts.state) } end
  if opts.code_verifier ~= nil then
    local core = require "dwell.core"
    pairs_list[#pairs_list + 1] = { "code_challenge", core.base64url_encode(core.sha256(opts.code_verifier)) }
    pairs_list[#pairs_list + 1] = { "code_challenge_method", "S256" }
  end
  return self.auth_base_url .. "/oauth/auth?" .. url.query_string(pairs_list)
end

-- application/x-www-form-urlencoded, keeping ':' as is so that the grant type
-- reads exactly as DocuSign documents it (urn:ietf:params:oauth:grant-type:jwt-bearer);
-- ':' means the same encoded or not, every other reserved byte is encoded.
local function form_body(pairs_list)
  return (url.form(pairs_list):gsub("%%3A", ":"))
end

local function token_error(self, resp, body)
  local status = resp.status
  local code = type(body) == "table" and body.error or nil
  local desc = type(body) == "table" and body.error_description or nil
  local e = { vendor = "rooms", endpoint = "oauth.token", status = status, code = code,
    request_id = type(body) == "table" and (body.reference_id or body.referenceId) or nil }
  if code == "consent_required" then
    e.kind = "auth"
    e.consent_url = self:consent_url()
    e.message = "consent_required: the user has not granted consent to this integration key for the scopes "
      .. "requested; have the user (or an organization admin) open " .. e.consent_url
      .. " once (the redirect_uri must be registered for the integration key)"
  elseif code then
    e.kind = status and status >= 500 and "http" or "auth"
    local reason = desc and desc ~= "" and desc or nil
    e.reason = reason
    e.message = "token request refused: " .. code .. (reason and (" (" .. reason .. ")") or "")
    local why = REASONS[reason] or REASONS[code]
    if why then e.message = e.message .. ": " .. why end
  else
    e.kind = status == 429 and "rate_limited" or ((status or 0) >= 500 and "http" or "auth")
    e.message = "token request failed with HTTP " .. tostring(status)
  end
  e.retryable = e.kind == "http" or e.kind == "rate_limited"
  return errors.new(e)
end

-- Asks the token endpoint; returns { access_token, expires_in } or nil, err.
function Auth:request_token()
  local form, assertion
  local headers, idempotent = {}, false
  if self.mode == "jwt" then
    local j = self.jwt
    local err
    assertion, err = jwt.sign(jwt.claims{ integration_key = j.integration_key, user_id = j.user_id,
      aud = j.aud, scopes = j.scopes, now = self.now(), iat_skew = j.iat_skew, lifetime = j.lifetime },
      j.private_key, j.passphrase)
    if not assertion then
      return nil, errors.new{ kind = "auth", vendor = "rooms", endpoint = "oauth.token", message = err }
    end
    form = { { "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer" }, { "assertion", assertion } }
    idempotent = true -- a second assertion just mints another token
  else
    local c = self.code
    headers.Authorization = "Basic " .. require("dwell.core").base64_encode(
      tostring(c.integration_key) .. ":" .. tostring(c.secret))
    if c.refresh_token then
      form = { { "grant_type", "refresh_token" }, { "refresh_token", c.refresh_token } }
    elseif c.code then
      form = { { "grant_type", "authorization_code" }, { "code", c.code } }
      if c.redirect_uri then form[#form + 1] = { "redirect_uri", c.redirect_uri } end
      if c.code_verifier then form[#form + 1] = { "code_verifier", c.code_verifier } end
    else
      return nil, errors.new{ kind = "auth", vendor = "rooms", endpoint = "oauth.token",
        message = "auth_code needs a refresh_token (or a one-time code)" }
    end
  end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers.Accept = "application/json"
  local resp, err = self.send{ method = "POST", url = self.auth_base_url .. "/oauth/token", headers = headers,
    body = form_body(form), idempotent = idempotent, endpoint = "oauth.token" }
  if not resp then return nil, err end
  local body = http.decode(resp.body)
  if resp.status ~= 200 or type(body) ~= "table" or type(body.access_token) ~= "string" then
    -- error_description is the server's text, which may echo the form it was sent.
    local c = self.code or {}
    return nil, errors.mask(token_error(self, resp, body), { assertion, assertion and assertion:match("[^.]+$"),
      c.secret, c.refresh_token, c.code,
      headers.Authorization, headers.Authorization and headers.Authorization:match("^Basic (.+)$") })
  end
  if self.mode == "auth_code" then
    -- Refresh tokens may rotate: keep the newest, and a one-time code is spent.
    if type(body.refresh_token) == "string" and body.refresh_token ~= self.code.refresh_token then
      self.code.refresh_token = body.refresh_token
      if self.code.on_refresh_token then self.code.on_refresh_token(body.refresh_token) end
    end
    self.code.code = nil
  end
  return body
end

local function fresh(self)
  return self.token and (self.expires_at == nil or self.now() < self.expires_at)
end

--- A valid access token, renewing it first when it is missing or about to expire.
function Auth:access_token()
  if fresh(self) then return self.token end
  if self.mode == "static" then
    if self.token then return self.token end
    return nil, errors.new{ kind = "auth", vendor = "rooms", message = "no access_token, jwt or auth_code configured" }
  end
  local token, err
  self.lock:with(function()
    -- Whoever held the lock may have renewed the token meanwhile.
    if fresh(self) then token = self.token; return end
    local started = self.now()
    local body
    body, err = self:request_token()
    if not body then return end
    local ttl = tonumber(body.expires_in) or 3600
    self.token = body.access_token
    self.expires_at = started + ttl - math.min(self.renew_before, ttl / 2)
    self.renewals = (self.renewals or 0) + 1
    token = self.token
  end)
  if not token then return nil, err end
  return token
end

--- Drops `token` after the API rejected it (401), so the next call renews.
function Auth:invalidate(token)
  if self.mode ~= "static" and self.token == token then self.token, self.expires_at = nil, nil end
end

--- GET /oauth/userinfo with the current token: the decoded body, or nil, err.
-- DocuSign limits userinfo per user and integration key per hour, so the answer
-- is cached; `opts.refresh` asks again. A rejected token is renewed once.
function Auth:userinfo(opts)
  if self.userinfo_cache and not (type(opts) == "table" and opts.refresh) then return self.userinfo_cache end
  for attempt = 1, 2 do
    local token, err = self:access_token()
    if not token then return nil, err end
    local resp
    resp, err = self.send{ method = "GET", url = self.auth_base_url .. "/oauth/userinfo", idempotent = true,
      headers = { Authorization = "Bearer " .. token, Accept = "application/json" }, endpoint = "oauth.userinfo" }
    if not resp then return nil, err end
    local body = http.decode(resp.body)
    if resp.status == 200 and type(body) == "table" then
      self.userinfo_cache = body
      return body
    end
    if not (resp.status == 401 and attempt == 1 and self:renewable()) then
      return nil, errors.new{ kind = resp.status == 401 and "auth" or "http", vendor = "rooms",
        endpoint = "oauth.userinfo", status = resp.status, message = "userinfo failed with HTTP " .. resp.status }
    end
    self:invalidate(token)
  end
end

--- The userinfo account to use: the one whose account_id is `account_id`, else
-- the `is_default` one (NOTES.md §2.4). Its base_uri is the eSignature host,
-- not the Rooms one. nil, err when there is no such account.
function Auth:account(account_id)
  local info, err = self:userinfo()
  if not info then return nil, err end
  for _, a in ipairs(type(info.accounts) == "table" and info.accounts or {}) do
    if account_id ~= nil and a.account_id == account_id then return a end
    if account_id == nil and (a.is_default == true or a.is_default == "true") then return a end
  end
  return nil, errors.new{ kind = "not_found", vendor = "rooms", endpoint = "oauth.userinfo",
    message = account_id and ("the user has no account " .. tostring(account_id)) or "the user has no default account" }
end

return M
