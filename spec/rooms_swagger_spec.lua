-- The Rooms endpoint declarations checked against the vendor's Swagger 2.0
-- description (a subset of docusign/OpenAPI-Specifications rooms.rest.swagger-v2.json
-- in spec/fixtures): method, path, every parameter's wire name, location, type and
-- required flag, body model fields, enums; then the wire format each endpoint
-- produces (:prepare) with every parameter given.
local json = require("dwell.core").json
local S = dofile("spec/rooms_support.lua")
local openapi = dofile("spec/support/openapi.lua")
local snake = openapi.snake

-- Swagger type (+ format) -> the declaration's type.
local function expected_type(schema)
  if schema["$ref"] then return "object" end
  local t = schema.type
  if t == "integer" then return "integer" end
  if t == "string" and schema.format == "date-time" then return "datetime" end
  return t
end

local function model(doc, ref)
  return doc.definitions[ref:match("[^/]+$")]
end

-- A valid value for a declared parameter (used to exercise the wire format).
local SAMPLES = { sort = "LastNameAsc", roomStatus = "active", accessLevel = "Company", status = "Active",
  filterContext = "AllRoles", transactionSideId = "listbuy", listingSource = "MLS", count = 25,
  revocationDate = "2030-01-02T03:04:05Z", email = "a+b@example.com", redirectUrl = "https://example.com/x" }

local function sample(p)
  local v = SAMPLES[p.wire]
  if v ~= nil then return v end
  if p.type == "integer" then return 7 end
  if p.type == "boolean" then return true end
  if p.type == "array" then return { 3, 4 } end
  if p.type == "object" then return { data = { city = "Springfield" } } end
  return "v-" .. p.wire
end

describe("rooms declarations against the vendor swagger", function()
  local doc, ops, rooms
  setup(function()
    doc = openapi.load("spec/fixtures/rooms-v2.swagger-subset.json")
    ops = openapi.operations(doc)
    rooms = assert(require("dwell").rooms{ account_id = S.ACCOUNT, env = "demo", access_token = "t0k" })
  end)

  it("declares every operation docs/vendors/rooms.md lists, with the swagger's method and path", function()
    local declared = {}
    for _, ep in ipairs(rooms:endpoints()) do
      local s = ep.spec
      local o = ops[s.operation]
      assert.is_table(o, "no swagger operation " .. tostring(s.operation) .. " for " .. s.name)
      assert.equal(o.method, s.method, s.name)
      assert.equal(o.path, s.path, s.name)
      declared[s.operation] = true
    end
    for id in pairs(ops) do assert.is_true(declared[id], id .. " is not declared") end
  end)

  it("declares each parameter with its wire name, location, type and required flag", function()
    for _, ep in ipairs(rooms:endpoints()) do
      local s, op = ep.spec, ops[ep.spec.operation].op
      local by_wire, seen = {}, {}
      for _, p in ipairs(s.params) do by_wire[p.wire] = p end
      local body_model
      for _, sp in ipairs(op.parameters or {}) do
        if sp["in"] == "body" then
          body_model = model(doc, sp.schema["$ref"])
        else
          local p = by_wire[sp.name]
          local where = s.name .. " " .. sp.name
          assert.is_table(p, where .. " is not declared")
          seen[p] = true
          assert.equal(sp["in"], p["in"], where)
          assert.equal(snake(sp.name), p.name, where)
          assert.equal(sp.required == true, p.required == true, where)
          if sp.type then
            assert.equal(expected_type(sp), p.type, where)
          else
            -- Untyped in the swagger (sort, roomStatus, accessLevel, status,
            -- filterContext): documented values, checked case-insensitively.
            assert.is_function(p.check or (p.items and p.items.check), where)
          end
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
        for field, schema in pairs(body_model.properties) do
          local p = by_wire[field]
          local where = s.name .. " body " .. field
          assert.is_table(p, where .. " is not declared")
          seen[p] = true
          assert.equal("body", p["in"], where)
          assert.equal(snake(field), p.name, where)
          assert.equal(required[field] == true, p.required == true, where)
          assert.equal(expected_type(schema), p.type, where)
          if schema.enum then assert.same(schema.enum, p.enum, where) end
          if schema.type == "array" then assert.equal(schema.items.type, p.items.type, where) end
        end
      end
      for _, p in ipairs(s.params) do
        assert.is_true(seen[p] == true, s.name .. " declares " .. p.wire .. ", which the swagger does not have")
      end
    end
  end)

  it("puts every parameter on the wire under the swagger's name and place", function()
    for _, ep in ipairs(rooms:endpoints()) do
      local s, op = ep.spec, ops[ep.spec.operation].op
      local args = {}
      for _, p in ipairs(s.params) do
        if not p.from_client then args[p.name] = sample(p) end
      end
      local req = assert(ep:prepare(args))
      assert.equal(s.method, req.method)
      assert.equal("application/json", req.headers.Accept, s.name)
      assert.equal("Bearer t0k", req.headers.Authorization, s.name)
      local path, query = req.url:match("^https://demo%.rooms%.docusign%.com/restapi([^?]*)%??(.*)$")
      assert.is_string(path, req.url)
      local sent = require("dwell.url").parse_query(query)
      local expected_path = s.path:gsub("{accountId}", S.ACCOUNT):gsub("{(%w+)}", "7")
      assert.equal(expected_path, path, s.name)
      local has_body = false
      for _, sp in ipairs(op.parameters or {}) do
        if sp["in"] == "query" then
          assert.is_string(sent[sp.name], s.name .. " query " .. sp.name)
        elseif sp["in"] == "body" then
          has_body = true
          local b = assert(json.decode(req.body))
          for field in pairs(model(doc, sp.schema["$ref"]).properties) do
            assert.is_not_nil(b[field], s.name .. " body " .. field)
          end
          assert.equal("application/json", req.headers["Content-Type"], s.name)
        end
      end
      if not has_body then assert.is_nil(req.headers["Content-Type"], s.name) end
    end
  end)

  it("sends query values URL-encoded (@, + and spaces survive)", function()
    local req = assert(rooms.rooms.users.list:prepare{ room_id = 5, filter = "a+b @x" })
    assert.truthy(req.url:find("filter=a%2Bb%20%40x", 1, true), req.url)
    req = assert(rooms.users.list:prepare{ filter = "o'neil+1@example.com" })
    assert.truthy(req.url:find("filter=o%27neil%2B1%40example.com", 1, true), req.url)
  end)
end)
