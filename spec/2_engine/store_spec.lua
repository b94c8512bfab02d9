-- dwell.store: the contract every store keeps (memory, file, Redis), the cross-process parts
-- with real OS processes (lua5.4 children), and what is particular to files (modes, atomic
-- replacement) and to Redis (URLs, AUTH, scripts, a server that is down or does not answer).
-- The Redis server is a real redis-server on a free loopback port, without persistence,
-- started here and stopped at the end.
local dwell = require "dwell"
local store = require "dwell.store"
local core = require "dwell.core"
local json = require "dwell.json"
local support = require "support.shell"
local redis = require "support.redis"

local now = core.http.monotonic
local fs = core.fs

local function tmpdir()
  local p = io.popen('mktemp -d "${TMPDIR:-/tmp}/dwell-store.XXXXXX"')
  local d = p:read("l")
  p:close()
  return d
end

-- Runs Lua `code` in a child process (after the shell commands `pre`); returns a handle
-- whose first line is the child's pid.
local function child(code, pre)
  local cmd = "sh -c " .. support.quote((pre or "") .. "echo $$; exec env " .. support.lua_cmd("-e " .. support.quote(code)))
  local p = io.popen(cmd .. " 2>&1")
  local pid = tonumber(p:read("l"))
  return { p = p, pid = pid, line = function() return p:read("l") end,
    rest = function() local s = p:read("a"); p:close(); return s end,
    kill = function() os.execute("kill -9 " .. pid .. " 2>/dev/null"); p:close() end }
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

local n_prefix = 0
local function fresh_prefix()
  n_prefix = n_prefix + 1
  return "spec" .. n_prefix .. ":"
end

-- How each kind of store is made, here and in a child process (as Lua source).
local KINDS = {
  memory = {
    new = function() return store.memory() end,
  },
  file = {
    new = function(tag) return assert(store.file{ path = dir .. "/" .. tag }) end,
    source = function(tag) return ("require('dwell.store').file{ path = %q }"):format(dir .. "/" .. tag) end,
  },
  redis = {
    new = function(tag) return assert(store.redis{ url = server.url, prefix = tag .. ":" }) end,
    source = function(tag) return ("require('dwell.store').redis{ url = %q, prefix = %q }"):format(server.url, tag .. ":") end,
  },
}

