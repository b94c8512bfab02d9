-- Room details, task lists and forms through dwell.rooms against the sandbox, as a user checks
-- them: field data read back as written (and refused when it does not fit the field set),
-- field sets, room templates, task lists applied and removed, form groups built and taken apart,
-- form libraries, form details, provider associations, external form fill sessions.
local json = require("dwell.core").json
local S = require("support.rooms")

describe("rooms details, task lists and forms", function()
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

  local function field(list, key, value)
    for _, x in ipairs(list) do
      if x[key] == value then return x end
    end
    return nil
  end

  it("reads field data back as written; only the fields given change; null clears one", function()
    local before = assert(rooms.rooms.field_data.get{ room_id = 1002 })
    assert.equal("Springfield", before.data.city)
    local written = assert(rooms.rooms.field_data.update{ room_id = 1002,
      data = { yearBuilt = 1987, originalListingAmount = 349900.5, state = "US-OH", postalCode = "45011",
        hasHoa = true } })
    assert.same({ data = { yearBuilt = 1987, originalListingAmount = 349900.5, state = "US-OH", postalCode = "45011",
      hasHoa = true } }, json.decode(last("PUT").body))
    assert.equal(1987, written.data.yearBuilt)
    local got = assert(rooms.rooms.field_data.get{ room_id = 1002 })
    assert.same({ address1 = "12 Harbour Road", city = "Springfield", yearBuilt = 1987,
      originalListingAmount = 349900.5, state = "US-OH", postalCode = "45011", hasHoa = true }, got.data)
    assert.same(got.data, assert(rooms.rooms.get{ room_id = 1002, include_field_data = true }).fieldData.data)
    assert.truthy(rooms.rooms.field_data.update{ room_id = 1002, data = { hasHoa = json.null } })
    got = assert(rooms.rooms.field_data.get{ room_id = 1002 })
    assert.is_nil(got.data.hasHoa)

    for _, bad in ipairs({ { noSuchField = 1 }, { yearBuilt = "old" }, { yearBuilt = 1200 }, { state = "Ohio" },
      { address1 = string.rep("x", 101) } }) do
      local _, err = rooms.rooms.field_data.update{ room_id = 1002, data = bad }
      assert.equal("rejected", err.kind, json.encode(bad))
    end
    assert.same(got.data, assert(rooms.rooms.field_data.get{ room_id = 1002 }).data)
    local _, err = rooms.rooms.field_data.get{ room_id = 424242 }
    assert.equal("not_found", err.kind)
  end)

  it("describes the fields with the room's field set and the account's, filtered by requirement", function()
    local set = assert(rooms.rooms.field_set.get{ room_id = 1001 })
    local account = assert(rooms.account.get())
    assert.equal(account.defaultFieldSetId, set.fieldSetId)
    local year = field(set.fields, "apiName", "yearBuilt")
    assert.equal("Integer", year.type)
    assert.equal(2100, year.configuration.maxValue)
    local state = field(set.fields, "apiName", "state")
    assert.is_table(field(state.configuration.options, "id", "US-OH"))
    local on_create = assert(rooms.field_sets.get{ field_set_id = set.fieldSetId,
      fields_custom_data_filters = { "IsRequiredOnCreate" } })
    assert.equal("IsRequiredOnCreate", last("GET").params.fieldsCustomDataFilters)
    local names = {}
    for _, f in ipairs(on_create.fields) do
      assert.is_true(f.customData.isRequiredOnCreate)
      names[#names + 1] = f.apiName
    end
    assert.same({ "address1", "city", "state", "postalCode" }, names)
    local both = assert(rooms.field_sets.get{ field_set_id = set.fieldSetId,
      fields_custom_data_filters = "IsRequiredOnCreate,IsRequiredOnSubmit" })
    assert.truthy(#both.fields > #on_create.fields)
    local _, err = rooms.field_sets.get{ field_set_id = "00000000-0000-4000-8000-000000000000" }
    assert.equal("not_found", err.kind)
  end)

  it("lists room templates: enabled ones by default, for an office when asked", function()
    local enabled = assert(rooms.room_templates.list:all())
    for _, t in ipairs(enabled) do assert.is_not.equal("Legacy Listing", t.name) end
    local all = assert(rooms.room_templates.list:all{ only_enabled = false })
    assert.equal(#enabled + 1, #all)
    local for12 = assert(rooms.room_templates.list:all{ office_id = 12 })
    assert.is_table(field(for12, "name", "Commercial Lease"))
    assert.is_nil(field(for12, "name", "Residential Listing"))
    assert.equal("12", last("GET").params.officeId)
  end)

  it("applies a task list template to a room, lists it and deletes it", function()
    local templates = assert(rooms.task_list_templates.list:all())
    local closing = field(templates, "name", "Closing Tasks")
    assert.equal(3, closing.taskCount)
    assert.equal(2, closing.tasksWithDocumentsCount)
    local list = assert(rooms.rooms.task_lists.create{ room_id = 1003, task_list_template_id = closing.taskListTemplateId })
    assert.same({ taskListTemplateId = closing.taskListTemplateId }, json.decode(last("POST").body))
    assert.equal("Closing Tasks", list.name)
    assert.equal(3, #list.tasks)
    local listed = assert(rooms.rooms.task_lists.list:all{ room_id = 1003 })
    assert.is_table(field(listed, "taskListId", list.taskListId))
    local _, err = rooms.rooms.task_lists.create{ room_id = 1003, task_list_template_id = closing.taskListTemplateId }
    assert.equal("TASK_LIST_ALREADY_APPLIED", err.code)
    assert.is_true(rooms.task_lists.delete{ task_list_id = list.taskListId })
    assert.equal("/restapi/v2/accounts/" .. S.ACCOUNT .. "/task_lists/" .. list.taskListId, last("DELETE").path)
    assert.is_nil(field(assert(rooms.rooms.task_lists.list:all{ room_id = 1003 }), "taskListId", list.taskListId))
    _, err = rooms.task_lists.delete{ task_list_id = list.taskListId }
    assert.equal("not_found", err.kind)
  end)

  it("builds a form group, gives it to an office, and takes it apart", function()
    local group = assert(rooms.form_groups.create{ name = "Lease Packet" })
    assert.same({ name = "Lease Packet" }, json.decode(last("POST").body))
    assert.is_table(field(assert(rooms.form_groups.list:all()), "formGroupId", group.formGroupId))
    local renamed = assert(rooms.form_groups.update{ form_group_id = group.formGroupId, name = "Rental Packet" })
    assert.equal("Rental Packet", renamed.name)
    local lib = field(assert(rooms.form_libraries.list:all()), "name", "Commercial")
    assert.equal(2, lib.formCount)
    local lib_forms = assert(rooms.form_libraries.forms.list:all{ form_library_id = lib.formsLibraryId })
    for _, f in ipairs(lib_forms) do
      assert.is_true(rooms.form_groups.assign_form{ form_group_id = group.formGroupId, form_id = f.libraryFormId,
        is_required = true })
    end
    assert.same({ formId = lib_forms[1].libraryFormId, isRequired = true }, json.decode(
      S.requests(sb, "/restapi/v2/accounts/" .. S.ACCOUNT .. "/form_groups/" .. group.formGroupId .. "/assign_form")[1]
        .body))
    local forms = assert(rooms.form_groups.forms.list:all{ form_group_id = group.formGroupId })
    assert.equal(2, #forms)
    assert.is_true(forms[1].isRequired)
    assert.is_true(rooms.form_groups.grant_office_access{ form_group_id = group.formGroupId, office_id = 12 })
    assert.is_true(rooms.form_groups.grant_office_access{ form_group_id = group.formGroupId, office_id = 13 })
    assert.is_true(rooms.form_groups.revoke_office_access{ form_group_id = group.formGroupId, office_id = 13 })
    local got = assert(rooms.form_groups.get{ form_group_id = group.formGroupId })
    assert.same({ 12 }, got.officeIds)
    assert.equal(2, #got.forms)
    local refs = {}
    for r in rooms.offices.reference_counts.list:each{ office_id = 12 } do refs[r.referenceType] = r.referencedCount end
    assert.equal(2, refs.FormGroups) -- the seeded Commercial Packet and this one

    assert.is_true(rooms.form_groups.unassign_form{ form_group_id = group.formGroupId,
      form_id = lib_forms[1].libraryFormId })
    assert.equal(1, #assert(rooms.form_groups.forms.list:all{ form_group_id = group.formGroupId }))
    assert.is_true(rooms.form_groups.delete{ form_group_id = group.formGroupId })
    local _, err = rooms.form_groups.get{ form_group_id = group.formGroupId }
    assert.equal("not_found", err.kind)
    assert.is_nil(field(assert(rooms.form_groups.list:all()), "formGroupId", group.formGroupId))
  end)

  it("gives a library form's details and a provider's associations", function()
    local lib = assert(rooms.form_libraries.list:all())[1]
    local form = assert(rooms.form_libraries.forms.list:all{ form_library_id = lib.formsLibraryId })[1]
    local details = assert(rooms.forms.details.get{ form_id = form.libraryFormId })
    assert.equal(form.libraryFormId, details.formId)
    assert.equal(form.name, details.name)
    assert.is_true(math.type(details.numberOfPages) == "integer")
    -- Ids are accepted in any letter case and sent lower-case.
    assert.truthy(rooms.forms.details.get{ form_id = form.libraryFormId:upper() })
    assert.truthy(last("GET").path:find(form.libraryFormId, 1, true))
    local assoc = assert(rooms.form_providers.associations.list:all{ provider_id = "nar" })
    assert.equal(3, #assoc)
    assert.equal("nar", assoc[1].providerId)
    assert.same({}, assert(rooms.form_providers.associations.list:all{ provider_id = "nobody" }))
  end)

  it("opens an external form fill session for room forms", function()
    local lib = assert(rooms.form_libraries.list:all())[1]
    local form = assert(rooms.form_libraries.forms.list:all{ form_library_id = lib.formsLibraryId })[2]
    local session = assert(rooms.external_form_fill_sessions.create{ room_id = 1001, form_id = form.libraryFormId,
      x_frame_allowed_url = "https://app.example.com" })
    assert.same({ roomId = 1001, formId = form.libraryFormId, xFrameAllowedUrl = "https://app.example.com" },
      json.decode(last("POST").body))
    assert.matches("^https://", session.url)
    local many = assert(rooms.external_form_fill_sessions.create{ room_id = 1001, form_ids = { form.libraryFormId } })
    assert.is_not.equal(session.url, many.url)
  end)
end)
