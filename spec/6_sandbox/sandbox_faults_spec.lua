-- Fault injection seen from the client side (curl exit codes and bodies).
local sandbox = require "dwell.sandbox"
local json = require "dwell.sandbox.json"
local support = require "support.shell"
local curl = support.curl

-- curl exit codes
local RECV_ERROR, PARTIAL, TIMED_OUT, EMPTY_REPLY = 56, 18, 28, 52

local function codes(sb, path, n)
  local args = {}
  for i = 1, n do args[#args + 1] = (i > 1 and "-o /dev/null " or "") .. sb.url .. path end
  local r = curl(table.concat(args, " "), "%{http_code} ")
  local out = {}
  for c in r.out:gmatch("%d+") do out[#out + 1] = tonumber(c) end
  return out
end

describe("sandbox faults", function()
  it("answers every Nth matching request with the given status and body", function()
    local sb <close> = assert(sandbox.start{ routes = { "static" }, faults = {
      { match = "GET /static/{n}", every = 3, kind = "status", status = 429,
        headers = { ["Retry-After"] = "7" }, body = { error = "slow down" } },
    } })
    assert.are.same({ 200, 200, 429, 200, 200, 429 }, codes(sb, "/static/10", 6))
    sb:reset()
    local r1, r2 = curl(sb.url .. "/static/10"), curl(sb.url .. "/static/10")
    assert.are.equal(200, r2.status)
    local r = curl("-i " .. sb.url .. "/static/10")
    assert.are.equal(429, r.status)
    assert.truthy(r.body:find("Retry%-After: 7"))
    assert.truthy(r.body:find('"slow down"', 1, true))
    assert.are.equal(200, r1.status)
  end)

  it("matches on the method when the spec names one", function()
    local sb <close> = assert(sandbox.start{ routes = { "echo" }, faults = {
      { match = "POST /echo/{x}", kind = "status", status = 500 },
    } })
    assert.are.equal(200, curl(sb.url .. "/echo/a").status)
    assert.are.equal(500, curl("-d x " .. sb.url .. "/echo/a").status)
    assert.are.equal(200, curl("-d x " .. sb.url .. "/echo").status)
  end)

  it("fires with a seeded probability, reproducibly, at most `times` times", function()
    local spec = { { match = "/static/{n}", probability = 0.5, seed = 42, kind = "status", status = 503 } }
    local a = assert(sandbox.start{ routes = { "static" }, faults = spec })
    local b = assert(sandbox.start{ routes = { "static" }, faults = spec })
    local ca, cb = codes(a, "/static/4", 40), codes(b, "/static/4", 40)
    a:close()
    b:close()
    assert.are.same(ca, cb)
    local fired = 0
    for _, c in ipairs(ca) do if c == 503 then fired = fired + 1 end end
    assert.is_true(fired > 5 and fired < 35, "fired " .. fired .. " of 40")
    local c <close> = assert(sandbox.start{ routes = { "static" }, faults = {
      { kind = "status", status = 502, times = 2 } } })
    assert.are.same({ 502, 502, 200, 200 }, codes(c, "/static/4", 4))
  end)

  it("adds a delay the client can time out on", function()
    local sb <close> = assert(sandbox.start{ routes = { "static" }, faults = {
      { match = "/static/{n}", kind = "delay", delay_ms = 3000 * support.slow } } })
    local r = curl("--max-time 0.5 " .. sb.url .. "/static/10")
    assert.are.equal(TIMED_OUT, r.rc)
    local ok = curl("--max-time 120 " .. sb.url .. "/static/10")
    assert.are.equal(0, ok.rc)
    assert.are.equal(10, #ok.body)
  end)

  it("resets the connection before the response", function()
    local sb <close> = assert(sandbox.start{ routes = { "static" }, faults = {
      { match = "GET /static/{n}", every = 2, kind = "reset" } } })
    assert.are.equal(0, curl(sb.url .. "/static/10").rc)
    local r = curl(sb.url .. "/static/10")
    assert.are.equal(RECV_ERROR, r.rc)
    assert.truthy(r.err:find("reset", 1, true), r.err)
    assert.are.equal(0, curl(sb.url .. "/static/10").rc)
    assert.are.equal(3, sb:stats().served)
  end)

  it("sends a body shorter than its Content-Length", function()
    local sb <close> = assert(sandbox.start{ routes = { "static" }, faults = {
      { match = "/static/{n}", kind = "truncate" } } })
    local r = curl(sb.url .. "/static/1000", "%{http_code} %{size_download}")
    assert.are.equal(PARTIAL, r.rc)
    assert.are.equal(200, r.status)
    local got = tonumber(r.out:match(" (%d+)"))
    assert.is_true(got < 1000 and got > 0, r.out)
  end)

  it("sends a non-JSON body labelled as JSON", function()
    local sb <close> = assert(sandbox.start{ routes = { "static" }, faults = {
      { kind = "non_json", status = 502 } } })
    local r = curl("-i " .. sb.url .. "/static/10")
    assert.are.equal(502, r.status)
    assert.truthy(r.body:lower():find("content%-type: application/json"))
    assert.is_nil(json.decode(r.body:match("\r\n\r\n(.*)$")))
  end)

  it("never answers until the client gives up, and still stops promptly", function()
    local sb = assert(sandbox.start{ routes = { "echo" }, faults = { { match = "/echo/hang", kind = "hang" } } })
    local r = curl("--max-time 0.5 " .. sb.url .. "/echo/hang")
    assert.are.equal(TIMED_OUT, r.rc)
    assert.are.equal(200, curl(sb.url .. "/echo/ok").status)
    local p = io.popen(("%s -sS --max-time 60 %s/echo/hang 2>&1; echo rc=$?"):format(support.curl_cmd, sb.url))
    -- The timed-out request above still hangs on the server: wait for the second.
    assert.is_true(support.wait_until(function() return sb:stats().in_flight == 2 end))
    sb:stop()
    local out = p:read("a")
    p:close()
    assert.truthy(out:find("rc=" .. EMPTY_REPLY, 1, true), out)
    sb:close()
  end)

  it("runs the handler first only when `handled` is set", function()
    local undo = support.route_sets{ spec_tally = [[
      return function()
        local n = 0
        return { { "POST", "/tally", function() n = n + 1; return 200, {}, { n = n } end } }, {}
      end ]] }
    local function second_tally(handled)
      local sb <close> = assert(sandbox.start{ routes = { "spec_tally" }, faults = {
        { match = "/tally", kind = "reset", handled = handled, times = 1 } } })
      assert.are.equal(RECV_ERROR, curl("-X POST " .. sb.url .. "/tally").rc)
      return json.decode(curl("-X POST " .. sb.url .. "/tally").body).n
    end
    local ok, a, b = pcall(function() return second_tally(true), second_tally(false) end)
    undo()
    assert(ok, a)
    assert.are.equal(2, a)
    assert.are.equal(1, b)
  end)
end)
