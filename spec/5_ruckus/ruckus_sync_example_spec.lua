-- examples/sync_tuya_to_ruckus.lua run as a user would (a separate lua5.4 process) against the
-- Tuya and RUCKUS sandboxes started here; the resulting RUCKUS state is read back and checked.
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"

local function digits(s) return (tostring(s or ""):gsub("%D", "")) end

local function phone_of(r)
  local m, cc = digits(r.mobile), digits(r.country_code)
  if cc ~= "" and m:sub(1, #cc) ~= cc then m = cc .. m end
  return "+" .. m
end

local support = require "support.shell"
local shell_quote = support.quote

describe("examples/sync_tuya_to_ruckus.lua", function()
  local tsb, rsb, tcreds, rcreds, approved, block_id

  setup(function()
    tsb = assert(sandbox.start{ routes = { { set = "tuya", config = { blocks = 1, residents_per_block = 24 } } } })
    tcreds = tsb:control("tuya", "credentials")
    block_id = tsb:control("tuya", "summary").blocks[1].block_id
    local tuya = assert(dwell.tuya{ client_id = tcreds.client_id, secret = tcreds.secret, base_url = tsb.url })
    approved = {}
    for r in tuya.community.room_users:each{ block_id = block_id, room_user_stage = 20 } do
      approved[#approved + 1] = r
    end
    assert.is_true(#approved >= 4, "the Tuya sandbox seeds at least four approved residents")
    -- One unit user per kind of work: a renamed resident, a stale phone, a blocked returner,
    -- a resident with no unit user, a user who moved out, and one already blocked.
    local a, b, c = approved[1], approved[2], approved[3]
    local users = {
      { userName = "Old Name", phoneNumber = phone_of(a), status = "ACTIVE", type = "UNIT" },
      { userName = b.real_name, phoneNumber = "+10000000000", status = "ACTIVE", type = "LINKED" },
      { userName = c.real_name, phoneNumber = phone_of(c), status = "BLOCKED", type = "LINKED" },
      { userName = "Moved Out", phoneNumber = "+15559990001", status = "ACTIVE", type = "GUEST" },
      { userName = "Long Gone", phoneNumber = "+15559990002", status = "BLOCKED", type = "GUEST" },
    }
    for i = 5, #approved do
      users[#users + 1] = { userName = approved[i].real_name, phoneNumber = phone_of(approved[i]),
        status = "ACTIVE", type = "LINKED" }
    end
    rsb = assert(sandbox.start{ routes = { { set = "ruckus", config = { users = users } } } })
    rcreds = rsb:control("ruckus", "credentials")
  end)
  teardown(function()
    if rsb then rsb:stop() end
    if tsb then tsb:stop() end
  end)

  local function run(extra)
    local cmd = table.concat({
      support.lua_cmd("examples/sync_tuya_to_ruckus.lua"),
      "--tuya-url", shell_quote(tsb.url), "--tuya-client-id", shell_quote(tcreds.client_id),
      "--tuya-secret", shell_quote(tcreds.secret), "--block-id", shell_quote(block_id),
      "--ruckus-url", shell_quote(rsb.url), "--property-id", shell_quote(rcreds.property_id:gsub("-", "")),
      "--hashed-secret", shell_quote(rcreds.hashed_secret), extra or "", "2>&1" }, " ")
    local p = assert(io.popen(cmd))
    local out = p:read("a")
    local ok = p:close()
    return ok, out
  end

  local function by_name()
    local out = {}
    for _, u in ipairs(rsb:control("ruckus", "users")) do out[u.userName] = u end
    return out
  end

  it("plans without changing anything on --dry-run, then applies the plan", function()
    local before = rsb:control("ruckus", "users")
    local ok, out = run("--dry-run")
    assert.is_true(ok, out)
    assert.matches("would update 3, would block 1, missing 1, failed 0", out, 1, true)
    assert.same(before, rsb:control("ruckus", "users"))

    ok, out = run()
    assert.is_true(ok, out)
    assert.matches("updated 3, blocked 1, missing 1, failed 0", out, 1, true)
    assert.matches("missing  " .. approved[4].real_name, out, 1, true)
    local users = by_name()
    local a, b, c = approved[1], approved[2], approved[3]
    assert.is_nil(users["Old Name"])
    assert.equal(phone_of(a), users[a.real_name].phoneNumber)
    assert.equal("ACTIVE", users[a.real_name].status)
    assert.equal(phone_of(b), users[b.real_name].phoneNumber)
    assert.equal("ACTIVE", users[c.real_name].status)
    assert.equal("BLOCKED", users["Moved Out"].status)
    assert.equal("BLOCKED", users["Long Gone"].status)

    -- A second run has nothing left to do.
    ok, out = run()
    assert.is_true(ok, out)
    assert.matches("updated 0, blocked 0, missing 1, failed 0", out, 1, true)
  end)
end)
