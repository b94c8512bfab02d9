--- The vendors' side of the "replay" set: which requests ask for a token (the replay answers
-- them itself, with tokens of its own), which need one, and how each vendor checks and refuses
-- them. The checks are the emulations' own: Tuya's signatures and order of checks
-- (tuya/auth.lua), the Rooms OAuth service and bearer check (rooms/gateway.lua), RUCKUS' unit
-- token check and error shape (ruckus/gateway.lua), here over the replay's credentials.
--
-- A vendor hook: { name, credentials(), token_request(req), issue(req, template) -> status,
-- headers, body [, refused (an answer over 200 that refuses)], admit(req) -> nil | status, headers, body, after(req, status) (optional) }.
-- `template` is the recorded answer to a token request (secrets masked), if any: the answer
-- keeps its shape, with the masked values and the lifetimes replaced by the replay's own.
local core = require "dwell.core"
local redact = require "dwell.redact"
local support = require "dwell.sandbox.support"
local tuya_auth = require "dwell.sandbox.tuya.auth"
local rooms_gateway = require "dwell.sandbox.rooms.gateway"
local ruckus_gateway = require "dwell.sandbox.ruckus.gateway"
local ruckus_seed = require "dwell.sandbox.ruckus.seed"

local M = {}

--- The replay's default credentials (config.tuya / rooms / ruckus override them).
M.DEFAULTS = {
  tuya = { client_id = "dwellreplay4tuya7client", secret = "dwellreplay4tuya7secret012345678" },
  rooms = { integration_key = "22222222-3333-4444-8555-666666666666", user_id = "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff",
    access_token = "dwellreplay-rooms-developer-token" },
  ruckus = { hashed_secret = "dwell-replay-unit-secret-3e9b1d04" },
}

