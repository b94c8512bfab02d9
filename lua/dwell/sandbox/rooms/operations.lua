--- The Rooms sandbox's emulation of the operations beyond rooms, room users and company users
-- (dwell.sandbox.rooms.api): roles, offices and regions, field sets and field data, room
-- templates, task lists, documents and folders, forms and form groups, permission profiles and
-- the lookup lists, one module each. dwell.sandbox.rooms registers them with two calls: seed(st)
-- on every reset, routes(...) among its own routes, behind the same bearer-token, account,
-- rate-limit and Accept handling (its `guarded`).
--
-- dwell.sandbox.rooms builds its state with build(config, st): the seed's people, rooms and
-- company users (dwell.sandbox.rooms.seed.build), then every module's own state. The roles
-- module publishes the live role list as seed.ROLES (the rooms and users handlers look roles
-- up there); build puts the seeded six back first, so every reset seeds the same data.
local documents = require "dwell.sandbox.rooms.documents"
local fields = require "dwell.sandbox.rooms.fields"
local forms = require "dwell.sandbox.rooms.forms"
local lookups = require "dwell.sandbox.rooms.lookups"
local offices = require "dwell.sandbox.rooms.offices"
local roles = require "dwell.sandbox.rooms.roles"
local seed = require "dwell.sandbox.rooms.seed"
local tasks = require "dwell.sandbox.rooms.tasks"

local M = {}

local MODULES = { roles, offices, fields, tasks, documents, forms }

--- The whole seeded state for st.data.
function M.build(config, st)
  roles.restore()
  st.data = seed.build(config)
  for _, m in ipairs(MODULES) do
    if m.seed then m.seed(st) end
  end
  return st.data
end

--- The routes, each handler wrapped by `guarded(fn, takes_json_body)`.
function M.routes(st, guarded, account)
  local out = {}
  local function take(list)
    for _, r in ipairs(list) do out[#out + 1] = { r[1], r[2], guarded(r[3], r[4]) } end
  end
  for _, m in ipairs(MODULES) do take(m.routes(st, account)) end
  take(lookups.routes(account))
  return out
end

return M
