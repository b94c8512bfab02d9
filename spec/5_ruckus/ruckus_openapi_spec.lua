-- The RUCKUS endpoint declarations checked mechanically against the vendor's OpenAPI
-- description (resident_portal_api-0.0.1.yaml, converted to JSON in spec/fixtures with its
-- prose removed): every operation's method and path, each parameter's wire name, location,
-- format and required flag, request body schemas field by field (snake_case name for the
-- camelCase field, type, maxLength, enum, required, nested UnitContactDto), success codes and
-- media types; then the wire format each endpoint produces (:prepare).
-- The fixture is yaml.safe_load of the vendor file (python3-yaml) dumped as JSON, keeping
-- openapi, info.title/version, paths and components, minus string `description`/`summary`
-- values and `tags`.
local json = require("dwell.core").json
local url = require "dwell.url"
local openapi = dofile("spec/support/openapi.lua")
local snake, resolve = openapi.snake, openapi.resolve

local PROPERTY = "6d1b6a3e-8f0c-4c59-9a38-2f1e7c5d4b10"

-- The declaration type for an OpenAPI schema.
local function expected_type(schema)
  if schema["$ref"] then return "object" end
  if schema.type == "string" and schema.format == "uuid" then return "uuid" end
  if schema.type == "integer" then return schema.format == "int64" and "long" or "integer" end
  return schema.type
end

local function keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- The documented 200 media types -> the declaration's media / response fields.
local MEDIA = {
  ["application/hal+json"] = { media = "hal" },
  ["application/json,application/vnd.ruckus.v1+json"] = { media = "vnd" },
  ["application/json"] = { media = "json" },
  ["*/*"] = { media = "any" },
  ["text/css"] = { response = "css" },
  ["image/png"] = { response = "png" },
  [""] = { media = "none" },
}

local SECRET_FIELDS = { hashedSecret = true, secret = true, guestSecret = true, passphrase = true }

-- Checks declared body fields against a schema's properties; `by_wire` maps wire names to
-- declared params (path params included, for a body field that repeats one).
local function check_fields(doc, schema, fields, where, path_params)
  local required = {}
  for _, r in ipairs(schema.required or {}) do required[r] = true end
  local by_wire, seen = {}, {}
  for _, p in ipairs(fields) do
    if p["in"] == "body" or p["in"] == nil then by_wire[p.wire] = p end
  end
  for field, prop in pairs(schema.properties) do
    local p = by_wire[field]
    local w = where .. " body " .. field
    assert.is_table(p, w .. " is not declared")
    seen[p] = true
    local path_twin = path_params and path_params[field]
    if path_twin then
      -- The snake name belongs to the path parameter: the body field takes its value.
      assert.equal(path_twin.name, p.default_from, w)
    else
      assert.equal(snake(field), p.name, w)
    end
    assert.equal(required[field] == true, p.required == true, w .. " required")
    assert.equal(expected_type(prop), p.type, w .. " type")
    assert.equal(prop.maxLength, p.max_length, w .. " maxLength")
    if prop.type == "array" then
      -- springdoc repeats the items' enum on the array (sortFields): both name the item values.
      assert.equal(prop.items.type, p.items.type, w .. " items")
      assert.same(prop.items.enum, p.items.enum, w .. " items enum")
      if prop.enum then assert.same(prop.enum, p.items.enum, w .. " enum") end
    elseif prop.enum then assert.same(prop.enum, p.enum, w .. " enum")
    else assert.is_nil(p.enum, w .. " enum") end
    if prop["$ref"] then check_fields(doc, resolve(doc, prop), p.fields, w) end
    assert.equal(SECRET_FIELDS[field] == true, p.secret == true, w .. " secret")
  end
  for _, p in ipairs(fields) do
    if p["in"] == "body" or p["in"] == nil then
      assert.is_true(seen[p] == true, where .. " declares body field " .. p.wire .. ", which the schema does not have")
    end
  end
end

-- A valid value for a declared parameter.
local SAMPLES = { type = "UNIT", device_id = "0a1b2c3d-dev", sort_direction = "DESC", sort_fields = "userId",
  status = "ENABLED", user_id = "1c4a230c-5085-4924-a3e1-25fb4fc5965b" }

local function sample(p, spec)
  if spec.name == "files.get" and p.name == "type" then return "logo" end
  if spec.name == "units.users.update" and p.name == "status" then return "BLOCKED" end
  if spec.name == "units.users.update" and p.name == "type" then return "GUEST" end
  local v = SAMPLES[p.name]
  if v ~= nil then return v end
  if p.type == "uuid" then return "2C4A230C50854924A3E125FB4FC5965B" end
  if p.type == "integer" then return 3 end
  if p.type == "object" then return { contact_name = "Ana Silva", email = "ana@example.com", phone_number = "+15550001" } end
  return "v-" .. p.wire
