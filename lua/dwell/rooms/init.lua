--- dwell.rooms: the DocuSign Rooms API v2 client.
--
--   local rooms = require("dwell").rooms{
--     account_id = "<API account GUID>",
--     env = "demo" | "prod" | "stage",          -- or base_url = ".../restapi", auth_base_url = "https://..."
--     access_token = "..." |                    -- one of the three ways to authenticate
--     jwt = { integration_key, user_id, private_key, scopes, passphrase, iat_skew, redirect_uri } |
--     auth_code = { integration_key, secret, refresh_token },
--     rate_limit = { reserve, max_waits, max_wait } | false,
--     transport = t | timeout_ms, connect_timeout_ms, ca_file, ca_path, insecure, proxy, retry,
--                     deadline_ms, on_request, on_response, clock,
--   }
--   rooms.rooms.users.list{ room_id = 42, count = 100 }
--   for user in rooms.rooms.users:each{ room_id = 42 } do ... end
--   rooms:rate_limit()   -- X-RateLimit-* / X-BurstLimit-* of the last response
--   rooms:consent_url{ state = "..." }, rooms:userinfo{ refresh = true } (cached),
--   rooms:userinfo_account([account_id]), rooms:access_token(), rooms:endpoints()
--
-- Only GETs are retried or wait out a rate limit (NOTES.md §8). Errors from the API
-- carry status, code (errorCode), message, request_id (referenceId), retry_after,
-- rate_limit (the five headers of that response) and headers (secret ones masked).
--
-- The endpoint tree (endpoints.lua) hangs off the client; this file is the adapter
-- the engine calls: it builds URLs, adds Accept/Authorization, sends, renews a
-- rejected token once, paces against and waits out rate limits, and maps errors.
local api = require "dwell.api"
local auth = require "dwell.rooms.auth"
local endpoints = require "dwell.rooms.endpoints"
local errors = require "dwell.error"
local http = require "dwell.http"
local ratelimit = require "dwell.rooms.ratelimit"
local rerrors = require "dwell.rooms.errors"
local url = require "dwell.url"
local validate = require "dwell.validate"

local M = {}

M.ENVIRONMENTS = {
  demo = { base_url = "https://demo.rooms.docusign.com/restapi", auth_base_url = "https://account-d.docusign.com" },
  prod = { base_url = "https://rooms.docusign.com/restapi", auth_base_url = "https://account.docusign.com" },
  stage = { base_url = "https://stage.rooms.docusign.com/restapi", auth_base_url = "https://account-s.docusign.com" },
}
M.ENVIRONMENTS.production = M.ENVIRONMENTS.prod
M.ENVIRONMENTS.developer = M.ENVIRONMENTS.demo

-- Header and form fields the transport must mask in hooks and logs.
local REDACT = { "authorization", "assertion", "refresh_token", "access_token", "code", "client_secret" }

local function bad(message)
  return nil, errors.new{ kind = "invalid_argument", vendor = "rooms", message = message }
end

-- The SDKs' rule: https://demo... -> account-d, https://stage... -> account-s, else production.
local function auth_base_for(base_url)
  if base_url:match("^https://demo") then return M.ENVIRONMENTS.demo.auth_base_url end
  if base_url:match("^https://stage") then return M.ENVIRONMENTS.stage.auth_base_url end
  return M.ENVIRONMENTS.prod.auth_base_url
end

local function resolve_hosts(cfg)
  local base, auth_base = cfg.base_url, cfg.auth_base_url
  if cfg.env then
    local e = M.ENVIRONMENTS[cfg.env]
    if not e then return bad("'env' must be demo, prod or stage (got " .. tostring(cfg.env) .. ")") end
    base, auth_base = base or e.base_url, auth_base or e.auth_base_url
  end
  if not base then return bad("give 'env' (demo, prod, stage) or 'base_url'") end
  base = base:gsub("/+$", "")
  return base, (auth_base or auth_base_for(base)):gsub("/+$", "")
end

local Adapter = {}
Adapter.__index = Adapter

-- Query values with a `canonical` map are sent in the API's own spelling.
local function canonicalize(spec, request)
  for _, p in ipairs(spec.params) do
    if p.canonical then
      for _, kv in ipairs(request.query) do
        if kv[1] == p.wire then
          kv[2] = kv[2]:gsub("[^,]+", function(part) return p.canonical[part:lower()] or part end)
        end
      end
    end
  end
end

-- Whether the operation has a JSON body model (any body parameter declared).
local function takes_body(spec)
  for _, p in ipairs(spec.params) do
    if p["in"] == "body" then return true end
  end
  return false
