-- Every declared Rooms endpoint over real HTTP against the sandbox: wire names,
-- methods, bodies, the Accept header, state changes and validation before I/O.
local json = require("dwell.core").json
local S = require("support.rooms")

describe("rooms endpoints", function()
  local sb, rooms
  before_each(function()
    sb = S.start()
    rooms = S.client(sb)
  end)
  after_each(function() sb:close() end)

  local function last(prefix, method)
    local list = S.requests(sb, prefix, method)
    return list[#list]
  end

  it("declares all 89 operations under the URL-shaped names", function()
    local names = {}
    for _, ep in ipairs(rooms:endpoints()) do names[#names + 1] = ep.spec.name end
    assert.same({
      "account.get", "closing_statuses.list", "contact_sides.list", "countries.list", "currencies.list",
      "documents.delete", "documents.get", "documents.users.create", "esign_permission_profiles.list",
      "external_form_fill_sessions.create", "field_sets.get", "financing_types.list", "form_groups.assign_form",
      "form_groups.create", "form_groups.delete", "form_groups.forms.list", "form_groups.get",
      "form_groups.grant_office_access", "form_groups.list", "form_groups.revoke_office_access",
      "form_groups.unassign_form", "form_groups.update", "form_libraries.forms.list", "form_libraries.list",
      "form_providers.associations.list", "forms.details.get", "offices.create", "offices.delete",
      "offices.get", "offices.list", "offices.reference_counts.list", "origins_of_leads.list",
      "property_types.list", "regions.create", "regions.delete", "regions.get", "regions.list",
      "regions.reference_counts.list", "roles.create", "roles.delete", "roles.get", "roles.list",
      "roles.update", "room_contact_types.list", "room_templates.list", "rooms.assignable_roles.list",
      "rooms.create", "rooms.delete", "rooms.documents.contents.create", "rooms.documents.create",
      "rooms.documents.list", "rooms.envelopes.create", "rooms.field_data.get", "rooms.field_data.update",
      "rooms.field_set.get", "rooms.forms.create", "rooms.get", "rooms.list", "rooms.picture.update",
      "rooms.room_folders.list", "rooms.task_lists.create", "rooms.task_lists.list", "rooms.users.invite",
      "rooms.users.list", "rooms.users.restore_access", "rooms.users.revoke_access", "rooms.users.update",
      "seller_decision_types.list", "special_circumstance_types.list", "states.list", "task_date_types.list",
      "task_list_templates.list", "task_lists.delete", "task_responsibility_types.list", "task_statuses.list",
      "time_zones.list", "transaction_sides.list", "users.add_to_office", "users.add_to_region", "users.get",
      "users.invite", "users.list", "users.lock", "users.reinvite", "users.remove", "users.remove_from_office",
      "users.remove_from_region", "users.unlock", "users.update" },
      names)
  end)

  it("lists, gets, creates and deletes rooms", function()
    local page = assert(rooms.rooms.list{ room_status = { "open", "closed" }, count = 50 })
    assert.equal(6, page.totalRowCount)
    local r = last("/restapi/", "GET")
    assert.equal("open,closed", r.params.roomStatus)
    assert.equal("application/json", r.headers.accept)
    local active = assert(rooms.rooms.list())
    assert.equal(4, active.totalRowCount) -- default: active only
    local room = assert(rooms.rooms.get{ room_id = 1001, include_field_data = true })
    assert.equal("Seaside Villas", room.name)
    assert.equal("Springfield", room.fieldData.data.city)
    assert.equal("true", last("/restapi/").params.includeFieldData)
    -- an integer id given as a string of digits (read from a CSV, say) is the same id
    assert.equal("Seaside Villas", assert(rooms.rooms.get{ room_id = "1001" }).name)
    assert.equal("/restapi/v2/accounts/" .. S.ACCOUNT .. "/rooms/1001", last("/restapi/").path)
    local created = assert(rooms.rooms.create{ name = "New Listing", role_id = 1, transaction_side_id = "sell",
      field_data = { data = { city = "Shelbyville" } } })
    assert.equal("New Listing", created.name)
    local body = json.decode(last("/restapi/", "POST").body)
    assert.same({ name = "New Listing", roleId = 1, transactionSideId = "sell",
      fieldData = { data = { city = "Shelbyville" } } }, body)
    assert.equal("application/json", last("/restapi/", "POST").headers["content-type"])
    assert.is_true(rooms.rooms.delete{ room_id = created.roomId })
    local _, err = rooms.rooms.get{ room_id = created.roomId }
    assert.equal("not_found", err.kind)
    local roles = assert(rooms.rooms.assignable_roles.list{ room_id = 1001, filter = "Man" })
    assert.equal(1, #roles.roles)
    assert.equal("Manager", roles.roles[1].name)
  end)

  it("invites, updates, revokes and restores room users", function()
    local inv = assert(rooms.rooms.users.invite{ room_id = 1002, email = "new.buyer@example.com",
      first_name = "New", last_name = "Buyer", role_id = 4, transaction_side_id = "buy" })
    assert.equal(1002, inv.roomId)
    assert.same({ email = "new.buyer@example.com", firstName = "New", lastName = "Buyer", roleId = 4,
      transactionSideId = "buy" }, json.decode(last("/restapi/", "POST").body))
    local found = assert(rooms.rooms.users.list{ room_id = 1002, filter = "new.buyer" })
    assert.equal(1, found.resultSetSize)
    assert.equal(inv.userId, found.users[1].userId)

    local upd = assert(rooms.rooms.users.update{ room_id = 1002, user_id = inv.userId, role_id = 5,
      transaction_side_id = "sell" })
    assert.equal(5, upd.roleId)
    assert.is_false(upd.isRevoked)
    assert.equal("PUT", last("/restapi/").method)

    assert.is_true(rooms.rooms.users.revoke_access{ room_id = 1002, user_id = inv.userId })
    assert.equal("/restapi/v2/accounts/" .. S.ACCOUNT .. "/rooms/1002/users/" .. inv.userId .. "/revoke_access",
      last("/restapi/").path)
    assert.equal(0, rooms.rooms.users.list{ room_id = 1002, filter = "new.buyer" }.resultSetSize)
    assert.is_true(rooms.rooms.users.update{ room_id = 1002, user_id = inv.userId }.isRevoked)
    assert.is_true(rooms.rooms.users.restore_access{ room_id = 1002, user_id = inv.userId })
    assert.equal(1, rooms.rooms.users.list{ room_id = 1002, filter = "new.buyer" }.resultSetSize)

    -- All-optional body models still travel as a JSON object.
    local before = #sb:requests()
    assert.truthy(rooms.rooms.users.update{ room_id = 1002, user_id = inv.userId })
    assert.is_true(rooms.rooms.users.revoke_access{ room_id = 1002, user_id = inv.userId })
    assert.is_true(rooms.rooms.users.restore_access{ room_id = 1002, user_id = inv.userId })
    local reqs = sb:requests()
    assert.equal(before + 3, #reqs)
    for i = before + 1, before + 2 do
      assert.equal("{}", reqs[i].body)
      assert.equal("application/json", reqs[i].headers["content-type"])
    end
    assert.equal("", reqs[before + 3].body) -- restore_access has no body model

    -- A revocation date in the future leaves access until then.
    assert.is_true(rooms.rooms.users.revoke_access{ room_id = 1002, user_id = inv.userId,
      revocation_date = "2999-12-31T07:54Z" })
    assert.same({ revocationDate = "2999-12-31T07:54Z" }, json.decode(last("/restapi/").body))
    assert.equal(1, rooms.rooms.users.list{ room_id = 1002, filter = "new.buyer" }.resultSetSize)
  end)

  it("manages company users", function()
    local page = assert(rooms.users.list{ status = "pending", sort = "emailAsc", count = 100 })
    local r = last("/restapi/")
    assert.equal("Pending", r.params.status)
    assert.equal("EmailAsc", r.params.sort)
    for _, u in ipairs(page.userSummaries) do assert.equal("Pending", u.status) end
    assert.truthy(page.resultSetSize > 0)

    local u = assert(rooms.users.invite{ first_name = "Ola", last_name = "Nordmann", email = "ola@example.com",
      role_id = 1, access_level = "Office", default_office_id = 10, offices = { 10, 11 },
      e_sign_permission_profile_id = "42" })
    assert.equal("Pending", u.status)
    assert.equal("/restapi/v2/accounts/" .. S.ACCOUNT .. "/users/invite_user", last("/restapi/").path)
    local sent = json.decode(last("/restapi/").body)
    assert.same({ 10, 11 }, sent.offices)
    assert.equal("42", sent.eSignPermissionProfileId)
    assert.is_true(rooms.users.reinvite{ user_id = u.userId })

    assert.equal(11, assert(rooms.users.update{ user_id = u.userId, default_office_id = 11 }).defaultOfficeId)
    assert.is_true(rooms.users.lock{ user_id = u.userId, reason = "left the company" })
    assert.is_true(rooms.users.get{ user_id = u.userId }.isLockedOut)
    local locked = assert(rooms.users.list{ locked_only = true })
    assert.equal(1, locked.resultSetSize)
    assert.is_true(rooms.users.unlock{ user_id = u.userId })
    assert.is_false(rooms.users.get{ user_id = u.userId }.isLockedOut)

    assert.is_true(rooms.users.add_to_office{ user_id = u.userId, office_id = 12 })
    assert.same({ officeId = 12 }, json.decode(last("/restapi/").body))
    assert.is_true(rooms.users.remove_from_office{ user_id = u.userId, office_id = 10 })
    assert.is_true(rooms.users.add_to_region{ user_id = u.userId, region_id = 3 })
    assert.is_true(rooms.users.remove_from_region{ user_id = u.userId, region_id = 3 })
    local got = assert(rooms.users.get{ user_id = u.userId })
    assert.same({ 11, 12 }, got.offices)
    assert.same({}, got.regions)

    assert.is_true(rooms.users.remove{ user_id = u.userId })
    assert.equal("DELETE", last("/restapi/").method)
    local _, err = rooms.users.get{ user_id = u.userId }
    assert.equal("not_found", err.kind)
  end)

  it("reads roles, account information and transaction sides", function()
    local roles = assert(rooms.roles.list{ filter_context = "assignablerolesbasedonallpermissions" })
    assert.equal("AssignableRolesBasedOnAllPermissions", last("/restapi/").params.filterContext)
    for _, r in ipairs(roles.roles) do assert.is_false(r.isDefaultForAdmin) end
    local acct = assert(rooms.account.get())
    assert.equal("v6", acct.companyVersion)
    assert.equal("/restapi/v2/accounts/" .. S.ACCOUNT, last("/restapi/").path)
    local sides = assert(rooms.transaction_sides.list())
    assert.equal(4, #sides.transactionSides)
  end)

  it("validates arguments before any I/O", function()
    local before = #sb:requests()
    local cases = {
      { rooms.rooms.users.list, { room_id = 1001, count = 0 }, "count" },
      { rooms.rooms.users.list, { room_id = 1001, count = 101 }, "count" },
      { rooms.rooms.users.list, { room_id = 1001, sort = "ageAsc" }, "sort" },
      { rooms.rooms.users.list, { count = 10 }, "room_id" },
      { rooms.rooms.users.invite, { room_id = 1, email = "a@b.c", first_name = "A", last_name = "B" }, "role_id" },
      { rooms.rooms.users.update, { room_id = 1, user_id = 2, transaction_side_id = "rent" }, "transaction_side_id" },
      { rooms.users.lock, { user_id = 2 }, "reason" },
      { rooms.users.list, { access_level = "Janitor" }, "access_level" },
      { rooms.rooms.list, { room_status = "archived" }, "room_status" },
      { rooms.rooms.users.list, { room_id = 1001, start_postion = 5 }, "start_postion" },
      { rooms.users.invite, { first_name = "A", last_name = "B", email = "a@b.c", role_id = 1,
        access_level = "Region", default_office_id = 10, e_sign_permission_profile_id = "1" }, "regions" },
      { rooms.users.invite, { first_name = "A", last_name = "B", email = "a@b.c", role_id = 1,
        access_level = "Office", default_office_id = 10, e_sign_permission_profile_id = "1" }, "offices" },
    }
    for _, c in ipairs(cases) do
      local v, err = c[1](c[2])
      assert.is_nil(v)
      assert.equal("invalid_argument", err.kind)
      assert.truthy(tostring(err):find(c[3], 1, true), tostring(err))
    end
    assert.equal(before, #sb:requests())
  end)

  it("accepts the vendor's camelCase names as aliases", function()
    local page = assert(rooms.rooms.users.list{ roomId = 1002, startPosition = 2, count = 3 })
    assert.equal(2, page.startPosition)
    local r = last("/restapi/")
    assert.equal("2", r.params.startPosition)
    assert.equal("3", r.params.count)
  end)
end)
