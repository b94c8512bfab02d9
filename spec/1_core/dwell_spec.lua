-- require "dwell": the module table, its version and the lazily loaded shared pieces.
describe('require "dwell"', function()
  local dwell = require "dwell"

  it("returns a table with the C core's version", function()
    assert.is_table(dwell)
    assert.matches("^%d+%.%d+%.%d+$", dwell.version)
    assert.equal(require("dwell.core").version, dwell.version)
    assert.equal(require "dwell.core", dwell.core)
  end)

  it("loads shared pieces on first use and keeps them", function()
    assert.is_nil(rawget(dwell, "error"))
    local e = dwell.error
    assert.equal(require "dwell.error", e)
    assert.equal(e, rawget(dwell, "error"))
  end)

  it("answers nil for names it does not have, without raising", function()
    assert.is_nil(dwell.no_such_piece)
  end)

  it("defines no globals", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    package.loaded.dwell, package.loaded["dwell.core"], package.loaded["dwell.error"] = nil, nil, nil
    local fresh = require "dwell"
    local _ = fresh.error
    for k in pairs(_G) do assert.is_true(before[k] ~= nil, "new global " .. tostring(k)) end
  end)
end)

describe("dwell.error", function()
  local errors = require "dwell.error"

  it("builds errors of the known kinds with retryable defaults", function()
    local e = errors.new{ kind = "rate_limited", status = 429, vendor = "tuya", endpoint = "community.room_users",
                          retry_after = 2, message = "too many requests" }
    assert.is_true(errors.is(e))
    assert.is_true(e.retryable)
    assert.equal(2, e.retry_after)
    assert.is_false(errors.new{ kind = "auth", message = "bad sign" }.retryable)
    assert.is_true(errors.new{ kind = "transport", message = "reset" }.retryable)
    assert.is_false(errors.new{ kind = "timeout", retryable = false, message = "t" }.retryable)
  end)

  it("rejects unknown kinds", function()
    assert.has_error(function() errors.new{ kind = "oops" } end)
  end)

  it("prints one line naming vendor, endpoint, kind, status, code and request id", function()
    local e = errors.new{ kind = "api", status = 400, code = 1106, vendor = "tuya",
                          endpoint = "community.member.update", request_id = "r-1", message = "permission\r\ndenied" }
    local s = tostring(e)
    assert.equal("dwell.error[tuya community.member.update] api (HTTP 400) code 1106: permission denied"
      .. " [request r-1]", s)
    assert.is_nil(s:find("\n"))
  end)

  it("invalid_argument names the parameter and the rule", function()
    local e = errors.invalid_argument("ruckus", "units.users.list", "property_id", "is required")
    assert.equal("invalid_argument", e.kind)
    assert.equal("property_id", e.param)
    assert.matches("'property_id' is required", tostring(e))
    assert.is_false(errors.is({ kind = "api" }))
  end)
end)
