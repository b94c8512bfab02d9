-- The "tuya" sandbox accepts what other correct Tuya clients send, unchanged: requests built
-- here with curl and a signer following the official Python connector's algorithm (no nonce,
-- an empty access_token header on token calls, json.dumps bodies, requests-style '+' for
-- spaces) and Tuya's worked example replayed byte for byte. Nothing here uses dwell.tuya.
local core = require "dwell.core"
local json = require "dwell.json"
local sandbox = require "dwell.sandbox"
local support = require "support.shell"

local C = "/v1.0/iot-02/community"

local q = support.quote

-- Python's requests encodes query values as form data: space -> '+', the rest percent-encoded.
local function form_encode(s)
  return (tostring(s):gsub("[^%w%-%._~ ]", function(c) return string.format("%%%02X", c:byte()) end):gsub(" ", "+"))
end

-- Sends one raw request; `headers` is a list of { name, value } (value "" sends an empty header).
local function send(sb, method, path, query, headers, body)
  local args = { "-X", method }
  for _, h in ipairs(headers) do
    args[#args + 1] = "-H"
    args[#args + 1] = q(h[2] == "" and (h[1] .. ";") or (h[1] .. ": " .. h[2]))
  end
  if body then
    args[#args + 1] = "-H"; args[#args + 1] = q("Content-Type: application/json")
    args[#args + 1] = "--data-binary"; args[#args + 1] = q(body)
  end
  args[#args + 1] = q(sb.url .. path .. (query ~= "" and ("?" .. query) or ""))
  local res = support.curl(table.concat(args, " "))
  assert.equal(200, res.status)
  return json.decode(res.body)
end

-- The Python connector's request: sign = HMAC(secret, client_id [+ token] + t + stringToSign).
local function python_call(sb, creds, method, path, params, body, access_token)
  local keys = {}
  for k in pairs(params or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  local signed, wire = {}, {}
  for i, k in ipairs(keys) do
    signed[i] = k .. "=" .. params[k]
    wire[i] = form_encode(k) .. "=" .. form_encode(params[k])
  end
  local url = path .. (#signed > 0 and ("?" .. table.concat(signed, "&")) or "")
  local sts = method .. "\n" .. core.sha256_hex(body or "") .. "\n\n" .. url
  local t = string.format("%d", math.floor(core.http.realtime() * 1000))
  local sign = core.hmac_sha256_hex(creds.secret, creds.client_id .. (access_token or "") .. t .. sts, true)
  return send(sb, method, path, table.concat(wire, "&"), {
    { "client_id", creds.client_id }, { "sign", sign }, { "sign_method", "HMAC-SHA256" },
    { "access_token", access_token or "" }, { "t", t }, { "lang", "en" }, { "dev_lang", "python" },
    { "dev_channel", "cloud_" },
  }, body)
end

describe("tuya sandbox and an independent client", function()
  local sb, creds, summary

  before_each(function()
    sb = assert(sandbox.start{ host = "127.0.0.1", port = 0, routes = { { set = "tuya" } } })
    creds = assert(sb:control("tuya", "credentials"))
    summary = assert(sb:control("tuya", "summary"))
  end)
  after_each(function() sb:stop() end)

  it("serves the Python connector's token, refresh, reads and writes", function()
    local env = python_call(sb, creds, "GET", "/v1.0/token", { grant_type = "1" })
    assert.is_true(env.success, env.msg)
    local tok = env.result
    local block = summary.blocks[1].block_id

    -- a name with a space and a non-ASCII name: wire form-encoded, signed raw (UTF-8)
    env = python_call(sb, creds, "GET", C .. "/room-users", { block_id = block, page_no = "1", page_size = "100" },
      nil, tok.access_token)
    assert.is_true(env.success, env.msg)
    local name = env.result.data[1].real_name
    assert.matches(" ", name)
    env = python_call(sb, creds, "GET", C .. "/room-users", { block_id = block, page_no = "1", page_size = "10",
      mobile_or_name = name }, nil, tok.access_token)
    assert.is_true(env.success, env.msg)
    assert.is_true(env.result.total_count >= 1)
    env = python_call(sb, creds, "GET", C .. "/householders", { block_id = block, page_no = "1", page_size = "10",
      mobile_or_name = "Müller" }, nil, tok.access_token)
    assert.is_true(env.success, env.msg)

    -- a PUT whose body is json.dumps output (", " and ": " separators): the bytes received are hashed
    env = python_call(sb, creds, "GET", C .. "/members", { block_id = block, page_no = "1", page_size = "1" },
      nil, tok.access_token)
    local m = env.result.data[1]
    local body = string.format('{"member_id": "%s", "block_ids": "%s", "structure_id": "%s", "education": "Master", '
      .. '"role_ids": "%s", "admin_name": "Py Connector", "sex": 1, "mobile": "%s"}', m.member_id, block,
      summary.structure_ids[1], summary.role_ids[1], m.mobile)
    env = python_call(sb, creds, "PUT", C .. "/member/" .. block .. "/" .. m.member_id, nil, body, tok.access_token)
    assert.is_true(env.success, env.msg)
    env = python_call(sb, creds, "GET", C .. "/member", { block_id = block, member_id = m.member_id }, nil,
      tok.access_token)
    assert.equal("Py Connector", env.result.admin_name)

    -- refresh the way the connector does: access token emptied, in the header and the signed string
    env = python_call(sb, creds, "GET", "/v1.0/token/" .. tok.refresh_token)
    assert.is_true(env.success, env.msg)
    assert.not_equal(tok.access_token, env.result.access_token)
    assert.equal(1011, python_call(sb, creds, "GET", C .. "/structure", { structure_id = summary.root_structure_id },
      nil, tok.access_token).code)
    assert.is_true(python_call(sb, creds, "GET", C .. "/structure", { structure_id = summary.root_structure_id },
      nil, env.result.access_token).success)
  end)

  it("answers 1004 to the usual signing mistakes", function()
    local tok = python_call(sb, creds, "GET", "/v1.0/token", { grant_type = "1" }).result
    local block = summary.blocks[1].block_id
    local t = string.format("%d", math.floor(core.http.realtime() * 1000))
    local function attempt(signed_url, wire_query, access_in_str)
      local sts = "GET\n" .. core.sha256_hex("") .. "\n\n" .. signed_url
      local sign = core.hmac_sha256_hex(creds.secret, creds.client_id .. access_in_str .. t .. sts, true)
      return send(sb, "GET", C .. "/room-users", wire_query, { { "client_id", creds.client_id }, { "sign", sign },
        { "sign_method", "HMAC-SHA256" }, { "access_token", tok.access_token }, { "t", t } })
    end
    local wire = "page_size=5&block_id=" .. block .. "&page_no=1&mobile_or_name=Wei+W"
    local good = C .. "/room-users?block_id=" .. block .. "&mobile_or_name=Wei W&page_no=1&page_size=5"
    assert.is_true(attempt(good, wire, tok.access_token).success)
    -- the query signed percent-encoded, unsorted, or the access token left out of the string
    assert.equal(1004, attempt(good:gsub(" ", "%%20"), wire, tok.access_token).code)
    assert.equal(1004, attempt(C .. "/room-users?page_size=5&block_id=" .. block .. "&page_no=1&mobile_or_name=Wei W",
      wire, tok.access_token).code)
    assert.equal(1004, attempt(good, wire, "").code)
  end)

  it("verifies Tuya's worked example byte for byte, trailing newline on the last signed header included", function()
    sb:stop()
    sb = assert(sandbox.start{ host = "127.0.0.1", port = 0, routes = { { set = "tuya", config = {
      client_id = "1KAD46OrT9HafiKdsXeg", secret = "4OHBOnWOqaEC1mWXOpVL3yV50s0qGSRC" } } } })
    -- put the gateway's clock at the example's t so it is not refused as skewed (1013)
    local now = math.floor(core.http.realtime() * 1000)
    assert(sb:control("tuya", "set_clock_offset", { ms = 1588925778000 - now }))
    local headers = { { "client_id", "1KAD46OrT9HafiKdsXeg" }, { "t", "1588925778000" },
      { "sign_method", "HMAC-SHA256" }, { "nonce", "5138cc3a9033d69856923fd07b491173" },
      { "Signature-Headers", "area_id:call_id" }, { "area_id", "29a33e8796834b1efa6" },
      { "call_id", "8afdb70ab2ed11eb85290242ac130003" } }
    local function with_sign(sign)
      local h = { { "sign", sign } }
      for i, x in ipairs(headers) do h[i + 1] = x end
      return h
    end
    local env = send(sb, "GET", "/v1.0/token", "grant_type=1",
      with_sign("9E48A3E93B302EEECC803C7241985D0A34EB944F40FB573C7B5C2A82158AF13E"))
    assert.is_true(env.success, env.msg)
    -- the Java connector's layout (no "\n" after the last header line) is not Tuya's
    local java = "1KAD46OrT9HafiKdsXeg" .. "1588925778000" .. "5138cc3a9033d69856923fd07b491173" .. "GET\n"
      .. "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      .. "area_id:29a33e8796834b1efa6\ncall_id:8afdb70ab2ed11eb85290242ac130003\n/v1.0/token?grant_type=1"
    env = send(sb, "GET", "/v1.0/token", "grant_type=1",
      with_sign(core.hmac_sha256_hex("4OHBOnWOqaEC1mWXOpVL3yV50s0qGSRC", java, true)))
    assert.equal(1004, env.code)
  end)
end)
