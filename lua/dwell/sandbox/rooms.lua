--- Sandbox route set "rooms": DocuSign Rooms API v2 and its OAuth service on one
-- server (API under /restapi, OAuth under /oauth). See docs/internals.md "Sandbox".
--
-- config = {
--   account_id = "<GUID>", integration_key = "...", user_id = "<GUID>" (JWT sub),
--   public_key = "<PEM>" or public_key_file = path (verifies JWT assertions), aud = "host[:port]" (default: the Host header),
--   secret = "...", refresh_token = "...", auth_code = "..." (authorization-code clients),
--   expires_in = 3600, hourly_limit = 3000, burst_limit = 200, limit_status = 400,
--   consent_required = false, seed = 20240601, big_room_users = 260,
--   access_token = "dwellsbx-rooms-developer-token" (a long-lived bearer token for hand use; false: none),
-- }
-- controls: credentials, require_consent{on}, expire_tokens, advance{seconds}, limits{...},
--           stats, reset.
local api = require "dwell.sandbox.rooms.api"
local json = require("dwell.core").json
local limits = require "dwell.sandbox.rooms.limits"
local oauth = require "dwell.sandbox.rooms.oauth"
local operations = require "dwell.sandbox.rooms.operations"

local ACCOUNT = "/restapi/v2/accounts/{accountId}"

