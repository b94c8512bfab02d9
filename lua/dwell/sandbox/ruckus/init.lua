--- Sandbox route set "ruckus": the RUCKUS One Resident Portal API v0 (resident_portal_api-0.0.1.yaml,
-- docs/vendors/ruckus.md) for one property and its authenticated unit.
--
-- config (all optional):
--   property_id    hyphenated venue id (default below)
--   hashed_secret  the unit's login secret (the `auth` parameter of its portal link)
--   unit           { guid, number, description, contact = { contactName, email, phoneNumber },
--                    status, secret, guestSecret }
--   users          a number of generated unit users (default 45), or a list of
--                  { userId?, userName, email, phoneNumber, status, type, passphrase? }
--   token_ttl      seconds a unit token lives (default 3600)
--   rate_limit     { capacity = 100, rate = 80 } (the documented per-property allowance) or false
--   retry_after    true: add a Retry-After header to 429s (none is documented, so off by default)
--   accept_bearer  true: also accept "Bearer <token>" (unverified upstream, so off by default)
--
-- Branding routes (styles, files, favicons, access, uiConfigurations) are served without a
-- token because the portal loads them before login (docs/vendors/ruckus.md §2.2); the rest need
-- `Authorization: <token>` from POST .../units/logins.
--
-- The one layout for a vendor: ruckus/gateway.lua (checks every operation shares),
-- ruckus/model.lua (the operations and their data), ruckus/seed.lua (the seeded unit and
-- users), over dwell.sandbox.support.
local seed = require "dwell.sandbox.ruckus.seed"
local gateway = require "dwell.sandbox.ruckus.gateway"
local model = require "dwell.sandbox.ruckus.model"
local support = require "dwell.sandbox.support"

return function(config, env)
  config = config or {}
  local limit = config.rate_limit
  if limit == nil then limit = { capacity = 100, rate = 80 } end
  -- What gateway, model and seed share; c.state (everything mutable) is rebuilt by controls.reset.
  local c = { config = config, env = env, property_id = (config.property_id or seed.DEFAULT_PROPERTY):lower(),
              hashed_secret = config.hashed_secret or seed.DEFAULT_SECRET, ttl = config.token_ttl or 3600,
              limit = limit }
  -- a reset starts the seeded generator over too, so ids after it are those of a fresh start
  -- (c.rand stays the same function: the routes hold it)
  local gen
  function c.rand() return gen() end
  local function reset()
    gen = support.lcg(config.seed or 20240501)
    c.state = seed.build(c)
  end
  reset()
  local property_id = c.property_id
  local routes = model.routes(c, gateway.new(c))

  local copy = support.copy

  local controls = {
    credentials = function()
      return { property_id = property_id, hashed_secret = c.state.hashed_secret, unit_guid = c.state.unit.guid,
        base_path = "/residents/properties/" .. property_id }
    end,
    -- Every issued token expires now (the client must log in again).
    expire_tokens = function()
      local n = 0
      for _, t in pairs(c.state.tokens) do t.expires = env.now() - 1; n = n + 1 end
      return { expired = n }
    end,
    users = function()
      local out = {}
      for i, id in ipairs(c.state.order) do out[i] = copy(c.state.users[id]) end
      return out
    end,
    user_devices = function(args) return copy(c.state.user_devices[(args or {}).user_id] or {}) end,
    unit = function() return copy(c.state.unit) end,
    unit_devices = function() return copy(c.state.unit_devices) end,
    stats = function()
      return { logins = c.state.logins, limited = c.state.limited, unauthorized = c.state.unauthorized,
               not_acceptable = c.state.not_acceptable }
    end,
    reset = function() reset(); return true end,
  }
  return routes, controls
end
