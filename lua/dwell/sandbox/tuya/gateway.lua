--- Tuya Cloud gateway emulation for dwell.sandbox (route set "tuya").
--
-- Implemented from docs/vendors/tuya.md independently of the client: it verifies every request's
-- HMAC-SHA256 signature (client_id [+ access_token] + t + nonce + stringToSign, §3), issues tokens
-- with a configurable TTL and single-use refresh tokens (§4), rejects skewed `t` with 1013, and
-- answers with Tuya's envelope over HTTP 200 (§5). Community data lives in tuya/model.lua.
--
-- config: client_id, secret (defaults below), token_ttl (s, 7200), skew_ms (900000), seed,
--         sign_scheme ("hmac": the current scheme only, as a project created after 2021-06-30;
--         "legacy": only HMAC(secret, client_id [+ access_token] + t), docs/vendors/tuya.md §3.6, so a client
--         switched to it is really tested; "either": both, as an older project accepts),
--         blocks (3), residents_per_block (160), members (45), camel_keys (answer in camelCase,
--         as some of Tuya's English examples do), one_live_token (true: one live token per
--         client, as the live gateway keeps: every grant or refresh issues a new token and ends
--         all older ones, instead of a repeat grant returning the live token).
-- controls: credentials(), expire_tokens(), set_clock_offset{ms}, set_skew{ms}, set_token_ttl{seconds},
--           fault{kind, count} (kinds: not_json, no_success, truncated, empty, html_502),
--           stats() (revoked: tokens a newer grant or refresh ended, besides a refreshed one itself;
--           invalid: business calls with an unknown or ended token),
--           summary().
-- The emulation's own query parsing (not the client's dwell.url): signatures are checked
-- against what this code reads off the wire; its JSON bodies, clock, fault queue and tokens.
local support = require "dwell.sandbox.support"
local auth = require "dwell.sandbox.tuya.auth"

--- Default sandbox credentials (also returned by controls.credentials()).
local DEFAULT_CLIENT_ID = "dwellsbx4tuya7client"
local DEFAULT_SECRET = "dwellsbx4tuya7secret0123456789ab"

local function camel(key)
  return (key:gsub("_(%l)", string.upper))
end

local function camelize(v)
  if type(v) ~= "table" then return v end
  local out = setmetatable({}, getmetatable(v))
  for k, item in pairs(v) do out[type(k) == "string" and camel(k) or k] = camelize(item) end
  return out
end

local FAULTS = {
  not_json = function() return 200, { ["Content-Type"] = "text/html" }, "<html><body>upstream busy</body></html>" end,
  no_success = function(t) return 200, {}, { result = { total_count = 0 }, t = t } end,
  truncated = function() return 200, { ["Content-Type"] = "application/json" }, '{"success":true,"result":{"total_count":3,"da' end,
  empty = function() return 200, { ["Content-Type"] = "application/json" }, "" end,
  html_502 = function() return 502, { ["Content-Type"] = "text/html" }, "<html><body>502 Bad Gateway</body></html>" end,
}

