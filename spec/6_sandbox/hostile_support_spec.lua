-- spec/support/hostile.lua itself, over real HTTP with dwell.core's own
-- session: counting, scripted sequences, dropped connections, delays, the
-- vendors' echoing error shapes, Retry-After, scripted functions and the
-- non-converging pages of every style and mode.
local hostile = require "support.hostile"
local http = require("dwell.core").http
local json = require "dwell.json"

local h, session

-- One request; returns resp (body decoded as `resp.json` when it is JSON) or nil, err.
local function send(method, path, opts)
  opts = opts or {}
  local resp, err = (opts.session or session):request{ method = method, url = h.url .. path,
    headers = opts.headers, body = opts.body, timeout_ms = 5000 }
  if resp then resp.json = json.decode(resp.body) end
  return resp, err
end

local function ids(list, field)
  local out = {}
  for i, item in ipairs(list) do out[i] = item[field] end
  return out
end

describe("support.hostile", function()
  setup(function()
    h = hostile.start{}
    session = http.new_session()
  end)
  teardown(function() h:stop() end)
  before_each(function() h:reset() end)

  it("serves on 127.0.0.1 and answers unscripted paths with 404", function()
    assert.truthy(h.url:match("^http://127%.0%.0%.1:%d+$"), h.url)
    local resp = assert(send("GET", "/nothing"))
    assert.equal(404, resp.status)
    assert.equal("unscripted", resp.json.error)
  end)

  it("counts requests per method and exact path, ignoring the query", function()
    h:script("GET", "/a", { { status = 204 } })
    for i = 1, 3 do assert.equal(204, assert(send("GET", "/a?i=" .. i)).status) end
    send("POST", "/a", { body = "x" })
    send("GET", "/a/b")
    assert.equal(3, h:count("GET", "/a"))
    assert.equal(1, h:count("POST", "/a"))
    assert.equal(4, h:count("*", "/a"))
    assert.equal(0, h:count("GET", "/b"))
    local r = h:requests()[4]
    assert.same({ "POST", "/a", "", "x" }, { r.method, r.path, r.query, r.body })
    assert.equal("1", h:requests()[1].query:match("i=(%d)"))
    h:reset()
    assert.equal(0, h:count("GET", "/a"))
  end)

  it("consumes a scripted sequence one entry per request and repeats the last", function()
    h:script("GET", "/seq", {
      { status = 500, body = "oops" },
      { status = 201, headers = { ["X-Step"] = "two" }, body = { step = 2 } },
      { status = 200, body = "last" },
    })
    local got = {}
    for i = 1, 5 do
      local resp = assert(send("GET", "/seq"))
      got[i] = resp.status .. ":" .. resp.body
    end
    assert.same({ "500:oops", '201:{"step":2}', "200:last", "200:last", "200:last" }, got)
    h:script("GET", "/seq", { { status = 202 } }) -- rescripting restarts the sequence
    assert.equal(202, assert(send("GET", "/seq")).status)
  end)

  it("drops the connection after reading the whole request, which still counts", function()
    h:script("POST", "/drop", { { close = true }, { status = 200, body = "after" } })
    -- A fresh session: on a reused connection libcurl would resend by itself.
    local resp, err = send("POST", "/drop", { body = "payload=1", session = http.new_session() })
    assert.is_nil(resp)
    assert.is_table(err)
    assert.equal(1, h:count("POST", "/drop"))
    assert.equal("payload=1", h:requests()[1].body)
    assert.equal("after", assert(send("POST", "/drop", { session = http.new_session() })).body)
  end)

  it("answers a delayed entry late", function()
    h:script("GET", "/slow", { { delay_ms = 150, status = 200, body = "late" } })
    local t0 = http.monotonic()
    assert.equal("late", assert(send("GET", "/slow")).body)
    assert.is_true(http.monotonic() - t0 >= 0.14)
  end)

  describe("echo", function()
    local SENT = { headers = { Authorization = "Bearer AUTH-SECRET", access_token = "TOKEN-SECRET",
                               ["X-Api-Key"] = "KEY-SECRET" }, body = '{"password":"BODY-SECRET"}' }
    local QUERY = "/e?client_secret=QUERY-SECRET&x=1"

    local function assert_everything(text)
      for _, s in ipairs{ "AUTH-SECRET", "TOKEN-SECRET", "KEY-SECRET", "BODY-SECRET",
                          "client_secret=QUERY-SECRET&x=1" } do
        assert.truthy(text:find(s, 1, true), s .. " missing from " .. text)
      end
    end

    it("tuya: HTTP 200, success=false, the code, everything in msg, the token in tid", function()
      h:script("POST", "/e", { { echo = "tuya" }, { echo = "tuya", code = 1010 } })
      local resp = assert(send("POST", QUERY, SENT))
      assert.equal(200, resp.status)
      local b = resp.json
      assert.same({ false, 1106, "TOKEN-SECRET" }, { b.success, b.code, b.tid })
      assert.equal("integer", math.type(b.t))
      assert_everything(b.msg)
      assert.equal(1010, assert(send("POST", QUERY, SENT)).json.code)
    end)

    it("rooms: errorCode, everything in message, Authorization in referenceId and two headers", function()
      h:script("POST", "/e", { { echo = "rooms", status = 401 } })
      local resp = assert(send("POST", QUERY, SENT))
      assert.equal(401, resp.status)
      assert.equal("INVALID_REQUEST", resp.json.errorCode)
      assert.equal("Bearer AUTH-SECRET", resp.json.referenceId)
      assert_everything(resp.json.message)
      assert.equal("Bearer AUTH-SECRET", resp.headers["x-request-id"])
      assert.truthy(resp.headers["www-authenticate"]:find("Bearer AUTH-SECRET", 1, true))
    end)

    it("ruckus: status text, message and detailedMessage, timestamp, validationErrors, X-Request-Id", function()
      h:script("POST", "/e", { { echo = "ruckus" } })
      local resp = assert(send("POST", QUERY, SENT))
      local b = resp.json
      assert.equal(400, resp.status)
      assert.equal("400 BAD_REQUEST", b.status)
      assert_everything(b.message)
      assert_everything(b.detailedMessage)
      assert.equal("Bearer AUTH-SECRET", b.timestamp)
      assert.same({ SENT.body }, b.validationErrors)
      assert.equal("Bearer AUTH-SECRET", resp.headers["x-request-id"])
    end)

    it("raw: the echo text as the body and X-Echo", function()
      h:script("POST", "/e", { { echo = "raw", status = 502 } })
      local resp = assert(send("POST", QUERY, SENT))
      assert.equal(502, resp.status)
      assert_everything(resp.body)
      assert.equal("Bearer AUTH-SECRET", resp.headers["x-echo"])
    end)
  end)

  it("sets Retry-After verbatim from retry_after", function()
    local date = "Wed, 21 Oct 2015 07:28:00 GMT"
    h:script("GET", "/busy", { { status = 429, retry_after = "30" }, { status = 429, retry_after = "nan" },
                               { status = 429, retry_after = date, body = { error = "slow down" } } })
    local got = {}
    for i = 1, 3 do
      local resp = assert(send("GET", "/busy"))
      assert.equal(429, resp.status)
      got[i] = resp.headers["retry-after"]
    end
    assert.same({ "30", "nan", date }, got)
  end)

  it("runs a scripted fn in the server with copies of its data upvalues and the ordinal", function()
    local prefix = { tag = "p" }
    h:script("GET", "/fn", { { fn = function(req, n)
      return 200 + n, {}, { tag = prefix.tag, n = n, q = req.params.q }
    end } })
    assert.same({ tag = "p", n = 1, q = "z" }, assert(send("GET", "/fn?q=z")).json)
    assert.equal(202, assert(send("GET", "/fn")).status)
    h:script("GET", "/src", { { fn = "return function(_, n) return 200, {}, 'src' .. n end" } })
    assert.equal("src1", assert(send("GET", "/src")).body)
  end)

  it("rejects bad entries and fns whose upvalues cannot cross into the server", function()
    assert.has_error(function() h:script("GET", "/x", {}) end)
    assert.has_error(function() h:script("GET", "/x", { { stauts = 200 } }) end)
    assert.has_error(function() h:script("GET", "/x", { { echo = "soap" } }) end)
    assert.has_error(function() h:script("GET", "/x", { { fn = function() return send() end } }) end)
    assert.has_error(function() hostile.page("tuya", "forever") end)
  end)

  it("lets sandbox faults given to start apply on top of the scripts", function()
    local f = hostile.start{ faults = { { match = "GET /flaky", kind = "status", status = 503, times = 1 } } }
    f:script("GET", "/flaky", { { status = 200 } })
    local s = http.new_session()
    assert.equal(503, assert(s:request{ method = "GET", url = f.url .. "/flaky" }).status)
    assert.equal(200, assert(s:request{ method = "GET", url = f.url .. "/flaky" }).status)
    assert.equal(2, f:count("GET", "/flaky"))
    f:stop()
  end)

  describe("pages", function()
    local function tuya(n, mode, opts)
      h:pages("GET", "/t", "tuya", mode, opts)
      local resp = assert(send("GET", "/t?page_no=" .. n .. "&page_size=2"))
      assert.is_true(resp.json.success)
      return resp.json.result
    end

    local function rooms(start, mode, opts)
      h:pages("GET", "/r", "rooms", mode, opts)
      return assert(send("GET", "/r?startPosition=" .. start .. "&count=2")).json
    end

    local function ruckus(page, mode)
      h:pages("POST", "/q", "ruckus", mode)
      return assert(send("POST", "/q", { body = json.encode{ page = page, pageSize = 2 } })).json
    end

    it("tuya alternate: pages A and B in turn, a total that never ends", function()
      local p1, p2, p3 = tuya(1, "alternate"), tuya(2, "alternate"), tuya(3, "alternate")
      assert.same({ "ru-1", "ru-2" }, ids(p1.data, "room_user_id"))
      assert.same({ "ru-3", "ru-4" }, ids(p2.data, "room_user_id"))
      assert.same(ids(p1.data, "uid"), ids(p3.data, "uid"))
      assert.is_true(p3.has_more)
      assert.is_true(p3.total > 1000)
    end)

    it("tuya growing, repeat_old, no_position", function()
      local g1, g2 = tuya(1, "growing"), tuya(2, "growing")
      assert.is_true(g2.total > g1.total)
      assert.same({ "ru-3", "ru-4" }, ids(g2.data, "room_user_id"))
      assert.same({ "ru-5", "ru-1" }, ids(tuya(3, "repeat_old").data, "room_user_id"))
      local np = tuya(2, "no_position", { items = "list" })
      assert.is_nil(np.total)
      assert.same({ "ru-3", "ru-4" }, ids(np.list, "room_user_id"))
      assert.same({ "ru-1", "ru-2" }, ids(tuya(5, "no_position", { same_items = true }).data, "room_user_id"))
    end)

    it("rooms alternate: positions follow the request, items alternate", function()
      local p = rooms(2, "alternate")
      assert.same({ 2, 3, 2 }, { p.startPosition, p.endPosition, p.resultSetSize })
      assert.same({ 3, 4 }, ids(p.users, "userId"))
      assert.equal("/r?startPosition=4&count=2", p.nextUri)
      local p3 = rooms(4, "alternate", { items = "rooms" })
      assert.same({ 1, 2 }, ids(p3.rooms, "userId"))
      assert.equal(4, p3.startPosition)
      assert.is_true(p3.totalRowCount > 1000)
    end)

    it("rooms growing, repeat_old, no_position", function()
      assert.is_true(rooms(4, "growing").totalRowCount > rooms(2, "growing").totalRowCount)
      assert.same({ 5, 1 }, ids(rooms(4, "repeat_old").users, "userId"))
      local np = rooms(2, "no_position")
      assert.is_nil(np.startPosition)
      assert.is_nil(np.endPosition)
      assert.is_nil(np.totalRowCount)
      assert.equal("string", type(np.nextUri))
    end)

    it("ruckus: spring pages from the body's page and pageSize, in every mode", function()
      local a = ruckus(1, "alternate")
      assert.same({ 1, 1, false }, { a.number, a.pageable.pageNumber, a.last })
      assert.equal(ids(ruckus(3, "alternate").content, "id")[1], ids(a.content, "userId")[1])
      assert.is_true(ruckus(3, "growing").totalPages > ruckus(1, "growing").totalPages)
      local ro = ruckus(2, "repeat_old")
      assert.equal(ro.content[2].userId, ruckus(0, "repeat_old").content[1].userId)
      local np = ruckus(4, "no_position")
      assert.same({ false, 2 }, { np.last, #np.content })
      assert.is_nil(np.number)
      assert.is_nil(np.pageable)
      assert.is_nil(np.totalPages)
    end)
  end)
end)
