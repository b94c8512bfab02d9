-- The "rooms" sandbox against the vendor's Swagger 2.0 description, route by route: every one
-- of the 89 operations is sent (the request laid out by the client's :prepare, sent raw through
-- dwell.core.http and read raw), and each answer must have a status the swagger documents for
-- the operation, application/json where there is a body, a body that validates against the
-- documented schema (no undocumented fields either), an empty body for 204, and the rate-limit
-- headers. Then every route's refusals: 401 without a token and, where the path names
-- something, an unknown id, each an ApiError (GetRoomUsers' 404 has no body, as documented).
local core = require "dwell.core"
local json = core.json
local S = require("support.rooms")
local openapi = dofile("spec/support/openapi.lua")

local G1 = "7b879c00-0000-4000-8000-000000000001"   -- seeded form group "Listing Packet"
local F1 = "5be32400-0000-4000-8000-000000000001"   -- first library form (in G1)
local F5 = "5be32400-0000-4000-8000-000000000005"   -- a library form not in G1
local L1 = "301f5600-0000-4000-8000-000000000001"   -- first form library
local FIELD_SET = "4aef602b-0000-4000-8000-08d76696f678"
local PNG = "\137PNG\r\n\26\n\0\0\0\rIHDR sandbox picture"

-- Arguments that succeed on a freshly reset sandbox; `before(rooms)` sets up what they need.
local CASES = {
  ["account.get"] = {},
  ["documents.delete"] = { document_id = 9001 },
  ["documents.get"] = { document_id = 9001, include_contents = true },
  ["documents.users.create"] = { document_id = 9001, user_id = 5002 },
  ["esign_permission_profiles.list"] = {},
  ["external_form_fill_sessions.create"] = { room_id = 1001, form_ids = { F1 } },
  ["field_sets.get"] = { field_set_id = FIELD_SET, fields_custom_data_filters = { "IsRequiredOnCreate" } },
  ["form_groups.assign_form"] = { form_group_id = G1, form_id = F5, is_required = true },
  ["form_groups.create"] = { name = "New Packet" },
  ["form_groups.delete"] = { form_group_id = G1 },
  ["form_groups.forms.list"] = { form_group_id = G1 },
  ["form_groups.get"] = { form_group_id = G1 },
  ["form_groups.grant_office_access"] = { form_group_id = G1, office_id = 12 },
  ["form_groups.list"] = {},
  ["form_groups.revoke_office_access"] = { form_group_id = G1, office_id = 10 },
  ["form_groups.unassign_form"] = { form_group_id = G1, form_id = F1 },
  ["form_groups.update"] = { form_group_id = G1, name = "Renamed Packet" },
  ["form_libraries.forms.list"] = { form_library_id = L1 },
  ["form_libraries.list"] = {},
  ["form_providers.associations.list"] = { provider_id = "nar" },
  ["forms.details.get"] = { form_id = F1 },
  ["offices.create"] = { name = "Ogdenville East", region_id = 3, address1 = "1 Elm St", city = "Ogdenville",
    state_id = "US-WA", postal_code = "98001", country_id = "US", time_zone_id = "pacific", phone = "+1 555 0199" },
  ["offices.delete"] = { office_id = 13 },
  ["offices.get"] = { office_id = 10 },
  ["offices.list"] = {},
  ["offices.reference_counts.list"] = { office_id = 10 },
  ["regions.create"] = { name = "East" },
  ["regions.delete"] = { region_id = 4, before = function(r) assert(r.regions.create{ name = "Spare" }) end },
  ["regions.get"] = { region_id = 1 },
  ["regions.list"] = {},
  ["regions.reference_counts.list"] = { region_id = 1 },
  ["roles.create"] = { name = "Closer", is_external = false, permissions = { can_create_rooms = true } },
  ["roles.delete"] = { role_id = 7, before = function(r) assert(r.roles.create{ name = "Temp" }) end },
  ["roles.get"] = { role_id = 1, include_is_assigned = true },
  ["roles.list"] = {},
  ["roles.update"] = { role_id = 6, name = "Coordinator", permissions = { can_close_rooms = true } },
  ["room_templates.list"] = {},
  ["rooms.assignable_roles.list"] = { room_id = 1001 },
  ["rooms.create"] = { name = "Conformance Listing", role_id = 1, transaction_side_id = "sell",
    field_data = { data = { city = "Springfield" } } },
  ["rooms.delete"] = { room_id = 1006 },
  ["rooms.documents.contents.create"] = { room_id = 1001, file = "hello, room", file_name = "hello.txt" },
  ["rooms.documents.create"] = { room_id = 1001, name = "note.txt", contents = "a note" },
  ["rooms.documents.list"] = { room_id = 1001 },
  ["rooms.envelopes.create"] = { room_id = 1001, envelope_name = "Offer", document_ids = { 9001, 9002 } },
  ["rooms.field_data.get"] = { room_id = 1001 },
  ["rooms.field_data.update"] = { room_id = 1001, data = { yearBuilt = 1999, state = "US-OH" } },
  ["rooms.field_set.get"] = { room_id = 1001 },
  ["rooms.forms.create"] = { room_id = 1001, form_id = F1 },
  ["rooms.get"] = { room_id = 1001, include_field_data = true },
  ["rooms.list"] = {},
  ["rooms.picture.update"] = { room_id = 1001, file = PNG, file_name = "front.png" },
  ["rooms.room_folders.list"] = { room_id = 1001 },
  ["rooms.task_lists.create"] = { room_id = 1003, task_list_template_id = 3 },
  ["rooms.task_lists.list"] = { room_id = 1001 },
  ["rooms.users.invite"] = { room_id = 1002, email = "c@example.com", first_name = "C", last_name = "D", role_id = 4,
    transaction_side_id = "buy" },
  ["rooms.users.list"] = { room_id = 1001 },
  ["rooms.users.restore_access"] = { room_id = 1002, user_id = 5035 },
  ["rooms.users.revoke_access"] = { room_id = 1002, user_id = 5035 },
  ["rooms.users.update"] = { room_id = 1002, user_id = 5035, role_id = 5 },
  ["task_list_templates.list"] = {},
  ["task_lists.delete"] = { task_list_id = 701 },
  ["users.add_to_office"] = { user_id = 5001, office_id = 12 },
  ["users.add_to_region"] = { user_id = 5001, region_id = 3 },
  ["users.get"] = { user_id = 5001 },
  ["users.invite"] = { first_name = "Ola", last_name = "N", email = "ola@example.com", role_id = 1,
    access_level = "Company", default_office_id = 10, e_sign_permission_profile_id = "2" },
  ["users.list"] = {},
  ["users.lock"] = { user_id = 5002, reason = "audit" },
  ["users.reinvite"] = { user_id = 5009 },
  ["users.remove"] = { user_id = 5040 },
  ["users.remove_from_office"] = { user_id = 5001, office_id = 11 },
  ["users.remove_from_region"] = { user_id = 5001, region_id = 1 },
  ["users.unlock"] = { user_id = 5002 },
  ["users.update"] = { user_id = 5001, default_office_id = 10 },
}

local UNKNOWN = { integer = 424242, uuid = "00000000-0000-4000-8000-0000000dead0" }

describe("rooms sandbox against the vendor swagger (every route, raw HTTP)", function()
  local sb, doc, ops, session, rooms, creds

  setup(function()
    doc = openapi.load("spec/fixtures/rooms-v2.swagger.json")
    ops = openapi.operations(doc)
    sb = S.start()
    creds = sb:control("rooms", "credentials")
    session = assert(core.http.new_session())
    rooms = assert(require("dwell").rooms{ account_id = S.ACCOUNT, base_url = sb.url .. "/restapi",
      access_token = creds.access_token, retry = { attempts = 1 } })
  end)
  teardown(function() sb:close() end)

  local function args_of(name)
    local c = {}
    for k, v in pairs(CASES[name] or {}) do
      if k ~= "before" then c[k] = v end
    end
    return c
  end

  local function send(ep, args, drop_token)
    local req = assert(ep:prepare(args))
    if drop_token then req.headers.Authorization = nil end
    return assert(session:request{ method = req.method, url = req.url, headers = req.headers, body = req.body })
  end

  local function media_type(resp)
    return ((resp.headers["content-type"] or ""):match("^([^;%s]+)") or ""):lower()
  end

  local function api_error(where, resp)
    assert.equal("application/json", media_type(resp), where)
    local v = assert(json.decode(resp.body), where)
    assert.same({}, openapi.check(doc, { ["$ref"] = "#/definitions/ApiError" }, v), where)
    assert.is_string(v.errorCode, where)
    assert.is_string(v.message, where)
    return v
  end

  it("has a succeeding case for every declared operation", function()
    local missing = {}
    for _, ep in ipairs(rooms:endpoints()) do
      local lookup = ep.spec.path:match("^/v2/[%a_]+$") and not ep.spec.path:match("accounts")
      if not CASES[ep.spec.name] and not lookup then missing[#missing + 1] = ep.spec.name end
    end
    assert.same({}, missing)
  end)

  it("answers every operation with a documented status, media type and schema", function()
    local seen = 0
    for _, ep in ipairs(rooms:endpoints()) do
      local s = ep.spec
      local where = s.name .. " (" .. s.operation .. ")"
      local o = ops[s.operation]
      sb:reset()
      if CASES[s.name] and CASES[s.name].before then CASES[s.name].before(rooms) end
      local resp = send(ep, args_of(s.name))
      local documented = o.op.responses[tostring(resp.status)]
      assert.truthy(resp.status >= 200 and resp.status < 300, where .. ": " .. resp.status .. " " .. resp.body)
      assert.is_table(documented, where .. " does not document " .. resp.status)
      assert.is_string(resp.headers["x-ratelimit-remaining"], where)
      assert.is_string(resp.headers["x-burstlimit-remaining"], where)
      if resp.status == 204 then
        assert.equal("", resp.body, where .. ": 204 has no body")
      elseif documented.schema then
        assert.equal("application/json", media_type(resp), where)
        local value = assert(json.decode(resp.body), where)
        assert.same({}, openapi.check(doc, documented.schema, value), where)
      else
        assert.equal("", resp.body, where .. " is documented without a body")
      end
      seen = seen + 1
    end
    assert.equal(89, seen)
  end)

  it("omits base64Contents unless includeContents is asked for", function()
    sb:reset()
    local resp = send(rooms.documents.get, { document_id = 9001 })
    local v = assert(json.decode(resp.body))
    assert.is_nil(v.base64Contents)
    -- The Document model lists base64Contents as required (it is also AddDocumentToRoom's
    -- request body); its own documentation says it is only there with includeContents.
    assert.same({ "$.base64Contents: required" }, openapi.check(doc, { ["$ref"] = "#/definitions/Document" }, v))
  end)

  it("refuses every operation without a token: 401 and an ApiError", function()
    sb:reset()
    for _, ep in ipairs(rooms:endpoints()) do
      local resp = send(ep, args_of(ep.spec.name), true)
      assert.equal(401, resp.status, ep.spec.name)
      assert.is_table(ops[ep.spec.operation].op.responses["401"], ep.spec.name)
      api_error(ep.spec.name, resp)
    end
  end)

  it("answers an unknown id in the path with an ApiError (GetRoomUsers: a bodiless 404)", function()
    local n = 0
    for _, ep in ipairs(rooms:endpoints()) do
      local args, unknown = args_of(ep.spec.name), false
      for _, p in ipairs(ep.spec.params) do
        if p["in"] == "path" and not p.from_client and UNKNOWN[p.type] then
          args[p.name] = UNKNOWN[p.type]
          unknown = true
        end
      end
      if unknown then
        sb:reset()
        local resp = send(ep, args)
        assert.truthy(resp.status == 404 or resp.status == 400, ep.spec.name .. ": " .. resp.status)
        if ep.spec.operation == "Rooms_GetRoomUsers" then
          assert.equal(404, resp.status)
          assert.equal("", resp.body)
        else
          api_error(ep.spec.name, resp)
        end
        n = n + 1
      end
    end
    assert.truthy(n >= 50, n)
  end)

  it("refuses a JSON body that is not JSON with a 400 ApiError on every JSON write", function()
    sb:reset()
    local n = 0
    for _, ep in ipairs(rooms:endpoints()) do
      local req = assert(ep:prepare(args_of(ep.spec.name)))
      if req.headers["Content-Type"] == "application/json" then
        local resp = assert(session:request{ method = req.method, url = req.url, headers = req.headers,
          body = "{not json" })
        assert.equal(400, resp.status, ep.spec.name)
        assert.is_table(ops[ep.spec.operation].op.responses["400"], ep.spec.name)
        api_error(ep.spec.name, resp)
        n = n + 1
      end
    end
    assert.truthy(n >= 25, n)
  end)
end)
