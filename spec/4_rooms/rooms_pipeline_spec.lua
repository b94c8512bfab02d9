-- dwell.rooms on dwell.pipeline, against a hostile server on 127.0.0.1 (spec/support/hostile.lua),
-- counting what reached the wire: one attempt budget and one deadline for rate-limit waits and
-- resends, one renewal after a 401, the token endpoint and userinfo through the pipeline, writes
-- never sent twice once they may have taken effect, secrets masked wherever a server echoes them,
-- and a constructor that refuses what could not travel.
local dwell = require "dwell"
local hostile = require "support.hostile"
local realtime = require("dwell.core").http.realtime
local S = require("support.rooms")

local ACCOUNT = "acct-5f2e"
local API = "/restapi/v2/accounts/" .. ACCOUNT
local ROOM = API .. "/rooms/1001"
local TOKEN = "static-token-7c4a9e1b"
local MINTED = { status = 200, body = { access_token = "minted-token-3b8d1f", token_type = "Bearer", expires_in = 3600 } }

-- A virtual clock: sleeps are recorded and move time on; nothing waits.
local function clock()
  local c = { offset = 0, slept = {} }
  function c.now() return realtime() + c.offset end
  function c.sleep(s) c.slept[#c.slept + 1] = s; c.offset = c.offset + s end
  function c.total()
    local t = 0
    for _, s in ipairs(c.slept) do t = t + s end
    return t
  end
  return c
end

local function config(h, opts)
  local cfg = { account_id = ACCOUNT, base_url = h.url .. "/restapi", auth_base_url = h.url }
  for k, v in pairs(opts or {}) do cfg[k] = v end
  if not (cfg.jwt or cfg.auth_code) then cfg.access_token = cfg.access_token or TOKEN end
  return cfg
end

local function client(h, opts) return assert(dwell.rooms(config(h, opts))) end

local function jwt() return { integration_key = S.IK, user_id = S.USER, private_key = S.keys().private } end

local function hourly(status, extra)
  local e = { status = status, headers = { ["X-RateLimit-Limit"] = "1000", ["X-RateLimit-Remaining"] = "0",
      ["X-RateLimit-Reset"] = tostring(os.time() + 3600) },
    body = { errorCode = "HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
      message = "The maximum number of hourly API invocations has been exceeded. The hourly limit is 1000." } }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function invite(c)
  return c.rooms.users.invite{ room_id = 1001, email = "a@example.com", first_name = "A", last_name = "B", role_id = 4 }
end

describe("rooms on the pipeline, against a hostile server", function()
  local h
  setup(function() h = hostile.start{} end)
  teardown(function() h:stop() end)
  before_each(function() h:reset() end)

  describe("rate limits: one budget, one deadline", function()
    it("two GETs at the hourly limit: one request, no sleep, rate_limited with the time to the reset", function()
      h:script("GET", ROOM, { hourly(400) })
      local c = clock()
      local rooms = client(h, { clock = c })
      for _ = 1, 2 do
        local v, err = rooms.rooms.get{ room_id = 1001 }
        assert.is_nil(v)
        assert.equal("rate_limited", err.kind)
        assert.truthy(err.retry_after > 3500 and err.retry_after <= 3602, tostring(err.retry_after))
      end
      -- The first answer said the hour is spent: the second call does not even ask.
      assert.equal(1, h:count("GET", ROOM))
      assert.same({}, c.slept)
    end)

    it("a 429 at the hourly limit is the same", function()
      h:script("GET", ROOM, { hourly(429) })
      local c = clock()
      local v, err = client(h, { clock = c }).rooms.get{ room_id = 1001 }
      assert.is_nil(v)
      assert.equal("rate_limited", err.kind)
      assert.equal(429, err.status)
      assert.equal(1, h:count("GET", ROOM))
      assert.same({}, c.slept)
    end)

    for _, after in ipairs{ 30, 3000 } do
      it("deadline_ms = 5000 and Retry-After: " .. after .. " returns rate_limited at once", function()
        h:script("GET", ROOM, { { status = 429, retry_after = after, body = { errorCode = "TOO_MANY_REQUESTS" } } })
        local c = clock()
        local v, err = client(h, { clock = c, deadline_ms = 5000 }).rooms.get{ room_id = 1001 }
        assert.is_nil(v)
        assert.equal("rate_limited", err.kind)
        assert.equal(after, err.retry_after)
        assert.equal(1, h:count("GET", ROOM))
        assert.same({}, c.slept)
      end)
    end

    it("a wait that fits the deadline is waited, at most retry.attempts requests in all", function()
      h:script("GET", ROOM, { hourly(400, { retry_after = 2 }) })
      local c = clock()
      local v, err = client(h, { clock = c, deadline_ms = 5000, retry = { attempts = 3 } }).rooms.get{ room_id = 1001 }
      assert.is_nil(v)
      assert.equal("rate_limited", err.kind)
      assert.equal(3, h:count("GET", ROOM))
      assert.same({ 2, 2 }, c.slept)
    end)

    for _, after in ipairs{ "nan", "Sun, 06 Nov 1994 08:49:37 GMT" } do
      it("an unusable Retry-After (" .. after .. ") still keeps to the budget and the deadline", function()
        h:script("GET", ROOM, { { status = 429, retry_after = after } })
        local c = clock()
        local v, err = client(h, { clock = c, deadline_ms = 5000 }).rooms.get{ room_id = 1001 }
        assert.is_nil(v)
        assert.equal("rate_limited", err.kind)
        assert.equal(3, h:count("GET", ROOM)) -- retry.attempts, backing off in between
        assert.truthy(c.total() < 5, tostring(c.total()))
        -- A budget larger than the deadline allows: the deadline ends it.
        h:reset()
        h:script("GET", ROOM, { { status = 429, retry_after = after } })
        c = clock()
        v, err = client(h, { clock = c, deadline_ms = 1000, retry = { attempts = 50, base_ms = 300 } })
          .rooms.get{ room_id = 1001 }
        assert.is_nil(v)
        assert.equal("rate_limited", err.kind)
        assert.truthy(c.total() < 1, tostring(c.total()))
        assert.truthy(h:count("GET", ROOM) < 50)
      end)
    end

    it("a burst error waits one burst window when the deadline allows it", function()
      h:script("GET", ROOM, { { status = 400, body = { errorCode = "BURST_APIINVOCATION_LIMIT_EXCEEDED" } },
        { status = 200, body = { roomId = 1001 } } })
      local c = clock()
      local room = assert(client(h, { clock = c }).rooms.get{ room_id = 1001 })
      assert.equal(1001, room.roomId)
      assert.same({ 30 }, c.slept)
      assert.equal(2, h:count("GET", ROOM))
    end)
  end)

  describe("tokens", function()
    it("renews once after a 401 with a JWT credential", function()
      h:script("POST", "/oauth/token", { MINTED })
      h:script("GET", ROOM, { { status = 401, body = { errorCode = "AUTHORIZATION_INVALID_TOKEN" } },
        { status = 200, body = { roomId = 1001 } } })
      assert.truthy(client(h, { jwt = jwt() }).rooms.get{ room_id = 1001 })
      assert.equal(2, h:count("POST", "/oauth/token"))
      assert.equal(2, h:count("GET", ROOM))
      -- and only once
      h:reset()
      h:script("POST", "/oauth/token", { MINTED })
      h:script("GET", ROOM, { { status = 401, body = { errorCode = "AUTHORIZATION_INVALID_TOKEN" } } })
      local v, err = client(h, { jwt = jwt() }).rooms.get{ room_id = 1001 }
      assert.is_nil(v)
      assert.equal("auth", err.kind)
      assert.equal(401, err.status)
      assert.equal(2, h:count("POST", "/oauth/token"))
      assert.equal(2, h:count("GET", ROOM))
    end)

    it("does not resend with a static access_token", function()
      h:script("GET", ROOM, { { status = 401, body = { errorCode = "AUTHORIZATION_INVALID_TOKEN" } } })
      local v, err = client(h).rooms.get{ room_id = 1001 }
      assert.is_nil(v)
      assert.equal("auth", err.kind)
      assert.equal(1, h:count("GET", ROOM))
    end)

    it("turns a token error whose error or error_description is a table into an auth error", function()
      for _, body in ipairs{ { error = "invalid_grant", error_description = { nested = "x" } },
                             { error = { nested = "x" } }, { error_description = { 1, 2 } } } do
        h:reset()
        h:script("POST", "/oauth/token", { { status = 400, body = body } })
        local ok, v, err = pcall(function() return client(h, { jwt = jwt() }).rooms.get{ room_id = 1001 } end)
        assert.is_true(ok, tostring(v))
        assert.is_nil(v)
        assert.equal("auth", err.kind)
        assert.equal("oauth.token", err.endpoint)
        assert.equal(1, h:count("POST", "/oauth/token"))
        assert.equal(0, h:count("GET", ROOM))
      end
    end)

    it("turns a token with CR/LF into an auth error, never a raise or a header", function()
      h:script("POST", "/oauth/token", { { status = 200, body = { access_token = "abc\r\nX-Evil: 1", expires_in = 3600 } } })
      local ok, v, err = pcall(function() return client(h, { jwt = jwt() }).rooms.get{ room_id = 1001 } end)
      assert.is_true(ok, tostring(v))
      assert.is_nil(v)
      assert.equal("auth", err.kind)
      assert.equal(0, h:count("GET", ROOM))
    end)

    it("sends a JWT grant again after a 503, but never an auth-code grant", function()
      h:script("POST", "/oauth/token", { { status = 503 } })
      local v, err = client(h, { jwt = jwt() }).rooms.get{ room_id = 1001 }
      assert.is_nil(v)
      assert.equal("http", err.kind)
      assert.equal(3, h:count("POST", "/oauth/token")) -- a second assertion just mints another token
      for _, answer in ipairs{ { status = 503 }, { close = true } } do
        h:reset()
        h:script("POST", "/oauth/token", { answer })
        v, err = client(h, { auth_code = { integration_key = S.IK, secret = "code-secret-4e1a",
          refresh_token = "refresh-token-9d2c" } }).rooms.get{ room_id = 1001 }
        assert.is_nil(v)
        assert.truthy(err.kind == "http" or err.kind == "transport", err.kind)
        assert.equal(1, h:count("POST", "/oauth/token")) -- the refresh token may be spent
      end
    end)

    it("bounds the token request by the calling request's deadline", function()
      h:script("POST", "/oauth/token", { { status = 429, retry_after = 30 } })
      local c = clock()
      local v, err = client(h, { jwt = jwt(), clock = c, deadline_ms = 5000 }).rooms.get{ room_id = 1001 }
      assert.is_nil(v)
      assert.equal("rate_limited", err.kind)
      assert.equal(30, err.retry_after)
      assert.equal(1, h:count("POST", "/oauth/token"))
      assert.same({}, c.slept)
    end)

    it("reads userinfo through the pipeline on the OAuth host, renewing a rejected token once", function()
      h:script("POST", "/oauth/token", { MINTED })
      h:script("GET", "/oauth/userinfo", { { status = 401 }, { status = 200, body = { sub = "u-1", accounts = {} } } })
      local info = assert(client(h, { jwt = jwt() }):userinfo())
      assert.equal("u-1", info.sub)
      assert.equal(2, h:count("GET", "/oauth/userinfo"))
      assert.equal(2, h:count("POST", "/oauth/token"))
      for _, r in ipairs(h:requests()) do
        if r.path == "/oauth/userinfo" then assert.matches("^Bearer ", r.headers.authorization) end
      end
    end)
  end)

  describe("writes", function()
    local WRITES = {
      { "POST", ROOM .. "/users", invite },
      { "PUT", API .. "/users/5", function(c) return c.users.update{ user_id = 5, default_office_id = 1 } end },
      { "DELETE", ROOM, function(c) return c.rooms.delete{ room_id = 1001 } end },
    }
    for _, w in ipairs(WRITES) do
      for _, answer in ipairs{ { close = true }, { status = 502 }, { status = 503 }, { status = 504 } } do
        local what = answer.close and "a dropped connection" or ("HTTP " .. answer.status)
        it("sends a " .. w[1] .. " once after " .. what, function()
          h:script(w[1], w[2], { answer })
          local v, err = w[3](client(h, { retry = { attempts = 5 } }))
          assert.is_nil(v)
          assert.truthy(err.kind == "transport" or err.kind == "http", err.kind)
          assert.is_false(err.retryable) -- it may have taken effect: the caller decides
          assert.equal(1, h:count(w[1], w[2]))
        end)
      end
    end

    it("sends a GET again after 502/503/504, up to retry.attempts", function()
      for _, status in ipairs{ 502, 503, 504 } do
        h:reset()
        h:script("GET", ROOM, { { status = status } })
        local v, err = client(h, { retry = { attempts = 3 } }).rooms.get{ room_id = 1001 }
        assert.is_nil(v)
        assert.equal("http", err.kind)
        assert.equal(3, h:count("GET", ROOM))
      end
    end)

    it("sends a GET again after a dropped connection, up to retry.attempts", function()
      -- A server of its own: no pooled connection that libcurl would itself resend on.
      local fresh <close> = hostile.start{}
      fresh:script("GET", ROOM, { { close = true } })
      local v, err = client(fresh, { retry = { attempts = 3 } }).rooms.get{ room_id = 1001 }
      assert.is_nil(v)
      assert.equal("transport", err.kind)
      assert.equal(3, fresh:count("GET", ROOM))
    end)
  end)

  describe("secrets", function()
    it("masks an echoed static token in err.headers, message and request_id", function()
      h:script("GET", ROOM, { { echo = "rooms", status = 400 } })
      local v, err = client(h).rooms.get{ room_id = 1001 }
      assert.is_nil(v)
      assert.equal("rejected", err.kind)
      assert.truthy(err.message:find("authorization: Bearer [redacted]", 1, true), err.message)
      assert.equal("Bearer [redacted]", err.headers["x-request-id"] or err.headers["X-Request-Id"])
      local www = err.headers["www-authenticate"] or err.headers["WWW-Authenticate"]
      assert.truthy(www and not www:find(TOKEN, 1, true), www)
      assert.equal("Bearer [redacted]", err.request_id)
      assert.falsy(tostring(err):find(TOKEN, 1, true))
    end)

    -- Everything an error holds, as one text.
    local function all_text(err)
      local out = { tostring(err) }
      local function walk(v, depth)
        if depth > 4 then return end
        if type(v) == "table" then
          for k, x in pairs(v) do out[#out + 1] = tostring(k); walk(x, depth + 1) end
        elseif v ~= nil then
          out[#out + 1] = tostring(v)
        end
      end
      walk(err, 0)
      return table.concat(out, "\n")
    end

    it("masks a minted token echoed by the API", function()
      h:script("POST", "/oauth/token", { MINTED })
      h:script("GET", ROOM, { { echo = "rooms", status = 400 } })
      local v, err = client(h, { jwt = jwt() }).rooms.get{ room_id = 1001 }
      assert.is_nil(v)
      assert.truthy(err.message:find("Bearer [redacted]", 1, true), err.message)
      assert.falsy(all_text(err):find("minted-token-3b8d1f", 1, true))
    end)

    it("masks the assertion, its signature, the Basic credential and the refresh token echoed by the token endpoint", function()
      -- The token endpoint repeating the whole request in its error_description and reference_id.
      local function echo(req)
        return 400, {}, { error = "invalid_grant", reference_id = req.headers.authorization or req.body,
          error_description = req.body .. " " .. (req.headers.authorization or "") }
      end
      h:script("POST", "/oauth/token", { { fn = echo } })
      local v, err = client(h, { jwt = jwt() }).rooms.get{ room_id = 1001 }
      assert.is_nil(v)
      assert.equal("invalid_grant", err.code)
      local assertion = h:requests()[1].body:match("assertion=([^&]+)")
      assert.is_string(assertion)
      local text = all_text(err)
      assert.truthy(text:find("assertion=[redacted]", 1, true), text)
      assert.falsy(text:find(assertion, 1, true))
      assert.falsy(text:find(assertion:match("[^.]+$"), 1, true))
      h:reset()
      h:script("POST", "/oauth/token", { { fn = echo } })
      v, err = client(h, { auth_code = { integration_key = S.IK, secret = "code-secret-4e1a",
        refresh_token = "refresh-token-9d2c" } }).rooms.get{ room_id = 1001 }
      assert.is_nil(v)
      local basic = h:requests()[1].headers.authorization:match("^Basic (.+)$")
      assert.is_string(basic)
      text = all_text(err)
      assert.truthy(text:find("refresh_token=[redacted]", 1, true), text)
      for _, secret in ipairs{ "refresh-token-9d2c", "code-secret-4e1a", basic } do
        assert.falsy(text:find(secret, 1, true), secret)
      end
    end)

    it("never shows a password of base_url in tostring(client)", function()
      local c = client(h, { base_url = "https://ops:pa55-w0rd@rooms.example.com/restapi" })
      assert.falsy(tostring(c):find("pa55-w0rd", 1, true))
      assert.truthy(tostring(c):find("rooms.example.com/restapi", 1, true))
    end)
  end)

  describe("the constructor", function()
    local OPTIONS = {
      { "account_id" }, { "env" }, { "base_url" }, { "auth_base_url" }, { "access_token" },
      { "jwt", "integration_key" }, { "jwt", "user_id" }, { "jwt", "passphrase" }, { "jwt", "scopes" },
      { "jwt", "aud" }, { "jwt", "redirect_uri" },
      { "auth_code", "integration_key" }, { "auth_code", "secret" }, { "auth_code", "refresh_token" },
      { "auth_code", "redirect_uri" }, { "auth_code", "code_verifier" },
    }
    for _, o in ipairs(OPTIONS) do
      local name = table.concat(o, ".")
      for _, ctl in ipairs{ { "CR", "\r" }, { "LF", "\n" }, { "NUL", "\0" } } do
        local bad = ctl[2]
        it("refuses " .. ctl[1] .. " in " .. name, function()
          local cfg
          if o[1] == "auth_code" then
            cfg = config(h, { auth_code = { integration_key = S.IK, secret = "s3cret", refresh_token = "rt-1" } })
          else
            cfg = config(h, { jwt = jwt() })
          end
          if o[2] then cfg[o[1]][o[2]] = "x" .. bad .. "y" else cfg[o[1]] = "x" .. bad .. "y" end
          if o[1] == "access_token" then cfg.jwt = nil end
          local ok, c, err = pcall(dwell.rooms, cfg)
          assert.is_true(ok, tostring(c))
          assert.is_nil(c)
          assert.equal("invalid_argument", err.kind)
          assert.equal(name, err.param)
          assert.equal(0, #h:requests())
        end)
      end
    end

    it("accepts a multi-line PEM key and refuses one that cannot sign, naming jwt.private_key", function()
      assert.truthy(dwell.rooms(config(h, { jwt = jwt() })))
      for _, key in ipairs{ "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                            S.keys().private:sub(1, 200) } do
        local j = jwt()
        j.private_key = key
        local c, err = dwell.rooms(config(h, { jwt = j }))
        assert.is_nil(c)
        assert.equal("invalid_argument", err.kind)
        assert.equal("jwt.private_key", err.param)
        assert.falsy(tostring(err):find(key, 1, true))
      end
      assert.equal(0, #h:requests())
    end)
  end)
end)