for _, kind in ipairs{ "memory", "file", "redis" } do
  local K = KINDS[kind]
  describe("the " .. kind .. " store", function()
    local s, tag
    before_each(function()
      tag = fresh_prefix():gsub(":", "")
      s = K.new(tag)
    end)

    it("gets nothing for a key never put, and what was put, exactly", function()
      local e, err = s:get("tuya:cid@http://gw")
      assert.is_nil(e)
      assert.is_nil(err)
      local entry = { token = "tok-0123456789", refresh_token = "rt-abc", expires_at = 1712345678.1234567,
        refresh_at = 1712345600.5, gen = 3, uid = "u1" }
      assert.is_true(s:put("tuya:cid@http://gw", entry))
      local got = assert(s:get("tuya:cid@http://gw"))
      for k, v in pairs(entry) do assert.equal(v, got[k], k) end
      assert.is_nil(got.stale)
    end)

    it("invalidates an entry of the given generation only", function()
      s:put("k", { token = "t1", gen = 1 })
      assert.is_true(s:invalidate("k", 7))
      assert.is_nil(assert(s:get("k")).stale)
      assert.is_true(s:invalidate("k", 1))
      assert.is_true(assert(s:get("k")).stale)
      -- a newer entry replaces the stale one whole
      s:put("k", { token = "t2", gen = 2 })
      local e = assert(s:get("k"))
      assert.equal("t2", e.token)
      assert.is_nil(e.stale)
    end)

    it("takes from a bucket: capacity at once, then a debt to wait for, and never over max_wait", function()
      -- 3 tokens, one more every 1000 s
      for _ = 1, 3 do assert.equal(0, s:take("b", 3, 0.001, 1)) end
      local taken, wait = s:take("b", 3, 0.001, 1, 5)
      assert.is_false(taken)
      assert.is_true(wait > 900 and wait <= 1000)
      -- without max_wait the token is reserved and the caller told how long to wait for it
      local w1 = s:take("b", 3, 0.001, 1)
      assert.is_true(w1 > 900 and w1 <= 1000)
      local w2 = s:take("b", 3, 0.001, 1)
      assert.is_true(w2 > w1 + 900)
      -- another bucket is another budget
      assert.equal(0, s:take("b2", 1, 0.001, 1))
    end)

    it("runs fn under the lock and returns its values; a raise releases the lock", function()
      local a, b = s:lock("k", 5, function() return 1, "two" end, 2)
      assert.equal(1, a)
      assert.equal("two", b)
      local ok, err = pcall(s.lock, s, "k", 5, function() error("inside", 0) end, 2)
      assert.is_false(ok)
      assert.equal("inside", err)
      assert.equal("again", s:lock("k", 5, function() return "again" end, 0.5))
    end)

    if K.source then
      it("takes atomically across processes: 4 processes asking 50 each from 100 get 100", function()
        local kids = {}
        for i = 1, 4 do
          kids[i] = child(([[
            local s = assert(%s)
            local got = 0
            for _ = 1, 50 do if s:take("shared", 100, 0.0001, 1, 0) == 0 then got = got + 1 end end
            print(got)]]):format(K.source(tag)))
        end
        local total = 0
        for i = 1, 4 do total = total + assert(tonumber(kids[i].rest():match("(%d+)%s*$"))) end
        assert.equal(100, total)
      end)

      it("a lock whose holder died blocks the others until its ttl, not longer", function()
        local kid = child(([[
          local s = assert(%s)
          s:lock("lease", 1.5, function() print("holding"); io.stdout:flush(); require("dwell.core").http.sleep(60) end, 5)]])
          :format(K.source(tag)))
        assert.equal("holding", kid.line())
        kid.kill()
        -- While the lease lives, a short wait ends in a timeout (the lock is not taken)...
        local ran = false
        local res, err = s:lock("lease", 5, function() ran = true end, 0.2)
        assert.is_nil(res)
        assert.is_false(ran)
        assert.equal("timeout", err.kind)
        assert.matches("another process", err.message)
        -- ...and a wait longer than the ttl gets it: the dead holder's lease expired.
        assert.equal("mine", s:lock("lease", 5, function() return "mine" end, 10))
      end)
    end
  end)
end

