--- dwell.ruckus: the RUCKUS One Resident Portal API (v0) client.
--
--   local portal = dwell.ruckus{ property_id = venue_id, hashed_secret = auth }   -- or token = ...
--   local page = portal.units.users.query{ page_size = 50, sort_fields = "userId" }
--   for user in portal.units.users.query:each{} do print(user.userName, user.status) end
--
-- Options: property_id (UUID, hyphens optional), token | hashed_secret, base_url (URL or a
-- region name: "na" (default), "eu", "asia"), region, auth_scheme ("raw" default | "bearer"),
-- rate_limit (true default | false | { capacity =, rate = }), renew_before (s, default 60),
-- store ("memory" | "file:///dir" | "redis://..." | a dwell.store: where the unit token and the
-- property's rate budget live, shared by every process using the same store), store_fallback,
-- on_warning, transport (a dwell.transport) or transport options (timeout_ms,
-- connect_timeout_ms, ca_file, ca_path, insecure, proxy, retry, deadline_ms, on_request,
-- on_response, clock).
--
-- This file is wiring: the vendor's facts as data, and a client whose calls run on
-- dwell.pipeline (profile.lua) with the unit token from dwell.credential (login.lua).
-- @module dwell.ruckus
local api = require "dwell.api"
local core_http = require("dwell.core").http
local endpoints = require "dwell.ruckus.endpoints"
local credential = require "dwell.credential"
local errors = require "dwell.error"
local pipeline = require "dwell.pipeline"
local redact = require "dwell.redact"
local redact_url = redact.url
local store = require "dwell.store"
local transport = require "dwell.transport"
local validate = require "dwell.validate"
local profile = require "dwell.ruckus.profile"

local M = {}

-- Resident Portal hosts (docs/vendors/ruckus.md §1): NA verified, EU/Asia by the vendor's naming pattern.
M.REGIONS = { na = "https://residence.ruckus.cloud", eu = "https://residence.eu.ruckus.cloud",
  asia = "https://residence.asia.ruckus.cloud" }
M.DEFAULT_BASE_URL = M.REGIONS.na

-- The documented per-property allowance: 100 calls at most, 80 returned each second. The
-- client keeps `headroom` calls of the burst in reserve: network jitter can bunch calls up on
-- their way to the server, and a bucket exactly as large as the server's then sees an
-- occasional 429 at the boundary.
M.RATE_LIMIT = { capacity = 100, rate = 80, headroom = 10 }

-- RUCKUS recommends backing off 1 s, 2 s, 4 s, ... (docs/vendors/ruckus.md §7): steps from 1 s with a little
-- jitter added, unless the caller's `retry` says otherwise.
M.RETRY = { attempts = 5, base_ms = 1000, cap_ms = 16000, jitter = "added" }

M.PROFILE = profile.new{
  -- docs/vendors/ruckus.md §3: every JSON type is decoded alike; CSS and PNG come back as strings.
  accept = { json = "application/json, application/hal+json, application/vnd.ruckus.v1+json",
    css = "text/css, application/json", png = "image/png, application/json" },
  kinds = errors.STATUS_KINDS,
  redact = { "authorization", "hashedSecret" },
}

-- Every option dwell.ruckus{...} knows and its rule (nil = fine); transport options are
-- dwell.transport's. A misspelt option is an error, not silently ignored.
local function typed(t) return function(v) if type(v) ~= t then return "must be a " .. t .. " (got " .. type(v) .. ")" end end end
local function secret(v) if type(v) ~= "string" or v == "" then return "must be a non-empty string" end end
local OPTIONS = {
  property_id = function(v) return select(2, validate.normalize_uuid(v)) end,
  token = secret, hashed_secret = secret, base_url = typed("string"), region = typed("string"),
  renew_before = typed("number"), transport = typed("table"),
  auth_scheme = function(v) if v ~= "raw" and v ~= "bearer" then return "must be 'raw' or 'bearer'" end end,
  rate_limit = function(v)
    if type(v) ~= "boolean" and type(v) ~= "table" then return "must be true, false or a table (got " .. type(v) .. ")" end
  end,
}
local OPTION_NAMES = {}
for k in pairs(OPTIONS) do OPTION_NAMES[#OPTION_NAMES + 1] = k end
table.sort(OPTION_NAMES)

local function fail(rule, param) return nil, errors.invalid_argument("ruckus", nil, param, rule) end

local function resolve_base_url(opts)
  local base = opts.base_url or (opts.region or "na"):lower()
  base = M.REGIONS[base:lower()] or base
  if not base:match("^https?://[^/]") then return nil end
  return (base:gsub("/+$", ""))
end

-- The option that breaks a rule and the rule, or nil.
local function check_opts(opts)
  if type(opts) ~= "table" then return nil, "options must be a table" end
  local unknown, why = validate.unknown_option(opts, "RUCKUS", OPTION_NAMES, transport.CLIENT_OPTIONS,
    store.CLIENT_OPTIONS)
  if unknown then return unknown, why end
  if opts.property_id == nil then return "property_id", "is required (the venue id)" end
  for _, k in ipairs(OPTION_NAMES) do
    local rule = opts[k] ~= nil and OPTIONS[k](opts[k])
    if rule then return k, rule end
  end
  local opt, opt_rule = transport.check_client_options(opts)
  if opt then return opt, opt_rule end
  opt, opt_rule = store.check_client_options(opts)
  if opt then return opt, opt_rule end
  if opts.token == nil and opts.hashed_secret == nil then return "token", "one of token or hashed_secret is required" end
  local ctl = validate.control_option(opts)
  if ctl then return ctl, "must not contain CR, LF or NUL" end
  if not resolve_base_url(opts) then return "base_url", "must be an http(s) URL or a region name (na, eu, asia)" end
end

-- The vendor counts calls per property whoever makes them, so the bucket is the property's: in
-- memory, shared by every client of the property in this process on the real clock (a client
-- with its own clock gets its own); in a file or Redis store, by every process using it.
local function make_limiter(opts, shared, key)
  if opts.rate_limit == false then return nil end
  local limit = type(opts.rate_limit) == "table" and opts.rate_limit or M.RATE_LIMIT
  return store.limiter(shared, key, math.max(1, (limit.capacity or 100) - (limit.headroom or 0)),
    limit.rate or 80, opts.clock)
end

-- A host transport (opts.transport) with park/wake lets the host loop's coroutines wait on the login lock.
local function host_of(t)
  return type(t) == "table" and type(t.park) == "function" and type(t.wake) == "function" and t or nil
end

local Client = {}
Client.__name = "dwell.ruckus"

function Client.__index(self, k) return Client[k] or rawget(self, "_tree")[k] end

function Client:__tostring()
  return "dwell.ruckus client (property " .. self.property_id .. ", " .. redact_url(self.base_url) .. ")"
end

--- Logs in now (with the hashed secret) and returns the PortalTokenResource without its token.
-- @function client:login
function Client:login()
  local a = rawget(self, "_adapter")
  if not a.config.hashed_secret then return fail("login needs hashed_secret", "hashed_secret") end
  a.credential:invalidate(a.credential:peek())
  local e, err = a.credential:get(a.pipeline:deadline())
  if not e then return nil, err end
  return { unitGuid = e.unit_guid, expires_at = e.expires_at }
end

--- Every endpoint of the client, sorted by name.
-- @function client:endpoints
function Client:endpoints()
  return api.list(rawget(self, "_tree"))
end

--- Creates a client; nil, dwell.error (invalid_argument, naming the option) on bad options.
-- The client is the endpoint tree (`portal.units.users.query`, ...; docs/reference/ruckus.md)
-- plus the methods below. Give `token` or `hashed_secret`.
-- @tparam table opts the options:
-- @tparam string opts.property_id the venue id (a UUID, hyphens optional; docs/vendors/ruckus.md §1)
-- @tparam[opt] string opts.hashed_secret the unit's hashed secret: the client logs in with it
-- @tparam[opt] string opts.token a ready unit token
-- @tparam[opt] string opts.base_url the resident API's URL, or a region name (the sandbox: `sb.url`)
-- @tparam[opt] string opts.region na (default), eu or asia
-- @tparam[opt] string opts.auth_scheme "raw" (default: `Authorization: <token>`) or "bearer"
-- @tparam[opt] boolean|table opts.rate_limit true (default), false, or `{ capacity =, rate = }`
-- @tparam[opt] number opts.renew_before log in again this many seconds before the token expires (60)
-- @tparam[opt] string|table opts.store where tokens and rate budgets live: "memory" (default),
--   "file:///dir", "redis://[user:password@]host:port/db", or a dwell.store (README "Sharing tokens
--   and rate budgets across processes")
-- @tparam[opt] string opts.store_fallback "memory": keep working locally while the store fails
-- @tparam[opt] function opts.on_warning told `{ kind = "store", event, store, message }` when the
--   fallback starts and ends (default: Lua's warn())
-- @tparam[opt] integer opts.timeout_ms one attempt's timeout (default 30000)
-- @tparam[opt] integer opts.connect_timeout_ms the connect phase's timeout
-- @tparam[opt] integer opts.deadline_ms the whole call's bound: token fetch, waits and retries (default 120000)
-- @tparam[opt] table opts.retry `{ attempts = 3, base_ms = 200, cap_ms = 10000 }` (README "Retries")
-- @tparam[opt] string opts.ca_file a CA bundle to verify the server with
-- @tparam[opt] string opts.ca_path a directory of CA certificates
-- @tparam[opt] boolean opts.insecure true turns TLS verification off (explicit opt-in)
-- @tparam[opt] string|false opts.proxy a proxy for every call; false: none, whatever the environment says
-- @tparam[opt] integer opts.max_response_bytes answers larger than this fail as `transport`
-- @tparam[opt] function opts.on_request hook called before each attempt (see dwell.transport.new)
-- @tparam[opt] function opts.on_response hook called after each attempt (see dwell.transport.new)
-- @tparam[opt] table opts.clock a clock `{ now = function() ... end }` (a virtual one in tests)
-- @tparam[opt] table opts.transport a dwell.transport, or a host's transport with a non-blocking `send`
--   (docs/internals.md, "Transport"); replaces the options above
-- @return a client, or nil and a dwell.error
function M.new(opts)
  local bad, rule = check_opts(opts)
  if rule then return fail(rule, bad) end
  local pid, base = validate.normalize_uuid(opts.property_id), resolve_base_url(opts)
  local host = host_of(opts.transport)
  local shared, serr = store.for_client(opts, host, "ruckus")
  if not shared then return nil, serr end
  -- Entries in a shared store are read by other processes: their times are the wall clock's.
  local now = (opts.clock and opts.clock.now) or (shared.is_memory and transport.now)
    or core_http.realtime
  -- Store keys name the property and host (without user-info), never a secret.
  local account = pid .. "@" .. redact_url(base)
  local a = profile.adapter{ vendor = "ruckus", base_url = base, auth_scheme = opts.auth_scheme or "raw",
    config = { property_id = pid, hashed_secret = opts.hashed_secret }, profile = M.PROFILE,
    wall = core_http.realtime }
  a.tree = api.build(endpoints, a)
  local can_login = opts.hashed_secret ~= nil
  a.credential = credential.new{ vendor = "ruckus", key = "ruckus:" .. account, now = now,
    margin = opts.renew_before, host = host, static = not can_login and opts.token or nil, store = shared,
    fetch = function(_, deadline) return a:login(deadline) end }
  -- A ready token next to a hashed secret is used until refused, then replaced by a login
  -- (unless the store already holds one: another process's login is as good).
  if can_login and opts.token and not a.credential:peek() then a.credential:update{ token = opts.token, gen = 1 } end
  local secrets = { opts.hashed_secret or false, redact.userinfo(base) or false }
  for _, v in ipairs(store.secrets(shared)) do secrets[#secrets + 1] = v end
  a.pipeline = pipeline.new{ profile = M.PROFILE, state = a, credential = a.credential,
    transport = opts.transport or transport.new(transport.client_options(opts)),
    limiter = make_limiter(opts, shared, "ruckus:" .. account), retry = opts.retry, retry_defaults = M.RETRY,
    deadline_ms = opts.deadline_ms, clock = opts.clock,
    -- The base URL's user-info is a secret of its own (false: none; the list stays a sequence).
    secrets = secrets }
  return setmetatable({ property_id = pid, base_url = base, _adapter = a, _tree = a.tree }, Client)
end

return M
