-- Proxy rules of every client (README, "Proxies"): the standard environment variables are
-- honoured as curl does, except for loopback addresses; `proxy = "<url>"` is used for every
-- host; `proxy = false` turns proxies off. libcurl reads http_proxy per transfer and Lua cannot
-- set it in this process, so each case runs a Tuya client in a child lua5.4 with http_proxy
-- pointing at a second server that records what reaches it.
local hostile = require "support.hostile"
local support = require "support.shell"
local transport = require "dwell.transport"

local C = "/v1.0/iot-02/community"

describe("proxies", function()
  local target, proxy

  before_each(function()
    target = hostile.start{}
    target:script("GET", "/v1.0/token", { { status = 200, body = { success = true, t = 1,
      result = { access_token = "AT-proxy-spec-0123", expire_time = 7200 } } } })
    target:script("GET", C .. "/room-users", { { status = 200, body = { success = true, t = 1, result = { data = {} } } } })
    proxy = hostile.start{}
  end)
  after_each(function()
    target:stop()
    proxy:stop()
  end)

  -- Runs one room_users call in a child with http_proxy set; `opts` is Lua source for extra
  -- client options. Returns what the child printed.
  local function call_in_child(opts)
    local child = ([[
local tuya = assert(require("dwell").tuya{ client_id = "cid", secret = "secret-0123456789", base_url = %q,
  retry = { attempts = 1 }, %s })
local r, err = tuya.community.room_users{ block_id = "1", page_no = 1, page_size = 20 }
io.write(r and "ok" or err.kind)]]):format(target.url, opts or "")
    local out, rc = support.shell(("env -u no_proxy -u NO_PROXY -u all_proxy -u ALL_PROXY http_proxy=%s %s 2>&1")
      :format(support.quote(proxy.url), support.lua_cmd("-e " .. support.quote(child))))
    assert.are.equal(0, rc, out)
    return out
  end

  it("never sends a loopback call through http_proxy from the environment", function()
    assert.equal("ok", call_in_child())
    assert.equal(1, target:count("GET", C .. "/room-users"))
    assert.equal(0, #proxy:requests())
  end)

  it("sends every call through a proxy given explicitly, loopback included", function()
    local out = call_in_child(("proxy = %q"):format(proxy.url))
    assert.are_not.equal("ok", out) -- the recording server is no real proxy
    assert.equal(0, target:count("GET", "/v1.0/token"))
    assert.is_true(#proxy:requests() >= 1)
  end)

  it("goes direct with proxy = false, whatever the environment says", function()
    assert.equal("ok", call_in_child("proxy = false"))
    assert.equal(0, #proxy:requests())
  end)

  it("turns each rule into the C core's fields", function()
    local env = { no_proxy = "corp.example" }
    local function getenv(k) return env[k] end
    assert.same({ proxy = "" }, transport.proxy_fields(false, getenv))
    assert.same({ proxy = "http://p:3128" }, transport.proxy_fields("http://p:3128", getenv))
    assert.same({ noproxy = "localhost,127.0.0.0/8,::1,corp.example" }, transport.proxy_fields(nil, getenv))
    env = {}
    assert.same({ noproxy = "localhost,127.0.0.0/8,::1" }, transport.proxy_fields(nil, getenv))
  end)

  it("refuses a proxy option that is neither a string nor false, before any I/O", function()
    local c, err = require("dwell").tuya{ client_id = "cid", secret = "s-0123456789", base_url = target.url, proxy = true }
    assert.is_nil(c)
    assert.equal("proxy", err.param)
  end)
end)
