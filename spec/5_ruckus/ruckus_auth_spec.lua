-- dwell.ruckus unit login over real HTTP: hashed secret → token, raw Authorization header,
-- re-login before expiry and once on a 401, single-flight, and secrets kept out of sight.
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"

describe("dwell.ruckus login", function()
  local sb, creds

  setup(function()
    sb = assert(sandbox.start{ routes = { { set = "ruckus", config = { users = 10, token_ttl = 600 } } } })
  end)
  teardown(function() sb:stop() end)
  before_each(function()
    sb:control("ruckus", "reset")
    sb:reset()
    creds = sb:control("ruckus", "credentials")
  end)

  local function requests_to(suffix)
    local out = {}
    for _, r in ipairs(sb:requests()) do
      if r.path:sub(-#suffix) == suffix then out[#out + 1] = r end
    end
    return out
  end

  local function client(extra)
    local opts = { property_id = creds.property_id, hashed_secret = creds.hashed_secret, base_url = sb.url }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return assert(dwell.ruckus(opts))
  end

  it("logs in with the hashed secret and sends the raw token as Authorization", function()
    local portal = client()
    assert(portal.units.get())
    local logins = requests_to("/units/logins")
    assert.equal(1, #logins)
    assert.equal("POST", logins[1].method)
    assert.is_nil(logins[1].headers.authorization)
    assert.matches("^application/json", logins[1].headers["content-type"])
    assert.same({ hashedSecret = creds.hashed_secret }, require("dwell.json").decode(logins[1].body))
    local get = requests_to("/units")[1]
    assert.is_string(get.headers.authorization)
    assert.not_matches("^Bearer", get.headers.authorization)
    -- One login serves later calls.
    assert(portal.property.get())
    assert.equal(1, #requests_to("/units/logins"))
  end)

  it("accepts the property id without hyphens and sends it hyphenated", function()
    local portal = client{ property_id = creds.property_id:gsub("-", ""):upper() }
    assert.equal(creds.property_id, portal.property_id)
    assert(portal.units.get())
    assert.equal("/residents/properties/" .. creds.property_id .. "/units", requests_to("/units")[1].path)
  end)

  it("works with a ready token", function()
    local token_client = client()
    local login = assert(token_client.units.logins.create{})
    assert.is_string(login.token)
    assert.is_string(login.expireDateTime)
    local portal = assert(dwell.ruckus{ property_id = creds.property_id, token = login.token, base_url = sb.url })
    assert(portal.units.get())
    assert.equal(login.token, requests_to("/units")[1].headers.authorization)
  end)

  it("fails with kind auth on a wrong secret, without echoing it", function()
    local portal = client{ hashed_secret = "not-the-secret-xyz" }
    local _, err = portal.units.get()
    assert.equal("auth", err.kind)
    assert.equal(401, err.status)
    assert.equal("401 UNAUTHORIZED", err.code)
    assert.not_matches("not%-the%-secret%-xyz", tostring(err))
    assert.not_matches("not%-the%-secret%-xyz", tostring(portal))
  end)

  it("logs in again once after a 401 (tokens expired server-side)", function()
    local portal = client()
    assert(portal.units.get())
    sb:control("ruckus", "expire_tokens")
    assert(portal.units.get())
    assert.equal(2, #requests_to("/units/logins"))
    -- The retried call carried the new token.
    local gets = requests_to("/units")
    assert.not_equal(gets[1].headers.authorization, gets[#gets].headers.authorization)
  end)

  it("logs in again before the token's expireDateTime passes", function()
    -- A virtual clock starting at 0: the token's lifetime, not its wall-clock date, is what counts.
    local clock = require("dwell.transport").virtual_clock(0)
    local portal = client{ clock = clock }
    assert(portal.units.get())
    clock.advance(400) -- still well within the lifetime: the same token
    assert(portal.units.get())
    assert.equal(1, #requests_to("/units/logins"))
    clock.advance(150) -- within 60 s of the 600 s lifetime: renew first
    assert(portal.units.get())
    assert.equal(2, #requests_to("/units/logins"))
    -- No 401 was needed for it.
    assert.equal(0, sb:control("ruckus", "stats").unauthorized)
  end)

  it("logs in once for many concurrent calls (single-flight)", function()
    local portal = client()
    local calls = {}
    for i = 1, 12 do calls[i] = { portal.units.users.query, { page_size = 1 } } end
    local results, errs = dwell.parallel(calls, { concurrency = 6 })
    for i = 1, 12 do assert.is_nil(errs[i]); assert.is_table(results[i]) end
    assert.equal(1, #requests_to("/units/logins"))
  end)

  it("gives kind auth after a 401 when only a token was given", function()
    local login = assert(client().units.logins.create{})
    local portal = assert(dwell.ruckus{ property_id = creds.property_id, token = login.token, base_url = sb.url })
    sb:control("ruckus", "expire_tokens")
    local _, err = portal.units.get()
    assert.equal("auth", err.kind)
    assert.not_matches(login.token, tostring(err), 1, true)
  end)

  it("can send a Bearer prefix, which the emulated server refuses like the real one is assumed to", function()
    local portal = client{ auth_scheme = "bearer" }
    local _, err = portal.units.get()
    assert.equal("auth", err.kind)
    assert.matches("^Bearer ", requests_to("/units")[1].headers.authorization)
  end)

  it("keeps secrets out of tostring and prepare", function()
    local portal = client()
    assert(portal.units.get())
    local s = tostring(portal)
    assert.not_matches(creds.hashed_secret, s, 1, true)
    local req = assert(portal.units.get:prepare())
    assert.equal("<token>", req.headers.Authorization)
  end)

  it("reads expireDateTime with any offset, fractions, or as an epoch number", function()
    local parse = require("dwell.ruckus.login").parse_datetime
    assert.equal(1714550400, parse("2024-05-01T08:00:00Z"))
    assert.equal(1714550400, parse("2024-05-01T10:00:00+02:00"))
    assert.equal(1714550400, parse("2024-05-01T03:30:00-0430"))
    assert.equal(1714550400.25, parse("2024-05-01T08:00:00.250+00:00"))
    assert.equal(1714550400, parse("2024-05-01T08:00:00"))
    assert.equal(1714550400, parse(1714550400000))
    assert.is_nil(parse("tomorrow"))
  end)

  it("validates construction options", function()
    local _, err = dwell.ruckus{ property_id = "not-a-uuid", token = "x" }
    assert.equal("invalid_argument", err.kind)
    _, err = dwell.ruckus{ property_id = creds.property_id }
    assert.equal("invalid_argument", err.kind)
    _, err = dwell.ruckus{ property_id = creds.property_id, token = "x", auth_scheme = "basic" }
    assert.equal("invalid_argument", err.kind)
    local eu = assert(dwell.ruckus{ property_id = creds.property_id, token = "x", base_url = "eu" })
    assert.equal("https://residence.eu.ruckus.cloud", eu.base_url)
    local na = assert(dwell.ruckus{ property_id = creds.property_id, token = "x" })
    assert.equal("https://residence.ruckus.cloud", na.base_url)
  end)
end)
