-- Every example under examples/ run as a user would: a separate lua5.4 process without
-- LUA_PATH / LUA_CPATH (each finds the checkout's lua/ and build/ from its own path, through
-- examples/_setup.lua) and without the developer's DWELL_* settings or profile file, both from
-- the checkout (lua5.4 examples/x.lua) and from another directory (lua5.4 /path/to/examples/x.lua):
-- --help, --sandbox, bad options, missing settings, and the settings chain against a sandbox.
local support = require "support.shell"
local openssl = require "support.openssl"
local sandbox = require "dwell.sandbox"
local cli_sandbox = require "dwell.cli.sandbox"

local q = support.quote

local ROOT -- the checkout (run-specs runs from it)
do
  local p = assert(io.popen("pwd -P"))
  ROOT = assert(p:read("l"))
  p:close()
end

-- No module paths, no DWELL_* settings of the developer's own shell. A sanitizer run (`make
-- asan`) keeps its LUA_CPATH, behind the checkout's build/ that the examples put first: it
-- need not have built that tree.
local CLEAN = "env -u LUA_PATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u DWELL_PROFILE -u DWELL_TRACE"
  .. " -u DWELL_CONFIG -u DWELL_TUYA_BLOCK_ID -u DWELL_SANDBOX_URL"
  .. (os.getenv("DWELL_SANITIZER") and "" or " -u LUA_CPATH")
do
  local parts = { CLEAN }
  for _, vendor in ipairs(require("dwell.profile").VENDORS) do
    for _, s in ipairs(require("dwell.profile").SETTINGS[vendor]) do parts[#parts + 1] = "-u " .. s.env end
  end
  CLEAN = table.concat(parts, " ")
end

local elsewhere -- a directory outside the checkout, also the runs' HOME (so no profile file)

setup(function() elsewhere = openssl.tmpdir() end)
teardown(function() if elsewhere then openssl.cleanup(elsewhere) end end)

local function env_words(env)
  local words = { ("HOME=%s XDG_CONFIG_HOME=%s"):format(q(elsewhere), q(elsewhere .. "/config")) }
  local names = {}
  for k in pairs(env or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do words[#words + 1] = k .. "=" .. q(env[k]) end
  return table.concat(words, " ")
end

--- Runs examples/<file> with `args` (already quoted) from the checkout (`where` "checkout",
-- as examples/<file>) or from another directory (as an absolute path); returns
-- { out = stdout, err = stderr, code = exit status }.
local function run(file, args, where, env)
  local dir, script = ROOT, "examples/" .. file
  if where ~= "checkout" then dir, script = elsewhere, ROOT .. "/examples/" .. file end
  local errfile = os.tmpname()
  local out, code = support.shell(("cd %s && %s %s lua5.4 %s %s 2>%s"):format(q(dir), CLEAN, env_words(env),
    q(script), args or "", q(errfile)))
  local err = support.read_all(errfile)
  os.remove(errfile)
  return { out = out, err = err, code = code }
end

local function lines(s, pattern)
  local out = {}
  for line in s:gmatch("[^\n]+") do
    if not pattern or line:find(pattern) then out[#out + 1] = line end
  end
  return out
end

local function ok(r)
  assert.equal(0, r.code, r.out .. r.err)
end

local function count(s, pattern) return #lines(s, pattern) end

-- What a user checks after each --sandbox run.
local CHECKS = {}

function CHECKS.core_tour(r)
  for _, step in ipairs{ "SHA-256", "HMAC-SHA256", "base64 and base64url", "RS256" } do
    assert.truthy(r.out:find("== " .. step, 1, true), r.out)
  end
  assert.matches("verify%(public key%)%s+true", r.out)
  assert.matches("verify%(altered claims%)%s+false", r.out)
  assert.equal("core tour: all checks passed", lines(r.out)[#lines(r.out)])
end

function CHECKS.host_event_loop(r)
  local approved = tonumber(r.out:match("listed 40 room users over 10 pages and (%d+) approved residents"))
  assert.is_true(approved ~= nil and approved > 0, r.out)
  local at_once = tonumber(r.out:match("at most (%d+) at once"))
  assert.is_true(at_once ~= nil and at_once > 1, r.out)
  assert.truthy(r.out:find("token grants 1", 1, true), r.out)
end

-- The summary line's numbers, the approved rows and the block's state after the run all agree.
local function moveins(r, dry)
  local block, before = r.out:match("block (%d+) %(Maple Court%) has (%d+) pending move%-ins")
  assert.is_truthy(block, r.out)
  local n, approved, left, failed = r.out:match("(%d+) pending move%-in application%(s%) in block " .. block
    .. ": (%d+) approved" .. (dry and " %(dry run%)" or "") .. ", (%d+) left for review, (%d+) failed")
  assert.is_truthy(n, r.out)
  n, approved, left, before = tonumber(n), tonumber(approved), tonumber(left), tonumber(before)
  assert.equal(before, n)
  assert.equal("0", failed)
  assert.is_true(approved > 0 and left > 0, r.out)
  assert.equal(n, approved + left)
  assert.equal(approved, count(r.out, dry and "^would approve  %d+  " or "^approved  %d+  "))
  local after = tonumber(r.out:match("after the run: (%d+) pending"))
  assert.equal(dry and before or before - approved, after)
end

function CHECKS.tuya_pending_moveins(r) moveins(r, false) end

-- Each count of the summary is the number of plan lines of that kind; a second pass finds nothing.
local function sync(r, dry)
  local residents, users = r.out:match("^(%d+) approved residents, (%d+) unit users")
  assert.is_truthy(residents, r.out)
  assert.is_true(tonumber(residents) > 0 and tonumber(users) > 0, r.out)
  local pattern = dry and "would update (%d+), would block (%d+), missing (%d+), failed (%d+)"
    or "updated (%d+), blocked (%d+), missing (%d+), failed (%d+)"
  local updated, blocked, missing, failed = r.out:match(pattern)
  assert.is_truthy(updated, r.out)
  assert.equal("0", failed)
  assert.equal(tonumber(updated), count(r.out, "^update   "))
  assert.equal(tonumber(blocked), count(r.out, "^block    "))
  assert.equal(tonumber(missing), count(r.out, "^missing  "))
  assert.is_true(tonumber(updated) > 0 and tonumber(blocked) > 0 and tonumber(missing) > 0, r.out)
  if dry then
    assert.truthy(r.out:find("(dry run: nothing changed)", 1, true), r.out)
    assert.falsy(r.out:find("second pass", 1, true))
  else
    assert.truthy(r.out:find("second pass: 0 changes left", 1, true), r.out)
  end
end

function CHECKS.sync_tuya_to_ruckus(r) sync(r, false) end

local COLUMNS = "roomId,roomName,officeId,officeName,regionId,regionName,userId,firstName,lastName,email,roleId,"
  .. "roleName,transactionSideId,companyName"

-- The CSV (header, then one row per room user) and the summary on stderr agree: the sandbox's
-- 287 users of 6 rooms.
local function export(csv, err)
  local rows = {}
  for line in csv:gmatch("([^\r\n]*)\r\n") do rows[#rows + 1] = line end
  assert.equal(COLUMNS, rows[1])
  assert.equal(287, #rows - 1)
  for i = 2, #rows do assert.matches("^%d+,", rows[i]) end
  assert.matches("exported 287 users from 6 rooms", err)
end

function CHECKS.rooms_export_users(r) export(r.out, r.err) end

local EXAMPLES = {
  { file = "core_tour.lua", vendor = false },
  { file = "host_event_loop.lua", vendor = "tuya" },
  { file = "tuya_pending_moveins.lua", vendor = "tuya" },
  { file = "sync_tuya_to_ruckus.lua", vendor = "tuya" },
  { file = "rooms_export_users.lua", vendor = "rooms" },
}

for _, ex in ipairs(EXAMPLES) do
  local name = ex.file:gsub("%.lua$", "")
  describe("examples/" .. ex.file, function()
    it("--help prints the usage on stdout and exits 0, from the checkout and from elsewhere", function()
      -- A profile file readable by others is refused by the chain: --help must not reach it.
      local f = assert(io.open(elsewhere .. "/open-profile", "w"))
      f:write("[default]\ntuya.client_id = x\n")
      f:close()
      local env = { DWELL_CONFIG = elsewhere .. "/open-profile", DWELL_TUYA_BASE_URL = "http://127.0.0.1:9" }
      local first
      for _, where in ipairs{ "checkout", "elsewhere" } do
        local r = run(ex.file, "--help", where, env)
        ok(r)
        assert.equal("", r.err)
        assert.equal("Usage: " .. ex.file .. " [-h] [--sandbox]", r.out:match("^Usage: %S+ %[%-h%] %[%-%-sandbox%]"))
        assert.truthy(r.out:find("\n   --sandbox ", 1, true), r.out)
        if ex.vendor then
          assert.truthy(r.out:find("--profile <name>", 1, true), r.out)
          assert.truthy(r.out:find("DWELL_* environment variables", 1, true), r.out)
        end
        if first then assert.equal(first, r.out) end
        first = r.out
      end
    end)

    it("--sandbox from the checkout: runs against its own sandbox and exits 0", function()
      local r = run(ex.file, "--sandbox", "checkout")
      ok(r)
      CHECKS[name](r)
    end)

    it("--sandbox from another directory (cd /tmp && lua5.4 /path/to/examples/" .. ex.file .. ")", function()
      local r = run(ex.file, "--sandbox", "elsewhere")
      ok(r)
      CHECKS[name](r)
    end)

    it("refuses an unknown option with the usage on stderr and status 2", function()
      local r = run(ex.file, "--no-such-option", "elsewhere")
      assert.equal(2, r.code)
      assert.equal("", r.out)
      assert.matches("^Usage: " .. ex.file:gsub("%p", "%%%0"), r.err)
      assert.truthy(r.err:find("Error: unknown option '--no-such-option'", 1, true), r.err)
    end)

    if ex.vendor then
      it("without --sandbox and without settings: names the missing setting, status 2", function()
        local r = run(ex.file, "", "elsewhere")
        assert.equal(2, r.code, r.out .. r.err)
        assert.equal("", r.out)
        assert.equal(1, #lines(r.err), r.err)
        assert.matches("^" .. name .. ": .* is required .*set DWELL_" .. ex.vendor:upper() .. "_", r.err)
      end)
    end
  end)
end

describe("--sandbox --dry-run", function()
  it("tuya_pending_moveins.lua lists what it would approve and leaves the block as it was", function()
    local r = run("tuya_pending_moveins.lua", "--sandbox --dry-run", "elsewhere")
    ok(r)
    moveins(r, true)
  end)

  it("sync_tuya_to_ruckus.lua reports the plan without a second pass", function()
    local r = run("sync_tuya_to_ruckus.lua", "--sandbox -n", "elsewhere")
    ok(r)
    sync(r, true)
  end)
end)

describe("the examples through the settings chain (DWELL_* from `dwell sandbox --env`)", function()
  local sb, env, block

  setup(function()
    sb = assert(sandbox.start{ routes = { { set = "tuya" }, { set = "rooms" }, { set = "ruckus" } } })
    env = {}
    for _, kv in ipairs(cli_sandbox.environment(sb.url, cli_sandbox.credentials(sb))) do env[kv[1]] = kv[2] end
    block = env.DWELL_TUYA_BLOCK_ID
  end)
  teardown(function() if sb then sb:stop() end end)

  local function pending_in(id)
    for _, b in ipairs(sb:control("tuya", "summary").blocks) do
      if b.block_id == id then return b.pending, b.approved end
    end
  end

  it("tuya_pending_moveins.lua: --dry-run changes nothing, then a run approves what it listed", function()
    local pending = pending_in(block)
    local r = run("tuya_pending_moveins.lua", "--dry-run", "elsewhere", env)
    ok(r)
    local approved = tonumber(r.out:match(("%d pending move%%-in application%%(s%%) in block %s: (%%d+) approved %%(dry run%%)")
      :format(pending, block)))
    assert.is_true(approved ~= nil and approved > 0, r.out)
    assert.equal(approved, count(r.out, "^would approve  "))
    assert.equal(pending, pending_in(block))

    r = run("tuya_pending_moveins.lua", "", "elsewhere", env)
    ok(r)
    assert.truthy(r.out:find(("in block %s: %d approved, %d left for review, 0 failed"):format(block, approved,
      pending - approved), 1, true), r.out)
    assert.equal(pending - approved, pending_in(block))
  end)

  it("tuya_pending_moveins.lua: --block-id wins over DWELL_TUYA_BLOCK_ID", function()
    local other = sb:control("tuya", "summary").blocks[2]
    local r = run("tuya_pending_moveins.lua", "--dry-run --block-id " .. q(other.block_id), "elsewhere", env)
    ok(r)
    assert.truthy(r.out:find(("%d pending move-in application(s) in block %s:"):format(other.pending,
      other.block_id), 1, true), r.out)
  end)

  it("host_event_loop.lua: the block's room users over 10 pages, one token grant", function()
    local r = run("host_event_loop.lua", "", "elsewhere", env)
    ok(r)
    CHECKS.host_event_loop(r)
  end)

  it("sync_tuya_to_ruckus.lua --dry-run: the plan, and RUCKUS unchanged", function()
    local before = sb:control("ruckus", "users")
    local r = run("sync_tuya_to_ruckus.lua", "--dry-run", "elsewhere", env)
    ok(r)
    sync(r, true)
    assert.same(before, sb:control("ruckus", "users"))
  end)

  it("rooms_export_users.lua --out: the CSV file, with the developer access token", function()
    local out = elsewhere .. "/users.csv"
    local r = run("rooms_export_users.lua", "--out users.csv", "elsewhere", env)
    ok(r)
    assert.equal("", r.out)
    export(support.read_all(out), r.err)
    assert.truthy(r.err:find("to users.csv", 1, true), r.err)
  end)
end)
