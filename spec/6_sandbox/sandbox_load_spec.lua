-- The sandbox under load, over real sockets on 127.0.0.1: every connection
-- over the limit is answered 503 with Retry-After (none closed unanswered),
-- slow connections cannot keep a normal request from being served, delays
-- hold no thread, and big uploads do not stay in memory. Assertions are on
-- counts the server reports, not on timing; bench/sandbox_load.lua has the
-- heavy figures.
local sandbox = require "dwell.sandbox"
local raw = require "support.rawconn"
local http = require("dwell.core").http
local json = require "dwell.json"

local GET = "GET /static/16 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

local function wait_connections(sb, n, what)
  raw.run_until(function() return sb:stats().connections >= n end, 20, what or (n .. " connections on the server"))
end

local function statuses(conns)
  local count = {}
  for _, c in ipairs(conns) do
    local st = raw.status(c) or "none"
    count[st] = (count[st] or 0) + 1
  end
  return count
end

local function rss_kb()
  local f = assert(io.open("/proc/self/status"))
  local text = f:read("a")
  f:close()
  return math.tointeger(tonumber(text:match("VmRSS:%s*(%d+)")))
end

describe("dwell.sandbox under load", function()
  local session
  setup(function() session = assert(http.new_session()) end)

  local function get(sb, path)
    return session:request{ method = "GET", url = sb.url .. path, timeout_ms = 10000 }
  end

  it("answers every connection: 200 up to max_connections, 503 with Retry-After beyond", function()
    local sb <close> = assert(sandbox.start{ routes = { "static" }, max_connections = 50, threads = 2 })
    local conns = raw.connect(sb.port, 300)
    -- Admission is decided when the server accepts: wait until it has all 300.
    wait_connections(sb, 300)
    raw.send(conns, GET)
    raw.run_until(function() return raw.all_closed(conns) end, 30, "every answer")
    local count = statuses(conns)
    assert.same({ [200] = 50, [503] = 250 }, count)
    for _, c in ipairs(conns) do
      if raw.status(c) == 503 then
        assert.equal("1", raw.header(c, "retry-after"))
        assert.equal("overloaded", json.decode(c.buf:match("\r\n\r\n(.*)$")).error)
      end
    end
    local st = sb:stats()
    assert.equal(250, st.rejected)
    assert.equal(300, st.max_connections)
    -- Only the admitted requests reached the router.
    assert.equal(50, #sb:requests())
    raw.close(conns)
  end)

  it("with the defaults, answers 1500 connections open at once: 1024 served, the rest 503", function()
    -- The thread-per-connection server stopped near 1020 and closed the rest unanswered.
    local sb <close> = assert(sandbox.start{ routes = { "static" } })
    local conns = raw.connect(sb.port, 1500)
    wait_connections(sb, 1500)
    raw.send(conns, GET)
    raw.run_until(function() return raw.all_closed(conns) end, 60, "every answer")
    assert.same({ [200] = 1024, [503] = 476 }, statuses(conns))
    raw.close(conns)
  end)

  describe("slow connections (slowloris)", function()
    -- Each sends a request line and then one header byte at a time, never finishing.
    local function slowloris(sb, n)
      local conns = raw.connect(sb.port, n)
      raw.send(conns, "GET /static/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ")
      wait_connections(sb, n, n .. " slow connections on the server")
      return conns
    end

    it("a normal request is answered while many slow connections are open below the limit", function()
      local sb <close> = assert(sandbox.start{ routes = { "static" } })
      local slow = slowloris(sb, 500)
      for _ = 1, 5 do
        raw.send(slow, "a")
        local resp = assert(get(sb, "/static/8"))
        assert.equal(200, resp.status)
      end
      assert.equal(0, sb:stats().evicted)
      raw.close(slow)
    end)

    it("over the limit, a connection that has waited header_timeout_ms for its request makes room", function()
      local sb <close> = assert(sandbox.start{ routes = { "static" }, max_connections = 40, header_timeout_ms = 200 })
      local slow = slowloris(sb, 60) -- 40 admitted, 20 over the limit
      raw.send(slow, "a")
      -- Every slow connection is older than header_timeout_ms after this wait (a lower bound).
      local t0 = http.monotonic()
      raw.run_until(function() return http.monotonic() - t0 > 0.3 end, 5, "the header timeout")
      for _ = 1, 5 do -- each on a new connection
        local resp = assert(session:request{ method = "GET", url = sb.url .. "/static/8", timeout_ms = 10000,
                                             fresh_connect = true })
        assert.equal(200, resp.status)
      end
      local st = sb:stats()
      assert.is_true(st.evicted >= 1 and st.evicted <= 5, "evicted " .. st.evicted)
      assert.equal(0, st.rejected)
      -- The evicted ones were closed by the server (and only those).
      local function closed()
        local n = 0
        for _, c in ipairs(slow) do if c.closed then n = n + 1 end end
        return n
      end
      raw.run_until(function() return closed() >= st.evicted end, 10, "evicted connections to close")
      assert.equal(st.evicted, closed())
      raw.close(slow)
    end)

    it("by default a slow connection over the limit gives way after a second", function()
      local sb <close> = assert(sandbox.start{ routes = { "static" }, max_connections = 40 })
      local slow = slowloris(sb, 50)
      raw.send(slow, "a")
      local t0 = http.monotonic()
      raw.run_until(function() return http.monotonic() - t0 > 1.2 end, 5, "the default header timeout")
      local resp = assert(session:request{ method = "GET", url = sb.url .. "/static/8", timeout_ms = 10000,
                                           fresh_connect = true })
      assert.equal(200, resp.status)
      assert.is_true(sb:stats().evicted >= 1)
      raw.close(slow)
    end)

    it("over the limit and before the header timeout, a new request gets 503 at once, not silence", function()
      local sb <close> = assert(sandbox.start{ routes = { "static" }, max_connections = 40, header_timeout_ms = 600000 })
      local slow = slowloris(sb, 40)
      local resp = assert(get(sb, "/static/8"))
      assert.equal(503, resp.status)
      assert.equal("1", resp.headers["retry-after"])
      assert.equal(1, sb:stats().rejected)
      raw.close(slow)
    end)
  end)

  it("delayed answers park their connection instead of holding a worker thread", function()
    -- One worker thread; 50 requests each delayed 300 ms all complete, and are in flight together.
    local sb <close> = assert(sandbox.start{ routes = { "static" }, threads = 1, latency_ms = 300 })
    local conns = raw.connect(sb.port, 50)
    raw.send(conns, GET)
    raw.run_until(function() return raw.all_closed(conns) end, 20, "every delayed answer")
    assert.same({ [200] = 50 }, statuses(conns))
    assert.equal(50, sb:stats().max_in_flight)
    raw.close(conns)
  end)

  describe("big request bodies", function()
    it("are recorded cut to record_body_bytes, with their full size", function()
      local sb <close> = assert(sandbox.start{ routes = { "static" } })
      local body = ("x"):rep(3 * 1024 * 1024)
      for _ = 1, 3 do
        local resp = assert(session:request{ method = "POST", url = sb.url .. "/no/route", body = body, timeout_ms = 20000 })
        assert.equal(404, resp.status)
      end
      local resp = assert(session:request{ method = "POST", url = sb.url .. "/static/sink", body = body, timeout_ms = 20000 })
      assert.equal(3 * 1024 * 1024, json.decode(resp.body).bytes) -- the handler still sees all of it
      local reqs = sb:requests()
      assert.equal(4, #reqs)
      for _, r in ipairs(reqs) do
        assert.equal(3 * 1024 * 1024, r.body_size)
        assert.equal(64 * 1024, #r.body)
        assert.is_true(r.body_truncated)
      end
      local small = assert(session:request{ method = "POST", url = sb.url .. "/static/sink", body = "abc", timeout_ms = 5000 })
      assert.equal(200, small.status)
      local last = sb:requests()[5]
      assert.equal("abc", last.body)
      assert.equal(3, last.body_size)
      assert.is_nil(last.body_truncated)
    end)

    it("keep the record within record_bytes, dropping the oldest", function()
      local sb <close> = assert(sandbox.start{ routes = { "static" }, record_bytes = 1024 * 1024 })
      local body = ("y"):rep(200 * 1024)
      for i = 1, 40 do
        assert(session:request{ method = "POST", url = sb.url .. "/static/sink?i=" .. i, body = body, timeout_ms = 10000 })
      end
      local reqs = sb:requests()
      local stored = 0
      for _, r in ipairs(reqs) do stored = stored + #r.body end
      assert.is_true(stored <= 1024 * 1024, "stored " .. stored)
      assert.is_true(#reqs >= 10, "kept " .. #reqs)
      assert.equal("i=40", reqs[#reqs].query)
    end)

    it("give their memory back once answered", function()
      local sb <close> = assert(sandbox.start{ routes = { "static" } })
      local body = ("z"):rep(8 * 1024 * 1024)
      assert(session:request{ method = "POST", url = sb.url .. "/warm", body = body, timeout_ms = 20000 })
      collectgarbage()
      local before = rss_kb()
      for _ = 1, 20 do -- 160 MB in all
        assert(session:request{ method = "POST", url = sb.url .. "/no/route", body = body, timeout_ms = 20000 })
      end
      collectgarbage()
      local grown = rss_kb() - before
      assert.is_true(grown < 40 * 1024, ("the process grew by %d KiB"):format(grown))
    end)
  end)
end)
