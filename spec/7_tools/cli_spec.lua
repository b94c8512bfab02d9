-- bin/dwell, run as a real process against the sandbox: formats over a 3-page --all, progress
-- only on a terminal, --dry-run sends nothing, --trace shows no secret, exit statuses by kind,
-- the settings chain, the profile file's permissions, dwell sandbox --env, completions.
local support = require "support.shell"
local openssl = require "support.openssl"
local sandbox = require "dwell.sandbox"
local json = require "dwell.json"

local q = support.quote

-- DWELL_* settings of the developer's own shell must not leak into the runs.
local CLEAN = "env -u DWELL_PROFILE -u DWELL_TRACE -u DWELL_CONFIG"
do
  local parts = { CLEAN }
  for _, vendor in ipairs{ "tuya", "rooms", "ruckus" } do
    for _, s in ipairs(require("dwell.profile").SETTINGS[vendor]) do parts[#parts + 1] = "-u " .. s.env end
  end
  CLEAN = table.concat(parts, " ")
end

local home -- an empty HOME / XDG_CONFIG_HOME for every run (no profile file unless a spec writes one)

local function env_words(env)
  local words = { ("HOME=%s XDG_CONFIG_HOME=%s"):format(q(home), q(home .. "/config")) }
  local names = {}
  for k in pairs(env or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do words[#words + 1] = k .. "=" .. q(env[k]) end
  return table.concat(words, " ")
end

-- Runs `dwell <args>` (already quoted); returns stdout, stderr, exit status.
local function dwell(args, env)
  local err = os.tmpname()
  local out, rc = support.shell(("%s %s %s %s 2>%s"):format(CLEAN, env_words(env), support.sanitizer_env(),
    support.lua_cmd("bin/dwell " .. args), err))
  local stderr = support.read_all(err)
  os.remove(err)
  return out, stderr, rc
end

local function lines(s)
  local out = {}
  for line in s:gmatch("[^\n]+") do out[#out + 1] = line end
  return out
end

local sb, creds, env

local function write_file(path, text, mode)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  if mode then assert(os.execute(("chmod %s %s"):format(mode, q(path)))) end
end

setup(function()
  home = openssl.tmpdir()
  sb = assert(sandbox.start{ routes = { "tuya", "rooms", "ruckus" } })
  creds = { tuya = sb:control("tuya", "credentials"), rooms = sb:control("rooms", "credentials"),
    ruckus = sb:control("ruckus", "credentials") }
  env = {
    DWELL_TUYA_BASE_URL = sb.url, DWELL_TUYA_CLIENT_ID = creds.tuya.client_id, DWELL_TUYA_SECRET = creds.tuya.secret,
    DWELL_ROOMS_BASE_URL = sb.url .. "/restapi", DWELL_ROOMS_AUTH_BASE_URL = sb.url,
    DWELL_ROOMS_ACCOUNT_ID = creds.rooms.account_id, DWELL_ROOMS_ACCESS_TOKEN = creds.rooms.access_token,
    DWELL_RUCKUS_BASE_URL = sb.url, DWELL_RUCKUS_PROPERTY_ID = creds.ruckus.property_id,
    DWELL_RUCKUS_HASHED_SECRET = creds.ruckus.hashed_secret,
  }
end)

teardown(function()
  if sb then sb:close() end
  openssl.cleanup(home)
end)

local function with(extra)
  local e = {}
  for k, v in pairs(env) do e[k] = v end
  for k, v in pairs(extra or {}) do e[k] = v ~= false and v or nil end
  return e
end

local function count(prefix)
  local n = 0
  for _, r in ipairs(sb:requests()) do
    if r.path:sub(1, #prefix) == prefix then n = n + 1 end
  end
  return n
end

describe("dwell <vendor> <endpoint> --all", function()
  local block, expected
  local ROOM_USERS = "/v1.0/iot-02/community/room-users"

  setup(function()
    block = creds.tuya.block_ids[1]
    local tuya = assert(require("dwell").tuya{ base_url = sb.url, client_id = creds.tuya.client_id,
      secret = creds.tuya.secret })
    expected = {}
    for u in tuya.community.room_users:each{ block_id = block, page_size = 60 } do expected[#expected + 1] = u.room_user_id end
    assert(#expected > 120 and #expected <= 180, "the seeded block holds 3 pages of 60")
  end)

  local function all(format, extra)
    sb:reset()
    local out, err, rc = dwell(("tuya community.room_users block_id=%s page_size=60 --all %s %s"):format(
      block, format and ("--format " .. format) or "", extra or ""), env)
    assert.are.equal(0, rc, err)
    assert.are.equal(3, count(ROOM_USERS), "three pages were read")
    return out, err
  end

  it("jsonl (the default): one item a line, every id exact", function()
    local out, err = all(nil)
    assert.are.equal("", err, "nothing on stderr when it is not a terminal")
    local ids = {}
    for i, line in ipairs(lines(out)) do ids[i] = assert(json.decode(line)).room_user_id end
    assert.are.same(expected, ids)
  end)

  it("--concurrency N: the same items in the same order, each page read once", function()
    local out = all(nil, "--concurrency 3")
    local ids = {}
    for i, line in ipairs(lines(out)) do ids[i] = assert(json.decode(line)).room_user_id end
    assert.are.same(expected, ids)
  end)

  it("--concurrency: refused when not a positive integer or without --all", function()
    for _, bad in ipairs{ "--all --concurrency 0", "--all --concurrency two", "--all --concurrency 1.5" } do
      local _, err, rc = dwell(("tuya community.room_users block_id=%s %s"):format(block, bad), env)
      assert.are.equal(2, rc, bad)
      assert.truthy(err:find("--concurrency: must be an integer >= 1", 1, true), err)
    end
    local _, err, rc = dwell(("tuya community.room_users block_id=%s --concurrency 4"):format(block), env)
    assert.are.equal(2, rc)
    assert.truthy(err:find("--concurrency needs --all", 1, true), err)
  end)

  it("json: one array", function()
    local out = all("json")
    local doc = assert(json.decode(out))
    assert.are.equal(#expected, #doc)
    for i, item in ipairs(doc) do assert.are.equal(expected[i], item.room_user_id) end
  end)

  it("csv: a header (the union of keys) and a row per item; --fields picks columns", function()
    local out = all("csv")
    local rows = lines(out:gsub("\r", ""))
    assert.are.equal(#expected + 1, #rows)
    local header = {}
    for name in rows[1]:gmatch("[^,]+") do header[#header + 1] = name end
    local col
    for i, name in ipairs(header) do if name == "room_user_id" then col = i end end
    assert.truthy(col, rows[1])
    assert.truthy(rows[1]:find("parent_id_list", 1, true), "nested values get a column too")
    out = all("csv", "--fields room_user_id,real_name")
    rows = lines(out:gsub("\r", ""))
    assert.are.equal("room_user_id,real_name", rows[1])
    assert.are.equal(#expected + 1, #rows)
    for i = 2, #rows do assert.are.equal(expected[i - 1], rows[i]:match("^([^,]+),")) end
  end)

  it("table: aligned columns", function()
    local out = all("table", "--fields room_user_id,sex")
    local rows = lines(out)
    assert.are.equal(#expected + 2, #rows)
    assert.truthy(rows[1]:match("^room_user_id%s+sex$"), rows[1])
    assert.truthy(rows[2]:match("^%-+  %-+$"), rows[2])
    for i = 3, #rows do
      assert.are.equal(expected[i - 2], rows[i]:match("^(%d+)%s"))
      assert.are.equal(#rows[1], #rows[i] + (3 - #rows[i]:match("(%S+)$")), "aligned")
    end
  end)

  it("shows a progress line on a terminal only (never in piped output)", function()
    sb:reset()
    local cmd = ("%s %s %s %s"):format(CLEAN, env_words(env), support.sanitizer_env(), support.lua_cmd(
      ("bin/dwell tuya community.room_users block_id=%s page_size=60 --all --fields room_user_id --format csv"):format(block)))
    local log = os.tmpname()
    local out = support.shell(("%s script -qec %s %s"):format(support.tool_env, q(cmd), q(log)))
    os.remove(log)
    assert.truthy(out:find("dwell: " .. #expected .. " items of " .. #expected .. ", 3 pages", 1, true), out)
    assert.truthy(out:find("items/s", 1, true))
    -- piped: stdout holds only the rows, stderr nothing
    local piped, err = all("csv", "--fields room_user_id")
    assert.are.equal("", err)
    assert.is_nil(piped:find("items/s", 1, true))
  end)
end)

describe("dwell output formats", function()
  local output = require "dwell.cli.output"

  local function render(format, items, fields)
    local f = assert(io.tmpfile())
    local w = output.writer{ format = format, out = f, fields = fields }
    for _, item in ipairs(items) do w:item(item) end
    w:finish()
    f:seek("set", 0)
    local s = f:read("a")
    f:close()
    return s
  end

  it("keeps 19-digit integers exact in every format; nested values are JSON in cells", function()
    local items = assert(json.decode('[{"id":1382581044365020763,"n":{"a":[1,2]},"s":"x,\\"y\\""},'
      .. '{"id":9223372036854775807,"extra":true}]'))
    for _, format in ipairs{ "json", "jsonl", "csv", "table" } do
      local s = render(format, items)
      assert.truthy(s:find("1382581044365020763", 1, true), format)
      assert.truthy(s:find("9223372036854775807", 1, true), format)
    end
    local csv = render("csv", items)
    assert.are.equal('id,n,s,extra\r\n1382581044365020763,"{""a"":[1,2]}","x,""y""",\r\n'
      .. "9223372036854775807,,,true\r\n", csv)
  end)
end)

describe("dwell --dry-run and --trace", function()
  it("--dry-run prints the prepared request with secrets masked and sends nothing", function()
    sb:reset()
    local before = sb:stats().served
    local out, err, rc = dwell("tuya community.member.update block_id=1382581044365020007 member_id=1382581044365020999"
      .. " admin_name=Ops sex=1 block_ids=1382581044365020007 role_ids=a,b role_ids=c structure_id=s education=none"
      .. " mobile=13800000000 --dry-run", env)
    assert.are.equal(0, rc, err)
    assert.are.equal(before, sb:stats().served, "nothing was sent")
    local req = assert(json.decode(out))
    assert.are.equal("PUT", req.method)
    assert.are.equal("[redacted]", req.headers.sign)
    assert.are.equal("[redacted]", req.headers.access_token)
    assert.are.equal("a,b,c", req.body.role_ids)
    assert.are.equal("1382581044365020007", req.body.block_ids)
    assert.is_nil(out:find(creds.tuya.secret, 1, true))
    out, err, rc = dwell("ruckus units.logins.create --dry-run", env)
    assert.are.equal(0, rc, err)
    assert.is_nil(out:find(creds.ruckus.hashed_secret, 1, true), out)
    out, err, rc = dwell("rooms rooms.users.list room_id=1001 --dry-run", env)
    assert.are.equal(0, rc, err)
    assert.is_nil(out:find(creds.rooms.access_token, 1, true), out)
    assert.are.equal(before, sb:stats().served)
  end)

  it("--trace shows requests, responses and Tuya's string-to-sign, and no secret or token", function()
    sb:reset()
    local _, err, rc = dwell(("tuya community.room_users block_id=%s page_size=2 --trace"):format(creds.tuya.block_ids[1]), env)
    assert.are.equal(0, rc, err)
    assert.truthy(err:find("tuya string-to-sign: \"GET\\n", 1, true), err)
    assert.truthy(err:find("> tuya GET " .. sb.url .. "/v1.0/iot-02/community/room-users?", 1, true), err)
    assert.truthy(err:find("< tuya HTTP 200", 1, true), err)
    local secrets = { creds.tuya.secret }
    for _, r in ipairs(sb:requests()) do
      secrets[#secrets + 1] = r.headers.sign
      if r.headers.access_token and r.headers.access_token ~= "" then secrets[#secrets + 1] = r.headers.access_token end
    end
    assert.is_true(#secrets >= 4)
    for _, s in ipairs(secrets) do assert.is_nil(err:find(s, 1, true), "trace shows a secret: " .. s) end

    sb:reset()
    _, err, rc = dwell("ruckus units.users.query page_size=2 --trace", env)
    assert.are.equal(0, rc, err)
    secrets = { creds.ruckus.hashed_secret }
    for _, r in ipairs(sb:requests()) do secrets[#secrets + 1] = r.headers.authorization end
    assert.is_true(#secrets >= 2)
    for _, s in ipairs(secrets) do assert.is_nil(err:find(s, 1, true), "trace shows a secret: " .. s) end
    _, err = dwell("rooms rooms.users.list room_id=1001 count=2 --trace", env)
    assert.truthy(err:find("< rooms HTTP 200", 1, true), err)
    assert.is_nil(err:find(creds.rooms.access_token, 1, true))
  end)

  it("DWELL_TRACE=1 turns the same trace on for any Lua script", function()
    local script = os.tmpname()
    write_file(script, [[
      local tuya = assert(require("dwell").tuya())
      assert(tuya.community.room_users{ block_id = os.getenv("BLOCK"), page_no = 1, page_size = 1 })
    ]])
    local err = os.tmpname()
    local _, rc = support.shell(("%s %s %s %s 2>%s"):format(CLEAN, env_words(with{ DWELL_TRACE = "1",
      BLOCK = creds.tuya.block_ids[1] }), support.sanitizer_env(), support.lua_cmd(script), err))
    local text = support.read_all(err)
    os.remove(script); os.remove(err)
    assert.are.equal(0, rc, text)
    assert.truthy(text:find("dwell trace: > tuya GET", 1, true), text)
    assert.truthy(text:find("string-to-sign", 1, true), text)
    assert.is_nil(text:find(creds.tuya.secret, 1, true))
  end)
end)

describe("dwell exit statuses", function()
  local faulty

  setup(function()
    local P = "/residents/properties/{p}"
    faulty = assert(sandbox.start{ routes = { "ruckus" }, faults = {
      { match = "GET " .. P .. "/access", kind = "status", status = 403 },
      { match = "GET " .. P .. "/units/devices", kind = "status", status = 404 },
      { match = "GET " .. P .. "/styles", kind = "status", status = 429, headers = { ["Retry-After"] = "0" } },
      { match = "GET " .. P .. "/uiConfigurations", kind = "status", status = 400 },
      { match = "GET " .. P, kind = "status", status = 501 },
      { match = "POST " .. P .. "/units/users/query", kind = "status", status = 429, times = 1,
        headers = { ["Retry-After"] = "1" } },
    } })
  end)
  teardown(function() if faulty then faulty:close() end end)

  local function status_of(args, extra)
    local _, err, rc = dwell(args, with(extra))
    assert.are.equal(1, #lines(err), "one line on stderr: " .. err)
    return rc, err
  end

  it("tells the error kind", function()
    local on_faulty = { DWELL_RUCKUS_BASE_URL = faulty.url }
    assert.are.equal(2, (status_of("tuya community.room_users block_id=1 page_size=many")))
    assert.are.equal(2, (status_of("tuya community.room_users block_id=1 pagesize=2")))
    local rc, err = status_of("tuya community.room_users block_id=1", { DWELL_TUYA_SECRET = "wrong-secret-0000" })
    assert.are.equal(3, rc, err)
    assert.is_nil(err:find("wrong-secret-0000", 1, true))
    assert.are.equal(3, (status_of("ruckus access.get", on_faulty)))
    assert.are.equal(4, (status_of("ruckus units.devices.list type=UNIT", on_faulty)))
    assert.are.equal(5, (status_of("ruckus styles.get", on_faulty)))
    assert.are.equal(7, (status_of("ruckus ui_configurations.get", on_faulty)))
    assert.are.equal(7, (status_of("ruckus property.get", on_faulty)))
    assert.are.equal(6, (status_of("tuya community.room_users block_id=1", { DWELL_TUYA_BASE_URL = "http://127.0.0.1:1" })))
    assert.are.equal(0, (dwell("tuya community.room_users block_id=1 page_size=1", env)) and 0)
  end)

  it("shows a resend and its wait in the trace and in the progress line", function()
    local cmd = ("%s %s %s %s"):format(CLEAN, env_words(with{ DWELL_RUCKUS_BASE_URL = faulty.url }), support.sanitizer_env(),
      support.lua_cmd("bin/dwell ruckus units.users.query page_size=20 --all --trace --format jsonl"))
    local log = os.tmpname()
    local out = support.shell(("%s script -qec %s %s"):format(support.tool_env, q(cmd), q(log)))
    os.remove(log)
    assert.truthy(out:find("< ruckus HTTP 429 POST", 1, true), out)
    local waited = tonumber(out:match("%(attempt 2%), resent after waiting ([%d.]+) s"))
    assert.truthy(waited and waited >= 0.9, out)
    assert.truthy(out:find("1 waits (", 1, true), out)
  end)

  it("refuses a misspelt endpoint with a did-you-mean, status 2", function()
    local _, err, rc = dwell("tuya community.room_user block_id=1", env)
    assert.are.equal(2, rc)
    assert.truthy(err:find("Did you mean 'community.room_users'?", 1, true), err)
    _, err, rc = dwell("describe rooms rooms.user.list")
    assert.are.equal(2, rc)
    assert.truthy(err:find("did you mean 'rooms.users.list'", 1, true), err)
  end)
end)

describe("dwell settings", function()
  local cfgdir

  before_each(function()
    cfgdir = home .. "/config/dwell"
    assert(os.execute("mkdir -p " .. q(cfgdir)))
  end)
  after_each(function() os.remove(cfgdir .. "/config") end)

  local function profile_file(text, mode)
    write_file(cfgdir .. "/config", text, mode or "600")
  end

  it("takes options, then the environment, then the profile file (named profiles too)", function()
    profile_file(("[default]\ntuya.client_id = %s\ntuya.secret = %s\ntuya.base_url = %s\n\n"
      .. "# a profile stands alone: nothing comes from [default]\n[broken]\ntuya.client_id = %s\ntuya.secret = 'nope-0000'\n"
      .. "tuya.base_url = %s\n"):format(creds.tuya.client_id, creds.tuya.secret, sb.url, creds.tuya.client_id, sb.url))
    local args = "tuya community.room_users block_id=1 page_size=1"
    local _, err, rc = dwell(args)                                            -- all from the profile
    assert.are.equal(0, rc, err)
    _, _, rc = dwell(args, { DWELL_TUYA_SECRET = "env-wrong-secret" })       -- the environment wins
    assert.are.equal(3, rc)
    _, _, rc = dwell(args .. " --profile broken")                            -- a named profile
    assert.are.equal(3, rc)
    _, _, rc = dwell(args, { DWELL_PROFILE = "broken" })
    assert.are.equal(3, rc)
    _, err, rc = dwell(args .. " --profile brokn")
    assert.are.equal(2, rc)
    assert.truthy(err:find("no profile 'brokn'", 1, true) and err:find("did you mean 'broken'", 1, true), err)

    -- in Lua: an option beats both
    local profile = require "dwell.profile"
    local getenv = function(k)
      return ({ XDG_CONFIG_HOME = home .. "/config", DWELL_TUYA_CLIENT_ID = "from-env", DWELL_TUYA_REGION = "eu" })[k]
    end
    local cfg, from = profile.resolve("tuya", { client_id = "from-option" }, getenv)
    assert.are.equal("from-option", cfg.client_id)
    assert.are.equal(creds.tuya.secret, cfg.secret)
    assert.truthy(from.secret:find("^profile 'default'"))
    -- where a vendor is reached comes whole from the first source that says: env's region, not the profile's base_url
    assert.are.equal("eu", cfg.region)
    assert.is_nil(cfg.base_url)
    assert.are.equal("env DWELL_TUYA_CLIENT_ID", select(2, profile.resolve("tuya", nil, getenv)).client_id)
  end)

  it("refuses a profile file group or others can read, as ssh does", function()
    profile_file("[default]\ntuya.secret = x\n", "644")
    local _, err, rc = dwell("tuya community.room_users block_id=1")
    assert.are.equal(2, rc)
    assert.truthy(err:find("accessible by group or others (mode 0644)", 1, true), err)
    assert.truthy(err:find("chmod 600", 1, true), err)
    local client, e = require("dwell.profile").client("tuya", nil, nil,
      function(k) return ({ XDG_CONFIG_HOME = home .. "/config" })[k] end)
    assert.is_nil(client)
    assert.are.equal("invalid_argument", e.kind)
  end)

  it("signs the Rooms JWT grant with a key from DWELL_ROOMS_PRIVATE_KEY_FILE (PEM with literal \\n); the trace shows none of it", function()
    local rooms_support = require "support.rooms"
    local rsb = rooms_support.start()
    local pem = rooms_support.keys().private
    local jwt_env = { DWELL_ROOMS_ACCOUNT_ID = rooms_support.ACCOUNT, DWELL_ROOMS_INTEGRATION_KEY = rooms_support.IK,
      DWELL_ROOMS_USER_ID = rooms_support.USER, DWELL_ROOMS_PRIVATE_KEY_FILE = (pem:gsub("\n", "\\n")),
      DWELL_ROOMS_BASE_URL = rsb.url .. "/restapi", DWELL_ROOMS_AUTH_BASE_URL = rsb.url }
    local out, err, rc = dwell("rooms rooms.users.list room_id=1001 count=2 --format jsonl --trace", jwt_env)
    local tokens = {}
    for _, r in ipairs(rsb:requests()) do
      if r.headers.authorization then tokens[#tokens + 1] = r.headers.authorization:match("^Bearer (.+)$") end
    end
    rsb:close()
    assert.are.equal(0, rc, err)
    assert.are.equal(2, #lines(out))
    assert.truthy(err:find("> rooms POST " .. rsb.url .. "/oauth/token", 1, true), err)
    assert.is_true(#tokens >= 1)
    for _, s in ipairs(tokens) do assert.is_nil(err:find(s, 1, true)) end
    for line in pem:gmatch("[^\n]+") do
      if not line:find("-----", 1, true) then assert.is_nil(err:find(line, 1, true)) end
    end
  end)

  it("reads a Rooms private key from a file path or PEM text with literal \\n", function()
    local profile = require "dwell.profile"
    local pem = require("support.rooms").keys().private
    local path = home .. "/key.pem"
    write_file(path, pem, "600")
    local escaped = pem:gsub("\n", "\\n")
    for _, v in ipairs{ path, pem, escaped } do
      local cfg = assert(profile.resolve("rooms", nil, function(k)
        return ({ DWELL_ROOMS_ACCOUNT_ID = "a", DWELL_ROOMS_INTEGRATION_KEY = "ik", DWELL_ROOMS_USER_ID = "u",
          DWELL_ROOMS_PRIVATE_KEY_FILE = v, DWELL_ROOMS_ENV = "demo" })[k]
      end))
      assert.are.equal(pem, cfg.jwt.private_key)
      assert.is_nil(cfg.access_token)
    end
    local cfg, err = profile.resolve("rooms", { account_id = "a", jwt = { integration_key = "ik", private_key = home .. "/none" } },
      function() return nil end)
    assert.is_nil(cfg)
    assert.truthy(tostring(err):find("neither PEM text nor a readable file", 1, true))
  end)
end)

describe("dwell sandbox, endpoints, describe, completion, help", function()
  it("dwell sandbox --env: eval points the CLI at it", function()
    local script = ([[
      eval "$(%s)" || exit 9
      %s
      rc=$?
      kill "$DWELL_SANDBOX_PID"
      exit $rc
    ]]):format(support.lua_cmd("bin/dwell sandbox --routes tuya"),
      support.lua_cmd("bin/dwell tuya community.room_users block_id=$DWELL_TUYA_BLOCK_ID page_size=1 --format jsonl"))
    local out, rc = support.shell(("%s %s %s sh -c %s"):format(CLEAN, env_words(), support.sanitizer_env(),
      q(script:gsub("sandbox %-%-routes tuya", "sandbox --routes tuya --env"))))
    assert.are.equal(0, rc, out)
    assert.are.equal(1, #lines(out), out)
    assert.truthy(json.decode(out).room_user_id, out)
  end)

  it("lists and describes endpoints", function()
    local out, _, rc = dwell("endpoints rooms")
    assert.are.equal(0, rc)
    assert.truthy(out:find("rooms%s+rooms%.users%.list%s+GET%s+/v2/accounts/{accountId}/rooms/{roomId}/users"), out)
    out, _, rc = dwell("describe tuya community.member.update")
    assert.are.equal(0, rc)
    for _, s in ipairs{ "PUT /v1.0/iot-02/community/member/{block_id}/{member_id}", "role_ids", "list of string",
        "one of 1, 2", "Retries: a write", "dwell tuya community.member.update block_id=" } do
      assert.truthy(out:find(s, 1, true), s .. "\n" .. out)
    end
    out = dwell("describe ruckus units.users.query")
    assert.truthy(out:find("idempotent", 1, true), out)
  end)

  it("generates completion scripts for bash, zsh and fish", function()
    local out, _, rc = dwell("completion bash")
    assert.are.equal(0, rc)
    assert.truthy(out:find("complete -F", 1, true))
    assert.truthy(out:find("community.room_users", 1, true))
    local f = os.tmpname()
    write_file(f, out)
    local _, ok = support.shell("bash -n " .. q(f) .. " 2>&1")
    os.remove(f)
    assert.are.equal(0, ok)
    out = dwell("completion zsh")
    assert.truthy(out:find("#compdef dwell", 1, true))
    out = dwell("completion fish")
    assert.truthy(out:find("complete -c dwell", 1, true))
  end)

  it("has --help on every command and every endpoint", function()
    local words = { "--help", "tuya --help", "endpoints --help", "describe --help", "sandbox --help" }
    for _, vendor in ipairs{ "tuya", "rooms", "ruckus" } do
      for _, ep in ipairs(require("dwell.cli.describe").catalogue(vendor)) do
        words[#words + 1] = vendor .. " " .. ep.spec.name .. " --help"
      end
    end
    local script = {}
    for _, w in ipairs(words) do
      script[#script + 1] = ("%s >/dev/null 2>&1 || echo 'failed: %s'"):format(support.lua_cmd("bin/dwell " .. w), w)
    end
    local out = support.shell(support.sanitizer_env() .. " sh -c " .. q(table.concat(script, "\n")))
    assert.are.equal("", out)
    local help = dwell("rooms rooms.users.list --help")
    assert.truthy(help:find("room_id", 1, true) and help:find("vendor spelling roomId", 1, true), help)
  end)
end)
