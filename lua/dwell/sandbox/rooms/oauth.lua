--- The Rooms sandbox's OAuth service (docs/vendors/rooms.md §2): POST /oauth/token for the JWT
-- grant (RS256 verified against the configured public key; aud, iss, sub, exp,
-- iat checked) and for authorization-code refresh, GET /oauth/userinfo, and the
-- bearer check every API route uses.
local core = require "dwell.core"
-- The emulation's own JWT and form parsing, not the client's (dwell.rooms.jwt, dwell.url).
local support = require "dwell.sandbox.support"

local M = {}

local JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
local DEMO_OAUTH_HOST = "account-d.docusign.com"

local function oauth_error(code, description)
  return 400, {}, { error = code, error_description = description }
end

local function header(req, name)
  return (req.headers or {})[name]
end

--- `st` is the shared sandbox state (config, now(), tokens, stats).
function M.new(st)
  local cfg = st.config
  local o = {}

  local function issue(sub, scope)
    local token = core.random_hex(24)
    local ttl = cfg.expires_in or 3600
    st.tokens[token] = { sub = sub, scope = scope, expires_at = st.now() + ttl }
    st.stats.tokens_issued = st.stats.tokens_issued + 1
    return token, ttl
  end

  local function jwt_grant(form, req)
    local a, why = support.jwt_parse(form.assertion)
    if not a then return oauth_error("invalid_request", why) end
    local h, c = a.header, a.claims
    if h.alg ~= "RS256" then return oauth_error("invalid_request", "alg must be RS256") end
    if c.iss ~= cfg.integration_key then return oauth_error("invalid_grant", "issuer_not_found") end
    -- No key configured, an unreadable key and a bad signature all look alike to a client.
    if type(cfg.public_key) ~= "string" or not core.rs256_verify(cfg.public_key, a.input, a.signature) then
      return oauth_error("invalid_grant", "no_valid_keys_or_signatures")
    end
    -- aud is the bare OAuth host: the configured one; else the Host the request
    -- reached, or the demo OAuth host a client built for the developer
    -- environment names while pointed at the sandbox (docs/vendors/rooms.md §1).
    local aud_ok
    if cfg.aud then aud_ok = c.aud == cfg.aud
    else aud_ok = c.aud == header(req, "host") or c.aud == DEMO_OAUTH_HOST end
    if not aud_ok then return oauth_error("invalid_grant", "invalid audience") end
    local now = st.now()
    if math.type(c.exp) == nil then return oauth_error("invalid_grant", "exp is required") end
    if c.exp <= now then return oauth_error("invalid_grant", "expired assertion") end
    if c.iat ~= nil then
      if type(c.iat) ~= "number" or c.iat > now + (cfg.iat_tolerance or 0) then
        return oauth_error("invalid_grant", "iat is in the future")
      end
      if c.exp - c.iat > 3600 then return oauth_error("invalid_grant", "exp must be at most one hour after iat") end
    elseif c.exp > now + 3600 then
      return oauth_error("invalid_grant", "exp must be at most one hour ahead")
    end
    if c.sub ~= nil and c.sub ~= cfg.user_id then return 400, {}, { error = "user_not_found" } end
    if st.consent_required then return 400, {}, { error = "consent_required" } end
    local token, ttl = issue(c.sub, c.scope)
    return 200, {}, { access_token = token, token_type = "Bearer", expires_in = ttl }
  end

  local function client_of(req)
    local auth = header(req, "authorization") or ""
    local b = auth:match("^[Bb]asic%s+(%S+)$")
    local pair = b and core.base64_decode(b)
    if not pair then return nil end
    local ik, secret = pair:match("^([^:]*):(.*)$")
    if ik == cfg.integration_key and cfg.secret and core.constant_eq(secret, cfg.secret) then return ik end
    return nil
  end

  local function refresh_grant(form, req)
    if not client_of(req) then return 401, {}, { error = "invalid_client" } end
    if not cfg.refresh_token or not core.constant_eq(form.refresh_token or "", cfg.refresh_token) then
      return oauth_error("invalid_grant", "expired_grant")
    end
    local token, ttl = issue(cfg.user_id, "signature dtr.rooms.read")
    return 200, {}, { access_token = token, token_type = "Bearer", expires_in = ttl,
      refresh_token = cfg.refresh_token, scope = "signature dtr.rooms.read" }
  end

  -- Authorization Code Grant exchange (docs/vendors/rooms.md §2.3): config.auth_code is a
  -- one-time code; the answer carries a refresh token.
  local function code_grant(form, req)
    if not client_of(req) then return 401, {}, { error = "invalid_client" } end
    if not cfg.auth_code or st.code_spent or not core.constant_eq(form.code or "", cfg.auth_code) then
      return oauth_error("invalid_grant", "expired_grant")
    end
    st.code_spent = true
    local token, ttl = issue(cfg.user_id, "signature dtr.rooms.read")
    return 200, {}, { access_token = token, token_type = "Bearer", expires_in = ttl,
      refresh_token = cfg.refresh_token or core.random_hex(24), scope = "signature dtr.rooms.read" }
  end

  function o.token(req)
    st.stats.token_requests = st.stats.token_requests + 1
    local ctype = (header(req, "content-type") or ""):lower()
    if not ctype:find("application/x-www-form-urlencoded", 1, true) then
      return oauth_error("invalid_request", "form-encoded body required")
    end
    local form = support.query(req.body or "")
    if form.grant_type == JWT_GRANT then return jwt_grant(form, req) end
    if form.grant_type == "refresh_token" then return refresh_grant(form, req) end
    if form.grant_type == "authorization_code" then return code_grant(form, req) end
    return oauth_error("unsupported_grant_type", tostring(form.grant_type))
  end

  -- A long-lived token for people driving the sandbox by hand (bin/dwell-sandbox): the
  -- JWT grant needs a key pair configured first, this works at once. config.access_token
  -- = false turns it off.
  local developer = cfg.access_token ~= false and
    { sub = cfg.user_id, scope = "signature impersonation dtr.rooms.read dtr.rooms.write", expires_at = math.huge }

  --- The token's record when the request carries a live bearer token, else nil.
  function o.bearer(req)
    local token = (header(req, "authorization") or ""):match("^Bearer%s+(%S+)$")
    local t = token and (st.tokens[token] or (developer and token == cfg.access_token and developer))
    if t and t.expires_at > st.now() then return t end
    return nil
  end

  function o.userinfo(req)
    local t = o.bearer(req)
    if not t then return 401, {}, { error = "invalid_token" } end
    return 200, {}, { sub = t.sub or cfg.user_id, name = "Sandbox Admin", given_name = "Sandbox",
      family_name = "Admin", created = "2024-01-01T00:00:00Z", email = "admin@example.com",
      accounts = { { account_id = cfg.account_id, is_default = true, account_name = "Dwell Realty (sandbox)",
        base_uri = "https://demo.docusign.net", organization = { organization_id = "org-1", links = {} } } } }
  end

  return o
end

return M
