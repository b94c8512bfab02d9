--- Sandbox route set "rooms": DocuSign Rooms API v2 and its OAuth service on one server (API
-- under /restapi, OAuth under /oauth). See docs/internals.md "Sandbox".
--
-- config = {
--   account_id = "<GUID>", integration_key = "...", user_id = "<GUID>" (JWT sub),
--   public_key = "<PEM>" or public_key_file = path (verifies JWT assertions), aud = "host[:port]" (default: the Host header),
--   secret = "...", refresh_token = "...", auth_code = "..." (authorization-code clients),
--   rotate_refresh_tokens = false (true: each refresh answers a new refresh token, the old spent),
--   expires_in = 3600, hourly_limit = 3000, burst_limit = 200, limit_status = 400,
--   consent_required = false, seed = 20240601, big_room_users = 260,
--   access_token = "dwellsbx-rooms-developer-token" (a long-lived bearer token for hand use; false: none),
-- }
-- controls: credentials, require_consent{on}, expire_tokens, advance{seconds}, limits{...},
--           stats, room{room_id}, reset.
--
-- The one layout for a vendor: rooms/gateway.lua (OAuth, bearer token, limits, account, JSON
-- body, Accept, ApiError, the routing table), rooms/model.lua (the state and its operations, in
-- parts), rooms/seed.lua (the seeded account), over dwell.sandbox.support.
local gateway = require "dwell.sandbox.rooms.gateway"
local model = require "dwell.sandbox.rooms.model"
local support = require "dwell.sandbox.support"

return function(config, env)
  config.account_id = config.account_id or "6a1c2d3e-0000-4000-8000-00000000d0c5"
  config.integration_key = config.integration_key or "11111111-2222-4333-8444-555555555555"
  config.user_id = config.user_id or "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
  if config.access_token == nil then config.access_token = "dwellsbx-rooms-developer-token" end
  if not config.public_key and config.public_key_file then
    local f = io.open(config.public_key_file, "rb")
    if f then config.public_key = f:read("a"); f:close() end
  end
  local clock = support.clock(env.now)
  local m = model.new(config, clock)
  local gw = gateway.new(config, clock)
  local routes = gw.routes(m:routes(gateway.ACCOUNT))

  local controls = {}
  function controls.credentials()
    return { account_id = config.account_id, integration_key = config.integration_key, user_id = config.user_id,
      base_url_path = "/restapi", auth_path = "/oauth", big_room_id = 1001,
      access_token = config.access_token or nil,
      secret = config.secret and "(configured)" or nil }
  end
  function controls.require_consent(args)
    gw.state.consent_required = not (args and args.on == false)
    return { consent_required = gw.state.consent_required }
  end
  function controls.expire_tokens()
    local n = 0
    for k in pairs(gw.state.tokens) do gw.state.tokens[k] = nil; n = n + 1 end
    return { expired = n }
  end
  function controls.advance(args)
    return { now = clock.advance(args and args.seconds or 0) }
  end
  function controls.limits(args)
    return gw.set_limits(args or {})
  end
  function controls.stats()
    local c = {}
    for k, v in pairs(gw.state.stats) do c[k] = v end
    for k, v in pairs(m.stats) do c[k] = v end
    return c
  end
  function controls.room(args)
    local room = m.data.room_by_id[args.room_id]
    if not room then return nil end
    local users = {}
    for i, u in ipairs(room.users) do
      users[i] = { userId = u.userId, email = u.email, roleId = u.roleId, transactionSideId = u.transactionSideId,
        revoked = u.revokedAt ~= nil and u.revokedAt <= clock.now() }
    end
    return { roomId = room.roomId, name = room.name, users = users }
  end
  function controls.reset()
    m:reset()
    gw.reset()
    clock.reset()
    return true
  end
  return routes, controls
end
