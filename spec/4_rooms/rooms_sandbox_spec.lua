-- The Rooms sandbox driven the way an independent client would drive DocuSign:
-- raw HTTP through dwell.core.http (no dwell.rooms code), a JWT assembled by hand,
-- hand-written URLs and bodies. Checks the documented status codes and response
-- shapes (docs/vendors/rooms.md §2, §4, §5, §7, §8, §9; the vendor swagger's models).
local core = require "dwell.core"
local json = core.json
local S = require("support.rooms")

local function b64url(s) return core.base64url_encode(s) end

-- A JWT built from the documented recipe, independently of dwell.rooms.jwt.
local function assertion(aud, overrides)
  local now = os.time()
  local claims = { iss = S.IK, sub = S.USER, aud = aud, iat = now - 30, exp = now - 30 + 3600,
    scope = "signature impersonation dtr.rooms.read dtr.rooms.write" }
  for k, v in pairs(overrides or {}) do
    if v == false then claims[k] = nil else claims[k] = v end
  end
  local input = b64url('{"alg":"RS256","typ":"JWT"}') .. "." .. b64url(json.encode(claims))
  return input .. "." .. b64url(assert(core.rs256_sign(S.keys().private, input)))
end

local function is_int(v) return math.type(v) == "integer" end

describe("rooms sandbox, as an independent client sees it", function()
  local sb, session, host, base, token

  local function call(method, path, body, headers)
    local h = { Accept = "application/json", Authorization = token and ("Bearer " .. token) or nil }
    for k, v in pairs(headers or {}) do h[k] = v end
    if body ~= nil then h["Content-Type"] = "application/json" end
    local resp = assert(session:request{ method = method, url = base .. path, headers = h,
      body = body ~= nil and json.encode(body) or (method == "POST" and "" or nil) })
    local decoded = resp.body ~= "" and json.decode(resp.body) or nil
    return resp, decoded
  end

  local function grant(form)
    local resp = assert(session:request{ method = "POST", url = sb.url .. "/oauth/token", body = form,
      headers = { ["Content-Type"] = "application/x-www-form-urlencoded", Accept = "application/json" } })
    return resp, json.decode(resp.body)
  end

  before_each(function()
    sb = S.start{ auth_code = "code-123" }
    session = core.http.new_session()
    host = sb.url:gsub("^http://", "")
    base = sb.url .. "/restapi/v2/accounts/" .. S.ACCOUNT
    local resp, body = grant("grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=" .. assertion(host))
    assert.equal(200, resp.status)
    token = body.access_token
  end)
  after_each(function() sb:close() end)

  it("answers the JWT grant with access_token, token_type Bearer, expires_in and no refresh_token", function()
    local resp, body = grant("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
      .. assertion("account-d.docusign.com"))
    assert.equal(200, resp.status)
    assert.matches("application/json", resp.headers["content-type"], 1, true)
    assert.is_string(body.access_token)
    assert.equal("Bearer", body.token_type)
    assert.is_true(is_int(body.expires_in) and body.expires_in > 0)
    assert.is_nil(body.refresh_token)
    -- Documented refusals: 400 with OAuth error / error_description.
    local cases = {
      { { iss = "99999999-0000-4000-8000-000000000000" }, "invalid_grant", "issuer_not_found" },
      { { sub = "00000000-0000-4000-8000-000000000000" }, "user_not_found" },
      { { aud = "https://" .. host }, "invalid_grant" },
      { { exp = false }, "invalid_grant" },
    }
    for _, c in ipairs(cases) do
      local r, b = grant("grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion="
        .. assertion(host, c[1]))
      assert.equal(400, r.status)
      assert.equal(c[2], b.error)
      if c[3] then assert.equal(c[3], b.error_description) end
    end
    sb:control("rooms", "require_consent", { on = true })
    local r, b = grant("grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=" .. assertion(host))
    assert.equal(400, r.status)
    assert.equal("consent_required", b.error)
  end)

  it("exchanges an authorization code and refreshes with Basic client authentication", function()
    local basic = "Basic " .. core.base64_encode(S.IK .. ":" .. S.SECRET)
    local resp = assert(session:request{ method = "POST", url = sb.url .. "/oauth/token",
      headers = { ["Content-Type"] = "application/x-www-form-urlencoded", Authorization = basic },
      body = "grant_type=authorization_code&code=code-123&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb" })
    assert.equal(200, resp.status)
    local body = json.decode(resp.body)
    assert.equal("Bearer", body.token_type)
    assert.is_string(body.refresh_token)
    resp = assert(session:request{ method = "POST", url = sb.url .. "/oauth/token",
      headers = { ["Content-Type"] = "application/x-www-form-urlencoded", Authorization = basic },
      body = "grant_type=refresh_token&refresh_token=" .. body.refresh_token })
    assert.equal(200, resp.status)
    assert.is_string(json.decode(resp.body).access_token)
  end)

  it("serves userinfo with the documented account fields", function()
    local resp = assert(session:request{ url = sb.url .. "/oauth/userinfo",
      headers = { Authorization = "Bearer " .. token, Accept = "application/json" } })
    assert.equal(200, resp.status)
    local info = json.decode(resp.body)
    for _, k in ipairs({ "sub", "name", "given_name", "family_name", "created", "email" }) do
      assert.is_string(info[k], k)
    end
    local a = info.accounts[1]
    assert.equal(S.ACCOUNT, a.account_id)
    assert.is_boolean(a.is_default)
    assert.is_string(a.account_name)
    assert.is_string(a.base_uri)
    assert.is_string(a.organization.organization_id)
  end)

  it("pages GetRoomUsers with the RoomUsersResult fields", function()
    local resp, page = call("GET", "/rooms/1001/users?count=100&startPosition=0")
    assert.equal(200, resp.status)
    assert.matches("application/json", resp.headers["content-type"], 1, true)
    assert.equal(100, #page.users)
    assert.equal(100, page.resultSetSize)
    assert.equal(0, page.startPosition)
    assert.equal(99, page.endPosition)
    assert.equal(260, page.totalRowCount)
    assert.is_string(page.nextUri)
    assert.equal(json.null, page.priorUri)
    local u = page.users[1]
    assert.is_true(is_int(u.userId) and is_int(u.roleId))
    for _, k in ipairs({ "email", "firstName", "lastName", "companyName", "roleName" }) do
      assert.is_string(u[k], k)
    end
    assert.truthy(({ buy = 1, sell = 1, listbuy = 1, refi = 1 })[u.transactionSideId])
    local _, last = call("GET", "/rooms/1001/users?startPosition=200&count=100")
    assert.equal(60, last.resultSetSize)
    assert.equal(259, last.endPosition)
    assert.equal(json.null, last.nextUri)
    assert.is_string(last.priorUri)
    -- Default sort is last name descending; both documented casings are accepted.
    local _, d = call("GET", "/rooms/1004/users")
    for i = 2, #d.users do assert.truthy(d.users[i - 1].lastName:lower() >= d.users[i].lastName:lower()) end
    for _, sort in ipairs({ "firstNameAsc", "FirstNameAsc" }) do
      local _, a = call("GET", "/rooms/1004/users?sort=" .. sort)
      for i = 2, #a.users do assert.truthy(a.users[i - 1].firstName:lower() <= a.users[i].firstName:lower()) end
    end
    -- count outside 1..100 is a 400 ApiError.
    local r, err = call("GET", "/rooms/1001/users?count=101")
    assert.equal(400, r.status)
    assert.is_string(err.errorCode)
    assert.is_string(err.message)
  end)

  it("answers an unknown room's GetRoomUsers with a bodiless 404", function()
    local resp = call("GET", "/rooms/424242/users")
    assert.equal(404, resp.status)
    assert.equal("", resp.body)
  end)

  it("invites, updates, revokes and restores with the documented codes and shapes", function()
    local resp, inv = call("POST", "/rooms/1002/users", { email = "a+b@example.com", firstName = "Ann",
      lastName = "Van Der Berg", roleId = 4, transactionSideId = "buy" })
    assert.truthy(resp.status == 200 or resp.status == 201)
    for _, k in ipairs({ "userId", "roomId", "roleId" }) do assert.is_true(is_int(inv[k]), k) end
    assert.equal("a+b@example.com", inv.email)
    -- Filter values with @, + and spaces arrive intact when URL-encoded.
    local _, found = call("GET", "/rooms/1002/users?filter=a%2Bb%40ex")
    assert.equal(1, found.resultSetSize)
    _, found = call("GET", "/rooms/1002/users?filter=Van%20Der")
    assert.equal(1, found.resultSetSize)
    local upd
    resp, upd = call("PUT", "/rooms/1002/users/" .. inv.userId, { roleId = 5, transactionSideId = "sell" })
    assert.equal(200, resp.status)
    assert.equal(5, upd.roleId)
    assert.is_false(upd.isRevoked)
    assert.is_true(is_int(upd.invitedByUserId))
    resp = call("POST", "/rooms/1002/users/" .. inv.userId .. "/revoke_access", {})
    assert.equal(204, resp.status)
    assert.equal("", resp.body)
    _, upd = call("PUT", "/rooms/1002/users/" .. inv.userId, {})
    assert.is_true(upd.isRevoked)
    resp = call("POST", "/rooms/1002/users/" .. inv.userId .. "/restore_access")
    assert.equal(204, resp.status)
    resp = call("POST", "/rooms/1002/users/" .. inv.userId .. "/revoke_access",
      { revocationDate = "2999-12-31T07:54Z" })
    assert.equal(204, resp.status)
    -- There is no DELETE for a room user.
    resp = call("DELETE", "/rooms/1002/users/" .. inv.userId)
    assert.is_true(resp.status == 404 or resp.status == 405)
  end)

  it("creates, reads, lists and deletes rooms", function()
    local resp, room = call("POST", "/rooms", { name = "Raw Listing", roleId = 1, transactionSideId = "sell" })
    assert.equal(201, resp.status)
    assert.is_true(is_int(room.roomId))
    assert.equal("Raw Listing", room.name)
    local got
    resp, got = call("GET", "/rooms/" .. room.roomId .. "?includeFieldData=True")
    assert.equal(200, resp.status)
    assert.is_table(got.fieldData)
    local _, list = call("GET", "/rooms?roomStatus=closed,open&count=2")
    assert.equal(2, list.resultSetSize)
    assert.is_true(is_int(list.totalRowCount))
    assert.is_true(is_int(list.rooms[1].roomId))
    resp = call("DELETE", "/rooms/" .. room.roomId)
    assert.equal(204, resp.status)
    local _, roles = call("GET", "/rooms/1001/assignable_roles?assigneeEmail=x%40example.com&count=10")
    assert.is_table(roles.roles)
    assert.is_true(is_int(roles.currentRoleId))
  end)

  it("manages company users with the documented codes", function()
    local resp, list = call("GET", "/users?sort=LastNameAsc&status=Active&accessLevel=Company&count=5")
    assert.equal(200, resp.status)
    assert.is_table(list.userSummaries)
    for _, u in ipairs(list.userSummaries) do
      assert.equal("Active", u.status)
      assert.equal("Company", u.accessLevel)
      assert.is_boolean(u.isLockedOut)
    end
    local user
    resp, user = call("POST", "/users/invite_user", { firstName = "Ola", lastName = "N", email = "ola@example.com",
      roleId = 1, accessLevel = "Region", defaultOfficeId = 10, regions = { 2 }, eSignPermissionProfileId = "7" })
    assert.equal(201, resp.status)
    assert.is_table(user.offices)
    assert.is_table(user.regions)
    local id = user.userId
    local expect = {
      { "POST", "/users/" .. id .. "/reinvite", nil, 204 },
      { "POST", "/users/" .. id .. "/lock", { reason = "left" }, 204 },
      { "POST", "/users/" .. id .. "/unlock", nil, 204 },
      { "POST", "/users/" .. id .. "/add_to_office", { officeId = 12 }, 204 },
      { "POST", "/users/" .. id .. "/remove_from_office", { officeId = 12 }, 204 },
      { "POST", "/users/" .. id .. "/add_to_region", { regionId = 3 }, 204 },
      { "POST", "/users/" .. id .. "/remove_from_region", { regionId = 3 }, 204 },
      { "PUT", "/users/" .. id, { defaultOfficeId = 11 }, 200 },
      { "GET", "/users/" .. id, nil, 200 },
      { "DELETE", "/users/" .. id, nil, 204 },
    }
    for _, e in ipairs(expect) do
      local r = call(e[1], e[2], e[3])
      assert.equal(e[4], r.status, e[1] .. " " .. e[2])
      if e[4] == 204 then assert.equal("", r.body) end
    end
    local _, roles = call("GET", "/roles?filterContext=AssignableRolesBasedOnAllPermissions&count=100")
    assert.is_table(roles.roles)
    local _, acct = call("GET", "")
    assert.equal(S.ACCOUNT, acct.docuSignAccountGuid)
    assert.truthy(acct.companyVersion == "v5" or acct.companyVersion == "v6")
    local sides = json.decode(assert(session:request{ url = sb.url .. "/restapi/v2/transaction_sides",
      headers = { Accept = "application/json", Authorization = "Bearer " .. token } }).body)
    assert.equal(4, #sides.transactionSides)
  end)

  it("refuses a missing or expired bearer token with 401 and an ApiError", function()
    local saved = token
    token = nil
    local resp, err = call("GET", "/rooms")
    assert.equal(401, resp.status)
    assert.is_string(err.errorCode)
    token = saved
    sb:control("rooms", "expire_tokens")
    resp = call("GET", "/rooms")
    assert.equal(401, resp.status)
  end)

  it("accepts its documented developer token, which a dwell.rooms client can use as access_token", function()
    local creds = sb:control("rooms", "credentials")
    token = creds.access_token
    assert.is_string(token)
    local resp, body = call("GET", "/rooms")
    assert.equal(200, resp.status)
    assert.is_true(#body.rooms > 0)
    sb:control("rooms", "expire_tokens") -- minted tokens go; the developer token stays
    assert.equal(200, call("GET", "/rooms").status)
    local rooms = assert(require("dwell").rooms{ account_id = creds.account_id, base_url = sb.url .. "/restapi",
      access_token = creds.access_token })
    local n = 0
    for _ in rooms.rooms.users.list:each{ room_id = creds.big_room_id } do n = n + 1 end
    assert.is_true(n >= 250)
  end)

  it("sends the five rate-limit headers and the documented hourly-limit error", function()
    local resp = call("GET", "/rooms/1002")
    local h = resp.headers
    assert.equal("3000", h["x-ratelimit-limit"])
    assert.equal("2999", h["x-ratelimit-remaining"])
    assert.truthy(tonumber(h["x-ratelimit-reset"]) > os.time())
    assert.equal("200", h["x-burstlimit-limit"])
    assert.equal("199", h["x-burstlimit-remaining"])
    sb:control("rooms", "limits", { used = 3000 })
    local r, err = call("GET", "/rooms/1002")
    assert.equal(400, r.status)
    assert.equal("HOURLY_APIINVOCATION_LIMIT_EXCEEDED", err.errorCode)
    assert.equal("The maximum number of hourly API invocations has been exceeded. The hourly limit is 3000.",
      err.message)
  end)
end)
