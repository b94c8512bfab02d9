-- A C host application with its own lua_State loads dwell as an ordinary module
-- (examples/embed/host.c, built by `make`) and runs an automation against the sandbox.
local sandbox = require "dwell.sandbox"
local dwell = require "dwell"

local shell_quote = require("support.shell").quote

describe("embedding dwell in a C host", function()
  local sb, creds

  setup(function()
    sb = assert(sandbox.start{ routes = { "tuya" } })
    creds = sb:control("tuya", "credentials")
  end)
  teardown(function() sb:stop() end)

  it("runs a dwell automation inside the host's lua_State and hands results back to C", function()
    local block = creds.block_ids[1]
    -- The host binary is not built with sanitizers, so it always loads the regular build.
    local cmd = table.concat({
      "LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/?.so;;' build/examples/dwell-host",
      "examples/embed/approved_residents.lua", shell_quote(sb.url), shell_quote(creds.client_id),
      shell_quote(creds.secret), shell_quote(block), "2>&1" }, " ")
    local p = assert(io.popen(cmd))
    local out = p:read("a")
    assert.is_true(p:close(), out)

    -- What the host counted must be what the API says, asked independently here.
    local tuya = assert(dwell.tuya{ base_url = sb.url, client_id = creds.client_id, secret = creds.secret })
    local approved, with_mobile = 0, 0
    for r in tuya.community.room_users:each{ block_id = block, room_user_stage = 20 } do
      approved = approved + 1
      if r.mobile and r.mobile ~= "" then with_mobile = with_mobile + 1 end
    end
    assert.is_true(approved > 0)
    assert.matches(("script: %d approved residents in block %s"):format(approved, block), out, 1, true)
    assert.matches(("host: %d residents recorded, %d with a mobile number"):format(approved, with_mobile), out, 1, true)
  end)

  it("reports a script error through the host without crashing", function()
    local p = assert(io.popen("LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/?.so;;' "
      .. "build/examples/dwell-host examples/embed/approved_residents.lua http://127.0.0.1:1 id secret 1 2>&1"))
    local out = p:read("a")
    local ok, _, code = p:close()
    assert.is_nil(ok)
    assert.equal(1, code)
    assert.matches("dwell%-host: .*transport", out)
  end)
end)
