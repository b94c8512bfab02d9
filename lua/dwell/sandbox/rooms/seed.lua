--- Deterministic seed data for the Rooms sandbox: the same config always gives
-- the same people, rooms, room memberships, company users and roles, so specs
-- and examples can name ids. Room 1001 is large (config.big_room_users, default
-- 260) so that GetRoomUsers needs three pages of 100. Pure data: build returns new
-- tables every time and nothing here is ever changed (the model copies what it changes).
local support = require "dwell.sandbox.support"

local M = {}

local FIRST = { "Ada", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas",
  "Keiko", "Liam", "Maya", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
  "Wen", "Ximena", "Yusuf", "Zoe" }
local LAST = { "Abbott", "Baker", "Castro", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
  "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi", "Schmidt",
  "Tanaka", "Ueda", "Valdez", "Weber", "Xu", "Yilmaz", "Zhang" }
local SIDES = { "buy", "sell", "listbuy", "refi" }

M.ROLES = {
  { roleId = 1, legacyRoleId = "agent", name = "Agent", isDefaultForAdmin = false, isExternal = false },
  { roleId = 2, legacyRoleId = "manager", name = "Manager", isDefaultForAdmin = false, isExternal = false },
  { roleId = 3, legacyRoleId = "admin", name = "Administrator", isDefaultForAdmin = true, isExternal = false },
  { roleId = 4, legacyRoleId = "buyer", name = "Buyer", isDefaultForAdmin = false, isExternal = true },
  { roleId = 5, legacyRoleId = "seller", name = "Seller", isDefaultForAdmin = false, isExternal = true },
  { roleId = 6, legacyRoleId = "tc", name = "Transaction Coordinator", isDefaultForAdmin = false, isExternal = false },
}

M.TRANSACTION_SIDES = {
  { transactionSideId = "buy", name = "Buy Side" }, { transactionSideId = "sell", name = "List Side" },
  { transactionSideId = "listbuy", name = "List & Buy Side" }, { transactionSideId = "refi", name = "Refinance" },
}

local function person(i, pick)
  local first, last = FIRST[pick(#FIRST)], LAST[pick(#LAST)]
  return { userId = 5000 + i, firstName = first, lastName = last,
    email = (first .. "." .. last .. "." .. i .. "@example.com"):lower() }
end

local function room_user(p, pick)
  local role = M.ROLES[pick(#M.ROLES)]
  return { userId = p.userId, email = p.email, firstName = p.firstName, lastName = p.lastName,
    transactionSideId = SIDES[pick(#SIDES)], roleId = role.roleId, companyName = "Dwell Realty",
    invitedByUserId = 5001 }
end

--- Builds the state: { people, rooms (list), room_by_id, company (list), next_user_id, next_room_id }.
function M.build(config)
  local pick = support.picker(config.seed or 20240601)
  local big = config.big_room_users or 260
  local people = {}
  for i = 1, math.max(big, 300) do people[i] = person(i, pick) end
  local created = "2024-06-01T09:00:00Z"
  local rooms, by_id = {}, {}
  local sizes = { big, 7, 3, 12, 0, 5 }
  local statuses = { "active", "active", "pending", "active", "closed", "active" }
  local names = { "Seaside Villas", "12 Harbour Road", "Maple Court 4B", "Old Mill Lofts", "Sold: 3 Elm St",
    "Riverside Unit 9" }
  for r = 1, #sizes do
    local room = { roomId = 1000 + r, name = names[r], officeId = 10 + (r % 2), companyId = 77,
      createdDate = created, createdByUserId = 5001, roomOwnerIds = { 5001 }, status = statuses[r],
      closedStatusId = statuses[r] == "closed" and "sold" or nil, fieldDataLastUpdatedDate = created,
      fieldData = { data = { address1 = names[r], city = "Springfield" } }, users = {} }
    local offset = (r == 1) and 0 or (r * 17)
    for i = 1, sizes[r] do room.users[i] = room_user(people[offset + i], pick) end
    rooms[r], by_id[room.roomId] = room, room
  end
  local company = {}
  for i = 1, 40 do
    local p = people[i]
    local level = ({ "Company", "Region", "Office", "Contributor" })[pick(4)]
    company[i] = { userId = p.userId, email = p.email, firstName = p.firstName, lastName = p.lastName,
      isLockedOut = false, status = (i % 9 == 0) and "Pending" or "Active", accessLevel = level,
      defaultOfficeId = 10 + (i % 2), roleId = M.ROLES[pick(3)].roleId, offices = { 10 + (i % 2) },
      regions = { 1 } }
  end
  return { people = people, rooms = rooms, room_by_id = by_id, company = company,
    next_user_id = 5000 + #people + 1, next_room_id = 1000 + #rooms + 1 }
end

return M
