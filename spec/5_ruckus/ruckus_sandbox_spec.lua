-- The "ruckus" sandbox route set driven with plain HTTP requests written from the vendor docs
-- (not through dwell.ruckus), as an independent client would: wire formats, content types,
-- statuses and the per-property allowance.
local json = require "dwell.json"
local http = require("dwell.core").http
local sandbox = require "dwell.sandbox"

describe("ruckus sandbox, raw HTTP", function()
  local sb, creds, session, base

  setup(function()
    sb = assert(sandbox.start{ routes = { { set = "ruckus", config = { users = 25, token_ttl = 900 } } } })
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

  local function header(resp, name)
    for k, v in pairs(resp.headers) do if k:lower() == name then return v end end
  end

  local function login()
    local resp = request("POST", "/units/logins", { ["Content-Type"] = "application/json" },
      json.encode{ hashedSecret = creds.hashed_secret })
    assert.equal(200, resp.status)
    return json.decode(resp.body), resp
  end

  it("logs in with the hashed secret: PortalTokenResource as hal+json", function()
    local tok, resp = login()
    assert.matches("^application/hal%+json", header(resp, "content-type"))
    assert.equal(creds.unit_guid, tok.unitGuid)
    assert.is_string(tok.token)
    assert.is_string(tok.serverVersion)
    local parse = require("dwell.ruckus.login").parse_datetime
    local ttl = parse(tok.expireDateTime) - os.time()
    assert.is_true(ttl > 890 and ttl <= 901)
  end)

  it("refuses a wrong secret with a 401 ErrorResource", function()
    local resp = request("POST", "/units/logins", { ["Content-Type"] = "application/json" },
      json.encode{ hashedSecret = "nope" })
    assert.equal(401, resp.status)
    local e = json.decode(resp.body)
    assert.equal("401 UNAUTHORIZED", e.status)
    assert.is_string(e.message)
    assert.is_string(e.timestamp)
  end)

  it("wants the raw token: none, wrong or Bearer-prefixed gives 401", function()
    local tok = login()
    assert.equal(401, request("GET", "/units").status)
    assert.equal(401, request("GET", "/units", { Authorization = "x" .. tok.token }).status)
    assert.equal(401, request("GET", "/units", { Authorization = "Bearer " .. tok.token }).status)
    local resp = request("GET", "/units", { Authorization = tok.token })
    assert.equal(200, resp.status)
    assert.matches("^application/hal%+json", header(resp, "content-type"))
    local unit = json.decode(resp.body)
    assert.equal(creds.unit_guid, unit.guid)
    assert.is_string(unit._links.self.href)
  end)

  it("wants the property id hyphenated", function()
    local tok = login()
    local resp = assert(session:request{ method = "GET", headers = { Authorization = tok.token },
      url = sb.url .. "/residents/properties/" .. creds.property_id:gsub("-", "") .. "/units" })
    assert.equal(400, resp.status)
    assert.equal("400 BAD_REQUEST", json.decode(resp.body).status)
  end)

  it("answers a query with a Spring page, accepting sortFields as one string", function()
    local tok = login()
    local resp = request("POST", "/units/users/query",
      { Authorization = tok.token, ["Content-Type"] = "application/json" },
      '{"sortDirection":"ASC","page":1,"pageSize":10,"sortFields":"userId"}')
    assert.equal(200, resp.status)
    local page = json.decode(resp.body)
    assert.equal(10, #page.content)
    assert.equal(25, page.totalElements)
    assert.equal(3, page.totalPages)
    assert.equal(1, page.number)
    assert.equal(1, page.pageable.pageNumber)
    assert.equal(10, page.pageable.offset)
    assert.is_false(page.first)
    assert.is_false(page.last)
    assert.is_true(page.sort.sorted)
    for i = 2, #page.content do assert.is_true(page.content[i - 1].userId < page.content[i].userId) end
    -- No body at all: the first page of 20.
    resp = request("POST", "/units/users/query", { Authorization = tok.token })
    page = json.decode(resp.body)
    assert.equal(0, page.number)
    assert.equal(20, page.size)
    -- Bad criteria: 400 with validation errors.
    resp = request("POST", "/units/users/query", { Authorization = tok.token, ["Content-Type"] = "application/json" },
      '{"sortDirection":"UP","pageSize":0}')
    assert.equal(400, resp.status)
    assert.equal(2, #json.decode(resp.body).validationErrors)
  end)

  it("updates a user (MultiRequestResponse) and 404s an unknown one without a body", function()
    local tok = login()
    local page = json.decode(request("POST", "/units/users/query", { Authorization = tok.token }).body)
    local id = page.content[3].userId
    local resp = request("PUT", "/units/users/" .. id,
      { Authorization = tok.token, ["Content-Type"] = "application/vnd.ruckus.v1+json" },
      json.encode{ userName = "Renamed", status = "BLOCKED" })
    assert.equal(200, resp.status)
    local ids = json.decode(resp.body)
    assert.is_string(ids.personaUpdateId)
    assert.is_string(ids.dpskUpdateId)
    local user = json.decode(request("GET", "/units/users/" .. id, { Authorization = tok.token }).body)
    assert.equal("Renamed", user.userName)
    assert.equal("BLOCKED", user.status)
    resp = request("GET", "/units/users/00000000-0000-4000-8000-000000000000", { Authorization = tok.token })
    assert.equal(404, resp.status)
    assert.equal("", resp.body)
  end)

  it("serves devices under `contents`, and CSS, PNG and access without a token", function()
    local tok = login()
    local resp = request("GET", "/units/devices?type=GUEST", { Authorization = tok.token })
    assert.equal(2, #json.decode(resp.body).contents)
    assert.equal(400, request("GET", "/units/devices", { Authorization = tok.token }).status)
    resp = request("GET", "/styles")
    assert.equal(200, resp.status)
    assert.matches("^text/css", header(resp, "content-type"))
    resp = request("GET", "/files/favicons")
    assert.matches("^image/png", header(resp, "content-type"))
    assert.equal("\137PNG\r\n\26\n", resp.body:sub(1, 8))
    resp = request("GET", "/access")
    assert.is_true(json.decode(resp.body).portalAllowed)
  end)

  it("answers 429 TOO_MANY_REQUESTS once the property's bucket is empty", function()
    -- The documented 100-call bucket with a slow refill, so that no machine is slow enough
    -- to earn the calls back during the burst.
    local slow = assert(sandbox.start{ routes = { { set = "ruckus", config = { rate_limit = { capacity = 100, rate = 1 } } } } })
    local statuses = {}
    for _ = 1, 110 do
      local resp = assert(session:request{ method = "GET",
        url = slow.url .. "/residents/properties/" .. creds.property_id .. "/access" })
      statuses[resp.status] = (statuses[resp.status] or 0) + 1
      if resp.status == 429 then assert.equal("429 TOO_MANY_REQUESTS", json.decode(resp.body).status) end
    end
    slow:stop()
    assert.is_true(statuses[200] >= 100 and statuses[200] < 110)
    assert.is_true(statuses[429] > 0)
  end)
end)
