-- Every request body model of the Rooms swagger (and the multipart uploads) refused before any
-- I/O when the arguments do not fit it: missing required fields, wrong types, values outside an
-- enum, lengths and limits, unknown nested fields. Then paging: every paged list walked two at a
-- time gives what one big page gives, and every whole list iterates in one request.
local S = require("support.rooms")
local openapi = dofile("spec/support/openapi.lua")

local G1 = "7b879c00-0000-4000-8000-000000000001"
local L1 = "301f5600-0000-4000-8000-000000000001"
local INVITE = { first_name = "A", last_name = "B", email = "a@b.c", role_id = 1, default_office_id = 10,
  e_sign_permission_profile_id = "1" }

local function with(base, extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra) do t[k] = v end
  return t
end

-- model -> { { endpoint name, args, text the error names }, ... }
local CASES = {
  RoomForCreate = {
    { "rooms.create", { name = "X" }, "role_id" },
    { "rooms.create", { name = "", role_id = 1 }, "name" },
    { "rooms.create", { name = "X", role_id = 1, transaction_side_id = "rent" }, "transaction_side_id" },
    { "rooms.create", { name = "X", role_id = 1, listing_source = "Zillow" }, "listing_source" },
    { "rooms.create", { name = "X", role_id = 1, field_data = { city = "Springfield" } }, "field_data.city" },
  },
  RoomInvite = {
    { "rooms.users.invite", { room_id = 1, email = "a@b.c", first_name = "A", last_name = "B" }, "role_id" },
    { "rooms.users.invite", { room_id = 1, email = "", first_name = "A", last_name = "B", role_id = 1 }, "email" },
  },
  RoomUserForUpdate = { { "rooms.users.update", { room_id = 1, user_id = 2, transaction_side_id = "rent" },
    "transaction_side_id" } },
  RoomUserRemovalDetail = { { "rooms.users.revoke_access", { room_id = 1, user_id = 2, revocation_date = 5 },
    "revocation_date" } },
  UserForUpdate = { { "users.update", { user_id = 2 }, "default_office_id" } },
  UserToInvite = {
    { "users.invite", with(INVITE, { access_level = "Janitor" }), "access_level" },
    { "users.invite", with(INVITE, { access_level = "Region" }), "regions" },
    { "users.invite", with(INVITE, { access_level = "Office", offices = { 0 } }), "offices[1]" },
  },
  LockedOutDetails = { { "users.lock", { user_id = 2 }, "reason" } },
  DesignatedOffice = {
    { "users.add_to_office", { user_id = 2, office_id = "ten" }, "office_id" },
    { "users.remove_from_office", { user_id = 2 }, "office_id" },
  },
  DesignatedRegion = {
    { "users.add_to_region", { user_id = 2 }, "region_id" },
    { "users.remove_from_region", { user_id = 2, region_id = 1.5 }, "region_id" },
  },
  DocumentUserForCreate = {
    { "documents.users.create", { document_id = 9001 }, "user_id" },
    { "documents.users.create", { document_id = 9001, user_id = 0 }, "user_id" },
  },
  ExternalFormFillSessionForCreate = {
    { "external_form_fill_sessions.create", { form_id = "f" }, "room_id" },
    { "external_form_fill_sessions.create", { room_id = 1001 }, "form_id" },
    { "external_form_fill_sessions.create", { room_id = 1001, form_ids = { "not-a-guid" } }, "form_ids[1]" },
    { "external_form_fill_sessions.create", { room_id = 1001, form_ids = {} }, "form_ids" },
  },
  FormGroupForCreate = {
    { "form_groups.create", {}, "name" },
    { "form_groups.create", { name = "" }, "name" },
  },
  FormGroupForUpdate = { { "form_groups.update", { form_group_id = G1 }, "name" } },
  FormGroupFormToAssign = {
    { "form_groups.assign_form", { form_group_id = G1, form_id = "abc" }, "form_id" },
    { "form_groups.assign_form", { form_group_id = G1, form_id = L1, is_required = "yes" }, "is_required" },
  },
  OfficeForCreate = {
    { "offices.create", { city = "Springfield" }, "name" },
    { "offices.create", { name = "X", region_id = "north" }, "region_id" },
    { "offices.create", { name = "X", city = {} }, "city" },
    { "offices.create", { name = "X", zip = "45011" }, "zip" },
  },
  Region = {
    { "regions.create", {}, "name" },
    { "regions.create", { name = "East", created_date = 1 }, "created_date" },
  },
  RoleForCreate = {
    { "roles.create", { name = "" }, "name" },
    { "roles.create", { name = "X", permissions = { can_fly = true } }, "permissions.can_fly" },
    { "roles.create", { name = "X", permissions = { can_create_rooms = "yes" } }, "permissions.can_create_rooms" },
    { "roles.create", { name = "X", permissions = "all" }, "permissions" },
  },
  RoleForUpdate = {
    { "roles.update", { role_id = 6, is_external = "no" }, "is_external" },
    { "roles.update", { role_id = 6, permissions = { canCloseRoom = true } }, "did you mean" },
  },
  Document = {
    { "rooms.documents.create", { room_id = 1001, name = "x.pdf" }, "contents" },
    { "rooms.documents.create", { room_id = 1001, contents = "x" }, "name" },
    { "rooms.documents.create", { room_id = 1001, name = "x", contents = "x", path = "/etc/hostname" }, "contents" },
    { "rooms.documents.create", { room_id = 1001, path = "/nonexistent/dwell/file.pdf" }, "path" },
    { "rooms.documents.create", { room_id = 1001, name = "x", contents = "x", is_signed = "yes" }, "is_signed" },
    { "rooms.documents.create", { room_id = 1001, name = "x", contents = 42 }, "contents" },
    { "rooms.documents.create", { room_id = 1001, name = "x", contents = string.rep("x", 30 * 1024 * 1024 + 1) },
      "at most" },
  },
  EnvelopeForCreate = {
    { "rooms.envelopes.create", { room_id = 1001, document_ids = {} }, "document_ids" },
    { "rooms.envelopes.create", { room_id = 1001, document_ids = { "doc-9001" } }, "document_ids[1]" },
  },
  FieldDataForUpdate = { { "rooms.field_data.update", { room_id = 1001, data = "city=Springfield" }, "data" } },
  FormForAdd = { { "rooms.forms.create", { room_id = 1001 }, "form_id" } },
  TaskListForCreate = { { "rooms.task_lists.create", { room_id = 1001 }, "task_list_template_id" } },
  -- multipart/form-data (formData `file`): rooms.documents.contents.create, rooms.picture.update
  file = {
    { "rooms.documents.contents.create", { room_id = 1001 }, "file" },
    { "rooms.documents.contents.create", { room_id = 1001, file = 5 }, "file" },
    { "rooms.documents.contents.create", { room_id = 1001, file = "x", path = "/etc/hostname" }, "path" },
    { "rooms.documents.contents.create", { room_id = 1001, file = "x", file_name = "a\r\nX-Evil: 1" }, "file_name" },
    { "rooms.picture.update", { room_id = 1001, file = "x", content_type = "png" }, "content_type" },
    { "rooms.picture.update", { room_id = 1001, path = "/nonexistent/front.png" }, "path" },
  },
}

