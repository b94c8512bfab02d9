--- Access tokens for the Rooms client (docs/vendors/rooms.md §2): the JWT grant (service integrations) or
-- the refresh-token flow (authorization-code users); a fixed access_token needs none of this.
-- Caching, early renewal, single flight and the once-only renewal after a 401 are
-- dwell.credential's; the token endpoint and userinfo are declarations that dwell.pipeline runs
-- (never public endpoints). Nothing here puts a token, key, secret or assertion into an error
-- message, and every one of them is in the list of strings errors are masked with.
local core = require "dwell.core"
local errors = require "dwell.error"
local http = require "dwell.http"
local jwt = require "dwell.rooms.jwt"
local retry = require "dwell.retry"
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

-- The OAuth service's endpoints on auth_base_url. A JWT grant may be sent again (a second
-- assertion just mints another token); an authorization-code or refresh-token grant may not (the
-- code or a rotating refresh token may be spent by the first). They are not Rooms API calls:
-- the account's Rooms budget (the client's limiter) does not count them (unmetered).
M.TOKEN = {
  jwt = { name = "oauth.token", method = "POST", auth = "none", oauth = true, repeatable = true, unmetered = true },
  auth_code = { name = "oauth.token", method = "POST", auth = "none", oauth = true, repeatable = false, unmetered = true },
}
M.USERINFO = { name = "oauth.userinfo", method = "GET", oauth = true, repeatable = true, unmetered = true }

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

--- The rule a JWT key breaks, or nil: a trial signature, so that a malformed PEM (or a wrong
-- passphrase) is a configuration error now rather than an auth error on the first call.
-- Returns the option to name and the C core's reason (which never contains the key).
function M.check_key(j)
  local ok, sig, why = pcall(core.rs256_sign, j.private_key, "dwell: key check", j.passphrase)
  if ok and sig then return nil end
  why = tostring(ok and why or sig)
  local param = why:find("passphrase", 1, true) and "jwt.passphrase" or "jwt.private_key"
  return param, "cannot sign an RS256 assertion: " .. why
end