return function(config, env)
  config.account_id = config.account_id or "6a1c2d3e-0000-4000-8000-00000000d0c5"
  config.integration_key = config.integration_key or "11111111-2222-4333-8444-555555555555"
  config.user_id = config.user_id or "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
  if config.access_token == nil then config.access_token = "dwellsbx-rooms-developer-token" end
  if not config.public_key and config.public_key_file then
    local f = io.open(config.public_key_file, "rb")
    if f then config.public_key = f:read("a"); f:close() end
  end
  local st = { config = config, offset = 0, tokens = {} }
  function st.now() return env.now() + st.offset end
  local function fresh()
    st.data = operations.build(config, st)
    st.tokens = {}
    st.consent_required = config.consent_required == true
    st.code_spent = false
    st.stats = { token_requests = 0, tokens_issued = 0, limited = 0, room_user_pages = 0, missing_accept = 0 }
  end
  fresh()
  local o = oauth.new(st)
  local lim = limits.new(st)
  local h = api.new(st)

  -- Every API route: bearer token, account, hourly/burst budget, JSON body, headers.
  local function guarded(fn, with_body)
    return function(req)
      if not o.bearer(req) then
        return 401, {}, { errorCode = "AUTHORIZATION_INVALID_TOKEN",
          message = "The access token provided is expired, revoked or malformed." }
      end
      local rl, limited = lim.take()
      if limited then return lim.status, rl, limited end
      if req.captures.accountId and req.captures.accountId ~= config.account_id then
        return 400, rl, { errorCode = "INVALID_ACCOUNT_ID", message = "The account id is not valid for this user." }
      end
      local body = {}
      if with_body and req.body and req.body:find("%S") then
        local ok, v = pcall(json.decode, req.body)
        if not ok or type(v) ~= "table" then
          return 400, rl, { errorCode = "INVALID_REQUEST_BODY", message = "The request body is not valid JSON." }
        end
        body = v
      end
      local status, headers, out = fn(req, body)
      headers = headers or {}
      for k, v in pairs(rl) do headers[k] = v end
      -- The API lists text/plain first among what it produces: without an explicit
      -- Accept it answers in text/plain (docs/vendors/rooms.md §3).
      if not (req.headers.accept or ""):find("json", 1, true) and type(out) == "table" then
        st.stats.missing_accept = st.stats.missing_accept + 1
        headers["Content-Type"] = "text/plain; charset=utf-8"
        out = json.encode(out)
      end
      return status, headers, out
    end
  end

  local routes = {
    { "POST", "/oauth/token", o.token },
    { "GET", "/oauth/userinfo", o.userinfo },
    { "GET", ACCOUNT .. "/rooms", guarded(h.rooms_list) },
    { "POST", ACCOUNT .. "/rooms", guarded(h.rooms_create, true) },
    { "GET", ACCOUNT .. "/rooms/{roomId}", guarded(h.rooms_get) },
    { "DELETE", ACCOUNT .. "/rooms/{roomId}", guarded(h.rooms_delete) },
    { "GET", ACCOUNT .. "/rooms/{roomId}/assignable_roles", guarded(h.assignable_roles) },
    { "GET", ACCOUNT .. "/rooms/{roomId}/users", guarded(h.room_users) },
    { "POST", ACCOUNT .. "/rooms/{roomId}/users", guarded(h.room_invite, true) },
    { "PUT", ACCOUNT .. "/rooms/{roomId}/users/{userId}", guarded(h.room_user_update, true) },
    { "POST", ACCOUNT .. "/rooms/{roomId}/users/{userId}/revoke_access", guarded(h.revoke, true) },
    { "POST", ACCOUNT .. "/rooms/{roomId}/users/{userId}/restore_access", guarded(h.restore) },
    { "GET", ACCOUNT .. "/users", guarded(h.users_list) },
    { "POST", ACCOUNT .. "/users/invite_user", guarded(h.users_invite, true) },
    { "GET", ACCOUNT .. "/users/{userId}", guarded(h.users_get) },
    { "PUT", ACCOUNT .. "/users/{userId}", guarded(h.users_update, true) },
    { "DELETE", ACCOUNT .. "/users/{userId}", guarded(h.users_remove) },
    { "POST", ACCOUNT .. "/users/{userId}/reinvite", guarded(h.users_reinvite) },
    { "POST", ACCOUNT .. "/users/{userId}/lock", guarded(h.users_lock, true) },
    { "POST", ACCOUNT .. "/users/{userId}/unlock", guarded(h.users_unlock) },
    { "POST", ACCOUNT .. "/users/{userId}/add_to_office", guarded(h.add_to_office, true) },
    { "POST", ACCOUNT .. "/users/{userId}/remove_from_office", guarded(h.remove_from_office, true) },
    { "POST", ACCOUNT .. "/users/{userId}/add_to_region", guarded(h.add_to_region, true) },
    { "POST", ACCOUNT .. "/users/{userId}/remove_from_region", guarded(h.remove_from_region, true) },
    { "GET", ACCOUNT, guarded(h.account) },
    { "GET", "/restapi/v2/transaction_sides", guarded(h.transaction_sides) },
  }
  for _, r in ipairs(operations.routes(st, guarded, ACCOUNT)) do routes[#routes + 1] = r end

  local controls = {}
  function controls.credentials()
    return { account_id = config.account_id, integration_key = config.integration_key, user_id = config.user_id,
      base_url_path = "/restapi", auth_path = "/oauth", big_room_id = 1001,
      access_token = config.access_token or nil,
      secret = config.secret and "(configured)" or nil }
  end
  function controls.require_consent(args)
    st.consent_required = not (args and args.on == false)
    return { consent_required = st.consent_required }
  end
  function controls.expire_tokens()
    local n = 0
    for k in pairs(st.tokens) do st.tokens[k] = nil; n = n + 1 end
    return { expired = n }
  end
  function controls.advance(args)
    st.offset = st.offset + (args and args.seconds or 0)
    return { now = st.now() }
  end
  function controls.limits(args)
    return lim.set(args or {})
  end
  function controls.stats()
    local c = {}
    for k, v in pairs(st.stats) do c[k] = v end
    return c
  end
  function controls.room(args)
    local room = st.data.room_by_id[args.room_id]
    if not room then return nil end
    local users = {}
    for i, u in ipairs(room.users) do
      users[i] = { userId = u.userId, email = u.email, roleId = u.roleId, transactionSideId = u.transactionSideId,
        revoked = u.revokedAt ~= nil and u.revokedAt <= st.now() }
    end
    return { roomId = room.roomId, name = room.name, users = users }
  end
  function controls.reset()
    fresh()
    st.offset = 0
    lim.reset()
    return true
  end
  return routes, controls
end
