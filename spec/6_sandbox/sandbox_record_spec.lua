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

  -- Runs a sandbox command line in the background until it has printed `ready`, then stops it.
  local function serve_briefly(cmd, ready)
    local tmp = openssl.tmpdir()
    local script = ([[
      %s > %s/out 2>&1 & pid=$!
      for i in $(seq 500); do
        grep -q %s %s/out 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.02
      done
      kill -TERM $pid 2>/dev/null
      wait $pid
    ]]):format(support.tool_env .. support.lua_cmd(cmd), tmp, support.quote(ready), tmp)
    local f = assert(io.open(tmp .. "/run.sh", "w"))
    f:write(script)
    f:close()
    support.shell("sh " .. tmp .. "/run.sh")
    local out = read(tmp .. "/out") or ""
    openssl.cleanup(tmp)
    return out
  end

  it("--replay prints the replay's own credentials (--json, --env), as the vendors' sets print theirs", function()
    record_some()
    local fdir = openssl.tmpdir()
    local fixtures = fdir .. "/fixtures.lua"
    local f = assert(io.open(fixtures, "w"))
    f:write('return { replay = { tuya = { client_id = "myreplayclient", secret = "myreplaysecret" } } }')
    f:close()
    local out = serve_briefly("bin/dwell-sandbox --replay " .. dir .. " --json --fixtures " .. fixtures, "listening on")
    openssl.cleanup(fdir)
    local doc = assert(json.decode(out:match("(%b{})")), out)
    assert.equal("myreplayclient", doc.credentials.tuya.client_id)
    assert.equal("myreplaysecret", doc.credentials.tuya.secret)
    assert.is_string(doc.credentials.ruckus.hashed_secret)
    assert.is_string(doc.credentials.rooms.access_token)
    out = serve_briefly("bin/dwell-sandbox --replay " .. dir .. " --env", "listening on")
    assert.truthy(out:find("export DWELL_TUYA_CLIENT_ID='dwellreplay4tuya7client'", 1, true), out)
    assert.truthy(out:find("export DWELL_RUCKUS_HASHED_SECRET=", 1, true), out)
    out = serve_briefly("bin/dwell sandbox --replay " .. dir .. " --json", "url")
    doc = assert(json.decode(out:match("(%b{})")), out)
    assert.equal("dwellreplay4tuya7client", doc.credentials.tuya.client_id)
    assert.equal(doc.url, doc.env.DWELL_TUYA_BASE_URL)
    out = serve_briefly("bin/dwell sandbox --replay " .. dir, "listening on")
    assert.truthy(out:find("credentials for tuya:", 1, true), out)
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

-- Each vendor through its own client: a short session recorded against the vendor's emulation
-- (the upstream, on 127.0.0.1), the upstream stopped, the same session replayed with the
-- replay's own credentials; then what the replay refuses, and a scan of every byte recorded.
describe("sandbox record/replay through the clients", function()
  local rooms_support = require "support.rooms"
  local redact = require "dwell.redact"
  local dir

  -- A result as the cassette keeps it: secret-named fields masked (what replay answers).
  local function masked(v)
    if type(v) ~= "table" then return v end
    local out = {}
    for k, x in pairs(v) do
      if type(k) == "string" and redact.is_secret(k) and type(x) ~= "table" then out[k] = redact.MASK
      else out[k] = masked(x) end
    end
    return out
  end

  before_each(function() dir = openssl.tmpdir() end)
  after_each(function() openssl.cleanup(dir) end)

  -- Every byte of every file under dir.
  local function cassette()
    local p = assert(io.popen("find " .. support.quote(dir) .. " -type f | LC_ALL=C sort"))
    local parts, files = {}, 0
    for path in p:lines() do parts[#parts + 1] = assert(read(path)); files = files + 1 end
    p:close()
    return table.concat(parts, "\n"), files
  end

  local function assert_scrubbed(secrets)
    local text, files = cassette()
    assert.is_true(files > 0)
    local checked = 0
    for _, s in pairs(secrets) do
      if type(s) == "string" and #s >= 6 then
        checked = checked + 1
        assert.is_nil(text:find(s, 1, true), "a secret is in the cassette: " .. s:sub(1, 4) .. "...")
      end
    end
    assert.is_true(checked > 0)
  end

  -- The values of secret-carrying headers the upstream received (tokens, signatures, Authorization).
  local function header_secrets(up, out)
    for _, r in ipairs(up:requests()) do
      for _, name in ipairs({ "sign", "access_token", "authorization" }) do
        local v = r.headers[name]
        if v then
          out[#out + 1] = v
          out[#out + 1] = v:match("^%a+%s+(%S+)$") -- the token of "Bearer <token>"
        end
      end
    end
    return out
  end

  local function record_set(up)
    return assert(sandbox.start{ routes = { { set = "record", config = { dir = dir, upstream = up.url } } } })
  end

  it("tuya: replays a session with its own token and signatures", function()
    local up = assert(sandbox.start{ routes = { "tuya" } })
    local creds = up:control("tuya", "credentials")
    local summary = up:control("tuya", "summary")
    local b = creds.block_ids[1]
    local session = assert(http.new_session())
    local function run(url, c)
      local client = assert(dwell.tuya{ base_url = url, client_id = c.client_id, secret = c.secret })
      local page = assert(client.community.room_users{ block_id = b, page_no = 1, page_size = 3 })
      local members = assert(client.community.members{ block_id = b, page_no = 1, page_size = 2 })
      local m = members.data[1]
      local args = { block_id = b, member_id = m.member_id, block_ids = { b }, role_ids = { summary.role_ids[1] },
        structure_id = summary.structure_ids[1], education = "Master", admin_name = "Replay Ops", sex = 1,
        mobile = m.mobile }
      local updated = assert(client.community.member.update(args))
      return { page = page, members = members, updated = updated }, client, args
    end
    local rec = record_set(up)
    local recorded = run(rec.url, creds)
    -- a token fetched by hand through the recorder: its tokens must not reach the files either
    local tok = json.decode(signed(session, rec.url, creds, "GET", "/v1.0/token", "grant_type=1").body).result
    rec:close()
    local secrets = header_secrets(up, { creds.secret, tok.access_token, tok.refresh_token })
    up:close()

    local rep <close> = assert(sandbox.start{ routes = { { set = "replay", config = { dir = dir } } } })
    local rc = rep:control("replay", "credentials").tuya
    assert.are_not.equal(creds.secret, rc.secret)
    local replayed, client, args = run(rep.url, rc)
    assert.same(masked(recorded), masked(replayed))
    -- the replay issued a token of its own (not the recording's mask), and honours it
    local t = json.decode(signed(session, rep.url, rc, "GET", "/v1.0/token", "grant_type=1").body)
    assert.is_true(t.success)
    assert.matches("^%x+$", t.result.access_token)
    assert.is_true(t.result.expire_time > 0)
    local q = ("block_id=%s&page_no=1&page_size=3"):format(b)
    local ok = json.decode(signed(session, rep.url, rc, "GET", "/v1.0/iot-02/community/room-users", q, t.result.access_token).body)
    assert.same(recorded.page.data[1].room_user_id, ok.result.data[1].room_user_id)
    -- an unknown token, a bad signature (the upstream's secret), a different body
    local bad = json.decode(signed(session, rep.url, rc, "GET", "/v1.0/iot-02/community/room-users", q, "0123456789abcdef").body)
    assert.equal(1011, bad.code)
    local _, err = assert(dwell.tuya{ base_url = rep.url, client_id = rc.client_id, secret = creds.secret })
      .community.room_users{ block_id = b, page_no = 1, page_size = 3 }
    assert.equal(1004, err.code)
    args.admin_name = "Someone Else"
    _, err = client.community.member.update(args)
    assert.equal(404, err.status)
    local stats = rep:control("replay", "replayed")
    assert.is_true(stats.issued >= 2)
    assert.is_true(stats.refused >= 2)
    assert_scrubbed(secrets)
  end)

  it("rooms: replays a session with its own OAuth tokens", function()
    local up = rooms_support.start()
    local function run(url, opts)
      local client = assert(dwell.rooms(rooms_support.config({ url = url }, opts)))
      local list = assert(client.rooms.list{ count = 3 })
      local room = assert(client.rooms.get{ room_id = list.rooms[1].roomId })
      local created = assert(client.rooms.create{ name = "Replayed Listing", role_id = 1 })
      return { list = list, room = room, created = created }, client
    end
    local rec = record_set(up)
    -- the upstream checks the assertion's aud against the Host it is reached at
    local recorded = run(rec.url, { jwt = { aud = up.url:match("^https?://(.*)$") } })
    rec:close()
    local secrets = header_secrets(up, {})
    for _, r in ipairs(up:requests()) do
      if r.path == "/oauth/token" then secrets[#secrets + 1] = r.body:match("assertion=([^&]+)") end
    end
    up:close()

    -- the replay verifies JWT grants with the public key it is given, for its own integration
    local rep <close> = assert(sandbox.start{ routes = { { set = "replay",
      config = { dir = dir, rooms = { public_key = rooms_support.keys().public } } } } })
    local rc = rep:control("replay", "credentials").rooms
    assert.equal(rooms_support.ACCOUNT, rc.account_id)
    local jwt = { integration_key = rc.integration_key, user_id = rc.user_id }
    local replayed, client = run(rep.url, { jwt = jwt })
    assert.same(masked(recorded), masked(replayed))
    assert.is_true(rep:control("replay", "replayed").issued >= 1)
    -- a token of the replay's own, in the vendor's shape
    local session = assert(http.new_session())
    local resp = assert(session:request{ method = "GET", url = rep.url .. "/restapi/v2/accounts/" .. rc.account_id .. "/rooms/"
      .. recorded.list.rooms[1].roomId, headers = { authorization = "Bearer not-a-replay-token", accept = "application/json" } })
    assert.equal(401, resp.status)
    assert.equal("AUTHORIZATION_INVALID_TOKEN", json.decode(resp.body).errorCode)
    -- the developer token the replay prints works; the recording's masked one does not
    resp = assert(session:request{ method = "GET", url = rep.url .. "/restapi/v2/accounts/" .. rc.account_id .. "/rooms/"
      .. recorded.list.rooms[1].roomId, headers = { authorization = "Bearer " .. rc.access_token, accept = "application/json" } })
    assert.equal(200, resp.status)
    assert.equal(recorded.list.rooms[1].roomId, json.decode(resp.body).roomId)
    -- a JWT signed with another key is refused by the OAuth service
    local _, err = assert(dwell.rooms(rooms_support.config({ url = rep.url },
      { jwt = { integration_key = rc.integration_key, user_id = rc.user_id, private_key = rooms_support.keys().other_private } })))
      .rooms.list{ count = 3 }
    assert.equal("auth", err.kind)
    local _, miss = client.rooms.create{ name = "Another Listing", role_id = 1 }
    assert.equal(404, miss.status)
    assert_scrubbed(secrets)
  end)

  it("ruckus: replays a session with its own unit token", function()
    local up = assert(sandbox.start{ routes = { { set = "ruckus", config = { users = 6 } } } })
    local creds = up:control("ruckus", "credentials")
    local users = up:control("ruckus", "users")
    local unit = up:control("ruckus", "unit")
    local function run(url, secret)
      local portal = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = secret, base_url = url,
        retry = { attempts = 1 } })
      local page = assert(portal.units.users.query{ page = 0, page_size = 3 })
      local u = assert(portal.units.get{})
      local one = assert(portal.units.users.get{ user_id = page.content[1].userId })
      local updated = assert(portal.units.users.update{ user_id = one.userId, user_name = "Replayed Name" })
      return { page = page, unit = u, one = one, updated = updated }, portal
    end
    local rec = record_set(up)
    local recorded = run(rec.url, creds.hashed_secret)
    rec:close()
    local secrets = header_secrets(up, { creds.hashed_secret, unit.secret, unit.guestSecret })
    for _, u in ipairs(users) do secrets[#secrets + 1] = u.passphrase end
    up:close()

    local rep <close> = assert(sandbox.start{ routes = { { set = "replay", config = { dir = dir } } } })
    local rc = rep:control("replay", "credentials").ruckus
    assert.equal(creds.property_id, rc.property_id)
    assert.are_not.equal(creds.hashed_secret, rc.hashed_secret)
    local replayed, portal = run(rep.url, rc.hashed_secret)
    assert.same(masked(recorded), masked(replayed))
    local session = assert(http.new_session())
    local base = rep.url .. "/residents/properties/" .. rc.property_id
    local login = assert(session:request{ method = "POST", url = base .. "/units/logins",
      headers = { ["content-type"] = "application/json" }, body = json.encode{ hashedSecret = rc.hashed_secret } })
    assert.equal(200, login.status)
    local tok = json.decode(login.body)
    assert.equal(unit.guid, tok.unitGuid) -- the recorded answer's shape ...
    assert.matches("^rp%x+$", tok.token)  -- ... with the replay's token
    local resp = assert(session:request{ method = "GET", url = base .. "/units", headers = { authorization = tok.token } })
    assert.equal(200, resp.status)
    resp = assert(session:request{ method = "GET", url = base .. "/units", headers = { authorization = "rk-unknown" } })
    assert.equal(401, resp.status)
    resp = assert(session:request{ method = "POST", url = base .. "/units/logins",
      headers = { ["content-type"] = "application/json" }, body = json.encode{ hashedSecret = creds.hashed_secret } })
    assert.equal(401, resp.status)
    local _, err = portal.units.users.update{ user_id = recorded.one.userId, user_name = "Someone Else" }
    assert.equal(404, err.status)
    assert_scrubbed(secrets)
  end)
end)
