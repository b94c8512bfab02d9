-- The documented per-property allowance (100 calls, 80 returned per second) over real HTTP.
-- What is asserted is what the client controls, by events and their order, never by elapsed
-- time: when the client's bucket lets each call onto the wire (on its virtual clock), which
-- 429s the server answered and how many requests reached it. (Whether a burst stays under the
-- server's own limit also depends on how calls bunch up in transit, which no client decides:
-- under valgrind the client cannot even reach 80 calls a second, so "the server answered some
-- 429s" was luck too.)
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"
local transport = require "dwell.transport"

local QUERY = "/residents/properties/{p}/units/users/query"

describe("dwell.ruckus rate limit", function()
  local sb, creds

  setup(function()
    -- No server-side limit here: the client's own bucket is under test.
    sb = assert(sandbox.start{ routes = { { set = "ruckus", config = { users = 5, rate_limit = false } } } })
  end)
  teardown(function() sb:stop() end)
  before_each(function()
    sb:reset()
    creds = sb:control("ruckus", "credentials")
  end)

  local function burst(portal, n, clock)
    local calls = {}
    for i = 1, n do calls[i] = { portal.units.users.query, { page_size = 1 } } end
    return dwell.parallel(calls, { concurrency = 16, clock = clock })
  end

  local function on_wire(suffix)
    local n = 0
    for _, r in ipairs(sb:requests()) do if r.path:sub(-#suffix) == suffix then n = n + 1 end end
    return n
  end

  it("lets the bucket's capacity onto the wire before the first refill, then one call per 1/rate s", function()
    -- The client's virtual clock moves only when every call waits (for the bucket), so the
    -- time at which each request left is exact, however slow the machine.
    local clock = transport.virtual_clock(0)
    local left = {}
    local portal = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
      base_url = sb.url, clock = clock, on_request = function() left[#left + 1] = clock.now() end })
    local results, errs = burst(portal, 300, clock)
    for i = 1, 300 do
      assert.is_nil(errs[i])
      assert.equal(5, results[i].totalElements)
    end
    -- The login and the 300 queries, each sent once.
    assert.equal(301, #left)
    assert.equal(1, on_wire("/units/logins"))
    assert.equal(300, on_wire("/units/users/query"))
    -- The documented 100 less the headroom of 10 go at once, before any refill...
    local capacity, rate = 90, 80
    local at_once = 0
    for _, t in ipairs(left) do if t == 0 then at_once = at_once + 1 end end
    assert.equal(capacity, at_once)
    -- ...and in the order they left, the k-th never before the bucket had earned its token.
    for k = 2, #left do
      assert.is_true(left[k] >= left[k - 1], "request " .. k .. " left before request " .. (k - 1))
      assert.is_true(left[k] >= (k - capacity) / rate - 1e-9,
        ("request %d left at %.4f s, before its token at %.4f s"):format(k, left[k], (k - capacity) / rate))
    end
  end)

  it("retries 429s to completion when the client bucket is off", function()
    -- Every second query is refused, 20 times in all: exactly 20 429s whatever the timing, and
    -- more attempts than 429s, so that every call must complete.
    local limited <close> = assert(sandbox.start{ routes = { { set = "ruckus", config = { users = 5, rate_limit = false } } },
      faults = { { match = "POST " .. QUERY, kind = "status", status = 429, every = 2, times = 20,
        body = { status = "429 TOO_MANY_REQUESTS", message = "Rate limit exceeded for property" } } } })
    creds = limited:control("ruckus", "credentials")
    local clock = transport.virtual_clock(0)
    local portal = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
      base_url = limited.url, rate_limit = false, clock = clock, retry = { attempts = 21, base_ms = 200, cap_ms = 2000 } })
    local results, errs = burst(portal, 30, clock)
    for i = 1, 30 do
      assert.is_nil(errs[i])
      assert.equal(5, results[i].totalElements)
    end
    -- Each 429 was sent again, and nothing else was.
    local queries = 0
    for _, r in ipairs(limited:requests()) do
      if r.path:match("/query$") then queries = queries + 1 end
    end
    assert.equal(30 + 20, queries)
  end)

  it("reports rate_limited when retries run out", function()
    -- A small server allowance, so that even a slow run (valgrind) exhausts it: 150 calls
    -- against 10 and one more each second.
    local small <close> = assert(sandbox.start{ routes = { { set = "ruckus",
      config = { users = 5, rate_limit = { capacity = 10, rate = 1 } } } } })
    creds = small:control("ruckus", "credentials")
    local portal = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
      base_url = small.url, rate_limit = false, retry = { attempts = 1, base_ms = 1, cap_ms = 1 } })
    local _, errs = burst(portal, 150)
    local limited, n = nil, 0
    for i = 1, 150 do if errs[i] then limited, n = errs[i], n + 1 end end
    assert.is_table(limited)
    assert.equal("rate_limited", limited.kind)
    assert.equal(429, limited.status)
    assert.equal("429 TOO_MANY_REQUESTS", limited.code)
    assert.is_true(limited.retryable)
    -- One attempt each: every refused call reached the server once.
    assert.equal(150, #small:requests() - 1)
    assert.equal(n, small:control("ruckus", "stats").limited)
  end)
end)
