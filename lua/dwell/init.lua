--- dwell: resident, room-user and member management for Tuya Smart Community,
-- DocuSign Rooms and RUCKUS One Resident Portal.
--
-- The shared pieces load lazily on first use so that `require "dwell"` stays
-- cheap and a script that drives one vendor never loads the others. Fields: `version` (the C
-- core's), and the modules `error` (dwell.error), `json` (dwell.json), `transport`
-- (dwell.transport) and `ratelimit` (dwell.ratelimit), loaded on first use.
-- @module dwell
local core = require "dwell.core"

--- Creates a Tuya Smart Community client: `dwell.tuya(cfg)` is `dwell.tuya.new(cfg)`.
-- @function tuya
-- @tparam table cfg the client's options
-- @return a client, or nil and a dwell.error
-- @see dwell.tuya.new

--- Creates a DocuSign Rooms v2 client: `dwell.rooms(cfg)` is `dwell.rooms.new(cfg)`.
-- @function rooms
-- @tparam table cfg the client's options
-- @return a client, or nil and a dwell.error
-- @see dwell.rooms.new

--- Creates a RUCKUS One Resident Portal client: `dwell.ruckus(cfg)` is `dwell.ruckus.new(cfg)`.
-- @function ruckus
-- @tparam table cfg the client's options
-- @return a client, or nil and a dwell.error
-- @see dwell.ruckus.new

--- Runs many calls at once: `dwell.parallel` is `dwell.transport.parallel`.
-- @function parallel
-- @tparam {{callable,table},...} calls each `{ endpoint, args }`
-- @tparam[opt] table opts `{ concurrency = 8 }`
-- @return results and errors, in input order
-- @see dwell.transport.parallel

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
