-- dwell.loop.luv and dwell.loop.cqueues: Tuya clients whose calls run as coroutines of a luv
-- loop or a cqueues controller, over real HTTP against the sandbox on 127.0.0.1 (50 ms latency).
-- Overlap is asserted on what the transport itself counts (requests submitted and not finished),
-- the loop's liveness on a 10 ms timer of the same loop that must keep firing while requests
-- are in flight: never on wall-clock durations.
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"

-- ---- one harness per loop: spawn coroutines, repeat a timer, run to the end -----------------

local function luv_harness(opts)
  local uv = require "luv"
  local h = { name = "luv", errors = {} }
  opts = opts or {}
  opts.on_error = function(e) h.errors[#h.errors + 1] = e end
  h.t = assert(require("dwell.loop.luv").transport(uv, opts))
  function h.spawn(fn) coroutine.wrap(fn)() end
  -- fn() is called every ms milliseconds until it returns false
  function h.every(ms, fn)
    local tm = uv.new_timer()
    tm:start(ms, ms, function()
      if fn() == false then tm:stop(); tm:close() end
    end)
  end
  function h.run() uv.run() end
  -- after t:close() outside the loop: a turn of it lets libuv finish closing the handles
  -- (luv cannot exit cleanly with handles half-closed)
  function h.close()
    h.t:close()
    uv.run()
  end
  function h.handles()
    local n = 0
    uv.walk(function(handle) if not handle:is_closing() then n = n + 1 end end)
    return n
  end
  return h
end

local function cqueues_harness(opts)
  local cqueues = require "cqueues"
  local h = { name = "cqueues", errors = {} }
  h.cq = cqueues.new()
  h.t = assert(require("dwell.loop.cqueues").transport(h.cq, opts))
  function h.spawn(fn) h.cq:wrap(fn) end
  function h.every(ms, fn)
    h.cq:wrap(function()
      repeat cqueues.sleep(ms / 1000) until fn() == false
    end)
  end
  function h.run()
    while true do
      local ok, err = h.cq:loop()
      if ok then return end
      h.errors[#h.errors + 1] = err -- a coroutine that raised; the others go on
    end
  end
  function h.close() h.t:close() end
  function h.handles() return h.cq:count() end
  return h
end

local HARNESSES = { { "luv", luv_harness }, { "cqueues", cqueues_harness } }

local function token_requests(sb)
  local n = 0
  for _, r in ipairs(sb:requests()) do
    if r.path:find("^/v1%.0/token") then n = n + 1 end
  end
  return n
end

for _, entry in ipairs(HARNESSES) do
  local name, make = entry[1], entry[2]

  describe("dwell.loop." .. name, function()
    local sb, creds, block

    before_each(function()
      sb = assert(sandbox.start{ routes = { "tuya" }, latency_ms = 50, faults = {
        { match = "GET /v1.0/iot-02/community/structure", kind = "delay", delay_ms = 1500 } } })
      creds = assert(sb:control("tuya", "credentials"))
      block = creds.block_ids[1]
    end)
    after_each(function() sb:stop() end)

    local function client(h, extra)
      local cfg = { client_id = creds.client_id, secret = creds.secret, base_url = sb.url, transport = h.t }
      for k, v in pairs(extra or {}) do cfg[k] = v end
      return assert(dwell.tuya(cfg))
    end

    -- Counts the loop timer's ticks, and those that came while requests were in flight;
    -- stops when done() says so.
    local function ticker(h, done)
      local ticks = { all = 0, busy = 0 }
      h.every(10, function()
        ticks.all = ticks.all + 1
        if h.t:stats().in_flight > 0 then ticks.busy = ticks.busy + 1 end
        return not done()
      end)
      return ticks
    end

    -- One call to the end, so that the token is in: the calls after it need no lock.
    local function warm(h, tuya)
      local done
      h.spawn(function() done = assert(tuya.community.room_users{ block_id = block, page_no = 1, page_size = 1 }) end)
      h.run()
      assert.is_table(done)
      assert.same({}, h.errors)
    end

    it("fetches the first token once for many coroutines that start together", function()
      local h = make()
      local tuya = client(h)
      local finished = 0
      for i = 1, 16 do
        h.spawn(function()
          assert(tuya.community.room_users{ block_id = block, page_no = i, page_size = 1 })
          finished = finished + 1
        end)
      end
      h.run()
      assert.same({}, h.errors)
      assert.equal(16, finished)
      assert.equal(1, tuya:token_info().grants)
      assert.equal(1, token_requests(sb))
      local st = h.t:stats()
      -- the other 15 waited on the token lock, in the loop
      assert.is_true(st.parks > 0 and st.wakes == st.parks, "parks " .. st.parks .. " wakes " .. st.wakes)
      assert.equal(17, st.sends)
      h.close()
    end)

    it("overlaps 64 signed calls while a 10 ms loop timer keeps firing", function()
      local h = make()
      local tuya = client(h)
      warm(h, tuya)
      local pages, finished = {}, 0
      local ticks = ticker(h, function() return finished == 64 end)
      for i = 1, 64 do
        h.spawn(function()
          pages[i] = assert(tuya.community.room_users{ block_id = block, page_no = i, page_size = 2 })
          finished = finished + 1
        end)
      end
      h.run()
      assert.same({}, h.errors)
      local ids = {}
      for i = 1, 64 do
        assert.equal(2, #pages[i].data)
        for _, r in ipairs(pages[i].data) do ids[r.room_user_id] = true end
      end
      local n = 0
      for _ in pairs(ids) do n = n + 1 end
      assert.equal(128, n, "64 different pages")
      local st = h.t:stats()
      -- all 64 were in flight at once: each coroutine submitted before the loop took any answer
      assert.equal(64, st.max_in_flight)
      assert.equal(66, st.sends, "the token, the warm-up call and the 64")
      assert.equal(0, st.in_flight)
      assert.equal(1, tuya:token_info().grants)
      assert.is_true(st.max_watched > 1, "sockets watched at once " .. st.max_watched)
      assert.is_true(sb:stats().max_in_flight > 1)
      -- the loop was never blocked while requests were out: its timer fired again and again
      assert.is_true(ticks.busy >= 5, "timer ticks while requests were in flight: " .. ticks.busy)
      h.close()
    end)

    it("refreshes a token that expires in the middle exactly once", function()
      local h = make()
      local tuya = client(h)
      warm(h, tuya)
      local got, firsts, tokens_at_expiry, expired = 0, 0, nil, false
      for i = 1, 64 do
        h.spawn(function()
          assert(tuya.community.room_users{ block_id = block, page_no = i, page_size = 1 })
          firsts = firsts + 1
          if not expired then
            -- the first answer is in: every second call goes out after this, on an expired token
            expired = true
            tokens_at_expiry = token_requests(sb)
            assert(sb:control("tuya", "expire_tokens"))
          end
          assert(tuya.community.room_users{ block_id = block, page_no = 65 - i, page_size = 1 })
          got = got + 1
        end)
      end
      h.run()
      assert.same({}, h.errors)
      assert.equal(64, got)
      assert.equal(1, tokens_at_expiry, "one grant before")
      assert.equal(1, token_requests(sb) - tokens_at_expiry, "one token request after the expiry")
      local info = tuya:token_info()
      assert.equal(1, info.grants)
      assert.equal(1, info.refreshes)
      assert.equal(0, info.failed_refreshes)
      assert.equal(64, h.t:stats().max_in_flight)
      assert.is_true(h.t:stats().parks > 0, "the calls that found the token refused waited for the one refresh")
      h.close()
    end)

    it("keeps the other calls going when one fails, one raises and one waits out retries", function()
      local h = make()
      local tuya = client(h)
      local dead = client(h, { base_url = "http://127.0.0.1:1", retry = { attempts = 3, base_ms = 20, cap_ms = 40 } })
      local ok_calls, results, finished = 0, {}, 0
      local function call(fn)
        h.spawn(function()
          local r, e = fn()
          results[#results + 1] = { r, e }
          finished = finished + 1
        end)
      end
      for i = 1, 60 do
        call(function()
          local r, e = tuya.community.room_users{ block_id = block, page_no = i, page_size = 1 }
          if r then ok_calls = ok_calls + 1 end
          return r, e
        end)
      end
      local unknown, refused, raised_after
      call(function()
        local r, e = tuya:request{ path = "/v1.0/iot-02/community/nowhere" }
        unknown = e
        return r, e
      end)
      call(function()
        local r, e = dead.community.room_users{ block_id = block, page_no = 1, page_size = 1 }
        refused = e
        return r, e
      end)
      h.spawn(function()
        raised_after = assert(tuya.community.room_users{ block_id = block, page_no = 1, page_size = 1 })
        error("a bug in the application's own code")
      end)
      local ticks = ticker(h, function() return finished == 62 end)
      h.run()
      assert.equal(60, ok_calls)
      assert.is_table(raised_after)
      assert.equal(1, #h.errors)
      assert.truthy(tostring(h.errors[1]):find("a bug in the application's own code", 1, true))
      assert.truthy(unknown, "the unknown path failed")
      assert.equal("transport", refused.kind)
      assert.equal("connect", refused.reason)
      -- the token fetch was tried 3 times; the backoff waited on the loop's timers, not by blocking it
      assert.is_true(h.t:stats().sleeps >= 2, "sleeps " .. h.t:stats().sleeps)
      assert.is_true(ticks.all > 0)
      h.close()
    end)

    it("honours deadlines and rate limits in the loop", function()
      local h = make()
      local slow = client(h, { deadline_ms = 300, retry = { attempts = 1 } })
      local limited = client(h, { limiter = dwell.ratelimit.new{ capacity = 1, refill_per_second = 25 } })
      local timed_out, limited_ok, finished = nil, 0, 0
      h.spawn(function()
        local r, e = slow.community.structure.get{ structure_id = "s1" }
        timed_out = { r, e }
        finished = finished + 1
      end)
      for i = 1, 6 do
        h.spawn(function()
          if limited.community.room_users{ block_id = block, page_no = i, page_size = 1 } then limited_ok = limited_ok + 1 end
          finished = finished + 1
        end)
      end
      local ticks = ticker(h, function() return finished == 7 end)
      h.run()
      assert.same({}, h.errors)
      assert.is_nil(timed_out[1])
      assert.equal("timeout", timed_out[2].kind)
      assert.equal(6, limited_ok)
      -- the limiter's waits (a 7th token is 40 ms away) were loop timers
      assert.is_true(h.t:stats().sleeps >= 1, "sleeps " .. h.t:stats().sleeps)
      assert.is_true(ticks.all > 0)
      h.close()
    end)

    it("cancels the calls in flight when closed, and fails later calls at once", function()
      local h = make()
      local tuya = client(h)
      -- its token fetch is refused at once, then waits >= 5 s before trying again
      local dead = client(h, { base_url = "http://127.0.0.1:1",
                               retry = { attempts = 5, base_ms = 5000, cap_ms = 5000, jitter = "added" } })
      local outcomes, finished = {}, 0
      h.spawn(function()
        outcomes.dead = { dead.community.room_users{ block_id = block, page_no = 1, page_size = 1 } }
      end)
      h.spawn(function()
        assert(tuya.community.room_users{ block_id = block, page_no = 1, page_size = 1 })
        -- the token is in: the 16 go out together
        for i = 1, 16 do
          h.spawn(function()
            outcomes[i] = { tuya.community.room_users{ block_id = block, page_no = i, page_size = 1 } }
            finished = finished + 1
          end)
        end
      end)
      -- closes once the 16 are out and the dead call sleeps in its backoff (or, should that
      -- never be seen, once they are all done, for the assertions below to say so)
      local sends_at_close, in_flight_at_close
      h.every(5, function()
        local st = h.t:stats()
        if (st.in_flight == 16 and st.sleeps >= 1) or finished == 16 then
          sends_at_close, in_flight_at_close = st.sends, st.in_flight
          h.t:close()
          return false
        end
        return true
      end)
      h.run()
      assert.same({}, h.errors)
      assert.equal(16, in_flight_at_close)
      for i = 1, 16 do
        local r, e = outcomes[i][1], outcomes[i][2]
        assert.is_nil(r)
        assert.equal("transport", e.kind)
        assert.equal("cancelled", e.reason)
        assert.is_false(e.retryable)
      end
      -- the sleeper woke at the close and its next attempt failed at once
      assert.is_nil(outcomes.dead[1])
      assert.equal("cancelled", outcomes.dead[2].reason)
      local st = h.t:stats()
      assert.equal(sends_at_close, st.sends, "a cancelled request is never resent")
      assert.equal(16, st.cancelled)
      assert.equal(0, st.in_flight)
      assert.equal(0, st.watched)
      assert.equal(0, h.handles(), "the transport left nothing open in the loop")
      -- a call after close fails at once, without touching the loop
      local again = {}
      h.spawn(function() again = { tuya.community.room_users{ block_id = block, page_no = 1, page_size = 1 } } end)
      h.run()
      assert.is_nil(again[1])
      assert.equal("cancelled", again[2].reason)
      h.close() -- twice is fine
      collectgarbage()
    end)

    it("refuses calls from outside the loop's coroutines", function()
      local h = make()
      local tuya = client(h)
      local ok, err = pcall(tuya.community.room_users, { block_id = block, page_no = 1, page_size = 1 })
      assert.is_false(ok)
      assert.equal("invalid_argument", err.kind)
      assert.truthy(err.message:find("coroutine of the loop", 1, true), err.message)
      h.close()
    end)

    it("checks its options and names a missing library", function()
      local mod = require("dwell.loop." .. name)
      local arg = name == "luv" and require("luv") or require("cqueues").new()
      local t, err = mod.transport(arg, { timeout_ms = -1 })
      assert.is_nil(t)
      assert.equal("invalid_argument", err.kind)
      t, err = mod.transport(arg, { retyr = {} })
      assert.is_nil(t)
      assert.truthy(err.message:find("did you mean 'retry'", 1, true), err.message)
      t, err = mod.transport(arg, { clock = { now = os.time } })
      assert.is_nil(t)
      assert.equal("clock", err.param)
      t, err = mod.transport({})
      assert.is_nil(t)
      assert.equal("invalid_argument", err.kind)
      -- the library itself missing
      local lib = name
      local saved_loaded, saved_preload = package.loaded[lib], package.preload[lib]
      package.loaded[lib] = nil
      package.preload[lib] = function() error("module '" .. lib .. "' not found", 0) end
      local with = arg
      if name == "luv" then with = nil end -- luv: transport() requires it itself
      local ok, t2, err2 = pcall(mod.transport, with)
      package.loaded[lib], package.preload[lib] = saved_loaded, saved_preload
      assert.is_true(ok, t2)
      assert.is_nil(t2)
      assert.equal("invalid_argument", err2.kind)
      assert.truthy(err2.message:find("apt-get install lua-" .. lib, 1, true), err2.message)
    end)
  end)
end

describe("examples/luv_gateway.lua", function()
  it("serves local HTTP requests by calling Tuya through dwell without blocking its loop", function()
    local support = require "support.shell"
    local out, rc = support.shell(support.lua_cmd("examples/luv_gateway.lua --self-test 12 2>&1"))
    assert.equal(0, rc, out)
    assert.truthy(out:find("answered 12 requests", 1, true), out)
    local at_once = tonumber(out:match("at most (%d+) dwell requests in flight"))
    assert.is_true(at_once ~= nil and at_once > 1, out)
    local ticks = tonumber(out:match("the loop's 10 ms timer fired (%d+) times"))
    assert.is_true(ticks ~= nil and ticks > 0, out)
    assert.truthy(out:find("token grants 1", 1, true), out)
  end)
end)
