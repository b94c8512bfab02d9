-- The sandbox with several lanes (Lua states): read-only routes run on any lane, in
-- parallel; everything else runs on every lane in turn with the same time and random seed,
-- so the replicas agree (a token issued by one is valid on all). Requests go concurrently
-- over raw sockets so that both executors, and so both lanes, serve them; assertions are on
-- what the server counts.
local core = require "dwell.core"
local json = require "dwell.json"
local sandbox = require "dwell.sandbox"
local raw = require "support.rawconn"

local EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
local C = "/v1.0/iot-02/community"

describe("dwell.sandbox lanes", function()
  local sb, creds, block

  local function start(opts)
    opts.routes = opts.routes or { "tuya" }
    sb = assert(sandbox.start(opts))
    creds = assert(sb:control("tuya", "credentials"))
    block = creds.block_ids[1]
  end
  after_each(function() if sb then sb:close() end end)

  local function signed(path, query, token)
    local t = ("%d"):format(math.floor(core.http.realtime() * 1000))
    local url = path .. (query and ("?" .. query) or "")
    local str = creds.client_id .. (token or "") .. t .. "GET\n" .. EMPTY .. "\n\n" .. url
    local head = { "GET " .. url .. " HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
      "client_id: " .. creds.client_id, "t: " .. t, "sign_method: HMAC-SHA256",
      "sign: " .. core.hmac_sha256_hex(creds.secret, str, true) }
    if token then head[#head + 1] = "access_token: " .. token end
    return table.concat(head, "\r\n") .. "\r\n\r\n"
  end

  -- n copies of one request at once; returns the decoded envelopes.
  local function burst(n, path, query, token)
    local conns = raw.connect(sb.port, n)
    for _, c in ipairs(conns) do raw.send(c, signed(path, query, token)) end
    raw.run_until(function() return raw.all_closed(conns) end, 20, "every answer")
    local out = {}
    for i, c in ipairs(conns) do out[i] = json.decode(c.buf:match("\r\n\r\n(.*)$") or "") end
    raw.close(conns)
    return out
  end

  local function one(path, query, token) return burst(1, path, query, token)[1] end

  local function token()
    local env = one("/v1.0/token", "grant_type=1")
    assert.is_true(env.success, env.msg)
    return env.result
  end

  local function page_query() return ("block_id=%s&page_no=1&page_size=5"):format(block) end

  it("serves read-only routes on every lane and counts them once", function()
    start{ lanes = 2 }
    local tok = token().access_token
    for _, env in ipairs(burst(40, C .. "/room-users", page_query(), tok)) do
      assert.is_true(env.success, env.msg)
    end
    local st = sb:stats()
    assert.equal(40, st.reads)
    assert.equal(1, st.writes) -- the token
    assert.equal(40, sb:control("tuya", "stats").requests) -- merged over the lanes
    assert.equal(41, #sb:requests()) -- all recorded, on lane 0
  end)

  it("replays writes on every lane alike: a refreshed token is the same everywhere", function()
    start{ lanes = 2 }
    local first = token()
    local env = one("/v1.0/token/" .. first.refresh_token)
    assert.is_true(env.success, env.msg)
    local second = env.result
    assert.not_equal(first.access_token, second.access_token)
    for _, e in ipairs(burst(30, C .. "/room-users", page_query(), second.access_token)) do
      assert.is_true(e.success, e.msg)
    end
    -- The old token died on every lane.
    for _, e in ipairs(burst(30, C .. "/room-users", page_query(), first.access_token)) do
      assert.is_false(e.success)
      assert.equal(1011, e.code)
    end
    -- One at a time, reads take the lanes in turn: both lanes know the new token.
    local before = sb:stats().lane_reads
    for _ = 1, 4 do assert.is_true(one(C .. "/room-users", page_query(), second.access_token).success) end
    local after = sb:stats().lane_reads
    assert.equal(2, #after)
    for i = 1, 2 do assert.equal(2, after[i] - before[i], "lane " .. i) end
    assert.equal(64, sb:stats().reads)
  end)

  it("runs controls on every lane", function()
    start{ lanes = 2 }
    local tok = token().access_token
    assert.equal(1, sb:control("tuya", "expire_tokens").expired)
    for _, e in ipairs(burst(20, C .. "/room-users", page_query(), tok)) do
      assert.equal(1010, e.code)
    end
    assert.equal(20, sb:control("tuya", "stats").expired)
  end)

  it("runs a read as a write when a queued fault must be consumed exactly once", function()
    start{ lanes = 2 }
    local tok = token().access_token
    sb:control("tuya", "fault", { kind = "no_success", count = 1 })
    local envs = burst(20, C .. "/room-users", page_query(), tok)
    local faulty = 0
    for _, e in ipairs(envs) do if e.success == nil then faulty = faulty + 1 end end
    assert.equal(1, faulty)
    assert.equal(1, sb:control("tuya", "stats").faults)
  end)

  it("with faults configured, runs everything on every lane (fault counters stay one)", function()
    start{ lanes = 2, faults = { { match = "GET /v1.0/iot-02/community/room-users", every = 5, kind = "status", status = 503 } } }
    local tok = token().access_token
    local conns = raw.connect(sb.port, 20)
    for _, c in ipairs(conns) do raw.send(c, signed(C .. "/room-users", page_query(), tok)) end
    raw.run_until(function() return raw.all_closed(conns) end, 20, "every answer")
    local n503 = 0
    for _, c in ipairs(conns) do if raw.status(c) == 503 then n503 = n503 + 1 end end
    raw.close(conns)
    assert.equal(4, n503)
    assert.equal(0, sb:stats().reads)
  end)

  it("serves the static routes from every lane", function()
    sb = assert(sandbox.start{ routes = { "static" }, lanes = 3 })
    local conns = raw.connect(sb.port, 30)
    raw.send(conns, "GET /static/64 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    raw.run_until(function() return raw.all_closed(conns) end, 20, "every answer")
    for _, c in ipairs(conns) do assert.equal(200, raw.status(c)) end
    raw.close(conns)
    assert.equal(30, sb:stats().reads)
  end)
end)
