--- Route set "replay": serves, offline, the exchanges recorded by "record" (bin/dwell-sandbox
-- --replay DIR), as the vendor would: docs/internals.md, "Record and replay".
--
-- Matching (replay/match.lua): method, path, query and body in canonical form, leaving out
-- per-request values (t, nonce, sign, timestamps, dates) and reading secrets as the mask they
-- were recorded as. The n-th identical request gets the n-th exchange recorded for it, the last
-- one repeating; a miss is 404 { error = "not_recorded", reason, message, method, path }.
--
-- Vendors (replay/vendors.lua, by path: Tuya /v1.0/..., Rooms /restapi/... and /oauth/...,
-- RUCKUS /residents/...): token requests are answered by the replay itself, with tokens of its
-- own in the recorded answer's shape; every other request must carry one of those tokens (and,
-- for Tuya, a signature made with the replay's secret), or it is refused as the vendor refuses.
--
-- config: dir; ignore (more field names to leave out of matching); tuya = { client_id, secret,
--   token_ttl, sign_scheme, skew_ms }, rooms = { integration_key, user_id, public_key |
--   public_key_file, secret, refresh_token, auth_code, access_token (false: none), expires_in,
--   aud }, ruckus = { hashed_secret, token_ttl, accept_bearer }: the replay's own credentials
--   (replay/vendors.lua has the defaults).
-- controls: credentials() -> { tuya, rooms, ruckus }; replayed() -> { exchanges, served,
--   missed, issued, refused }; rewind() starts the answers over; expire_tokens().
local match = require "dwell.sandbox.replay.match"
local recording = require "dwell.sandbox.recording"
local vendors = require "dwell.sandbox.replay.vendors"

local function content_type(headers)
  for k, v in pairs(headers or {}) do
    if k:lower() == "content-type" then return type(v) == "table" and v[1] or v end
  end
end

return function(config, env)
  local dir = config.dir
  if type(dir) ~= "string" or dir == "" then error("replay: config.dir is required", 0) end
  if config.ignore ~= nil and type(config.ignore) ~= "table" then error("replay: config.ignore must be a list", 0) end
  local exchanges = recording.load(dir)
  local matcher = match.new(config.ignore)
  local hooks = vendors.new(config, env or {})

  -- The index: full key (route, query, body) -> exchanges; the shorter keys say what a miss missed.
  local by_full, routes, queries, templates = {}, {}, {}, {}
  for _, e in ipairs(exchanges) do
    local r = e.request
    local hook = hooks[vendors.owner(r.path) or ""]
    if hook and hook.token_request(r) then
      if e.response.status == 200 and not templates[hook.name] then templates[hook.name] = e.response end
    else
      local route, with_query, full = matcher.keys(r.method, r.path, r.query or "", r.body, content_type(r.headers))
      routes[route], queries[with_query] = true, true
      by_full[full] = by_full[full] or {}
      table.insert(by_full[full], e)
    end
    -- The account and property the session used, for the credentials shown.
    hooks.rooms.account_id = hooks.rooms.account_id or r.path:match("^/restapi/v2/accounts/([^/]+)")
    hooks.ruckus.property_id = hooks.ruckus.property_id or r.path:match("^/residents/properties/([^/]+)")
  end
  local seen, counts

  local function rewind()
    seen, counts = {}, { served = 0, missed = 0, issued = 0, refused = 0 }
  end
  rewind()

  local function miss(req, route, with_query)
    counts.missed = counts.missed + 1
    local what, reason = req.method .. " " .. req.path, "not_recorded"
    local message = "nothing was recorded for " .. what
    if queries[with_query] then
      reason, message = "body_differs", what .. " was recorded with this query, but with a different body"
    elseif routes[route] then
      reason, message = "query_differs", what .. " was recorded, but not with this query"
    end
    return 404, {}, { error = "not_recorded", reason = reason, message = message, method = req.method, path = req.path }
  end

  local function answer(req)
    local hook = hooks[vendors.owner(req.path) or ""]
    if hook and hook.token_request(req) then
      local status, headers, body, refused = hook.issue(req, templates[hook.name])
      if status == 200 and not refused then counts.issued = counts.issued + 1 else counts.refused = counts.refused + 1 end
      return status, headers, body
    end
    if hook then
      local status, headers, body = hook.admit(req)
      if status then
        counts.refused = counts.refused + 1
        return status, headers, body
      end
    end
    local route, with_query, full = matcher.keys(req.method, req.path, req.query, req.body, content_type(req.headers))
    local list = by_full[full]
    if not list then return miss(req, route, with_query) end
    seen[full] = (seen[full] or 0) + 1
    counts.served = counts.served + 1
    local a = list[math.min(seen[full], #list)].response
    if hook and hook.after then hook.after(req, a.status) end
    return a.status, a.headers or {}, a.body
  end

  local controls = {}
  function controls.credentials()
    return { tuya = hooks.tuya.credentials(), rooms = hooks.rooms.credentials(), ruckus = hooks.ruckus.credentials() }
  end
  function controls.replayed()
    return { exchanges = #exchanges, served = counts.served, missed = counts.missed, issued = counts.issued,
      refused = counts.refused }
  end
  function controls.rewind() rewind(); return true end
  function controls.expire_tokens()
    for _, hook in pairs(hooks) do hook.expire() end
    return true
  end
  return { { "*", "/{rest*}", answer } }, controls
end
