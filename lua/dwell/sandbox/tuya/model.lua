--- Seeded Smart Community data and the `/v1.0/iot-02/community` handlers for the Tuya sandbox
-- (lua/dwell/sandbox/tuya/gateway.lua does the gateway part: signatures, tokens, envelopes).
--
-- new(config, now_ms) -> community; community.routes is a list of { method, path, handler }
-- where handler(q) returns result | nil, code, msg; q = { params, body, captures }.
-- Everything is deterministic for a given config.seed: same ids, names and stages every run.
local M = {}

local seed = require("dwell.sandbox.tuya.seed")
local TYPES = seed.TYPES
-- the gateway's parameter binding and checks (1109 "param is illegal")
local checks = require("dwell.sandbox.tuya.params")
local ILLEGAL, required, split, contains, bind = checks.ILLEGAL, checks.required, checks.split, checks.contains,
  checks.bind
local as_int, as_str, is_set, any_set = checks.as_int, checks.as_str, checks.is_set, checks.any_set
local paging, page, order = checks.paging, checks.page, checks.order
local mobile_or_name, matches_person, matches_filters = checks.mobile_or_name, checks.matches_person,
  checks.matches_filters

local TYPE_TEXT = { HOUSEHOLDER = "Owner", FAMILY = "Family member", TENANT = "Tenant", FRIEND = "Friend",
  RELATIVES = "Relative", COLLEAGUE = "Colleague", DECORATOR = "Decorator", BABYSITTER = "Babysitter",
  OTHER = "Other" }

local support = require "dwell.sandbox.support"
local array, copy = support.array, support.copy

local Community = {}
Community.__index = Community

function Community:id()
  self.next_id = self.next_id + 7
  return string.format("%d", self.next_id)
end

