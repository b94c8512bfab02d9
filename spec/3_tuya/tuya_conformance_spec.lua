-- Wire format of every Tuya endpoint against the vendor's per-endpoint tables (docs/vendors/tuya.md §7 and
-- Tuya's pages): method, path, where each parameter travels, its wire name and JSON type, through
-- :prepare (no network: the access token, t and nonce are given).
local dwell = require "dwell"
local json = require "dwell.json"

local tuya = assert(dwell.tuya{ client_id = "1KAD46OrT9HafiKdsXeg", secret = "4OHBOnWOqaEC1mWXOpVL3yV50s0qGSRC",
  base_url = "https://gw.example" })
local OPTS = { t = "1588925778000", nonce = "5138cc3a9033d69856923fd07b491173",
  access_token = "3f4eda2bdec17232f67c0b188af3eec1" }
local C = "/v1.0/iot-02/community"
local B, H, M, R, S, T = "1382581044365020007", "1382581044365020014", "1382581044365020021",
  "1382581044365020028", "1382581044365020035", "1382581044365020042"

local function prepare(ep, args)
  local req, err = ep:prepare(args, OPTS)
  assert(req, err and tostring(err))
  local path, query = req.url:match("^https://gw%.example([^?]*)%??(.*)$")
  local q = {}
  for part in query:gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=(.*)$")
    q[k] = v
  end
  return req, path, q, req.body and json.decode(req.body)
end

local function keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return table.concat(out, ",")
end

local function same_set(expected, t)
  local e = {}
  for i, k in ipairs(expected) do e[i] = k end
  table.sort(e)
  assert.equal(table.concat(e, ","), keys(t))
end

