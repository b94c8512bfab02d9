--- dwell: resident, room-user and member management for Tuya Smart Community,
-- DocuSign Rooms and RUCKUS One Resident Portal.
--
-- The shared pieces load lazily on first use so that `require "dwell"` stays
-- cheap and a script that drives one vendor never loads the others.
local core = require "dwell.core"

local M = { version = core.version, core = core }

-- field -> function(value of require(module)) giving the exported value
local lazy = {
  error = { "dwell.error" },
  json = { "dwell.json" },
  transport = { "dwell.transport" },
  parallel = { "dwell.transport", "parallel" },
  ratelimit = { "dwell.ratelimit" },
  store = { "dwell.store" },
  -- the constructors go through the settings chain (options, DWELL_* variables, profile file)
  -- and DWELL_TRACE; dwell.tuya.new itself takes options only
  tuya = { "dwell.profile", "tuya" },
  rooms = { "dwell.profile", "rooms" },
  ruckus = { "dwell.profile", "ruckus" },
  profile = { "dwell.profile" },
  trace = { "dwell.trace" },
}

return setmetatable(M, {
  __index = function(t, k)
    local entry = lazy[k]
    if not entry then return nil end
    -- Loaded on first use: `require "dwell"` stays cheap, and a vendor nobody uses costs nothing.
    local mod = require(entry[1])
    local v = entry[2] and mod[entry[2]] or mod
    rawset(t, k, v)
    return v
  end,
})
