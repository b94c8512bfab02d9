-- The "ruckus" sandbox as an independent client sees it: raw HTTP (dwell.core.http directly,
-- nothing of dwell.ruckus) written from the vendor YAML and the vendor's Postman collection.
-- Every one of the 16 operations is called; each answer's status must be one the YAML
-- documents for that operation, its Content-Type one of the documented media types, and its
-- body must validate against the documented schema (no undocumented fields either), or be
-- empty where the YAML documents no content.
local json = require "dwell.json"
local http = require("dwell.core").http
local sandbox = require "dwell.sandbox"
local openapi = dofile("spec/support/openapi.lua")

describe("ruckus sandbox against the vendor OpenAPI description (raw HTTP)", function()
  local sb, doc, session, creds, base

  setup(function()
    doc = openapi.load()
    sb = assert(sandbox.start{ routes = { { set = "ruckus", config = { users = 25 } } } })
    session = assert(http.new_session())
  end)
  teardown(function() sb:stop() end)
  before_each(function()
    sb:reset()
    creds = sb:control("ruckus", "credentials")
    base = sb.url .. "/residents/properties/" .. creds.property_id
  end)

  local function request(method, path, headers, body)
    return assert(session:request{ method = method, url = base .. path, headers = headers or {}, body = body })
  end

  local function media_type(resp)
    return ((resp.headers["content-type"] or ""):match("^([^;%s]+)") or ""):lower()
  end

  -- The answer is what the YAML documents for `id` at `status`; returns the decoded body.
  local function expect(id, resp, status)
    local o = openapi.operation(doc, id)
    assert.equal(status, resp.status, id .. ": " .. tostring(resp.body))
    local documented = o.op.responses[tostring(status)]
    assert.is_table(documented, id .. " does not document " .. status)
    if not documented.content then
      assert.equal("", resp.body, id .. " " .. status .. " is documented without a body")
      return nil
    end
    local mt = media_type(resp)
    local content = documented.content[mt] or documented.content["*/*"]
    assert.is_table(content, id .. " " .. status .. ": undocumented media type " .. mt)
    if mt == "text/css" then
      assert.truthy(resp.body:find("{", 1, true))
      return resp.body
    elseif mt == "image/png" then
      assert.equal("\137PNG\r\n\26\n", resp.body:sub(1, 8))
      return resp.body
    end
    local value = assert(json.decode(resp.body))
    assert.same({}, openapi.check(doc, content.schema, value), id .. " " .. status)
    return value
  end

  local function error_resource(resp, status_text)
    local v = assert(json.decode(resp.body))
    assert.same({}, openapi.check(doc, { ["$ref"] = "#/components/schemas/ErrorResource" }, v))
    assert.equal(status_text, v.status)
    return v
  end

  local function login()
    -- The collection's raw body, as Postman sends it (indented JSON, application/json, no Accept).
    local resp = request("POST", "/units/logins", { ["Content-Type"] = "application/json" },
      '{\n    "hashedSecret": "' .. creds.hashed_secret .. '"\n}\n')
    return expect("residentLogin", resp, 200).token
  end

  it("logs in (PortalTokenResource as hal+json) and refuses bad logins as documented", function()
    local resp = request("POST", "/units/logins", { ["Content-Type"] = "application/json" },
      json.encode{ hashedSecret = creds.hashed_secret })
    local tok = expect("residentLogin", resp, 200)
    assert.equal("application/hal+json", media_type(resp))
    assert.equal(creds.unit_guid, tok.unitGuid)
    assert.is_string(tok.token)
    local ttl = require("dwell.ruckus.login").parse_datetime(tok.expireDateTime) - os.time()
    assert.is_true(ttl > 3500 and ttl <= 3601)
    resp = request("POST", "/units/logins", { ["Content-Type"] = "application/json" }, '{"hashedSecret":"nope"}')
    error_resource(resp, "401 UNAUTHORIZED")
    expect("residentLogin", resp, 401)
    expect("residentLogin", request("POST", "/units/logins", { ["Content-Type"] = "application/json" }), 400)
    expect("residentLogin", request("POST", "/units/logins", { ["Content-Type"] = "application/json" }, "{}"), 400)
  end)

  it("serves the property, UI configuration, access, styles and files", function()
    local token = login()
    local auth = { Authorization = token }
    local p = expect("residentFetchProperty", request("GET", "", auth), 200)
    assert.equal(creds.property_id, p.guid)
    local other = sb.url .. "/residents/properties/00000000-0000-4000-8000-000000000001"
    local resp = assert(session:request{ method = "GET", url = other, headers = auth })
    error_resource(resp, "404 NOT_FOUND")
    expect("residentFetchProperty", resp, 404)
    expect("residentFetchUiConfiguration", request("GET", "/uiConfigurations", auth), 200)
    expect("getTenantPortalAccess", request("GET", "/access", auth), 200)
    expect("getPropertyStyles", request("GET", "/styles", { Accept = "text/css" }), 200)
    expect("residentDownloadPortalFile", request("GET", "/files/logo", auth), 200)
    expect("downloadFavicons", request("GET", "/files/favicons", auth), 200)
    error_resource(request("GET", "/files/banner", auth), "404 NOT_FOUND")
    expect("residentDownloadPortalFile", request("GET", "/files/banner", auth), 404)
  end)

  it("gets and selectively updates the unit; UnitDto needs its number", function()
    local token = login()
    local auth = { Authorization = token }
    local unit = expect("residentFetchUnit", request("GET", "/units", auth), 200)
    assert.equal(creds.unit_guid, unit.guid)
    assert.is_string(unit._links.self.href)
    local json_auth = { Authorization = token, ["Content-Type"] = "application/json" }
    local updated = expect("residentEditUnit", request("PUT", "/units", json_auth, json.encode{ number = unit.number,
      contact = { contactName = "Ana Silva", email = "ana@example.com", phoneNumber = "+15550002002" },
      guestSecret = "new-guest-pass" }), 200)
    assert.equal("+15550002002", updated.contact.phoneNumber)
    assert.equal("new-guest-pass", updated.guestSecret)
    local resp = request("PUT", "/units", json_auth, json.encode{ description = "no number" })
    assert.same({ "number: must not be blank" }, error_resource(resp, "400 BAD_REQUEST").validationErrors)
    expect("residentEditUnit", resp, 400)
    expect("residentEditUnit", request("PUT", "/units", json_auth, ""), 400)
    expect("residentEditUnit", request("PUT", "/units", json_auth,
      json.encode{ number = unit.number, secret = string.rep("s", 64) }), 400)
    expect("residentEditUnit", request("PUT", "/units", json_auth, json.encode{ number = unit.number, status = "GONE" }), 400)
  end)

  it("lists unit devices by type under `contents` and removes one (200, no body)", function()
    local token = login()
    local auth = { Authorization = token }
    local list = expect("residentFetchUnitDevices", request("GET", "/units/devices?type=UNIT", auth), 200)
    assert.equal(3, #list.contents)
    expect("residentFetchUnitDevices", request("GET", "/units/devices", auth), 400)
    local id = list.contents[1].guid
    expect("residentRemoveDevice", request("DELETE", "/units/devices/" .. id, auth), 200)
    local resp = request("DELETE", "/units/devices/" .. id, auth)
    error_resource(resp, "404 NOT_FOUND")
    expect("residentRemoveDevice", resp, 404)
  end)

  it("answers queryUnitUsers with a complete Spring page in either JSON media type", function()
    local token = login()
    local resp = request("POST", "/units/users/query", { Authorization = token,
      ["Content-Type"] = "application/vnd.ruckus.v1+json", Accept = "application/vnd.ruckus.v1+json" },
      json.encode{ page = 2, pageSize = 10, sortFields = { "userId" }, sortDirection = "ASC" })
    local page = expect("queryUnitUsers", resp, 200)
    assert.equal("application/vnd.ruckus.v1+json", media_type(resp))
    assert.same({ 5, 25, 3, 2, 10, 5 }, { #page.content, page.totalElements, page.totalPages, page.number, page.size,
      page.numberOfElements })
    assert.same({ false, true, false }, { page.first, page.last, page.empty })
    assert.same({ empty = false, sorted = true, unsorted = false }, page.sort)
    assert.same({ offset = 20, pageNumber = 2, pageSize = 10, paged = true, unpaged = false,
      sort = { empty = false, sorted = true, unsorted = false } }, page.pageable)
    for _, u in ipairs(page.content) do assert.is_string(u._links.self.href) end
    -- No body at all: the first page of 20, unsorted, as plain JSON.
    resp = request("POST", "/units/users/query", { Authorization = token })
    page = expect("queryUnitUsers", resp, 200)
    assert.equal("application/json", media_type(resp))
    assert.same({ 0, 20, true, false }, { page.number, page.size, page.first, page.last })
    assert.same({ empty = true, sorted = false, unsorted = true }, page.sort)
    -- Past the end: an empty last page.
    page = expect("queryUnitUsers", request("POST", "/units/users/query",
      { Authorization = token, ["Content-Type"] = "application/json" }, '{"page":9}'), 200)
    assert.same({ 0, true, true }, { #page.content, page.empty, page.last })
    resp = request("POST", "/units/users/query", { Authorization = token, ["Content-Type"] = "application/json" },
      '{"sortFields":["userName"]}')
    error_resource(resp, "400 BAD_REQUEST")
    expect("queryUnitUsers", resp, 400)
  end)

  it("gets, updates and lists the devices of a unit user; documented 404s have no body", function()
    local token = login()
    local auth = { Authorization = token }
    local page = expect("queryUnitUsers", request("POST", "/units/users/query", auth), 200)
    local id = page.content[1].userId
    expect("getUnitUser", request("GET", "/units/users/" .. id, auth), 200)
    local missing = "/units/users/00000000-0000-4000-8000-000000000000"
    expect("getUnitUser", request("GET", missing, auth), 404)
    expect("getUnitUserDevices", request("GET", missing .. "/devices", auth), 404)
    expect("getUnitUser", request("GET", "/units/users/42", auth), 400)
    local ids = expect("updateUnitUser", request("PUT", "/units/users/" .. id,
      { Authorization = token, ["Content-Type"] = "application/vnd.ruckus.v1+json" },
      json.encode{ userId = id, userName = "Renamed", passphrase = "" }), 200)
    assert.is_string(ids.personaUpdateId)
    expect("updateUnitUser", request("PUT", "/units/users/" .. id,
      { Authorization = token, ["Content-Type"] = "application/json" }, json.encode{ email = string.rep("e", 256) }), 400)
    local devices = expect("getUnitUserDevices", request("GET", "/units/users/" .. id .. "/devices", auth), 200)
    expect("removeUnitUserDevice", request("DELETE", "/units/users/" .. id .. "/devices/" .. devices.contents[1].guid,
      auth), 200)
    expect("removeUnitUserDevice", request("DELETE", "/units/users/" .. id .. "/devices/" .. devices.contents[1].guid,
      auth), 404)
  end)

  it("resets the token as the vendor collection does, revoking it", function()
    local token = login()
    local resp = request("PUT", "/units", { Authorization = token, ["Content-Type"] = "application/json" },
      '{"status":"TOKEN_RESET"}')
    expect("residentEditUnit", resp, 200)
    error_resource(request("GET", "/units", { Authorization = token }), "401 UNAUTHORIZED")
  end)

  it("counts the allowance per property", function()
    local slow = assert(sandbox.start{ routes = { { set = "ruckus", config = { rate_limit = { capacity = 3, rate = 0.01 } } } } })
    local function get(pid)
      return assert(session:request{ method = "GET", url = slow.url .. "/residents/properties/" .. pid .. "/access" })
    end
    local a, b = creds.property_id, "00000000-0000-4000-8000-000000000002"
    for _ = 1, 3 do assert.equal(200, get(a).status) end
    local resp = get(a)
    assert.equal(429, resp.status)
    error_resource(resp, "429 TOO_MANY_REQUESTS")
    -- Another property has its own bucket (it is unknown here, hence 404, not 429).
    assert.equal(404, get(b).status)
    slow:stop()
  end)
end)
