-- dwell.ruckus over real HTTP against the sandbox's "ruckus" route set: every operation.
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"

describe("dwell.ruckus operations", function()
  local sb, creds, portal

  setup(function()
    sb = assert(sandbox.start{ routes = { { set = "ruckus", config = { users = 45 } } } })
    creds = sb:control("ruckus", "credentials")
  end)
  teardown(function() sb:stop() end)

  before_each(function()
    sb:control("ruckus", "reset")
    creds = sb:control("ruckus", "credentials")
    portal = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
      base_url = sb.url })
  end)

  local function last_request(path_suffix)
    local reqs = sb:requests()
    for i = #reqs, 1, -1 do
      if reqs[i].path:sub(-#path_suffix) == path_suffix then return reqs[i] end
    end
  end

  it("the reset control gives the ids and tokens of a fresh start (the generator starts over)", function()
    local function first_session()
      local p = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
        base_url = sb.url })
      local users = {}
      for u in p.units.users.query:each{ page_size = 20 } do users[#users + 1] = u end
      return sb:control("ruckus", "credentials"), users
    end
    local fresh_creds, fresh_users = first_session()
    -- move the generator on: logins and a passphrase reset draw from it
    for _ = 1, 3 do assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
      base_url = sb.url }).units.users.query{ page_size = 1 } end
    sb:control("ruckus", "reset")
    local again_creds, again_users = first_session()
    assert.are.same(fresh_creds, again_creds)
    assert.are.same(fresh_users, again_users)
  end)

  it("lists all 16 documented operations plus the explicit token reset", function()
    local names = {}
    for _, ep in ipairs(portal:endpoints()) do names[#names + 1] = ep.spec.name end
    assert.same({ "access.get", "files.favicons.get", "files.get", "property.get", "styles.get",
      "ui_configurations.get", "units.devices.delete", "units.devices.list", "units.get",
      "units.logins.create", "units.reset_token", "units.update", "units.users.devices.delete",
      "units.users.devices.list", "units.users.get", "units.users.query", "units.users.update" }, names)
  end)

  it("reads the property, UI configuration and access details", function()
    local p = assert(portal.property.get())
    assert.equal(creds.property_id, p.guid)
    assert.is_string(p._links.self.href)
    local ui = assert(portal.ui_configurations.get())
    assert.is_true(ui.portalAllowed)
    assert.is_string(ui.mainColor)
    local access = assert(portal.access.get())
    assert.is_true(access.portalAllowed)
    assert.is_string(access.loginText)
  end)

  it("returns CSS and PNG bodies as raw strings", function()
    local css = assert(portal.styles.get())
    assert.is_string(css)
    assert.truthy(css:find("{", 1, true))
    assert.matches("text/css", last_request("/styles").headers.accept, 1, true)
    local logo = assert(portal.files.get{ type = "logo" })
    assert.equal("\137PNG", logo:sub(1, 4))
    local icon = assert(portal.files.favicons.get())
    assert.equal("\137PNG", icon:sub(1, 4))
    assert.equal("/residents/properties/" .. creds.property_id .. "/files/favicons",
      last_request("/favicons").path)
    local _, err = portal.files.get{ type = "favicons" }
    assert.equal("invalid_argument", err.kind)
  end)

  it("gets and updates the unit, including its contact", function()
    local unit = assert(portal.units.get())
    assert.equal(creds.unit_guid, unit.guid)
    -- UnitDto requires `number` (the unit name) on every update.
    local updated = assert(portal.units.update{ number = unit.number, description = "Renovated",
      contact = { contact_name = "Ana Silva", phone_number = "+15550009999" } })
    assert.equal("Renovated", updated.description)
    local body = require("dwell.json").decode(last_request("/units").body)
    assert.same({ contactName = "Ana Silva", phoneNumber = "+15550009999" }, body.contact)
    assert.equal("+15550009999", assert(portal.units.get()).contact.phoneNumber)
  end)

  it("lists unit devices by type and removes one", function()
    local unit_devs = assert(portal.units.devices.list{ type = "UNIT" })
    local guest_devs = assert(portal.units.devices.list{ type = "GUEST" })
    assert.equal(3, #unit_devs.contents)
    assert.equal(2, #guest_devs.contents)
    assert.equal("type=UNIT", sb:requests()[#sb:requests() - 1].query)
    local victim = unit_devs.contents[1].guid
    assert.is_true(assert(portal.units.devices.delete{ device_id = victim }))
    local after = assert(portal.units.devices.list{ type = "UNIT" })
    assert.equal(2, #after.contents)
    local _, err = portal.units.devices.delete{ device_id = victim }
    assert.equal("not_found", err.kind)
    assert.equal(404, err.status)
  end)

  it("gets a unit user, updates it and reads the change back", function()
    local page = assert(portal.units.users.query{ page_size = 5 })
    local user = page.content[2]
    local got = assert(portal.units.users.get{ user_id = user.userId })
    assert.equal(user.userName, got.userName)
    local res = assert(portal.units.users.update{ user_id = user.userId, email = "new@example.com",
      phone_number = "+15551234567", status = "BLOCKED" })
    assert.is_string(res.personaUpdateId)
    assert.is_string(res.dpskUpdateId)
    local req = last_request("/units/users/" .. user.userId)
    assert.equal("PUT", req.method)
    -- UnitUserDto's userId repeats the path's.
    assert.same({ userId = user.userId, email = "new@example.com", phoneNumber = "+15551234567", status = "BLOCKED" },
      require("dwell.json").decode(req.body))
    local after = assert(portal.units.users.get{ user_id = user.userId })
    assert.equal("new@example.com", after.email)
    assert.equal("BLOCKED", after.status)
  end)

  it("resets a passphrase when given an empty string", function()
    local user = assert(portal.units.users.query{ page_size = 1 }).content[1]
    assert(portal.units.users.update{ user_id = user.userId, passphrase = "" })
    local after = assert(portal.units.users.get{ user_id = user.userId })
    assert.not_equal(user.passphrase, after.passphrase)
  end)

  it("maps a missing user to not_found even though the 404 has no body", function()
    local _, err = portal.units.users.get{ user_id = "00000000-0000-4000-8000-000000000000" }
    assert.equal("not_found", err.kind)
    assert.equal(404, err.status)
    assert.equal("ruckus", err.vendor)
    assert.equal("units.users.get", err.endpoint)
  end)

  it("lists a user's devices and deletes one", function()
    local user = assert(portal.units.users.query{ page_size = 1 }).content[1]
    local devs = assert(portal.units.users.devices.list{ user_id = user.userId })
    assert.equal(2, #devs.contents)
    assert.is_string(devs.contents[1].macAddress)
    -- The device can be named by its MAC address too (docs/vendors/ruckus.md §4.2).
    assert.is_true(assert(portal.units.users.devices.delete{ user_id = user.userId,
      device_id = devs.contents[1].macAddress }))
    assert.equal(1, #assert(portal.units.users.devices.list{ user_id = user.userId }).contents)
    local all = assert(portal.units.users.devices.list:all{ user_id = user.userId })
    assert.equal(1, #all)
    assert.equal(devs.contents[2].guid, all[1].guid)
  end)

  it("resets the unit token only when asked, and is then logged out", function()
    assert(portal.units.get())
    local req = assert(portal.units.reset_token:prepare())
    assert.equal('{"status":"TOKEN_RESET"}', req.body)
    assert(portal.units.reset_token())
    local _, err = portal.units.get()
    -- The old hashed secret no longer logs in either.
    assert.equal("auth", err.kind)
    assert.equal(401, err.status)
  end)

  it("maps ErrorResource bodies, listing validation errors", function()
    -- The same declaration without the client-side length rule, on the client's own adapter,
    -- so that the server is the one to reject the phone number.
    local loose
    for _, d in ipairs(require "dwell.ruckus.endpoints") do
      if d.name == "units.users.update" then
        loose = {}
        for k, v in pairs(d) do loose[k] = v end
        loose.params = {}
        for i, p in ipairs(d.params) do
          local q = {}
          for k, v in pairs(p) do q[k] = v end
          q.max_length = nil
          loose.params[i] = q
        end
      end
    end
    local ep = require("dwell.api").build({ loose }, rawget(portal, "_adapter")).units.users.update
    local user = assert(portal.units.users.query{ page_size = 1 }).content[1]
    local _, err = ep{ user_id = user.userId, phone_number = string.rep("5", 33) }
    -- The server refused the content: `rejected` (invalid_argument is the local check alone).
    assert.equal("rejected", err.kind)
    assert.equal(400, err.status)
    assert.equal("400 BAD_REQUEST", err.code)
    assert.same({ "phoneNumber: size must be between 0 and 16" }, err.details.validation_errors)
    assert.matches("phoneNumber: size must be between 0 and 16", tostring(err), 1, true)
  end)
end)
