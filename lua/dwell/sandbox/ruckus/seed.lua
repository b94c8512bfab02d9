--- Seed data for the RUCKUS sandbox (dwell.sandbox.ruckus): the unit, its users and devices,
-- from a deterministic generator (c.rand, support.lcg) so that ids are stable across runs yet
-- not in insertion order (sorting by userId then means something).
local M = {}

M.DEFAULT_PROPERTY = "6d1b6a3e-8f0c-4c59-9a38-2f1e7c5d4b10"
M.DEFAULT_SECRET = "dwell-sandbox-unit-secret-7c2f0a9e"

function M.uuid(rand)
  local h = {}
  for i = 1, 8 do h[i] = string.format("%04x", rand() % 65536) end
  return string.format("%s%s-%s-4%s-%s-%s%s%s", h[1], h[2], h[3], h[4]:sub(2), "8" .. h[5]:sub(2), h[6], h[7], h[8])
end

local FIRST = { "Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivo", "Jun", "Kemal", "Lea",
  "Mateo", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara" }
local LAST = { "Silva", "Okafor", "Wang", "Novak", "Haddad", "Berg", "Ito", "Moreau", "Costa", "Kaya" }

function M.iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(t)) .. string.format(".%03dZ", math.floor((t % 1) * 1000))
end

--- Everything mutable, fresh: c = { config, env, rand, hashed_secret } (the route set's context).
function M.build(c)
  local config, env, rand, hashed_secret = c.config, c.env, c.rand, c.hashed_secret
  local uuid, iso = M.uuid, M.iso
  local state

  local function seed_users()
    local users, order = {}, {}
    local spec = config.users or 45
    if type(spec) == "number" then
      local list = {}
      for i = 1, spec do
        local first, last = FIRST[(i - 1) % #FIRST + 1], LAST[(i - 1) % #LAST + 1]
        list[i] = { userName = first .. " " .. last, email = (first .. "." .. last .. i .. "@example.com"):lower(),
          phoneNumber = string.format("+1555%07d", 1000 + i),
          status = (i % 9 == 0) and "BLOCKED" or "ACTIVE",
          type = i == 1 and "UNIT" or (i % 3 == 0 and "GUEST" or "LINKED") }
      end
      spec = list
    end
    for _, u in ipairs(spec) do
      local user = {}
      for k, v in pairs(u) do user[k] = v end
      user.userId = (user.userId or uuid(rand)):lower()
      user.status = user.status or "ACTIVE"
      user.type = user.type or "LINKED"
      user.passphrase = user.passphrase or string.format("pass-%06d", rand() % 1000000)
      users[user.userId] = user
      order[#order + 1] = user.userId
    end
    return users, order
  end

  local function mac(n)
    local b = {}
    for i = 1, 6 do b[i] = string.format("%02x", (n * 37 + i * 11 + rand()) % 256) end
    return table.concat(b, ":")
  end

  local function device(type_, n)
    return { guid = uuid(rand), type = type_, macAddress = mac(n),
      lastConnectedDate = iso(env.now() - n * 3600), authType = (n % 2 == 0) and "MACREG" or "DPSK" }
  end

  do
    local users, order = seed_users()
    local u = config.unit or {}
    state = {
      users = users, order = order, tokens = {}, logins = 0, hashed_secret = hashed_secret,
      buckets = {}, limited = 0, unauthorized = 0, not_acceptable = 0,
      unit = { guid = u.guid or uuid(rand), number = u.number or "101", description = u.description or "Corner unit",
        contact = u.contact or { contactName = "Ana Silva", email = "ana.silva@example.com", phoneNumber = "+15550001001" },
        status = u.status or "ENABLED", secret = u.secret or "unit-pass-0001", guestSecret = u.guestSecret or "guest-pass-0001" },
      unit_devices = {}, user_devices = {},
    }
    for i = 1, 3 do state.unit_devices[#state.unit_devices + 1] = device("UNIT", i) end
    for i = 4, 5 do state.unit_devices[#state.unit_devices + 1] = device("GUEST", i) end
    for i = 1, math.min(5, #order) do
      state.user_devices[order[i]] = { device(users[order[i]].type == "GUEST" and "GUEST" or "UNIT", i),
        device("UNIT", i + 10) }
    end
  end
  return state
end

return M