describe("the file store", function()
  it("creates its directory 0700 and its files 0600 whatever the umask, and names files safely", function()
    local path = dir .. "/modes/deeper"
    local kid = child(([[
      local s = assert(require('dwell.store').file{ path = %q })
      s:put("rooms:acct/../x:ik:user@https://a", { token = "t", gen = 1 })
      s:take("rate:x", 2, 1, 1)
      s:lock("rooms:acct/../x:ik:user@https://a", 5, function() end, 1)
      print("done")]]):format(path), "umask 000; ")
    -- a permissive umask in the child: the modes must not depend on it
    assert.matches("done", kid.rest())
    assert.equal(tonumber("700", 8), fs.mode(path))
    local p = io.popen("ls -A " .. support.quote(path))
    local names = {}
    for name in p:lines() do names[#names + 1] = name end
    p:close()
    assert.is_true(#names >= 3)
    for _, name in ipairs(names) do
      assert.is_nil(name:find("/", 1, true))
      assert.equal(tonumber("600", 8), fs.mode(path .. "/" .. name), name)
    end
  end)

  it("never reads a half-written file: strays beside an entry are ignored, a torn entry counts as absent", function()
    local s = assert(store.file{ path = dir .. "/torn" })
    s:put("k", { token = "whole", gen = 4 })
    local base = s:path("k")
    -- what an interrupted writer leaves: its temporary file, never renamed
    local f = assert(io.open(base .. ".json.tmp.AbCdEf", "wb"))
    f:write('{"token":"half-wri')
    f:close()
    assert.equal("whole", assert(s:get("k")).token)
    -- a file torn by something that is not dwell is not decoded into garbage: absent...
    f = assert(io.open(base .. ".json", "wb"))
    f:write('{"token":"torn","gen":')
    f:close()
    assert.is_nil(s:get("k"))
    -- ...and replaced whole by the next write
    s:put("k", { token = "new", gen = 5 })
    assert.equal("new", assert(s:get("k")).token)
    -- a bucket's record that fails its check (torn, or not dwell's) reads as a full bucket
    assert.equal(0, s:take("b", 1, 0.001, 1))
    assert.is_false((s:take("b", 1, 0.001, 1, 1)))
    local rec = assert(io.open(s:path("b") .. ".rate", "rb")):read("a")
    assert.matches("^v1 %S+ %S+ %x+\n$", rec)
    f = assert(io.open(s:path("b") .. ".rate", "wb"))
    f:write(rec:sub(1, 9))
    f:close()
    assert.equal(0, s:take("b", 1, 0.001, 1))
  end)

  it("accepts file:// URLs and refuses other forms", function()
    local s = assert(store.resolve("file://" .. dir .. "/url%20dir"))
    assert.equal("file://" .. dir .. "/url dir", s.name)
    local bad, err = store.resolve("file://elsewhere/x")
    assert.is_nil(bad)
    assert.equal("invalid_argument", err.kind)
    bad, err = store.resolve("ftp://x")
    assert.is_nil(bad)
    assert.equal("invalid_argument", err.kind)
  end)

  it("is a store error when the directory cannot be made", function()
    local s, err = store.file{ path = "/proc/dwell-cannot-be-here" }
    assert.is_nil(s)
    assert.equal("store", err.kind)
  end)
end)

describe("the redis store", function()
  it("parses URLs: user, password, host, port, db, IPv6; refuses TLS and queries", function()
    local parse = require("dwell.store.redis").parse_url
    local u = assert(parse("redis://ops:p%40ss@127.0.0.1:6380/3"))
    assert.same({ user = "ops", password = "p@ss", host = "127.0.0.1", port = 6380, db = 3 }, u)
    u = assert(parse("redis://:only-pass@localhost"))
    assert.same({ password = "only-pass", host = "localhost", port = 6379, db = 0 }, u)
    u = assert(parse("redis://[::1]:7000/1"))
    assert.equal("::1", u.host)
    assert.equal(7000, u.port)
    assert.is_nil(parse("rediss://h"))
    assert.is_nil(parse("redis://h/0?prefix=x"))
    assert.is_nil(parse("redis://h:99999"))
  end)

  it("never shows the password: tostring, name and errors have the URL without user-info", function()
    local pw = "s3cret-redis-password"
    local locked = redis.start{ password = pw }
    finally(function() locked:cleanup() end)
    local right = assert(store.redis{ url = locked.url })
    assert.is_true(right:put("k", { token = "t", gen = 1 }))
    assert.equal("t", right:get("k").token)
    local wrong = assert(store.redis{ url = "redis://:wrong-" .. pw .. "@127.0.0.1:" .. locked.port .. "/0" })
    local e, err = wrong:get("k")
    assert.is_nil(e)
    assert.equal("store", err.kind)
    assert.equal("auth", err.reason)
    local none = assert(store.redis{ url = "redis://127.0.0.1:" .. locked.port .. "/0" })
    local _, nerr = none:get("k")
    assert.equal("store", nerr.kind)
    for _, v in ipairs{ tostring(right), right.name, tostring(wrong), tostring(err), err.message, err.store,
                        tostring(nerr) } do
      assert.is_nil(v:find(pw, 1, true), v)
    end
    assert.equal("redis://127.0.0.1:" .. locked.port .. "/0", right.name)
  end)

  it("works as an ACL user allowed only its commands and its prefix (the README's ACL line)", function()
    assert.equal("OK", server:command("ACL", "SETUSER", "dwellapp", "on", ">app-pass-1234", "resetkeys", "~acl:*",
      "-@all", "+hmget", "+hset", "+hget", "+get", "+set", "+del", "+pexpire", "+time", "+evalsha",
      "+script|load", "+select"))
    local url = "redis://dwellapp:app-pass-1234@127.0.0.1:" .. server.port .. "/0"
    local s = assert(store.redis{ url = url, prefix = "acl:" })
    assert.is_true(s:put("k", { token = "t", gen = 1 }))
    assert.is_true(s:invalidate("k", 1))
    assert.is_true(s:get("k").stale)
    assert.equal(0, s:take("b", 2, 1, 1))
    assert.equal("locked", s:lock("k", 5, function() return "locked" end, 1))
    local other = assert(store.redis{ url = url, prefix = "dwell:" })
    local e, err = other:get("k")
    assert.is_nil(e)
    assert.equal("store", err.kind)
    assert.matches("NOPERM", err.message)
  end)

  it("keeps to its database and prefix", function()
    local s = assert(store.redis{ url = "redis://127.0.0.1:" .. server.port .. "/3", prefix = "mine:" })
    s:put("tuya:x", { token = "t", gen = 1 })
    assert.equal(0, server:command("EXISTS", "mine:tuya:x"))
    local rc = require "dwell.store.redis_client"
    local c = assert(rc.connect("127.0.0.1", server.port, 1000))
    c:call(1000, "SELECT", "3")
    assert.equal(1, c:call(1000, "EXISTS", "mine:tuya:x"))
    c:close()
  end)

  it("loads its scripts again when the server forgot them (SCRIPT FLUSH)", function()
    local s = assert(store.redis{ url = server.url, prefix = fresh_prefix() })
    assert.equal(0, s:take("b", 5, 1, 1))
    assert.equal("OK", server:command("SCRIPT", "FLUSH"))
    assert.equal(0, s:take("b", 5, 1, 1))
    s:put("k", { token = "t", gen = 2 })
    server:command("SCRIPT", "FLUSH")
    assert.is_true(s:invalidate("k", 2))
    assert.is_true(s:get("k").stale)
  end)

  it("a server that is down or does not answer is a store error within the deadline; then it recovers", function()
    local r = redis.start()
    finally(function() r:cleanup() end)
    local s = assert(store.redis{ url = r.url, prefix = "x:", timeout_ms = 5000 })
    assert.is_true(s:put("k", { token = "t", gen = 1 }))
    -- stopped: the connection is refused
    r:stop()
    local e, err = s:get("k", 2)
    assert.is_nil(e)
    assert.equal("store", err.kind)
    assert.matches("redis://127.0.0.1:" .. r.port, err.message, 1, true)
    -- paused: it accepts connections but never answers; the call's 0.3 s bound it
    r:restart()
    r:pause()
    local t0 = now()
    e, err = s:get("k", 0.3)
    local took = now() - t0
    assert.is_nil(e)
    assert.equal("store", err.kind)
    assert.equal("timeout", err.reason)
    assert.is_true(took < 0.3 + 0.5 * support.slow, "took " .. took)
    local w
    w, err = s:take("b", 1, 1, 1, nil, 0.2)
    assert.is_nil(w)
    assert.equal("store", err.kind)
    -- back: the next call connects again (the restarted server kept nothing)
    r:resume()
    assert.is_nil(s:get("k", 2))
    assert.is_true(s:put("k", { token = "t2", gen = 1 }, 2))
    assert.equal("t2", s:get("k", 2).token)
  end)
end)

describe("dwell.store.redis_client (C)", function()
  local rc = require "dwell.store.redis_client"

  it("turns replies into Lua values; an error reply leaves the connection usable", function()
    local c = assert(rc.connect("127.0.0.1", server.port, 1000))
    assert.equal("PONG", c:call(1000, "PING"))
    assert.equal("OK", c:call(1000, "SET", "rc:k", "v\0with nul"))
    assert.equal("v\0with nul", c:call(1000, "GET", "rc:k"))
    assert.is_false(c:call(1000, "GET", "rc:missing"))
    assert.equal(3, c:call(1000, "INCRBY", "rc:n", 3))
    local r = c:call(1000, "EVAL", "return {1, 'two', {3}, false}", 0)
    assert.same({ 1, "two", { 3 }, false }, r) -- a script's false is a nil reply
    local res, err = c:call(1000, "NOSUCHCOMMAND")
    assert.is_nil(res)
    assert.equal("reply", err.kind)
    assert.matches("unknown command", err.message)
    assert.is_false(c:closed())
    assert.equal("PONG", c:call(1000, "PING"))
    c:close()
    assert.is_true(c:closed())
    res, err = c:call(1000, "PING")
    assert.is_nil(res)
    assert.equal("closed", err.kind)
  end)

  it("bounds a connect and a command by their timeouts; a timed-out connection is closed", function()
    local res, err = rc.connect("127.0.0.1", 1, 500)
    assert.is_nil(res)
    assert.equal("connect", err.kind)
    local r = redis.start()
    finally(function() r:cleanup() end)
    local c = assert(rc.connect("127.0.0.1", r.port, 1000))
    r:pause()
    local t0 = now()
    res, err = c:call(200, "PING")
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.is_true(now() - t0 < 0.2 + 0.5 * support.slow)
    assert.is_true(c:closed())
    r:resume()
  end)

  it("refuses misuse with an argument error", function()
    local c = assert(rc.connect("127.0.0.1", server.port, 1000))
    assert.has_error(function() c:call(0, "PING") end)
    assert.has_error(function() c:call(1000) end)
    assert.has_error(function() c:call(1000, "SET", {}, "x") end)
    assert.has_error(function() rc.connect("127.0.0.1", 70000, 100) end)
    assert.has_error(function() fs.lock("/tmp/x", -1) end)
    c:close()
  end)
end)

describe("store_fallback", function()
  it("falls back to memory with one warning, and says so once when the store answers again", function()
    local r = redis.start()
    finally(function() r:cleanup() end)
    local events = {}
    local primary = assert(store.redis{ url = r.url })
    local s = store.fallback(primary, store.memory(), function(info) events[#events + 1] = info end, 0)
    assert.is_true(s:put("k", { token = "shared", gen = 1 }))
    r:stop()
    -- the same calls work, on memory, with one warning however many calls
    assert.is_nil(s:get("k"))
    assert.is_true(s:put("k", { token = "local", gen = 2 }))
    assert.equal("local", s:get("k").token)
    assert.equal(0, s:take("b", 2, 1, 1))
    assert.equal("ok", s:lock("k", 5, function() return "ok" end, 1))
    assert.equal(1, #events)
    assert.equal("fallback", events[1].event)
    assert.equal("store", events[1].kind)
    assert.matches("memory", events[1].message)
    r:restart()
    assert.is_true(s:put("k", { token = "shared-again", gen = 3 }))
    assert.equal(2, #events)
    assert.equal("recovered", events[2].event)
    assert.equal("shared-again", primary:get("k").token)
  end)

  it("is a client option: store_fallback = 'memory' with on_warning", function()
    local sandbox = require "dwell.sandbox"
    local sb = assert(sandbox.start{ routes = { "tuya" } })
    finally(function() sb:stop() end)
    local creds = sb:control("tuya", "credentials")
    local warnings = {}
    local tuya = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url,
      store = "redis://127.0.0.1:1/0", store_fallback = "memory",
      on_warning = function(info) warnings[#warnings + 1] = info end })
    for _ = 1, 3 do
      assert(tuya.community.room_users{ block_id = creds.block_ids[1], page_no = 1, page_size = 5 })
    end
    assert.equal(1, #warnings)
    assert.equal("fallback", warnings[1].event)
    assert.equal("tuya", warnings[1].vendor)
  end)
end)

describe("client store options", function()
  it("are checked by every client", function()
    local base = { tuya = { client_id = "c", secret = "s", base_url = "http://127.0.0.1:1" },
      rooms = { account_id = "a", access_token = "t", base_url = "http://127.0.0.1:1" },
      ruckus = { property_id = "6d1b6a3e-8f0c-4c59-9a38-2f1e7c5d4b10", token = "t", base_url = "http://127.0.0.1:1" } }
    for vendor, cfg in pairs(base) do
      local function with(k, v)
        local c = {}
        for a, b in pairs(cfg) do c[a] = b end
        c[k] = v
        return dwell[vendor](c)
      end
      for _, case in ipairs{ { "store", 42 }, { "store", "mysql://x" }, { "store_fallback", "disk" },
                             { "on_warning", "loud" }, { "store", "redis://h:99999" } } do
        local c, err = with(case[1], case[2])
        assert.is_nil(c, vendor .. " " .. case[1])
        assert.equal("invalid_argument", err.kind)
      end
      assert(with("store", "memory"))
      assert(with("store", "file://" .. dir .. "/clients"))
      assert(with("store", server.url))
      assert(with("store", store.memory()))
    end
  end)

  it("a Redis password in the store URL never shows in a client's errors", function()
    local pw = "client-side-redis-pw"
    local tuya = assert(dwell.tuya{ client_id = "c", secret = "s", base_url = "http://127.0.0.1:1",
      store = "redis://:" .. pw .. "@127.0.0.1:1/0", deadline_ms = 2000 })
    local res, err = tuya.community.room_users{ block_id = "1", page_no = 1, page_size = 5 }
    assert.is_nil(res)
    assert.equal("store", err.kind)
    assert.is_nil(tostring(err):find(pw, 1, true))
    assert.is_nil(json.encode(err.message):find(pw, 1, true))
  end)
end)
