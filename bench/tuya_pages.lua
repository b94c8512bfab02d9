--- bench/tuya_pages.lua: the Tuya gateway answers the HTTP benches serve from nginx (bench/nginx.lua):
-- the token grant and room-users pages with the fields of a Tuya room user (docs/vendors/tuya.md §7.1),
-- ids as 19-digit strings, identical on every run. Loaded with dofile.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*)/") or ".") .. "/common.lua")
local json = require "dwell.json"

local M = {}

M.ROOM_USERS = "/v1.0/iot-02/community/room-users"
M.BLOCK_ID = "1367673991539501234"

function M.token_page()
  return json.encode({ success = true, t = 1717200000123, tid = "5f1e8a3c0b7d4e2f9a6c1b0d3e5f7a9c",
    result = { access_token = "b4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", refresh_token = "e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4",
      expire_time = 7200, uid = "bay1717200000123abcd" } }, { sort_keys = true })
end

local rng = common.rng

local TYPES = { "HOUSEHOLDER", "FAMILY", "TENANT", "FRIEND", "RELATIVES", "OTHER" }
local TYPE_TEXT = { "Owner", "Family member", "Tenant", "Friend", "Relative", "Others" }
local NAMES = { "Li Wei", "Wang Fang", "Zhang Min", "Liu Yang", "Chen Jing", "Anna Berg", "Tom Meyer" }
local STAGES = { 0, 10, 20, 30 }

local function id19(r)
  return tostring(1300000000000000000 + r(99999999) * 1000000000 + r(999999999))
end

local function room_user(r)
  local t = r(#TYPES) + 1
  local created = 1600000000000 + r(100000000) * 1000 + r(1000)
  local building, unit, room = r(30) + 1, r(6) + 1, r(3000) + 101
  local stage = STAGES[r(#STAGES) + 1]
  local parents = setmetatable({}, json.array_mt)
  for k = 1, 3 do parents[k] = id19(r) end
  return {
    user_id = id19(r), householder_id = id19(r), room_user_id = id19(r), tree_id = id19(r),
    room_user_type = TYPES[t], room_user_type_text = TYPE_TEXT[t],
    expire_date = r(4) == 0 and tostring(created + 31536000000) or "",
    country_code = "86", sex = r(2) + 1, mobile = string.format("1%010d", r(9999999999)),
    card_type = 1, card_no = string.format("11010519%02d%02d%02d%04d", 60 + r(40), r(12) + 1, r(28) + 1, r(9999)),
    if_identify = r(2), real_name = NAMES[r(#NAMES) + 1], real_name_status = r(3),
    space_tree_name = string.format("%d-%d-%d", building, unit, room),
    parent_id_list = parents,
    room_address = string.format("Building %d Unit %d Room %d", building, unit, room),
    auth_time = created + r(86400000), audit_time = created + r(86400000) + 86400000,
    move_out_time = stage == 30 and created + 900000000 or 0, move_out_type = stage == 30 and 1 or 0,
    move_out_time_text = stage == 30 and "2021-03-01 10:00:00" or "",
    gmt_create = created, audit_reason = stage == 10 and "Document unreadable" or "",
    room_user_stage = stage, apply_time = created - r(86400000),
  }
end

--- The envelope of a page of `rows` room users (page `page_no`, default 1, of `total`
-- users, default 18734; has_more while rows are left). Each page number gives other users.
function M.room_users_page(rows, page_no, total)
  page_no, total = page_no or 1, total or 18734
  local r = rng(20240601 + (page_no - 1) * 7919)
  local data = setmetatable({}, json.array_mt)
  for i = 1, rows do data[i] = room_user(r) end
  return json.encode({ success = true, t = 1717200000456, tid = "9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
    result = { total_count = total, page_no = page_no, page_size = rows, has_more = page_no * rows < total,
      data = data } }, { sort_keys = true })
end

return M
