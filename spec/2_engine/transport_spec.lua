-- dwell.transport, dwell.ratelimit and dwell.parallel over real HTTP against
-- the sandbox. Waits are measured on a virtual clock, never by wall time.
local transport = require "dwell.transport"
local ratelimit = require "dwell.ratelimit"
local scheduler = require "dwell.scheduler"
local errors = require "dwell.error"
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"
local support = require "support.shell"

local function start(opts)
  opts.routes = opts.routes or { "echo", "static" }
  return assert(sandbox.start(opts))
end

local function count(sb, method, path)
  local n = 0
  for _, r in ipairs(sb:requests()) do
    if r.method == method and r.path == path then n = n + 1 end
  end
  return n
end

describe("dwell.transport", function()
  describe("send", function()
    it("works outside a scheduler and keeps connections alive", function()
      local sb <close> = start{}
      local t = transport.new{}
      assert.are.equal(200, assert(t:send{ url = sb.url .. "/static/5" }).status)
      assert.is_true(assert(t:send{ url = sb.url .. "/static/5" }).reused)
    end)

    it("returns the final response whatever its status", function()
      local sb <close> = start{}
      local r = assert(transport.new{}:send{ url = sb.url .. "/echo?status=404" })
      assert.are.equal(404, r.status)
    end)
  end)

  describe("retries", function()
    it("retries an idempotent request on 503 and honours Retry-After in seconds", function()
      local sb <close> = start{ faults = { { match = "GET /static/{n}", times = 2, kind = "status", status = 503,
                                             headers = { ["Retry-After"] = "7" } } } }
      local clock = transport.virtual_clock(100)
      local t = transport.new{ clock = clock }
      local r = assert(t:send{ url = sb.url .. "/static/3" })
      assert.are.equal(200, r.status)
      assert.are.equal(3, count(sb, "GET", "/static/3"))
      assert.are.equal(114, clock.now())
    end)

    it("honours Retry-After as an HTTP date", function()
      local when = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 30)
      local sb <close> = start{ faults = { { times = 1, kind = "status", status = 429,
                                             headers = { ["Retry-After"] = when } } } }
      local clock = transport.virtual_clock(0)
      local r = assert(transport.new{ clock = clock }:send{ url = sb.url .. "/static/3" })
      assert.are.equal(200, r.status)
      assert.is_true(clock.now() >= 28 and clock.now() <= 31, tostring(clock.now()))
    end)

    it("retries on 429, 502, 503 and 504 only", function()
      for _, status in ipairs{ 429, 502, 503, 504 } do
        local sb <close> = start{ faults = { { times = 1, kind = "status", status = status } } }
        local t = transport.new{ clock = transport.virtual_clock() }
        assert.are.equal(200, assert(t:send{ url = sb.url .. "/static/1" }).status)
        assert.are.equal(2, #sb:requests(), "status " .. status)
      end
      for _, status in ipairs{ 500, 400, 401 } do
        local sb <close> = start{ faults = { { times = 1, kind = "status", status = status } } }
        local t = transport.new{ clock = transport.virtual_clock() }
        assert.are.equal(status, assert(t:send{ url = sb.url .. "/static/1" }).status)
        assert.are.equal(1, #sb:requests())
      end
    end)

    it("does not retry POST, unless it is marked idempotent", function()
      local sb <close> = start{ faults = { { match = "POST /static/sink", kind = "status", status = 503 } } }
      local t = transport.new{ clock = transport.virtual_clock() }
      local r = assert(t:send{ method = "POST", url = sb.url .. "/static/sink", body = "x" })
      assert.are.equal(503, r.status)
      assert.are.equal(1, #sb:requests())
      r = assert(t:send{ method = "POST", url = sb.url .. "/static/sink", body = "x", idempotent = true })
      assert.are.equal(503, r.status)
      assert.are.equal(1 + 3, #sb:requests())
    end)

    it("retries transport errors with capped exponential backoff and full jitter", function()
      local sb <close> = start{ faults = { { times = 3, kind = "reset" } } }
      local clock = transport.virtual_clock(0)
      local t = transport.new{ clock = clock, random = function() return 1 end,
                               retry = { attempts = 4, base_ms = 100, cap_ms = 250 } }
      local r = assert(t:send{ url = sb.url .. "/static/2" })
      assert.are.equal(200, r.status)
      assert.are.equal(4, #sb:requests())
      -- ceilings 100, 200, then 400 capped at 250 ms; random() = 1 waits the whole ceiling
      assert.is_true(math.abs(clock.now() - 0.55) < 1e-9, tostring(clock.now()))
      local half = transport.new{ random = function() return 0.5 end, retry = { base_ms = 100, cap_ms = 250 } }
      assert.are.equal(0.05, half:backoff(1))
      assert.are.equal(0.125, half:backoff(3))
      -- "added" jitter: never below the step, at most a quarter above it.
      local added = transport.new{ random = function() return 0.5 end,
                                   retry = { base_ms = 1000, cap_ms = 16000, jitter = "added" } }
      assert.are.equal(1.125, added:backoff(1))
      assert.are.equal(4.5, added:backoff(3))
      assert.are.equal(18, added:backoff(9))
      assert.has_error(function() transport.new{ retry = { jitter = "none" } } end)
    end)

    it("gives up after the configured attempts with a dwell.error of kind transport", function()
      local sb <close> = start{ faults = { { kind = "reset" } } }
      local t = transport.new{ clock = transport.virtual_clock() }
      local r, err = t:send{ url = sb.url .. "/static/2?access_token=abc123" }
      assert.is_nil(r)
      assert.is_true(errors.is(err))
      assert.are.equal("transport", err.kind)
      assert.are.equal("transport", err.reason)
      assert.are.equal(3, err.attempts)
      assert.are.equal(3, #sb:requests())
      assert.is_nil(tostring(err):find("abc123", 1, true))
      assert.is_nil(err.url:find("abc123", 1, true))
    end)

    it("maps C error kinds: timeout stays timeout, too_large becomes transport", function()
      local sb <close> = start{ faults = { { match = "/static/7", kind = "hang" } } }
      local t = transport.new{ retry = { attempts = 1 } }
      local _, err = t:send{ url = sb.url .. "/static/7", timeout_ms = 150 }
      assert.are.equal("timeout", err.kind)
      assert.are.equal("timeout", err.reason)
      _, err = t:send{ url = sb.url .. "/static/5000", max_response_bytes = 1000 }
      assert.are.equal("transport", err.kind)
      assert.are.equal("too_large", err.reason)
      _, err = transport.new{ max_response_bytes = 10 }:send{ url = sb.url .. "/static/5000" }
      assert.are.equal("too_large", err.reason)
    end)

    it("stops retrying when the deadline would pass", function()
      local sb <close> = start{ faults = { { kind = "status", status = 503, headers = { ["Retry-After"] = "5" } } } }
      local clock = transport.virtual_clock(0)
      local t = transport.new{ clock = clock, deadline_ms = 12000 }
      local r = assert(t:send{ url = sb.url .. "/static/1" })
      assert.are.equal(503, r.status)
      assert.are.equal(3, #sb:requests())
      assert.are.equal(10, clock.now())
      sb:reset()
      r = assert(t:send{ url = sb.url .. "/static/1", deadline_ms = 4000 })
      assert.are.equal(503, r.status)
      assert.are.equal(1, #sb:requests())
    end)

    it("raises on header injection before anything is sent", function()
      local sb <close> = start{}
      local t = transport.new{}
      assert.has_error(function() t:send{ url = sb.url .. "/echo", headers = { ["X-A"] = "1\r\nX-B: 2" } } end)
      assert.has_error(function()
        dwell.parallel({ { function() return t:send{ url = sb.url .. "/echo\n" } end } })
      end)
      assert.are.same({}, sb:requests())
    end)
  end)

  describe("hooks", function()
    it("report method, redacted url, status, timing and attempt, never secrets", function()
      local sb <close> = start{ faults = { { times = 1, kind = "status", status = 503 } } }
      local seen = {}
      local function record(phase)
        return function(info)
          local copy = { phase = phase }
          for k, v in pairs(info) do copy[k] = v end
          seen[#seen + 1] = copy
        end
      end
      local t = transport.new{ clock = transport.virtual_clock(), on_request = record("request"),
                               on_response = record("response") }
      local url = sb.url .. "/echo?room=7&access_token=TOKEN1&sign=SIGN2&client_secret=CS3&t=1"
      local r = assert(t:send{ url = url, headers = { Authorization = "Bearer AUTH4" }, body = "passphrase=PP5",
                               method = "PUT", idempotent = true })
      assert.are.equal(200, r.status)
      assert.are.same({ "request", "response", "request", "response" },
                      { seen[1].phase, seen[2].phase, seen[3].phase, seen[4].phase })
      assert.are.equal(1, seen[2].attempt)
      assert.are.equal(503, seen[2].status)
      assert.are.equal(2, seen[4].attempt)
      assert.are.equal(200, seen[4].status)
      assert.is_number(seen[4].timing.total)
      assert.are.equal("PUT", seen[1].method)
      assert.truthy(seen[1].url:find("room=7", 1, true))
      local dump = require("dwell.json").encode(seen)
      for _, secret in ipairs{ "TOKEN1", "SIGN2", "CS3", "AUTH4", "PP5" } do
        assert.is_nil(dump:find(secret, 1, true), secret)
      end
    end)
  end)

  describe("rate limiter", function()
    it("lets capacity requests through, then one per refill interval", function()
      local sb <close> = start{}
      local clock = transport.virtual_clock(0)
      local at = {}
      local t = transport.new{ on_request = function() at[#at + 1] = clock.now() end }
      local bucket = ratelimit.new{ capacity = 5, refill_per_second = 10 }
      local calls = {}
      for i = 1, 20 do
        calls[i] = { function() return t:send{ url = sb.url .. "/static/1", limiter = bucket } end }
      end
      local results = dwell.parallel(calls, { concurrency = 20, clock = clock })
      assert.are.equal(20, #results)
      assert.are.equal(20, #sb:requests())
      local at_zero = 0
      for _, v in ipairs(at) do if v == 0 then at_zero = at_zero + 1 end end
      assert.are.equal(5, at_zero)
      assert.is_true(math.abs(at[20] - 1.5) < 1e-9, tostring(at[20]))
      assert.is_true(math.abs(clock.now() - 1.5) < 1e-9)
    end)

    it("does not make tasks with tokens wait behind a task without", function()
      local clock = scheduler.virtual_clock(0)
      local limits = ratelimit.group{ capacity = 1, refill_per_second = 1 }
      local finished = {}
      local function job(key)
        return function()
          limits:take(key)
          finished[#finished + 1] = ("%s@%g"):format(key, clock.now())
          return true
        end
      end
      dwell.parallel({ { job("a") }, { job("a") }, { job("a") }, { job("b") } }, { clock = clock })
      assert.are.same({ "a@0", "b@0", "a@1", "a@2" }, finished)
    end)

    it("try_take and a bounded take never wait", function()
      local clock = scheduler.virtual_clock(0)
      local b = ratelimit.new{ capacity = 2, refill_per_second = 0.5, clock = clock }
      assert.is_true(b:try_take())
      assert.is_true(b:try_take())
      assert.is_false(b:try_take())
      local ok, wait = b:take(1, 1)
      assert.is_false(ok)
      assert.are.equal(2, wait)
      assert.are.equal(0, clock.now())
      assert.is_true(b:take(1))
      assert.are.equal(2, clock.now())
    end)
  end)

  describe("lock", function()
    it("runs a token refresh once while the other tasks wait without blocking", function()
      local sb <close> = start{}
      local t = transport.new{}
      local lock = transport.lock()
      local token
      local function get_token()
        return lock:with(function()
          if not token then
            local r = assert(t:send{ url = sb.url .. "/static/8", timeout_ms = 5000 })
            token = r.body
          end
          return token
        end)
      end
      local calls = {}
      for i = 1, 10 do
        calls[i] = { function() return get_token() .. "/" .. assert(t:send{ url = sb.url .. "/echo" }).status end }
      end
      local results = dwell.parallel(calls, { concurrency = 10 })
      assert.are.equal(10, #results)
      for i = 1, 10 do assert.are.equal(token .. "/200", results[i]) end
      assert.are.equal(1, count(sb, "GET", "/static/8"))
      assert.is_false(lock:held())
    end)

    it("releases the lock when the function raises", function()
      local lock = transport.lock()
      assert.has_error(function() lock:with(error, "boom") end, "boom")
      assert.is_false(lock:held())
      assert.are.equal(3, lock:with(function(a, b) return a + b end, 1, 2))
    end)
  end)

  describe("sleep", function()
    it("lets other tasks run, on the scheduler's clock", function()
      local clock = scheduler.virtual_clock(0)
      local order = {}
      local function sleeper(s)
        return function()
          transport.sleep(s)
          order[#order + 1] = s
          return transport.now()
        end
      end
      local results = dwell.parallel({ { sleeper(3) }, { sleeper(1) }, { sleeper(2) } }, { clock = clock })
      assert.are.same({ 1, 2, 3 }, order)
      assert.are.same({ 3, 1, 2 }, results)
    end)
  end)
end)

describe("dwell.parallel", function()
  it("keeps `concurrency` requests in flight and returns results in input order", function()
    local sb <close> = start{ latency_ms = 50 * support.slow }
    local t = transport.new{}
    local calls = {}
    for i = 1, 64 do
      calls[i] = { function(n)
        local r, err = t:send{ url = sb.url .. "/static/" .. n }
        if not r then return nil, err end
        return #r.body
      end, i }
    end
    local results, errs = dwell.parallel(calls, { concurrency = 8 })
    assert.are.same({}, errs)
    for i = 1, 64 do assert.are.equal(i, results[i]) end
    local stats = sb:stats()
    assert.are.equal(64, stats.served)
    assert.are.equal(8, stats.max_in_flight)
  end)

  it("collects dwell.errors returned or raised per call", function()
    local e1 = errors.new{ kind = "not_found", message = "no room" }
    local results, errs = dwell.parallel({
      { function() return 1 end },
      { function() return nil, e1 end },
      { function() error(errors.new{ kind = "auth", message = "expired" }) end },
      { function(x) return x * 2 end, 21 },
    })
    assert.are.same({ [1] = 1, [4] = 42 }, results)
    assert.are.equal(e1, errs[2])
    assert.are.equal("auth", errs[3].kind)
    assert.is_nil(errs[1])
  end)

  it("raises other errors once the running calls finish", function()
    local ran = 0
    assert.has_error(function()
      dwell.parallel({ { function() ran = ran + 1 error("bug here") end },
                       { function() ran = ran + 1 return 1 end } }, { concurrency = 1 })
    end)
    assert.are.equal(1, ran)
  end)

  it("nests: a call may run its own parallel batch", function()
    local clock = scheduler.virtual_clock(0)
    local function inner(n)
      local calls = {}
      for i = 1, n do calls[i] = { function(k) transport.sleep(1) return k end, i } end
      local r = dwell.parallel(calls, { concurrency = n })
      return #r
    end
    local results = dwell.parallel({ { inner, 3 }, { inner, 4 } }, { clock = clock })
    assert.are.same({ 3, 4 }, results)
    assert.are.equal(1, clock.now())
  end)
end)

describe("dwell.redact", function()
  local redact = require "dwell.redact"
  it("masks secret query values and user-info, keeping the rest", function()
    assert.are.equal("https://h/p?a=1&access_token=[redacted]&sign=[redacted]#f",
                     redact.url("https://user:pw@h/p?a=1&access_token=x&sign=y#f"))
    assert.are.equal("http://h/p?Client_Secret=[redacted]&mine=[redacted]",
                     redact.url("http://h/p?Client_Secret=s&mine=v", { "mine" }))
    assert.are.same({ Authorization = "[redacted]", ["X-Trace"] = "1", { "X-Api-Token", "[redacted]" } },
                    redact.headers{ Authorization = "Bearer x", ["X-Trace"] = "1", { "X-Api-Token", "t" } })
  end)
end)
