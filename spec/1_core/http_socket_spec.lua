-- dwell.core.http socket sessions (libcurl's multi-socket interface) over real HTTP against the
-- sandbox on 127.0.0.1, driven here by a loop of plain Lua that watches nothing itself: it asks
-- curl to look at every socket it wants watched (action(fd) without an event) and fires the
-- timer when due, which is all a host event loop does with real readiness.
local http = require("dwell.core").http
local sandbox = require "dwell.sandbox"
local json = require "dwell.json"

-- A minimal driver: returns a table with run(until_fn) and the record of what curl asked for.
local function driver(s)
  local d = { watch = {}, log = {}, timer_at = nil, results = {}, max_watched = 0 }
  local function pull()
    local changes, timeout = assert(s:events())
    for _, c in ipairs(changes) do
      d.log[#d.log + 1] = c
      if c.what == "remove" then d.watch[c.fd] = nil else d.watch[c.fd] = c.what end
    end
    local n = 0
    for _ in pairs(d.watch) do n = n + 1 end
    d.max_watched = math.max(d.max_watched, n)
    if timeout == -1 then d.timer_at = nil
    elseif timeout then d.timer_at = http.monotonic() + timeout / 1000 end
  end
  local function take(done)
    for _, r in ipairs(done) do d.results[r.id] = r end
  end
  d.pull = pull
  function d.run(until_fn, seconds)
    local limit = http.monotonic() + (seconds or 20)
    pull()
    while not until_fn() do
      assert(http.monotonic() < limit, "driver: timed out")
      for fd in pairs(d.watch) do take(assert(s:action(fd))) end
      pull()
      if d.timer_at and http.monotonic() >= d.timer_at then
        d.timer_at = nil
        take(assert(s:action()))
        pull()
      end
      http.sleep(0.001)
    end
  end
  return d
end

describe("dwell.core.http socket sessions", function()
  local sb, s
  before_each(function()
    sb = assert(sandbox.start{ routes = { "echo", "static" }, latency_ms = 30 })
    s = assert(http.new_socket_session())
  end)
  after_each(function()
    s:close()
    sb:stop()
  end)

  it("runs many transfers at once and returns them as poll does", function()
    local d = driver(s)
    local ids = {}
    for i = 1, 16 do
      ids[i] = assert(s:submit{ method = "POST", url = sb.url .. "/echo/" .. i, body = "n=" .. i,
                                headers = { ["X-N"] = tostring(i) } })
    end
    assert.equal(16, s:pending())
    d.run(function() return s:pending() == 0 end)
    for i = 1, 16 do
      local r = d.results[ids[i]]
      assert.equal(ids[i], r.id)
      assert.equal(200, r.resp.status)
      local echo = json.decode(r.resp.body)
      assert.equal("/echo/" .. i, echo.path)
      assert.equal("n=" .. i, echo.body)
      assert.equal(tostring(i), r.resp.headers["x-n"] or echo.headers["x-n"])
    end
    -- curl asked for several sockets at once, and every one it asked for is given back
    assert.is_true(d.max_watched > 1, "sockets watched at once: " .. d.max_watched)
    assert.same({}, d.watch)
    assert.is_true(sb:stats().max_in_flight > 1)
    for _, c in ipairs(d.log) do
      assert.is_true(math.type(c.fd) == "integer" and c.fd >= 0)
      assert.truthy(({ ["in"] = true, out = true, inout = true, remove = true })[c.what], c.what)
    end
  end)

  it("asks for the timer at once after a submit and reports it once", function()
    assert(s:submit{ url = sb.url .. "/static/5" })
    local changes, timeout = assert(s:events())
    assert.same({}, changes)
    assert.equal(0, timeout)
    local _, again = s:events()
    assert.is_nil(again, "an unchanged timer is reported as nil")
    local d = driver(s)
    d.timer_at = http.monotonic() -- what the 0 above asked for: the driver acts at once
    d.run(function() return s:pending() == 0 end)
    local r = select(2, next(d.results))
    assert.equal("10000", r.resp.body)
  end)

  it("keeps connections alive across transfers (the multi's own cache)", function()
    local d = driver(s)
    for _ = 1, 3 do
      assert(s:submit{ url = sb.url .. "/static/3" })
      d.run(function() return s:pending() == 0 end)
    end
    local reused = 0
    for _, r in pairs(d.results) do if r.resp.reused then reused = reused + 1 end end
    assert.equal(2, reused)
    assert.equal(1, sb:stats().connections_total)
  end)

  it("reports transport failures like poll", function()
    local d = driver(s)
    local id = assert(s:submit{ url = "http://127.0.0.1:1/", connect_timeout_ms = 2000 })
    d.run(function() return s:pending() == 0 end)
    local r = d.results[id]
    assert.is_nil(r.resp)
    assert.equal("connect", r.err.kind)
    assert.is_false(r.err.sent)
  end)

  it("cancels a transfer in flight and gives its socket back", function()
    local d = driver(s)
    local id = assert(s:submit{ url = sb.url .. "/static/5" })
    d.run(function() return next(d.watch) ~= nil end)
    assert.is_true(s:cancel(id))
    assert.is_false(s:cancel(id))
    assert.equal(0, s:pending())
    d.pull()
    assert.same({}, d.watch)
  end)

  it("gives the loop descriptors of its own, closed only once the loop has seen their removal", function()
    -- Linux: /proc/self/fd/N of a socket exists (opening it fails with ENXIO) until it is closed
    local function open_fd(fd)
      local f, err = io.open("/proc/self/fd/" .. fd)
      if f then f:close() return true end
      return not err:find("No such file", 1, true)
    end
    local d = driver(s)
    local id = assert(s:submit{ url = sb.url .. "/static/5" })
    d.run(function() return next(d.watch) ~= nil end)
    local fd = next(d.watch)
    assert.is_true(open_fd(fd))
    assert.is_true(s:cancel(id)) -- a connect cut short: curl closes its socket at once
    assert.is_true(open_fd(fd), "the loop's descriptor stays until the loop was told")
    local changes = assert(s:events())
    assert.same({ { fd = fd, what = "remove" } }, changes)
    assert.is_true(open_fd(fd), "the loop stops watching it first")
    s:pending() -- the next call, whichever
    assert.is_false(open_fd(fd))
  end)

  it("ignores a descriptor curl does not know", function()
    local done, n = assert(s:action(1000))
    assert.same({}, done)
    assert.equal(0, n)
  end)

  it("raises for misuse and refuses use after close", function()
    local ok, err = pcall(s.action, s, "x")
    assert.is_false(ok)
    assert.truthy(err:find("fd must be a non-negative integer or nil", 1, true), err)
    assert.has_error(function() s:action(-1) end)
    assert.has_error(function() s:action(3, "sideways") end)
    assert.has_error(function() s:action(nil, "in") end)
    assert.has_error(function() s:submit{ url = sb.url, headers = { ["X-A"] = "a\r\nb" } } end)
    assert.equal(0, s:pending())
    assert.is_nil(s.poll, "a socket session is driven by its loop, never polled")
    assert.is_nil(s.request)
    s:close()
    assert.has_error(function() s:events() end)
    assert.has_error(function() s:action() end)
    s:close() -- twice is fine
    assert.truthy(tostring(s):find("closed", 1, true))
  end)

  it("closes with transfers in flight and sockets watched", function()
    local d = driver(s)
    for _ = 1, 8 do assert(s:submit{ url = sb.url .. "/static/100" }) end
    d.run(function() return next(d.watch) ~= nil end)
    assert.equal(8, s:pending())
    s:close()
    assert.truthy(tostring(s):find("closed", 1, true))
    collectgarbage()
  end)
end)
