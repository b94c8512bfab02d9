-- dwell.core.http over real HTTP against the sandbox on 127.0.0.1.
local http = require("dwell.core").http
local sandbox = require "dwell.sandbox"
local json = require "dwell.json"
local support = require "sandbox_support"
local openssl = require "support.openssl"

local function start(opts)
  opts.routes = opts.routes or { "echo", "static" }
  return assert(sandbox.start(opts))
end

describe("dwell.core.http", function()
  local session

  before_each(function() session = http.new_session() end)
  after_each(function() session:close() end)

  describe("request", function()
    it("keeps the connection alive across calls", function()
      local sb <close> = start{}
      local first = assert(session:request{ url = sb.url .. "/static/10" })
      local second = assert(session:request{ url = sb.url .. "/static/20" })
      assert.are.equal(200, first.status)
      assert.is_false(first.reused)
      assert.is_true(second.reused)
      assert.are.equal(20, #second.body)
      assert.are.equal(1, sb:stats().connections_total)
    end)

    it("returns status, lower-cased headers, header_list, version, body and timing", function()
      local sb <close> = start{ routes = { { set = "static", config = { fixed = {
        ["/multi"] = { status = 201, headers = { ["X-Multi"] = { "a", "b" }, ["Content-Type"] = "text/plain" },
                       body = "hello" } } } } } }
      local r = assert(session:request{ url = sb.url .. "/multi" })
      assert.are.equal(201, r.status)
      assert.are.equal("hello", r.body)
      assert.are.equal("1.1", r.http_version)
      assert.are.equal("text/plain", r.headers["content-type"])
      assert.are.equal("a, b", r.headers["x-multi"])
      local multi = {}
      for _, pair in ipairs(r.header_list) do
        if pair[1] == "x-multi" then multi[#multi + 1] = pair[2] end
      end
      assert.are.same({ "a", "b" }, multi)
      for _, k in ipairs{ "dns", "connect", "tls", "first_byte", "total" } do
        assert.is_number(r.timing[k])
        assert.is_true(r.timing[k] >= 0)
      end
      assert.is_true(r.timing.total >= r.timing.first_byte)
    end)

    it("sends method, headers (map or list of pairs) and body", function()
      local sb <close> = start{}
      local r = assert(session:request{
        method = "PUT", url = sb.url .. "/echo/x?a=1",
        headers = { ["X-One"] = "1", { "X-Two", "2" }, ["Content-Type"] = "application/json" },
        body = '{"k":"v"}',
      })
      local echo = json.decode(r.body)
      assert.are.equal("PUT", echo.method)
      assert.are.equal("/echo/x", echo.path)
      assert.are.equal("1", echo.headers["x-one"])
      assert.are.equal("2", echo.headers["x-two"])
      assert.are.equal('{"k":"v"}', echo.body)
      assert.is_nil(echo.headers["expect"])
    end)

    it("labels a body only with the caller's Content-Type, never libcurl's form default", function()
      local sb <close> = start{}
      local echo = json.decode(assert(session:request{ method = "POST", url = sb.url .. "/echo" }).body)
      assert.are.equal("POST", echo.method)
      assert.is_nil(echo.headers["content-type"])
      assert.are.equal("0", echo.headers["content-length"])
      echo = json.decode(assert(session:request{ method = "POST", url = sb.url .. "/echo", body = "{}",
        headers = { ["content-type"] = "application/json" } }).body)
      assert.are.equal("application/json", echo.headers["content-type"])
    end)

    it("sends a dwell User-Agent unless the caller gives one", function()
      local sb <close> = start{}
      local r = assert(session:request{ url = sb.url .. "/echo" })
      local ua = json.decode(r.body).headers["user-agent"]
      assert.truthy(ua:match("^dwell/%d+%.%d+%.%d+ libcurl/[%d.]+ Lua 5%.4$"), ua)
      assert.are.equal(http.user_agent, ua)
      r = assert(session:request{ url = sb.url .. "/echo", headers = { ["User-Agent"] = "mine/1" } })
      assert.are.equal("mine/1", json.decode(r.body).headers["user-agent"])
    end)

    it("sends an empty POST with Content-Length 0 and HEAD without a body", function()
      local sb <close> = start{}
      local r = assert(session:request{ method = "POST", url = sb.url .. "/static/sink" })
      assert.are.same({ bytes = 0 }, json.decode(r.body))
      r = assert(session:request{ method = "HEAD", url = sb.url .. "/static/50" })
      assert.are.equal(200, r.status)
      assert.are.equal("", r.body)
    end)
  end)

  describe("submit and poll", function()
    it("runs many transfers at once on curl multi and reuses connections", function()
      local sb <close> = start{ latency_ms = 300 * support.slow }
      local ids = {}
      for i = 1, 6 do ids[assert(session:submit{ url = sb.url .. "/static/" .. i })] = i end
      local got, rounds = {}, 0
      while next(ids) and rounds < 100 do
        rounds = rounds + 1
        for _, r in ipairs(assert(session:poll(1000))) do
          assert.is_nil(r.err)
          got[ids[r.id]] = #r.resp.body
          ids[r.id] = nil
        end
      end
      assert.are.same({ 1, 2, 3, 4, 5, 6 }, got)
      assert.are.equal(6, sb:stats().max_in_flight)
      assert.are.equal(0, session:pending())
      -- the six connections are kept: a second wave opens none
      for i = 1, 6 do session:submit{ url = sb.url .. "/static/" .. i } end
      local reused, done = 0, 0
      while done < 6 do
        for _, r in ipairs(assert(session:poll(1000))) do
          done = done + 1
          if r.resp.reused then reused = reused + 1 end
        end
      end
      assert.are.equal(6, reused)
      assert.are.equal(6, sb:stats().connections_total)
    end)

    it("returns an empty list at once when nothing is in flight", function()
      local results, active = session:poll(5000)
      assert.are.same({}, results)
      assert.are.equal(0, active)
    end)

    it("waits with a timeout past the range of a C int", function()
      local sb <close> = start{ latency_ms = 50 }
      local id = assert(session:submit{ url = sb.url .. "/static/3" })
      local results, active = session:poll(math.maxinteger)
      assert.is_table(results, active)
      assert.are.equal(id, results[1].id)
      assert.are.equal(3, #results[1].resp.body)
      assert.are.equal(0, active)
    end)

    it("cancels a transfer", function()
      local sb <close> = start{ faults = { { kind = "hang" } } }
      local id = session:submit{ url = sb.url .. "/static/1" }
      assert.are.same({}, (session:poll(50)))
      assert.is_true(session:cancel(id))
      assert.is_false(session:cancel(id))
      assert.are.equal(0, session:pending())
    end)
  end)

  describe("errors", function()
    it("connect: nothing listening", function()
      local sb = start{}
      local url = sb.url
      sb:close()
      local r, err = session:request{ url = url .. "/static/1" }
      assert.is_nil(r)
      assert.are.equal("connect", err.kind)
      assert.is_string(err.message)
    end)

    it("transport: connection reset", function()
      local sb <close> = start{ faults = { { kind = "reset" } } }
      local _, err = session:request{ url = sb.url .. "/static/10" }
      assert.are.equal("transport", err.kind)
    end)

    it("transport: truncated body", function()
      local sb <close> = start{ faults = { { kind = "truncate" } } }
      local _, err = session:request{ url = sb.url .. "/static/1000" }
      assert.are.equal("transport", err.kind)
    end)

    it("timeout: a response that never arrives", function()
      local sb <close> = start{ faults = { { kind = "hang" } } }
      local _, err = session:request{ url = sb.url .. "/static/10", timeout_ms = 200 }
      assert.are.equal("timeout", err.kind)
    end)

    it("too_large: a body past max_response_bytes, over easy and multi", function()
      local sb <close> = start{}
      local _, err = session:request{ url = sb.url .. "/static/5000", max_response_bytes = 4096 }
      assert.are.equal("too_large", err.kind)
      local ok = assert(session:request{ url = sb.url .. "/static/4096", max_response_bytes = 4096 })
      assert.are.equal(4096, #ok.body)
      session:submit{ url = sb.url .. "/static/5000", max_response_bytes = 100 }
      local results = {}
      while #results == 0 do results = assert(session:poll(1000)) end
      assert.are.equal("too_large", results[1].err.kind)
    end)

    it("never puts request headers or body in an error", function()
      local sb <close> = start{ faults = { { kind = "reset" } } }
      local _, err = session:request{ method = "POST", url = sb.url .. "/echo",
        headers = { Authorization = "Bearer s3cr3t-token" }, body = "passphrase=hunter2" }
      local text = err.kind .. " " .. err.message
      assert.is_nil(text:find("s3cr3t", 1, true))
      assert.is_nil(text:find("hunter2", 1, true))
    end)
  end)

  describe("header injection", function()
    it("rejects CR or LF in URL, header name or value, and non-token names, before sending", function()
      local sb <close> = start{}
      local bad = {
        { url = sb.url .. "/echo\r\nX-Evil: 1" },
        { url = sb.url .. "/echo", headers = { ["X-A"] = "v\r\nX-Evil: 1" } },
        { url = sb.url .. "/echo", headers = { ["X-A"] = "v\nX-Evil: 1" } },
        { url = sb.url .. "/echo", headers = { ["X-A\r\nX-Evil"] = "1" } },
        { url = sb.url .. "/echo", headers = { ["X A"] = "1" } },
        { url = sb.url .. "/echo", headers = { { "X:A", "1" } } },
        { url = sb.url .. "/echo", method = "GET /x" },
      }
      for i, req in ipairs(bad) do
        local ok, msg = pcall(session.request, session, req)
        assert.is_false(ok, "request " .. i)
        assert.truthy(tostring(msg):find("bad argument", 1, true), msg)
        ok = pcall(session.submit, session, req)
        assert.is_false(ok, "submit " .. i)
      end
      assert.are.same({}, sb:requests())
      assert.are.equal(0, session:pending())
      -- the session still works afterwards
      assert.are.equal(200, assert(session:request{ url = sb.url .. "/echo" }).status)
    end)
  end)

  describe("TLS", function()
    local dir, cert, key

    setup(function()
      dir = openssl.tmpdir()
      cert, key = openssl.self_signed(dir .. "/cert.pem", dir .. "/key.pem", "localhost", "DNS:localhost,IP:127.0.0.1")
    end)
    teardown(function() openssl.cleanup(dir) end)

    it("rejects a self-signed server by default and accepts it with ca_file", function()
      local sb <close> = start{ tls = { cert = cert, key = key } }
      local r, err = session:request{ url = sb.url .. "/static/10" }
      assert.is_nil(r)
      assert.are.equal("tls", err.kind)
      r = assert(session:request{ url = sb.url .. "/static/10", ca_file = dir .. "/cert.pem" })
      assert.are.equal(200, r.status)
      assert.is_true(r.timing.tls > 0)
      local again = assert(session:request{ url = sb.url .. "/static/10", ca_file = dir .. "/cert.pem" })
      assert.is_true(again.reused)
    end)

    it("accepts it with ca_path and with an explicit insecure = true", function()
      local sb <close> = start{ tls = { cert = cert, key = key } }
      -- (without the sanitizer preload, whose leak check fails the openssl tool itself)
      local capath = dir .. "/capath"
      local _, rc = support.shell(("mkdir -p %s && cp %s/cert.pem %s/ && env -u LD_PRELOAD openssl rehash %s 2>&1")
        :format(capath, dir, capath, capath))
      assert.are.equal(0, rc)
      assert.are.equal(200, assert(session:request{ url = sb.url .. "/static/1", ca_path = capath }).status)
      assert.are.equal(200, assert(session:request{ url = sb.url .. "/static/1", insecure = true }).status)
      local _, err = session:request{ url = sb.url .. "/static/1", insecure = false }
      assert.are.equal("tls", err.kind)
    end)
  end)

  describe("misuse", function()
    it("raises for a missing url, bad types and a closed session", function()
      assert.has_error(function() session:request{} end)
      assert.has_error(function() session:request{ url = "http://127.0.0.1/", timeout_ms = "soon" } end)
      assert.has_error(function() session:request{ url = "http://127.0.0.1/", http_version = "9" } end)
      assert.has_error(function() session:request{ url = "http://127.0.0.1/", body = {} } end)
      session:close()
      assert.has_error(function() session:request{ url = "http://127.0.0.1/" } end)
      session:close() -- idempotent
      session = http.new_session()
    end)

    it("raises for a sleep of NaN seconds", function()
      assert.has_error(function() http.sleep(0 / 0) end)
      http.sleep(-1) -- negative: returns at once
    end)
  end)
end)
