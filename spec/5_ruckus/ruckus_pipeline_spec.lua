-- dwell.ruckus on the shared request pipeline (docs/internals.md, "Pipeline"), over real HTTP against a hostile
-- server (spec/support/hostile.lua) that scripts every answer and counts what reached the wire:
-- one retry loop (the pipeline's, 1 s, 2 s, 4 s, ...), a login fetched by dwell.credential
-- within the caller's deadline, secrets masked wherever a server echoes them, and a
-- constructor that refuses control characters. Backoffs run on a virtual clock: the waits
-- are read off it, not measured.
local dwell = require "dwell"
local errors = require "dwell.error"
local hostile = require "support.hostile"
local transport = require "dwell.transport"

local PID = "2c4a230c-5085-4924-a3e1-25fb4fc5965b"
local P = "/residents/properties/" .. PID
local UNITS, LOGINS, QUERY = P .. "/units", P .. "/units/logins", P .. "/units/users/query"
local SECRET = "Hashed-Unit-Secret-0123456789"
local ACCEPT = "application/json, application/hal+json, application/vnd.ruckus.v1+json"

-- Every string an error carries, flattened, with its tostring.
local function all_text(err)
  local parts = { tostring(err) }
  local function walk(v, depth)
    if type(v) == "table" and depth < 8 then for k, x in pairs(v) do walk(k, depth + 1); walk(x, depth + 1) end
    elseif type(v) == "string" then parts[#parts + 1] = v end
  end
  walk(err, 0)
  return table.concat(parts, "\n")
end

local function assert_clean(err, secrets)
  assert.is_true(errors.is(err), "not a dwell.error: " .. tostring(err))
  local text = all_text(err)
  for _, s in ipairs(secrets) do assert.is_nil(text:find(s, 1, true), "error repeats " .. s .. ": " .. text) end
end

local function error_resource(status, message)
  return { status = status, timestamp = "2024-05-01T10:00:00.000Z", message = message, detailedMessage = message,
    validationErrors = {} }
end

local function answer(status, extra)
  local e = { status = status, body = error_resource(status .. " ERROR", "scripted " .. status) }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local UNIT = { status = 200, headers = { ["Content-Type"] = "application/hal+json" }, body = { guid = "u-1", number = "101" } }

describe("dwell.ruckus on the pipeline", function()
  local h

  setup(function() h = hostile.start{} end)
  teardown(function() h:stop() end)
  before_each(function() h:reset() end)

  -- A PortalTokenResource carrying `token`, valid for `ttl` seconds (default an hour).
  local function login_answer(token, ttl)
    return { status = 200, headers = { ["Content-Type"] = "application/hal+json" }, body = { unitGuid = "unit-1",
      token = token, serverVersion = "0.0.1", expireDateTime = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + (ttl or 3600)) } }
  end

  -- A login answer per token given, in order (the last one repeats).
  local function logins(...)
    local list = {}
    for i, token in ipairs{ ... } do list[i] = login_answer(token) end
    h:script("POST", LOGINS, list)
  end

  -- A client on a virtual clock (false in `extra` drops an option), and gaps(path): the waits
  -- between the requests to `path`, read off that clock when each left.
  local function client(extra)
    local clock = transport.virtual_clock(0)
    local sent = {}
    local opts = { property_id = PID, hashed_secret = SECRET, base_url = h.url, clock = clock,
      on_request = function(info) sent[#sent + 1] = { path = info.url:match("^https?://[^/]+([^?]*)"), at = clock.now() } end }
    for k, v in pairs(extra or {}) do opts[k] = v or nil end
    local portal = assert(dwell.ruckus(opts))
    local function gaps(path)
      local out, last = {}, nil
      for _, s in ipairs(sent) do
        if s.path == path then
          if last then out[#out + 1] = s.at - last end
          last = s.at
        end
      end
      return out
    end
    return portal, gaps
  end

  local function headers_of(method, path, name)
    local out = {}
    for _, r in ipairs(h:requests()) do
      if r.method == method and r.path == path then out[#out + 1] = r.headers[name] end
    end
    return out
  end

  describe("one retry loop", function()
    it("resends a read after 503, 502 and 504, backing off 1 s, 2 s, 4 s plus a little", function()
      logins("tok-aaaa-1")
      h:script("GET", UNITS, { answer(503), answer(502), answer(504), UNIT })
      local portal, gaps = client()
      assert.equal("u-1", assert(portal.units.get()).guid)
      assert.equal(4, h:count("GET", UNITS))
      assert.equal(1, h:count("POST", LOGINS))
      local g = gaps(UNITS)
      for i, step in ipairs{ 1, 2, 4 } do
        assert.is_true(g[i] >= step and g[i] <= step * 1.25, ("wait %d was %.3f s"):format(i, g[i]))
      end
    end)

    it("gives up after the policy's 5 attempts, or the caller's own", function()
      logins("tok-aaaa-1")
      h:script("GET", UNITS, { answer(503) })
      local _, err = client().units.get()
      assert.equal(5, h:count("GET", UNITS))
      assert.same({ "api", 503, true }, { err.kind, err.status, err.retryable })
      assert.equal(5, err.attempts)
      h:reset()
      logins("tok-aaaa-1")
      h:script("GET", UNITS, { answer(503) })
      _, err = client{ retry = { attempts = 2 } }.units.get()
      assert.equal(2, h:count("GET", UNITS))
      assert.equal(2, err.attempts)
    end)

    it("sends a write that may have taken effect once: a 503 on units.update", function()
      logins("tok-aaaa-1")
      h:script("PUT", UNITS, { answer(503), UNIT })
      local _, err = client().units.update{ number = "101", description = "x" }
      assert.equal(1, h:count("PUT", UNITS))
      assert.equal(503, err.status)
    end)

    it("resends a write the declarations mark idempotent (the users query) after a 503", function()
      logins("tok-aaaa-1")
      h:script("POST", QUERY, { answer(503), { status = 200, body = { content = {}, number = 0, totalPages = 0 } } })
      assert(client().units.users.query{})
      assert.equal(2, h:count("POST", QUERY))
    end)

    it("resends any write after a 429 (not processed), as late as Retry-After says", function()
      logins("tok-aaaa-1")
      h:script("PUT", UNITS, { answer(429, { retry_after = 7 }), UNIT })
      local portal, gaps = client()
      assert(portal.units.update{ number = "101", description = "x" })
      assert.equal(2, h:count("PUT", UNITS))
      assert.same({ 7 }, gaps(UNITS))
    end)

    it("resends a read whose connection dropped, never a write", function()
      logins("tok-aaaa-1")
      h:script("GET", UNITS, { { close = true }, UNIT })
      h:script("PUT", UNITS, { { close = true }, UNIT })
      local portal = client()
      assert(portal.units.get())
      assert.equal(2, h:count("GET", UNITS))
      local _, err = portal.units.update{ number = "101" }
      assert.equal(1, h:count("PUT", UNITS))
      assert.is_true(err.kind == "transport" or err.kind == "timeout", tostring(err))
    end)

    it("logs in again once after a 401, and only once", function()
      logins("tok-aaaa-1", "tok-bbbb-2", "tok-cccc-3")
      h:script("GET", UNITS, { answer(401), UNIT })
      local portal = client()
      assert(portal.units.get())
      assert.same({ "tok-aaaa-1", "tok-bbbb-2" }, headers_of("GET", UNITS, "authorization"))
      assert.equal(2, h:count("POST", LOGINS))
      h:reset()
      logins("tok-dddd-4", "tok-eeee-5", "tok-ffff-6")
      h:script("GET", UNITS, { answer(401) })
      local _, err = client().units.get()
      assert.same({ "auth", 401 }, { err.kind, err.status })
      assert.equal(2, h:count("GET", UNITS))
      assert.equal(2, h:count("POST", LOGINS))
    end)

    it("asks once more with Accept: */* after a 406, for that call only", function()
      logins("tok-aaaa-1")
      h:script("GET", UNITS, { answer(406), UNIT, UNIT, answer(406), answer(406) })
      local portal = client()
      assert(portal.units.get())
      assert(portal.units.get()) -- the next call asks with the combined Accept again
      local _, err = portal.units.get() -- refused twice: no third request
      assert.equal(406, err.status)
      assert.same({ ACCEPT, "*/*", ACCEPT, ACCEPT, "*/*" }, headers_of("GET", UNITS, "accept"))
    end)

    for _, case in ipairs{ { "429", answer(429) }, { "503", answer(503) }, { "401", answer(401) },
                           { "406", answer(406) }, { "dropped connection", { close = true } } } do
      it("never sends the token reset twice: " .. case[1], function()
        logins("tok-aaaa-1", "tok-bbbb-2")
        h:script("PUT", UNITS, { case[2], UNIT })
        local portal = client()
        local res, err = portal.units.reset_token()
        assert.is_nil(res)
        assert.is_true(errors.is(err))
        assert.equal(1, h:count("PUT", UNITS))
        assert.equal(1, h:count("POST", LOGINS))
      end)
    end

    it("logs in afresh on the call after a token reset (the token is taken to be revoked)", function()
      logins("tok-aaaa-1", "tok-bbbb-2")
      h:script("PUT", UNITS, { UNIT })
      h:script("GET", UNITS, { UNIT })
      local portal = client()
      assert(portal.units.reset_token())
      assert(portal.units.get())
      assert.equal(2, h:count("POST", LOGINS))
      assert.same({ "tok-bbbb-2" }, headers_of("GET", UNITS, "authorization"))
    end)
  end)

  describe("the login", function()
    it("is sent again after a 503 (a login is idempotent), then serves the call", function()
      h:script("POST", LOGINS, { answer(503), login_answer("tok-aaaa-1") })
      h:script("GET", UNITS, { UNIT })
      assert(client().units.get())
      assert.equal(2, h:count("POST", LOGINS))
      assert.same({ "tok-aaaa-1" }, headers_of("GET", UNITS, "authorization"))
      assert.same({}, headers_of("POST", LOGINS, "authorization")) -- auth = "none": no token
    end)

    it("runs within the calling request's deadline", function()
      -- The real clock: the transport's timeout is what ends the slow login.
      local late = login_answer("tok-late-1")
      late.delay_ms = 1500
      h:script("POST", LOGINS, { late })
      h:script("GET", UNITS, { UNIT })
      local portal = assert(dwell.ruckus{ property_id = PID, hashed_secret = SECRET, base_url = h.url })
      local _, err = portal.units.get({}, { deadline_ms = 300 })
      assert.equal("timeout", err.kind)
      assert.equal("units.logins.create", err.endpoint)
      assert.equal(1, h:count("POST", LOGINS))
      assert.equal(0, h:count("GET", UNITS))
    end)

    it("renews ahead of expireDateTime (wall clock), counted on the client's clock", function()
      h:script("POST", LOGINS, { login_answer("tok-aaaa-1", 300), login_answer("tok-bbbb-2", 300) })
      h:script("GET", UNITS, { UNIT })
      local clock = transport.virtual_clock(1e6)
      local portal = client{ clock = clock }
      assert(portal.units.get())
      clock.advance(200) -- within the 300 s, more than 60 s before the end: the same token
      assert(portal.units.get())
      assert.equal(1, h:count("POST", LOGINS))
      clock.advance(50)
      assert(portal.units.get())
      assert.equal(2, h:count("POST", LOGINS))
    end)

    it("is never tried with a static token: a refused one is an auth error", function()
      h:script("GET", UNITS, { answer(401) })
      local portal = client{ hashed_secret = false, token = "static-token-1" }
      local _, err = portal.units.get()
      assert.same({ "auth", 401 }, { err.kind, err.status })
      assert.equal(1, h:count("GET", UNITS))
      assert.equal(0, h:count("POST", LOGINS))
      assert_clean(err, { "static-token-1" })
    end)

    it("answering a token with CR/LF is an auth error, not a raise", function()
      logins("tok-bad\r\nX-Injected: 1")
      h:script("GET", UNITS, { UNIT })
      local ok, res, err = pcall(client().units.get)
      assert.is_true(ok, tostring(res))
      assert.is_nil(res)
      assert.equal("auth", err.kind)
      assert.equal(0, h:count("GET", UNITS))
    end)
  end)

  describe("secrets echoed by the server", function()
    for _, scheme in ipairs{ "raw", "bearer" } do
      it("never reach the error, its request_id or details (" .. scheme .. " token)", function()
        local token = "tok-secret-echoed-0001"
        logins(token)
        h:script("GET", UNITS, { { echo = "ruckus", status = 400 } })
        local _, err = client{ auth_scheme = scheme }.units.get()
        assert.equal("rejected", err.kind)
        assert.equal(400, err.status)
        assert.matches("[redacted]", err.request_id, 1, true)
        assert.matches("[redacted]", err.details.timestamp, 1, true)
        assert_clean(err, { token, SECRET })
      end)
    end

    it("never reach a failed login's error (the hashed secret in the echoed body)", function()
      h:script("POST", LOGINS, { { echo = "ruckus", status = 401 } })
      local _, err = client().units.get()
      assert.equal("auth", err.kind)
      assert_clean(err, { SECRET })
    end)

    it("never reach an update's error (the passphrase in the echoed body)", function()
      local pass = "Pass-Phrase-Secret-42"
      local token = "tok-secret-echoed-0002"
      logins(token)
      local user = "6d1b6a3e-8f0c-4c59-9a38-2f1e7c5d4b10"
      h:script("PUT", P .. "/units/users/" .. user, { { echo = "ruckus", status = 400 } })
      local _, err = client().units.users.update{ user_id = user, passphrase = pass }
      assert.equal(1, h:count("PUT", P .. "/units/users/" .. user))
      assert_clean(err, { pass, token, SECRET })
    end)

    it("a base URL's password never shows in tostring(client)", function()
      local portal = assert(dwell.ruckus{ property_id = PID, token = "t0ken", base_url = "https://unit:pa55word-x@example.test" })
      assert.is_nil(tostring(portal):find("pa55word-x", 1, true))
    end)
  end)

  describe("construction", function()
    local VALID = { property_id = PID, token = "t0ken-value", hashed_secret = SECRET, base_url = "https://example.test",
      region = "eu", auth_scheme = "raw", proxy = "http://proxy.test:3128", ca_file = "/etc/ca.pem", ca_path = "/etc/ca" }
    for name in pairs(VALID) do
      for c, char in pairs{ CR = "\r", LF = "\n", NUL = "\0" } do
        it(("refuses %s in %s with nil, err naming it"):format(c, name), function()
          local cfg = {}
          for k, v in pairs(VALID) do cfg[k] = v end
          if name == "region" then cfg.base_url = nil end
          cfg[name] = VALID[name] .. char .. "X-Injected: 1"
          local ok, portal, err = pcall(dwell.ruckus, cfg)
          assert.is_true(ok, tostring(portal))
          assert.is_nil(portal)
          assert.equal("invalid_argument", err.kind)
          assert.equal(name, err.param)
          assert_clean(err, { "t0ken-value", SECRET })
        end)
      end
    end
  end)
end)
