--- dwell.tuya: the Tuya Smart Community client.
--
--   local tuya = assert(dwell.tuya{ client_id = ..., secret = ..., region = "eu" })
--   local page = tuya.community.room_users{ block_id = b, page_no = 1, page_size = 20 }
--
-- The client exposes the endpoint tree (endpoints.lua) at its top level plus a few methods
-- (request, prepare, token_info). This file is wiring: options (config.lua), the signed request
-- (request.lua), how a call runs on dwell.pipeline (profile.lua: re-authenticate once on
-- 1010/1011/1012, correct the clock once on 1013) and tokens through dwell.credential (token.lua).
-- @module dwell.tuya
local api = require "dwell.api"
local core_http = require("dwell.core").http
local hmac_sha256_hex = require("dwell.core").hmac_sha256_hex
local transport = require "dwell.transport"
local endpoints = require "dwell.tuya.endpoints"
local credential = require "dwell.credential"
local errors = require "dwell.error"
local pipeline = require "dwell.pipeline"
local store = require "dwell.store"
local redact = require "dwell.redact"
local redact_url = redact.url
local retry = require "dwell.retry"
local url = require "dwell.url"
local config = require "dwell.tuya.config"
local profile = require "dwell.tuya.profile"
local request = require "dwell.tuya.request"
local sign = require "dwell.tuya.sign"
local token = require "dwell.tuya.token"

local M = {}

M.REGIONS = config.REGIONS

local Adapter = {}
Adapter.__index = Adapter
Adapter.__name = "dwell.tuya.adapter"

function Adapter:__tostring()
  return "dwell.tuya adapter (" .. redact_url(self.config.base_url) .. ")"
end

-- Tuya's `t` and token lifetimes are wall-clock epoch times, so the default
-- clock is the real-time one, not the transport's monotonic clock.
local function default_now()
  return core_http.realtime
end

--- The request's `t`: the client clock in ms, corrected by the offset learnt from 1013 answers.
-- @local
function Adapter:now_ms()
  return math.floor(self.now() * 1000) + self.clock_offset_ms
end

--- Learns the offset between our clock and the gateway's from an envelope's `t` (ms).
-- @local
function Adapter:adjust_clock(server_t)
  local t = math.tointeger(tonumber(server_t))
  if t then self.clock_offset_ms = t - math.floor(self.now() * 1000) end
  return t ~= nil
end

function Adapter:prepare(spec, req, opts)
  opts = opts or {}
  local access_token
  if spec.auth ~= "none" and opts.access_token == nil then
    local entry, err = self.credential:get(self.pipeline:deadline())
    if not entry then return nil, err end
    access_token = entry.token
  end
  return request.build(self, spec, req, opts, access_token)
end

function Adapter:call(spec, req, opts)
  return self.pipeline:execute(spec, req, opts)
end

-- ---------------------------------------------------------------------------------------------
-- The client object.

local Client = {}
Client.__name = "dwell.tuya"
local methods = {}

-- A client's own methods, else the endpoint tree (whose groups answer an unknown name with a
-- did-you-mean).
function Client.__index(self, k)
  local m = methods[k]
  if m ~= nil then return m end
  return rawget(self, "_tree")[k]
end

function Client:__tostring()
  local a = rawget(self, "_adapter")
  return string.format("dwell.tuya client (client_id=%s, base_url=%s)", a.config.client_id, redact_url(a.config.base_url))
end

