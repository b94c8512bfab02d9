-- GetRoomUsers paging, filter and sort over real HTTP against the sandbox.
local S = require("support.rooms")

local function json_null_or_nil(v)
  return v == nil or v == require("dwell.core").json.null
end

describe("rooms paging", function()
  local sb, rooms
  before_each(function()
    sb = S.start()
    rooms = S.client(sb)
  end)
  after_each(function() sb:close() end)

  local function pages_seen()
    return S.requests(sb, "/restapi/v2/accounts/" .. S.ACCOUNT .. "/rooms/1001/users", "GET")
  end

  it("walks 260 users with count=100 in three requests", function()
    local seen, ids = 0, {}
    for user in rooms.rooms.users.list:each{ room_id = 1001, count = 100 } do
      seen = seen + 1
      assert.is_nil(ids[user.userId])
      ids[user.userId] = true
    end
    assert.equal(260, seen)
    local reqs = pages_seen()
    assert.equal(3, #reqs)
    for i, r in ipairs(reqs) do
      assert.equal(tostring((i - 1) * 100), r.params.startPosition)
      assert.equal("100", r.params.count)
    end
  end)

  it("returns the documented paging fields", function()
    local p1 = assert(rooms.rooms.users.list{ room_id = 1001, count = 100 })
    assert.equal(100, p1.resultSetSize)
    assert.equal(0, p1.startPosition)
    assert.equal(99, p1.endPosition)
    assert.equal(260, p1.totalRowCount)
    assert.is_string(p1.nextUri)
    assert.equal(json_null_or_nil(p1.priorUri), true)
    local p3 = assert(rooms.rooms.users.list{ room_id = 1001, count = 100, start_position = 200 })
    assert.equal(60, p3.resultSetSize)
    assert.equal(259, p3.endPosition)
    assert.equal(json_null_or_nil(p3.nextUri), true)
    assert.is_string(p3.priorUri)
  end)

  it("stops at an empty page and on a room with no users", function()
    local none = assert(rooms.rooms.users.list:all{ room_id = 1005 })
    assert.equal(0, #none)
    assert.equal(1, #S.requests(sb, "/restapi/v2/accounts/" .. S.ACCOUNT .. "/rooms/1005/users"))
    local exact = assert(rooms.rooms.users.list:all{ room_id = 1002, count = 7 })
    assert.equal(7, #exact)
    assert.equal(1, #S.requests(sb, "/restapi/v2/accounts/" .. S.ACCOUNT .. "/rooms/1002/users"))
  end)

  it("filters by the start of first name, last name or email", function()
    local all = assert(rooms.rooms.users.list:all{ room_id = 1001 })
    local want = 0
    for _, u in ipairs(all) do
      local function sw(s) return s:lower():sub(1, 2) == "ma" end
      if sw(u.firstName) or sw(u.lastName) or sw(u.email) then want = want + 1 end
    end
    assert.truthy(want > 0)
    local got = assert(rooms.rooms.users.list:all{ room_id = 1001, filter = "Ma" })
    assert.equal(want, #got)
    for _, u in ipairs(pages_seen()) do
      if u.params.filter then assert.equal("Ma", u.params.filter) end
    end
  end)

  it("sorts, accepting camelCase and PascalCase and sending PascalCase", function()
    local function check(sort, field, desc)
      local list = assert(rooms.rooms.users.list:all{ room_id = 1001, sort = sort })
      assert.equal(260, #list)
      for i = 2, #list do
        local a, b = list[i - 1][field]:lower(), list[i][field]:lower()
        if desc then assert.truthy(a >= b) else assert.truthy(a <= b) end
      end
    end
    check("firstNameAsc", "firstName", false)
    local reqs = pages_seen()
    assert.equal("FirstNameAsc", reqs[#reqs].params.sort)
    check("LastNameDesc", "lastName", true)
    check("emaildesc", "email", true)
    reqs = pages_seen()
    assert.equal("EmailDesc", reqs[#reqs].params.sort)
    -- The default order is last name descending.
    check(nil, "lastName", true)
  end)

  it("pages company users and roles the same way", function()
    local users = assert(rooms.users.list:all{ count = 15 })
    assert.equal(40, #users)
    assert.equal(3, #S.requests(sb, "/restapi/v2/accounts/" .. S.ACCOUNT .. "/users", "GET"))
    local rooms_list = assert(rooms.rooms.list:all{ room_status = "open", count = 2 })
    assert.equal(5, #rooms_list)
  end)
end)
