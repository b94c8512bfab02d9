--- dwell.ruckus: the RUCKUS One Resident Portal API (v0) client.
--
--   local portal = dwell.ruckus{ property_id = venue_id, hashed_secret = auth }   -- or token = ...
--   local page = portal.units.users.query{ page_size = 50, sort_fields = "userId" }
--   for user in portal.units.users.query:each{} do print(user.userName, user.status) end
--
-- Options: property_id (UUID, hyphens optional), token | hashed_secret, base_url (URL or a
-- region name: "na" (default), "eu", "asia"), region, auth_scheme ("raw" default | "bearer"),
-- rate_limit (true default | false | { capacity =, rate = }), renew_before (s, default 60),
-- transport (a dwell.transport) or transport options (timeout_ms, connect_timeout_ms, ca_file,
-- ca_path, insecure, proxy, retry, deadline_ms, on_request, on_response, clock).
local api = require "dwell.api"
local errors = require "dwell.error"
local header = require("dwell.http").header
local url = require "dwell.url"
local validate = require "dwell.validate"
local login = require "dwell.ruckus.login"
local decls = require "dwell.ruckus.endpoints"

local M = {}

-- Resident Portal hosts (NOTES.md §1): NA verified, EU/Asia by the vendor's naming pattern.
M.REGIONS = {
  na = "https://residence.ruckus.cloud",
  eu = "https://residence.eu.ruckus.cloud",
  asia = "https://residence.asia.ruckus.cloud",
}
M.DEFAULT_BASE_URL = M.REGIONS.na

-- The documented per-property allowance: 100 calls at most, 80 returned each second.
-- The client keeps `headroom` calls of the burst in reserve: network jitter can bunch calls
-- up on their way to the server, and a bucket exactly as large as the server's then sees
-- an occasional 429 at the boundary.
M.RATE_LIMIT = { capacity = 100, rate = 80, headroom = 10 }

local ACCEPT = {
  json = "application/json, application/hal+json, application/vnd.ruckus.v1+json",
  css = "text/css, application/json",
  png = "image/png, application/json",
}

local function fail(message, param)
  return nil, errors.invalid_argument("ruckus", nil, param, message)
end

-- Buckets are shared by every client of one property on one host, because the vendor
-- counts calls per property whoever makes them. Weak values: unused buckets go away.
local buckets = setmetatable({}, { __mode = "v" })

local function new_bucket(limit, clock)
  local ratelimit = require "dwell.ratelimit"
  local capacity = math.max(1, (limit.capacity or 100) - (limit.headroom or 0))
  return ratelimit.new{ capacity = capacity, refill_per_second = limit.rate or 80, clock = clock }
end

local function bucket_for(key, limit, clock, shared)
  if not shared then return new_bucket(limit, clock) end
  local b = buckets[key]
  if not b then
    b = new_bucket(limit, clock)
    buckets[key] = b
  end
  return b
end

-- Retry-After in seconds or as an HTTP date (none is documented; honoured when sent).
local function retry_after(resp)
  if type(resp.headers) ~= "table" then return nil end
  return require("dwell.transport").retry_after(resp)
end

-- Error text comes from the server, which may echo what it was sent: every secret of the
-- call (hashed secret, token, passphrases) is masked in it.
local scrub = errors.mask_text

local KIND_BY_STATUS = { [401] = "auth", [403] = "forbidden", [404] = "not_found", [429] = "rate_limited" }

local function error_resource(body, json)
  if not body:match("^%s*{") then return nil end
  local ok, v = pcall(json.decode, body)
  if ok and type(v) == "table" then return v end
  return nil
end

local function str(v) return type(v) == "string" and v or nil end