return function(config, env)
  config = config or {}
  local creds = { client_id = config.client_id or DEFAULT_CLIENT_ID, secret = config.secret or DEFAULT_SECRET }
  local state = {
    skew_ms = config.skew_ms or 900000, ttl = config.token_ttl or 7200,
    tokens = {}, refresh = {}, faults = support.fault_queue(), live = nil,
    stats = { requests = 0, grants = 0, refreshes = 0, sign_invalid = 0, expired = 0, skewed = 0, faults = 0,
      revoked = 0, invalid = 0 },
    -- what reads counted on this lane alone (with several lanes, a write runs on all of them)
    read_stats = { requests = 0, sign_invalid = 0, expired = 0, skewed = 0 },
  }
  -- Counts into the read counters when this request runs as a read.
  local function count(ctx, name)
    local t = (ctx and ctx.read_only) and state.read_stats or state.stats
    t[name] = t[name] + 1
  end
  -- The emulated clock in whole milliseconds: the sandbox's plus set_clock_offset's.
  local clock = support.clock(env and env.now or os.time)
  local now_ms = clock.now_ms
  local community = require("dwell.sandbox.tuya.model").new(config, now_ms)

  local function envelope(result, token_api)
    if config.camel_keys and not token_api then result = camelize(result) end
    return 200, {}, { success = true, result = result, t = now_ms(), tid = support.random_hex(16) }
  end
  local function fail(code, msg)
    return 200, {}, { success = false, code = code, msg = msg, t = now_ms(), tid = support.random_hex(16) }
  end

  local scheme = config.sign_scheme or "hmac"
  if scheme ~= "hmac" and scheme ~= "legacy" and scheme ~= "either" then
    error(("tuya sandbox: sign_scheme must be \"hmac\", \"legacy\" or \"either\" (got %s)"):format(tostring(scheme)), 0)
  end

  -- Signatures and the order of checks: tuya/auth.lua (the replay set verifies with it too).
  local gate = { creds = creds, scheme = scheme, now_ms = now_ms, fail = fail,
    skew_ms = function() return state.skew_ms end,
    token = function(access) return state.tokens[access] end,
    invalid = function() state.stats.invalid = state.stats.invalid + 1 end }

  -- Gateway checks shared by every API, in the gateway's order; nil when the request may proceed.
  local function admit(req, token_api, ctx)
    gate.count = function(name) count(ctx, name) end
    return auth.admit(gate, req, token_api)
  end

  local function issue()
    if config.one_live_token then
      for access, old in pairs(state.tokens) do
        state.tokens[access] = nil
        state.refresh[old.refresh_token] = nil
        state.stats.revoked = state.stats.revoked + 1
      end
    end
    local tok = { access_token = support.random_hex(16), refresh_token = support.random_hex(16),
      expires_at = now_ms() + state.ttl * 1000, uid = "bay1700000000dwellsbx" }
    state.tokens[tok.access_token] = tok
    state.refresh[tok.refresh_token] = tok
    state.live = tok
    return tok
  end

  local function token_result(tok)
    return envelope({ access_token = tok.access_token, refresh_token = tok.refresh_token, uid = tok.uid,
      -- whole seconds left, rounded up: a token issued just now reports its full lifetime
      expire_time = math.max(0, (tok.expires_at - now_ms() + 999) // 1000) }, true)
  end

  local function grant(req)
    local s, h, b = admit(req, true)
    if s then return s, h, b end
    local params = support.query(req.query or "")
    if params.grant_type ~= "1" then return fail(1003, "grant type invalid") end
    state.stats.grants = state.stats.grants + 1
    -- A repeat call while a token is live returns that token with less time left
    -- (docs/vendors/tuya.md §4.1); in one-live-token mode it issues a new one, which ends the live one.
    local live = state.live
    if live and not config.one_live_token and state.tokens[live.access_token] and live.expires_at > now_ms() then
      return token_result(live)
    end
    return token_result(issue())
  end

  local function refresh(req)
    local s, h, b = admit(req, true)
    if s then return s, h, b end
    local rt = req.captures and req.captures.refresh_token
    local old = rt and state.refresh[rt]
    if not old then return fail(1012, "token status is invalid") end
    -- Single use: the old access token and refresh token both die.
    state.refresh[rt] = nil
    state.tokens[old.access_token] = nil
    state.stats.refreshes = state.stats.refreshes + 1
    return token_result(issue())
  end

  local function business(handler)
    return function(req, ctx)
      -- A GET runs as a read (possibly on another lane) unless a queued fault must be consumed.
      if ctx and ctx.read_only and state.faults.pending() then return ctx.WRITE end
      count(ctx, "requests")
      local fault = state.faults.take()
      if fault then
        state.stats.faults = state.stats.faults + 1
        return FAULTS[fault](now_ms())
      end
      local status, headers, body = admit(req, false, ctx)
      if status then return status, headers, body end
      local q = { params = (support.query(req.query or "")), captures = req.captures or {}, body = {} }
      if req.body and req.body ~= "" then
        local ctype = req.headers["content-type"] or ""
        if not ctype:lower():find("application/json", 1, true) then return fail(1006, "content type is not supported") end
        -- any body sent is read, a blank one too (which is not JSON)
        local decoded = support.json_value(req.body)
        if not decoded then return fail(1109, "param is illegal: the body is not a JSON object") end
        q.body = decoded
      end
      local result, code, msg = handler(q)
      if result == nil then return fail(code or 500, msg or "system error") end
      return envelope(result)
    end
  end

  local function wrong_method()
    return fail(1108, "uri path invalid")
  end

  local routes = {
    { "GET", "/v1.0/token", grant },
    { "GET", "/v1.0/token/{refresh_token}", refresh },
  }
  local methods_by_path, order = {}, { "/v1.0/token", "/v1.0/token/{refresh_token}" }
  methods_by_path["/v1.0/token"] = { GET = true }
  methods_by_path["/v1.0/token/{refresh_token}"] = { GET = true }
  for _, r in ipairs(community.routes) do
    -- GETs change nothing but per-lane counters (stats, merged below): read-only routes.
    routes[#routes + 1] = { r[1], r[2], business(r[3]), read = r[1] == "GET" }
    if not methods_by_path[r[2]] then methods_by_path[r[2]] = {}; order[#order + 1] = r[2] end
    methods_by_path[r[2]][r[1]] = true
  end
  -- Tuya answers a known path with the wrong verb with 1108 over HTTP 200 (e.g. POST /v1.0/token).
  for _, path in ipairs(order) do
    for _, m in ipairs({ "GET", "POST", "PUT", "DELETE" }) do
      if not methods_by_path[path][m] then routes[#routes + 1] = { m, path, wrong_method } end
    end
  end

  local controls = {}
  -- The seeded block ids come along: a user of the sandbox needs one for almost every call.
  function controls.credentials()
    local blocks = {}
    for i, b in ipairs(community:summary().blocks) do blocks[i] = b.block_id end
    return { client_id = creds.client_id, secret = creds.secret, block_ids = blocks }
  end
  function controls.expire_tokens()
    local n = 0
    for _, tok in pairs(state.tokens) do tok.expires_at = now_ms() - 1; n = n + 1 end
    return { expired = n }
  end
  function controls.set_clock_offset(args) clock.set((math.tointeger((args or {}).ms) or 0) / 1000); return true end
  function controls.set_skew(args) state.skew_ms = math.tointeger((args or {}).ms) or 900000; return true end
  function controls.set_token_ttl(args) state.ttl = math.tointeger((args or {}).seconds) or 7200; return true end
  function controls.fault(args)
    args = args or {}
    if not FAULTS[args.kind] then error("unknown fault kind " .. tostring(args.kind), 0) end
    state.faults.push(args.kind, math.tointeger(args.count) or 1)
    return true
  end
  function controls.stats()
    local s = {}
    for k, v in pairs(state.stats) do s[k] = v + (state.read_stats[k] or 0) end
    s.server_now_ms = now_ms()
    if (env and env.lanes or 1) > 1 then s._lane_reads = state.read_stats end
    return s
  end
  function controls.summary() return community:summary() end
  -- With several lanes each counts the reads it served itself (writes run, and count, on
  -- every lane alike): lane 0's figures plus the other lanes' reads.
  local merge = {}
  function merge.stats(results)
    local out = {}
    for k, v in pairs(results[1]) do out[k] = v end
    out._lane_reads = nil
    for i = 2, #results do
      for k, v in pairs(results[i]._lane_reads or {}) do out[k] = (out[k] or 0) + v end
    end
    return out
  end
  return routes, controls, merge
end