end

describe("ruckus declarations against the vendor OpenAPI description", function()
  local doc, ops, count, portal
  setup(function()
    doc = openapi.load()
    ops, count = openapi.operations(doc)
    portal = assert(require("dwell").ruckus{ property_id = PROPERTY, hashed_secret = "h4shed-secret" })
  end)

  it("is the vendor's v0 description with its 16 operations", function()
    assert.equal("Resident Portal REST API", doc.info.title)
    assert.equal("v0", doc.info.version)
    assert.equal(16, count)
  end)

  it("declares every operation with the YAML's method and path, and nothing else", function()
    local declared = {}
    for _, ep in ipairs(portal:endpoints()) do
      local s = ep.spec
      local o = ops[s.operation]
      assert.is_table(o, "no operation " .. tostring(s.operation) .. " for " .. s.name)
      assert.equal(o.method, s.method, s.name)
      assert.equal(o.path, s.path, s.name)
      declared[s.operation] = (declared[s.operation] or 0) + 1
    end
    for id in pairs(ops) do assert.is_not_nil(declared[id], id .. " is not declared") end
    -- residentEditUnit twice: the update, and the vendor collection's explicit token reset.
    assert.equal(2, declared.residentEditUnit)
    for id, n in pairs(declared) do if id ~= "residentEditUnit" then assert.equal(1, n, id) end end
  end)

  it("declares each path and query parameter with its name, location, format and required flag", function()
    for _, ep in ipairs(portal:endpoints()) do
      local s, op = ep.spec, ops[ep.spec.operation].op
      local by_wire, seen = {}, {}
      for _, p in ipairs(s.params) do
        if p["in"] ~= "body" then by_wire[p.wire] = p end
      end
      for _, sp in ipairs(op.parameters) do
        local p = by_wire[sp.name]
        local where = s.name .. " " .. sp.name
        assert.is_table(p, where .. " is not declared")
        seen[p] = true
        assert.equal(sp["in"], p["in"], where)
        assert.equal(snake(sp.name), p.name, where)
        assert.equal(sp.required == true, p.required == true, where)
        assert.equal(expected_type(sp.schema), p.type, where .. " type")
        if sp.name == "propertyId" and not sp.schema.format then
          -- No format here, but a venue id still travels hyphenated.
          assert.is_function(p.normalize, where)
        end
      end
      for _, p in ipairs(s.params) do
        if p["in"] ~= "body" then
          assert.is_true(seen[p] == true, s.name .. " declares " .. p.wire .. ", which the YAML does not have")
        end
      end
    end
  end)

  it("declares each request body as its schema: fields, types, maxLength, enum, required", function()
    local checked = {}
    for _, ep in ipairs(portal:endpoints()) do
      local s, op = ep.spec, ops[ep.spec.operation].op
      local body = op.requestBody
      if s.token_reset then
        -- The collection's body, outside the schema's status enum: nothing else is sent.
        assert.same({ "TOKEN_RESET" }, s.params[2].enum)
      elseif body then
        assert.same({ "application/json" }, { keys(body.content)[1] }, s.name)
        assert.equal(body.required == true, s.body_required == true, s.name .. " body required")
        local schema = resolve(doc, body.content["application/json"].schema)
        local path_params = {}
        for _, p in ipairs(s.params) do if p["in"] == "path" then path_params[p.wire] = p end end
        check_fields(doc, schema, s.params, s.name, path_params)
        checked[body.content["application/json"].schema["$ref"]:match("[^/]+$")] = true
      else
        for _, p in ipairs(s.params) do assert.not_equal("body", p["in"], s.name .. " has no body") end
      end
    end
    assert.same({ "LoginResource", "UnitDto", "UnitUserDto", "UnitUsersQueryCriteria" }, keys(checked))
  end)

  it("expects the documented success codes and media types", function()
    for _, ep in ipairs(portal:endpoints()) do
      local s, op = ep.spec, ops[ep.spec.operation].op
      local codes = {}
      for code in pairs(op.responses) do
        if code:match("^2") then codes[#codes + 1] = math.tointeger(tonumber(code)) end
      end
      table.sort(codes)
      assert.same(codes, s.success, s.name)
      local expected = MEDIA[table.concat(keys(op.responses["200"].content), ",")]
      assert.is_table(expected, s.name)
      assert.equal(expected.media, s.media, s.name .. " media")
      assert.equal(expected.response, s.response, s.name .. " response")
    end
  end)

  it("documents ErrorResource statuses as '<code> <REASON>' strings", function()
    local enum = doc.components.schemas.ErrorResource.properties.status.enum
    for _, v in ipairs(enum) do assert.matches("^%d%d%d [A-Z_]+$", v) end
    local statuses = {}
    for _, v in ipairs(enum) do statuses[v] = true end
    for _, v in ipairs({ "400 BAD_REQUEST", "401 UNAUTHORIZED", "404 NOT_FOUND", "429 TOO_MANY_REQUESTS" }) do
      assert.is_true(statuses[v], v)
    end
  end)

  it("puts every parameter on the wire under the YAML's name and place", function()
    for _, ep in ipairs(portal:endpoints()) do
      local s, op = ep.spec, ops[ep.spec.operation].op
      local args = {}
      for _, p in ipairs(s.params) do
        if not p.from_client and not p.default_from and not p.default then args[p.name] = sample(p, s) end
      end
      -- The property given per call, bare and upper-case: it still goes hyphenated.
      args.property_id = PROPERTY:gsub("-", ""):upper()
      local req = assert(ep:prepare(args))
      assert.equal(s.method, req.method, s.name)
      local path, query = req.url:match("^https://residence%.ruckus%.cloud([^?]*)%??(.*)$")
      assert.is_string(path, req.url)
      local expected_path = s.path:gsub("{propertyId}", PROPERTY):gsub("{userId}", SAMPLES.user_id)
        :gsub("{deviceId}", url.encode_segment(SAMPLES.device_id)):gsub("{type}", "logo")
      assert.equal(expected_path, path, s.name)
      local sent = url.parse_query(query)
      for _, sp in ipairs(op.parameters) do
        if sp["in"] == "query" then assert.equal(SAMPLES[sp.name], sent[sp.name], s.name .. " " .. sp.name) end
      end
      -- Accept names what the operation documents.
      if s.response == "css" then assert.matches("^text/css", req.headers.Accept, s.name)
      elseif s.response == "png" then assert.matches("^image/png", req.headers.Accept, s.name)
      else
        for _, t in ipairs({ "application/json", "application/hal+json", "application/vnd.ruckus.v1+json" }) do
          assert.truthy(req.headers.Accept:find(t, 1, true), s.name .. " Accept " .. t)
        end
      end
      if s.auth == "none" then assert.is_nil(req.headers.Authorization, s.name)
      else assert.equal("<token>", req.headers.Authorization, s.name) end
      if op.requestBody then
        assert.equal("application/json", req.headers["Content-Type"], s.name)
        local b = assert(json.decode(req.body))
        local schema = resolve(doc, op.requestBody.content["application/json"].schema)
        for field in pairs(b) do
          if not s.token_reset then assert.is_table(schema.properties[field], s.name .. " sends " .. field) end
        end
        for field in pairs(schema.properties) do
          if not s.token_reset then assert.is_not_nil(b[field], s.name .. " body " .. field) end
        end
      else
        assert.is_nil(req.body, s.name)
        assert.is_nil(req.headers["Content-Type"], s.name)
      end
    end
  end)

  it("sends UnitUserDto.userId equal to the path's user id, hyphenated", function()
    local req = assert(portal.units.users.update:prepare{ user_id = "2C4A230C50854924A3E125FB4FC5965B", user_name = "x" })
    assert.same({ userId = "2c4a230c-5085-4924-a3e1-25fb4fc5965b", userName = "x" }, json.decode(req.body))
    assert.matches("/units/users/2c4a230c%-5085%-4924%-a3e1%-25fb4fc5965b$", req.url)
  end)

  it("accepts any propertyId text where the YAML has no uuid format, and only a UUID elsewhere", function()
    for _, ep in ipairs({ portal.styles.get, portal.files.favicons.get, portal.access.get, portal.units.logins.create }) do
      local req = assert(ep:prepare{ property_id = "venue-a" })
      assert.matches("/residents/properties/venue%-a/", req.url .. "/")
    end
    local _, err = portal.units.get:prepare{ property_id = "venue-a" }
    assert.equal("invalid_argument", err.kind)
    assert.equal("property_id", err.param)
  end)

  it("sends sortFields as an array even when given one string", function()
    local req = assert(portal.units.users.query:prepare{ sort_fields = "userId", page = 0, page_size = 5 })
    assert.equal('{"page":0,"pageSize":5,"sortFields":["userId"]}', req.body)
  end)

  it("sends the login body as LoginResource without any Authorization", function()
    local req = assert(portal.units.logins.create:prepare{})
    assert.equal('{"hashedSecret":"h4shed-secret"}', req.body)
    assert.is_nil(req.headers.Authorization)
    local bare = assert(require("dwell").ruckus{ property_id = PROPERTY, token = "t" })
    local _, err = bare.units.logins.create:prepare{}
    assert.equal("invalid_argument", err.kind)
  end)
end)
