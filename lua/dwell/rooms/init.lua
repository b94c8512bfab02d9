--- dwell.rooms: the DocuSign Rooms API v2 client.
--
--   local rooms = require("dwell").rooms{
--     account_id = "<API account GUID>",
--     env = "demo" | "prod" | "stage",          -- or base_url = ".../restapi", auth_base_url = "https://..."
--     access_token = "..." |                    -- one of the three ways to authenticate
--     jwt = { integration_key, user_id, private_key, scopes, passphrase, iat_skew, redirect_uri, renew_before } |
--     auth_code = { integration_key, secret, refresh_token | code, redirect_uri, code_verifier, on_refresh_token },
--     rate_limit = { reserve, burst_window, hourly, burst } | false,
--     store = "memory" | "file:///dir" | "redis://..." | a dwell.store, store_fallback, on_warning,
--     transport = t | timeout_ms, connect_timeout_ms, ca_file, ca_path, insecure, proxy, retry,
--                     deadline_ms, on_request, on_response, clock,
--   }
--   rooms.rooms.users.list{ room_id = 42, count = 100 }
--   rooms:rate_limit(), rooms:consent_url{ state = "..." }, rooms:userinfo{ refresh = true } (cached),
--   rooms:userinfo_account([account_id]), rooms:access_token(), rooms:endpoints()
--
-- Every call runs on dwell.pipeline: one attempt budget (retry.attempts) and one deadline
-- (deadline_ms) bound renewals, rate-limit waits and resends alike. Errors carry status, code
-- (errorCode), message, request_id (referenceId), retry_after, rate_limit and headers.
-- @module dwell.rooms
local api = require "dwell.api"
local transport = require "dwell.transport"
local endpoints = require "dwell.rooms.endpoints"
local auth = require "dwell.rooms.auth"
local config = require "dwell.rooms.config"
local credential = require "dwell.credential"
local pipeline = require "dwell.pipeline"
local ratelimit = require "dwell.rooms.ratelimit"
local redact = require "dwell.redact"
local redact_url = redact.url
local request = require "dwell.rooms.request"
local store = require "dwell.store"
local rerrors = require "dwell.rooms.errors"

local M = { ENVIRONMENTS = config.ENVIRONMENTS }

-- ---- the profile: how a Rooms request is sent and its answer read (dwell.pipeline) ---------

local profile = { vendor = "rooms",
  -- header and form field names hooks and logs must never show
  redact = { "authorization", "assertion", "refresh_token", "access_token", "code", "client_secret" } }

function profile.sign(a, spec, req, cred, ctx)
  for _, s in ipairs(req.secrets or {}) do ctx.secrets[#ctx.secrets + 1] = s end
  return request.build(a.base_url, spec, req, cred and cred.token)
end

function profile.classify(a, spec, resp)
  if spec.oauth then return a.auth:verdict(spec, resp) end
  return rerrors.verdict(spec, resp, a.limits)
end

function profile.observe(a, resp) a.limits:observe(resp.headers) end

-- Pacing guards the API's hourly budget (not the OAuth service's) before a call's first attempt;
-- a resend was already timed by its verdict (Retry-After wins over a stale Remaining: 0). A pause
-- that only spreads the hour's last calls takes at most half of what is left of the deadline (it
-- must not fail a call the server would serve); the wait for a spent budget's reset is whole, so
-- the pipeline returns rate_limited at once when it would pass the deadline.
function profile.before(a, spec, ctx)
  if spec.oauth or ctx.attempt > 1 then return nil end
  local pause, required = a.limits:before_call()
  if pause and not required then pause = math.min(pause, a.pipeline:left(ctx.deadline) / 2) end
  return pause
end

-- ---- the adapter the endpoint engine calls ---------------------------------------------------

local Adapter = {}
Adapter.__index = Adapter

function Adapter:call(spec, req, opts)
  local ok, err = request.check(spec, req)
  if not ok then return nil, err end
  return self.pipeline:execute(spec, req, opts)
end

