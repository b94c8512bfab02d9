-- Record and replay: the "record" route set forwards to an upstream (here another
-- sandbox on 127.0.0.1) and writes each exchange with secrets scrubbed by dwell.redact's list;
-- "replay" answers from those files. Driven through dwell.tuya, as a user's test would.
local sandbox = require "dwell.sandbox"
local dwell = require "dwell"
local json = require "dwell.json"
local http = require("dwell.core").http
local openssl = require "support.openssl"
local support = require "support.shell"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- A request signed by hand with the Tuya rules the sandbox verifies (dwell.sandbox.tuya.auth),
-- for the checks the client would never make (an unknown token).
local tuya_auth = require "dwell.sandbox.tuya.auth"
local function signed(session, url, creds, method, path, query, token, body)
  local headers = { client_id = creds.client_id, t = tostring(math.floor(os.time() * 1000)), nonce = "n0nce",
    sign_method = "HMAC-SHA256", access_token = token }
  local req = { method = method, path = path, query = query or "", headers = headers, body = body or "" }
  headers.sign = tuya_auth.expected_sign(creds, req, token == nil)
  if body then headers["content-type"] = "application/json" end
  return assert(session:request{ method = method, url = url .. path .. (query and query ~= "" and ("?" .. query) or ""),
    headers = headers, body = body })
end

describe("sandbox record/replay", function()
  local upstream, creds, dir

  before_each(function()
    upstream = assert(sandbox.start{ routes = { "tuya" } })
    creds = assert(upstream:control("tuya", "credentials"))
    dir = openssl.tmpdir()
  end)
  after_each(function()
    upstream:close()
    openssl.cleanup(dir)
  end)

  local function record_some()
    local rec <close> = assert(sandbox.start{ routes = { { set = "record", config = { dir = dir, upstream = upstream.url } } } })
    local tuya = assert(dwell.tuya{ base_url = rec.url, client_id = creds.client_id, secret = creds.secret })
    local page = assert(tuya.community.room_users{ block_id = creds.block_ids[1], page_no = 1, page_size = 3 })
    assert.equal(3, #page.data)
    assert.equal(2, rec:control("record", "recorded").count) -- the token, then the page
    return page
  end

  it("forwards to the upstream and writes each exchange, secrets scrubbed", function()
    local page = record_some()
    assert.equal(2, #upstream:requests())
    local token_file = json.decode(assert(read(dir .. "/000001.json")))
    local page_file = json.decode(assert(read(dir .. "/000002.json")))
    assert.is_nil(read(dir .. "/000003.json"))
    assert.equal("/v1.0/token", token_file.request.path)
    assert.equal("grant_type=1", token_file.request.query)
    assert.equal(200, token_file.response.status)
    local result = json.decode(token_file.response.body).result
    assert.equal("[redacted]", result.access_token)
    assert.equal("[redacted]", result.refresh_token)
    assert.is_true(result.expire_time > 0)
    assert.equal("[redacted]", token_file.request.headers.sign)
    assert.equal(creds.client_id, token_file.request.headers.client_id) -- not a secret
    assert.equal("[redacted]", page_file.request.headers.access_token)
    assert.equal(page.data[1].room_user_id, json.decode(page_file.response.body).result.data[1].room_user_id)
    -- The real token and signatures the upstream saw appear in no file.
    local all = read(dir .. "/000001.json") .. read(dir .. "/000002.json")
    for _, r in ipairs(upstream:requests()) do
      assert.is_nil(all:find(r.headers.sign, 1, true))
      if r.headers.access_token then assert.is_nil(all:find(r.headers.access_token, 1, true)) end
    end
  end)

  it("replays what was recorded, by method, path and query", function()
    local page = record_some()
    local rep <close> = assert(sandbox.start{ routes = { { set = "replay", config = { dir = dir } } } })
    local session = assert(http.new_session())
    -- Tuya calls need a token from the replay and its signature (made by hand here)
    local q = ("block_id=%s&page_no=1&page_size=3"):format(creds.block_ids[1])
    local rcreds = rep:control("replay", "credentials").tuya
    local tok = json.decode(signed(session, rep.url, rcreds, "GET", "/v1.0/token", "grant_type=1").body).result
    local resp = signed(session, rep.url, rcreds, "GET", "/v1.0/iot-02/community/room-users", q, tok.access_token)
    assert.equal(200, resp.status)
    local env = json.decode(resp.body)
    assert.is_true(env.success)
    assert.equal(page.data[2].room_user_id, env.result.data[2].room_user_id)
    resp = signed(session, rep.url, rcreds, "GET", "/v1.0/iot-02/community/room-users", "page_no=9", tok.access_token)
    assert.equal(404, resp.status)
    assert.equal("not_recorded", json.decode(resp.body).error)
    assert.equal("query_differs", json.decode(resp.body).reason)
    resp = assert(session:request{ method = "GET", url = rep.url .. "/nowhere" })
    assert.equal(404, resp.status)
    assert.equal("not_recorded", json.decode(resp.body).reason)
    assert.same({ exchanges = 2, served = 1, missed = 2, issued = 1, refused = 0 }, rep:control("replay", "replayed"))
    -- A recording continues after the exchanges already there.
    record_some()
    assert.truthy(read(dir .. "/000004.json"))
  end)

  it("bin/dwell-sandbox refuses half a --record / --replay option", function()
    local function cli(args)
      return support.shell(support.tool_env .. support.lua_cmd("bin/dwell-sandbox " .. args) .. " 2>&1; echo exit=$?")
    end
    local out = cli("--record " .. dir)
    assert.truthy(out:find("--record needs --upstream", 1, true), out)
    assert.truthy(out:find("exit=2", 1, true), out)
    out = cli("--replay " .. dir .. " --record " .. dir .. " --upstream http://127.0.0.1:1")
    assert.truthy(out:find("one at a time", 1, true), out)
  end)
end)
