-- Tuya signing, request building and validation through :prepare (no network: every prepare
-- is given its access token, t and nonce, so nothing is fetched).
local dwell = require "dwell"
local core = require "dwell.core"
local sign = require "dwell.tuya.sign"

-- Tuya's official worked example (docs/vendors/tuya.md §3.4).
local VEC = {
  client_id = "1KAD46OrT9HafiKdsXeg", secret = "4OHBOnWOqaEC1mWXOpVL3yV50s0qGSRC",
  t = "1588925778000", access_token = "3f4eda2bdec17232f67c0b188af3eec1",
  nonce = "5138cc3a9033d69856923fd07b491173",
  signature_headers = { { "area_id", "29a33e8796834b1efa6" }, { "call_id", "8afdb70ab2ed11eb85290242ac130003" } },
}

local function client(extra)
  local cfg = { client_id = VEC.client_id, secret = VEC.secret, region = "eu" }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return assert(dwell.tuya(cfg))
end

local function opts(extra)
  local o = { t = VEC.t, nonce = VEC.nonce, access_token = VEC.access_token }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- Recomputes a prepared request's signature from first principles, independently of sign.lua.
local function recompute(req, secret, client_id, token_api)
  local path, query = req.url:match("^https?://[^/]+([^?]*)%??(.*)$")
  local pairs_list = {}
  for part in query:gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=(.*)$")
    local function dec(s) return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)) end
    pairs_list[#pairs_list + 1] = dec(k) .. "=" .. dec(v)
  end
  table.sort(pairs_list)
  local signed_url = path .. (#pairs_list > 0 and ("?" .. table.concat(pairs_list, "&")) or "")
  local body_hash = core.sha256_hex(req.body or "")
  local str = client_id .. (token_api and "" or req.headers.access_token) .. req.headers.t .. (req.headers.nonce or "")
    .. req.method .. "\n" .. body_hash .. "\n\n" .. signed_url
  return core.hmac_sha256_hex(secret, str, true)
end

describe("tuya signing", function()
  it("reproduces the official token-request vector through :prepare", function()
    local tuya = client()
    local req = assert(tuya.token.get:prepare(nil, opts{ signature_headers = VEC.signature_headers }))
    assert.equal("GET", req.method)
    assert.equal("https://openapi.tuyaeu.com/v1.0/token?grant_type=1", req.url)
    assert.equal("9E48A3E93B302EEECC803C7241985D0A34EB944F40FB573C7B5C2A82158AF13E", req.headers.sign)
    assert.equal("area_id:call_id", req.headers["Signature-Headers"])
    assert.equal("29a33e8796834b1efa6", req.headers.area_id)
    assert.is_nil(req.headers.access_token) -- token APIs carry no access token
    assert.equal("HMAC-SHA256", req.headers.sign_method)
    assert.equal(VEC.t, req.headers.t)
    assert.equal(VEC.nonce, req.headers.nonce)
    assert.is_nil(req.body)
  end)

  it("reproduces the official business-request vector through :prepare", function()
    local tuya = client()
    local req = assert(tuya:prepare({ method = "GET", path = "/v2.0/apps/schema/users",
      query = { page_size = 50, page_no = 1 } }, opts{ signature_headers = VEC.signature_headers }))
    assert.equal("AE4481C692AA80B25F3A7E12C3A5FD9BBF6251539DD78E565A1A72A508A88784", req.headers.sign)
    assert.equal(VEC.access_token, req.headers.access_token)
    assert.equal("https://openapi.tuyaeu.com/v2.0/apps/schema/users?page_no=1&page_size=50", req.url)
  end)

  it("builds stringToSign with an empty line when no header is signed", function()
    local sts = sign.string_to_sign("GET", nil, nil, "/v1.0/token?grant_type=1")
    assert.equal("GET\n" .. sign.EMPTY_SHA256 .. "\n\n/v1.0/token?grant_type=1", sts)
  end)

  it("sorts query keys bytewise and signs raw values while the wire carries them encoded", function()
    local tuya = client()
    local req = assert(tuya.community.room_users:prepare({ block_id = "1382581044365020007", page_no = 2,
      page_size = 20, mobile_or_name = "Zoë Li&co", room_user_type = "TENANT" }, opts()))
    assert.matches("mobile_or_name=Zo%%C3%%AB%%20Li%%26co", req.url)
    assert.equal(recompute(req, VEC.secret, VEC.client_id), req.headers.sign)
    assert.equal(sign.canonical_url("/p", { { "b", "Zoë Li&co" }, { "B", "1" }, { "a", "2" } }),
      "/p?B=1&a=2&b=Zoë Li&co")
  end)

  it("sorts bytewise whatever collation the host has set", function()
    local before = os.setlocale(nil, "collate")
    local loc = os.setlocale("de_DE.utf8", "collate") or os.setlocale("C.utf8", "collate")
    local ok, err = pcall(function()
      assert.equal("/p?B=1&a=2&a_b=3&ab=4&b=5", sign.canonical_url("/p",
        { { "b", "5" }, { "ab", "4" }, { "a_b", "3" }, { "B", "1" }, { "a", "2" } }))
    end)
    os.setlocale(before, "collate")
    assert(ok, err)
    assert.is_string(loc) -- some locale other than C was in force
  end)

  it("refuses a query key given twice", function()
    local url, err = sign.canonical_url("/p", { { "a", "1" }, { "a", "2" } })
    assert.is_nil(url)
    assert.matches("given twice", err)
  end)

  it("hashes exactly the body bytes it sends (compact JSON, once)", function()
    local tuya = client()
    local req = assert(tuya.community.member.update:prepare({ block_id = "1382581044365020007",
      member_id = "1382581044365032250", block_ids = { "1382581044365020007", "1382581044365020014" },
      role_ids = "1382581044365032201,1382581044365032208", structure_id = "1382581044365032236",
      education = "Master", admin_name = "Ops", sex = 1, mobile = "13900000000" }, opts()))
    assert.equal("PUT", req.method)
    assert.equal("https://openapi.tuyaeu.com/v1.0/iot-02/community/member/1382581044365020007/1382581044365032250",
      req.url)
    assert.equal("application/json", req.headers["Content-Type"])
    local body = require("dwell.core").json.decode(req.body)
    assert.equal("1382581044365020007,1382581044365020014", body.block_ids)   -- Lua list joined
    assert.equal("1382581044365032201,1382581044365032208", body.role_ids)    -- string kept
    assert.equal("1382581044365032250", body.member_id)                        -- defaults to the path id
    assert.is_nil(body.block_id)
    assert.not_matches("%s", req.body)                                          -- compact
    assert.equal(recompute(req, VEC.secret, VEC.client_id), req.headers.sign)
  end)

  it("uses a fresh t and a random nonce per request", function()
    local tuya = client()
    local a = assert(tuya.community.room_user.get:prepare({ block_id = "1", room_user_id = "2" },
      { access_token = VEC.access_token }))
    local b = assert(tuya.community.room_user.get:prepare({ block_id = "1", room_user_id = "2" },
      { access_token = VEC.access_token }))
    assert.matches("^%d%d%d%d%d%d%d%d%d%d%d%d%d$", a.headers.t)
    assert.matches("^%x+$", a.headers.nonce)
    assert.not_equal(a.headers.nonce, b.headers.nonce)
    assert.not_equal(a.headers.sign, b.headers.sign)
  end)

  it("supports the legacy scheme only when asked", function()
    local tuya = client{ sign_scheme = "legacy" }
    local req = assert(tuya.community.room_user.get:prepare({ block_id = "1", room_user_id = "2" }, opts()))
    assert.equal(core.hmac_sha256_hex(VEC.secret, VEC.client_id .. VEC.access_token .. VEC.t, true), req.headers.sign)
  end)
end)

describe("tuya client configuration", function()
  it("rejects missing credentials, unknown regions and unknown options", function()
    local c, err = dwell.tuya{ secret = "s", region = "eu" }
    assert.is_nil(c)
    assert.equal("invalid_argument", err.kind)
    assert.matches("client_id", tostring(err))
    c, err = dwell.tuya{ client_id = "id", region = "eu" }
    assert.is_nil(c)
    assert.matches("'secret' is required", err.message)
    c, err = dwell.tuya{ client_id = "id", secret = "s", region = "mars" }
    assert.is_nil(c)
    assert.matches("region", err.message)
    c, err = dwell.tuya{ client_id = "id", secret = "s" }
    assert.is_nil(c)
    assert.matches("region", err.message)
    c, err = dwell.tuya{ client_id = "id", secret = "s", regoin = "eu" }
    assert.is_nil(c)
    assert.matches("did you mean 'region'", err.message)
    c, err = dwell.tuya{ client_id = "id", secret = "s", base_url = "ftp://x" }
    assert.is_nil(c)
    assert.equal("base_url", err.param)
    c, err = dwell.tuya{ client_id = "id", secret = 42, region = "eu" }
    assert.is_nil(c)
    assert.not_matches("42", err.message)
  end)

  it("maps every documented region to its data centre", function()
    local hosts = { cn = "openapi.tuyacn.com", us = "openapi.tuyaus.com", ["us-east"] = "openapi-ueaz.tuyaus.com",
      eu = "openapi.tuyaeu.com", ["eu-west"] = "openapi-weaz.tuyaeu.com", ["in"] = "openapi.tuyain.com" }
    for region, host in pairs(hosts) do
      local tuya = assert(dwell.tuya{ client_id = "id", secret = "s", region = region })
      local req = assert(tuya.token.get:prepare(nil, { t = VEC.t }))
      assert.equal("https://" .. host .. "/v1.0/token?grant_type=1", req.url)
    end
  end)

  it("never shows the secret or tokens in tostring", function()
    local tuya = client()
    local s = tostring(tuya)
    assert.matches("dwell.tuya", s)
    assert.not_matches(VEC.secret, s, 1, true)
    assert.not_matches(VEC.secret, tostring(tuya.community.room_users), 1, true)
  end)
end)

describe("tuya argument validation", function()
  local tuya = client()
  local base = { block_id = "1382581044365020007", page_no = 1, page_size = 20 }
  local function try(ep, extra)
    local args = {}
    for k, v in pairs(base) do args[k] = v end
    for k, v in pairs(extra) do args[k] = v end
    return ep:prepare(args, opts())
  end
  local cases = {
    { { mobile_or_name = "123" }, "mobile_or_name", "four or more digits" },
    { { mobile_or_name = "" }, "mobile_or_name", "empty" },
    { { room_user_stage = 5 }, "room_user_stage", "one of 0, 10, 20, 30" },
    { { sex = 3 }, "sex", "one of 1, 2" },
    { { if_identify = 2 }, "if_identify", "one of" },
    { { apply_source = 9 }, "apply_source", "one of" },
    { { if_upload_face = "yes" }, "if_upload_face", "one of" },
    { { field_order_by = "NAME" }, "field_order_by", "CREATE_TIME_DESC" },
    { { move_out_type = 7 }, "move_out_type", "one of" },
    { { room_user_type = "LANDLORD" }, "room_user_type", "HOUSEHOLDER" },
    { { page_no = 0 }, "page_no", "at least 1" },
    { { page_size = "twenty" }, "page_size", "integer" },
    { { block_id = 1.5 }, "block_id", "string" },
    { { room_user_stag = "0" }, "room_user_stag", "did you mean 'room_user_stage'" },
  }
  for _, c in ipairs(cases) do
    it("rejects " .. c[2] .. " (" .. c[3] .. ") before any I/O", function()
      local req, err = try(tuya.community.room_users, c[1])
      assert.is_nil(req)
      assert.equal("invalid_argument", err.kind)
      assert.equal(c[2], err.param)
      assert.matches(c[3], err.message, 1, true)
    end)
  end

  it("accepts a mobile fragment of four digits, a name, and integer ids sent as their digits", function()
    assert.truthy(try(tuya.community.room_users, { mobile_or_name = "1380" }))
    assert.truthy(try(tuya.community.room_users, { mobile_or_name = "Li" }))
    local req = assert(try(tuya.community.room_users, { block_id = 1382581044365020007, room_user_stage = 20 }))
    assert.matches("block_id=1382581044365020007&", req.url, 1, true)
    assert.matches("room_user_stage=20", req.url, 1, true)
  end)

  it("requires block_id, page_no and page_size on lists", function()
    for _, name in ipairs({ "block_id", "page_no", "page_size" }) do
      local args = { block_id = "1", page_no = 1, page_size = 20 }
      args[name] = nil
      local req, err = tuya.community.room_users:prepare(args, opts())
      assert.is_nil(req)
      assert.equal(name, err.param)
      assert.matches("required", err.message)
    end
  end)

  it("checks the member update body as the seed documents it", function()
    local ok = { block_id = "1", member_id = "2", block_ids = "1", role_ids = { "3" }, structure_id = "4",
      education = "x", admin_name = "A", sex = 1, mobile = "139" }
    local function without(name, extra)
      local a = {}
      for k, v in pairs(ok) do a[k] = v end
      a[name] = nil
      for k, v in pairs(extra or {}) do a[k] = v end
      return a
    end
    for _, name in ipairs({ "block_ids", "structure_id", "education", "role_ids", "admin_name", "sex", "mobile" }) do
      local req, err = tuya.community.member.update:prepare(without(name), opts())
      assert.is_nil(req, name)
      assert.equal(name, err.param)
    end
    local _, err = tuya.community.member.update:prepare(without("sex", { sex = 3 }), opts())
    assert.equal("sex", err.param)
    _, err = tuya.community.member.update:prepare(without("admin", { admin = 0 }), opts())
    assert.equal("admin", err.param)
    _, err = tuya.community.member.update:prepare(without("data_permission", { data_permission = 3 }), opts())
    assert.equal("data_permission", err.param)
    _, err = tuya.community.member.update:prepare(without("birthday", { birthday = "yesterday" }), opts())
    assert.equal("birthday", err.param)
    _, err = tuya.community.member.update:prepare(without("role_ids", { role_ids = { 1.5 } }), opts())
    assert.equal("role_ids[1]", err.param)
    _, err = tuya.community.member.update:prepare(without("country_code", { country_code = "+86" }), opts())
    assert.equal("country_code", err.param)
    local req = assert(tuya.community.member.update:prepare(without("member_ids", { member_ids = { "2", "5" } }), opts()))
    assert.equal("2,5", require("dwell.core").json.decode(req.body).member_id)
    assert.matches("/member/1/2$", req.url)
  end)

  it("checks the move-in review body", function()
    local args = { room_user_id = "9", block_id = "1", householder_id = "2", room_user_type = "FAMILY",
      tree_id = "3", room_user_stage = 20, audit_reason = "ok" }
    assert.truthy(tuya.community.room_user.move_in:prepare(args, opts()))
    args.room_user_stage = 15
    local _, err = tuya.community.room_user.move_in:prepare(args, opts())
    assert.equal("room_user_stage", err.param)
    args.room_user_stage, args.audit_reason = 20, nil
    _, err = tuya.community.room_user.move_in:prepare(args, opts())
    assert.equal("audit_reason", err.param)
  end)
end)
