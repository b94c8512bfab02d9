--- The Rooms gateway for the sandbox (dwell.sandbox.rooms): what every request meets before the
-- model — the OAuth service (docs/vendors/rooms.md §2: the JWT grant, verified here with the
-- core's RSA and the sandbox's own JWS parser, never dwell.rooms.jwt; authorization code and
-- refresh grants; userinfo), the bearer check, the hourly and burst limits (§8), the account in
-- the path, the JSON body, the Accept rule (§3), the ApiError envelope, and the routing table.
local core = require "dwell.core"
local support = require "dwell.sandbox.support"

local json = core.json

local M = {}

M.ACCOUNT = "/restapi/v2/accounts/{accountId}"

-- The ApiError envelope (the model's parts answer their refusals with it) ------------------

function M.error(status, code, message)
  return status, {}, { errorCode = code, message = message, referenceId = "sbx-" .. code:lower() }
end

function M.bad(message)
  return M.error(400, "INVALID_REQUEST_PARAMETER", message)
end

--- A 404 ApiError for an unknown id.
function M.not_found(what, code)
  return M.error(404, code, "The " .. what .. " was not found.")
end

local JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
local DEMO_OAUTH_HOST = "account-d.docusign.com"
local CODE_SCOPE = "signature dtr.rooms.read"

local function oauth_error(code, description)
  return 400, {}, { error = code, error_description = description }
end

local function header(req, name)
  return (req.headers or {})[name]
end

--- config: the route set's; clock: support.clock. Returns the gateway: state (tokens,
-- consent, counters; rebuilt by reset), limits, set_limits, routes(model_routes), reset.
function M.new(config, clock)
  local gw = {}
  local now = clock.now
  local limit = { hourly = config.hourly_limit or 3000, burst = config.burst_limit or 200,
    status = config.limit_status or 400 }
  local hour, burst = support.window(3600), support.window(30)

  function gw.reset()
    gw.state = { tokens = {}, consent_required = config.consent_required == true, code_spent = false,
      refresh_token = config.refresh_token, -- the one that works now (see code_grant)
      stats = { token_requests = 0, tokens_issued = 0, limited = 0, missing_accept = 0 } }
    hour.reset(); burst.reset()
  end
  gw.reset()

  -- Rate limits: an hourly budget counted from the first call (the Rooms rule), a 30-second burst.
  function gw.set_limits(args)
    if args.hourly_limit then limit.hourly = args.hourly_limit end
    if args.burst_limit then limit.burst = args.burst_limit end
    if args.limit_status then limit.status = args.limit_status end
    if args.used then
      hour.start = hour.start or now()
      hour.used = args.used
    end
    return { hourly_limit = limit.hourly, burst_limit = limit.burst, used = hour.used }
  end

  local function limit_headers()
    return { ["X-RateLimit-Limit"] = tostring(limit.hourly),
      ["X-RateLimit-Remaining"] = tostring(math.max(0, limit.hourly - hour.used)),
      ["X-RateLimit-Reset"] = tostring(math.floor(hour.start + 3600)),
      ["X-BurstLimit-Limit"] = tostring(limit.burst),
      ["X-BurstLimit-Remaining"] = tostring(math.max(0, limit.burst - burst.used)) }
  end

  -- Counts one call: the headers to add, and the error body when over a limit.
  local function take()
    local t = now()
    hour.roll(t); burst.roll(t)
    local over
    if hour.used >= limit.hourly then
      over = { errorCode = "HOURLY_APIINVOCATION_LIMIT_EXCEEDED", message = "The maximum number of hourly API"
        .. " invocations has been exceeded. The hourly limit is " .. limit.hourly .. "." }
    elseif burst.used >= limit.burst then
      over = { errorCode = "BURST_APIINVOCATION_LIMIT_EXCEEDED", message = "The maximum number of API"
        .. " invocations in 30 seconds has been exceeded. The burst limit is " .. limit.burst .. "." }
    end
    if over then
      gw.state.stats.limited = gw.state.stats.limited + 1
    else
      hour.used, burst.used = hour.used + 1, burst.used + 1
    end
    return limit_headers(), over
  end

  -- OAuth ----------------------------------------------------------------------------------

  local function issue(sub, scope)
    local st = gw.state
    local token = support.random_hex(24)
    local ttl = config.expires_in or 3600
    st.tokens[token] = { sub = sub, scope = scope, expires_at = now() + ttl }
    st.stats.tokens_issued = st.stats.tokens_issued + 1
    return token, ttl
  end

  -- The claims' checks after the signature: aud is the bare OAuth host (the configured one; else
  -- the Host the request reached, or the demo host a client built for the developer environment
  -- names while pointed at the sandbox, docs/vendors/rooms.md §1); exp at most an hour ahead.
  local function claims_refusal(c, req)
    local aud_ok
    if config.aud then aud_ok = c.aud == config.aud
    else aud_ok = c.aud == header(req, "host") or c.aud == DEMO_OAUTH_HOST end
    if not aud_ok then return "invalid audience" end
    local t = now()
    if math.type(c.exp) == nil then return "exp is required" end
    if c.exp <= t then return "expired assertion" end
    if c.iat ~= nil then
      if type(c.iat) ~= "number" or c.iat > t + (config.iat_tolerance or 0) then return "iat is in the future" end
      if c.exp - c.iat > 3600 then return "exp must be at most one hour after iat" end
    elseif c.exp > t + 3600 then
      return "exp must be at most one hour ahead"
    end
    return nil
  end

  local function jwt_grant(form, req)
    local a, why = support.jwt_parse(form.assertion)
    if not a then return oauth_error("invalid_request", why) end
    local c = a.claims
    if a.header.alg ~= "RS256" then return oauth_error("invalid_request", "alg must be RS256") end
    if c.iss ~= config.integration_key then return oauth_error("invalid_grant", "issuer_not_found") end
    -- No key configured, an unreadable key and a bad signature all look alike to a client.
    if type(config.public_key) ~= "string" or not core.rs256_verify(config.public_key, a.input, a.signature) then
      return oauth_error("invalid_grant", "no_valid_keys_or_signatures")
    end
    local refusal = claims_refusal(c, req)
    if refusal then return oauth_error("invalid_grant", refusal) end
    if c.sub ~= nil and c.sub ~= config.user_id then return 400, {}, { error = "user_not_found" } end
    if gw.state.consent_required then return 400, {}, { error = "consent_required" } end
    local token, ttl = issue(c.sub, c.scope)
    return 200, {}, { access_token = token, token_type = "Bearer", expires_in = ttl }
  end

  local function client_ok(req)
    local b = (header(req, "authorization") or ""):match("^[Bb]asic%s+(%S+)$")
    local pair = b and core.base64_decode(b)
    if not pair then return false end
    local ik, secret = pair:match("^([^:]*):(.*)$")
    return ik == config.integration_key and config.secret ~= nil and core.constant_eq(secret, config.secret)
  end

  -- Refresh, and the Authorization Code Grant exchange (§2.3: config.auth_code is a one-time code).
  -- config.rotate_refresh_tokens: every answer carries a new refresh token and the one before
  -- it is spent (a refresh token "may rotate"); otherwise config.refresh_token stays valid.
  local function code_grant(form, req, refresh)
    if not client_ok(req) then return 401, {}, { error = "invalid_client" } end
    local want, got = config.auth_code, form.code
    if refresh then want, got = gw.state.refresh_token, form.refresh_token end
    if not want or (not refresh and gw.state.code_spent) or not core.constant_eq(got or "", want) then
      return oauth_error("invalid_grant", "expired_grant")
    end
    if not refresh then gw.state.code_spent = true end
    local next_refresh = gw.state.refresh_token
    if config.rotate_refresh_tokens or not next_refresh then next_refresh = support.random_hex(24) end
    gw.state.refresh_token = next_refresh
    local token, ttl = issue(config.user_id, CODE_SCOPE)
    return 200, {}, { access_token = token, token_type = "Bearer", expires_in = ttl,
      refresh_token = next_refresh, scope = CODE_SCOPE }
  end

  local function token(req)
    gw.state.stats.token_requests = gw.state.stats.token_requests + 1
    if not (header(req, "content-type") or ""):lower():find("application/x-www-form-urlencoded", 1, true) then
      return oauth_error("invalid_request", "form-encoded body required")
    end
    local form = support.query(req.body or "")
    if form.grant_type == JWT_GRANT then return jwt_grant(form, req) end
    if form.grant_type == "refresh_token" then return code_grant(form, req, true) end
    if form.grant_type == "authorization_code" then return code_grant(form, req, false) end
    return oauth_error("unsupported_grant_type", tostring(form.grant_type))
  end

  -- A long-lived token for people driving the sandbox by hand (bin/dwell-sandbox): the JWT grant
  -- needs a key pair configured first, this works at once. config.access_token = false: none.
  local developer = config.access_token ~= false and
    { sub = config.user_id, scope = "signature impersonation dtr.rooms.read dtr.rooms.write", expires_at = math.huge }

  -- The token's record when the request carries a live bearer token, else nil.
  local function bearer(req)
    local t = (header(req, "authorization") or ""):match("^Bearer%s+(%S+)$")
    local rec = t and (gw.state.tokens[t] or (developer and t == config.access_token and developer))
    if rec and rec.expires_at > now() then return rec end
    return nil
  end

  local function userinfo(req)
    local t = bearer(req)
    if not t then return 401, {}, { error = "invalid_token" } end
    return 200, {}, { sub = t.sub or config.user_id, name = "Sandbox Admin", given_name = "Sandbox",
      family_name = "Admin", created = "2024-01-01T00:00:00Z", email = "admin@example.com",
      accounts = { { account_id = config.account_id, is_default = true, account_name = "Dwell Realty (sandbox)",
        base_uri = "https://demo.docusign.net", organization = { organization_id = "org-1", links = {} } } } }
  end

  -- The answer to a request without a live bearer token.
  local function unauthorized()
    return 401, {}, { errorCode = "AUTHORIZATION_INVALID_TOKEN",
      message = "The access token provided is expired, revoked or malformed." }
  end

  -- The OAuth token endpoint, the bearer check and its refusal, for the replay set too.
  gw.token, gw.bearer, gw.unauthorized = token, bearer, unauthorized

  -- Every API route: bearer token, hourly/burst budget, account, JSON body, Accept.
  local function guarded(fn, with_body)
    return function(req)
      if not bearer(req) then return unauthorized() end
      local rl, over = take()
      if over then return limit.status, rl, over end
      if req.captures.accountId and req.captures.accountId ~= config.account_id then
        return 400, rl, { errorCode = "INVALID_ACCOUNT_ID", message = "The account id is not valid for this user." }
      end
      local body = {}
      if with_body then
        body = support.json_body(req.body)
        if not body then
          return 400, rl, { errorCode = "INVALID_REQUEST_BODY", message = "The request body is not valid JSON." }
        end
      end
      local status, headers, out = fn(req, body)
      headers = headers or {}
      for k, v in pairs(rl) do headers[k] = v end
      -- The API lists text/plain first among what it produces: without an explicit Accept it
      -- answers in text/plain (docs/vendors/rooms.md §3).
      if not (req.headers.accept or ""):find("json", 1, true) and type(out) == "table" then
        gw.state.stats.missing_accept = gw.state.stats.missing_accept + 1
        headers["Content-Type"] = "text/plain; charset=utf-8"
        out = json.encode(out)
      end
      return status, headers, out
    end
  end

  --- The routing table: the OAuth service, then the model's routes ({ method, pattern,
  -- handler(req, body), takes_json_body }), each behind the guard.
  function gw.routes(model_routes)
    local out = { { "POST", "/oauth/token", token }, { "GET", "/oauth/userinfo", userinfo } }
    for _, r in ipairs(model_routes) do out[#out + 1] = { r[1], r[2], guarded(r[3], r[4]) } end
    return out
  end

  return gw
end

return M
