-- The pipeline's guarantees, against a hostile server on 127.0.0.1 counting what reached the
-- wire, through the Tuya client: writes at most once, deadlines that are bounds (the token
-- fetch included), hostile tokens and echoed secrets, paging that must end.
local dwell = require "dwell"
local errors = require "dwell.error"
local hostile = require "support.hostile"
local transport = require "dwell.transport"

local SECRET = "tuya-secret-0123456789abcdef"
local TOKEN = "AT-hostile-access-token-0123456789"
local REFRESH = "RT-hostile-refresh-token-0123456789"
local C = "/v1.0/iot-02/community"

local function ok(result) return { status = 200, body = { success = true, t = 1, result = result } } end
local function code(n) return { status = 200, body = { success = false, code = n, msg = "code " .. n, t = 1 } } end
local GRANT = ok{ access_token = TOKEN, refresh_token = REFRESH, expire_time = 7200, uid = "u1" }

local function server()
  local h = hostile.start{}
  h:script("GET", "/v1.0/token", { GRANT })
  return h
end

local function client(h, extra)
  local cfg = { client_id = "cid-hostile", secret = SECRET, base_url = h.url, retry = { base_ms = 1, cap_ms = 5 } }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return assert(dwell.tuya(cfg))
end

-- Every string field of err (and tables under it) and tostring(err), as one text.
local function everything(err)
  local parts = { tostring(err) }
  local function walk(v, depth)
    if type(v) == "string" then parts[#parts + 1] = v
    elseif type(v) == "table" and depth < 6 then
      for _, item in pairs(v) do walk(item, depth + 1) end
    end
  end
  for _, v in pairs(err) do walk(v, 1) end
  return table.concat(parts, "\n")
end

describe("pipeline (tuya) against a hostile server", function()
  it("sends a move-out that answered 503 once: a write is not repeated after it may have taken effect", function()
    local h <close> = server()
    local path = C .. "/room-users/11/move-out"
    h:script("PUT", path, { { status = 503, body = "busy" } })
    local tuya = client(h)
    local r, err = tuya:request{ method = "PUT", path = path, body = { block_id = "1" } }
    assert.is_nil(r)
    assert.equal("http", err.kind)
    assert.equal(503, err.status)
    assert.equal(1, h:count("PUT", path))
    assert.is_false(err.retryable)
  end)

  it("retries a read on 503 up to the attempt budget", function()
    local h <close> = server()
    local path = C .. "/room-users"
    h:script("GET", path, { { status = 503 } })
    local r, err = client(h).community.room_users{ block_id = "1", page_no = 1, page_size = 20 }
    assert.is_nil(r)
    assert.equal(503, err.status)
    assert.equal(3, h:count("GET", path))
    assert.equal(3, err.attempts)
  end)

  it("resends a write the gateway throttled (1110: not processed) and stops at the budget", function()
    local h <close> = server()
    local path = C .. "/member"
    h:script("POST", path, { code(1110), ok{ member_id = "m1" } })
    local tuya = client(h)
    local r = assert(tuya:request{ method = "POST", path = path, body = { block_id = "1" } })
    assert.equal("m1", r.member_id)
    assert.equal(2, h:count("POST", path))
  end)

  it("never lets libcurl resend a POST the server read and then dropped on a kept-alive connection", function()
    local h <close> = server()
    local path = C .. "/member"
    h:script("POST", path, { { close = true } })
    local tuya = client(h)
    -- the grant and a GET leave a connection to this server in the pool
    h:script("GET", C .. "/room-users", { ok{ data = {}, total_count = 0 } })
    assert(tuya.community.room_users{ block_id = "1", page_no = 1, page_size = 20 })
    local r, err = tuya:request{ method = "POST", path = path, body = { block_id = "1" } }
    assert.is_nil(r)
    assert.equal("transport", err.kind)
    assert.equal(1, h:count("POST", path))
    assert.equal(1, err.attempts)
  end)

  it("keeps deadline_ms as a bound: a throttled read stops before the deadline, on a virtual clock", function()
    local h <close> = server()
    local path = C .. "/room-users"
    h:script("GET", path, { code(1110) })
    local clock = transport.virtual_clock(1000)
    local tuya = client(h, { clock = clock, deadline_ms = 5000, retry = { attempts = 50, base_ms = 1000, cap_ms = 4000 } })
    local r, err = tuya.community.room_users{ block_id = "1", page_no = 1, page_size = 20 }
    assert.is_nil(r)
    assert.equal("rate_limited", err.kind)
    assert.truthy(err.retry_after)
    assert.is_true(clock.now() - 1000 < 5, "waited past the deadline: " .. (clock.now() - 1000))
    assert.is_true(h:count("GET", path) < 50)
  end)

  it("counts the token fetch inside the deadline", function()
    local h <close> = hostile.start{}
    h:script("GET", "/v1.0/token", { { delay_ms = 3000, status = 200, body = GRANT.body } })
    local path = C .. "/room-users"
    h:script("GET", path, { ok{ data = {} } })
    local tuya = client(h, { deadline_ms = 300 })
    local r, err = tuya.community.room_users{ block_id = "1", page_no = 1, page_size = 20 }
    assert.is_nil(r)
    assert.equal("timeout", err.kind)
    assert.equal("token.get", err.endpoint)
    assert.equal(0, h:count("GET", path))
  end)

  it("turns a token with CR/LF from the server into an auth error, without a raise or a business call", function()
    local h <close> = hostile.start{}
    h:script("GET", "/v1.0/token", { ok{ access_token = "evil\r\nX-Injected: 1", expire_time = 7200 } })
    local path = C .. "/room-users"
    h:script("GET", path, { ok{ data = {} } })
    local r, err = client(h).community.room_users{ block_id = "1", page_no = 1, page_size = 20 }
    assert.is_nil(r)
    assert.equal("auth", err.kind)
    assert.equal(0, h:count("GET", path))
  end)

  it("masks every secret a server echoes, in every field and in tostring", function()
    local h <close> = server()
    local path = C .. "/room-users"
    h:script("GET", path, { { echo = "tuya", code = 1106 } })
    local r, err = client(h).community.room_users{ block_id = "1", page_no = 1, page_size = 20 }
    assert.is_nil(r)
    assert.equal("forbidden", err.kind)
    local sent = h:requests()
    local sign = sent[#sent].headers.sign
    local text = everything(err)
    for _, secret in ipairs{ TOKEN, SECRET, sign } do
      assert.is_nil(text:find(secret, 1, true), "error repeats a secret")
    end
    assert.truthy(text:find("[redacted]", 1, true))
  end)

  it("sends the single-use refresh token once even when its answer is lost, then grants afresh", function()
    local h <close> = hostile.start{}
    h:script("GET", "/v1.0/token", { ok{ access_token = TOKEN, refresh_token = REFRESH, expire_time = 1 },
      ok{ access_token = TOKEN .. "2", expire_time = 7200 } })
    h:script("GET", "/v1.0/token/" .. REFRESH, { { close = true } })
    local path = C .. "/room-users"
    h:script("GET", path, { ok{ data = {} } })
    local clock = transport.virtual_clock(1000)
    local tuya = client(h, { clock = clock })
    assert(tuya.community.room_users{ block_id = "1", page_no = 1, page_size = 20 })
    clock.advance(10)
    assert(tuya.community.room_users{ block_id = "1", page_no = 1, page_size = 20 })
    assert.equal(1, h:count("GET", "/v1.0/token/" .. REFRESH))
    assert.equal(2, h:count("GET", "/v1.0/token"))
    assert.same({ grants = 2, refreshes = 0, failed = 1 }, { grants = tuya:token_info().grants,
      refreshes = tuya:token_info().refreshes, failed = tuya:token_info().failed_refreshes })
  end)

  it("does not download an answer over max_response_bytes again", function()
    local h <close> = server()
    local path = C .. "/room-users"
    h:script("GET", path, { { status = 200, body = ("x"):rep(200000) } })
    local r, err = client(h, { max_response_bytes = 10000 }).community.room_users{ block_id = "1", page_no = 1,
      page_size = 20 }
    assert.is_nil(r)
    assert.equal("transport", err.kind)
    assert.equal("too_large", err.reason)
    assert.is_false(err.retryable)
    assert.equal(1, h:count("GET", path))
  end)

  it("refuses a URL too long to send before any I/O, and does not retry it", function()
    local h <close> = server()
    local r, err = client(h):request{ method = "GET", path = C .. "/room-users",
      query = { block_id = ("9"):rep(100000) } }
    assert.is_nil(r)
    assert.equal("invalid_argument", err.kind)
    assert.equal(0, h:count("GET", C .. "/room-users"))
  end)

  for _, mode in ipairs{ "alternate", "growing", "repeat_old" } do
    it("ends paging that never converges (" .. mode .. ") with a decode error naming the endpoint", function()
      local h <close> = server()
      local path = C .. "/room-users"
      h:pages("GET", path, "tuya", mode)
      local n = 0
      local okk, err = pcall(function()
        for _ in client(h).community.room_users:each{ block_id = "1" } do n = n + 1 end
      end)
      assert.is_false(okk)
      assert.is_true(errors.is(err), tostring(err))
      assert.equal("decode", err.kind)
      assert.equal("community.room_users", err.endpoint)
      assert.truthy(err.page and err.page.page_no)
      assert.is_true(h:count("GET", path) <= 10, "requests: " .. h:count("GET", path))
    end)
  end
end)

describe("tuya:request (the raw call)", function()
  it("sends lists as a,b and numbers exactly, and refuses what it cannot send", function()
    local h <close> = server()
    local path = C .. "/room-users"
    h:script("GET", path, { ok{ data = {} } })
    local tuya = client(h)
    assert(tuya:request{ method = "GET", path = path,
      query = { block_id = 1367673991539501234, sex = { 1, 2 }, ratio = 0.1, big = 2.0 ^ 53 } })
    local q = h:requests()[#h:requests()].query
    assert.truthy(q:find("block_id=1367673991539501234", 1, true), q)
    assert.truthy(q:find("sex=1%2C2", 1, true), q)
    assert.truthy(q:find("ratio=0.1&", 1, true) or q:find("ratio=0.1$"), q)
    assert.truthy(q:find("big=9007199254740992", 1, true), q)
    local before = h:count("GET", path)
    for _, bad in ipairs{ { sex = { a = 1 } }, { x = 0 / 0 }, { x = math.huge }, { x = { { 1 } } }, { x = print } } do
      local r, err = tuya:request{ method = "GET", path = path, query = bad }
      assert.is_nil(r)
      assert.equal("invalid_argument", err.kind)
      assert.matches("^query%.", err.param)
    end
    assert.equal(before, h:count("GET", path))
  end)
end)

describe("client options", function()
  it("refuse CR, LF and NUL in every string option", function()
    for _, bad in ipairs{ { client_id = "a\r\nb" }, { lang = "en\n" }, { base_url = "http://x\0y" } } do
      local cfg = { client_id = "cid", secret = SECRET, base_url = "http://127.0.0.1:1" }
      for k, v in pairs(bad) do cfg[k] = v end
      local c, err = dwell.tuya(cfg)
      assert.is_nil(c)
      assert.equal("invalid_argument", err.kind)
      assert.equal(next(bad), err.param)
    end
  end)

  it("never show a password in a base URL", function()
    local tuya = assert(dwell.tuya{ client_id = "cid", secret = SECRET, base_url = "http://user:pa55word@127.0.0.1:1" })
    assert.is_nil(tostring(tuya):find("pa55word", 1, true))
  end)
end)

describe("dwell.parallel", function()
  it("checks its list before running anything", function()
    local called = 0
    local function f() called = called + 1; return true end
    local r, err = dwell.parallel({ { f }, nil, { f } })
    assert.is_nil(r)
    assert.equal("invalid_argument", err.kind)
    r, err = dwell.parallel({ { f }, "x" })
    assert.is_nil(r)
    assert.matches("calls", tostring(err))
    assert.equal(0, called)
  end)
end)