end

function Adapter:build(spec, request, token)
  canonicalize(spec, request)
  local u = self.base_url .. request.path
  local qs = url.query_string(request.query)
  if qs ~= "" then u = u .. "?" .. qs end
  local headers = { Accept = "application/json" }
  for k, v in pairs(request.headers or {}) do headers[k] = v end
  if token then headers.Authorization = "Bearer " .. token end
  local body
  if request.body ~= nil then
    body = require("dwell.core").json.encode(request.body)
    headers["Content-Type"] = "application/json"
  elseif takes_body(spec) then
    -- A body model whose fields are all optional (RoomUserForUpdate,
    -- RoomUserRemovalDetail) still travels as JSON: an empty object, not an
    -- empty body, which a model-binding server may refuse.
    body = "{}"
    headers["Content-Type"] = "application/json"
  elseif spec.method == "POST" or spec.method == "PUT" then
    body = ""
  end
  return { method = spec.method, url = u, headers = headers, body = body }
end

-- Conditional requirements a parameter table cannot express (spec.required_when).
local function check_required_when(spec, request)
  for _, r in ipairs(spec.required_when or {}) do
    local field, other, value = r[1], r[2], r[3]
    if request.values[other] == value and request.values[field] == nil then
      return nil, errors.invalid_argument("rooms", spec.name, field,
        "is required when " .. other .. " is " .. tostring(value))
    end
  end
  return true
end

--- The request as it would be sent (with a real token: may call the token endpoint).
function Adapter:prepare(spec, request)
  local ok, err = check_required_when(spec, request)
  if not ok then return nil, err end
  local token
  token, err = self.auth:access_token()
  if not token then return nil, err end
  return self:build(spec, request, token)
end

function Adapter:send(req)
  local r = { method = req.method, url = req.url, headers = req.headers, body = req.body,
    idempotent = req.idempotent, redact = REDACT }
  local resp, err = self.transport:send(r)
  if not resp then
    if errors.is(err) then
      err.vendor, err.endpoint = err.vendor or "rooms", err.endpoint or req.endpoint
      return nil, err
    end
    return nil, errors.new{ kind = "transport", vendor = "rooms", endpoint = req.endpoint,
      message = type(err) == "table" and tostring(err.message) or tostring(err) }
  end
  self.limits:observe(resp.headers)
  return resp
end

local function success(spec, resp)
  if resp.status == 204 or not (resp.body or ""):find("%S") then return true end
  local v = http.decode(resp.body)
  if v == nil then return nil, rerrors.decode_error(spec.name, resp) end
  return v
end

--- Sends the call; renews a rejected token once; waits out rate limits for idempotent calls.
function Adapter:call(spec, request)
  local ok, verr = check_required_when(spec, request)
  if not ok then return nil, verr end
  local renewed, waits = false, 0
  while true do
    self.limits:before_call()
    local token, err = self.auth:access_token()
    if not token then return nil, err end
    local req = self:build(spec, request, token)
    req.idempotent, req.endpoint = spec.idempotent, spec.name
    local resp
    resp, err = self:send(req)
    if not resp then return nil, err end
    if resp.status >= 200 and resp.status < 300 then return success(spec, resp) end
    local retry_after = tonumber(http.header(resp.headers, "Retry-After"))
    local body = http.decode(resp.body)
    local burst = rerrors.is_burst(body)
    if resp.status == 401 and not renewed and self.auth:renewable() then
      renewed = true
      self.auth:invalidate(token)
    elseif rerrors.is_rate_limited(resp.status, body) and spec.idempotent
        and waits < self.limits.max_waits and self.limits:wait_for_reset(retry_after, burst, waits + 1) then
      waits = waits + 1
    else
      retry_after = retry_after or (burst and self.limits.burst_window) or self:seconds_to_reset()
      -- The API's message may echo the request, bearer token included.
      return nil, errors.mask(rerrors.from_response(spec.name, resp, retry_after), { token })
    end
  end
end

function Adapter:seconds_to_reset()
  local s = self.limits:snapshot()
  if s and s.reset_at then return math.max(0, s.reset_at - self.now()) end
  return nil
end

local Client = {}
Client.__name = "dwell.rooms"

local methods = {}

--- The rate-limit headers of the last response: { limit, remaining, reset, reset_at,
-- burst_limit, burst_remaining }, or nil before the first call.
function methods:rate_limit()
  return self["\0adapter"].limits:snapshot()
end

--- The individual-consent URL for this integration key, scopes and environment;
-- `opts.state` adds an opaque state value.
function methods:consent_url(opts)
  return self["\0adapter"].auth:consent_url(opts)