-- Paged lists and the arguments that reach one with at least three items.
local PAGED = {
  ["rooms.list"] = {}, ["rooms.assignable_roles.list"] = { room_id = 1001 }, ["rooms.users.list"] = { room_id = 1004 },
  ["users.list"] = {}, ["roles.list"] = {}, ["offices.list"] = {}, ["regions.list"] = {},
  ["room_templates.list"] = {}, ["rooms.room_folders.list"] = { room_id = 1001 },
  ["rooms.documents.list"] = { room_id = 1001 }, ["task_list_templates.list"] = {}, ["form_groups.list"] = {},
  ["form_groups.forms.list"] = { form_group_id = G1 }, ["form_libraries.list"] = {},
  ["form_libraries.forms.list"] = { form_library_id = L1 }, ["form_providers.associations.list"] = { provider_id = "nar" },
}
local WHOLE_ARGS = { ["rooms.task_lists.list"] = { room_id = 1001 }, ["offices.reference_counts.list"] = { office_id = 10 },
  ["regions.reference_counts.list"] = { region_id = 1 } }

local function endpoint(rooms, name)
  local node = rooms
  for part in name:gmatch("[^.]+") do node = node[part] end
  return node
end

describe("rooms body models and paging", function()
  local sb, rooms
  setup(function()
    sb = S.start()
    rooms = S.client(sb)
  end)
  teardown(function() sb:close() end)

  it("has refusals for every request body model of the swagger and for the multipart uploads", function()
    local doc = openapi.load("spec/fixtures/rooms-v2.swagger.json")
    local models = {}
    for _, o in pairs(openapi.operations(doc)) do
      for _, p in ipairs(o.op.parameters or {}) do
        if p["in"] == "body" then models[p.schema["$ref"]:match("[^/]+$")] = true end
        if p["in"] == "formData" then models[p.name] = true end
      end
    end
    local missing = {}
    for m in pairs(models) do
      if not CASES[m] then missing[#missing + 1] = m end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("refuses each before any I/O, naming the parameter", function()
    local before, n = #sb:requests(), 0
    for model, cases in pairs(CASES) do
      for _, c in ipairs(cases) do
        local v, err = endpoint(rooms, c[1])(c[2])
        local where = model .. " " .. c[1] .. " (" .. c[3] .. ")"
        assert.is_nil(v, where)
        assert.equal("invalid_argument", err.kind, where .. ": " .. tostring(err))
        assert.truthy(tostring(err):find(c[3], 1, true), where .. ": " .. tostring(err))
        assert.equal("rooms", err.vendor)
        assert.equal(c[1], err.endpoint)
        n = n + 1
      end
    end
    assert.truthy(n >= 50)
    assert.equal(before, #sb:requests())
  end)

  it("walks every paged list two at a time to what one page of 100 gives", function()
    local n = 0
    for _, ep in ipairs(rooms:endpoints()) do
      local s = ep.spec
      if s.paging and s.paging.style == "offset" then
        local args = PAGED[s.name]
        assert.is_table(args, s.name .. " has no paging case")
        local one = assert(ep(with(args, { count = 100 })))
        local whole = one[s.paging.items]
        assert.truthy(#whole >= 3, s.name .. " has " .. #whole .. " items")
        assert.equal(#whole, one.totalRowCount, s.name)
        local pages, items = 0, {}
        for page, list in ep:pages(with(args, { count = 2 })) do
          assert.equal((pages * 2), page.startPosition, s.name)
          pages = pages + 1
          for _, it in ipairs(list) do items[#items + 1] = it end
        end
        assert.equal(math.ceil(#whole / 2), pages, s.name)
        assert.same(whole, items, s.name)
        -- A start_position resumes where a walk stopped.
        local rest = assert(ep:all(with(args, { count = 2, start_position = 2 })))
        assert.equal(#whole - 2, #rest, s.name)
        n = n + 1
      end
    end
    assert.equal(16, n)
  end)

  it("iterates every whole list in one request", function()
    local n = 0
    for _, ep in ipairs(rooms:endpoints()) do
      local s = ep.spec
      if s.paging and s.paging.style == "single" then
        local args = WHOLE_ARGS[s.name] or {}
        local before = #sb:requests()
        local items = assert(ep:all(args))
        assert.equal(before + 1, #sb:requests(), s.name)
        assert.same(assert(ep(args))[s.paging.items], items, s.name)
        assert.truthy(#items > 0, s.name)
        n = n + 1
      end
    end
    assert.equal(20, n)
  end)
end)