--- The request as it would be sent (with a real token: may call the token endpoint, unless
-- opts.access_token gives the token to show, as for Tuya).
-- @local
function Adapter:prepare(spec, req, opts)
  local ok, err = request.check(spec, req)
  if not ok then return nil, err end
  if opts and opts.access_token ~= nil then return request.build(self.base_url, spec, req, opts.access_token) end
  local cred
  cred, err = self.credential:get(self.pipeline:deadline())
  if not cred then return nil, err end
  return request.build(self.base_url, spec, req, cred.token)
end

-- ---- the client ------------------------------------------------------------------------------

local methods = {}
local Client = { __name = "dwell.rooms" }
-- The client's own methods, else the endpoint tree (an unknown name gets a did-you-mean).
function Client.__index(c, k)
  local m = methods[k]
  if m ~= nil then return m end
  return rawget(c, "\0tree")[k]
end

local function adapter_of(c) return rawget(c, "\0adapter") end

--- The rate-limit headers of the last response: { limit, remaining, reset, reset_at,
-- burst_limit, burst_remaining }, or nil before the first call.
-- @function client:rate_limit
function methods:rate_limit() return adapter_of(self).limits:snapshot() end
--- The individual-consent URL for this integration key, scopes and environment (opts.state).
-- @function client:consent_url
function methods:consent_url(opts) return adapter_of(self).auth:consent_url(opts) end
--- GET /oauth/userinfo (sub, accounts[]), cached (DocuSign limits it per hour); { refresh = true }.
-- @function client:userinfo
function methods:userinfo(opts) return adapter_of(self).auth:userinfo(opts) end
--- The userinfo account named `account_id`, or the default one (not `account`: an endpoint group).
-- @function client:userinfo_account
function methods:userinfo_account(account_id) return adapter_of(self).auth:account(account_id) end
--- Every endpoint object, sorted by name.
-- @function client:endpoints
function methods:endpoints() return api.list(rawget(self, "\0tree")) end

--- A current access token (renewed when needed), e.g. for a call dwell does not declare.
-- @function client:access_token
function methods:access_token()
  local a = adapter_of(self)
  local cred, err = a.credential:get(a.pipeline:deadline())
  if not cred then return nil, err end
  return cred.token
end

function Client.__tostring(c)
  local a = adapter_of(c)
  return string.format("dwell.rooms client (account %s, %s, auth %s)", a.config.account_id,
    redact_url(a.base_url), a.auth.mode)
end

-- A host transport with park/wake lets the host loop's coroutines wait on the token lock.
local function host_of(t)
  if type(t) == "table" and type(t.park) == "function" and type(t.wake) == "function" then return t end
  return nil
end


