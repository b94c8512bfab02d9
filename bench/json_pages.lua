--- bench/json_pages.lua: the documents bench/json.lua and bench/json_count.lua decode and
-- encode: a Tuya Smart Community room-users page (2000 rows: 19-digit ids as strings and as
-- one integer, Chinese names and addresses, nulls, nested arrays) and a DocuSign Rooms users
-- page (1000 users: ASCII, small integers, decimals, booleans). Loaded with dofile.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*)/") or ".") .. "/common.lua")
local json = require "dwell.json"

local rng = common.rng

local SURNAMES = { "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴" }
local GIVEN = { "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰" }
local BUILDINGS = { "阳光花园", "翠湖天地", "金色家园", "锦绣江南", "滨江一号" }
local TYPES = { "HOUSEHOLDER", "FAMILY", "TENANT", "FRIEND", "RELATIVES", "OTHER" }
local TYPE_TEXT = { "业主", "家属", "租户", "朋友", "亲戚", "其他" }

local function id19(r)
  return 1300000000000000000 + r(99999999) * 1000000000 + r(999999999)
end

local function tuya_row(r, i)
  local t = r(#TYPES) + 1
  local b = BUILDINGS[r(#BUILDINGS) + 1]
  local building, unit, room = r(30) + 1, r(6) + 1, r(3000) + 101
  local created = 1600000000000 + r(100000000) * 1000 + r(1000)
  local parents = {}
  for k = 1, 3 + r(3) do parents[k] = tostring(id19(r)) end
  local name = SURNAMES[r(#SURNAMES) + 1] .. GIVEN[r(#GIVEN) + 1]
  return {
    user_id = tostring(id19(r)),
    householder_id = tostring(id19(r)),
    room_user_id = id19(r),
    tree_id = tostring(id19(r)),
    room_user_type = TYPES[t],
    room_user_type_text = TYPE_TEXT[t],
    expire_date = r(4) == 0 and tostring(created + 31536000000) or "",
    country_code = "86",
    sex = r(2) + 1,
    mobile = string.format("1%010d", r(9999999999)),
    card_type = 1,
    card_no = string.format("11010519%02d%02d%02d%04d", 60 + r(40), r(12) + 1, r(28) + 1, r(9999)),
    if_identify = r(2),
    real_name = name,
    real_name_status = r(3),
    space_tree_name = string.format("%s%d栋%d单元%d室", b, building, unit, room),
    parent_id_list = parents,
    room_address = string.format("浙江省杭州市西湖区%s%d栋%d单元%d室", b, building, unit, room),
    auth_time = created + r(86400000),
    create_time = created,
    update_time = created + r(1000000000),
    apply_source = r(3),
    if_upload_face = r(2),
    face_url = r(3) == 0 and json.null or "https://images.tuyacn.com/smart/face/" .. tostring(id19(r)) .. ".jpg",
    move_out_type = json.null,
    tags = setmetatable({ { "vip", r(10) }, { "floor", r(30) } }, json.array_mt),
    remark = i % 7 == 0 and "长期住户，\"重要\"\n联系前请先致电" or "",
  }
end

local function tuya_page()
  local r = rng(20240601)
  local data = setmetatable({}, json.array_mt)
  for i = 1, 2000 do data[i] = tuya_row(r, i) end
  return { success = true, t = 1717200000123, tid = "a1b2c3d4e5f6", result = {
    total_count = 18734, page_no = 1, page_size = 2000, has_more = true, data = data } }
end

local function rooms_page()
  local r = rng(42)
  local users = setmetatable({}, json.array_mt)
  for i = 1, 1000 do
    users[i] = {
      userId = 10000000 + r(9000000),
      email = string.format("user%d@example.com", i),
      firstName = "First" .. i, lastName = "Last" .. r(100000),
      isRevoked = r(10) == 0, roleId = r(20) + 1, officeId = r(500) + 1,
      titleId = r(50), titleName = "Agent", roleName = "Manager",
      invitationUrl = json.null, permissions = setmetatable({ "view", "edit" }, json.array_mt),
      createdDate = string.format("2023-%02d-%02dT%02d:%02d:%02d.%03dZ",
        r(12) + 1, r(28) + 1, r(24), r(60), r(60), r(1000)),
      score = r(100000) / 100,
    }
  end
  return { users = users, resultSetSize = 1000, startPosition = 0, endPosition = 999,
           nextUri = "/v2/accounts/1234567/rooms/42/users?startPosition=1000", priorUri = json.null }
end

return { tuya = tuya_page, rooms = rooms_page }
