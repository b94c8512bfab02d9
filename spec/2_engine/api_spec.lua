-- The endpoint engine on its own: validation, request layout and paging,
-- with an adapter that answers from memory (vendor specs cover the wire).
local api = require "dwell.api"
local errors = require "dwell.error"

local function adapter(pages)
  local a = { vendor = "test", config = { account_id = "acc/1" }, calls = {} }
  function a:call(_, req)
    self.calls[#self.calls + 1] = req
    if pages then return pages(req) end
    return req
  end
  function a.prepare(_, _, req) return req end
  return a
end

local decls = {
  { name = "things.list", method = "GET", path = "/a/{accountId}/things",
    params = {
      { "account_id", "path", "string", wire = "accountId", from_client = true, required = true },
      { "block_id", "query", "string", required = true },
      { "page_no", "query", "integer", min = 1 },
      { "page_size", "query", "integer", min = 1, max = 100 },
      { "sex", "query", "string", enum = { "1", "2" } },
      { "mobile_or_name", "query", "string",
        check = function(v)
          if v:match("^%d+$") and #v < 4 then return "a mobile number must be four or more digits" end
        end },
      { "active", "query", "boolean" },
    },
    paging = { style = "page_number", page = "page_no", size = "page_size" } },
  { name = "things.update", method = "PUT", path = "/things/{thing_id}",
    params = {
      { "thing_id", "path", "string", required = true },
      { "role_ids", "body", "array", join = ",", required = true },
      { "sort_fields", "body", "array", wire = "sortFields", items = { type = "string", enum = { "userId" } } },
      { "contact", "body", "object", fields = {
        { "contact_name", wire = "contactName", required = true },
        { "email", max_length = 5 } } },
      { "user_id", "body", "uuid", wire = "userId" },
      { "birthday", "body", "long" },
    } },
}

describe("dwell.api", function()
  local a, tree
  before_each(function()
    a = adapter()
    tree = api.build(decls, a)
  end)

  local function rule_of(ep, args)
    local res, err = ep(args)
    assert.is_nil(res)
    assert.is_true(errors.is(err))
    assert.equal("invalid_argument", err.kind)
    assert.equal("things." .. (ep == tree.things.list and "list" or "update"), err.endpoint)
    return tostring(err)
  end

  it("lays values out in path, query and body under wire names", function()
    local req = tree.things.update{ thing_id = "../x?y#z", role_ids = { "1", 2 },
      sortFields = "userId", contact = { contact_name = "Ann" },
      user_id = "0123456789ABCDEF0123456789abcdef", birthday = 1621587021161 }
    assert.equal("/things/..%2Fx%3Fy%23z", req.path)
    assert.equal("1,2", req.body.role_ids)
    assert.same({ "userId" }, { table.unpack(req.body.sortFields) })
    assert.same({ contactName = "Ann" }, req.body.contact)
    assert.equal("01234567-89ab-cdef-0123-456789abcdef", req.body.userId)
    assert.equal(1621587021161, req.body.birthday)
    assert.equal("/things/%2E%2E", tree.things.update{ thing_id = "..", role_ids = "a" }.path)
  end)

  it("fills client parameters and keeps 19-digit ids exact", function()
    local req = tree.things.list{ block_id = 1367673991539501234, active = false }
    assert.equal("/a/acc%2F1/things", req.path)
    assert.same({ { "block_id", "1367673991539501234" }, { "active", "false" } }, req.query)
  end)

  it("rejects bad arguments naming the parameter and the rule", function()
    assert.matches("'block_id' is required", rule_of(tree.things.list, {}))
    assert.matches("'blok_id' is not a parameter of this endpoint %(did you mean 'block_id'%?%)",
      rule_of(tree.things.list, { blok_id = "1" }))
    assert.matches("'page_no' must be an integer %(got string%)", rule_of(tree.things.list, { block_id = "1", page_no = "2nd" }))
    -- a string of digits is an integer given as text (ids read from a file or a command line)
    assert.equal("table", type(tree.things.list:build{ block_id = "1", page_no = "2" }))
    assert.matches("'page_no' must be at least 1", rule_of(tree.things.list, { block_id = "1", page_no = 0 }))
    assert.matches("'page_size' must be between 1 and 100", rule_of(tree.things.list, { block_id = "1", page_size = 101 }))
    assert.matches("'sex' must be one of 1, 2", rule_of(tree.things.list, { block_id = "1", sex = 3 }))
    assert.matches("'block_id' must be a string %(got float%)", rule_of(tree.things.list, { block_id = 1.5 }))
    assert.matches("four or more digits", rule_of(tree.things.list, { block_id = "1", mobile_or_name = "123" }))
    assert.matches("'active' must be a boolean", rule_of(tree.things.list, { block_id = "1", active = 1 }))
    assert.matches("'contact.contact_name' is required", rule_of(tree.things.update, { thing_id = "1", role_ids = "a", contact = {} }))
    assert.matches("'contact.emial' is not a parameter.*did you mean 'email'",
      rule_of(tree.things.update, { thing_id = "1", role_ids = "a", contact = { contact_name = "x", emial = "" } }))
    assert.matches("'contact.email' must be at most 5 characters", rule_of(tree.things.update,
      { thing_id = "1", role_ids = "a", contact = { contact_name = "x", email = "abcdef" } }))
    assert.matches("'sort_fields%[1%]' must be one of userId", rule_of(tree.things.update,
      { thing_id = "1", role_ids = "a", sort_fields = "name" }))
    assert.matches("'user_id' must be a UUID", rule_of(tree.things.update, { thing_id = "1", role_ids = "a", user_id = "nope" }))
    assert.matches("given twice", rule_of(tree.things.update, { thing_id = "1", role_ids = "a",
      sort_fields = { "userId" }, sortFields = { "userId" } }))
    assert.matches("arguments must be a table", rule_of(tree.things.list, "block_id=1"))
    assert.equal(0, #a.calls)
  end)

  it("pages lazily and stops at the total", function()
    local served = 0
    local pa = adapter(function(req)
      local page
      for _, kv in ipairs(req.query) do if kv[1] == "page_no" then page = tonumber(kv[2]) end end
      served = served + 1
      local data = {}
      for i = 1, (page < 3 and 2 or 1) do data[i] = { id = page * 10 + i } end
      return { total_count = 5, data = data }
    end)
    local t = api.build(decls, pa)
    local ids = {}
    local it = t.things.list:each{ block_id = "b", page_size = 2 }
    ids[1] = it().id
    assert.equal(1, served) -- only the first page so far
    for item in it do ids[#ids + 1] = item.id end
    assert.same({ 11, 12, 21, 22, 31 }, ids)
    assert.equal(3, served)
    local all = t.things.list:all{ block_id = "b", page_size = 2 }
    assert.equal(5, #all)
  end)

  it("raises a dwell.error from :each and returns it from :all", function()
    local ea = adapter(function() return nil, errors.new{ kind = "api", message = "boom" } end)
    local t = api.build(decls, ea)
    local ok, err = pcall(function() for _ in t.things.list:each{ block_id = "b" } do end end)
    assert.is_false(ok)
    assert.equal("api", err.kind)
    local res, err2 = t.things.list:all{ block_id = "b" }
    assert.is_nil(res)
    assert.equal("boom", err2.message)
  end)

  it("describes groups and endpoints", function()
    assert.matches("things is a group of endpoints.*%.list, %.update", select(2, pcall(tree.things, {})))
    assert.equal("dwell endpoint test things.list (GET /a/{accountId}/things)", tostring(tree.things.list))
    assert.equal("GET", tree.things.list.spec.method)
    -- a PUT is not repeatable unless its declaration says the vendor documents it so
    assert.is_false(tree.things.update.spec.idempotent)
    assert.is_true(tree.things.list.spec.idempotent)
    assert.equal(2, #api.list(tree))
  end)
end)

describe("endpoint trees of the clients", function()
  local dwell = require "dwell"
  local tuya = assert(dwell.tuya{ client_id = "cid", secret = "secret-0123", base_url = "http://127.0.0.1:9" })

  local function raised(fn)
    local ok, err = pcall(fn)
    assert.is_false(ok)
    assert.is_true(errors.is(err), tostring(err))
    return err
  end

  it("answer a misspelt endpoint or group with a did-you-mean, before any I/O", function()
    local err = raised(function() return tuya.community.room_userz{ block_id = "1" } end)
    assert.equal("invalid_argument", err.kind)
    assert.equal("tuya", err.vendor)
    assert.matches("'community.room_userz' %(did you mean 'community.room_users'%?%)", err.message)
    err = raised(function() return tuya.comunity end)
    assert.matches("did you mean 'community'", err.message)
    err = raised(function() return tuya.nothing_like_it end)
    assert.is_nil(err.message:find("did you mean", 1, true))
  end)

  it("say how to call an endpoint method written with a dot", function()
    local err = raised(function() return tuya.community.room_users.each{ block_id = "1" } end)
    assert.matches("ep:each{...} %(a colon%)", err.message)
    err = raised(function() return tuya.community.room_users.all{ block_id = "1" } end)
    assert.matches("ep:all", err.message)
  end)
end)