describe("tuya endpoints on the wire", function()
  it("declares every documented endpoint with its method and path", function()
    local want = {
      ["token.get"] = "GET /v1.0/token", ["token.refresh"] = "GET /v1.0/token/{refresh_token}",
      ["community.room_users"] = "GET " .. C .. "/room-users",
      ["community.room_user.get"] = "GET " .. C .. "/room-user",
      ["community.room_user.create"] = "POST " .. C .. "/room-user",
      ["community.room_user.update"] = "PUT " .. C .. "/room-user/{room_user_id}",
      ["community.room_user.delete"] = "DELETE " .. C .. "/room-user/{block_id}/{room_user_id}",
      ["community.room_user.move_in"] = "PUT " .. C .. "/room-user/{room_user_id}/move-in",
      ["community.room_user.move_out"] = "PUT " .. C .. "/room-user/{block_id}/{room_user_id}/move-out",
      ["community.householders"] = "GET " .. C .. "/householders",
      ["community.householder.get"] = "GET " .. C .. "/householder",
      ["community.householder.create"] = "POST " .. C .. "/householder",
      ["community.householder.update"] = "PUT " .. C .. "/householder/{block_id}/{householder_id}",
      ["community.householder.delete"] = "DELETE " .. C .. "/householder/{block_id}/{householder_id}",
      ["community.members"] = "GET " .. C .. "/members",
      ["community.member.get"] = "GET " .. C .. "/member",
      ["community.member.create"] = "POST " .. C .. "/member",
      ["community.member.update"] = "PUT " .. C .. "/member/{block_id}/{member_id}",
      ["community.member.delete"] = "DELETE " .. C .. "/member/{block_id}/{member_id}",
      ["community.structure.get"] = "GET " .. C .. "/structure",
      ["community.structure.members"] = "GET " .. C .. "/structure/members",
      ["community.structures.children"] = "GET " .. C .. "/structures/children",
      ["community.structure.create"] = "POST " .. C .. "/structure",
      ["community.structure.update"] = "PUT " .. C .. "/structure/{structure_id}",
      ["community.structure.delete"] = "DELETE " .. C .. "/structure/{structure_id}",
      ["community.room.create"] = "POST " .. C .. "/room",
      ["community.room.delete"] = "DELETE " .. C .. "/room/{block_id}/{tree_id}",
      ["community.housekeeper_detail"] = "GET " .. C .. "/housekeeper-detail",
    }
    local seen = 0
    for _, ep in ipairs(tuya:endpoints()) do
      assert.equal(want[ep.spec.name], ep.spec.method .. " " .. ep.spec.path, ep.spec.name)
      seen = seen + 1
    end
    local n = 0
    for _ in pairs(want) do n = n + 1 end
    assert.equal(n, seen)
  end)

  it("sends every /room-users filter of Tuya's page in the query, integers as their digits", function()
    local req, path, q = prepare(tuya.community.room_users, { block_id = B, page_no = 2, page_size = 50,
      room_user_stage = 0, tree_id = T, mobile_or_name = "1380", sex = 2, if_identify = 1, apply_source = 0,
      if_upload_face = 1, field_order_by = "CREATE_TIME_ASC", move_out_type = 2, room_user_type = "TENANT" })
    assert.equal("GET", req.method)
    assert.equal(C .. "/room-users", path)
    assert.same({ block_id = B, page_no = "2", page_size = "50", room_user_stage = "0", tree_id = T,
      mobile_or_name = "1380", sex = "2", if_identify = "1", apply_source = "0", if_upload_face = "1",
      field_order_by = "CREATE_TIME_ASC", move_out_type = "2", room_user_type = "TENANT" }, q)
    assert.is_nil(req.body)
    assert.is_nil(req.headers["Content-Type"])
    -- the String-typed codes accept the strings too, and send the same bytes
    local _, _, q2 = prepare(tuya.community.room_users, { block_id = B, page_no = 1, page_size = 20, sex = "2",
      if_identify = "1", room_user_stage = "20" })
    assert.equal("2", q2.sex)
    assert.equal("20", q2.room_user_stage)
  end)

  it("sends exactly the /householders filters its page documents", function()
    local _, path, q = prepare(tuya.community.householders, { block_id = B, page_no = 1, page_size = 20,
      mobile_or_name = "Li", sex = 1, if_identify = 0, apply_source = 2, if_upload_face = 0,
      field_order_by = "CREATE_TIME_DESC" })
    assert.equal(C .. "/householders", path)
    same_set({ "block_id", "page_no", "page_size", "mobile_or_name", "sex", "if_identify", "apply_source",
      "if_upload_face", "field_order_by" }, q)
    local req, err = tuya.community.householders:prepare({ block_id = B, page_no = 1, page_size = 20,
      room_user_stage = 0 }, OPTS)
    assert.is_nil(req)
    assert.equal("room_user_stage", err.param)
  end)

  it("sends the /members status as the Integer code", function()
    local _, _, q = prepare(tuya.community.members, { block_id = B, page_no = 1, page_size = 20, status = 3,
      mobile_or_name = "Chen" })
    same_set({ "block_id", "page_no", "page_size", "status", "mobile_or_name" }, q)
    assert.equal("3", q.status)
    local req, err = tuya.community.members:prepare({ block_id = B, page_no = 1, page_size = 20, status = 4 }, OPTS)
    assert.is_nil(req)
    assert.equal("status", err.param)
  end)

  it("puts single-record ids in the query", function()
    local cases = {
      { tuya.community.room_user.get, { block_id = B, room_user_id = R }, "/room-user" },
      { tuya.community.householder.get, { block_id = B, householder_id = H }, "/householder" },
      { tuya.community.member.get, { block_id = B, member_id = M }, "/member" },
      { tuya.community.structure.get, { structure_id = S }, "/structure" },
      { tuya.community.structures.children, { structure_id = S }, "/structures/children" },
      { tuya.community.housekeeper_detail, { block_id = B, hk_id = "1436249349305667679" }, "/housekeeper-detail" },
      { tuya.community.structure.members, { structure_id = S, page_no = 1, page_size = 20 }, "/structure/members" },
    }
    for _, c in ipairs(cases) do
      local req, path, q = prepare(c[1], c[2])
      assert.equal("GET", req.method)
      assert.equal(C .. c[3], path)
      local want = {}
      for k, v in pairs(c[2]) do want[k] = tostring(v) end
      assert.same(want, q)
      assert.is_nil(req.body)
    end
  end)

  it("sends bodies with documented names, ids as JSON strings and codes as JSON integers", function()
    local _
    local req, path, q, body = prepare(tuya.community.householder.create, { block_id = tonumber(B),
      real_name = "Jack", sex = 1, mobile = "15669010000", card_type = 1, card_no = "321221199010100000",
      apply_source = 0, household_registry_type = 1, household_registry_address = "Beijing", marital_status = 2,
      employer = "Tuya", political_status = 3, emergency_contact = "Rose", emergency_contact_number = "1566901" })
    assert.equal("POST", req.method)
    assert.equal(C .. "/householder", path)
    assert.same({}, q)
    assert.equal("application/json", req.headers["Content-Type"])
    assert.equal(B, body.block_id)
    assert.matches('"block_id":"' .. B .. '"', req.body, 1, true)
    for _, n in ipairs({ "sex", "card_type", "apply_source", "household_registry_type", "marital_status",
        "political_status" }) do
      assert.equal("integer", math.type(body[n]), n)
    end
    for _, n in ipairs({ "real_name", "mobile", "card_no", "household_registry_address", "employer",
        "emergency_contact", "emergency_contact_number" }) do
      assert.is_string(body[n], n)
    end

    _, path, _, body = prepare(tuya.community.householder.update, { block_id = B, householder_id = H,
      real_name = "Jack", sex = 1, mobile = "15669010000", household_registry_address = "Beijing", marital_status = 1,
      employer = "Tuya", political_status = 3, if_identify = 1 })
    assert.equal(C .. "/householder/" .. B .. "/" .. H, path)
    assert.equal(B, body.block_id)
    assert.equal(H, body.householder_id)
    assert.equal(1, body.if_identify)
    for _, n in ipairs({ "real_name", "sex", "mobile", "household_registry_address", "marital_status", "employer",
        "political_status" }) do
      local args = { block_id = B, householder_id = H, real_name = "Jack", sex = 1, mobile = "15669010000",
        household_registry_address = "Beijing", marital_status = 1, employer = "Tuya", political_status = 3 }
      args[n] = nil
      local r, err = tuya.community.householder.update:prepare(args, OPTS)
      assert.is_nil(r, n)
      assert.equal(n, err.param)
    end

    _, path, _, body = prepare(tuya.community.room_user.create, { block_id = B, householder_id = H,
      room_user_type = "FAMILY", tree_id = T, expire_date = 1621587021161 })
    assert.equal(C .. "/room-user", path)
    assert.same({ block_id = B, householder_id = H, room_user_type = "FAMILY", tree_id = T,
      expire_date = "1621587021161" }, body)

    _, path, _, body = prepare(tuya.community.room_user.update, { room_user_id = R, block_id = B,
      householder_id = H, room_user_type = "FAMILY", tree_id = T })
    assert.equal(C .. "/room-user/" .. R, path)
    assert.same({ room_user_id = R, block_id = B, householder_id = H, room_user_type = "FAMILY", tree_id = T }, body)

    _, path, _, body = prepare(tuya.community.room_user.move_in, { room_user_id = R, block_id = B,
      householder_id = H, room_user_type = "HOUSEHOLDER", tree_id = T, room_user_stage = 20, audit_reason = "Agree",
      expire_date = "" })
    assert.equal(C .. "/room-user/" .. R .. "/move-in", path)
    assert.same({ block_id = B, householder_id = H, room_user_type = "HOUSEHOLDER", tree_id = T,
      room_user_stage = 20, audit_reason = "Agree", expire_date = "" }, body)
    assert.equal("integer", math.type(body.room_user_stage))
  end)

  it("comma-joins the member's multi-valued fields and repeats the path id in the body (Tuya's Modify Member table)", function()
    local req, path, _, body = prepare(tuya.community.member.update, { block_id = B, member_id = M,
      block_ids = { B, "1382581044365020049" }, role_ids = { 1382581044365020056, "1382581044365020063" },
      structure_id = S, education = "Primary School", admin_name = "Ops", sex = 1, mobile = "1300000",
      admin = 2, data_permission = 1, country_code = "86", card_type = 1, card_no = "3116", birthday = 0,
      position = "Plumber" })
    assert.equal("PUT", req.method)
    assert.equal(C .. "/member/" .. B .. "/" .. M, path)
    assert.same({ member_id = M, block_ids = B .. ",1382581044365020049",
      role_ids = "1382581044365020056,1382581044365020063", structure_id = S, education = "Primary School",
      admin_name = "Ops", sex = 1, mobile = "1300000", admin = 2, data_permission = 1, country_code = "86",
      card_type = 1, card_no = "3116", birthday = 0, position = "Plumber" }, body)
    -- read-only fields of the doc's example body are not parameters
    local r, err = tuya.community.member.update:prepare({ block_id = B, member_id = M, block_ids = B,
      role_ids = "1", structure_id = S, education = "x", admin_name = "A", sex = 1, mobile = "1", myself = 2 }, OPTS)
    assert.is_nil(r)
    assert.equal("myself", err.param)

    _, path, _, body = prepare(tuya.community.member.create, { block_ids = B, structure_id = S, education = "x",
      role_ids = "1,2", admin_name = "A", sex = 2, mobile = "1" })
    assert.equal(C .. "/member", path)
    assert.same({ block_ids = B, structure_id = S, education = "x", role_ids = "1,2", admin_name = "A", sex = 2,
      mobile = "1" }, body)
  end)

  it("requires the contact on an organisation update, not on its creation", function()
    local _, path, _, body = prepare(tuya.community.structure.create, { structure_name = "Ops",
      parent_structure_id = "" })
    assert.equal(C .. "/structure", path)
    assert.same({ structure_name = "Ops", parent_structure_id = "" }, body)
    local r, err = tuya.community.structure.update:prepare({ structure_id = S, structure_name = "Ops" }, OPTS)
    assert.is_nil(r)
    assert.equal("contact", err.param)
    _, path, _, body = prepare(tuya.community.structure.update, { structure_id = S, structure_name = "Ops",
      contact = "Helen", contact_mobile = "1880000" })
    assert.equal(C .. "/structure/" .. S, path)
    assert.same({ structure_name = "Ops", contact = "Helen", contact_mobile = "1880000" }, body)
  end)

  it("sends body-less DELETE and move-out requests without a Content-Type", function()
    local cases = {
      { tuya.community.room_user.delete, { block_id = B, room_user_id = R }, "DELETE", "/room-user/" .. B .. "/" .. R },
      { tuya.community.room_user.move_out, { block_id = B, room_user_id = R }, "PUT",
        "/room-user/" .. B .. "/" .. R .. "/move-out" },
      { tuya.community.householder.delete, { block_id = B, householder_id = H }, "DELETE", "/householder/" .. B .. "/" .. H },
      { tuya.community.member.delete, { block_id = B, member_id = M }, "DELETE", "/member/" .. B .. "/" .. M },
      { tuya.community.structure.delete, { structure_id = S }, "DELETE", "/structure/" .. S },
      { tuya.community.room.delete, { block_id = B, tree_id = T }, "DELETE", "/room/" .. B .. "/" .. T },
    }
    for _, c in ipairs(cases) do
      local req, path, q = prepare(c[1], c[2])
      assert.equal(c[3], req.method)
      assert.equal(C .. c[4], path)
      assert.same({}, q)
      assert.is_nil(req.body)
      assert.is_nil(req.headers["Content-Type"])
    end
  end)

  it("creates a house with the documented body", function()
    local _, path, _, body = prepare(tuya.community.room.create, { block_id = B, parent_tree_id = T,
      room_name = "101", room_toward = 2, hand_over_date = 1633824000000, period_int = "70 years" })
    assert.equal(C .. "/room", path)
    assert.same({ block_id = B, parent_tree_id = T, room_name = "101", room_toward = 2,
      hand_over_date = 1633824000000, period_int = "70 years" }, body)
  end)

  it("never sends a body with a GET, even through the raw request", function()
    local req, err = tuya:prepare({ method = "GET", path = C .. "/structure", query = { structure_id = S }, body = {} },
      OPTS)
    assert.is_nil(req)
    assert.equal("invalid_argument", err.kind)
    assert.equal("body", err.param)
    req = assert(tuya:prepare({ method = "GET", path = C .. "/structure", query = { structure_id = S } }, OPTS))
    assert.is_nil(req.body)
  end)

  it("obtains tokens with grant_type=1 and refreshes through the path, without an access token", function()
    local req, path, q = prepare(tuya.token.get, nil)
    assert.equal("/v1.0/token", path)
    assert.same({ grant_type = "1" }, q)
    assert.is_nil(req.headers.access_token)
    req, path = prepare(tuya.token.refresh, { refresh_token = "a1b2c3" })
    assert.equal("/v1.0/token/a1b2c3", path)
    assert.is_nil(req.headers.access_token)
  end)
end)
