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
local envelope = require "dwell.tuya.envelope"
local sign = require "dwell.tuya.sign"
local token = require "dwell.tuya.token"

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
local function positive(v)
  if type(v) ~= "number" or v <= 0 then return "must be a positive number" end
end
local function non_negative(v)
  if type(v) ~= "number" or v < 0 then return "must be a number >= 0" end
end
local function non_empty(v)
  if type(v) ~= "string" or v == "" then return "must be a non-empty string (got " .. type(v) .. ")" end
end
local CONFIG = {
  client_id = non_empty, secret = non_empty, region = is_type("string"), base_url = is_type("string"),
  lang = is_type("string"), timeout_ms = positive, connect_timeout_ms = positive, ca_file = is_type("string"),
  ca_path = is_type("string"), insecure = is_type("boolean"), proxy = is_type("string"), retry = is_type("table"),
  deadline_ms = positive, on_request = is_type("function"), on_response = is_type("function"),
  clock = is_type("table"), limiter = is_type("table"), raw_keys = is_type("boolean"),
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
  local names = {}
  for k in pairs(CONFIG) do names[#names + 1] = k end
  table.sort(names)
  local unknown, why = validate.unknown_option(cfg, "Tuya", names)
  if unknown then return bad(unknown, why) end
  for k, v in pairs(cfg) do
    local rule = CONFIG[k](v)
    if rule then return bad(k, rule) end
  end
  if cfg.client_id == nil then return bad("client_id", "is required (the cloud project's Access ID)") end
  if cfg.secret == nil then return bad("secret", "is required (the cloud project's Access Secret)") end
  if cfg.clock ~= nil and type(cfg.clock.now) ~= "function" then return bad("clock", "must have a now() function") end
  local opt, opt_rule = require("dwell.transport").check_client_options(cfg)
  if opt then return bad(opt, opt_rule) end
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

local function wrap_hook(fn)
  if not fn then return nil end
  return function(info, ...) return fn(redact(info), ...) end
end

-- ---------------------------------------------------------------------------------------------
-- The adapter the endpoint engine calls.

local Adapter = {}
Adapter.__index = Adapter
Adapter.__name = "dwell.tuya.adapter"

function Adapter:__tostring()
  return "dwell.tuya adapter (" .. self.config.base_url .. ")"
end

-- Tuya's `t` and token lifetimes are wall-clock epoch times, so the default
-- clock is the real-time one, not the transport's monotonic clock.
local function default_now()
  return require("dwell.core").http.realtime
end

function Adapter:transport()
  if not self._transport then
    local transport = require "dwell.transport"
    local opts = transport.client_options(self.transport_opts)
    -- the caller's hooks see requests with the signature and tokens masked
    opts.on_request, opts.on_response = wrap_hook(self.hooks.on_request), wrap_hook(self.hooks.on_response)
    self._transport = transport.new(opts)
  end
  return self._transport
end

function Adapter:lock()
  -- A host transport (cfg.transport) with park/wake lets the host loop's coroutines wait on it.
  if not self._lock then self._lock = require("dwell.transport").lock(self._host_transport) end
  return self._lock
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
function Adapter:sign_request(spec, req, opts, tok)
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
  local access_token = ""
  if not spec.token_api then access_token = opts.access_token or (tok and tok.access_token) or "" end
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
  if not spec.token_api then headers.access_token = access_token end
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
  local tok
  if not spec.token_api and opts.access_token == nil then
    local err
    tok, err = self.tokens:get()
    if not tok then return nil, err end
  end
  return self:sign_request(spec, req, opts, tok)
end

local function annotate(err, spec, secret_bits)
  if errors.is(err) then
    err.vendor = err.vendor or "tuya"
    err.endpoint = err.endpoint or spec.name
    -- The transport masks query secrets only: the refresh token travels in the path.
    if type(err.url) == "string" then err.url = scrub_url(err.url) end
    errors.mask(err, secret_bits)
    if type(err.message) == "string" then err.message = scrub_url(err.message) end
    return err
  end
  if type(err) == "table" then
    return errors.new{ kind = err.kind == "timeout" and "timeout" or "transport", reason = err.kind,
      vendor = "tuya", endpoint = spec.name, message = scrub_url(tostring(err.message)) }
  end
  return errors.new{ kind = "transport", vendor = "tuya", endpoint = spec.name, message = scrub_url(tostring(err)) }
end

local function backoff(retry, attempt)
  local base = (retry and retry.base_ms or 200) / 1000
  local cap = (retry and retry.cap_ms or 10000) / 1000
  return math.min(cap, base * 2 ^ (attempt - 1)) * (0.5 + math.random() * 0.5)
end

--- One exchange: send, decode. env | nil, err.
function Adapter:exchange(spec, req, tok)
  local hreq, err = self:sign_request(spec, req, nil, tok)
  if not hreq then return nil, err end
  local resp, terr = self:transport():send{
    method = hreq.method, url = hreq.url, headers = hreq.headers, body = hreq.body,
    idempotent = spec.idempotent, limiter = self.limiter, redact = { "sign", "access_token" },
  }
  local bits = self.secret_bits(tok, req, hreq.headers.sign)
  if not resp then return nil, annotate(terr, spec, bits) end
  local env, derr = envelope.decode(resp, json, { endpoint = spec.name, snake_keys = not self.raw_keys })
  if not env then return nil, derr end
  return env, nil, resp.status, bits
end

function Adapter:call(spec, req)
  local reauthed, reclocked, attempts = false, false, 0
  local max_attempts = (self.transport_opts.retry and self.transport_opts.retry.attempts) or 3
  while true do
    local tok, err
    if not spec.token_api then
      tok, err = self.tokens:get()
      if not tok then return nil, err end
    end
    local env, status, bits
    env, err, status, bits = self:exchange(spec, req, tok)
    if not env then return nil, err end
    -- Unless raw_keys is set, the decoder already spelt the result's keys in snake_case.
    -- A success without a result is still a success: `ep(args)` never answers nil without an error.
    if env.success then
      if env.result == nil then return true end
      return env.result
    end
    local code = math.tointeger(tonumber(env.code))
    if envelope.REAUTH[code] and not spec.token_api and not reauthed then
      -- Re-authenticate once; the same request (query and body intact) is re-signed with a new t.
      reauthed = true
      self.tokens:invalidate(tok.access_token)
    elseif code == envelope.CLOCK and not reclocked and self:adjust_clock(env.t) then
      reclocked = true
    elseif envelope.TRANSIENT[code] and spec.idempotent and attempts + 1 < max_attempts then
      attempts = attempts + 1
      local clock = self.transport_opts.clock
      local sleep = clock and clock.sleep or require("dwell.transport").sleep
      sleep(backoff(self.transport_opts.retry, attempts))
    else
      -- The gateway's msg may echo what it was sent (token, signature, refresh token).
      return nil, errors.mask(envelope.error(env, { endpoint = spec.name }, status), bits)
    end
  end
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
  return string.format("dwell.tuya client (client_id=%s, base_url=%s)", a.config.client_id, a.config.base_url)
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
  local spec = { name = method .. " " .. r.path, method = method, path = r.path,
    token_api = r.token_api or r.path:find("^/v1%.0/token") ~= nil,
    idempotent = method ~= "POST" and method ~= "PATCH" }
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
  return rawget(self, "_adapter").tokens:info()
end

--- The clock offset (ms) learnt from the gateway (1013 answers).
function methods:clock_offset_ms()
  return rawget(self, "_adapter").clock_offset_ms
end

--- Every endpoint of this client, sorted by name.
function methods:endpoints()
  return api.list(rawget(self, "_tree"))
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
    -- What a call's errors must never repeat: the secret stays in this closure.
    secret_bits = function(tok, req, sig)
      return { secret, sig, tok and tok.access_token, tok and tok.refresh_token,
        req.values and req.values.refresh_token }
    end,
    hooks = { on_request = cfg.on_request, on_response = cfg.on_response },
    transport_opts = require("dwell.transport").client_options(cfg), limiter = cfg.limiter, raw_keys = cfg.raw_keys == true,
    use_nonce = cfg.nonce ~= false, sign_scheme = cfg.sign_scheme or "hmac",
    clock_offset_ms = 0, _transport = cfg.transport, _host_transport = cfg.transport,
  }, Adapter)
  a.now = cfg.clock and cfg.clock.now or default_now()
  local tree = api.build(require("dwell.tuya.endpoints"), a)
  local grant, refresh = tree.token.get, tree.token.refresh
  a.tokens = token.new{
    now = function() return a.now() end,
    lock = setmetatable({}, { __index = function(_, k)
      local l = a:lock()
      return function(_, ...) return l[k](l, ...) end
    end }),
    margin = cfg.refresh_margin_s, store = cfg.token_store, key = cfg.client_id .. "@" .. base,
    fetch = function(kind, refresh_token)
      local ep = kind == "refresh" and refresh or grant
      local req, berr = ep:build(kind == "refresh" and { refresh_token = refresh_token } or nil)
      if not req then return nil, berr end
      local result, ferr = a:call(ep.spec, req)
      -- Read by name whatever raw_keys says (accessToken would otherwise hide access_token).
      return envelope.normalize(result), ferr
    end,
  }
  local client = setmetatable({ _adapter = a, _tree = tree }, Client)
  for k, v in pairs(tree) do
    if k ~= "\0path" then rawset(client, k, v) end
  end
  return client
end

return M
