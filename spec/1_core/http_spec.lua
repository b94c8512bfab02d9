-- dwell.core.http over real HTTP against the sandbox on 127.0.0.1.
local http = require("dwell.core").http
local sandbox = require "dwell.sandbox"
local json = require "dwell.json"
local support = require "support.shell"
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

    it("limit_connections(n) opens at most n connections and queues the other transfers; 0 lifts it", function()
      local sb <close> = start{ latency_ms = 50 * support.slow }
      local function wave()
        local ids, got = {}, {}
        for i = 1, 6 do ids[assert(session:submit{ url = sb.url .. "/static/" .. i })] = i end
        while next(ids) do
          for _, r in ipairs(assert(session:poll(1000))) do
            assert.is_nil(r.err)
            got[ids[r.id]] = #r.resp.body
            ids[r.id] = nil
          end
        end
        return got
      end
      session:limit_connections(2)
      assert.are.same({ 1, 2, 3, 4, 5, 6 }, wave())
      local st = sb:stats()
      assert.are.equal(2, st.connections_total)
      assert.are.equal(2, st.max_in_flight)
      session:limit_connections(0)
      sb:reset()
      assert.are.same({ 1, 2, 3, 4, 5, 6 }, wave())
      st = sb:stats()
      assert.are.equal(6, st.max_in_flight)
      assert.are.equal(6, st.max_connections) -- the two kept and four new
      assert.has_error(function() session:limit_connections(-1) end)
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
      assert.is_false(err.sent)
    end)

    it("dns: a name that cannot resolve", function()
      local r, err = session:request{ url = "http://no.such.host.invalid/" }
      assert.is_nil(r)
      assert.are.equal("dns", err.kind)
      assert.is_false(err.sent)
    end)

    it("sent: false when no request byte went out, true once it was written, per transfer", function()
      local sb = start{ faults = { { kind = "reset", handled = true, match = "POST /echo/write" } } }
      local url = sb.url
      assert(session:request{ url = url .. "/echo" })
      local _, err = session:request{ method = "POST", url = url .. "/echo/write", body = "x=1" }
      assert.are.equal("transport", err.kind)
      assert.is_true(err.sent)
      assert.are.equal("x=1", sb:requests()[2].body)
      sb:close()
      -- the same handle again (it counts the bytes of its current transfer only)
      _, err = session:request{ url = url .. "/static/1" }
      assert.are.equal("connect", err.kind)
      assert.is_false(err.sent)
      session:submit{ method = "POST", url = url .. "/static/sink", body = "x" }
      local results = {}
      while #results == 0 do results = assert(session:poll(1000)) end
      assert.are.equal("connect", results[1].err.kind)
      assert.is_false(results[1].err.sent)
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

  -- libcurl reads http_proxy from the environment on every transfer, and Lua
  -- cannot set it in this process: each request runs in a child lua5.4 with
  -- http_proxy pointing at a second sandbox, which records what it receives.
  describe("proxy", function()
    local target, proxy

    before_each(function()
      target = start{ routes = { "echo" } }
      proxy = start{ routes = { "echo" } }
    end)
    after_each(function()
      target:close()
      proxy:close()
    end)

    -- Runs `code` in a child lua5.4 with http_proxy set; the code has `s`, a
    -- session, and `url`, the target's URL. Returns what the child wrote.
    local function in_child(code)
      local child = ("local s = require('dwell.core').http.new_session()\nlocal url = %q\n%s"):format(target.url, code)
      local out, rc = support.shell(("env -u no_proxy -u NO_PROXY -u all_proxy -u ALL_PROXY http_proxy=%s %s 2>&1")
        :format(support.quote(proxy.url), support.lua_cmd("-e " .. support.quote(child))))
      assert.are.equal(0, rc, out)
      return out
    end

    local function request_in_child(path, fields)
      return in_child(([[local r, err = s:request{ url = url .. %q, %s }
io.write(r and tostring(r.status) or ("error " .. err.kind))]]):format(path, fields))
    end

    local function paths(sb)
      local out = {}
      for _, r in ipairs(sb:requests()) do out[#out + 1] = r.path end
      return out
    end

    it("goes through http_proxy from the environment by default", function()
      -- the proxy (a sandbox, not a proxy) answers the absolute-form request line with a 404
      assert.are.equal("404", request_in_child("/echo/default", ""))
      assert.are.same({}, paths(target))
      assert.are.same({ target.url .. "/echo/default" }, paths(proxy))
    end)

    it("goes direct to a host listed in noproxy", function()
      assert.are.equal("200", request_in_child("/echo/listed", 'noproxy = "127.0.0.1,localhost,::1"'))
      assert.are.same({ "/echo/listed" }, paths(target))
      assert.are.same({}, paths(proxy))
    end)

    it("goes direct with proxy = \"\", whatever the environment says", function()
      assert.are.equal("200", request_in_child("/echo/none", 'proxy = ""'))
      assert.are.same({ "/echo/none" }, paths(target))
      assert.are.same({}, paths(proxy))
    end)

    it("applies noproxy and proxy to their own request only: the next plain one on the handle uses the proxy", function()
      in_child([[
s:request{ url = url .. "/echo/a" }
s:request{ url = url .. "/echo/b", noproxy = "127.0.0.1" }
s:request{ url = url .. "/echo/c" }
s:request{ url = url .. "/echo/d", proxy = "" }
s:request{ url = url .. "/echo/e" }]])
      assert.are.same({ "/echo/b", "/echo/d" }, paths(target))
      local u = target.url
      assert.are.same({ u .. "/echo/a", u .. "/echo/c", u .. "/echo/e" }, paths(proxy))
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
      assert.is_false(err.sent)
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
      assert.has_error(function() session:request{ url = "http://127.0.0.1/", noproxy = 1 } end)
      assert.has_error(function() session:request{ url = "http://127.0.0.1/", noproxy = "a\r\nb" } end)
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
  describe("unsafe_header", function()
    it("names the first value that is not a string or carries CR, LF or NUL, else nil", function()
      assert.is_nil(http.unsafe_header(nil))
      assert.is_nil(http.unsafe_header({}))
      assert.is_nil(http.unsafe_header({ a = "x", b = "y z" }))
      assert.equal("b", http.unsafe_header({ a = "x", b = "y\r\nX: 1" }))
      assert.equal("n", http.unsafe_header({ n = "a\0b" }))
      assert.equal("lf", http.unsafe_header({ lf = "a\nb" }))
      assert.equal("num", http.unsafe_header({ num = 42 }))
      assert.has_error(function() http.unsafe_header("x") end)
    end)
  end)
end)