-- Every string of the configuration an error must never show; the list is handed to the
-- pipeline, and a rotated refresh token joins it.
local function secrets_of(self, cfg)
  local s = {}
  local function add(v) if type(v) == "string" then s[#s + 1] = v end end
  local j, c = self.jwt or {}, self.code or {}
  add(j.private_key); add(j.passphrase)
  for line in (j.private_key or ""):gmatch("[^\r\n]+") do add(line:match("^[%w+/=]+$")) end -- the key's base64 lines
  add(c.secret); add(c.refresh_token); add(c.code); add(c.code_verifier); add(cfg.access_token)
  if self.basic then add(self.basic); add(self.basic:match("^Basic (.+)$")); add(c.integration_key .. ":" .. c.secret) end
  return s
end

--- `cfg` = { jwt = {...} | auth_code = {...} | access_token, auth_base_url, now (function) }.
-- `pipeline` is set by the client once it exists (token requests run through it).
function M.new(cfg)
  local self = setmetatable({ now = cfg.now, auth_base_url = cfg.auth_base_url:gsub("/+$", "") }, Auth)
  self.oauth_host = cfg.oauth_host or self.auth_base_url:gsub("^%a[%w+.-]*://", ""):gsub("[/?#].*$", ""):gsub("^.*@", "")
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
    self.basic = "Basic " .. core.base64_encode(tostring(a.integration_key) .. ":" .. tostring(a.secret))
    -- names what this client was given (never the secret itself), so that a refresh token in
    -- a shared store is taken only when it descends from the same grant (see Auth:adopt)
    self.origin = core.sha256_hex("dwell rooms grant\0" .. tostring(a.refresh_token or a.code))
    self.renew_before = a.renew_before or M.RENEW_BEFORE
  else
    self.mode = "static"
  end
  self.secrets = secrets_of(self, cfg)
  return self
end

-- JWT impersonation needs the user's consent to `impersonation` as well as to the
-- API scopes (docs/vendors/rooms.md §2.2), so the consent URL always asks for it.
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

local function auth_error(message)
  return errors.new{ kind = "auth", vendor = "rooms", endpoint = "oauth.token", message = message, retryable = false }
end

-- A string field of a server's answer, or nil: a hostile or broken server may send anything.
local function text(v)
  return type(v) == "string" and v ~= "" and v or nil
end

local function token_error(self, resp, body)
  local status = resp.status
  body = type(body) == "table" and body or {}
  local code, reason = text(body.error), text(body.error_description)
  local e = { vendor = "rooms", endpoint = "oauth.token", status = status, code = code,
    request_id = text(body.reference_id) or text(body.referenceId) }
  if code == "consent_required" then
    e.kind = "auth"
    e.consent_url = self:consent_url()
    e.message = "consent_required: the user has not granted consent to this integration key for the scopes "
      .. "requested; have the user (or an organization admin) open " .. e.consent_url
      .. " once (the redirect_uri must be registered for the integration key)"
  elseif code then
    e.kind = status >= 500 and "http" or "auth"
    e.reason = reason
    e.message = "token request refused: " .. code .. (reason and (" (" .. reason .. ")") or "")
    local why = REASONS[reason] or REASONS[code]
    if why then e.message = e.message .. ": " .. why end
  else
    e.kind = status == 429 and "rate_limited" or (status >= 500 and "http" or "auth")
    e.message = status == 200 and "the token endpoint answered HTTP 200 without an access_token"
      or ("token request failed with HTTP " .. tostring(status))
  end
  e.retryable = e.kind == "http" or e.kind == "rate_limited"
  return errors.new(e)
end

-- What a refusal by the OAuth service means for a resend: a 429 was not processed (wait);
-- 502/503/504 may have been (only a repeatable request is sent again); anything else is final.
local function refusal(resp, err)
  local after = retry.after(resp.headers)
  if resp.status == 429 then
    err.retry_after = after
    return { wait = after, err = err }
  end
  if retry.RETRY_STATUS[resp.status] then return { transient = true, wait = after, err = err } end
  return { fail = err }
end

--- The pipeline's verdict on an answer of the OAuth service (spec M.TOKEN.* or M.USERINFO).
function Auth:verdict(spec, resp)
  local body = http.decode(resp.body)
  if spec == M.USERINFO then
    if resp.status == 200 and type(body) == "table" then return { ok = true, result = body } end
    local err = errors.new{ kind = resp.status == 401 and "auth" or resp.status == 429 and "rate_limited" or "http",
      vendor = "rooms", endpoint = "oauth.userinfo", status = resp.status,
      message = "userinfo failed with HTTP " .. resp.status }
    if resp.status == 401 then return { reauth = true, err = err } end
    return refusal(resp, err)
  end
  if resp.status == 200 and type(body) == "table" and type(body.access_token) == "string" then
    return { ok = true, result = body }
  end
  return refusal(resp, token_error(self, resp, body))
end

-- The grant request: { url, headers, body, secrets (what this request alone carries) }.
function Auth:grant()
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded", Accept = "application/json" }
  local form, secrets
  if self.mode == "jwt" then
    local j = self.jwt
    local assertion, err = jwt.sign(jwt.claims{ integration_key = j.integration_key, user_id = j.user_id,
      aud = j.aud, scopes = j.scopes, now = self.now(), iat_skew = j.iat_skew, lifetime = j.lifetime },
      j.private_key, j.passphrase)
    if not assertion then return nil, auth_error(err) end
    form = { { "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer" }, { "assertion", assertion } }
    secrets = { assertion, assertion:match("[^.]+$") }
  else
    local c = self.code
    headers.Authorization = self.basic
    if c.refresh_token then
      form = { { "grant_type", "refresh_token" }, { "refresh_token", c.refresh_token } }
    elseif c.code then
      form = { { "grant_type", "authorization_code" }, { "code", c.code } }
      if c.redirect_uri then form[#form + 1] = { "redirect_uri", c.redirect_uri } end
      if c.code_verifier then form[#form + 1] = { "code_verifier", c.code_verifier } end
    else
      return nil, auth_error("auth_code needs a refresh_token (or a one-time code)")
    end
  end
  return { url = self.auth_base_url .. "/oauth/token", headers = headers, body = form_body(form), secrets = secrets }
end

-- Takes `rt` as the refresh token to use from now on, when it is a new one: kept (and masked
-- wherever this client reports), and the one-time code is spent. True when it was new.
local function take_refresh_token(self, rt)
  local c = self.code
  if type(rt) ~= "string" or rt == "" or rt == c.refresh_token then return false end
  c.refresh_token = rt
  self.secrets[#self.secrets + 1] = rt
  c.code = nil
  return true
end

-- Refresh tokens may rotate: keep the newest (and never show it), and a one-time code is spent.
function Auth:rotate(body)
  local c = self.code
  if not c then return end
  if take_refresh_token(self, body.refresh_token) and c.on_refresh_token then c.on_refresh_token(c.refresh_token) end
  c.code = nil
end

-- Clients sharing a store share one grant: when another of them refreshed, its answer spent the
-- refresh token this one holds, and the newest is in the store's entry. Taken only when the
-- entry descends from the grant this client was configured with (a re-authorised client, given
-- a new refresh token, keeps its own).
function Auth:adopt(current)
  if self.code and type(current) == "table" and current.refresh_origin == self.origin then
    take_refresh_token(self, current.refresh_token)
  end
end

--- dwell.credential's fetch: asks the token endpoint within the calling request's deadline;
-- { token, expires_in, refresh_token?, refresh_origin? } or nil, err. `current` is the entry
-- being replaced (maybe another client's, through a shared store).
function Auth:fetch(deadline, current)
  self:adopt(current)
  local req, err = self:grant()
  if not req then return nil, err end
  local body
  body, err = self.pipeline:execute(M.TOKEN[self.mode], req, { deadline = deadline })
  if not body then return nil, err end
  self:rotate(body)
  local c = self.code
  return { token = body.access_token, expires_in = tonumber(body.expires_in) or 3600,
    refresh_token = c and c.refresh_token, refresh_origin = c and self.origin }
end

--- GET /oauth/userinfo with the current token: the decoded body, or nil, err.
-- DocuSign limits userinfo per user and integration key per hour, so the answer
-- is cached; `opts.refresh` asks again. A rejected token is renewed once (the pipeline).
function Auth:userinfo(opts)
  if self.userinfo_cache and not (type(opts) == "table" and opts.refresh) then return self.userinfo_cache end
  local info, err = self.pipeline:execute(M.USERINFO, { url = self.auth_base_url .. "/oauth/userinfo" })
  if not info then return nil, err end
  self.userinfo_cache = info
  return info
end

--- The userinfo account to use: the one whose account_id is `account_id`, else
-- the `is_default` one (docs/vendors/rooms.md §2.4). Its base_uri is the eSignature host,
-- not the Rooms one. nil, err when there is no such account.
function Auth:account(account_id)
  local info, err = self:userinfo()
  if not info then return nil, err end
  for _, a in ipairs(type(info.accounts) == "table" and info.accounts or {}) do
    local match = type(a) == "table" and (account_id == nil and (a.is_default == true or a.is_default == "true")
      or account_id ~= nil and a.account_id == account_id)
    if match then return a end
  end
  return nil, errors.new{ kind = "not_found", vendor = "rooms", endpoint = "oauth.userinfo",
    message = account_id and ("the user has no account " .. tostring(account_id)) or "the user has no default account" }
end

return M
