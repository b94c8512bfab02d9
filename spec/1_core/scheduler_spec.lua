-- dwell.scheduler on its own: tasks, timers on a virtual clock, park/wake, HTTP yields (one
-- request on an easy handle, several over curl multi) and misuse.
local scheduler = require "dwell.scheduler"
local sandbox = require "dwell.sandbox"

describe("dwell.scheduler", function()
  it("runs tasks in spawn order and reports each outcome", function()
    local s = scheduler.new{ clock = scheduler.virtual_clock(0) }
    local order, outcomes = {}, {}
    for i = 1, 3 do
      s:spawn(function(x) order[#order + 1] = x; return x * 10 end,
        function(ok, v) outcomes[i] = { ok, v } end, i)
    end
    s:run()
    assert.same({ 1, 2, 3 }, order)
    assert.same({ { true, 10 }, { true, 20 }, { true, 30 } }, outcomes)
  end)

  it("wakes sleepers in time order on a virtual clock, ties in the order they slept", function()
    local clock = scheduler.virtual_clock(100)
    local s = scheduler.new{ clock = clock }
    local woke = {}
    for _, d in ipairs{ { "c", 3 }, { "a", 1 }, { "b", 1 }, { "z", 0 } } do
      s:spawn(function()
        scheduler.sleep(d[2])
        woke[#woke + 1] = d[1] .. "@" .. (scheduler.now() - 100)
      end)
    end
    s:run()
    assert.same({ "z@0", "a@1", "b@1", "c@3" }, woke)
    assert.equal(103, clock.now())
  end)

  it("parks a task until another wakes it, passing values", function()
    local s = scheduler.new{ clock = scheduler.virtual_clock(0) }
    local parked, got
    s:spawn(function() parked = coroutine.running(); got = table.pack(scheduler.park()) end)
    s:spawn(function() assert.is_true(scheduler.wake(parked, "x", 2)) end)
    s:run()
    assert.same({ "x", 2, n = 2 }, got)
    assert.is_false(scheduler.wake(coroutine.create(function() end)))
  end)

  it("reports a deadlock instead of hanging when every task is parked", function()
    local s = scheduler.new{ clock = scheduler.virtual_clock(0) }
    s:spawn(function() scheduler.park() end, function() end)
    assert.has_error(function() s:run() end,
      "dwell.scheduler: deadlock: every task waits on a lock or limiter that no task will release")
  end)

  it("raises out of run() for a failing task without on_done", function()
    local s = scheduler.new{ clock = scheduler.virtual_clock(0) }
    s:spawn(function() error("boom", 0) end)
    assert.has_error(function() s:run() end, "boom")
  end)

  it("refuses a task that yields something of its own", function()
    local s = scheduler.new{ clock = scheduler.virtual_clock(0) }
    s:spawn(function() coroutine.yield("mine") end, function() end)
    assert.has_error(function() s:run() end, "dwell.scheduler: a task yielded a value the scheduler does not understand")
  end)

  it("performs one request directly and several at once over HTTP on 127.0.0.1", function()
    local sb <close> = assert(sandbox.start{ routes = { "echo" }, latency_ms = 20 })
    local s = scheduler.new()
    local statuses = {}
    for i = 1, 4 do
      s:spawn(function()
        local resp = assert(scheduler.perform{ url = sb.url .. "/echo/" .. i })
        statuses[i] = resp.status
      end)
    end
    s:run()
    assert.same({ 200, 200, 200, 200 }, statuses)
    assert.equal(4, #sb:requests())
    -- outside a task perform blocks and returns the response itself
    assert.equal(200, assert(scheduler.perform{ url = sb.url .. "/echo/alone" }).status)
  end)

  it("raises argument misuse inside the task that made it", function()
    local s = scheduler.new{ clock = scheduler.virtual_clock(0) }
    local err
    s:spawn(function() scheduler.perform{ url = "http://127.0.0.1:9/\r\nx" } end, function(ok, e) err = not ok and e end)
    s:run()
    assert.matches("CR, LF or NUL", tostring(err))
  end)

  it("knows whether the running coroutine is one of its tasks", function()
    assert.is_nil(scheduler.current())
    local s = scheduler.new{ clock = scheduler.virtual_clock(0) }
    local inside
    s:spawn(function() inside = scheduler.current() end)
    s:run()
    assert.equal(s, inside)
  end)
end)
