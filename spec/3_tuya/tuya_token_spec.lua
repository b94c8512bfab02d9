-- Token responses in the shapes Tuya documents (docs/vendors/tuya.md §4.1, §8.8): `expire_time`, the doc
-- tables' `expire`, and camelCase keys. A stub gateway on 127.0.0.1 answers the token APIs and
-- echoes the access token a business call carried; the client runs on a virtual clock.
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"
local support = require "support.shell"

local STUB = [[
return function(config)
  local n = 0
  local function token(req)
    n = n + 1
    local r = { uid = "u1" }
    local function put(snake, camel, v) r[config.camel and camel or snake] = v end
    put("access_token", "accessToken", "A" .. n)
    put("refresh_token", "refreshToken", "R" .. n)
    if config.expire_name == "expire" then r.expire = 100 else put("expire_time", "expireTime", 100) end
    return 200, {}, { success = true, t = 1700000000000, tid = "t" .. n, result = r }
  end
  local function echo(req)
    return 200, {}, { success = true, t = 1700000000000, tid = "e", result = { used = req.headers.access_token } }
  end
  return {
    { "GET", "/v1.0/token", token },
    { "GET", "/v1.0/token/{refresh_token}", token },
    { "GET", "/v1.0/iot-02/community/structure", echo },
  }
end
]]

describe("tuya token responses", function()
  local undo
  setup(function() undo = support.route_sets{ spec_tuya_tokens = STUB } end)
  teardown(function() undo() end)

  local cases = {
    { "expire_time", { expire_name = "expire_time" } },
    { "expire (the doc tables' name)", { expire_name = "expire" } },
    { "camelCase keys", { camel = true } },
  }
  for _, c in ipairs(cases) do
    it("reads the lifetime and tokens from " .. c[1] .. " and refreshes with the refresh token", function()
      local sb = assert(sandbox.start{ host = "127.0.0.1", port = 0, routes = { { set = "spec_tuya_tokens", config = c[2] } } })
      local now = 1700000000
      local tuya = assert(dwell.tuya{ client_id = "cid", secret = "s", base_url = sb.url,
        clock = { now = function() return now end, sleep = function() end } })
      local r = assert(tuya.community.structure.get{ structure_id = "1" })
      assert.equal("A1", r.used)
      assert.equal(100, tuya:token_info().expires_in)
      now = now + 40
      assert.equal("A1", assert(tuya.community.structure.get{ structure_id = "1" }).used)
      -- within the renewal margin of a 100 s token: refreshed through /v1.0/token/R1
      now = now + 20
      assert.equal("A2", assert(tuya.community.structure.get{ structure_id = "1" }).used)
      local info = tuya:token_info()
      assert.equal(1, info.grants)
      assert.equal(1, info.refreshes)
      local paths = {}
      for _, req in ipairs(sb:requests()) do paths[#paths + 1] = req.path end
      assert.same({ "/v1.0/token", "/v1.0/iot-02/community/structure", "/v1.0/iot-02/community/structure",
        "/v1.0/token/R1", "/v1.0/iot-02/community/structure" }, paths)
      sb:stop()
    end)
  end
end)
