-- dwell.core.http `fresh_connect`: a write whose answer is lost reaches the
-- server once. On a reused keep-alive connection that dies after the request
-- went out and before any answer, libcurl sends the request again on a new
-- connection, POST included; a fresh connection is never retried that way.
local http = require("dwell.core").http
local sandbox = require "dwell.sandbox"

-- The POST's handler runs (the write takes effect), then the connection is
-- reset without an answer; only the first such POST, so that a resend succeeds.
local function start()
  return assert(sandbox.start{ routes = { "echo" },
    faults = { { kind = "reset", handled = true, match = "POST /echo/write", times = 1 } } })
end

local function writes(sb)
  local n = 0
  for _, r in ipairs(sb:requests()) do
    if r.method == "POST" and r.path == "/echo/write" then n = n + 1 end
  end
  return n
end

-- A GET first, so that its keep-alive connection is in the pool for the POST.
local function warm(session, sb)
  local r = assert(session:request{ url = sb.url .. "/echo" })
  assert.is_false(r.reused)
end

describe("dwell.core.http fresh_connect", function()
  local session

  before_each(function() session = http.new_session() end)
  after_each(function() session:close() end)

  it("sends a POST whose answer is lost once and returns the error", function()
    local sb <close> = start()
    warm(session, sb)
    local r, err = session:request{ method = "POST", url = sb.url .. "/echo/write", body = "x=1", fresh_connect = true }
    assert.is_nil(r)
    assert.are.equal("transport", err.kind)
    assert.is_true(err.sent)
    assert.are.equal(1, writes(sb))
    assert.are.equal(2, sb:stats().connections_total)
  end)

  it("does the same over submit and poll", function()
    local sb <close> = start()
    warm(session, sb)
    local id = assert(session:submit{ method = "POST", url = sb.url .. "/echo/write", body = "x=1", fresh_connect = true })
    local results = {}
    while #results == 0 do results = assert(session:poll(1000)) end
    assert.are.equal(id, results[1].id)
    assert.is_nil(results[1].resp)
    assert.are.equal("transport", results[1].err.kind)
    assert.are.equal(1, writes(sb))
  end)

  -- The libcurl behaviour that fresh_connect exists for (and the proof that
  -- the count above can fail): the same exchange without it writes twice and
  -- reports success.
  it("without it, libcurl resends the POST on a new connection and the server sees it twice", function()
    local sb <close> = start()
    warm(session, sb)
    local r = assert(session:request{ method = "POST", url = sb.url .. "/echo/write", body = "x=1" })
    assert.are.equal(200, r.status)
    assert.are.equal(2, writes(sb))
  end)

  it("applies to its own request only: the next plain GET on the handle rides a pooled connection", function()
    local sb <close> = start()
    warm(session, sb)
    local r = assert(session:request{ url = sb.url .. "/echo", fresh_connect = true })
    assert.is_false(r.reused)
    assert.are.equal(2, sb:stats().connections_total)
    r = assert(session:request{ url = sb.url .. "/echo" })
    assert.is_true(r.reused)
    r = assert(session:request{ method = "POST", url = sb.url .. "/echo", body = "{}", fresh_connect = true })
    assert.is_false(r.reused)
    r = assert(session:request{ url = sb.url .. "/echo" })
    assert.is_true(r.reused)
    r = assert(session:request{ url = sb.url .. "/echo", fresh_connect = false })
    assert.is_true(r.reused)
    assert.are.equal(3, sb:stats().connections_total)
  end)

  it("raises for a fresh_connect that is not a boolean", function()
    local ok, msg = pcall(session.request, session, { url = "http://127.0.0.1:1/", fresh_connect = "yes" })
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("bad argument", 1, true), msg)
    assert.truthy(tostring(msg):find("'fresh_connect' must be a boolean", 1, true), msg)
    assert.has_error(function() session:submit{ url = "http://127.0.0.1:1/", fresh_connect = 1 } end)
    assert.are.equal(0, session:pending())
  end)
end)
