-- The vendors' limits belong to an account, not a process. Real OS processes
-- (lua5.4 children, spec/support/*_worker.lua) share one store against the sandbox:
--   - Tuya in one-live-token mode (a new grant or refresh ends the older tokens), 3 s tokens,
--     4 processes on one client id for ~8 s over Redis: no failed call, one grant or refresh
--     per renewal across all of them (never two at once: no token ends another live one);
--   - the file store: two processes and a later run fetch one token between them;
--   - RUCKUS, 4 processes x 150 queries 16 at a time on one property over Redis: no 429;
--   - Redis stopped (or not answering) mid-run: `store` errors within the deadline, and the
--     calls work again once it is back.
-- Assertions are on counts and events (the sandbox's own counters, the children's results).
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"
local json = require "dwell.json"
local support = require "support.shell"
local redis = require "support.redis"
local monotonic = require("dwell.core").http.monotonic

local function tmpdir()
  local p = io.popen('mktemp -d "${TMPDIR:-/tmp}/dwell-store.XXXXXX"')
  local d = p:read("l")
  p:close()
  return d
end

-- Starts `n` children running `script` with `args`; returns a function that waits for them
-- and gives their decoded JSON results.
local function spawn(n, env, script, args)
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = support.quote(a) end
  local procs = {}
  for i = 1, n do
    procs[i] = io.popen(env .. " " .. support.lua_cmd(script .. " " .. table.concat(quoted, " ")) .. " 2>&1")
  end
  return function()
    local out = {}
    for i = 1, n do
      local text = procs[i]:read("a")
      procs[i]:close()
      local line = text:match("({.*})%s*$")
      out[i] = assert(line and json.decode(line), "child " .. i .. " said: " .. text)
    end
    return out
  end
end

local server, dir
setup(function()
  server = redis.start()
  dir = tmpdir()
end)
teardown(function()
  if server then server:cleanup() end
  if dir then os.execute("rm -rf " .. support.quote(dir)) end
end)

describe("tuya, one client id, processes sharing a store", function()
  local TTL, MARGIN = 3, 1

  local function run(store, seconds, procs)
    local sb = assert(sandbox.start{ routes = { { set = "tuya", config = { one_live_token = true, token_ttl = TTL } } } })
    local creds = sb:control("tuya", "credentials")
    local t0 = monotonic()
    local wait = spawn(procs, "DWELL_BLOCK_ID=" .. creds.block_ids[1], "spec/support/tuya_worker.lua",
      { sb.url, creds.client_id, creds.secret, store, tostring(seconds), "4", tostring(MARGIN) })
    local kids = wait()
    local elapsed = monotonic() - t0
    local stats = sb:control("tuya", "stats")
    sb:stop()
    return kids, stats, elapsed
  end

  it("4 processes over Redis for ~8 s: no failed call, one grant or refresh per renewal", function()
    local kids, stats, elapsed = run(server.url, 8, 4)
    local calls, fetched = 0, 0
    for i, k in ipairs(kids) do
      assert.equal(0, k.failed, "process " .. i .. ": " .. json.encode(k.messages))
      assert.is_true(k.ok > 0)
      calls = calls + k.ok
      fetched = fetched + k.grants + k.refreshes
    end
    -- what the gateway saw is what the processes did: one grant, then refreshes...
    assert.equal(fetched, stats.grants + stats.refreshes)
    assert.equal(1, stats.grants)
    -- ...never two at once: no token was ended by another while it lived
    assert.equal(0, stats.revoked)
    -- and never early: a token is renewed MARGIN s before its TTL, so the renewals are at
    -- least TTL - MARGIN apart (less a little for the time a fetch takes)
    assert.is_true(stats.refreshes >= 1, "8 s of calls on 3 s tokens renew them")
    assert.is_true(stats.grants + stats.refreshes <= 1 + math.floor(elapsed / (TTL - MARGIN - 0.25)),
      ("%d fetches in %.1f s"):format(stats.grants + stats.refreshes, elapsed))
    assert.is_true(calls >= 4 * 8, "calls: " .. calls)
  end)

  it("(the same processes each on their own memory store end each other's tokens)", function()
    local kids, stats = run("memory", 2, 4)
    local fetched = 0
    for _, k in ipairs(kids) do fetched = fetched + k.grants + k.refreshes end
    assert.equal(fetched, stats.grants + stats.refreshes)
    -- every process fetched its own token, and each fetch after the first ended a live one
    assert.is_true(stats.grants >= 4)
    assert.is_true(stats.revoked >= 3)
  end)

  it("the file store: two processes at once and a later run fetch one token between them", function()
    local store = "file://" .. dir .. "/tuya"
    local sb = assert(sandbox.start{ routes = { { set = "tuya", config = { one_live_token = true } } } })
    finally(function() sb:stop() end)
    local creds = sb:control("tuya", "credentials")
    local args = { sb.url, creds.client_id, creds.secret, store, "1", "4", "60" }
    local kids = spawn(2, "DWELL_BLOCK_ID=" .. creds.block_ids[1], "spec/support/tuya_worker.lua", args)()
    -- a cron job's next run: a new process, the token from the last one
    local later = spawn(1, "DWELL_BLOCK_ID=" .. creds.block_ids[1], "spec/support/tuya_worker.lua", args)()
    for _, k in ipairs{ kids[1], kids[2], later[1] } do
      assert.equal(0, k.failed, json.encode(k.messages))
      assert.is_true(k.ok > 0)
    end
    local stats = sb:control("tuya", "stats")
    assert.equal(1, stats.grants)
    assert.equal(0, stats.refreshes)
    assert.equal(0, stats.invalid)
    assert.equal(1, kids[1].grants + kids[2].grants + later[1].grants)
  end)
end)

-- The sandbox runs as a process of its own here (bin/dwell-sandbox): whether a burst stays
-- under the server's limit depends on when requests reach it, and a server slowed down with
-- this process (make valgrind) would see paced calls arrive bunched. The 429s and logins are
-- counted from what the clients received.
local function sandbox_process(routes)
  local p = io.popen("sh -c " .. support.quote("echo $$; exec env " .. support.lua_cmd("bin/dwell-sandbox --routes " .. routes)))
  local sbp = { pid = tonumber(p:read("l")), creds = {} }
  for line in p:lines() do
    sbp.url = sbp.url or line:match("listening on (%S+)")
    local k, v = line:match("^%s+([%w_]+) = (%S+)")
    if k then sbp.creds[k] = v end
    if sbp.creds.unit_guid then break end
  end
  function sbp.stop()
    os.execute("kill -TERM " .. sbp.pid)
    local rest = p:read("a")
    p:close()
    return tonumber(rest:match("(%d+) requests served"))
  end
  return sbp
end

describe("the dwell command run by cron", function()
  it("reuses the token of the last run with DWELL_TUYA_STORE (and fetches one per run without)", function()
    local sb = assert(sandbox.start{ routes = { "tuya" } })
    finally(function() sb:stop() end)
    local creds = sb:control("tuya", "credentials")
    local function run(store)
      local env = ("HOME=%s XDG_CONFIG_HOME=%s DWELL_TUYA_BASE_URL=%s DWELL_TUYA_CLIENT_ID=%s DWELL_TUYA_SECRET=%s %s")
        :format(support.quote(dir), support.quote(dir .. "/config"), support.quote(sb.url), support.quote(creds.client_id),
          support.quote(creds.secret), store and ("DWELL_TUYA_STORE=" .. support.quote(store)) or "")
      local out, rc = support.shell("env -u DWELL_PROFILE -u DWELL_CONFIG -u DWELL_TUYA_STORE " .. env .. " "
        .. support.sanitizer_env() .. " "
        .. support.lua_cmd("bin/dwell tuya community.room_users block_id=" .. creds.block_ids[1] .. " page_size=2") .. " 2>&1")
      assert.equal(0, rc, out)
    end
    for _ = 1, 3 do run("file://" .. dir .. "/cron") end
    assert.equal(1, sb:control("tuya", "stats").grants)
    for _ = 1, 2 do run(nil) end
    assert.equal(3, sb:control("tuya", "stats").grants)
  end)
end)

describe("ruckus, one property, processes sharing a store", function()
  it("4 processes x 150 queries 16 at a time over Redis: no 429, one login", function()
    local sbp = sandbox_process("ruckus")
    local stopped = false
    finally(function() if not stopped then sbp.stop() end end)
    assert.is_string(sbp.url)
    local kids = spawn(4, "", "spec/support/ruckus_worker.lua",
      { sbp.url, sbp.creds.property_id, sbp.creds.hashed_secret, server.url, "150", "16" })()
    local ok, limited, logins, answers = 0, 0, 0, 0
    for i, k in ipairs(kids) do
      assert.equal(0, k.failed, "process " .. i .. ": " .. json.encode(k.messages))
      ok, logins = ok + k.ok, logins + k.logins
      limited = limited + (k.statuses["429"] or 0)
      for _, n in pairs(k.statuses) do answers = answers + n end
    end
    assert.equal(600, ok)
    assert.equal(0, limited)
    assert.equal(1, logins)
    stopped = true
    -- every request the server served was one of those answers: 600 queries and one login
    assert.equal(601, sbp.stop())
    assert.equal(601, answers)
  end)
end)

describe("a Redis store that stops mid-run", function()
  it("gives clear store errors within the deadline, and works again once it is back", function()
    local r = redis.start()
    finally(function() r:cleanup() end)
    local sb = assert(sandbox.start{ routes = { "tuya" } })
    finally(function() sb:stop() end)
    local creds = sb:control("tuya", "credentials")
    local DEADLINE = 1500
    local tuya = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url,
      store = dwell.store.redis{ url = r.url, timeout_ms = 5000 }, deadline_ms = DEADLINE,
      rate_limit = { capacity = 100, refill_per_second = 100 } })
    local function call()
      local t0 = monotonic()
      local res, err = tuya.community.room_users{ block_id = creds.block_ids[1], page_no = 1, page_size = 5 }
      return res, err, monotonic() - t0
    end
    for _ = 1, 3 do assert(call()) end
    local limit = DEADLINE / 1000 + 1.0 * support.slow
    -- down: refused at once
    r:stop()
    for _ = 1, 3 do
      local res, err, took = call()
      assert.is_nil(res)
      assert.equal("store", err.kind)
      assert.matches("redis://127.0.0.1:" .. r.port, tostring(err), 1, true)
      assert.is_true(took < limit, "took " .. took)
    end
    -- back (empty: nothing was persisted): a new token, and calls work
    r:restart()
    for _ = 1, 3 do assert(call()) end
    -- not answering (SIGSTOP): each call ends with a store error by its deadline
    r:pause()
    for _ = 1, 2 do
      local res, err, took = call()
      assert.is_nil(res)
      assert.equal("store", err.kind)
      assert.is_true(took < limit, "took " .. took)
    end
    r:resume()
    for _ = 1, 3 do assert(call()) end
    assert.equal(2, sb:control("tuya", "stats").grants)
  end)

  it("a RUCKUS bucket in it: the limiter's store error is the call's", function()
    local r = redis.start()
    finally(function() r:cleanup() end)
    local sb = assert(sandbox.start{ routes = { { set = "ruckus", config = { users = 5 } } } })
    finally(function() sb:stop() end)
    local creds = sb:control("ruckus", "credentials")
    -- a fixed token never goes to a shared store: the bucket is all that is in Redis
    local login = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
      base_url = sb.url })
    assert(login:login())
    local token = rawget(login, "_adapter").credential:peek().token
    local portal = assert(dwell.ruckus{ property_id = creds.property_id, token = token, base_url = sb.url,
      store = r.url, deadline_ms = 2000 })
    assert(portal.units.users.query{ page_size = 1 })
    r:stop()
    local res, err = portal.units.users.query{ page_size = 1 }
    assert.is_nil(res)
    assert.equal("store", err.kind)
    assert.equal("ruckus", err.vendor)
    r:restart()
    assert(portal.units.users.query{ page_size = 1 })
  end)
end)
