--- Seed data for the Tuya Smart Community sandbox (dwell.sandbox.tuya.model): blocks with
-- buildings, floors and rooms, residents bound to rooms at every stage, housekeepers, and a staff
-- organisation with roles and members. Deterministic for a given config.seed, so specs can name
-- ids; the draws happen in a fixed order, so reordering the code below changes every id.
local M = {}

local support = require("dwell.sandbox.support")

M.TYPES = { "HOUSEHOLDER", "FAMILY", "TENANT", "FRIEND", "RELATIVES", "COLLEAGUE", "DECORATOR",
  "BABYSITTER", "OTHER" }
local TYPES = M.TYPES
local GIVEN = { "Wei", "Mei", "Jun", "Li", "Hui", "Yan", "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas",
  "Sofia", "Mateo", "Amara", "Kenji", "Priya", "Omar", "Zoë", "Björn", "Aisha", "Chen", "Ines", "Tomás" }
local FAMILY = { "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Smith", "Garcia", "Müller",
  "Rossi", "Nakamura", "Patel", "Okafor", "Silva", "Novak", "Kowalski", "Haddad", "Larsen" }
local BLOCK_NAMES = { "Maple Court", "Harbour View", "Cedar Heights", "Riverside Gardens", "Lotus Park" }
local EDUCATION = { "Primary School", "High School", "Bachelor", "Master" }
local POSITIONS = { "Plumber", "Electrician", "Security", "Front desk", "Cleaner", "Manager" }

