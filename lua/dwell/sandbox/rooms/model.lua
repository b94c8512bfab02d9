--- The Rooms model for the sandbox (dwell.sandbox.rooms): the account's state — people, rooms and
-- their users, company users, roles, offices and regions, field data, task lists, documents,
-- form groups — and the operations over it, one part per concern:
--   rooms.lua (rooms, room users), users.lua (company users), roles.lua, offices.lua (and
--   regions), fields.lua (field sets, field data, room templates), tasks.lua, documents.lua
--   (folders, uploads, envelopes, the picture), forms.lua, lookups.lua (lookup lists, the
--   account, permission profiles); params.lua binds their parameters.
-- Each part has routes(model, account) -> { { method, pattern, handler(req, body),
-- takes_json_body }, ... } and may have seed(model), which adds its state on every reset.
-- The state starts from seed.build and lives in model.data; the seed itself is never changed.
local seed = require "dwell.sandbox.rooms.seed"

local M = {}

local function part(name) return require("dwell.sandbox.rooms." .. name) end

-- In route order; seeds run in this order too (roles before the parts that name roles).
local PARTS = { part "rooms", part "users", part "roles", part "offices", part "fields", part "tasks",
  part "documents", part "forms", part "lookups" }

local Model = {}
Model.__index = Model

--- config: the route set's; clock: support.clock (model.now() is the emulated time).
function M.new(config, clock)
  local self = setmetatable({ config = config, now = clock.now }, Model)
  self:reset()
  return self
end

--- Back to the seeded state.
function Model:reset()
  self.data = seed.build(self.config)
  self.stats = { room_user_pages = 0 }
  for _, p in ipairs(PARTS) do
    if p.seed then p.seed(self) end
  end
end

--- The live role with this id (seeded or created through the API), or nil.
function Model:role(id)
  for _, r in ipairs(self.data.roles) do
    if r.roleId == id then return r end
  end
  return nil
end

--- Every part's routes, under `account` (the account path prefix).
function Model:routes(account)
  local out = {}
  for _, p in ipairs(PARTS) do
    for _, r in ipairs(p.routes(self, account)) do out[#out + 1] = r end
  end
  return out
end

return M
