-- Every error code of Tuya's table (docs/vendors/tuya.md §5.1) as the client reports and handles it, over
-- HTTP against a stub gateway that answers a business call with the code it is asked for.
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"
local support = require "support.shell"

local STUB = [[
return function()
  local n = 0
  local function token()
    n = n + 1
    return 200, {}, { success = true, t = 1700000000000, tid = "tok" .. n,
      result = { access_token = "A" .. n, refresh_token = "R" .. n, expire_time = 7200, uid = "u" } }
  end
  -- structure_id = "<code>": always fail with it; "first:<code>": fail only with the first token.
  local function business(req)
    local id = req.params.structure_id or ""
    local first, code = id:match("^(first:)(%d+)$")
    code = math.tointeger(tonumber(code or id))
    if code and (not first or req.headers.access_token == "A1") then
      return 200, {}, { success = false, code = code, msg = "failure " .. code, t = 1700000000123, tid = "tid-" .. code }
    end
    return 200, {}, { success = true, t = 1700000000000, tid = "ok", result = { token = req.headers.access_token } }
  end
  return {
    { "GET", "/v1.0/token", token },
    { "GET", "/v1.0/token/{refresh_token}", token },
    { "GET", "/v1.0/iot-02/community/structure", business },
  }
end
]]

local KINDS = {
  [500] = "api", [1000] = "not_found", [1001] = "auth", [1003] = "auth", [1005] = "auth", [1004] = "auth",
  [1006] = "rejected", [1007] = "rejected", [1105] = "rejected",
  [1008] = "forbidden", [1106] = "forbidden",
  [1100] = "rejected", [1101] = "rejected", [1102] = "rejected",
  [1104] = "rejected", [1109] = "rejected", [1103] = "api", [1107] = "auth", [1108] = "not_found",
  [1110] = "rate_limited", [1199] = "rate_limited", [1111] = "rate_limited", [1112] = "rate_limited",
  [1113] = "rate_limited", [2001] = "api",
  [28841001] = "forbidden", [28841105] = "forbidden", [28841002] = "forbidden", [28841004] = "forbidden",
  [1002] = "auth", [1400] = "auth", [1010] = "auth", [1011] = "auth", [1012] = "auth",
}
-- Retried with backoff (idempotent calls only): throttling and transient server states.
local RETRIED = { [500] = true, [1110] = true, [1111] = true, [1112] = true, [1199] = true }
-- Answered by re-authenticating once and repeating the request.
local REAUTH = { [1002] = true, [1400] = true, [1010] = true, [1011] = true, [1012] = true }

describe("tuya error codes", function()
  local undo, sb, tuya
  setup(function() undo = support.route_sets{ spec_tuya_errors = STUB } end)
  teardown(function() undo() end)
  before_each(function()
    sb = assert(sandbox.start{ host = "127.0.0.1", port = 0, routes = { "spec_tuya_errors" } })
    tuya = assert(dwell.tuya{ client_id = "cid", secret = "s", base_url = sb.url,
      retry = { attempts = 3, base_ms = 1, cap_ms = 1 }, clock = { now = os.time, sleep = function() end } })
  end)
  after_each(function() sb:stop() end)

  local function calls(id)
    local n = 0
    for _, r in ipairs(sb:requests()) do
      if r.path == "/v1.0/iot-02/community/structure" and r.query:find("structure_id=" .. id, 1, true) then n = n + 1 end
    end
    return n
  end

  for code, kind in pairs(KINDS) do
    it(code .. " is reported as " .. kind, function()
      local r, err = tuya.community.structure.get{ structure_id = tostring(code) }
      assert.is_nil(r)
      assert.equal(kind, err.kind)
      assert.equal(code, err.code)
      assert.equal("tid-" .. code, err.request_id)
      assert.equal("failure " .. code, err.message)
      local expect = RETRIED[code] and 3 or REAUTH[code] and 2 or 1
      assert.equal(expect, calls(tostring(code)))
      -- 1113 "do not repeat the operation in a short time" is never sent again automatically.
      assert.equal(RETRIED[code] == true, err.retryable)
    end)
  end

  for code in pairs(REAUTH) do
    it("re-authenticates once on " .. code .. " and repeats the request", function()
      local r = assert(tuya.community.structure.get{ structure_id = "first:" .. code })
      assert.equal("A2", r.token)
      assert.equal(2, calls("first%3A" .. code))
    end)
  end

  it("corrects the clock from the envelope's t once on 1013, then reports it", function()
    local r, err = tuya.community.structure.get{ structure_id = "1013" }
    assert.is_nil(r)
    assert.equal(1013, err.code)
    assert.equal(2, calls("1013"))
    assert.is_true(math.abs(tuya:clock_offset_ms() - (1700000000123 - os.time() * 1000)) < 5000)
  end)
end)
