-- Error mapping over real HTTP: ApiError bodies, the bodiless 404, non-JSON
-- success bodies and transport failures all become dwell.errors.
local sandbox = require "dwell.sandbox"
local S = require("support.rooms")

describe("rooms errors", function()
  local sb, rooms
  before_each(function()
    sb = S.start()
    rooms = S.client(sb)
  end)
  after_each(function() sb:close() end)

  it("maps GetRoomUsers' bodiless 404 to not_found", function()
    local v, err = rooms.rooms.users.list{ room_id = 999999 }
    assert.is_nil(v)
    assert.equal("not_found", err.kind)
    assert.equal(404, err.status)
    assert.equal("rooms", err.vendor)
    assert.equal("rooms.users.list", err.endpoint)
    assert.equal("Not Found", err.message)
    assert.is_false(err.retryable)
  end)

  it("maps ApiError bodies: errorCode, message, referenceId", function()
    local v = rooms.rooms.users.invite{ room_id = 1002, email = "dup@example.com", first_name = "D",
      last_name = "Up", role_id = 4 }
    assert.truthy(v)
    local err
    v, err = rooms.rooms.users.invite{ room_id = 1002, email = "dup@example.com", first_name = "D",
      last_name = "Up", role_id = 4 }
    assert.is_nil(v)
    -- The server refused the content: `rejected` (invalid_argument is the local check alone).
    assert.equal("rejected", err.kind)
    assert.equal(400, err.status)
    assert.equal("ROOM_USER_ALREADY_EXISTS", err.code)
    assert.equal("A user with this email is already in the room.", err.message)
    assert.equal("sbx-room_user_already_exists", err.request_id)
    local line = tostring(err)
    assert.truthy(line:find("ROOM_USER_ALREADY_EXISTS", 1, true))
    -- Response headers and the rate-limit figures stay on the error for support.
    assert.equal(2998, err.rate_limit.remaining)
    assert.equal(3000, err.rate_limit.limit)
    assert.is_table(err.headers)
    v, err = rooms.users.get{ user_id = 424242 }
    assert.is_nil(v)
    assert.equal("not_found", err.kind)
    assert.equal("USER_NOT_FOUND", err.code)
  end)

  it("always asks for JSON", function()
    assert.truthy(rooms.rooms.list())
    for _, r in ipairs(S.requests(sb, "/restapi/")) do assert.equal("application/json", r.headers.accept) end
    assert.equal(0, sb:control("rooms", "stats").missing_accept)
  end)

  it("reports a non-JSON success body as decode and a 5xx page as http", function()
    sb:close()
    sb = assert(sandbox.start{ routes = { { set = "rooms", config = { account_id = S.ACCOUNT,
      integration_key = S.IK, user_id = S.USER, public_key = S.keys().public } } },
      faults = { { match = "GET /restapi/v2/accounts/" .. S.ACCOUNT .. "/roles", kind = "non_json", status = 200,
        every = 1 },
        { match = "GET /restapi/v2/accounts/" .. S.ACCOUNT .. "/rooms", kind = "non_json", status = 500,
          every = 1 } } })
    rooms = S.client(sb)
    local v, err = rooms.roles.list()
    assert.is_nil(v)
    assert.equal("decode", err.kind)
    v, err = rooms.rooms.list()
    assert.is_nil(v)
    assert.equal("http", err.kind)
    assert.equal(500, err.status)
    assert.is_true(err.retryable)
  end)

  it("reports an unreachable host as a transport error", function()
    local port = sb.port
    sb:close()
    sb = S.start()
    local dead = S.client({ url = "http://127.0.0.1:" .. port }, { access_token = "t", jwt = false })
    local v, err = dead.account.get()
    assert.is_nil(v)
    assert.equal("transport", err.kind)
  end)
end)
