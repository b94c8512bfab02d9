-- The Rooms endpoint declarations checked against the vendor's Swagger 2.0 description
-- (docusign/OpenAPI-Specifications rooms.rest.swagger-v2.json, all 89 operations, in
-- spec/fixtures): every operation declared and nothing else, method, path, every parameter's
-- wire name, location, type, required flag, enum and server default, body model fields (nested
-- models too), paging against the answer's model; then the wire format each endpoint produces
-- (:prepare) with every parameter given.
local json = require("dwell.core").json
local S = require("support.rooms")
local openapi = dofile("spec/support/openapi.lua")
local snake = openapi.snake

local FIXTURE = "spec/fixtures/rooms-v2.swagger.json"

-- Swagger type (+ format) -> the declaration's type.
local function expected_type(schema)
  if schema["$ref"] then return "object" end
  local t, f = schema.type, schema.format
  if t == "integer" then return f == "int64" and "long" or "integer" end
  if t == "string" and f == "date-time" then return "datetime" end
  if t == "string" and f == "uuid" then return "uuid" end
  return t
end

local function model(doc, ref)
  return openapi.resolve(doc, { ["$ref"] = ref })
end

-- Declarations may be stricter than a model's `required` list only where the vendor documents
-- the field "(Required)" in its description.
local function documented_required(schema)
  return (schema.description or ""):match("^%s*%(Required%)") ~= nil
end

-- A valid value for a declared parameter (used to exercise the wire format).
local SAMPLES = { sort = "LastNameAsc", roomStatus = "active", accessLevel = "Company", status = "Active",
  filterContext = "AllRoles", transactionSideId = "listbuy", count = 25, email = "a+b@example.com",
  redirectUrl = "https://example.com/x" }
local UUID = "5be324eb-0000-4000-8000-208065181be9"

