-- Company administration through dwell.rooms against the sandbox, as a user would check it:
-- offices (the one created is listed, found, referenced, deletable once nothing refers to it),
-- regions, roles (created with permissions, updated, given to a room user, deleted and gone),
-- eSignature permission profiles for users.invite, and the lookup lists.
local json = require("dwell.core").json
local S = require("support.rooms")

describe("rooms administration", function()
  local sb, rooms
  before_each(function()
    sb = S.start()
    rooms = S.client(sb)
  end)
  after_each(function() sb:close() end)

  local function last(method)
    local list = S.requests(sb, "/restapi/", method)
    return list[#list]
  end

  local function ids(list, field)
    local out = {}
    for _, x in ipairs(list) do out[#out + 1] = x[field] end
    return out
  end

  local function contains(list, v)
    for _, x in ipairs(list) do
      if x == v then return true end
    end
    return false
  end

  it("creates an office that then appears in the list, is found by search and can be given to users", function()
    local before = assert(rooms.offices.list:all())
    local office = assert(rooms.offices.create{ name = "Ogdenville East", region_id = 3, address1 = "1 Elm St",
      city = "Ogdenville", state_id = "US-WA", postal_code = "98001", country_id = "US", time_zone_id = "pacific",
      phone = "+1 555 0199" })
    assert.same({ name = "Ogdenville East", regionId = 3, address1 = "1 Elm St", city = "Ogdenville",
      stateId = "US-WA", postalCode = "98001", countryId = "US", timeZoneId = "pacific", phone = "+1 555 0199" },
      json.decode(last("POST").body))
    assert.equal("application/json", last("POST").headers["content-type"])
    assert.is_true(math.type(office.officeId) == "integer")
    assert.equal("Ogdenville East", office.name)
    local after = assert(rooms.offices.list:all())
    assert.equal(#before + 1, #after)
    assert.is_true(contains(ids(after, "officeId"), office.officeId))
    local found = assert(rooms.offices.list{ search = "east" })
    assert.same({ office.officeId }, ids(found.officeSummaries, "officeId"))
    assert.equal("east", last("GET").params.search)
    assert.same(office, assert(rooms.offices.get{ office_id = office.officeId }))

    -- users.add_to_office needs an office id: now there is one to give.
    assert.is_true(rooms.users.add_to_office{ user_id = 5001, office_id = office.officeId })
    assert.is_true(contains(assert(rooms.users.get{ user_id = 5001 }).offices, office.officeId))
    local refs = {}
    for r in rooms.offices.reference_counts.list:each{ office_id = office.officeId } do
      refs[r.referenceType] = r.referencedCount
    end
    assert.equal(1, refs.Users)
    assert.equal(0, refs.Rooms)
    local _, err = rooms.offices.delete{ office_id = office.officeId }
    assert.equal("rejected", err.kind)
    assert.equal("OFFICE_IN_USE", err.code)
    assert.is_true(rooms.users.remove_from_office{ user_id = 5001, office_id = office.officeId })
    assert.is_true(rooms.offices.delete{ office_id = office.officeId })
    assert.equal("DELETE", last().method)
    _, err = rooms.offices.get{ office_id = office.officeId }
    assert.equal("not_found", err.kind)
    assert.is_false(contains(ids(assert(rooms.offices.list:all()), "officeId"), office.officeId))
  end)

  it("refuses an office whose state, country or time zone is not one the lookups list", function()
    local _, err = rooms.offices.create{ name = "Nowhere", state_id = "US-ZZ" }
    assert.equal("rejected", err.kind)
    assert.truthy(err.message:find("stateId", 1, true))
    local states = assert(rooms.states.list:all())
    assert.is_true(contains(ids(states, "stateId"), "US-OH"))
    assert.truthy(rooms.offices.create{ name = "Columbus", state_id = "US-OH", country_id = "US",
      time_zone_id = "eastern" })
  end)

  it("lists only the caller's offices with only_accessible", function()
    local all = assert(rooms.offices.list:all())
    local mine = assert(rooms.offices.list:all{ only_accessible = true })
    assert.equal("true", last("GET").params.onlyAccessible)
    assert.truthy(#mine >= 1 and #mine <= #all)
  end)

  it("creates, reads and deletes regions, and counts what refers to them", function()
    local region = assert(rooms.regions.create{ name = "East" })
    assert.same({ name = "East" }, json.decode(last("POST").body))
    assert.equal("East", region.name)
    assert.is_string(region.createdDate)
    assert.is_true(contains(ids(assert(rooms.regions.list:all()), "regionId"), region.regionId))
    assert.same(region, assert(rooms.regions.get{ region_id = region.regionId }))
    local office = assert(rooms.offices.create{ name = "East Office", region_id = region.regionId })
    local counts = {}
    for r in rooms.regions.reference_counts.list:each{ region_id = region.regionId } do
      counts[r.referenceType] = r.referenceCount
    end
    assert.equal(1, counts.Offices)
    local _, err = rooms.regions.delete{ region_id = region.regionId }
    assert.equal("REGION_IN_USE", err.code)
    assert.is_true(rooms.offices.delete{ office_id = office.officeId })
    assert.is_true(rooms.regions.delete{ region_id = region.regionId })
    _, err = rooms.regions.get{ region_id = region.regionId }
    assert.equal("not_found", err.kind)
    assert.is_false(contains(ids(assert(rooms.regions.list:all()), "regionId"), region.regionId))
    -- managed_only: the regions the caller (user 5001) is in.
    local managed = assert(rooms.regions.list:all{ managed_only = true })
    assert.same(assert(rooms.users.get{ user_id = 5001 }).regions, ids(managed, "regionId"))
  end)

  it("creates a role with permissions, updates it, gives it to a room user and deletes it when unused", function()
    local role = assert(rooms.roles.create{ name = "Closer", is_external = false,
      permissions = { can_create_rooms = true, canCloseRooms = true } })
    assert.same({ name = "Closer", isExternal = false, permissions = { canCreateRooms = true, canCloseRooms = true } },
      json.decode(last("POST").body))
    assert.equal("Closer", role.name)
    assert.is_true(role.permissions.canCreateRooms)
    assert.is_true(role.permissions.canCloseRooms)
    assert.is_false(role.permissions.canManageAccount)
    assert.is_true(contains(ids(assert(rooms.roles.list:all()), "roleId"), role.roleId))

    local updated = assert(rooms.roles.update{ role_id = role.roleId, name = "Closing Agent",
      permissions = { can_close_rooms = false } })
    assert.equal("PUT", last().method)
    assert.equal("Closing Agent", updated.name)
    assert.is_false(updated.permissions.canCloseRooms)
    assert.is_true(updated.permissions.canCreateRooms) -- what the update left out stays
    local got = assert(rooms.roles.get{ role_id = role.roleId, include_is_assigned = true })
    assert.equal("Closing Agent", got.name)
    assert.is_false(got.isAssigned)
    assert.is_nil(assert(rooms.roles.get{ role_id = role.roleId }).isAssigned)

    -- A created role is one the rest of the API accepts.
    local invited = assert(rooms.rooms.users.invite{ room_id = 1003, email = "closer@example.com", first_name = "C",
      last_name = "Loser", role_id = role.roleId })
    assert.is_true(assert(rooms.roles.get{ role_id = role.roleId, include_is_assigned = true }).isAssigned)
    local _, err = rooms.roles.delete{ role_id = role.roleId }
    assert.equal("ROLE_IN_USE", err.code)
    assert.truthy(rooms.rooms.users.update{ room_id = 1003, user_id = invited.userId, role_id = 4 })
    assert.is_true(rooms.roles.delete{ role_id = role.roleId })

    -- The deleted role is gone: not listed, not found, not assignable.
    assert.is_false(contains(ids(assert(rooms.roles.list:all()), "roleId"), role.roleId))
    _, err = rooms.roles.get{ role_id = role.roleId }
    assert.equal("not_found", err.kind)
    _, err = rooms.rooms.users.update{ room_id = 1003, user_id = invited.userId, role_id = role.roleId }
    assert.equal("rejected", err.kind)
    _, err = rooms.roles.delete{ role_id = 3 }
    assert.equal("ROLE_IS_DEFAULT", err.code)
  end)

  it("keeps the seeded roles the same after a reset, whatever was created before", function()
    local seeded = assert(rooms.rooms.users.list:all{ room_id = 1002 })
    assert(rooms.roles.create{ name = "Temp 1" })
    assert(rooms.roles.create{ name = "Temp 2" })
    sb:reset()
    local names = ids(assert(rooms.roles.list:all()), "name")
    assert.same({ "Agent", "Manager", "Administrator", "Buyer", "Seller", "Transaction Coordinator" }, names)
    assert.same(seeded, assert(rooms.rooms.users.list:all{ room_id = 1002 }))
  end)

  it("lists eSignature permission profiles, whose ids users.invite takes", function()
    local profiles = assert(rooms.esign_permission_profiles.list:all())
    assert.truthy(#profiles >= 1)
    local p = profiles[#profiles]
    assert.is_string(p.eSignPermissionProfileId)
    assert.is_boolean(p.settings.allowAccountManagement)
    local u = assert(rooms.users.invite{ first_name = "Pia", last_name = "P", email = "pia@example.com", role_id = 1,
      access_level = "Company", default_office_id = 10, e_sign_permission_profile_id = p.eSignPermissionProfileId })
    assert.equal("Pending", u.status)
  end)

  it("serves every lookup list, each item with its id and name", function()
    local lists = { closing_statuses = "closingStatusId", contact_sides = "contactSideId", countries = "countryId",
      currencies = "currencyId", financing_types = "financingTypeId", origins_of_leads = "originOfLeadId",
      property_types = "propertyTypeId", room_contact_types = "id", seller_decision_types = "sellerDecisionTypeId",
      special_circumstance_types = "specialCircumstanceTypeId", states = "stateId", task_date_types = "taskDateTypeId",
      task_responsibility_types = "taskResponsibilityTypeId", task_statuses = "taskStatusId",
      time_zones = "timeZoneId", transaction_sides = "transactionSideId" }
    for name, id_field in pairs(lists) do
      local items = assert(rooms[name].list:all())
      assert.truthy(#items > 0, name)
      for _, it in ipairs(items) do
        assert.is_string(it[id_field], name)
        assert.is_string(it.name, name)
      end
      assert.equal("/restapi/v2/" .. name, last("GET").path)
    end
    assert.is_true(contains(ids(assert(rooms.closing_statuses.list:all()), "closingStatusId"), "sold"))
    assert.is_true(contains(ids(assert(rooms.time_zones.list:all()), "timeZoneId"), "eastern"))
    assert.is_true(contains(ids(assert(rooms.currencies.list:all()), "currencyId"), "USD"))
  end)
end)
