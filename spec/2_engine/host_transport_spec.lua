-- A host application with its own event loop supplies the transport (docs/internals.md,
-- "Transport"): its send() submits on the host's own dwell.core.http session and yields to
-- the host loop, which polls the session and resumes each coroutine with its response. The
-- Tuya client runs inside the host's coroutines, never dwell's scheduler, over real HTTP
-- against the sandbox.
local dwell = require "dwell"
local http = require("dwell.core").http
local sandbox = require "dwell.sandbox"
local support = require "support.shell"

-- The host: a run queue, the transfers it waits on, and a transport for dwell clients.
local function new_host()
  local session = assert(http.new_session())
  local host = { ready = {}, waiting = {}, n_waiting = 0, live = 0, sends = 0, parks = 0, timers = {}, sleeps = 0 }
  local transport = {}

  -- Non-blocking: hand the request to the host's session, then let the host loop run.
  function transport.send(_, req)
    local id, err = session:submit{ method = req.method, url = req.url, headers = req.headers,
                                    body = req.body, timeout_ms = 10000 }
    if not id then return nil, { kind = "transport", message = err } end
    host.sends = host.sends + 1
    return coroutine.yield("http", id)
  end
  -- What dwell's single-flight lock needs to wait in the host's loop.
  function transport.park()
    host.parks = host.parks + 1
    return coroutine.yield("park")
  end
  function transport.wake(_, co) host.ready[#host.ready + 1] = { co } end
  host.transport = transport
  -- A clock whose sleep waits in the host loop (the client's `clock` option): epoch seconds,
  -- as Tuya's signatures and token lifetimes need.
  host.clock = { now = http.realtime, sleep = function(seconds)
    host.sleeps = host.sleeps + 1
    return coroutine.yield("sleep", seconds)
  end }

  local function step(co, ...)
    local ok, what, id = coroutine.resume(co, ...)
    assert(ok, what)
    if coroutine.status(co) == "dead" then
      host.live = host.live - 1
    elseif what == "http" then
      host.waiting[id] = co
      host.n_waiting = host.n_waiting + 1
    elseif what == "sleep" then
      host.timers[#host.timers + 1] = { at = http.monotonic() + id, co = co }
    else
      assert(what == "park", "unexpected yield to the host loop")
    end
  end

  function host.spawn(fn)
    host.live = host.live + 1
    host.ready[#host.ready + 1] = { coroutine.create(fn) }
  end

  -- Moves the sleepers that are due to the run queue; returns the ms until the next one.
  local function due_timers()
    local now, next_ms, keep = http.monotonic(), 1000, {}
    for _, t in ipairs(host.timers) do
      if t.at <= now then host.ready[#host.ready + 1] = { t.co }
      else
        keep[#keep + 1] = t
        next_ms = math.min(next_ms, math.ceil((t.at - now) * 1000))
      end
    end
    host.timers = keep
    return next_ms
  end

  -- The host's own loop: run what is ready, else poll its session for finished transfers.
  function host.run()
    while host.live > 0 do
      local wait_ms = due_timers()
      if #host.ready > 0 then
        local batch = host.ready
        host.ready = {}
        for _, r in ipairs(batch) do step(r[1], table.unpack(r, 2)) end
      elseif host.n_waiting == 0 then
        assert(#host.timers > 0, "host loop deadlock: every coroutine parked")
        http.sleep(wait_ms / 1000)
      else
        local results = assert(session:poll(wait_ms))
        for _, r in ipairs(results) do
          local co = host.waiting[r.id]
          host.waiting[r.id] = nil
          host.n_waiting = host.n_waiting - 1
          step(co, r.resp, r.err)
        end
      end
    end
  end
  return host
end

local function token_requests(sb)
  local n = 0
  for _, r in ipairs(sb:requests()) do
    if r.path:find("^/v1%.0/token") then n = n + 1 end
  end
  return n
end

describe("a host event loop supplying the transport", function()
  local sb, creds, block, expected

  before_each(function()
    -- Latency keeps concurrent calls on the wire together, so their 1010 answers arrive while
    -- the one refresh is still under way (and they overlap even on a loaded machine).
    sb = assert(sandbox.start{ host = "127.0.0.1", port = 0, latency_ms = 20,
      routes = { { set = "tuya", config = { blocks = 1, residents_per_block = 60, token_ttl = 3600 } } } })
    creds = assert(sb:control("tuya", "credentials"))
    block = assert(sb:control("tuya", "summary")).blocks[1]
    -- The reference answer, fetched the ordinary (blocking) way.
    local plain = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url })
    expected = {}
    for r in plain.community.room_users:each{ block_id = block.block_id, page_size = 3 } do
      expected[#expected + 1] = r.room_user_id
    end
  end)
  after_each(function() sb:stop() end)

  local function client(host)
    return assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url,
                              transport = host.transport })
  end

  -- 20 page calls and one :each over the block, all as host coroutines; returns pages, walked.
  local function run_calls(host, tuya)
    local pages, walked = {}, {}
    for page = 1, 20 do
      host.spawn(function()
        pages[page] = assert(tuya.community.room_users{ block_id = block.block_id, page_no = page, page_size = 3 })
      end)
    end
    host.spawn(function()
      for r in tuya.community.room_users:each{ block_id = block.block_id, page_size = 7 } do
        walked[#walked + 1] = r.room_user_id
      end
    end)
    host.run()
    return pages, walked
  end

  local function check(pages, walked)
    for page = 1, 20 do
      local ids = {}
      for i, r in ipairs(pages[page].data) do ids[i] = r.room_user_id end
      assert.same({ table.unpack(expected, page * 3 - 2, page * 3) }, ids)
    end
    assert.same(expected, walked)
  end

  it("runs many dwell calls concurrently in the host's coroutines, with correct results", function()
    assert.equal(60, #expected)
    local host = new_host()
    local tuya = client(host)
    -- the reference walk above ran one request at a time
    assert.equal(1, sb:stats().max_in_flight)
    local before = sb:stats().served
    local pages, walked = run_calls(host, tuya)
    check(pages, walked)
    -- every request went through the host's transport, and they overlapped on the wire
    assert.equal(host.sends, sb:stats().served - before)
    assert.is_true(sb:stats().max_in_flight > 1, "max_in_flight " .. sb:stats().max_in_flight)
    -- the first token was fetched once, the other coroutines waited on the lock in the host loop
    assert.equal(1, tuya:token_info().grants)
    assert.is_true(host.parks > 0)
  end)

  it("refreshes an expired token exactly once for many concurrent host coroutines", function()
    local host = new_host()
    local tuya = client(host)
    host.spawn(function() assert(tuya.community.room_users{ block_id = block.block_id, page_no = 1, page_size = 3 }) end)
    host.run()
    local tokens_before = token_requests(sb)
    assert(sb:control("tuya", "expire_tokens"))
    local pages, walked = run_calls(host, tuya)
    check(pages, walked)
    assert.equal(1, token_requests(sb) - tokens_before)
    local info = tuya:token_info()
    assert.equal(1, info.refreshes + info.grants - 1)
    assert.is_true(host.parks > 0, "other coroutines waited on the refresh in the host loop")
    assert.is_true(sb:stats().max_in_flight > 1)
  end)
end)

-- A gateway that answers the first `busy` business calls with 1110 (a transient code the client
-- retries after a backoff sleep), then succeeds.
local BUSY_STUB = [[
return function(config)
  local calls = 0
  local function token()
    return 200, {}, { success = true, t = 1700000000000, result = { access_token = "A", refresh_token = "R",
      expire_time = 7200, uid = "u" } }
  end
  local function structure(req)
    calls = calls + 1
    if calls <= config.busy then return 200, {}, { success = false, code = 1110, msg = "busy", t = 1700000000000 } end
    return 200, {}, { success = true, t = 1700000000000, result = { id = req.params.structure_id } }
  end
  return { { "GET", "/v1.0/token", token }, { "GET", "/v1.0/iot-02/community/structure", structure } }
end
]]

describe("a host event loop supplying the clock", function()
  local undo
  setup(function() undo = support.route_sets{ spec_host_busy = BUSY_STUB } end)
  teardown(function() undo() end)

  it("waits out transient answers in the host loop, not by blocking it", function()
    local sb = assert(sandbox.start{ host = "127.0.0.1", port = 0, routes = { { set = "spec_host_busy",
      config = { busy = 5 } } } })
    local host = new_host()
    local tuya = assert(dwell.tuya{ client_id = "cid", secret = "s", base_url = sb.url, transport = host.transport,
                                    clock = host.clock, retry = { base_ms = 20, cap_ms = 50 } })
    local got = {}
    for i = 1, 5 do
      host.spawn(function() got[i] = assert(tuya.community.structure.get{ structure_id = tostring(i) }) end)
    end
    host.run()
    sb:stop()
    for i = 1, 5 do assert.equal(tostring(i), got[i].id) end
    -- every retry wait went through the host's clock; 1 token + 5 busy + 5 retried calls
    assert.equal(5, host.sleeps)
    assert.equal(11, host.sends)
  end)
end)

describe("a host event loop driving dwell.ruckus", function()
  it("logs in once for many concurrent host coroutines, also after the tokens expire", function()
    -- Latency keeps the calls on the wire long enough to overlap even under valgrind.
    local sb = assert(sandbox.start{ host = "127.0.0.1", port = 0, latency_ms = 50,
      routes = { { set = "ruckus", config = { users = 10, token_ttl = 600 } } } })
    local creds = sb:control("ruckus", "credentials")
    local host = new_host()
    local portal = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
                                        base_url = sb.url, transport = host.transport })
    local function logins()
      local n = 0
      for _, r in ipairs(sb:requests()) do
        if r.path:find("/units/logins$") then n = n + 1 end
      end
      return n
    end
    local function burst()
      local got = {}
      for i = 1, 12 do host.spawn(function() got[i] = assert(portal.units.users.query{ page_size = 1 }) end) end
      host.run()
      for i = 1, 12 do assert.is_table(got[i]) end
    end
    burst()
    assert.equal(1, logins())
    sb:control("ruckus", "expire_tokens")
    burst()
    local max_in_flight = sb:stats().max_in_flight
    sb:stop()
    assert.equal(2, logins())
    assert.is_true(host.parks > 0)
    assert.is_true(max_in_flight > 1)
  end)
end)