--- Creates a client; nil, dwell.error (invalid_argument) on bad configuration.
-- The client is the endpoint tree (`rooms.rooms.users.list`, ...; docs/reference/rooms.md) plus
-- the methods below. Give exactly one of `access_token`, `jwt` and `auth_code`.
-- @tparam table cfg the options:
-- @tparam string cfg.account_id the API account GUID (client:userinfo_account() finds it)
-- @tparam[opt] string cfg.env demo, prod or stage (docs/vendors/rooms.md §1) ...
-- @tparam[opt] string cfg.base_url ... or the Rooms API base, ending in /restapi (the sandbox: `sb.url .. "/restapi"`)
-- @tparam[opt] string cfg.auth_base_url the OAuth service (default: derived from env or base_url; the sandbox: `sb.url`)
-- @tparam[opt] string cfg.access_token a ready token (the sandbox's developer token)
-- @tparam[opt] table cfg.jwt `{ integration_key, user_id, private_key, passphrase, scopes, iat_skew,
--   redirect_uri, renew_before }`: the JWT grant (docs/vendors/rooms.md §2.2)
-- @tparam[opt] table cfg.auth_code `{ integration_key, secret, refresh_token | code, redirect_uri,
--   code_verifier, on_refresh_token }`: the authorisation-code grant (docs/vendors/rooms.md §2.3)
-- @tparam[opt] table|false cfg.rate_limit `{ reserve, burst_window, hourly = 3000, burst = 200 | 500 }`
--   (the account's budgets, as buckets in the store), or false to observe only
-- @tparam[opt] string|table cfg.store where tokens and rate budgets live: "memory" (default),
--   "file:///dir", "redis://[user:password@]host:port/db", or a dwell.store (README "Sharing tokens
--   and rate budgets across processes")
-- @tparam[opt] string cfg.store_fallback "memory": keep working locally while the store fails
-- @tparam[opt] function cfg.on_warning told `{ kind = "store", event, store, message }` when the
--   fallback starts and ends (default: Lua's warn())
-- @tparam[opt] integer cfg.timeout_ms one attempt's timeout (default 30000)
-- @tparam[opt] integer cfg.connect_timeout_ms the connect phase's timeout
-- @tparam[opt] integer cfg.deadline_ms the whole call's bound: token fetch, waits and retries (default 120000)
-- @tparam[opt] table cfg.retry `{ attempts = 3, base_ms = 200, cap_ms = 10000 }` (README "Retries")
-- @tparam[opt] string cfg.ca_file a CA bundle to verify the server with
-- @tparam[opt] string cfg.ca_path a directory of CA certificates
-- @tparam[opt] boolean cfg.insecure true turns TLS verification off (explicit opt-in)
-- @tparam[opt] string|false cfg.proxy a proxy for every call; false: none, whatever the environment says
-- @tparam[opt] integer cfg.max_response_bytes answers larger than this fail as `transport`
-- @tparam[opt] function cfg.on_request hook called before each attempt (see dwell.transport.new)
-- @tparam[opt] function cfg.on_response hook called after each attempt (see dwell.transport.new)
-- @tparam[opt] table cfg.clock a clock `{ now = function() ... end }` (a virtual one in tests)
-- @tparam[opt] table cfg.transport a dwell.transport, or a host's transport with a non-blocking `send`
--   (docs/internals.md, "Transport"); replaces the options above
-- @return a client, or nil and a dwell.error
function M.new(cfg)
  local base, auth_base = config.check(cfg)
  if not base then return nil, auth_base end
  local now = cfg.clock and cfg.clock.now or os.time
  local host = host_of(cfg.transport)
  local shared, serr = store.for_client(cfg, host, "rooms")
  if not shared then return nil, serr end
  local a = setmetatable({ vendor = "rooms", config = { account_id = cfg.account_id }, base_url = base,
    limits = ratelimit.new(cfg.rate_limit, now) }, Adapter)
  a.auth = auth.new{ access_token = cfg.access_token, jwt = cfg.jwt, auth_code = cfg.auth_code,
    auth_base_url = auth_base, now = now }
  local secrets = a.auth.secrets -- the same list: a rotated refresh token joins it
  for _, u in ipairs{ base, auth_base } do secrets[#secrets + 1] = redact.userinfo(u) end
  for _, v in ipairs(store.secrets(shared)) do secrets[#secrets + 1] = v end
  -- A token is the integration's for one user (JWT) in one account: the store key names them
  -- (ids, never secrets), so clients of other users never share it.
  local who = cfg.jwt or cfg.auth_code or {}
  local grant_key = table.concat({ cfg.account_id, who.integration_key or "", who.user_id or "" }, ":")
  a.credential = credential.new{ vendor = "rooms", now = now, margin = a.auth.renew_before,
    key = "rooms:" .. grant_key .. "@" .. redact_url(auth_base), host = host, static = cfg.access_token,
    store = shared, fetch = function(current, deadline) return a.auth:fetch(deadline, current) end }
  -- The hourly and burst budgets are the account's: every client of it draws on them.
  local prod = redact_url(base):match("^https://rooms%.docusign%.com") ~= nil
  a.pipeline = pipeline.new{ profile = profile, state = a, credential = a.credential,
    transport = cfg.transport or transport.new(transport.client_options(cfg)),
    limiter = ratelimit.buckets(cfg.rate_limit, shared, "rooms:" .. cfg.account_id .. "@" .. redact_url(base), prod,
      cfg.clock),
    retry = cfg.retry, deadline_ms = cfg.deadline_ms, clock = cfg.clock, secrets = secrets }
  a.auth.pipeline = a.pipeline
  local tree = api.build(endpoints, a)
  local client = { ["\0adapter"] = a, ["\0tree"] = tree }
  for k, v in pairs(tree) do
    if k ~= "\0path" then client[k] = v end
  end
  return setmetatable(client, Client)
end

return M
