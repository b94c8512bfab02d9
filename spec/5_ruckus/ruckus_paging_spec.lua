-- dwell.ruckus unit-user paging (Spring pages) and argument validation, over real HTTP.
local dwell = require "dwell"
local json = require "dwell.json"
local sandbox = require "dwell.sandbox"

describe("dwell.ruckus paging and validation", function()
  local sb, creds, portal

  setup(function()
    sb = assert(sandbox.start{ routes = { { set = "ruckus", config = { users = 45 } } } })
  end)
  teardown(function() sb:stop() end)
  -- A fresh server state and a fresh client (a reset server forgets the tokens it issued).
  before_each(function()
    sb:reset()
    creds = sb:control("ruckus", "credentials")
    portal = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
      base_url = sb.url })
  end)

  local function queries()
    local out = {}
    for _, r in ipairs(sb:requests()) do
      if r.path:match("/units/users/query$") then out[#out + 1] = json.decode(r.body) end
    end
    return out
  end

  it("returns one Spring page", function()
    local page = assert(portal.units.users.query{ page = 1, page_size = 20 })
    assert.equal(20, #page.content)
    assert.equal(45, page.totalElements)
    assert.equal(3, page.totalPages)
    assert.equal(1, page.number)
    assert.is_false(page.last)
  end)

  it(":each walks every page lazily, from page 0", function()
    local it = portal.units.users.query:each{ page_size = 20 }
    local first = it()
    assert.is_table(first)
    assert.equal(1, #queries()) -- only the first page so far
    local n = 1
    for _ in it do n = n + 1 end
    assert.equal(45, n)
    local qs = queries()
    assert.equal(3, #qs)
    assert.same({ 0, 1, 2 }, { qs[1].page, qs[2].page, qs[3].page })
    assert.equal(20, qs[1].pageSize)
  end)

  it("sorts by userId in both directions, sortFields sent as an array", function()
    local asc = assert(portal.units.users.query:all{ sort_fields = "userId", sort_direction = "ASC", page_size = 7 })
    assert.equal(45, #asc)
    for i = 2, #asc do assert.is_true(asc[i - 1].userId < asc[i].userId) end
    local desc = assert(portal.units.users.query:all{ sortFields = { "userId" }, sortDirection = "DESC" })
    for i = 2, #desc do assert.is_true(desc[i - 1].userId > desc[i].userId) end
    local raw
    for _, r in ipairs(sb:requests()) do if r.path:match("/query$") then raw = r.body; break end end
    assert.matches('"sortFields":%["userId"%]', raw)
  end)

  it("filters by userId", function()
    local all = assert(portal.units.users.query:all{})
    local one = assert(portal.units.users.query{ user_id = all[7].userId })
    assert.equal(1, #one.content)
    assert.equal(all[7].userId, one.content[1].userId)
  end)

  it("rejects bad arguments before any request", function()
    local cases = {
      { portal.units.users.get, { user_id = "123" }, "user_id" },
      { portal.units.users.update, { user_id = "6d1b6a3e-8f0c-4c59-9a38-2f1e7c5d4b10", email = string.rep("a", 256) }, "email" },
      { portal.units.users.update, { user_id = "6d1b6a3e-8f0c-4c59-9a38-2f1e7c5d4b10", phone_number = "+1234567890123456" },
        "phone_number" },
      { portal.units.users.update, { user_id = "6d1b6a3e-8f0c-4c59-9a38-2f1e7c5d4b10", status = "GONE" }, "status" },
      { portal.units.users.update, { user_id = "6d1b6a3e-8f0c-4c59-9a38-2f1e7c5d4b10", type = "OWNER" }, "type" },
      { portal.units.users.query, { sort_direction = "UP" }, "sort_direction" },
      { portal.units.users.query, { sort_fields = { "userName" } }, "sort_fields[1]" },
      { portal.units.devices.list, {}, "type" },
      { portal.units.update, { secret = "fine" }, "number" },
      { portal.units.update, { number = "101", contact = { email = "a@b.c" } }, "contact.contact_name" },
      { portal.units.update, { number = "101", secret = string.rep("s", 64) }, "secret" },
      { portal.units.update, { number = "101", status = "TOKEN_RESET" }, "status" },
    }
    for _, c in ipairs(cases) do
      local res, err = c[1](c[2])
      assert.is_nil(res)
      assert.equal("invalid_argument", err.kind)
      assert.equal(c[3], err.param)
    end
    assert.equal(0, #sb:requests())
  end)

  it("accepts the vendor's spelling and sends camelCase wire names", function()
    local user = assert(portal.units.users.query{ pageSize = 1 }).content[1]
    assert(portal.units.users.update{ userId = user.userId, phoneNumber = "+15550000001", userName = user.userName })
    local reqs = sb:requests()
    local body = json.decode(reqs[#reqs].body)
    assert.same({ userId = user.userId, phoneNumber = "+15550000001", userName = user.userName }, body)
  end)

  it("does not echo a passphrase that fails validation", function()
    local _, err = portal.units.update{ number = "101", guest_secret = string.rep("q", 70) }
    assert.equal("invalid_argument", err.kind)
    assert.not_matches("qqqq", tostring(err))
  end)
end)
