-- The documented per-property allowance (100 calls, 80 returned per second) over real HTTP:
-- the client-side bucket keeps a burst under the sandbox's limit; without it the sandbox's
-- 429s are retried until every call succeeds.
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"

describe("dwell.ruckus rate limit", function()
  local sb, creds

  setup(function()
    sb = assert(sandbox.start{ routes = { { set = "ruckus", config = { users = 5 } } } })
  end)
  teardown(function() sb:stop() end)
  before_each(function()
    sb:control("ruckus", "reset")
    creds = sb:control("ruckus", "credentials")
  end)

  local function burst(portal, n)
    local calls = {}
    for i = 1, n do calls[i] = { portal.units.users.query, { page_size = 1 } } end
    return dwell.parallel(calls, { concurrency = 16 })
  end

  it("keeps a burst of 300 calls under the server's limit", function()
    -- Under a sanitizer calls reach the server in bunches far wider than real network jitter,
    -- so the client keeps more of the burst in reserve there (a knob, not the assertion).
    local slow = os.getenv("DWELL_SANITIZER") and { capacity = 100, rate = 80, headroom = 50 } or nil
    local portal = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
      base_url = sb.url, rate_limit = slow })
    local results, errs = burst(portal, 300)
    for i = 1, 300 do
      assert.is_nil(errs[i])
      assert.equal(5, results[i].totalElements)
    end
    assert.equal(0, sb:control("ruckus", "stats").limited)
  end)

  it("retries the server's 429s to completion when the client bucket is off", function()
    local portal = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
      base_url = sb.url, rate_limit = false, retry = { attempts = 10, base_ms = 200, cap_ms = 2000 } })
    local results, errs = burst(portal, 300)
    for i = 1, 300 do
      assert.is_nil(errs[i])
      assert.equal(5, results[i].totalElements)
    end
    assert.is_true(sb:control("ruckus", "stats").limited > 0)
  end)

  it("reports rate_limited when retries run out", function()
    -- A small server allowance, so that even a slow run (valgrind) exhausts it.
    local small <close> = assert(sandbox.start{ routes = { { set = "ruckus",
      config = { users = 5, rate_limit = { capacity = 10, rate = 1 } } } } })
    creds = small:control("ruckus", "credentials")
    local portal = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
      base_url = small.url, rate_limit = false, retry = { attempts = 1, base_ms = 1, cap_ms = 1 } })
    local _, errs = burst(portal, 150)
    local limited
    for i = 1, 150 do if errs[i] then limited = errs[i] end end
    assert.is_table(limited)
    assert.equal("rate_limited", limited.kind)
    assert.equal(429, limited.status)
    assert.equal("429 TOO_MANY_REQUESTS", limited.code)
    assert.is_true(limited.retryable)
  end)
end)