end

--- GET /oauth/userinfo (sub, accounts[]), cached because DocuSign limits it per
-- hour; `{ refresh = true }` asks again.
function methods:userinfo(opts)
  return self["\0adapter"].auth:userinfo(opts)
end

--- The userinfo account named `account_id`, or the default one (is_default).
-- (Not `account`: that is the account.get endpoint group.)
function methods:userinfo_account(account_id)
  return self["\0adapter"].auth:account(account_id)
end

--- A current access token (renewed when needed), e.g. for a call dwell does not declare.
function methods:access_token()
  return self["\0adapter"].auth:access_token()
end

--- Every endpoint object, sorted by name.
function methods:endpoints()
  return api.list(self["\0tree"])
end

Client.__index = methods
function Client.__tostring(c)
  local a = c["\0adapter"]
  return string.format("dwell.rooms client (account %s, %s, auth %s)", tostring(a.config.account_id),
    a.base_url, a.auth.mode)
end

-- Option types, checked before anything is built so that a bad configuration is nil, err.
local OPTION_TYPES = { env = "string", base_url = "string", auth_base_url = "string", access_token = "string",
  jwt = "table", auth_code = "table", transport = "table" }

-- Every option dwell.rooms{...} knows, so that a misspelt one is an error, not silently ignored.
local OPTION_NAMES = { "account_id", "env", "base_url", "auth_base_url", "access_token", "jwt", "auth_code",
  "transport", "rate_limit" }

local function check_types(cfg)
  local unknown, why = validate.unknown_option(cfg, "DocuSign Rooms", OPTION_NAMES,
    require("dwell.transport").CLIENT_OPTIONS)
  if unknown then return "'" .. unknown .. "' " .. why end
  for k, t in pairs(OPTION_TYPES) do
    if cfg[k] ~= nil and type(cfg[k]) ~= t then return "'" .. k .. "' must be a " .. t .. " (got " .. type(cfg[k]) .. ")" end
  end
  if cfg.rate_limit ~= nil and cfg.rate_limit ~= false and type(cfg.rate_limit) ~= "table" then
    return "'rate_limit' must be a table or false (got " .. type(cfg.rate_limit) .. ")"
  end
  local opt, rule = require("dwell.transport").check_client_options(cfg)
  if opt then return "'" .. opt .. "' " .. rule end
  return nil
end

--- Creates a client; nil, dwell.error on bad configuration.
function M.new(cfg)
  if type(cfg) ~= "table" then return bad("dwell.rooms{...} needs a configuration table") end
  if type(cfg.account_id) ~= "string" or cfg.account_id == "" then
    return bad("'account_id' (the API account GUID, a string) is required")
  end
  local rule = check_types(cfg)
  if rule then return bad(rule) end
  local base, auth_base = resolve_hosts(cfg)
  if not base then return nil, auth_base end
  local modes = (cfg.access_token and 1 or 0) + (cfg.jwt and 1 or 0) + (cfg.auth_code and 1 or 0)
  if modes ~= 1 then return bad("give exactly one of 'access_token', 'jwt' or 'auth_code'") end
  if cfg.jwt then
    for _, k in ipairs({ "integration_key", "private_key" }) do
      if type(cfg.jwt[k]) ~= "string" or cfg.jwt[k] == "" then return bad("'jwt." .. k .. "' is required") end
    end
  elseif cfg.auth_code then
    for _, k in ipairs({ "integration_key", "secret" }) do
      if type(cfg.auth_code[k]) ~= "string" then return bad("'auth_code." .. k .. "' is required") end
    end
  end

  local transport = require "dwell.transport"
  local t = cfg.transport or transport.new(transport.client_options(cfg))
  local clock = cfg.clock or {}
  local now = clock.now or os.time
  local sleep = clock.sleep or transport.sleep

  local adapter = setmetatable({ vendor = "rooms", config = { account_id = cfg.account_id },
    base_url = base, transport = t, now = now }, Adapter)
  adapter.limits = ratelimit.new(cfg.rate_limit, now, sleep)
  adapter.auth = auth.new{ access_token = cfg.access_token, jwt = cfg.jwt, auth_code = cfg.auth_code,
    auth_base_url = auth_base, now = now, lock = transport.lock(cfg.transport),
    send = function(req) return adapter:send(req) end }

  local tree = api.build(endpoints, adapter)
  local client = { ["\0adapter"] = adapter, ["\0tree"] = tree }
  for k, v in pairs(tree) do
    if k ~= "\0path" then client[k] = v end
  end
  return setmetatable(client, Client)
end

return M
