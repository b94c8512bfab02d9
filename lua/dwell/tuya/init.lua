--- dwell.tuya: the Tuya Smart Community client.
--
--   local tuya = assert(dwell.tuya{ client_id = ..., secret = ..., region = "eu" })
--   local page = tuya.community.room_users{ block_id = b, page_no = 1, page_size = 20 }
--
-- The client exposes the endpoint tree (endpoints.lua) at its top level plus a few methods
-- (request, prepare, token_info). This file is the adapter the engine calls: it signs
-- (sign.lua), attaches tokens (token.lua), sends through dwell.transport, unwraps the envelope
-- (envelope.lua), re-authenticates once on 1010/1011/1012 and corrects its clock once on 1013.
local api = require "dwell.api"
local core = require "dwell.core"
local errors = require "dwell.error"
local json = require "dwell.json"
local url = require "dwell.url"
local validate = require "dwell.validate"
local credential = require "dwell.credential"
local store = require "dwell.store"
local pipeline = require "dwell.pipeline"
local redact_url = require("dwell.redact").url
local retry = require "dwell.retry"
local envelope = require "dwell.tuya.envelope"
local sign = require "dwell.tuya.sign"

local M = {}

--- Data centres (NOTES.md §1).
M.REGIONS = {
  cn = "https://openapi.tuyacn.com",
  us = "https://openapi.tuyaus.com",
  ["us-east"] = "https://openapi-ueaz.tuyaus.com",
  eu = "https://openapi.tuyaeu.com",
  ["eu-west"] = "https://openapi-weaz.tuyaeu.com",
  ["in"] = "https://openapi.tuyain.com",
}

-- Every accepted configuration key and its check (nil = fine, else the rule broken).
local function is_type(t) return function(v) if type(v) ~= t then return "must be a " .. t .. " (got " .. type(v) .. ")" end end end
local function non_negative(v)
  if type(v) ~= "number" or v < 0 then return "must be a number >= 0" end
end
local function non_empty(v)
  if type(v) ~= "string" or v == "" then return "must be a non-empty string (got " .. type(v) .. ")" end
end
-- Tuya's own options; the transport options (timeout_ms, proxy, retry, ...) are checked by
-- dwell.transport, one list for every client.
local CONFIG = {
  client_id = non_empty, secret = non_empty, region = is_type("string"), base_url = is_type("string"),
  lang = is_type("string"), limiter = is_type("table"), raw_keys = is_type("boolean"),
  rate_limit = function(v)
    if type(v) ~= "table" or type(v.capacity) ~= "number" or v.capacity < 1
      or type(v.refill_per_second) ~= "number" or v.refill_per_second <= 0 then
      return "must be { capacity = n >= 1, refill_per_second = r > 0 }"
    end
  end,
  refresh_margin_s = non_negative, token_store = is_type("table"), transport = is_type("table"),
  nonce = is_type("boolean"), sign_scheme = function(v)
    if v ~= "hmac" and v ~= "legacy" then return "must be \"hmac\" or \"legacy\"" end
  end,
}

local function bad(param, rule)
  return nil, errors.invalid_argument("tuya", nil, param, rule)
end

