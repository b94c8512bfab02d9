-- Rate limits over real HTTP against the sandbox, on a virtual clock: headers
-- exposed after each call, pacing before the hourly budget runs out, waiting
-- until the reset after HOURLY_APIINVOCATION_LIMIT_EXCEEDED. Every wait is the
-- pipeline's: it spends an attempt of the call's budget (retry.attempts) and never
-- passes the call's deadline (deadline_ms), so the specs that wait out the hour
-- give a deadline longer than the hour.
local S = require("support.rooms")

local TWO_HOURS_MS = 2 * 3600 * 1000

describe("rooms rate limits", function()
  local sb
  after_each(function() sb:close() end)

  it("exposes the X-RateLimit-* and X-BurstLimit-* headers of the last call", function()
    sb = S.start{ hourly_limit = 1000, burst_limit = 50 }
    local rooms = S.client(sb)
    assert.is_nil(rooms:rate_limit())
    assert.truthy(rooms.account.get())
    local rl = rooms:rate_limit()
    assert.equal(1000, rl.limit)
    assert.equal(999, rl.remaining)
    assert.equal(50, rl.burst_limit)
    assert.equal(49, rl.burst_remaining)
    assert.truthy(rl.reset > os.time() + 3500)
    assert.truthy(rooms.rooms.get{ room_id = 1001 })
    assert.equal(998, rooms:rate_limit().remaining)
  end)

  it("slows down before the hourly budget is exhausted", function()
    sb = S.start{ hourly_limit = 100 }
    local clock = S.clock(sb)
    local rooms = S.client(sb, { clock = clock, rate_limit = { reserve = 10 }, deadline_ms = TWO_HOURS_MS })
    for _ = 1, 89 do assert.truthy(rooms.account.get()) end
    assert.equal(0, #clock.slept) -- plenty left: no pacing
    assert.equal(11, rooms:rate_limit().remaining)
    for _ = 1, 10 do assert.truthy(rooms.account.get()) end
    -- Each of the last calls waited a share of what was left of the hour.
    assert.equal(9, #clock.slept)
    for _, s in ipairs(clock.slept) do assert.truthy(s > 60 and s < 3600, tostring(s)) end
    assert.equal(0, sb:control("rooms", "stats").limited)
  end)

  it("spreads within the deadline, and returns at once when the spent budget resets after it", function()
    sb = S.start{ hourly_limit = 100 }
    local clock = S.clock(sb)
    local rooms = S.client(sb, { clock = clock, rate_limit = { reserve = 10 }, deadline_ms = 10000,
      retry = { attempts = 3 } })
    for _ = 1, 90 do assert.truthy(rooms.account.get()) end
    assert.equal(0, #clock.slept)
    -- 10 left for most of an hour: the spreading pause (minutes) takes half of what is left of
    -- the 10 s deadline instead, and the call goes through.
    assert.truthy(rooms.account.get())
    assert.equal(1, #clock.slept)
    assert.truthy(clock.slept[1] > 4 and clock.slept[1] <= 5, tostring(clock.slept[1]))
    local sent = #S.requests(sb, "/restapi/")
    sb:control("rooms", "limits", { used = 100 }) -- someone else spent the rest
    local v, err = rooms.account.get()
    assert.is_nil(v)
    assert.equal("rate_limited", err.kind)
    assert.equal("HOURLY_APIINVOCATION_LIMIT_EXCEEDED", err.code)
    assert.truthy(err.retry_after > 3500, tostring(err.retry_after))
    assert.equal(sent + 1, #S.requests(sb, "/restapi/")) -- one answer, and no wait for the hour
    assert.equal(2, #clock.slept) -- only the spreading pause before it (9 were left)
    assert.truthy(clock.slept[2] <= 5, tostring(clock.slept[2]))
    -- Now the client knows the budget is spent: the next call does not even ask.
    v, err = rooms.account.get()
    assert.is_nil(v)
    assert.equal("rate_limited", err.kind)
    assert.truthy(err.retry_after > 3500, tostring(err.retry_after))
    assert.equal(sent + 1, #S.requests(sb, "/restapi/"))
    assert.equal(2, #clock.slept)
  end)

  it("waits until the reset after the hourly limit error, for idempotent calls", function()
    sb = S.start{ hourly_limit = 3 }
    local clock = S.clock(sb)
    local rooms = S.client(sb, { clock = clock, rate_limit = { reserve = 0 }, deadline_ms = TWO_HOURS_MS,
      retry = { attempts = 2 } })
    sb:control("rooms", "limits", { used = 3 }) -- someone else spent the budget
    local room = assert(rooms.rooms.get{ room_id = 1001 })
    assert.equal(1001, room.roomId)
    assert.equal(1, sb:control("rooms", "stats").limited)
    assert.equal(1, #clock.slept)
    assert.truthy(clock.slept[1] > 3500 and clock.slept[1] <= 3602, tostring(clock.slept[1]))
    assert.equal(2, rooms:rate_limit().remaining)
  end)

  it("returns rate_limited at once when the reset is past the deadline, without waiting", function()
    sb = S.start{ hourly_limit = 2 }
    local clock = S.clock(sb)
    local rooms = S.client(sb, { clock = clock, retry = { attempts = 3 } }) -- the default 120 s deadline
    sb:control("rooms", "limits", { used = 2 })
    local v, err = rooms.rooms.users.invite{ room_id = 1002, email = "x@example.com", first_name = "X",
      last_name = "Y", role_id = 4 }
    assert.is_nil(v)
    assert.equal("rate_limited", err.kind)
    assert.equal(400, err.status)
    assert.equal("HOURLY_APIINVOCATION_LIMIT_EXCEEDED", err.code)
    assert.truthy(err.retry_after > 3500)
    assert.is_true(err.retryable)
    assert.equal(0, #clock.slept)
    assert.equal(1, #S.requests(sb, "/restapi/", "POST"))
  end)

  it("a limited PUT, DELETE or action POST returns at once when the reset is past the deadline", function()
    sb = S.start{ hourly_limit = 2 }
    local clock = S.clock(sb)
    sb:control("rooms", "limits", { used = 2 })
    local calls = {
      { function(c) return c.users.update end, { user_id = 5001, default_office_id = 11 } },
      { function(c) return c.rooms.delete end, { room_id = 1006 } },
      { function(c) return c.rooms.users.restore_access end, { room_id = 1002, user_id = 5035 } },
      { function(c) return c.users.unlock end, { user_id = 5001 } },
    }
    for _, c in ipairs(calls) do
      -- A fresh client each time: no headers seen yet, so no pacing before the call.
      local rooms = S.client(sb, { clock = clock, rate_limit = { reserve = 0 }, retry = { attempts = 3 } })
      local v, err = c[1](rooms)(c[2])
      assert.is_nil(v)
      assert.equal("rate_limited", err.kind)
      assert.equal("HOURLY_APIINVOCATION_LIMIT_EXCEEDED", err.code)
    end
    -- A GET given the time waits out the window and succeeds.
    assert.truthy(S.client(sb, { clock = clock, deadline_ms = TWO_HOURS_MS, retry = { attempts = 2 } })
      .rooms.get{ room_id = 1002 })
    assert.equal(1, #clock.slept)
    assert.equal(1, #S.requests(sb, "/restapi/", "PUT"))
    assert.equal(1, #S.requests(sb, "/restapi/", "DELETE"))
    assert.equal(2, #S.requests(sb, "/restapi/", "POST"))
  end)

  it("sends a limited write again after the wait: the server did not process it", function()
    sb = S.start{ hourly_limit = 2 }
    local clock = S.clock(sb)
    sb:control("rooms", "limits", { used = 2 })
    local rooms = S.client(sb, { clock = clock, deadline_ms = TWO_HOURS_MS, retry = { attempts = 2 } })
    local user = assert(rooms.rooms.users.invite{ room_id = 1002, email = "late@example.com", first_name = "L",
      last_name = "Ate", role_id = 4 })
    assert.equal("late@example.com", user.email)
    assert.equal(1, #clock.slept)
    assert.equal(2, #S.requests(sb, "/restapi/", "POST"))
    assert.equal(1, sb:control("rooms", "stats").limited)
  end)

  it("recognises the hourly-limit message whatever the status", function()
    sb = S.start{ hourly_limit = 1, limit_status = 503 }
    local rooms = S.client(sb, { rate_limit = false })
    assert.truthy(rooms.account.get())
    local v, err = rooms.account.get()
    assert.is_nil(v)
    assert.equal("rate_limited", err.kind)
    assert.equal(503, err.status)
    assert.truthy(err.message:find("maximum number of hourly API invocations", 1, true))
  end)

  it("waits one burst window, not the hour, after a burst limit error", function()
    sb = S.start{ burst_limit = 2 }
    local clock = S.clock(sb)
    local rooms = S.client(sb, { clock = clock, retry = { attempts = 2 } })
    for _ = 1, 3 do assert.truthy(rooms.rooms.get{ room_id = 1002 }) end
    assert.equal(1, sb:control("rooms", "stats").limited)
    assert.same({ 30 }, clock.slept)
  end)

  it("treats a 429 the same way and gives up when waiting is off", function()
    sb = S.start{ hourly_limit = 1, limit_status = 429 }
    local clock = S.clock(sb)
    local rooms = S.client(sb, { clock = clock, rate_limit = false })
    assert.truthy(rooms.account.get())
    local v, err = rooms.account.get()
    assert.is_nil(v)
    assert.equal("rate_limited", err.kind)
    assert.equal(429, err.status)
    assert.equal(0, #clock.slept)
  end)
end)

describe("rooms rate-limit waits", function()
  local now = 1700000000
  local function limits(opts) return require("dwell.rooms.ratelimit").new(opts, function() return now end) end

  it("are Retry-After, else the burst window, else one second past the reset, else the pipeline's", function()
    local l = limits()
    assert.is_nil(l:wait_for({}, false)) -- nothing known: the pipeline's backoff
    assert.equal(30, l:wait_for({}, true))
    l:observe({ ["X-RateLimit-Reset"] = "1700000100" }) -- epoch seconds
    assert.equal(101, l:wait_for({}, false))
    assert.equal(7, l:wait_for({ ["Retry-After"] = "7" }, false))
    assert.equal(7, l:wait_for({ ["retry-after"] = "7" }, true))
    -- An unusable Retry-After says nothing: the other signals decide.
    assert.equal(101, l:wait_for({ ["Retry-After"] = "nan" }, false))
    assert.equal(101, l:wait_for({ ["Retry-After"] = "Sun, 06 Nov 1994 08:49:37 GMT" }, false))
    assert.equal(30, l:wait_for({ ["Retry-After"] = "-5" }, true))
    assert.equal(45, limits({ burst_window = 45 }):wait_for({}, true))
  end)

  it("pace before a call: required when the budget is spent, spreading when it is nearly spent", function()
    local l = limits({ reserve = 10 })
    assert.is_nil(l:before_call())
    l:observe({ ["X-RateLimit-Limit"] = "100", ["X-RateLimit-Remaining"] = "50", ["X-RateLimit-Reset"] = "1700000990" })
    assert.is_nil(l:before_call())
    l:observe({ ["X-RateLimit-Remaining"] = "9" })
    assert.same({ 99, false }, { l:before_call() })
    l:observe({ ["X-RateLimit-Remaining"] = "0" })
    assert.same({ 991, true }, { l:before_call() })
    now = now + 1000 -- the window rolled over
    assert.is_nil(l:before_call())
    assert.is_nil(limits(false):before_call())
  end)
end)