local function raw_request(r)
  if type(r) ~= "table" then return nil, errors.invalid_argument("tuya", "request", nil, "expects a table") end
  local method = type(r.method) == "string" and r.method:upper() or "GET"
  if type(r.path) ~= "string" or r.path:sub(1, 1) ~= "/" then
    return nil, errors.invalid_argument("tuya", "request", "path", "must be a string starting with /")
  end
  if method == "GET" and r.body ~= nil then
    -- Tuya GETs carry no body and sign the empty-body hash (docs/vendors/tuya.md §3.2).
    return nil, errors.invalid_argument("tuya", "request", "body", "is not allowed on a GET")
  end
  if r.query ~= nil and type(r.query) ~= "table" then
    return nil, errors.invalid_argument("tuya", "request", "query", "must be a table")
  end
  local query = {}
  -- { {k, v}, ... } keeps its order; { k = v } is sorted. Values travel exactly (lists as a,b).
  local list = r.query and r.query[1] ~= nil
  for k, v in (list and ipairs or pairs)(r.query or {}) do
    local name, value = k, v
    if list then name, value = v[1], v[2] end
    local s, why = url.value_text(value)
    if type(name) ~= "string" or not s then
      return nil, errors.invalid_argument("tuya", "request", "query." .. tostring(name), why or "names must be strings")
    end
    query[#query + 1] = { name, s }
  end
  if not list then table.sort(query, function(x, y) return sign.bytewise_less(x[1], y[1]) end) end
  local token_api = r.token_api or r.path:find("^/v1%.0/token") ~= nil
  local spec = { name = method .. " " .. r.path, method = method, path = r.path,
    auth = token_api and "none" or nil, repeatable = retry.repeatable(method, r.idempotent) }
  return spec, { method = method, path = r.path, query = query, body = r.body, headers = r.headers or {}, values = {} }
end

--- Calls any Tuya API path: client:request{ method, path, query = {k = v} | {{k, v}, ...}, body }.
-- Signed, retried and unwrapped like a declared endpoint; for paths dwell does not declare.
-- @function client:request
-- @tparam table r `method` (default GET), `path` (from `/`), `query`, `body` (a table, not on GET),
--   `headers`, `idempotent` (true lets a write be resent like a read), `token_api`
-- @return the envelope's `result`, or nil and a dwell.error
function methods:request(r)
  local a = rawget(self, "_adapter")
  local spec, req = raw_request(r)
  if not spec then return nil, req end
  return a:call(spec, req)
end

--- The signed request client:request(r) would send, without sending it.
-- @function client:prepare
-- @tparam table r as for client:request
-- @tparam[opt] table opts `{ access_token = ... }` signs with that token instead of fetching one
-- @return `{ method, url, headers, body }`, or nil and a dwell.error
function methods:prepare(r, opts)
  local a = rawget(self, "_adapter")
  local spec, req = raw_request(r)
  if not spec then return nil, req end
  return a:prepare(spec, req, opts)
end

--- Token state without secrets: { has_token, expires_in, uid, grants, refreshes, failed_refreshes }.
-- @function client:token_info
function methods:token_info()
  local a = rawget(self, "_adapter")
  local cur = a.credential:peek()
  return {
    has_token = cur ~= nil and not cur.stale and cur.token ~= nil,
    expires_in = cur and cur.expires_at and math.max(0, cur.expires_at - a.now()) or nil,
    uid = cur and cur.uid or nil,
    grants = a.stats.grants, refreshes = a.stats.refreshes, failed_refreshes = a.stats.failed_refreshes,
  }
end

--- The clock offset (ms) learnt from the gateway (1013 answers).
-- @function client:clock_offset_ms
function methods:clock_offset_ms()
  return rawget(self, "_adapter").clock_offset_ms
end

--- Every endpoint of this client, sorted by name.
-- @function client:endpoints
function methods:endpoints()
  return api.list(rawget(self, "_tree"))
end

-- A host transport (cfg.transport) with park/wake lets the host loop's coroutines wait on locks.
local function host_of(t)
  if type(t) == "table" and type(t.park) == "function" and type(t.wake) == "function" then return t end
  return nil
end

local function make_transport(cfg)
  if cfg.transport then return cfg.transport end
  local opts = transport.client_options(cfg)
  -- the caller's hooks see requests with the signature and tokens masked
  opts.on_request, opts.on_response = profile.wrap_hook(cfg.on_request), profile.wrap_hook(cfg.on_response)
  return transport.new(opts)
end

--- Creates a client, or returns nil, dwell.error (invalid_argument) for a bad configuration.
-- The client is the endpoint tree (`tuya.community.room_users`, ...; docs/reference/tuya.md)
-- plus the methods below. Unknown options are refused with a did-you-mean.
-- @tparam table cfg the options:
-- @tparam string cfg.client_id the cloud project's Access ID
-- @tparam string cfg.secret the cloud project's Access Secret
-- @tparam[opt] string cfg.region cn, us, us-east, eu, eu-west or in (docs/vendors/tuya.md §1) ...
-- @tparam[opt] string cfg.base_url ... or any gateway URL (the sandbox's `sb.url`)
-- @tparam[opt] string cfg.lang the `lang` header
-- @tparam[opt] boolean cfg.raw_keys true keeps result keys as received (default: snake_case)
-- @tparam[opt] boolean cfg.nonce false sends no nonce (default: one per request)
-- @tparam[opt] string cfg.sign_scheme "hmac" (default) or "legacy" (docs/vendors/tuya.md §3.6)
-- @tparam[opt] number cfg.refresh_margin_s renew the token this long before it expires
-- @tparam[opt] table cfg.token_store an older `{ get, set }` token store (or give `store`)
-- @tparam[opt] table cfg.limiter a rate limiter (dwell.ratelimit) every call takes from
-- @tparam[opt] table cfg.rate_limit `{ capacity, refill_per_second }`: a bucket of the client id,
--   kept in the store (shared by every process using it); instead of `limiter`
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
  local base, err = config.check(cfg)
  if not base then return nil, err end
  local secret = cfg.secret
  local a = setmetatable({
    vendor = "tuya",
    config = { client_id = cfg.client_id, base_url = base, region = cfg.region, lang = cfg.lang },
    signer = function(message) return hmac_sha256_hex(secret, message, true) end, -- sign.sign
    raw_keys = cfg.raw_keys == true, use_nonce = cfg.nonce ~= false, sign_scheme = cfg.sign_scheme or "hmac",
    trace = cfg.trace, clock_offset_ms = 0, stats = { grants = 0, refreshes = 0, failed_refreshes = 0 },
  }, Adapter)
  a.now = cfg.clock and cfg.clock.now or default_now()
  a.tree = api.build(endpoints, a)
  -- Store keys name the account (client id and gateway, without any user-info), never a secret.
  local account = cfg.client_id .. "@" .. redact.without_userinfo(base)
  local host = host_of(cfg.transport)
  local shared
  shared, err = store.for_client(cfg, host, "tuya")
  if not shared then return nil, err end
  a.store = shared
  a.credential = credential.new{
    vendor = "tuya", key = "tuya:" .. account, now = function() return a.now() end,
    margin = cfg.refresh_margin_s, store = cfg.token_store or shared, host = host,
    fetch = function(current, deadline) return token.fetch(a, current, deadline) end,
  }
  -- Tuya throttles per cloud project: a rate_limit bucket is the client id's, in the store.
  local limiter = cfg.limiter
  if cfg.rate_limit then
    limiter = store.limiter(shared, "tuya:" .. account, cfg.rate_limit.capacity, cfg.rate_limit.refill_per_second,
      cfg.clock)
  end
  local secrets = { secret, redact.userinfo(cfg.base_url) }
  for _, v in pairs(store.secrets(shared)) do secrets[#secrets + 1] = v end
  a.pipeline = pipeline.new{
    profile = profile.profile, state = a, transport = make_transport(cfg), credential = a.credential,
    limiter = limiter, retry = cfg.retry, deadline_ms = cfg.deadline_ms, clock = cfg.clock,
    secrets = secrets,
  }
  local client = setmetatable({ _adapter = a, _tree = a.tree }, Client)
  for k, v in pairs(a.tree) do
    if k ~= "\0path" then rawset(client, k, v) end
  end
  return client
end

return M