local function seed_spaces(world, block, pick)
  local root = { tree_id = world:id(), name = block.block_name, block_id = block.block_id, parent = nil }
  world.trees[root.tree_id] = root
  block.root_tree_id = root.tree_id
  for b = 1, 2 + pick(2) do
    local bld = { tree_id = world:id(), name = "Building " .. b, block_id = block.block_id, parent = root.tree_id }
    world.trees[bld.tree_id] = bld
    for f = 1, 5 do
      local floor = { tree_id = world:id(), name = "Floor " .. f, block_id = block.block_id, parent = bld.tree_id }
      world.trees[floor.tree_id] = floor
      block.floors[#block.floors + 1] = floor.tree_id
      for r = 1, 4 do
        local room = { tree_id = world:id(), name = string.format("%d%02d", f, r), block_id = block.block_id,
          parent = floor.tree_id, room = true }
        world.trees[room.tree_id] = room
        block.rooms[#block.rooms + 1] = room.tree_id
      end
    end
  end
end

local function seed_residents(world, block, pick, count, t0)
  for i = 1, count do
    local sex = pick(2)
    local h = {
      householder_id = world:id(), block_id = block.block_id, user_id = "ay" .. world:id(),
      real_name = GIVEN[pick(#GIVEN)] .. " " .. FAMILY[pick(#FAMILY)], sex = sex,
      mobile = string.format("13%d%08d", pick(9) - 1, (i * 7919 + pick(9999)) % 100000000),
      country_code = "86", card_type = 1, card_no = string.format("3301%014d", i * 104729 + pick(1000)),
      if_identify = pick(2) - 1, real_name_status = pick(3) - 1, apply_source = pick(3) - 1,
      if_upload_face = pick(2) - 1, gmt_create = t0 - i * 3600000 * 7,
      -- extension fields of the resident detail (derived from i so the seeded draw order is unchanged)
      household_registry_type = i % 2 + 1, household_registry_address = "CHN,330000,330100,330106;Xihu District",
      marital_status = i % 6, employer = "", political_status = 3, emergency_contact = "",
      emergency_contact_number = "",
    }
    world.householders[h.householder_id] = h
    block.householder_list[#block.householder_list + 1] = h.householder_id
    local room = block.rooms[(i - 1) % #block.rooms + 1]
    local rtype = (i - 1) % #block.rooms < #block.rooms and i <= #block.rooms and "HOUSEHOLDER"
      or TYPES[(i % (#TYPES - 1)) + 2]
    local roll = pick(100)
    local stage = roll <= 18 and 0 or roll <= 28 and 10 or roll <= 85 and 20 or 30
    local created = t0 - i * 3600000 * 5 - pick(3600000)
    local ru = {
      room_user_id = world:id(), householder_id = h.householder_id, block_id = block.block_id,
      room_user_type = rtype, tree_id = room, expire_date = rtype == "TENANT" and tostring(t0 + 86400000 * 180) or "",
      room_user_stage = stage, apply_time = created, gmt_create = created, audit_reason = "",
      auth_time = h.if_identify == 1 and created + 600000 or 0, audit_time = 0, move_out_time = 0,
      move_out_type = 0, move_out_time_text = "",
    }
    if stage == 10 then ru.audit_reason = "Documents incomplete"; ru.audit_time = created + 86400000 end
    if stage >= 20 then ru.audit_time = created + 3600000 end
    if stage == 30 then
      ru.move_out_type = pick(3) - 1
      ru.move_out_time = created + 86400000 * 30
      ru.move_out_time_text = "2023-06-21 07:13:11"
    end
    world.room_users[ru.room_user_id] = ru
    block.room_user_list[#block.room_user_list + 1] = ru.room_user_id
  end
end

local function seed_org(world, pick, t0)
  local roles = {}
  for i, name in ipairs({ "Administrator", "Property manager", "Maintenance", "Security", "Front desk" }) do
    roles[i] = { role_id = world:id(), role_name = name }
    world.roles[roles[i].role_id] = roles[i]
  end
  local function structure(name, parent)
    local s = { structure_id = world:id(), parent_structure_id = parent or "", structure_name = name,
      address_code = "330000,330100,330106", address_detail = "Xihu District, Hangzhou",
      contact = "Helen", contact_mobile = "1880000" .. string.format("%04d", pick(9999)),
      contact_email = "ops@example.com", structure_type = parent and 2 or 1 }
    world.structures[s.structure_id] = s
    world.structure_order[#world.structure_order + 1] = s.structure_id
    return s.structure_id
  end
  local root = structure("Dwell Property Group")
  world.root_structure_id = root
  local ops = structure("Operations", root)
  local kids = { ops, structure("Security", root), structure("Customer Service", root),
    structure("Plumbing", ops), structure("Electrical", ops) }
  for i = 1, world.members_count do
    local sid = kids[(i - 1) % #kids + 1]
    local blocks = {}
    for j, b in ipairs(world.block_order) do
      if (i + j) % 2 == 0 or j == 1 then blocks[#blocks + 1] = b end
    end
    local m = {
      member_id = world:id(), admin_name = GIVEN[pick(#GIVEN)] .. " " .. FAMILY[pick(#FAMILY)],
      role_ids = { roles[(i - 1) % #roles + 1].role_id }, mobile = string.format("139%08d", i * 7717 % 100000000),
      block_ids = blocks, account_status = (i % 11 == 0) and 2 or (i % 13 == 0) and 3 or 1,
      structure_id = sid, sex = pick(2), myself = 2, admin = i == 1 and 1 or 2, country_code = "86",
      card_type = 1, card_no = string.format("1101%014d", i * 8933), birthday = t0 - (25 + i % 30) * 31536000000,
      position = POSITIONS[(i - 1) % #POSITIONS + 1], education = EDUCATION[(i - 1) % #EDUCATION + 1],
      data_permission = 1, gmt_create = t0 - i * 86400000,
    }
    world.members[m.member_id] = m
    world.member_order[#world.member_order + 1] = m.member_id
  end
end

local function seed_housekeepers(world, block, pick)
  for k = 1, 2 do
    local hk = { hk_id = world:id(), block_id = block.block_id, housekeeper_name = GIVEN[pick(#GIVEN)],
      mobile = string.format("1375050%04d", pick(9999)), face_img_url = "https://example.com/hk/" .. k .. ".jpg",
      wechat_img_url = "", house_name = block.block_name .. " Building " .. k, ability = "Repairs",
      service_motto = "Serve the community", tree_ids = block.rooms[k] .. "," .. block.rooms[k + 4] }
    world.housekeepers[hk.hk_id] = hk
    block.housekeepers = block.housekeepers or {}
    block.housekeepers[k] = hk.hk_id
  end
end

--- Fills a new community (world tables empty, world:id() ready) from config: seed (20240601),
-- epoch_ms, blocks (3), residents_per_block (160); members_count is already on the world.
function M.populate(world, config)
  local pick = support.picker(config.seed or 20240601)
  local t0 = math.tointeger(config.epoch_ms) or 1700000000000
  for b = 1, config.blocks or 3 do
    local block = { block_id = world:id(), block_name = BLOCK_NAMES[(b - 1) % #BLOCK_NAMES + 1], rooms = {},
      floors = {}, householder_list = {}, room_user_list = {} }
    world.blocks[block.block_id] = block
    world.block_order[b] = block.block_id
    seed_spaces(world, block, pick)
    seed_residents(world, block, pick, config.residents_per_block or 160, t0)
    seed_housekeepers(world, block, pick)
  end
  seed_org(world, pick, t0)
end

return M
