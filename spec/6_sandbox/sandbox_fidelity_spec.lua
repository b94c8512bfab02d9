-- Sandbox fidelity to the vendors: Tuya refuses a request without sign_method,
-- accepts the legacy signing scheme only when configured for it, and signs the decoded path
-- (as the official connectors do; dwell.tuya too); RUCKUS answers an Accept it cannot
-- produce with 406. Requests are signed here independently of dwell.tuya, from docs/vendors/tuya.md §3.
local core = require "dwell.core"
local json = require "dwell.json"
local http = core.http
local sandbox = require "dwell.sandbox"
local dwell = require "dwell"

local EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
local C = "/v1.0/iot-02/community"

local function enc(s) return (tostring(s):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end)) end

describe("sandbox fidelity", function()
  local session
  setup(function() session = assert(http.new_session()) end)

  describe("tuya", function()
    local sb, creds

    local function start(config)
      sb = assert(sandbox.start{ routes = { { set = "tuya", config = config or {} } } })
      creds = assert(sb:control("tuya", "credentials"))
    end
    after_each(function() if sb then sb:close() end end)

    -- r = { path (decoded, as signed), wire_path (default: path), query = {k = v}, access_token,
    --       scheme = "hmac" | "legacy", sign_path (what to sign instead), sign_method (false: none) }
    local function call(r)
      local keys, signed, wire = {}, {}, {}
      for k in pairs(r.query or {}) do keys[#keys + 1] = k end
      table.sort(keys)
      for i, k in ipairs(keys) do
        signed[i] = k .. "=" .. r.query[k]
        wire[i] = enc(k) .. "=" .. enc(r.query[k])
      end
      local token_api = r.path:find("^/v1%.0/token") ~= nil
      local t = ("%d"):format(math.floor(http.realtime() * 1000))
      local access = token_api and "" or (r.access_token or "")
      local str
      if r.scheme == "legacy" then
        str = creds.client_id .. access .. t
      else
        local url = (r.sign_path or r.path) .. (#signed > 0 and ("?" .. table.concat(signed, "&")) or "")
        str = creds.client_id .. access .. t .. (r.method or "GET") .. "\n" .. EMPTY .. "\n\n" .. url
      end
      local headers = { client_id = creds.client_id, t = t, sign = core.hmac_sha256_hex(creds.secret, str, true) }
      if r.sign_method ~= false then headers.sign_method = r.sign_method or "HMAC-SHA256" end
      if not token_api then headers.access_token = access end
      local resp = assert(session:request{ method = r.method or "GET", headers = headers, timeout_ms = 10000,
        url = sb.url .. (r.wire_path or r.path) .. (#wire > 0 and ("?" .. table.concat(wire, "&")) or "") })
      assert.equal(200, resp.status)
      return json.decode(resp.body)
    end

    local function token(scheme)
      local env = call{ path = "/v1.0/token", query = { grant_type = "1" }, scheme = scheme }
      assert.is_true(env.success, env.msg)
      return env.result.access_token
    end

    it("refuses a request without sign_method (or with another method) as the gateway does: 1004", function()
      start()
      local env = call{ path = "/v1.0/token", query = { grant_type = "1" }, sign_method = false }
      assert.is_false(env.success)
      assert.equal(1004, env.code)
      env = call{ path = "/v1.0/token", query = { grant_type = "1" }, sign_method = "MD5" }
      assert.equal(1004, env.code)
      local tok = token()
      local block = sb:control("tuya", "summary").blocks[1].block_id
      env = call{ path = C .. "/room-users", query = { block_id = block }, access_token = tok, sign_method = false }
      assert.equal(1004, env.code)
      env = call{ path = C .. "/room-users", query = { block_id = block, page_no = "1", page_size = "5" },
                  access_token = tok }
      assert.is_true(env.success, env.msg)
      assert.is_true(sb:control("tuya", "stats").sign_invalid >= 3)
    end)

    it("accepts the legacy scheme only when configured for it", function()
      start()
      assert.equal(1004, call{ path = "/v1.0/token", query = { grant_type = "1" }, scheme = "legacy" }.code)
      sb:close()
      start{ sign_scheme = "legacy" }
      local tok = token("legacy")
      local summary = sb:control("tuya", "summary")
      local env = call{ path = C .. "/room-users", access_token = tok, scheme = "legacy",
                        query = { block_id = summary.blocks[1].block_id, page_no = "1", page_size = "5" } }
      assert.is_true(env.success, env.msg)
      -- A legacy project here is strict: the current scheme is refused, so a client left on it is caught.
      assert.equal(1004, call{ path = "/v1.0/token", query = { grant_type = "1" } }.code)
      sb:close()
      start{ sign_scheme = "either" }
      token("legacy")
      token("hmac")
    end)

    it("is reached by dwell.tuya with sign_scheme = \"legacy\"", function()
      start{ sign_scheme = "legacy" }
      local block = sb:control("tuya", "summary").blocks[1].block_id
      local tuya = assert(dwell.tuya{ base_url = sb.url, client_id = creds.client_id, secret = creds.secret,
                                      sign_scheme = "legacy" })
      local page, err = tuya.community.room_users{ block_id = block, page_no = 1, page_size = 5 }
      assert.is_nil(err)
      assert.is_table(page)
      local plain = assert(dwell.tuya{ base_url = sb.url, client_id = creds.client_id, secret = creds.secret })
      local _, perr = plain.community.room_users{ block_id = block, page_no = 1, page_size = 5 }
      assert.is_table(perr)
      assert.equal(1004, perr.code)
    end)

    it("verifies the decoded path, as the official connectors sign it", function()
      start()
      local tok = token()
      local block = sb:control("tuya", "summary").blocks[1].block_id
      local id = "ru 7/ü"
      local decoded = C .. "/room-user/" .. block .. "/" .. id
      local wire = C .. "/room-user/" .. block .. "/" .. enc(id)
      -- Signed decoded: the signature passes and the business answer follows (no such room user).
      local env = call{ method = "DELETE", path = decoded, wire_path = wire, access_token = tok }
      assert.is_false(env.success)
      assert.not_equal(1004, env.code)
      -- Signed over the encoded path: refused.
      env = call{ method = "DELETE", path = decoded, wire_path = wire, sign_path = wire, access_token = tok }
      assert.equal(1004, env.code)
    end)

    it("agrees with dwell.tuya, which signs the decoded path too", function()
      start()
      local block = sb:control("tuya", "summary").blocks[1].block_id
      local tuya = assert(dwell.tuya{ base_url = sb.url, client_id = creds.client_id, secret = creds.secret })
      local id = "ru 7/ü"
      local req = assert(tuya.community.room_user.delete:prepare({ block_id = block, room_user_id = id },
        { access_token = "tok", t = "1588925778000", nonce = "n1" }))
      local signed = C .. "/room-user/" .. block .. "/" .. id
      assert.truthy(req.url:find(enc(id), 1, true), req.url) -- the wire carries it encoded
      local str = creds.client_id .. "tok" .. "1588925778000" .. "n1" .. "DELETE\n" .. EMPTY .. "\n\n" .. signed
      assert.equal(core.hmac_sha256_hex(creds.secret, str, true), req.headers.sign)
      -- And over the wire the sandbox admits it: the answer is about the room user, not the signature.
      local ok, err = tuya.community.room_user.delete{ block_id = block, room_user_id = id }
      assert.is_nil(ok)
      assert.is_table(err)
      assert.not_equal(1004, err.code)
      assert.equal(0, sb:control("tuya", "stats").sign_invalid)
    end)
  end)

  it("emulations check what clients send with their own code, not the client's modules", function()
    -- A fresh interpreter sets up every vendor route set and lists the dwell modules it loaded.
    local support = require "support.shell"
    local script = [[
      local core = require "dwell.core"
      local r = require("dwell.sandbox.router").new({ sets = { { name = "tuya" }, { name = "rooms" },
        { name = "ruckus" } } }, core.http.realtime)
      assert(r.control("tuya", "credentials"))
      local names = {}
      for name in pairs(package.loaded) do
        if name:match("^dwell") then names[#names + 1] = name end
      end
      table.sort(names)
      print(table.concat(names, " "))
    ]]
    local out, rc = support.shell(support.lua_cmd("-e " .. support.quote(script)) .. " 2>&1")
    assert.equal(0, rc, out)
    for name in out:gmatch("%S+") do
      assert.truthy(name:match("^dwell%.sandbox") or name == "dwell.core" or name == "dwell.json",
        "an emulation loaded the client's " .. name)
    end
    assert.truthy(out:find("dwell.sandbox.support", 1, true), out)
  end)

  describe("ruckus", function()
    local sb, creds, base
    setup(function()
      sb = assert(sandbox.start{ routes = { "ruckus" } })
      creds = sb:control("ruckus", "credentials")
      base = sb.url .. "/residents/properties/" .. creds.property_id
    end)
    teardown(function() sb:close() end)

    local function get(path, headers)
      return assert(session:request{ method = "GET", url = base .. path, headers = headers, timeout_ms = 10000 })
    end

    it("answers 406 Not Acceptable to Accept: text/xml (and to any type it cannot produce)", function()
      local resp = get("/access", { Accept = "text/xml" })
      assert.equal(406, resp.status)
      assert.equal("", resp.body)
      assert.equal(406, get("/access", { Accept = "application/xml, text/html;q=0.9" }).status)
      assert.equal(406, get("/styles", { Accept = "application/json" }).status)   -- styles are text/css
      assert.equal(406, get("/files/favicons", { Accept = "text/css" }).status)   -- favicons are image/png
      assert.equal(406, get("/access", { Accept = "application/json;q=0" }).status)
      assert.equal(5, sb:control("ruckus", "stats").not_acceptable)
    end)

    it("serves what an Accept admits, by type, wildcard or none", function()
      assert.equal(200, get("/access", { Accept = "application/json" }).status)
      assert.equal(200, get("/access", { Accept = "text/xml, */*;q=0.1" }).status)
      assert.equal(200, get("/access", { Accept = "application/*" }).status)
      assert.equal(200, get("/access", {}).status)
      assert.equal(200, get("/styles", { Accept = "text/css, application/json" }).status)
      assert.equal(200, get("/files/favicons", { Accept = "image/*" }).status)
    end)
  end)
end)