local function sample(p)
  local v = SAMPLES[p.wire]
  if v ~= nil then return v end
  if p.enum then return p.enum[#p.enum] end
  if p.type == "integer" or p.type == "long" then return 7 end
  if p.type == "boolean" then return true end
  if p.type == "uuid" then return UUID end
  if p.type == "datetime" then return "2030-01-02T03:04:05Z" end
  if p.type == "file" then return "%PDF-1.4 sample\0bytes" end
  if p.type == "array" then
    local it = p.items or {}
    if it.enum then return { it.enum[2] or it.enum[1], it.enum[1] } end
    if it.type == "uuid" then return { UUID } end
    return { 3, 4 }
  end
  if p.type == "object" then
    if p.fields then
      local o = {}
      for _, f in ipairs(p.fields) do o[f.name] = sample(f) end
      return o
    end
    return { data = { city = "Springfield" } }
  end
  return "v-" .. p.wire
end

-- The one array property of a list model, whether the model carries the offset paging fields,
-- and whether the array is all there is (a list that comes whole).
local function list_property(doc, schema)
  local m = openapi.resolve(doc, schema)
  local arrays, n = {}, 0
  for name, prop in pairs(m.properties or {}) do
    n = n + 1
    if prop.type == "array" then arrays[#arrays + 1] = name end
  end
  local props = m.properties or {}
  return #arrays == 1 and arrays[1] or nil, props.resultSetSize ~= nil and props.startPosition ~= nil,
    #arrays == 1 and n == 1
end

describe("rooms declarations against the vendor swagger", function()
  local doc, ops, count, rooms
  setup(function()
    doc = openapi.load(FIXTURE)
    ops, count = openapi.operations(doc)
    rooms = assert(require("dwell").rooms{ account_id = S.ACCOUNT, env = "demo", access_token = "t0k" })
  end)

  it("is the whole vendor file: 89 operations", function()
    assert.equal("2.0", doc.swagger)
    assert.equal("DocuSign Rooms API - v2", doc.info.title)
    assert.equal(89, count)
  end)

  it("declares every operation of the swagger, and nothing else, with its method and path", function()
    local declared, n = {}, 0
    for _, ep in ipairs(rooms:endpoints()) do
      local s = ep.spec
      local o = ops[s.operation]
      assert.is_table(o, "no swagger operation " .. tostring(s.operation) .. " for " .. s.name)
      assert.is_nil(declared[s.operation], s.operation .. " is declared twice")
      assert.equal(o.method, s.method, s.name)
      assert.equal(o.path, s.path, s.name)
      assert.truthy(s.summary:find(s.operation, 1, true), s.name .. ": the summary names the operation")
      declared[s.operation] = true
      n = n + 1
    end
    local missing = {}
    for id in pairs(ops) do
      if not declared[id] then missing[#missing + 1] = id end
    end
    table.sort(missing)
    assert.same({}, missing, "operations of the swagger the client does not declare")
    assert.equal(count, n)
  end)

  it("names each endpoint after its URL path, the verb last", function()
    for _, ep in ipairs(rooms:endpoints()) do
      local s = ep.spec
      local rest = s.path:gsub("^/v2/accounts/{accountId}", ""):gsub("^/v2", "")
      local segments = {}
      for seg in rest:gmatch("[^/]+") do
        if not seg:match("^{") then segments[#segments + 1] = seg end
      end
      local parts = {}
      for part in s.name:gmatch("[^.]+") do parts[#parts + 1] = part end
      local verb = table.remove(parts)
      if #segments == 0 then segments = { "account" } end
      local action = segments[#segments]
      if #parts == #segments - 1 and verb == action then
        -- an action segment keeps the vendor's word: users.lock, form_groups.assign_form
        table.remove(segments)
      elseif s.path:match("/invite_user$") then
        table.remove(segments); assert.equal("invite", verb, s.name)
      end
      assert.same(segments, parts, s.name .. " mirrors " .. s.path)
      local by_method = { GET = { list = true, get = true }, POST = { create = true, invite = true },
        PUT = { update = true }, DELETE = { delete = true, remove = true } }
      assert.truthy(by_method[s.method][verb] or verb == action, s.name .. ": " .. s.method .. " verb " .. verb)
    end
  end)

  it("declares each parameter with its wire name, location, type, required flag, enum and default", function()
    for _, ep in ipairs(rooms:endpoints()) do
      local s, op = ep.spec, ops[ep.spec.operation].op
      local by_wire, seen, path_names = {}, {}, {}
      for _, p in ipairs(s.params) do
        if p["in"] == "body" then by_wire["body " .. p.wire] = p else by_wire[p.wire] = p end
        if p["in"] == "path" then path_names[p.name] = true end
      end
      local body_model, upload = nil, false
      for _, sp in ipairs(op.parameters or {}) do
        if sp["in"] == "body" then
          body_model = model(doc, sp.schema["$ref"])
          upload = upload or sp.schema["$ref"]:match("/Document$") ~= nil
        else
          local p = by_wire[sp.name]
          local where = s.name .. " " .. sp.name
          assert.is_table(p, where .. " is not declared")
          seen[p] = true
          assert.equal(sp["in"], p["in"], where)
          upload = upload or sp["in"] == "formData"
          assert.equal(snake(sp.name), p.name, where)
          assert.equal(sp.required == true, p.required == true, where)
          if sp.type then
            assert.equal(expected_type(sp), p.type, where)
            if sp.enum then assert.same(sp.enum, p.enum, where) end
            if sp.type == "array" then
              assert.equal(expected_type(sp.items), p.items.type, where)
              if sp.items.enum then assert.same(sp.items.enum, p.items.enum, where) end
            end
          else
            -- Untyped in the swagger (sort, roomStatus, accessLevel, status,
            -- filterContext): documented values, checked case-insensitively.
            assert.is_function(p.check or (p.items and p.items.check), where)
          end
          if sp.default ~= nil then assert.equal(sp.default, p.vendor_default, where .. " default") end
          if sp.name == "count" then
            assert.equal(1, p.min, where); assert.equal(100, p.max, where)
          elseif sp.name == "startPosition" then
            assert.equal(0, p.min, where)
          end
        end
      end
      if body_model then
        local required = {}
        for _, r in ipairs(body_model.required or {}) do required[r] = true end
        local function fields_match(props, declared, where, req)
          for field, schema in pairs(props) do
            local p = declared(field)
            local at = where .. " " .. field
            assert.is_table(p, at .. " is not declared")
            seen[p] = true
            local name = snake(field)
            if path_names[name] and p["in"] == "body" then name = "body_" .. name end
            assert.equal(name, p.name, at)
            if req[field] then assert.is_true(p.required == true, at .. " is required")
            elseif p.required then assert.is_true(documented_required(schema), at .. " is not required") end
            assert.equal(expected_type(schema), p.type, at)
            if schema.enum then assert.same(schema.enum, p.enum, at) end
            if schema.type == "array" then assert.equal(expected_type(schema.items), p.items.type, at) end
            if schema["$ref"] then
              local sub = model(doc, schema["$ref"])
              assert.is_table(p.fields, at .. ": the model " .. schema["$ref"] .. " is declared field by field")
              local sub_required, by = {}, {}
              for _, r in ipairs(sub.required or {}) do sub_required[r] = true end
              for _, f in ipairs(p.fields) do by[f.wire] = f end
              fields_match(sub.properties, function(w) return by[w] end, at, sub_required)
              for _, f in ipairs(p.fields) do assert.is_table(sub.properties[f.wire], at .. "." .. f.wire) end
            end
          end
        end
        fields_match(body_model.properties, function(w) return by_wire["body " .. w] end, s.name .. " body", required)
      end
      for _, p in ipairs(s.params) do
        if p["in"] == "local" then
          -- What an upload reads from (contents, path, the part's name and type): never sent.
          assert.is_true(upload, s.name .. " declares the local " .. p.name .. " but uploads nothing")
        else
          assert.is_true(seen[p] == true, s.name .. " declares " .. p.wire .. ", which the swagger does not have")
        end
      end
    end
  end)

  it("pages what the answer's model pages, and lists whole what comes whole", function()
    for _, ep in ipairs(rooms:endpoints()) do
      local s, op = ep.spec, ops[ep.spec.operation].op
      local ok = op.responses["200"]
      if s.method == "GET" and ok and ok.schema then
        local items, offset, only = list_property(doc, ok.schema)
        local has_count = false
        for _, sp in ipairs(op.parameters or {}) do has_count = has_count or sp.name == "count" end
        if offset then
          assert.is_true(has_count, s.name)
          assert.is_table(s.paging, s.name .. " is paged")
          assert.equal("offset", s.paging.style, s.name)
          assert.equal(items, s.paging.items, s.name)
        elseif only then
          assert.is_table(s.paging, s.name .. " lists " .. items)
          assert.equal("single", s.paging.style, s.name)
          assert.equal(items, s.paging.items, s.name)
        else
          assert.is_nil(s.paging, s.name .. " answers one object")
        end
      else
        assert.is_nil(s.paging, s.name)
      end
    end
  end)

  it("retries no write: DocuSign documents none as idempotent", function()
    for _, ep in ipairs(rooms:endpoints()) do
      assert.equal(ep.spec.method == "GET", ep.spec.repeatable, ep.spec.name)
    end
  end)

  it("puts every parameter on the wire under the swagger's name and place", function()
    for _, ep in ipairs(rooms:endpoints()) do
      local s, op = ep.spec, ops[ep.spec.operation].op
      local args, by_wire = {}, {}
      for _, p in ipairs(s.params) do
        if not p.from_client and p["in"] ~= "local" then
          args[p.name] = sample(p)
          if p["in"] == "path" then by_wire[p.wire] = args[p.name] end
        end
      end
      local req = assert(ep:prepare(args))
      assert.equal(s.method, req.method)
      assert.equal("application/json", req.headers.Accept, s.name)
      assert.equal("Bearer t0k", req.headers.Authorization, s.name)
      local path, query = req.url:match("^https://demo%.rooms%.docusign%.com/restapi([^?]*)%??(.*)$")
      assert.is_string(path, req.url)
      local sent = require("dwell.url").parse_query(query)
      local expected_path = s.path:gsub("{(%w+)}", function(w)
        return w == "accountId" and S.ACCOUNT or tostring(by_wire[w])
      end)
      assert.equal(expected_path, path, s.name)
      local kind
      for _, sp in ipairs(op.parameters or {}) do
        if sp["in"] == "query" then
          assert.is_string(sent[sp.name], s.name .. " query " .. sp.name)
        elseif sp["in"] == "body" then
          kind = "json"
          local b = assert(json.decode(req.body))
          for field in pairs(model(doc, sp.schema["$ref"]).properties) do
            assert.is_not_nil(b[field], s.name .. " body " .. field)
          end
          assert.equal("application/json", req.headers["Content-Type"], s.name)
        elseif sp["in"] == "formData" then
          kind = "multipart"
          local boundary = req.headers["Content-Type"]:match("^multipart/form%-data; boundary=(.+)$")
          assert.is_string(boundary, s.name)
          assert.truthy(req.body:find('name="' .. sp.name .. '"', 1, true), s.name)
          assert.truthy(req.body:find(args.file, 1, true), s.name)
          assert.equal("--" .. boundary .. "--\r\n", req.body:sub(-#boundary - 6))
        end
      end
      if not kind then assert.is_nil(req.headers["Content-Type"], s.name) end
    end
  end)

  it("sends query values URL-encoded (@, + and spaces survive)", function()
    local req = assert(rooms.rooms.users.list:prepare{ room_id = 5, filter = "a+b @x" })
    assert.truthy(req.url:find("filter=a%2Bb%20%40x", 1, true), req.url)
    req = assert(rooms.users.list:prepare{ filter = "o'neil+1@example.com" })
    assert.truthy(req.url:find("filter=o%27neil%2B1%40example.com", 1, true), req.url)
    req = assert(rooms.field_sets.get:prepare{ field_set_id = UUID,
      fields_custom_data_filters = { "IsRequiredOnCreate", "IsRequiredOnSubmit" } })
    assert.truthy(req.url:find("fieldsCustomDataFilters=IsRequiredOnCreate%2CIsRequiredOnSubmit", 1, true), req.url)
  end)

  it("documents rooms.list's default status filter (active rooms only)", function()
    local s = rooms.rooms.list.spec
    assert.truthy(s.summary:find("only ACTIVE rooms", 1, true), s.summary)
    for _, p in ipairs(s.params) do
      if p.name == "room_status" then assert.equal("active", p.vendor_default) end
    end
    assert.is_nil(assert(rooms.rooms.list:prepare{}).url:find("roomStatus", 1, true))
  end)
end)