--- Checks the configuration; the base URL, or nil, dwell.error. Never echoes the secret.
local function check_config(cfg)
  if type(cfg) ~= "table" then return bad(nil, "configuration must be a table (got " .. type(cfg) .. ")") end
  local transport = require "dwell.transport"
  local names = {}
  for k in pairs(CONFIG) do names[#names + 1] = k end
  table.sort(names)
  local unknown, why = validate.unknown_option(cfg, "Tuya", names, transport.CLIENT_OPTIONS, store.CLIENT_OPTIONS)
  if unknown then return bad(unknown, why) end
  for k, v in pairs(cfg) do
    local rule = CONFIG[k] and CONFIG[k](v)
    if rule then return bad(k, rule) end
  end
  if cfg.client_id == nil then return bad("client_id", "is required (the cloud project's Access ID)") end
  if cfg.secret == nil then return bad("secret", "is required (the cloud project's Access Secret)") end
  local ctl = validate.control_option(cfg)
  if ctl then return bad(ctl, "must not contain CR, LF or NUL") end
  local opt, opt_rule = transport.check_client_options(cfg)
  if opt then return bad(opt, opt_rule) end
  opt, opt_rule = store.check_client_options(cfg)
  if opt then return bad(opt, opt_rule) end
  if cfg.token_store ~= nil and cfg.store ~= nil then
    return bad("token_store", "and store are two ways to say where tokens live: give one (store)")
  end
  if cfg.limiter ~= nil and cfg.rate_limit ~= nil then
    return bad("limiter", "and rate_limit both pace requests: give one")
  end
  local base = cfg.base_url
  if base == nil then
    if cfg.region == nil then return bad("region", "or base_url is required (one of cn, us, us-east, eu, eu-west, in)") end
    base = M.REGIONS[cfg.region]
    if not base then
      local keys = {}
      for k in pairs(M.REGIONS) do keys[#keys + 1] = k end
      table.sort(keys)
      return bad("region", "must be one of " .. table.concat(keys, ", ") .. " (got " .. cfg.region .. ")")
    end
  elseif not base:match("^https?://[^/]+") then
    return bad("base_url", "must be an http(s) URL such as https://openapi.tuyaeu.com")
  end
  return (base:gsub("/+$", ""))
end

-- ---------------------------------------------------------------------------------------------
-- Redaction: hooks and errors never see the refresh token in a URL. The transport's hook info
-- carries no headers or body, and masks secret query values itself; the path is Tuya's own.

local function scrub_url(s)
  return (s:gsub("(/v1%.0/token/)[^?#%s\"]+", "%1[redacted]"))
end

local function redact(info)
  if type(info) ~= "table" or type(info.url) ~= "string" then return info end
  local out = {}
  for k, v in pairs(info) do out[k] = v end
  out.url = scrub_url(info.url)
  return out
end

-- The user-info of a base URL ("user:password"): a secret of its own.
local function userinfo_of(u)
  return type(u) == "string" and u:match("^%a[%w+.-]*://([^/?#@]*)@") or nil
end

local function wrap_hook(fn)
  if not fn then return nil end
  return function(info, ...) return fn(redact(info), ...) end
end

-- ---------------------------------------------------------------------------------------------
-- The adapter the endpoint engine calls: the request is signed here, sent and read by the
-- shared pipeline (dwell.pipeline) through the profile below.

local Adapter = {}
Adapter.__index = Adapter
Adapter.__name = "dwell.tuya.adapter"

function Adapter:__tostring()
  return "dwell.tuya adapter (" .. redact_url(self.config.base_url) .. ")"
end

-- Tuya's `t` and token lifetimes are wall-clock epoch times, so the default
-- clock is the real-time one, not the transport's monotonic clock.
local function default_now()
  return require("dwell.core").http.realtime
end

--- The request's `t`: the client clock in ms, corrected by the offset learnt from 1013 answers.
function Adapter:now_ms()
  return math.floor(self.now() * 1000) + self.clock_offset_ms
end

--- Learns the offset between our clock and the gateway's from an envelope's `t` (ms).
function Adapter:adjust_clock(server_t)
  local t = math.tointeger(tonumber(server_t))
  if t then self.clock_offset_ms = t - math.floor(self.now() * 1000) end
  return t ~= nil
end

--- Builds the signed HTTP request for `req` (an engine request); opts may inject t, nonce,
-- access_token and signature_headers ({ {name, value}, ... }) for reproducible signatures.
function Adapter:sign_request(spec, req, opts, access_token)
  opts = opts or {}
  local body
  if req.body ~= nil then
    -- Encoded once; these exact bytes are hashed and sent.
    body = type(req.body) == "string" and req.body or json.encode(req.body)
  end
  local canon, err = sign.canonical_url(req.path, req.query)
  if not canon then return nil, errors.invalid_argument("tuya", spec.name, nil, err) end
  local t = tostring(opts.t or string.format("%d", self:now_ms()))
  local nonce = opts.nonce
  if nonce == nil and self.use_nonce then nonce = core.random_hex(16) end
  nonce = nonce or ""
  local token_api = spec.auth == "none"
  access_token = token_api and "" or (opts.access_token or access_token or "")
  local sig_headers = opts.signature_headers or {}
  local message
  if self.sign_scheme == "legacy" then
    message = sign.legacy_message(self.config.client_id, access_token, t)
  else
    message = sign.message(self.config.client_id, access_token, t, nonce,
      sign.string_to_sign(spec.method, body, sig_headers, canon))
  end
  local headers = {
    client_id = self.config.client_id, sign = self.signer(message), sign_method = "HMAC-SHA256", t = t,
  }
  if nonce ~= "" then headers.nonce = nonce end
  if not token_api then headers.access_token = access_token end
  if self.config.lang then headers.lang = self.config.lang end
  if body then headers["Content-Type"] = "application/json" end
  if #sig_headers > 0 then
    local names = {}
    for i, h in ipairs(sig_headers) do names[i] = h[1]; headers[h[1]] = h[2] end
    headers["Signature-Headers"] = table.concat(names, ":")
  end
  for k, v in pairs(req.headers or {}) do headers[k] = v end
  local qs = url.query_string(req.query or {})
  return {
    method = spec.method, url = self.config.base_url .. req.path .. (qs ~= "" and ("?" .. qs) or ""),
    headers = headers, body = body,
  }
end

function Adapter:prepare(spec, req, opts)
  opts = opts or {}
  local token
  if spec.auth ~= "none" and opts.access_token == nil then
    local entry, err = self.credential:get(self.pipeline:deadline())
    if not entry then return nil, err end
    token = entry.token
  end
  return self:sign_request(spec, req, opts, token)
end

function Adapter:call(spec, req, opts)
  return self.pipeline:execute(spec, req, opts)
end

-- ---- the profile: how a Tuya request is signed and how its answer is read ----------------

local profile = { vendor = "tuya", redact = { "sign", "access_token" } }

function profile.sign(a, spec, req, cred, ctx)
  local hreq, err = a:sign_request(spec, req, nil, cred and cred.token)
  if not hreq then return nil, err end
  ctx.secrets[#ctx.secrets + 1] = hreq.headers.sign
  ctx.secrets[#ctx.secrets + 1] = req.values and req.values.refresh_token
  return hreq
end

function profile.classify(a, spec, resp, ctx)
  local env, derr = envelope.decode(resp, json, { endpoint = spec.name, snake_keys = not a.raw_keys })
  if not env then
    -- HTTP-level: 429 was not processed; 502/503/504 may have been.
    if resp.status == 429 then return { wait = retry.after(resp.headers), err = derr } end
    if retry.RETRY_STATUS[resp.status] then return { transient = true, wait = retry.after(resp.headers), err = derr } end
    return { fail = derr }
  end
  -- Unless raw_keys is set, the decoder already spelt the result's keys in snake_case.
  -- A success without a result is still a success: `ep(args)` never answers nil without an error.
  if env.success then return { ok = true, result = env.result == nil or env.result } end
  local code = math.tointeger(tonumber(env.code))
  local err = envelope.error(env, { endpoint = spec.name }, resp.status)
  if envelope.REAUTH[code] and spec.auth ~= "none" then return { reauth = true, err = err } end
  if code == envelope.CLOCK and a:adjust_clock(env.t) then return { again = true, err = err } end
  if envelope.THROTTLED[code] then return { wait = nil, err = err } end
  if envelope.TRANSIENT[code] then return { transient = true, err = err } end
  ctx.code = code
  return { fail = err }
end

-- ---- tokens (NOTES §4): a grant, refreshed with the single-use refresh token -------------

local function token_error(message)
  return errors.new{ kind = "decode", vendor = "tuya", endpoint = "token.get", message = message }
end

-- The token response as a credential entry; read by name whatever raw_keys says.
local function token_entry(result)
  result = envelope.normalize(result)
  if type(result) ~= "table" or type(result.access_token) ~= "string" or result.access_token == "" then
    return nil, token_error("token response has no access_token")
  end
  return { token = result.access_token, uid = result.uid,
    refresh_token = type(result.refresh_token) == "string" and result.refresh_token or nil,
    expires_in = tonumber(result.expire_time) or tonumber(result.expire) or 7200 }
end

-- fetch(current, deadline) for dwell.credential: refresh when there is a refresh token (spent
-- before it is sent, whatever the outcome), else, or when the refresh fails, a fresh grant.
function Adapter:fetch_token(current, deadline)
  local stats = self.stats
  if current and current.refresh_token then
    local rt = current.refresh_token
    current.refresh_token = nil
    self.credential:update(current, deadline)
    local ep = self.tree.token.refresh
    local req = ep:build{ refresh_token = rt }
    local entry = req and token_entry(self.pipeline:execute(ep.spec, req, { deadline = deadline }))
    if entry then
      stats.refreshes = stats.refreshes + 1
      return entry
    end
    stats.failed_refreshes = stats.failed_refreshes + 1
  end
  local ep = self.tree.token.get
  local result, err = self.pipeline:execute(ep.spec, assert(ep:build(nil)), { deadline = deadline })
  if result == nil then return nil, err end
  local entry
  entry, err = token_entry(result)
  if entry then stats.grants = stats.grants + 1 end
  return entry, err
end

-- ---------------------------------------------------------------------------------------------
-- The client object.

local Client = {}
Client.__name = "dwell.tuya"
local methods = {}

function Client.__index(_, k)
  return methods[k]
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
    -- Tuya GETs carry no body and sign the empty-body hash (NOTES §3.2).
    return nil, errors.invalid_argument("tuya", "request", "body", "is not allowed on a GET")
  end
  local query = {}
  if r.query then
    if r.query[1] ~= nil then
      for i, kv in ipairs(r.query) do query[i] = { tostring(kv[1]), tostring(kv[2]) } end
    else
      for k, v in pairs(r.query) do query[#query + 1] = { tostring(k), tostring(v) } end
      table.sort(query, function(x, y) return sign.bytewise_less(x[1], y[1]) end)
    end
  end
  local token_api = r.token_api or r.path:find("^/v1%.0/token") ~= nil
  local spec = { name = method .. " " .. r.path, method = method, path = r.path,
    auth = token_api and "none" or nil, repeatable = retry.repeatable(method, r.idempotent) }
  return spec, { method = method, path = r.path, query = query, body = r.body, headers = r.headers or {}, values = {} }
end

--- Calls any Tuya API path: client:request{ method, path, query = {k = v} | {{k, v}, ...}, body }.
function methods:request(r)
  local a = rawget(self, "_adapter")
  local spec, req = raw_request(r)
  if not spec then return nil, req end
  return a:call(spec, req)
end

--- The signed request client:request(r) would send, without sending it (see Adapter:sign_request).
function methods:prepare(r, opts)
  local a = rawget(self, "_adapter")
  local spec, req = raw_request(r)
  if not spec then return nil, req end
  return a:prepare(spec, req, opts)
end

--- Token state without secrets: { has_token, expires_in, uid, grants, refreshes, failed_refreshes }.
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
function methods:clock_offset_ms()
  return rawget(self, "_adapter").clock_offset_ms
end

--- Every endpoint of this client, sorted by name.
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
  local transport = require "dwell.transport"
  local opts = transport.client_options(cfg)
  -- the caller's hooks see requests with the signature and tokens masked
  opts.on_request, opts.on_response = wrap_hook(cfg.on_request), wrap_hook(cfg.on_response)
  return transport.new(opts)
end

--- Creates a client, or returns nil, dwell.error (invalid_argument) for a bad configuration.
function M.new(cfg)
  local base, err = check_config(cfg)
  if not base then return nil, err end
  local secret = cfg.secret
  local a = setmetatable({
    vendor = "tuya",
    config = { client_id = cfg.client_id, base_url = base, region = cfg.region, lang = cfg.lang },
    signer = function(message) return sign.sign(secret, message) end,
    raw_keys = cfg.raw_keys == true, use_nonce = cfg.nonce ~= false, sign_scheme = cfg.sign_scheme or "hmac",
    clock_offset_ms = 0, stats = { grants = 0, refreshes = 0, failed_refreshes = 0 },
  }, Adapter)
  a.now = cfg.clock and cfg.clock.now or default_now()
  a.tree = api.build(require("dwell.tuya.endpoints"), a)
  -- Keys name the account (client id and gateway, without any user-info), never a secret.
  local account = cfg.client_id .. "@" .. base:gsub("^(%a[%w+.-]*://)[^/?#@]*@", "%1")
  local host = host_of(cfg.transport)
  local shared
  shared, err = store.for_client(cfg, host, "tuya")
  if not shared then return nil, err end
  a.store = shared
  a.credential = credential.new{
    vendor = "tuya", key = "tuya:" .. account, now = function() return a.now() end,
    margin = cfg.refresh_margin_s, store = cfg.token_store or shared, host = host,
    fetch = function(current, deadline) return a:fetch_token(current, deadline) end,
  }
  -- Tuya throttles per cloud project: a rate_limit bucket is the client id's, in the store.
  local limiter = cfg.limiter
  if cfg.rate_limit then
    limiter = store.limiter(shared, "tuya:" .. account, cfg.rate_limit.capacity, cfg.rate_limit.refill_per_second,
      cfg.clock)
  end
  local secrets = { secret, userinfo_of(cfg.base_url) }
  for _, v in ipairs(type(shared.secrets) == "function" and shared:secrets() or {}) do secrets[#secrets + 1] = v end
  a.pipeline = pipeline.new{
    profile = profile, state = a, transport = make_transport(cfg), credential = a.credential,
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
