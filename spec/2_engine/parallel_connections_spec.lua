-- dwell.parallel's connections over real HTTP against the sandbox: a run of `concurrency` tasks
-- keeps that many connections alive and opens no more, whatever the number of calls (the
-- sandbox counts the connections it accepts). Counts only, never wall time.
local dwell = require "dwell"
local transport = require "dwell.transport"
local sandbox = require "dwell.sandbox"
local support = require "support.shell"

local function start(opts)
  opts.routes = opts.routes or { "static" }
  return assert(sandbox.start(opts))
end

-- A call that fetches /static/n and returns the body's length and whether the connection was reused.
local function fetcher(t, base)
  return function(n)
    local r, err = t:send{ url = base .. "/static/" .. n }
    if not r then return nil, err end
    return { #r.body, r.reused }
  end
end

describe("dwell.parallel connections", function()
  it("opens at most `concurrency` connections over many more calls (above the default cache of 64)", function()
    local sb <close> = start{ latency_ms = 20 * support.slow }
    local t = transport.new{}
    local conc, n = 80, 400
    local calls = {}
    for i = 1, n do calls[i] = { fetcher(t, sb.url), i } end
    local results, errs = dwell.parallel(calls, { concurrency = conc })
    assert.are.same({}, errs)
    local reused = 0
    for i = 1, n do
      assert.are.equal(i, results[i][1])
      if results[i][2] then reused = reused + 1 end
    end
    local st = sb:stats()
    assert.are.equal(n, st.served)
    assert.is_true(st.connections_total <= conc, "connections opened: " .. st.connections_total)
    assert.is_true(st.max_in_flight <= conc)
    -- every call either opened one of those connections or reused one
    assert.are.equal(n - st.connections_total, reused)
  end)

  it("a second run reuses the first run's connections", function()
    local sb <close> = start{ latency_ms = 10 * support.slow }
    local t = transport.new{}
    local calls = {}
    for i = 1, 200 do calls[i] = { fetcher(t, sb.url), i } end
    assert.are.same({}, select(2, dwell.parallel(calls, { concurrency = 100 })))
    local first = sb:stats().connections_total
    assert.is_true(first <= 100)
    local results, errs = dwell.parallel(calls, { concurrency = 100 })
    assert.are.same({}, errs)
    for i = 1, 200 do assert.is_true(results[i][2]) end
    assert.are.equal(first, sb:stats().connections_total)
  end)

  it("nested runs add up: an outer run of 4 whose calls each run 3 at once has 12 in flight", function()
    local sb <close> = start{ latency_ms = 100 * support.slow }
    local t = transport.new{}
    local fetch = fetcher(t, sb.url)
    local function outer(k)
      local calls = {}
      for j = 1, 3 do calls[j] = { fetch, k * 10 + j } end
      local results, errs = dwell.parallel(calls, { concurrency = 3 })
      assert(next(errs) == nil)
      return { results[1][1], results[2][1], results[3][1] }
    end
    local calls = {}
    for k = 1, 4 do calls[k] = { outer, k } end
    local results, errs = dwell.parallel(calls, { concurrency = 4 })
    assert.are.same({}, errs)
    for k = 1, 4 do assert.are.same({ k * 10 + 1, k * 10 + 2, k * 10 + 3 }, results[k]) end
    local st = sb:stats()
    assert.are.equal(12, st.served)
    assert.are.equal(12, st.max_in_flight)
    assert.is_true(st.connections_total <= 12)
  end)
end)