-- Tree nodes are never renamed or moved, and only rooms (leaves) come and go, so a node's
-- parents and address are worked out once, on first use (every row of a room-users page
-- shows both).
local function path_of(self, tree_id)
  local node = self.trees[tree_id]
  if not node then return { parents = {}, address = "", listed = array() } end
  local path = self.paths[node]
  if path then return path end
  local parents, names, at = {}, { node.name }, node
  while at.parent do
    parents[#parents + 1] = at.parent
    at = self.trees[at.parent]
    if not at then break end
    table.insert(names, 1, at.name)
  end
  -- parent_id_list as the views show it: shared by every row in the room (views are only encoded)
  local listed = array()
  for i, id in ipairs(parents) do listed[i] = { parent_id = id } end
  path = { parents = parents, address = table.concat(names, " "), listed = listed }
  self.paths[node] = path
  return path
end

--- The list of parent ids of a tree node, nearest first.
function Community:parents(tree_id)
  return { table.unpack(path_of(self, tree_id).parents) }
end

function Community:address(tree_id)
  return path_of(self, tree_id).address
end

--- Builds the seeded world.
function M.new(config, now_ms)
  local self = setmetatable({
    next_id = math.tointeger(config.id_base) or 1382581044365020000,
    blocks = {}, block_order = {}, trees = {}, householders = {}, room_users = {}, members = {},
    sorted = setmetatable({}, { __mode = "k" }), room_users_version = 0, -- see sorted_room_users
    paths = setmetatable({}, { __mode = "k" }),                         -- see path_of
    member_order = {}, structures = {}, structure_order = {}, roles = {}, housekeepers = {},
    members_count = config.members or 45, now_ms = now_ms,
  }, Community)
  seed.populate(self, config)
  self.routes = M.routes(self)
  return self
end

function Community:block_summary(id)
  local b = self.blocks[id]
  local counts = { [0] = 0, [10] = 0, [20] = 0, [30] = 0 }
  local n = 0
  for _, ru_id in ipairs(b.room_user_list) do
    local ru = self.room_users[ru_id]
    if ru then counts[ru.room_user_stage] = counts[ru.room_user_stage] + 1; n = n + 1 end
  end
  return { block_id = id, block_name = b.block_name, room_users = n, pending = counts[0],
    rejected = counts[10], approved = counts[20], moved_out = counts[30], rooms = #b.rooms,
    housekeeper_ids = b.housekeepers, first_floor_tree_id = b.floors[1], first_room_tree_id = b.rooms[1] }
end

--- A summary for tests, examples and bin/dwell-sandbox: block ids, counts, organisation root.
function Community:summary()
  local blocks = {}
  for i, id in ipairs(self.block_order) do blocks[i] = self:block_summary(id) end
  local kids = {}
  for _, sid in ipairs(self.structure_order) do
    if self.structures[sid] and self.structures[sid].parent_structure_id == self.root_structure_id then kids[#kids + 1] = sid end
  end
  local role_ids = {}
  for id in pairs(self.roles) do role_ids[#role_ids + 1] = id end
  table.sort(role_ids)
  return { blocks = blocks, root_structure_id = self.root_structure_id, structure_ids = kids,
    members = #self.member_order, role_ids = role_ids }
end

-- ---------------------------------------------------------------------------------------------
-- Views: the documented result shapes.

function Community:room_user_view(ru)
  local h = self.householders[ru.householder_id] or {}
  local path = path_of(self, ru.tree_id)
  local room = self.trees[ru.tree_id] or {}
  return {
    room_user_id = ru.room_user_id, user_id = h.user_id, householder_id = ru.householder_id,
    room_user_type = ru.room_user_type, room_user_type_text = TYPE_TEXT[ru.room_user_type],
    tree_id = ru.tree_id, space_tree_name = room.name, room_address = path.address,
    parent_id_list = path.listed, expire_date = ru.expire_date, country_code = h.country_code, sex = h.sex,
    mobile = h.mobile, card_type = h.card_type, card_no = h.card_no, if_identify = h.if_identify,
    real_name = h.real_name, real_name_status = h.real_name_status, auth_time = ru.auth_time,
    audit_time = ru.audit_time, apply_time = ru.apply_time, gmt_create = ru.gmt_create,
    move_out_time = ru.move_out_time, move_out_time_text = ru.move_out_time_text,
    move_out_type = ru.move_out_type, audit_reason = ru.audit_reason, room_user_stage = ru.room_user_stage,
  }
end

-- The resident detail documents block_id among its fields, so the view keeps it.
function Community.householder_view(_, h)
  return copy(h)
end

function Community:member_view(m, detail)
  local roles, blocks = array(), array()
  for i, rid in ipairs(m.role_ids) do
    local r = self.roles[rid]
    roles[i] = { role_id = rid, role_name = r and r.role_name or "" }
  end
  local s = self.structures[m.structure_id] or {}
  for i, bid in ipairs(m.block_ids) do
    local b = self.blocks[bid]
    blocks[i] = { block_id = bid, block_name = b and b.block_name or "", related_structure_name = s.structure_name }
  end
  local v = { member_id = m.member_id, admin_name = m.admin_name, role_infos = roles, mobile = m.mobile,
    blocks = blocks, account_status = m.account_status, structure_id = m.structure_id,
    structure_name = s.structure_name, sex = m.sex, myself = m.myself, admin = m.admin }
  if detail then
    v.country_code, v.card_type, v.card_no, v.birthday = m.country_code, m.card_type, m.card_no, m.birthday
    v.position, v.education, v.data_permission = m.position, m.education, m.data_permission
    v.structure_path_name = s.structure_name
    v.structure_infos = array({ { structure_id = m.structure_id, structure_name = s.structure_name } })
  end
  return v
end

-- ---------------------------------------------------------------------------------------------
-- Residents <-> houses

function Community:block(params)
  local ok, code, msg = required(params, { "block_id" })
  if not ok then return nil, code, msg end
  return self.blocks[params.block_id] or { room_user_list = {}, householder_list = {}, rooms = {} }
end

-- What every list endpoint checks first, in the gateway's order: block_id, the page, the
-- search text. Returns { block, no, size, q } | nil, code, msg.
function Community:list_request(params)
  local block, code, msg = self:block(params)
  if not block then return nil, code, msg end
  local no, size, pmsg = paging(params)
  if not no then return nil, size, pmsg end
  local q
  q, code, msg = mobile_or_name(params)
  if code then return nil, code, msg end
  return { block = block, no = no, size = size, q = q }
end

-- The page of hits the request asks for, each shown through view(self, hit).
function Community:page_view(hits, req, view)
  local data = page(hits, req.no, req.size)
  for i, hit in ipairs(data) do data[i] = view(self, hit) end
  return data
end

local EQUAL_FILTERS = { "room_user_stage", "room_user_type", "move_out_type" }
local PERSON_FILTERS = { "sex", "if_identify", "apply_source", "if_upload_face" }

function Community:filter_room_user(ru, params, q)
  local h = self.householders[ru.householder_id] or {}
  if not matches_filters(ru, params, EQUAL_FILTERS) or not matches_filters(h, params, PERSON_FILTERS) then
    return false
  end
  -- a tree_id filter names the room itself or any space above it
  if is_set(params, "tree_id") and ru.tree_id ~= params.tree_id
      and not contains(self:parents(ru.tree_id), params.tree_id) then
    return false
  end
  return matches_person(q, h.real_name, h.mobile)
end

-- The live room users of a block in the order field_order_by asks, sorted once and kept until a
-- room user is added or removed anywhere (room_users_version), so a 20,000-row export neither
-- sorts nor scans 20,000 rows for each of its 200 pages.
function Community:sorted_room_users(block, params)
  local by = params.field_order_by or ""
  local cached = self.sorted[block] and self.sorted[block][by]
  if cached and cached.version == self.room_users_version then return cached.list end
  local list = {}
  for _, id in ipairs(block.room_user_list) do
    local ru = self.room_users[id]
    if ru then list[#list + 1] = ru end
  end
  local ok, code, msg = order(list, params, "room_user_id")
  if not ok then return nil, code, msg end
  self.sorted[block] = self.sorted[block] or {}
  self.sorted[block][by] = { version = self.room_users_version, list = list }
  return list
end

--- Adds or removes a room user (nil); every change of the set goes through here.
function Community:set_room_user(id, ru)
  self.room_users[id] = ru
  self.room_users_version = self.room_users_version + 1
end

local ROOM_USER_FILTERS = { "tree_id", "mobile_or_name" }
for _, list in ipairs{ EQUAL_FILTERS, PERSON_FILTERS } do
  for _, n in ipairs(list) do ROOM_USER_FILTERS[#ROOM_USER_FILTERS + 1] = n end
end

function Community:list_room_users(params)
  local req, code, msg = self:list_request(params)
  if not req then return nil, code, msg end
  local hits
  hits, code, msg = self:sorted_room_users(req.block, params)
  if not hits then return nil, code, msg end
  if any_set(params, ROOM_USER_FILTERS) then
    local all = hits
    hits = {}
    for _, ru in ipairs(all) do
      if self:filter_room_user(ru, params, req.q) then hits[#hits + 1] = ru end
    end
  end
  return { total_count = #hits, data = self:page_view(hits, req, self.room_user_view) }
end

function Community:find_room_user(block_id, id)
  local ru = self.room_users[id or ""]
  if not ru or (block_id and ru.block_id ~= block_id) then return nil, 1000, "data not exist" end
  return ru
end

local function check_relation(self, body, need_stage)
  local names = { "block_id", "householder_id", "room_user_type", "tree_id" }
  if need_stage then names[#names + 1] = "room_user_stage"; names[#names + 1] = "audit_reason" end
  local ok, code, msg = required(body, names)
  if not ok then return nil, code, msg end
  local rel = {}
  ok, code, msg = bind(rel, body, { "block_id", "householder_id", "room_user_type", "tree_id", "expire_date",
    "audit_reason" }, as_str)
  if not ok then return nil, code, msg end
  if not contains(TYPES, rel.room_user_type) then return nil, ILLEGAL, "param is illegal: room_user_type" end
  if not self.blocks[rel.block_id] then return nil, 1000, "data not exist: block_id" end
  local node = self.trees[rel.tree_id]
  if not node or not node.room or node.block_id ~= rel.block_id then return nil, ILLEGAL, "param is illegal: tree_id" end
  local h = self.householders[rel.householder_id]
  if not h or h.block_id ~= rel.block_id then return nil, 1000, "data not exist: householder_id" end
  return rel
end

function Community:create_room_user(body)
  local rel, code, msg = check_relation(self, body)
  if not rel then return nil, code, msg end
  for _, id in ipairs(self.blocks[rel.block_id].room_user_list) do
    local ru = self.room_users[id]
    if ru and ru.householder_id == rel.householder_id and ru.tree_id == rel.tree_id and ru.room_user_stage ~= 30 then
      return { room_user_id = ru.room_user_id, success = false,
        operation = "The resident already exists and is bound to the same house." }
    end
  end
  local now = self.now_ms()
  local ru = { room_user_id = self:id(), householder_id = rel.householder_id, block_id = rel.block_id,
    room_user_type = rel.room_user_type, tree_id = rel.tree_id, expire_date = rel.expire_date or "",
    room_user_stage = 20, apply_time = now, gmt_create = now, audit_time = now, audit_reason = "",
    auth_time = 0, move_out_time = 0, move_out_type = 0, move_out_time_text = "" }
  self:set_room_user(ru.room_user_id, ru)
  table.insert(self.blocks[rel.block_id].room_user_list, ru.room_user_id)
  return { room_user_id = ru.room_user_id, success = true }
end

function Community:update_room_user(id, body)
  local rel, code, msg = check_relation(self, body)
  if not rel then return nil, code, msg end
  if body.room_user_id ~= nil and tostring(body.room_user_id) ~= id then
    return nil, ILLEGAL, "param is illegal: room_user_id"
  end
  local ru
  ru, code, msg = self:find_room_user(rel.block_id, id)
  if not ru then return nil, code, msg end
  ru.room_user_type, ru.tree_id, ru.householder_id = rel.room_user_type, rel.tree_id, rel.householder_id
  if rel.expire_date then ru.expire_date = rel.expire_date end
  return true
end

function Community:move_in(id, body)
  local rel, code, msg = check_relation(self, body, true)
  if not rel then return nil, code, msg end
  local stage
  stage, code, msg = as_int(body, "room_user_stage")
  if code then return nil, code, msg end
  if stage ~= 10 and stage ~= 20 then return nil, ILLEGAL, "param is illegal: room_user_stage (10 reject, 20 approve)" end
  local ru
  ru, code, msg = self:find_room_user(rel.block_id, id)
  if not ru then return nil, code, msg end
  if ru.room_user_stage ~= 0 then
    return { room_user_id = id, success = false, operation = "Cannot be added repeatedly." }
  end
  ru.room_user_stage, ru.audit_reason, ru.audit_time = stage, rel.audit_reason, self.now_ms()
  ru.room_user_type, ru.tree_id = rel.room_user_type, rel.tree_id
  if rel.expire_date then ru.expire_date = rel.expire_date end
  return { room_user_id = id, success = true }
end

function Community:move_out(block_id, id)
  local ru, code, msg = self:find_room_user(block_id, id)
  if not ru then return nil, code, msg end
  if ru.room_user_stage ~= 20 then return nil, ILLEGAL, "param is illegal: the resident has not moved in" end
  ru.room_user_stage, ru.move_out_type, ru.move_out_time = 30, 0, self.now_ms()
  ru.move_out_time_text = os.date("!%Y-%m-%d %H:%M:%S", ru.move_out_time // 1000)
  return true
end

function Community:delete_room_user(block_id, id)
  local ru, code, msg = self:find_room_user(block_id, id)
  if not ru then return nil, code, msg end
  self:set_room_user(id, nil)
  return true
end

-- ---------------------------------------------------------------------------------------------
-- Householders

-- The householders of the block's room users that pass the relation filters, as a set; nil
-- when the query sets none (then every householder is wanted, housed or not).
function Community:householders_by_relation(block, params)
  if not any_set(params, { "room_user_stage", "room_user_type", "move_out_type", "tree_id" }) then return nil end
  local wanted = {}
  for _, id in ipairs(block.room_user_list) do
    local ru = self.room_users[id]
    if ru and self:filter_room_user(ru, params, nil) then wanted[ru.householder_id] = true end
  end
  return wanted
end

function Community:list_householders(params)
  local req, code, msg = self:list_request(params)
  if not req then return nil, code, msg end
  local wanted = self:householders_by_relation(req.block, params)
  local hits = {}
  for _, id in ipairs(req.block.householder_list) do
    local h = self.householders[id]
    if h and (not wanted or wanted[id]) and matches_person(req.q, h.real_name, h.mobile)
        and matches_filters(h, params, PERSON_FILTERS) then
      hits[#hits + 1] = h
    end
  end
  local ok
  ok, code, msg = order(hits, params, "householder_id")
  if not ok then return nil, code, msg end
  return { total_record = #hits, data = self:page_view(hits, req, self.householder_view) }
end

function Community:find_householder(block_id, id)
  local h = self.householders[id or ""]
  if not h or h.block_id ~= block_id then return nil, 1000, "data not exist" end
  return h
end

-- Field types as the resident tables document them (the registry type, marital and political
-- status are Integer codes).
local HOUSEHOLDER_STRINGS = { "real_name", "card_no", "household_registry_address", "employer", "emergency_contact",
  "emergency_contact_number" }
local HOUSEHOLDER_INTS = { "sex", "card_type", "apply_source", "if_identify", "household_registry_type",
  "marital_status", "political_status" }
-- The modify-resident table requires these (beyond the path ids, which the body repeats).
local HOUSEHOLDER_UPDATE_REQUIRED = { "real_name", "sex", "mobile", "household_registry_address", "marital_status",
  "employer", "political_status" }

local function apply_householder(h, body)
  local ok, code, msg = bind(h, body, HOUSEHOLDER_STRINGS, as_str)
  if ok then ok, code, msg = bind(h, body, HOUSEHOLDER_INTS, as_int) end
  if not ok then return nil, code, msg end
  if h.sex ~= 1 and h.sex ~= 2 then return nil, ILLEGAL, "param is illegal: sex" end
  return true
end

function Community:create_householder(body)
  local ok, code, msg = required(body, { "block_id", "real_name", "sex", "mobile" })
  if not ok then return nil, code, msg end
  local block_id = as_str(body, "block_id")
  local block = self.blocks[block_id]
  if not block then return nil, 1000, "data not exist: block_id" end
  local mobile = as_str(body, "mobile")
  for _, id in ipairs(block.householder_list) do
    local h = self.householders[id]
    if h and h.mobile == mobile then
      return { householder_id = id, success = false, operation = "The mobile phone number already exists." }
    end
  end
  local h = { householder_id = self:id(), block_id = block_id, user_id = "ay" .. self:id(), mobile = mobile,
    country_code = "86", card_type = 1, card_no = "", if_identify = 0, real_name_status = 0, apply_source = 0,
    if_upload_face = 0, gmt_create = self.now_ms() }
  ok, code, msg = apply_householder(h, body)
  if not ok then return nil, code, msg end
  self.householders[h.householder_id] = h
  table.insert(block.householder_list, h.householder_id)
  return { householder_id = h.householder_id, success = true }
end

function Community:update_householder(block_id, id, body)
  local ok, code, msg = required(body, HOUSEHOLDER_UPDATE_REQUIRED)
  if not ok then return nil, code, msg end
  for _, n in ipairs({ "block_id", "householder_id" }) do
    if body[n] ~= nil and tostring(body[n]) ~= (n == "block_id" and block_id or id) then
      return nil, ILLEGAL, "param is illegal: " .. n .. " differs from the path"
    end
  end
  local h
  h, code, msg = self:find_householder(block_id, id)
  if not h then return nil, code, msg end
  if body.mobile ~= nil and tostring(body.mobile) ~= h.mobile then
    return nil, ILLEGAL, "param is illegal: mobile cannot be changed"
  end
  local staged = copy(h)
  ok, code, msg = apply_householder(staged, body)
  if not ok then return nil, code, msg end
  self.householders[id] = staged
  return true
end

function Community:delete_householder(block_id, id)
  local h, code, msg = self:find_householder(block_id, id)
  if not h then return nil, code, msg end
  self.householders[id] = nil
  for rid, ru in pairs(self.room_users) do
    if ru.householder_id == id then self:set_room_user(rid, nil) end
  end
  return true
end

-- ---------------------------------------------------------------------------------------------
-- Members (staff)

function Community:list_members(params)
  local req, code, msg = self:list_request(params)
  if not req then return nil, code, msg end
  local hits = {}
  for _, id in ipairs(self.member_order) do
    local m = self.members[id]
    if m and contains(m.block_ids, params.block_id) and matches_person(req.q, m.admin_name, m.mobile)
        and (not is_set(params, "status") or tostring(m.account_status) == params.status) then
      hits[#hits + 1] = m
    end
  end
  return { total_record = #hits, data = self:page_view(hits, req, self.member_view) }
end

function Community:find_member(block_id, id)
  local m = self.members[id or ""]
  if not m or not contains(m.block_ids, block_id) then return nil, 1000, "data not exist" end
  return m
end

-- Validates and applies a member body (Tuya's Modify Member table, docs/vendors/tuya.md §7.3) onto `m` (a staged copy).
function Community:apply_member(m, body, creating)
  local need = { "block_ids", "structure_id", "education", "role_ids", "admin_name", "sex", "mobile" }
  if not creating then table.insert(need, 1, "member_id") end
  local ok, code, msg = required(body, need)
  if not ok then return nil, code, msg end
  local v = {}
  ok, code, msg = bind(v, body, { "member_id", "block_ids", "structure_id", "education", "role_ids", "country_code",
    "admin_name", "mobile", "card_no", "position" }, as_str)
  if ok then ok, code, msg = bind(v, body, { "admin", "data_permission", "sex", "card_type", "birthday" }, as_int) end
  if not ok then return nil, code, msg end
  if v.sex ~= 1 and v.sex ~= 2 then return nil, ILLEGAL, "param is illegal: sex" end
  if v.admin and v.admin ~= 1 and v.admin ~= 2 then return nil, ILLEGAL, "param is illegal: admin" end
  if v.data_permission and v.data_permission ~= 1 and v.data_permission ~= 2 then
    return nil, ILLEGAL, "param is illegal: data_permission"
  end
  if not self.structures[v.structure_id] then return nil, ILLEGAL, "param is illegal: structure_id" end
  local blocks, roles = split(v.block_ids), split(v.role_ids)
  for _, b in ipairs(blocks) do
    if not self.blocks[b] then return nil, ILLEGAL, "param is illegal: block_ids (" .. b .. ")" end
  end
  for _, r in ipairs(roles) do
    if not self.roles[r] then return nil, ILLEGAL, "param is illegal: role_ids (" .. r .. ")" end
  end
  if #blocks == 0 or #roles == 0 then return nil, ILLEGAL, "param is illegal: block_ids/role_ids" end
  m.block_ids, m.role_ids = blocks, roles
  for _, n in ipairs({ "structure_id", "education", "country_code", "admin_name", "mobile", "card_no", "position",
      "admin", "data_permission", "sex", "card_type", "birthday" }) do
    if v[n] ~= nil then m[n] = v[n] end
  end
  return true, v
end

function Community:create_member(body)
  local m = { member_id = self:id(), account_status = 3, myself = 2, admin = 2, role_ids = {}, block_ids = {},
    country_code = "86", gmt_create = self.now_ms() }
  local ok, code, msg = self:apply_member(m, body, true)
  if not ok then return nil, code, msg end
  for _, id in ipairs(self.member_order) do
    if self.members[id] and self.members[id].mobile == m.mobile then
      return nil, ILLEGAL, "param is illegal: mobile already registered"
    end
  end
  self.members[m.member_id] = m
  self.member_order[#self.member_order + 1] = m.member_id
  return m.member_id
end

function Community:update_member(block_id, id, body)
  local m, code, msg = self:find_member(block_id, id)
  if not m then return nil, code, msg end
  local staged = copy(m)
  local ok, v, emsg = self:apply_member(staged, body, false)
  if not ok then return nil, v, emsg end
  if not contains(split(v.member_id), id) then return nil, ILLEGAL, "param is illegal: member_id does not name the member in the path" end
  self.members[id] = staged
  return true
end

function Community:delete_member(block_id, id)
  local m, code, msg = self:find_member(block_id, id)
  if not m then return nil, code, msg end
  self.members[id] = nil
  return true
end

-- ---------------------------------------------------------------------------------------------
-- Organisations

function Community.structure_view(_, s)
  return { structure_id = s.structure_id, parent_structure_id = s.parent_structure_id,
    structure_name = s.structure_name, address_code = s.address_code, address_detail = s.address_detail,
    contact = s.contact, contact_mobile = s.contact_mobile, contact_email = s.contact_email }
end

function Community:find_structure(params)
  local ok, code, msg = required(params, { "structure_id" })
  if not ok then return nil, code, msg end
  local s = self.structures[params.structure_id]
  if not s then return nil, 1000, "data not exist" end
  return s
end

function Community:structure_members(params)
  local s, code, msg = self:find_structure(params)
  if not s then return nil, code, msg end
  local no, size, pmsg = paging(params)
  if not no then return nil, size, pmsg end
  local hits = {}
  for _, id in ipairs(self.member_order) do
    local m = self.members[id]
    if m and m.structure_id == s.structure_id then hits[#hits + 1] = m end
  end
  local data = page(hits, no, size)
  for i, m in ipairs(data) do
    local v = self:member_view(m)
    data[i] = { structure_id = v.structure_id, structure_name = v.structure_name, admin_id = v.member_id,
      admin_name = v.admin_name, role_infos = v.role_infos, mobile = v.mobile, blocks = v.blocks,
      account_status = v.account_status, sex = v.sex }
  end
  return { data = data, total_count = #hits }
end

function Community:structure_children(params)
  local s, code, msg = self:find_structure(params)
  if not s then return nil, code, msg end
  local list = array()
  for _, id in ipairs(self.structure_order) do
    local c = self.structures[id]
    if c and c.parent_structure_id == s.structure_id then
      local v = self:structure_view(c)
      v.structure_type = c.structure_type
      local leaf = true
      for _, id2 in ipairs(self.structure_order) do
        local g = self.structures[id2]
        if g and g.parent_structure_id == c.structure_id then leaf = false end
      end
      v.has_leaf = not leaf
      list[#list + 1] = v
    end
  end
  return { list = list, page_no = 1, page_size = #list, total = #list }
end

local STRUCTURE_FIELDS = { "parent_structure_id", "structure_name", "address_code", "address_detail", "contact",
  "contact_mobile", "contact_email" }

local function apply_structure(self, s, body)
  local ok, code, msg = bind(s, body, STRUCTURE_FIELDS, as_str)
  if not ok then return nil, code, msg end
  if s.parent_structure_id ~= "" and not self.structures[s.parent_structure_id] then
    return nil, ILLEGAL, "param is illegal: parent_structure_id"
  end
  if s.parent_structure_id == s.structure_id then return nil, ILLEGAL, "param is illegal: parent_structure_id" end
  return true
end

function Community:create_structure(body)
  local ok, code, msg = required(body, { "structure_name" })
  if not ok then return nil, code, msg end
  local s = { structure_id = self:id(), parent_structure_id = "", structure_type = 2 }
  ok, code, msg = apply_structure(self, s, body)
  if not ok then return nil, code, msg end
  self.structures[s.structure_id] = s
  self.structure_order[#self.structure_order + 1] = s.structure_id
  return s.structure_id
end

function Community:update_structure(id, body)
  -- The modify-organisation table requires the name, the contact and the contact's phone.
  local ok, code, msg = required(body, { "structure_name", "contact", "contact_mobile" })
  if not ok then return nil, code, msg end
  local s = self.structures[id]
  if not s then return nil, 1000, "data not exist" end
  local staged = copy(s)
  ok, code, msg = apply_structure(self, staged, body)
  if not ok then return nil, code, msg end
  self.structures[id] = staged
  return true
end

function Community:delete_structure(id)
  if not self.structures[id] then return nil, 1000, "data not exist" end
  for _, s in pairs(self.structures) do
    if s.parent_structure_id == id then return nil, ILLEGAL, "param is illegal: the organisation has children" end
  end
  for _, m in pairs(self.members) do
    if m.structure_id == id then return nil, ILLEGAL, "param is illegal: the organisation has members" end
  end
  self.structures[id] = nil
  return true
end

-- ---------------------------------------------------------------------------------------------
-- Houses and housekeepers

function Community:create_room(body)
  local ok, code, msg = required(body, { "block_id", "parent_tree_id" })
  if not ok then return nil, code, msg end
  local block_id, parent = as_str(body, "block_id"), as_str(body, "parent_tree_id")
  local block = self.blocks[block_id]
  if not block then return nil, 1000, "data not exist: block_id" end
  local p = self.trees[parent]
  if not p or p.block_id ~= block_id or p.room then return nil, ILLEGAL, "param is illegal: parent_tree_id" end
  local name
  name, code, msg = as_str(body, "room_name")
  if code then return nil, code, msg end
  local room = { tree_id = self:id(), name = name or "New house", block_id = block_id, parent = parent, room = true }
  self.trees[room.tree_id] = room
  block.rooms[#block.rooms + 1] = room.tree_id
  return room.tree_id
end

function Community:delete_room(block_id, tree_id)
  local room = self.trees[tree_id]
  if not room or not room.room or room.block_id ~= block_id then return nil, 1000, "data not exist" end
  for _, ru in pairs(self.room_users) do
    if ru.tree_id == tree_id and ru.room_user_stage == 20 then
      return nil, ILLEGAL, "param is illegal: the house has residents"
    end
  end
  self.trees[tree_id] = nil
  return true
end

function Community:housekeeper(params)
  local ok, code, msg = required(params, { "block_id", "hk_id" })
  if not ok then return nil, code, msg end
  local hk = self.housekeepers[params.hk_id]
  if not hk or hk.block_id ~= params.block_id then return nil, 1000, "data not exist" end
  local v = copy(hk)
  v.block_id = nil
  return v
end

-- ---------------------------------------------------------------------------------------------
-- Routes: { method, path, handler(self, q) }

local C = "/v1.0/iot-02/community"

-- A GET handler for one record of a block: both ids required, then find(self, block_id, id)
-- and view(self, record).
local function detail(self, id_name, find, view)
  return function(q)
    local ok, code, msg = required(q.params, { "block_id", id_name })
    if not ok then return nil, code, msg end
    local record
    record, code, msg = find(self, q.params.block_id, q.params[id_name])
    if not record then return nil, code, msg end
    return view(self, record)
  end
end

local function member_detail_view(self, m) return self:member_view(m, true) end

function M.routes(self)
  local function cap(q, name) return q.captures[name] end
  return {
    { "GET", C .. "/room-users", function(q) return self:list_room_users(q.params) end },
    { "GET", C .. "/room-user", detail(self, "room_user_id", self.find_room_user, self.room_user_view) },
    { "POST", C .. "/room-user", function(q) return self:create_room_user(q.body) end },
    { "PUT", C .. "/room-user/{room_user_id}", function(q) return self:update_room_user(cap(q, "room_user_id"), q.body) end },
    { "DELETE", C .. "/room-user/{block_id}/{room_user_id}", function(q)
      return self:delete_room_user(cap(q, "block_id"), cap(q, "room_user_id")) end },
    { "PUT", C .. "/room-user/{room_user_id}/move-in", function(q) return self:move_in(cap(q, "room_user_id"), q.body) end },
    { "PUT", C .. "/room-user/{block_id}/{room_user_id}/move-out", function(q)
      return self:move_out(cap(q, "block_id"), cap(q, "room_user_id")) end },
    { "GET", C .. "/householders", function(q) return self:list_householders(q.params) end },
    { "GET", C .. "/householder", detail(self, "householder_id", self.find_householder, self.householder_view) },
    { "POST", C .. "/householder", function(q) return self:create_householder(q.body) end },
    { "PUT", C .. "/householder/{block_id}/{householder_id}", function(q)
      return self:update_householder(cap(q, "block_id"), cap(q, "householder_id"), q.body) end },
    { "DELETE", C .. "/householder/{block_id}/{householder_id}", function(q)
      return self:delete_householder(cap(q, "block_id"), cap(q, "householder_id")) end },
    { "GET", C .. "/members", function(q) return self:list_members(q.params) end },
    { "GET", C .. "/member", detail(self, "member_id", self.find_member, member_detail_view) },
    { "POST", C .. "/member", function(q) return self:create_member(q.body) end },
    { "PUT", C .. "/member/{block_id}/{member_id}", function(q)
      return self:update_member(cap(q, "block_id"), cap(q, "member_id"), q.body) end },
    { "DELETE", C .. "/member/{block_id}/{member_id}", function(q)
      return self:delete_member(cap(q, "block_id"), cap(q, "member_id")) end },
    { "GET", C .. "/structure", function(q)
      local s, code, msg = self:find_structure(q.params)
      if not s then return nil, code, msg end
      return self:structure_view(s)
    end },
    { "GET", C .. "/structure/members", function(q) return self:structure_members(q.params) end },
    { "GET", C .. "/structures/children", function(q) return self:structure_children(q.params) end },
    { "POST", C .. "/structure", function(q) return self:create_structure(q.body) end },
    { "PUT", C .. "/structure/{structure_id}", function(q) return self:update_structure(cap(q, "structure_id"), q.body) end },
    { "DELETE", C .. "/structure/{structure_id}", function(q) return self:delete_structure(cap(q, "structure_id")) end },
    { "POST", C .. "/room", function(q) return self:create_room(q.body) end },
    { "DELETE", C .. "/room/{block_id}/{tree_id}", function(q) return self:delete_room(cap(q, "block_id"), cap(q, "tree_id")) end },
    { "GET", C .. "/housekeeper-detail", function(q) return self:housekeeper(q.params) end },
  }
end

return M
