-- Rate limits over real HTTP against the sandbox, on a virtual clock: headers
-- exposed after each call, pacing before the hourly budget runs out, waiting
-- until the reset after HOURLY_APIINVOCATION_LIMIT_EXCEEDED.
local S = dofile("spec/rooms_support.lua")

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
    local rooms = S.client(sb, { clock = clock, rate_limit = { reserve = 10 } })
    for _ = 1, 89 do assert.truthy(rooms.account.get()) end
    assert.equal(0, #clock.slept) -- plenty left: no pacing
    assert.equal(11, rooms:rate_limit().remaining)
    for _ = 1, 10 do assert.truthy(rooms.account.get()) end
    -- Each of the last calls waited a share of what was left of the hour.
    assert.equal(9, #clock.slept)
    for _, s in ipairs(clock.slept) do assert.truthy(s > 60 and s < 3600, tostring(s)) end
    assert.equal(0, sb:control("rooms", "stats").limited)
  end)

  it("waits until the reset after the hourly limit error, for idempotent calls", function()
    sb = S.start{ hourly_limit = 3 }
    local clock = S.clock(sb)
    local rooms = S.client(sb, { clock = clock, rate_limit = { reserve = 0 } })
    sb:control("rooms", "limits", { used = 3 }) -- someone else spent the budget
    local room = assert(rooms.rooms.get{ room_id = 1001 })
    assert.equal(1001, room.roomId)
    assert.equal(1, sb:control("rooms", "stats").limited)
    assert.equal(1, #clock.slept)
    assert.truthy(clock.slept[1] > 3500 and clock.slept[1] <= 3602, tostring(clock.slept[1]))
    assert.equal(2, rooms:rate_limit().remaining)
  end)

  it("returns rate_limited for non-idempotent calls without retrying", function()
    sb = S.start{ hourly_limit = 2 }
    local clock = S.clock(sb)
    local rooms = S.client(sb, { clock = clock })
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

  it("waits only for GETs: a limited PUT, DELETE or action POST returns at once", function()
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
      local rooms = S.client(sb, { clock = clock, rate_limit = { reserve = 0 } })
      local v, err = c[1](rooms)(c[2])
      assert.is_nil(v)
      assert.equal("rate_limited", err.kind)
      assert.equal("HOURLY_APIINVOCATION_LIMIT_EXCEEDED", err.code)
    end
    -- The same GET waits out the window and succeeds.
    assert.truthy(S.client(sb, { clock = clock }).rooms.get{ room_id = 1002 })
    assert.equal(1, #clock.slept)
    assert.equal(1, #S.requests(sb, "/restapi/", "PUT"))
    assert.equal(1, #S.requests(sb, "/restapi/", "DELETE"))
    assert.equal(2, #S.requests(sb, "/restapi/", "POST"))
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
    local rooms = S.client(sb, { clock = clock })
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

describe("rooms rate-limit waits without a reset time", function()
  it("back off exponentially with jitter", function()
    local slept = {}
    local limits = require("dwell.rooms.ratelimit").new({ random = function() return 0.5 end },
      function() return 1700000000 end, function(s) slept[#slept + 1] = s end)
    for attempt = 1, 3 do assert.truthy(limits:wait_for_reset(nil, false, attempt)) end
    assert.same({ 22.5, 45, 90 }, slept)
    -- A known reset time or Retry-After wins over the backoff.
    limits:observe({ ["X-RateLimit-Reset"] = "1700000100" }) -- epoch seconds
    limits:wait_for_reset(nil, false, 3)
    assert.equal(101, slept[4])
    limits:wait_for_reset(7, false, 3)
    assert.equal(7, slept[5])
  end)
end)
