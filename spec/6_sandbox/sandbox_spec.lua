-- The sandbox server over real HTTP (curl): routing, recording, stats,
-- keep-alive, concurrency under latency, handler errors, reset, controls,
-- and clear errors for bad input.
local sandbox = require "dwell.sandbox"
local json = require "dwell.sandbox.json"
local support = require "support.shell"
local curl = support.curl

local COUNTER = [[
return function(config, env)
  local n = config.start or 0
  local routes = {
    { "GET", "/count", function() n = n + 1; return 200, {}, { n = n } end },
    { "GET", "/boom", function() error("kaboom from the handler") end },
    { "GET", "/items/{id}", function(req, ctx)
        return 201, { ["X-Item"] = req.captures.id }, { id = req.captures.id, now = ctx.env.now() }
      end },
    { "GET", "/text", function() return 200, { ["Content-Type"] = "text/plain" }, "plain" end },
    { "GET", "/bad-status", function() return "nope" end },
  }
  local controls = {
    set = function(args) n = args.n; return { n = n } end,
    credentials = function() return { client_id = "spec-client" } end,
  }
  return routes, controls
end
]]

describe("dwell.sandbox", function()
  local undo
  setup(function() undo = support.route_sets{ spec_counter = COUNTER, spec_notaset = "return 42" } end)
  teardown(function() undo() end)

  describe("basic serving", function()
    local sb
    before_each(function()
      sb = assert(sandbox.start{ routes = { "echo", "static", { set = "spec_counter", config = { start = 10 } } } })
    end)
    after_each(function() sb:close() end)

    it("picks a free port and reports its URL", function()
      assert.is_true(sb.port > 0)
      assert.are.equal("http://127.0.0.1:" .. sb.port, sb.url)
    end)

    it("echoes method, path, raw and decoded query, lower-cased headers and body", function()
      local r = curl(("-X PUT -H 'X-Custom-Thing: Yes' --data-binary 'payload' '%s/echo/a%%2Fb/c?x=1&x=2&y=h+i%%21'")
        :format(sb.url))
      assert.are.equal(0, r.rc)
      assert.are.equal(200, r.status)
      local e = assert(json.decode(r.body))
      assert.are.equal("PUT", e.method)
      assert.are.equal("/echo/a%2Fb/c", e.path)
      assert.are.equal("x=1&x=2&y=h+i%21", e.query)
      assert.are.same({ "1", "2" }, e.params.x)
      assert.are.equal("h i!", e.params.y)
      assert.are.equal("Yes", e.headers["x-custom-thing"])
      assert.are.equal("payload", e.body)
      assert.are.equal("a/b/c", e.captures.rest)
    end)

    it("echo answers with the status asked for", function()
      assert.are.equal(503, curl(sb.url .. "/echo?status=503").status)
    end)

    it("records every request for assertions", function()
      curl(("-H 'Authorization: Bearer t' --data-binary 'b1' '%s/echo/one?k=v%%20w'"):format(sb.url))
      curl(sb.url .. "/static/5")
      local reqs = sb:requests()
      assert.are.equal(2, #reqs)
      assert.are.equal("POST", reqs[1].method)
      assert.are.equal("/echo/one", reqs[1].path)
      assert.are.equal("k=v%20w", reqs[1].query)
      assert.are.same({ k = "v w" }, reqs[1].params)
      assert.are.equal("Bearer t", reqs[1].headers.authorization)
      assert.are.equal("b1", reqs[1].body)
      assert.are.equal("GET", reqs[2].method)
      assert.are.equal("/static/5", reqs[2].path)
    end)

    it("keeps only the most recent `record_limit` requests", function()
      local small <close> = assert(sandbox.start{ routes = { "static" }, record_limit = 2 })
      for i = 1, 3 do curl(("%s/static/%d"):format(small.url, i)) end
      local reqs = small:requests()
      assert.are.same({ "/static/2", "/static/3" }, { reqs[1].path, reqs[2].path })
      assert.are.equal(3, small:stats().served)
    end)

    it("serves static JSON bodies of exactly the size asked for", function()
      for _, n in ipairs{ 1, 7, 8, 1000, 100000 } do
        local r = curl(("%s/static/%d"):format(sb.url, n))
        assert.are.equal(200, r.status)
        assert.are.equal(n, #r.body)
        assert.is_not_nil(json.decode(r.body))
      end
      assert.are.equal(400, curl(sb.url .. "/static/abc").status)
    end)

    it("captures path parameters, sets headers and encodes table bodies as JSON", function()
      local r = curl(("-i '%s/items/room%%2042'"):format(sb.url))
      assert.are.equal(201, r.status)
      assert.truthy(r.body:find("X%-Item: room 42"))
      assert.truthy(r.body:lower():find("content%-type: application/json"))
      local body = assert(json.decode(r.body:match("\r\n\r\n(.*)$")))
      assert.are.equal("room 42", body.id)
      assert.is_true(body.now > 1.6e9)
      local t = curl(("-i '%s/text'"):format(sb.url))
      assert.truthy(t.body:lower():find("content%-type: text/plain"))
    end)

    it("answers 404 for unknown paths and 405 for a known path with another method", function()
      assert.are.equal(404, curl(sb.url .. "/nowhere").status)
      assert.are.equal(405, curl("-X DELETE " .. sb.url .. "/count").status)
    end)

    it("turns a raising handler into a 500 with the error text and keeps serving", function()
      local r = curl(sb.url .. "/boom")
      assert.are.equal(500, r.status)
      assert.truthy(r.body:find("kaboom from the handler", 1, true))
      assert.are.equal(500, curl(sb.url .. "/bad-status").status)
      assert.are.equal(200, curl(sb.url .. "/count").status)
    end)

    it("reuses one keep-alive connection for two URLs on one curl command line", function()
      local r = curl(("%s/static/10 -o /dev/null %s/static/20"):format(sb.url, sb.url), "%{num_connects} ")
      assert.are.equal(0, r.rc)
      assert.are.equal("1 0 ", r.out)
      local st = sb:stats()
      assert.are.equal(2, st.served)
      assert.are.equal(1, st.connections_total)
    end)

    it("runs controls in the server's state and reports their errors", function()
      assert.are.same({ n = 100 }, sb:control("spec_counter", "set", { n = 100 }))
      assert.are.equal(101, json.decode(curl(sb.url .. "/count").body).n)
      local v, err = sb:control("spec_counter", "nope")
      assert.is_nil(v)
      assert.truthy(err:find("no control 'nope'", 1, true))
      v, err = sb:control("tuya_missing", "credentials")
      assert.is_nil(v)
      assert.truthy(err:find("no route set 'tuya_missing'", 1, true))
      assert.are.same({ spec_counter = { "credentials", "set" }, echo = {}, static = {} },
        sb:control("sandbox", "controls"))
    end)

    it("shifts env.now() through the built-in clock control", function()
      local before = json.decode(curl(sb.url .. "/items/x").body).now
      assert.are.equal(3600, sb:control("sandbox", "clock", { advance = 3600 }).offset)
      local after = json.decode(curl(sb.url .. "/items/x").body).now
      assert.is_true(after - before >= 3600)
    end)

    it("reset clears recordings and stats and re-runs the route sets' setup", function()
      curl(sb.url .. "/count")
      assert.are.equal(12, json.decode(curl(sb.url .. "/count").body).n)
      assert.is_true(sb:reset())
      assert.are.equal(0, #sb:requests())
      assert.are.equal(0, sb:stats().served)
      assert.are.equal(11, json.decode(curl(sb.url .. "/count").body).n)
      assert.are.equal(1, #sb:requests())
    end)

    it("keeps requests() and stats() after stop, and refuses service", function()
      curl(sb.url .. "/count")
      sb:stop()
      sb:stop()
      assert.are_not.equal(0, curl("--max-time 5 " .. sb.url .. "/count").rc)
      assert.are.equal(1, #sb:requests())
      assert.are.equal(1, sb:stats().served)
    end)
  end)

  describe("concurrency", function()
    -- One curl fetching `n` paths under base in parallel, up to `max` at once, bodies discarded.
    local function fetch_parallel(base, n, max)
      local args = {}
      for i = 1, n do args[#args + 1] = ("-o /dev/null %s/%d"):format(base, i) end
      return support.shell(support.curl_cmd .. " -sS -Z --parallel-immediate --parallel-max " .. max .. " "
        .. table.concat(args, " ") .. " 2>&1")
    end

    it("keeps 16 requests in flight together under latency_ms = 50", function()
      -- Under valgrind, creating 16 connection threads alone can take longer than 500 ms.
      local latency = support.slow > 1 and 5000 or 50
      local sb <close> = assert(sandbox.start{ routes = { "echo" }, latency_ms = latency })
      local out, rc = fetch_parallel(sb.url .. "/echo", 16, 16)
      assert.are.equal(0, rc, out)
      local st = sb:stats()
      assert.are.equal(16, st.served)
      assert.are.equal(16, st.max_in_flight)
      assert.are.equal(0, st.in_flight)
    end)

    it("serves 64 concurrent keep-alive connections, each reused", function()
      local latency = support.slow > 1 and 8000 or 200
      local sb <close> = assert(sandbox.start{ routes = { "static" }, latency_ms = latency })
      local out, rc = fetch_parallel(sb.url .. "/static", 128, 64)
      assert.are.equal(0, rc, out)
      local st = sb:stats()
      assert.are.equal(128, st.served)
      assert.are.equal(64, st.max_connections)
      assert.are.equal(64, st.connections_total)
      assert.are.equal(64, st.max_in_flight)
    end)
  end)

  describe("lifecycle", function()
    it("starts and stops repeatedly, freeing its port each time", function()
      local port
      for i = 1, 20 do
        local sb = assert(sandbox.start{ routes = { "static" }, port = port })
        port = sb.port
        assert.are.equal(200, curl(("%s/static/%d"):format(sb.url, i)).status)
        if i % 2 == 0 then sb:close() else sb:stop() end
      end
      collectgarbage()
    end)

    it("closes with <close> and refuses calls afterwards", function()
      local outer
      do
        local sb <close> = assert(sandbox.start{ routes = { "echo" } })
        outer = sb
        assert.are.equal(200, curl(sb.url .. "/echo").status)
      end
      assert.has_error(function() outer:stats() end, "sandbox server is closed")
      assert.are_not.equal(0, curl("--max-time 5 " .. outer.url .. "/echo").rc)
    end)

    it("stops promptly while a request is mid-latency", function()
      local sb = assert(sandbox.start{ routes = { "echo" }, latency_ms = 60000 })
      local p = io.popen(("%s -sS --max-time 60 %s/echo 2>&1; echo rc=$?"):format(support.curl_cmd, sb.url))
      assert.is_true(support.wait_until(function() return sb:stats().in_flight == 1 end))
      sb:close()
      local out = p:read("a")
      p:close()
      -- The server closed the connection: curl did not wait out its own 60 s.
      assert.truthy(out:find("rc=52", 1, true), out)
    end)
  end)

  describe("bad input", function()
    local function fails(opts, pattern)
      local sb, err = sandbox.start(opts)
      assert.is_nil(sb)
      assert.is_string(err)
      assert.truthy(err:find(pattern, 1, true), err)
    end

    it("names an unknown route set", function()
      fails({ routes = { "no_such_set" } }, "unknown route set 'no_such_set'")
      fails({ routes = { "spec_notaset" } }, "'spec_notaset' is not a route set")
      fails({ routes = { { set = 42 } } }, "routes[1]")
    end)

    it("names the invalid fault spec and the reason", function()
      fails({ faults = { { kind = "explode" } } }, "faults[1]: unknown kind 'explode'")
      fails({ faults = { { kind = "reset" }, { kind = "status", every = 0 } } },
        "faults[2]: 'every' must be an integer")
      fails({ faults = { { kind = "delay" } } }, "kind 'delay' needs 'delay_ms'")
      fails({ faults = { { kind = "status", probability = 2 } } }, "'probability' must be in 0..1")
      fails({ faults = { { kind = "status", evry = 2 } } }, "unknown field 'evry'")
      fails({ faults = { { kind = "status", match = "GET users" } } }, "must be a string starting with '/'")
      fails({ faults = { { kind = "status", every = 2, probability = 0.5 } } }, "not both")
    end)

    it("reports a port in use", function()
      local sb <close> = assert(sandbox.start{ routes = {} })
      fails({ port = sb.port }, "Address already in use")
    end)

    it("rejects options of the wrong type", function()
      fails({ port = 70000 }, "'port' must be an integer")
      fails({ latency_ms = -1 }, "'latency_ms' must be an integer")
      fails({ host = 1 }, "'host' must be a string")
      fails({ routes = "echo" }, "'routes' must be a list")
      fails({ host = "no.such.host.invalid" }, "cannot resolve host")
    end)

    it("rejects route-set config that is not plain data", function()
      fails({ routes = { { set = "echo", config = { f = print } } } }, "cannot copy a function")
    end)
  end)
end)
