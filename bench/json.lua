--- bench/json.lua: decode/encode throughput of dwell.json against lua-cjson and dkjson.
-- Not a test: it prints MB/s and the ratios to lua-cjson, all measured in this run.
--   lua5.4 bench/json.lua [repetitions, default 31] [page: tuya|rooms, default both]
--
-- Method, so that a figure can be trusted on a shared, noisy machine:
--  * every codec decodes the same text and encodes the same value (the generated page, whose
--    arrays carry json.array_mt), in the same process;
--  * each repetition runs every codec once, in rotating order; each timed run is one call
--    that starts after a full collectgarbage("collect"), so no codec pays for another's
--    garbage, and whose result is dropped, so the live heap is the same for every codec;
--  * time is process CPU time (os.clock); the report gives the median MB/s and the spread
--    (min..max) over the repetitions, and the median of the per-repetition ratios to
--    lua-cjson, which cancels slow drifts in machine load.
local json = require "dwell.json"
local cjson = require "cjson"
local ok_dk, dkjson = pcall(require, "dkjson")

local reps = math.max(3, math.tointeger(tonumber(arg and arg[1]) or 31) or 31)
local only = arg and arg[2]

-- A small LCG so the documents are identical on every machine and Lua build.
local function rng(seed)
  local state = seed
  return function(n)
    state = (state * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    return (state >> 33) % n
  end
end

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

-- CPU seconds of one call fn(arg), after a full collection. The result is dropped at
-- once, so the only live data are the inputs, the same for every codec.
local function timed(fn, arg)
  collectgarbage("collect")
  local t0 = os.clock()
  fn(arg)
  return os.clock() - t0
end

local function median(list)
  local s = {}
  for i, v in ipairs(list) do s[i] = v end
  table.sort(s)
  local n = #s
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

local function spread(list)
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(list) do lo, hi = math.min(lo, v), math.max(hi, v) end
  return lo, hi
end

-- dkjson has its own null; the shared input uses json.null (== cjson.null).
local function dk_null(_, value, _, message)
  if value == json.null then return "null" end
  return nil, message
end

local function codecs()
  local list = {
    { name = "dwell.json", decode = json.decode, encode = json.encode },
    { name = "lua-cjson", decode = cjson.decode, encode = cjson.encode },
  }
  if ok_dk then
    -- Two orders of magnitude slower and only there for context: a few runs suffice.
    list[#list + 1] = { name = "dkjson", reps = 5,
      decode = function(s) return dkjson.decode(s, 1, dkjson.null) end,
      encode = function(v) return dkjson.encode(v, { exception = dk_null }) end }
  end
  return list
end

-- One operation ("decode" or "encode") of every codec on the same input, `reps` times,
-- interleaved in rotating order.
local function measure(list, op, input, mb)
  local rates, ratios = {}, {}
  for i = 1, #list do rates[i], ratios[i] = {}, {} end
  for _, c in ipairs(list) do c[op](input) end -- warm up
  for r = 1, reps do
    local secs = {}
    for k = 0, #list - 1 do
      local i = (r + k - 1) % #list + 1
      if r <= (list[i].reps or reps) then secs[i] = timed(list[i][op], input) end
    end
    for i = 1, #list do
      if secs[i] then
        rates[i][#rates[i] + 1] = mb / secs[i]
        ratios[i][#ratios[i] + 1] = secs[2] / secs[i]
      end
    end
  end
  local out = {}
  for i = 1, #list do
    local lo, hi = spread(rates[i])
    local rlo, rhi = spread(ratios[i])
    out[i] = { med = median(rates[i]), lo = lo, hi = hi,
      ratio = median(ratios[i]), rlo = rlo, rhi = rhi, n = #rates[i] }
  end
  return out
end

local function bench_doc(title, doc)
  local text = assert(json.encode(doc))
  local mb = #text / 1e6
  local list = codecs()
  print(string.format("\n%s: %.2f MB", title, mb))
  print(string.format("  %-11s %-6s %5s %9s %19s %8s %15s",
    "codec", "op", "runs", "MB/s", "(min..max)", "/cjson", "(min..max)"))
  for _, op in ipairs({ "decode", "encode" }) do
    local res = measure(list, op, op == "decode" and text or doc, mb)
    for i, c in ipairs(list) do
      local m = res[i]
      print(string.format("  %-11s %-6s %5d %9.1f %8.1f..%-8.1f %7.2fx %6.2f..%-6.2f",
        c.name, op, m.n, m.med, m.lo, m.hi, m.ratio, m.rlo, m.rhi))
    end
  end
  local back = json.decode(text)
  local id = back.result and back.result.data[1].room_user_id
  if id then
    print(string.format("  exactness: room_user_id %s, dwell.json re-encodes it as %s, lua-cjson as %s",
      math.tointeger(id), json.encode(id), cjson.encode(cjson.decode(text).result.data[1].room_user_id)))
  end
end

print(string.format("%s; lua-cjson %s; dkjson %s; median of up to %d interleaved runs, full GC before each",
  _VERSION, cjson._VERSION or "?", ok_dk and dkjson.version or "missing", reps))
if not only or only == "tuya" then bench_doc("Tuya room-users page (2000 rows)", tuya_page()) end
if not only or only == "rooms" then bench_doc("Rooms users page (1000 users)", rooms_page()) end
