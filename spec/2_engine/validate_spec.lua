-- dwell.validate on its own: the checks every endpoint's arguments go through before any I/O.
local validate = require "dwell.validate"

local function params(list)
  local out = {}
  for i, p in ipairs(list) do out[i] = validate.normalize_param(p) end
  return out
end

local P = params{
  { "block_id", "query", "string", required = true },
  { "page_no", "query", "integer", min = 1 },
  { "room_id", "path", "integer", wire = "roomId" },
  { "sex", "body", "integer", enum = { 1, 2 } },
  { "name", "body", "string", min_length = 2, max_length = 4 },
  { "mobile", "body", "string", pattern = "^%d+$", pattern_rule = "must be digits only" },
  { "active", "body", "boolean" },
  { "big", "query", "long" },
  { "id", "query", "uuid" },
  { "tags", "body", "array", items = { type = "string", enum = { "a", "b" } }, max_items = 2 },
  { "contact", "body", "object", fields = { { "email", "body", "string", required = true } } },
}

local function rule(args)
  local values, why, param = validate.check(P, args)
  assert.is_nil(values)
  return why, param
end

describe("dwell.validate", function()
  it("returns values by declared name, accepting the vendor's spelling", function()
    local v = assert(validate.check(P, { block_id = "b", roomId = 7, page_no = 2 }))
    assert.equal(7, v.room_id)
    assert.equal(2, v.page_no)
  end)

  it("accepts integers given exactly: integral floats and strings of digits", function()
    local v = assert(validate.check(P, { block_id = "b", page_no = 3.0, room_id = "42", big = "1367673991539501234" }))
    assert.equal(3, v.page_no)
    assert.equal(42, v.room_id)
    assert.equal(1367673991539501234, v.big)
    assert.equal(math.type(v.room_id), "integer")
  end)

  it("names the parameter and the rule it breaks", function()
    assert.same({ "is required", "block_id" }, { rule{} })
    assert.same({ "must be an integer (got float)", "page_no" }, { rule{ block_id = "b", page_no = 1.5 } })
    assert.same({ "must be an integer (got string)", "page_no" }, { rule{ block_id = "b", page_no = "2nd" } })
    assert.matches("must be at least 1", (rule{ block_id = "b", page_no = 0 }))
    assert.matches("must be one of 1, 2", (rule{ block_id = "b", sex = 3 }))
    assert.matches("at least 2 characters", (rule{ block_id = "b", name = "x" }))
    assert.matches("at most 4 characters", (rule{ block_id = "b", name = "xxxxx" }))
    assert.equal("must be digits only", (rule{ block_id = "b", mobile = "12a" }))
    assert.matches("must be a boolean", (rule{ block_id = "b", active = 1 }))
    assert.matches("must fit in 32 bits", (rule{ block_id = "b", page_no = 2 ^ 40 // 1 }))
    assert.matches("UUID", (rule{ block_id = "b", id = "not-a-uuid" }))
    assert.matches("at most 2 items", (rule{ block_id = "b", tags = { "a", "b", "a" } }))
    local why, param = rule{ block_id = "b", contact = {} }
    assert.equal("is required", why)
    assert.equal("contact.email", param)
  end)

  it("refuses unknown parameters with a did-you-mean", function()
    local why, param = rule{ block_id = "b", page_n = 1 }
    assert.equal("page_n", param)
    assert.matches("did you mean 'page_no'", why)
  end)

  it("normalises UUIDs, with or without hyphens, to lower-case hyphenated form", function()
    assert.equal("0a1b2c3d-0000-4000-8000-00000000d0c5", validate.normalize_uuid("0A1B2C3D00004000800000000000D0C5"))
  end)

  it("finds string options carrying CR, LF or NUL, nested ones included, except multi-line ones", function()
    assert.equal("lang", validate.control_option{ client_id = "c", lang = "en\r\n" })
    assert.equal("jwt.user_id", validate.control_option{ jwt = { user_id = "u\0" } })
    assert.is_nil(validate.control_option({ jwt = { private_key = "-----BEGIN\nx\n" } }, { ["jwt.private_key"] = true }))
  end)

  it("refuses unknown client options, suggesting the right one", function()
    local k, why = validate.unknown_option({ client_idd = 1 }, "Tuya", { "client_id", "secret" })
    assert.equal("client_idd", k)
    assert.matches("did you mean 'client_id'", why)
  end)

  it("suggests only names that are close", function()
    assert.equal("room_users", validate.did_you_mean("room_userz", { "members", "room_users" }))
    assert.is_nil(validate.did_you_mean("xyz", { "members", "room_users" }))
  end)
end)
