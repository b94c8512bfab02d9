-- dwell.credential over a shared store, with the Tuya sandbox: the one-live-token mode itself,
-- a token refused anywhere dropped everywhere (its generation in the store), and a renewer
-- that dies holding the store's lock (the others renew once the lock's ttl has passed).
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"
local support = require "support.shell"
local redis = require "support.redis"

local function tmpdir()
  local p = io.popen('mktemp -d "${TMPDIR:-/tmp}/dwell-store.XXXXXX"')
  local d = p:read("l")
  p:close()
  return d
end

local dir, server
setup(function()
  dir = tmpdir()
  server = redis.start()
end)
teardown(function()
  os.execute("rm -rf " .. support.quote(dir))
  server:cleanup()
end)

local function tuya_for(sb, opts)
  local creds = sb:control("tuya", "credentials")
  local cfg = { client_id = creds.client_id, secret = creds.secret, base_url = sb.url }
  for k, v in pairs(opts or {}) do cfg[k] = v end
  return assert(dwell.tuya(cfg)), creds.block_ids[1]
end

local function call(tuya, block)
  return tuya.community.room_users{ block_id = block, page_no = 1, page_size = 5 }
end

describe("the tuya sandbox in one-live-token mode", function()
  it("ends a client's token when another client of the same id is granted one", function()
    local sb = assert(sandbox.start{ routes = { { set = "tuya", config = { one_live_token = true } } } })
    finally(function() sb:stop() end)
    local a, block = tuya_for(sb)
    local b = tuya_for(sb)
    assert(call(a, block))
    assert(call(b, block))      -- b's grant ends a's token
    assert(call(a, block))      -- refused (1011), renewed once, sent again
    local stats = sb:control("tuya", "stats")
    assert.equal(3, stats.grants)
    assert.equal(2, stats.revoked)
    assert.equal(1, stats.invalid)
  end)

  it("(without the flag a repeat grant returns the live token, as before)", function()
    local sb = assert(sandbox.start{ routes = { "tuya" } })
    finally(function() sb:stop() end)
    local a, block = tuya_for(sb)
    local b = tuya_for(sb)
    assert(call(a, block))
    assert(call(b, block))
    assert(call(a, block))
    local stats = sb:control("tuya", "stats")
    assert.equal(2, stats.grants)
    assert.equal(0, stats.invalid)
  end)
end)

for _, kind in ipairs{ "file", "redis" } do
  describe("tuya clients sharing a " .. kind .. " store", function()
    -- Keys name the gateway's URL (its port differs per sandbox), so tests never share entries.
    local function store_of()
      if kind == "file" then return "file://" .. dir .. "/tuya" end
      return server.url
    end

    it("share one token, and one refused is dropped for all: one renewal, the others never refused", function()
      local sb = assert(sandbox.start{ routes = { { set = "tuya", config = { one_live_token = true } } } })
      finally(function() sb:stop() end)
      local s = store_of()
      local a, block = tuya_for(sb, { store = s })
      local b = tuya_for(sb, { store = s })
      assert(call(a, block))
      assert(call(b, block))
      assert.equal(1, sb:control("tuya", "stats").grants)
      -- the gateway ends the token: the first client to use it is refused and renews it...
      sb:control("tuya", "expire_tokens")
      assert(call(b, block))
      -- ...and the other reads the renewed token from the store instead of being refused too
      assert(call(a, block))
      assert(call(a, block))
      local stats = sb:control("tuya", "stats")
      assert.equal(1, stats.expired)
      assert.equal(2, stats.grants + stats.refreshes)
      assert.equal(0, stats.revoked)
      assert.equal(0, stats.invalid)
    end)

    it("a renewer that dies holding the lock delays the others by the lock's ttl, no longer", function()
      local sb = assert(sandbox.start{ routes = { "tuya" },
        faults = { { match = "GET /v1.0/token", kind = "hang", times = 1 } } })
      finally(function() sb:stop() end)
      local creds = sb:control("tuya", "credentials")
      local s = store_of()
      -- A child takes the lock for the first grant (its deadline of 2 s bounds the lock's
      -- ttl), and hangs in it; it is killed there.
      local code = ([[
        local dwell = require "dwell"
        local t = assert(dwell.tuya{ client_id = %q, secret = %q, base_url = %q, store = %q, deadline_ms = 2000 })
        t.community.room_users{ block_id = "1", page_no = 1, page_size = 5 }]]):format(
        creds.client_id, creds.secret, sb.url, s)
      local kid = io.popen("sh -c " .. support.quote("echo $$; exec env " .. support.lua_cmd("-e " .. support.quote(code))) .. " 2>&1")
      local pid = tonumber(kid:read("l"))
      assert.is_true(support.wait_until(function()
        for _, r in ipairs(sb:requests()) do if r.path == "/v1.0/token" then return true end end
      end, 10), "the child's grant never arrived")
      os.execute("kill -9 " .. pid)
      kid:close()
      -- Our call waits for the dead child's lock to expire, then fetches the token itself.
      local tuya, block = tuya_for(sb, { store = s, deadline_ms = 10000 })
      assert(call(tuya, block))
      local grants = 0
      for _, r in ipairs(sb:requests()) do if r.path == "/v1.0/token" then grants = grants + 1 end end
      assert.equal(2, grants)                           -- the child's (hung) and ours
      assert.equal(1, sb:control("tuya", "stats").grants) -- only ours was answered
    end)
  end)
end

describe("rate budgets and tokens of the other vendors in a shared store", function()
  local R = require "support.rooms"

  it("rooms: clients of one account share one JWT grant and the burst budget; OAuth is not counted", function()
    local sb = R.start{ burst_limit = 100 }
    finally(function() sb:stop() end)
    -- a burst budget of 3 per 10 minutes, shared through Redis
    local opts = { store = server.url, rate_limit = { burst = 3, burst_window = 600 }, deadline_ms = 2000 * support.slow }
    local a, b = R.client(sb, opts), R.client(sb, opts)
    assert(a.rooms.get{ room_id = 1001 })
    assert(b.rooms.get{ room_id = 1001 })
    assert(a.rooms.get{ room_id = 1001 })
    -- the fourth call of the account would wait 200 s for its token: past this call's deadline
    local res, err = b.rooms.get{ room_id = 1001 }
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.matches("rate limiter", err.message)
    assert.equal(3, #R.requests(sb, "/restapi/v2/accounts/" .. R.ACCOUNT .. "/rooms"))
    -- one grant for both clients, and it did not spend the budget
    assert.equal(1, #R.requests(sb, "/oauth/token"))
    local key = "dwell:rate:rooms:" .. R.ACCOUNT .. "@" .. sb.url .. "/restapi#burst"
    assert.equal(1, server:command("EXISTS", key))
  end)

  it("tuya: rate_limit is a bucket of the client id in the store", function()
    local sb = assert(sandbox.start{ routes = { "tuya" } })
    finally(function() sb:stop() end)
    local s = "file://" .. dir .. "/tuya-rate"
    local opts = { store = s, rate_limit = { capacity = 2, refill_per_second = 0.001 }, deadline_ms = 2000 * support.slow }
    local a, block = tuya_for(sb, opts)
    local b = tuya_for(sb, opts)
    -- the first call's token grant takes a token too: it is a request of the client id
    assert(call(a, block))
    local res, err = call(b, block)
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.equal(2, #sb:requests())
  end)
end)