--- Maps a non-2xx response to a dwell.error. ErrorResource bodies (status, message,
-- detailedMessage, validationErrors) are read when present; some 404s have no body at all.
-- The HTTP status line decides the kind; the body's "400 BAD_REQUEST" is kept as `code`.
-- `secrets` (optional): strings masked wherever the server's text repeats them.
function M.map_error(spec, resp, json, secrets)
  secrets = secrets or {}
  local status, body = resp.status, resp.body or ""
  local kind = KIND_BY_STATUS[status] or (status >= 400 and "api" or "http")
  local e = { kind = kind, status = status, vendor = "ruckus", endpoint = spec.name,
    request_id = header(resp.headers, "x-request-id"), retry_after = retry_after(resp),
    details = { validation_errors = {} } }
  local doc = error_resource(body, json)
  if doc then
    local list = e.details.validation_errors
    if type(doc.validationErrors) == "table" then
      for _, v in ipairs(doc.validationErrors) do list[#list + 1] = scrub(tostring(v), secrets) end
    end
    local msg, detailed = scrub(str(doc.message), secrets), scrub(str(doc.detailedMessage), secrets)
    e.code, e.details.detailed_message = scrub(str(doc.status), secrets), detailed
    e.details.timestamp = str(doc.timestamp)
    local parts = { msg or ("HTTP " .. status) }
    if detailed and detailed ~= msg then parts[#parts + 1] = detailed end
    if #list > 0 then parts[#parts + 1] = "validation errors: " .. table.concat(list, "; ") end
    e.message = table.concat(parts, ": ")
  else
    e.message = "HTTP " .. status .. (body == "" and " (no body)" or " (body is not an ErrorResource)")
  end
  -- Server-side failures may pass; the caller decides whether to try again.
  if status >= 500 and status ~= 501 then e.retryable = true end
  return errors.new(e)
end

local Adapter = {}
Adapter.__index = Adapter

function Adapter:url_for(request)
  local q = url.query_string(request.query)
  return self.base_url .. request.path .. (q ~= "" and ("?" .. q) or "")
end

local function is_token_reset(spec, request)
  return spec.token_reset or (type(request.body) == "table" and request.body.status == "TOKEN_RESET")
end

-- The secrets a call carries, longest first (so that a secret containing another is masked whole).
function Adapter:secrets(spec, request)
  local out = {}
  local function add(v) if type(v) == "string" and #v >= 3 then out[#out + 1] = v end end
  add(self.session.token)
  add(self.config.hashed_secret)
  for _, p in ipairs(spec.params) do
    if p.secret then add((request.values or {})[p.name]) end
  end
  table.sort(out, function(a, b) return #a > #b end)
  return out
end

-- Method, URL, headers and body of the call, without the Authorization header.
function Adapter:shape(spec, request)
  if spec.body_required and request.body == nil then
    return nil, errors.invalid_argument("ruckus", spec.name, nil, "needs at least one body field")
  end
  local headers = { ["Accept"] = ACCEPT[spec.response or "json"] or ACCEPT.json }
  for k, v in pairs(request.headers or {}) do headers[k] = v end
  local body
  if request.body ~= nil or spec.method == "POST" or spec.method == "PUT" then
    body = self.json.encode(request.body or {}, { sort_keys = true })
    headers["Content-Type"] = "application/json"
  end
  return { method = spec.method, url = self:url_for(request), headers = headers, body = body }
end

function Adapter:authorize(headers, token)
  if self.auth_scheme == "bearer" then headers["Authorization"] = "Bearer " .. token
  else headers["Authorization"] = token end
end

--- The request as it would be sent (the unit token shown as "<token>": prepare never logs in).
function Adapter:prepare(spec, request)
  local req, err = self:shape(spec, request)
  if not req then return nil, err end
  if spec.auth ~= false and (self.session.token or self.session.can_login) then
    self:authorize(req.headers, "<token>")
  end
  return req
end

function Adapter:send(spec, req, request)
  return self.transport:send{
    method = req.method, url = req.url, headers = req.headers, body = req.body,
    idempotent = spec.idempotent and not is_token_reset(spec, request),
    limiter = self.limiter, redact = { "authorization", "hashedSecret" },
  }
end

function Adapter:decode(spec, resp)
  local body = resp.body or ""
  if spec.response == "css" or spec.response == "png" then return body end
  if body == "" or body:match("^%s*$") then return true end -- 200 with no body (deletes)
  local ok, v = pcall(self.json.decode, body)
  if not ok or v == nil then
    return nil, errors.new{ kind = "decode", status = resp.status, vendor = "ruckus", endpoint = spec.name,
      message = "response body is not JSON (" .. tostring(header(resp.headers, "content-type")) .. ")" }
  end
  return v
end

-- One exchange with the server, 406 included: the combined Accept is unverified (NOTES.md §3),
-- so a server that refuses it is asked once more with Accept: */*.
function Adapter:exchange(spec, req, request)
  local resp, terr = self:send(spec, req, request)
  if resp and resp.status == 406 and req.headers["Accept"] ~= "*/*" then
    req.headers["Accept"] = "*/*"
    resp, terr = self:send(spec, req, request)
  end
  return resp, terr
end

function Adapter:call(spec, request)
  local req, err = self:shape(spec, request)
  if not req then return nil, err end
  local generation
  local reset = is_token_reset(spec, request)
  for attempt = 1, 2 do
    if spec.auth ~= false then
      local token
      token, generation = self.session:get(attempt == 2 and generation or nil)
      if not token then return nil, generation end
      self:authorize(req.headers, token)
    end
    local resp, terr = self:exchange(spec, req, request)
    if not resp then
      if errors.is(terr) then terr.vendor, terr.endpoint = terr.vendor or "ruckus", terr.endpoint or spec.name end
      return nil, terr
    end
    local status = resp.status
    if status >= 200 and status < 300 then
      -- The reset is taken to revoke the token (NOTES.md §2.1, effect unverified): a client
      -- that can log in does so afresh on its next call; a ready token is kept until refused.
      if reset and self.session.can_login then self.session:invalidate() end
      return self:decode(spec, resp)
    end
    -- A 401 with a token we obtained ourselves: log in again once (single-flight) and retry;
    -- a token reset is never sent twice (the next call logs in again instead).
    if not (status == 401 and spec.auth ~= false and self.session.can_login and attempt == 1 and not reset) then
      local secrets = self:secrets(spec, request)
      if status == 401 and reset and self.session.can_login then self.session:invalidate() end
      return nil, M.map_error(spec, resp, self.json, secrets)
    end
  end
end

local Client = {}
Client.__name = "dwell.ruckus"

function Client.__index(self, k)
  local v = Client[k]
  if v ~= nil then return v end
  return rawget(self, "_tree")[k]
end

function Client:__tostring()
  return "dwell.ruckus client (property " .. self.property_id .. ", " .. self.base_url .. ")"
end

--- Logs in now (with the hashed secret) and returns the PortalTokenResource without its token.
function Client:login()
  local a = rawget(self, "_adapter")
  if not a.session.can_login then return fail("login needs hashed_secret", "hashed_secret") end
  local ok, err = a.session:get(a.session.generation)
  if not ok then return nil, err end
  return { unitGuid = a.session.unit_guid, expires_at = a.session.expires_at }
end

--- Every endpoint of the client, sorted by name.
function Client:endpoints()
  return api.list(rawget(self, "_tree"))
end

local function resolve_base_url(opts)
  local base = opts.base_url
  if base == nil then base = M.REGIONS[(opts.region or "na"):lower()] end
  if base and M.REGIONS[base:lower()] then base = M.REGIONS[base:lower()] end
  if type(base) ~= "string" or not base:match("^https?://[^/]") then
    return nil, "must be an http(s) URL or a region name (na, eu, asia)"
  end
  return (base:gsub("/+$", ""))
end

-- Every option dwell.ruckus{...} knows, so that a misspelt one is an error, not silently ignored.
local OPTION_NAMES = { "property_id", "token", "hashed_secret", "base_url", "region", "auth_scheme", "rate_limit",
  "renew_before", "transport" }

local function check_opts(opts)
  if type(opts) ~= "table" then return fail("options must be a table") end
  local unknown, why = validate.unknown_option(opts, "RUCKUS", OPTION_NAMES, require("dwell.transport").CLIENT_OPTIONS)
  if unknown then return fail(why, unknown) end
  local pid, rule = validate.normalize_uuid(opts.property_id)
  if not pid then return fail(rule, "property_id") end
  for k, t in pairs{ base_url = "string", region = "string", renew_before = "number", transport = "table" } do
    if opts[k] ~= nil and type(opts[k]) ~= t then return fail("must be a " .. t .. " (got " .. type(opts[k]) .. ")", k) end
  end
  if opts.rate_limit ~= nil and type(opts.rate_limit) ~= "boolean" and type(opts.rate_limit) ~= "table" then
    return fail("must be true, false or a table (got " .. type(opts.rate_limit) .. ")", "rate_limit")
  end
  local opt, opt_rule = require("dwell.transport").check_client_options(opts)
  if opt then return fail(opt_rule, opt) end
  if opts.token == nil and opts.hashed_secret == nil then
    return fail("one of token or hashed_secret is required", "token")
  end
  for _, k in ipairs({ "token", "hashed_secret" }) do
    if opts[k] ~= nil and (type(opts[k]) ~= "string" or opts[k] == "") then
      return fail("must be a non-empty string", k)
    end
  end
  local scheme = opts.auth_scheme or "raw"
  if scheme ~= "raw" and scheme ~= "bearer" then return fail("must be 'raw' or 'bearer'", "auth_scheme") end
  local base, berr = resolve_base_url(opts)
  if not base then return fail(berr, "base_url") end
  return pid, scheme, base
end

local function make_transport(opts)
  if opts.transport then return opts.transport end
  local transport = require "dwell.transport"
  local topts = transport.client_options(opts)
  -- RUCKUS recommends backing off 1 s, 2 s, 4 s, ... (NOTES.md §7): steps from 1 s with a
  -- little jitter added, unless the caller chose otherwise.
  local retry = topts.retry or {}
  topts.retry = { attempts = retry.attempts or 5, base_ms = retry.base_ms or 1000, cap_ms = retry.cap_ms or 16000,
    jitter = retry.jitter or "added" }
  return transport.new(topts)
end

local function make_limiter(opts, key)
  local rl = opts.rate_limit
  if rl == false then return nil end
  local limit = type(rl) == "table" and rl or M.RATE_LIMIT
  -- Shared only when it runs on the real clock: a client with its own clock (tests, virtual
  -- time) or its own limits gets a bucket of its own.
  return bucket_for(key, limit, opts.clock, type(rl) ~= "table" and opts.clock == nil)
end

--- Creates a client; nil, dwell.error on bad options.
function M.new(opts)
  local pid, scheme, base = check_opts(opts)
  if not pid then return nil, scheme end
  local transport = require "dwell.transport"
  local now = (opts.clock and opts.clock.now) or transport.now
  local adapter = setmetatable({
    vendor = "ruckus", base_url = base, auth_scheme = scheme, json = require("dwell.json"),
    config = { property_id = pid, hashed_secret = opts.hashed_secret },
    transport = make_transport(opts), limiter = make_limiter(opts, base .. "|" .. pid),
  }, Adapter)
  local tree = api.build(decls, adapter)
  adapter.session = login.new{
    token = opts.token, can_login = opts.hashed_secret ~= nil, now = now, lock = transport.lock(opts.transport),
    renew_before = opts.renew_before,
    login = function() return tree.units.logins.create{} end,
  }
  return setmetatable({ property_id = pid, base_url = base, _adapter = adapter, _tree = tree }, Client)
end

return M