--- The vendor a path belongs to, by its prefix (docs/vendors/*.md), or nil.
function M.owner(path)
  if path:find("^/v1%.0/") then return "tuya" end
  if path:find("^/restapi/") or path:find("^/oauth/") then return "rooms" end
  if path:find("^/residents/") then return "ruckus" end
  return nil
end

local function overlay(t, f)
  for k, v in pairs(f) do
    if type(v) == "table" and type(t[k]) == "table" then overlay(t[k], v) else t[k] = v end
  end
end

local function unmask(t)
  for k, v in pairs(t) do
    if v == redact.MASK then t[k] = nil elseif type(v) == "table" then unmask(v) end
  end
end

--- The recorded token answer (`template`: { status, headers, body }) with `fresh` laid over it
-- and any value still masked dropped; `fresh` alone when nothing was recorded.
function M.from_template(template, fresh)
  local doc = template and template.body and support.json_value(template.body)
  if not doc then return fresh end
  overlay(doc, fresh)
  unmask(doc)
  return doc
end

local function settings(config, name)
  local out = {}
  for k, v in pairs(M.DEFAULTS[name]) do out[k] = v end
  for k, v in pairs(config[name] or {}) do out[k] = v end
  return out
end

-- Tuya (docs/vendors/tuya.md §3, §4): GET /v1.0/token?grant_type=1 and /v1.0/token/{refresh_token}.
local function tuya(config, env)
  local cfg = settings(config, "tuya")
  local clock = support.clock(env.now)
  local now_ms = clock.now_ms
  local ttl = cfg.token_ttl or 7200
  local tokens, refresh = {}, {}
  local function fail(code, msg)
    return 200, {}, { success = false, code = code, msg = msg, t = now_ms(), tid = support.random_hex(16) }
  end
  local gate = { creds = { client_id = cfg.client_id, secret = cfg.secret }, scheme = cfg.sign_scheme or "hmac",
    now_ms = now_ms, fail = fail, skew_ms = function() return cfg.skew_ms or 900000 end,
    token = function(access) return tokens[access] end }
  local v = { name = "tuya" }
  function v.credentials() return { client_id = cfg.client_id, secret = cfg.secret } end
  function v.token_request(req)
    return req.method == "GET" and (req.path == "/v1.0/token" or req.path:find("^/v1%.0/token/[^/]+$") ~= nil)
  end
  -- A refusal (an envelope over HTTP 200), marked as one for the replay's counters.
  local function refuse(code, msg)
    local s, h, b = fail(code, msg)
    return s, h, b, true
  end
  function v.issue(req, template)
    local s, h, b = tuya_auth.admit(gate, req, true)
    if s then return s, h, b, true end
    local rt = req.path:match("^/v1%.0/token/([^/]+)$")
    if rt then
      local old = refresh[support.decode(rt)]
      if not old then return refuse(1012, "token status is invalid") end
      refresh[old.refresh_token], tokens[old.access_token] = nil, nil
    elseif support.query(req.query or "").grant_type ~= "1" then
      return refuse(1003, "grant type invalid")
    end
    local tok = { access_token = support.random_hex(16), refresh_token = support.random_hex(16),
      expires_at = now_ms() + ttl * 1000 }
    tokens[tok.access_token], refresh[tok.refresh_token] = tok, tok
    return 200, {}, M.from_template(template, { success = true, t = now_ms(), tid = support.random_hex(16),
      result = { access_token = tok.access_token, refresh_token = tok.refresh_token, expire_time = ttl } })
  end
  function v.admit(req) return tuya_auth.admit(gate, req, false) end
  function v.expire() for _, t in pairs(tokens) do t.expires_at = now_ms() - 1 end end
  return v
end

-- Rooms (docs/vendors/rooms.md §2): POST /oauth/token (JWT, code and refresh grants, as the
-- Rooms emulation accepts them), then Authorization: Bearer on /restapi and /oauth/userinfo.
local function rooms(config, env)
  local cfg = settings(config, "rooms")
  if not cfg.public_key and cfg.public_key_file then
    local f = io.open(cfg.public_key_file, "rb")
    if f then cfg.public_key = f:read("a"); f:close() end
  end
  local gw = rooms_gateway.new(cfg, support.clock(env.now))
  local v = { name = "rooms" }
  function v.credentials()
    return { integration_key = cfg.integration_key, user_id = cfg.user_id, access_token = cfg.access_token or nil,
      base_url_path = "/restapi", auth_path = "/oauth", account_id = v.account_id,
      public_key = cfg.public_key and "(configured)" or nil, secret = cfg.secret and "(configured)" or nil }
  end
  function v.token_request(req) return req.method == "POST" and req.path == "/oauth/token" end
  function v.issue(req, template)
    local s, h, b = gw.token(req)
    if s ~= 200 then return s, h, b end
    return s, h, M.from_template(template, b)
  end
  function v.admit(req)
    if gw.bearer(req) then return nil end
    return gw.unauthorized()
  end
  function v.expire() for k in pairs(gw.state.tokens) do gw.state.tokens[k] = nil end end
  return v
end

-- RUCKUS (docs/vendors/ruckus.md §2): POST P/units/logins { hashedSecret }, then
-- Authorization: <token> on everything but the branding calls (§2.2).
local OPEN = { ["/uiConfigurations"] = true, ["/styles"] = true, ["/access"] = true }

local function ruckus(config, env)
  local cfg = settings(config, "ruckus")
  local c = { config = { accept_bearer = cfg.accept_bearer }, env = env, property_id = "", limit = false,
    state = { tokens = {}, unauthorized = 0, limited = 0, not_acceptable = 0, buckets = {} } }
  local gw = ruckus_gateway.new(c)
  local ttl = cfg.token_ttl or 3600
  local v = { name = "ruckus" }
  function v.credentials()
    return { hashed_secret = cfg.hashed_secret, property_id = v.property_id,
      base_path = v.property_id and ("/residents/properties/" .. v.property_id) or nil }
  end
  function v.token_request(req)
    return req.method == "POST" and req.path:find("^/residents/properties/[^/]+/units/logins$") ~= nil
  end
  function v.issue(req, template)
    local body, err = gw.json_body(req, true)
    if not body then return table.unpack(err) end
    if type(body.hashedSecret) ~= "string" or body.hashedSecret == "" then
      return gw.fail(400, "Missing or invalid request body", { "hashedSecret: must not be blank" })
    end
    if not core.constant_eq(body.hashedSecret, cfg.hashed_secret) then return gw.fail(401, "Invalid credentials") end
    local token = "rp" .. support.random_hex(12)
    local expires = env.now() + ttl
    c.state.tokens[token] = { expires = expires }
    return 200, gw.HAL, M.from_template(template, { token = token, expireDateTime = ruckus_seed.iso(expires),
      unitGuid = not template and "00000000-0000-4000-8000-000000000000" or nil,
      serverVersion = not template and "0.0.1-dwell-replay" or nil })
  end
  function v.admit(req)
    local rest = req.path:match("^/residents/properties/[^/]+(/.*)$") or ""
    if OPEN[rest] or rest:find("^/files/") then return nil end
    if gw.authorized(req) then return nil end
    c.state.unauthorized = c.state.unauthorized + 1
    return gw.fail(401, "Unauthorized: missing, invalid or expired unit token")
  end
  -- The vendor collection's token reset (PUT P/units {"status":"TOKEN_RESET"}) ends the unit's
  -- tokens, as the emulation takes it to.
  function v.after(req, status)
    if req.method == "PUT" and status < 300 and req.path:find("^/residents/properties/[^/]+/units$") then
      local body = support.json_value(req.body or "")
      if body and body.status == "TOKEN_RESET" then
        for _, t in pairs(c.state.tokens) do t.revoked = true end
      end
    end
  end
  function v.expire() for _, t in pairs(c.state.tokens) do t.expires = env.now() - 1 end end
  return v
end

--- The three hooks over the replay's config ({ tuya = {...}, rooms = {...}, ruckus = {...} }).
function M.new(config, env)
  return { tuya = tuya(config, env), rooms = rooms(config, env), ruckus = ruckus(config, env) }
end

return M
