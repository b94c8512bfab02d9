-- The "tuya" sandbox route set, driven with curl and a signer written here from docs/vendors/tuya.md §3
-- (independent of dwell.tuya), so the emulation is checked as any other client would see it.
local core = require "dwell.core"
local json = require "dwell.json"
local sandbox = require "dwell.sandbox"
local support = require "support.shell"

local EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

local q = support.quote
local function enc(s) return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end)) end

-- An independent signed request: returns the decoded envelope and the HTTP status.
local function call(sb, creds, r)
  local keys = {}
  for k in pairs(r.query or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  local signed, wire = {}, {}
  for i, k in ipairs(keys) do
    signed[i] = k .. "=" .. r.query[k]
    wire[i] = enc(k) .. "=" .. enc(r.query[k])
  end
  local path = r.path
  local signed_url = path .. (#signed > 0 and ("?" .. table.concat(signed, "&")) or "")
  local body = r.body or ""
  local t = r.t or string.format("%d", os.time() * 1000)
  local nonce = r.nonce or core.random_hex(8)
  local token_api = path:find("^/v1%.0/token") ~= nil
  local str = creds.client_id .. (token_api and "" or (r.access_token or "")) .. t .. nonce
    .. (r.method or "GET") .. "\n" .. (body == "" and EMPTY or core.sha256_hex(body)) .. "\n\n" .. signed_url
  local sign = r.sign or core.hmac_sha256_hex(r.secret or creds.secret, str, true)
  local args = { "-X", r.method or "GET", "-H", q("client_id: " .. (r.client_id or creds.client_id)), "-H", q("sign: " .. sign),
    "-H", q("t: " .. t), "-H", q("nonce: " .. nonce), "-H", q("sign_method: HMAC-SHA256") }
  if not token_api then args[#args + 1] = "-H"; args[#args + 1] = q("access_token: " .. (r.access_token or "")) end
  if body ~= "" then
    args[#args + 1] = "-H"; args[#args + 1] = q("Content-Type: application/json")
    args[#args + 1] = "--data-binary"; args[#args + 1] = q(body)
  end
  args[#args + 1] = q(sb.url .. path .. (#wire > 0 and ("?" .. table.concat(wire, "&")) or ""))
  local res = support.curl(table.concat(args, " "))
  return json.decode(res.body), res.status
end

describe("tuya sandbox", function()
  local sb, creds, summary, block

  before_each(function()
    sb = assert(sandbox.start{ host = "127.0.0.1", port = 0, routes = { { set = "tuya", config = { token_ttl = 600 } } } })
    creds = assert(sb:control("tuya", "credentials"))
    summary = assert(sb:control("tuya", "summary"))
    block = summary.blocks[1]
  end)
  after_each(function() sb:stop() end)

  local function token()
    local env = call(sb, creds, { path = "/v1.0/token", query = { grant_type = "1" } })
    assert.is_true(env.success)
    return env.result
  end

  it("documents default credentials and issues tokens in Tuya's envelope", function()
    assert.equal(20, #creds.client_id)
    assert.equal(32, #creds.secret)
    local env, status = call(sb, creds, { path = "/v1.0/token", query = { grant_type = "1" } })
    assert.equal(200, status)
    assert.is_true(env.success)
    assert.equal(600, env.result.expire_time)
    assert.is_string(env.result.access_token)
    assert.is_string(env.result.refresh_token)
    assert.is_true(math.type(env.t) == "integer")
    assert.matches("^%x+$", env.tid)
  end)

  it("answers 1004 to a bad signature, 1005 to an unknown client and 1013 to a skewed t", function()
    local env, status = call(sb, creds, { path = "/v1.0/token", query = { grant_type = "1" }, secret = "wrong" })
    assert.equal(200, status)
    assert.is_false(env.success)
    assert.equal(1004, env.code)
    env = call(sb, creds, { path = "/v1.0/token", query = { grant_type = "1" }, client_id = "someoneelse000000000" })
    assert.equal(1005, env.code)
    env = call(sb, creds, { path = "/v1.0/token", query = { grant_type = "1" },
      t = string.format("%d", (os.time() - 3600) * 1000) })
    assert.equal(1013, env.code)
    assert.is_true(math.type(env.t) == "integer")
    -- the nonce is part of the signed string: changing it after signing breaks the signature
    local tok = token()
    env = call(sb, creds, { path = "/v1.0/iot-02/community/room-users", access_token = tok.access_token,
      query = { block_id = block.block_id, page_no = "1", page_size = "1" },
      sign = core.hmac_sha256_hex(creds.secret, "anything", true) })
    assert.equal(1004, env.code)
  end)

  it("answers 1010 on an expired token and honours the single-use refresh token", function()
    local tok = token()
    local args = { path = "/v1.0/iot-02/community/room-users", access_token = tok.access_token,
      query = { block_id = block.block_id, page_no = "1", page_size = "2" } }
    assert.is_true(call(sb, creds, args).success)
    assert(sb:control("tuya", "expire_tokens"))
    assert.equal(1010, call(sb, creds, args).code)
    local env = call(sb, creds, { path = "/v1.0/token/" .. tok.refresh_token })
    assert.is_true(env.success)
    assert.not_equal(tok.access_token, env.result.access_token)
    args.access_token = env.result.access_token
    assert.is_true(call(sb, creds, args).success)
    -- used once: the old refresh token and access token are dead
    assert.is_false(call(sb, creds, { path = "/v1.0/token/" .. tok.refresh_token }).success)
    args.access_token = tok.access_token
    assert.is_false(call(sb, creds, args).success)
  end)

  it("answers 1109 for missing required parameters and 1108 for a wrong verb", function()
    local tok = token()
    local env = call(sb, creds, { path = "/v1.0/iot-02/community/room-users", access_token = tok.access_token,
      query = { page_no = "1", page_size = "2" } })
    assert.equal(1109, env.code)
    assert.matches("block_id", env.msg)
    env = call(sb, creds, { path = "/v1.0/iot-02/community/structure/members", access_token = tok.access_token,
      query = { structure_id = summary.root_structure_id, page_no = "1" } })
    assert.equal(1109, env.code)
    env = call(sb, creds, { path = "/v1.0/iot-02/community/room-users", access_token = tok.access_token,
      query = { block_id = block.block_id, page_no = "1", page_size = "2", mobile_or_name = "12" } })
    assert.equal(1109, env.code)
    env = call(sb, creds, { method = "POST", path = "/v1.0/token", body = "{}" })
    assert.equal(1108, env.code)
  end)

  it("pages deterministically and serves 19-digit string ids", function()
    local tok = token()
    local seen, total = {}, nil
    for page_no = 1, 20 do
      local env = call(sb, creds, { path = "/v1.0/iot-02/community/room-users", access_token = tok.access_token,
        query = { block_id = block.block_id, page_no = tostring(page_no), page_size = "40" } })
      assert.is_true(env.success)
      total = env.result.total_count
      if #env.result.data == 0 then break end
      for _, u in ipairs(env.result.data) do
        assert.matches("^%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d$", u.room_user_id)
        assert.is_nil(seen[u.room_user_id])
        seen[u.room_user_id] = true
      end
    end
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    assert.equal(total, n)
    assert.equal(block.room_users, n)
    local types = {}
    local env = call(sb, creds, { path = "/v1.0/iot-02/community/room-users", access_token = tok.access_token,
      query = { block_id = block.block_id, page_no = "1", page_size = "500" } })
    for _, u in ipairs(env.result.data) do types[u.room_user_type] = true end
    for _, t in ipairs({ "HOUSEHOLDER", "FAMILY", "TENANT", "FRIEND", "RELATIVES", "COLLEAGUE", "DECORATOR",
        "BABYSITTER", "OTHER" }) do
      assert.is_true(types[t], t)
    end
  end)

  it("rejects multi-valued member fields sent as JSON arrays and applies a correct update", function()
    local tok = token()
    local env = call(sb, creds, { path = "/v1.0/iot-02/community/members", access_token = tok.access_token,
      query = { block_id = block.block_id, page_no = "1", page_size = "1" } })
    local m = env.result.data[1]
    local body = { member_id = m.member_id, block_ids = { block.block_id }, structure_id = summary.structure_ids[1],
      education = "Master", role_ids = summary.role_ids[1], admin_name = "Changed", sex = 1, mobile = m.mobile }
    local path = "/v1.0/iot-02/community/member/" .. block.block_id .. "/" .. m.member_id
    env = call(sb, creds, { method = "PUT", path = path, access_token = tok.access_token, body = json.encode(body) })
    assert.equal(1109, env.code)
    body.block_ids = block.block_id
    env = call(sb, creds, { method = "PUT", path = path, access_token = tok.access_token, body = json.encode(body) })
    assert.is_true(env.success)
    assert.is_true(env.result)
    env = call(sb, creds, { path = "/v1.0/iot-02/community/member", access_token = tok.access_token,
      query = { block_id = block.block_id, member_id = m.member_id } })
    assert.equal("Changed", env.result.admin_name)
  end)
end)
