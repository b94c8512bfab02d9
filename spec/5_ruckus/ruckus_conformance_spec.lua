-- dwell.ruckus behaviour the vendor documents, over real HTTP against the sandbox with
-- injected answers: token reset never sent twice (docs/vendors/ruckus.md §2.1, §7), 429 backoff from 1 s or
-- Retry-After (§7), expireDateTime from a skewed server clock (§2.1), 202 answers, secrets
-- kept out of errors and hooks even when the server echoes them, and Spring paging that
-- reads pageable.pageNumber and refuses a page that does not advance (§8).
local dwell = require "dwell"
local json = require "dwell.json"
local sandbox = require "dwell.sandbox"
local transport = require "dwell.transport"

local P = "/residents/properties/{propertyId}"

local function error_resource(status, message, validation)
  return { status = status, timestamp = "2024-05-01T10:00:00.000Z", message = message,
    detailedMessage = message, validationErrors = validation or {} }
end

-- Every string reachable from `v`, concatenated (to look for a secret anywhere in it).
local function all_text(v, seen, out)
  seen, out = seen or {}, out or {}
  if type(v) == "table" then
    if seen[v] then return out end
    seen[v] = true
    for k, x in pairs(v) do all_text(k, seen, out); all_text(x, seen, out) end
  elseif v ~= nil then
    out[#out + 1] = tostring(v)
  end
  return table.concat(out, "\n")
end

describe("dwell.ruckus documented behaviour", function()
  local servers = {}

  local function start(faults, config)
    local sb = assert(sandbox.start{ routes = { { set = "ruckus", config = config or { users = 5 } } }, faults = faults })
    servers[#servers + 1] = sb
    return sb, sb:control("ruckus", "credentials")
  end
  teardown(function() for _, sb in ipairs(servers) do sb:stop() end end)

  local function client(sb, creds, extra)
    local opts = { property_id = creds.property_id, hashed_secret = creds.hashed_secret, base_url = sb.url,
      clock = transport.virtual_clock(0) }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return assert(dwell.ruckus(opts))
  end

  local function count(sb, method, suffix)
    local n = 0
    for _, r in ipairs(sb:requests()) do
      if r.method == method and r.path:sub(-#suffix) == suffix then n = n + 1 end
    end
    return n
  end

  describe("token reset", function()
    it("is not retried on a 429, where a plain unit update is", function()
      local sb, creds = start{ { match = "PUT " .. P .. "/units", kind = "status", status = 429, times = 1,
        body = error_resource("429 TOO_MANY_REQUESTS", "slow down") } }
      local portal = client(sb, creds)
      local _, err = portal.units.reset_token()
      assert.equal("rate_limited", err.kind)
      assert.equal(1, count(sb, "PUT", "/units"))
      sb:reset()
      portal = client(sb, creds)
      local unit = assert(portal.units.get())
      assert(portal.units.update{ number = unit.number, description = "after a 429" })
      assert.equal(2, count(sb, "PUT", "/units"))
    end)

    it("is not sent again after a 401; the next call logs in afresh", function()
      local sb, creds = start()
      local portal = client(sb, creds)
      assert(portal.units.get())
      sb:control("ruckus", "expire_tokens")
      local _, err = portal.units.reset_token()
      assert.equal("auth", err.kind)
      assert.equal(401, err.status)
      assert.equal(1, count(sb, "PUT", "/units"))
      assert.equal(1, count(sb, "POST", "/units/logins"))
      -- Nothing was reset: the next call logs in with the same hashed secret and works.
      assert(portal.units.get())
      assert.equal(2, count(sb, "POST", "/units/logins"))
    end)

    it("ends the session: the revoked token is never sent again", function()
      local sb, creds = start()
      local portal = client(sb, creds)
      assert(portal.units.get())
      assert(portal.units.reset_token())
      local _, err = portal.units.get() -- the hashed secret changed with the reset (sandbox)
      assert.equal("auth", err.kind)
      local reqs = sb:requests()
      local reset_at
      for i, r in ipairs(reqs) do if r.method == "PUT" then reset_at = i end end
      assert.equal("/units/logins", reqs[reset_at + 1].path:match("/units/logins$"))
      assert.equal(reset_at + 1, #reqs)
    end)
  end)

  describe("429 handling", function()
    -- The waits between attempts, read off the client's virtual clock at each request on the
    -- wire (only the waits move it): exact, whatever the machine's speed.
    local sent = {}
    local function access_times(clock)
      sent[clock] = {}
      return function(info)
        if info.url:match("/access$") then table.insert(sent[clock], clock.now()) end
      end
    end
    local function gaps(clock)
      local t, out = sent[clock], {}
      for i = 2, #t do out[i - 1] = t[i] - t[i - 1] end
      return out
    end

    it("backs off 1 s, then 2 s (plus a little jitter) without Retry-After", function()
      local sb, creds = start{ { match = "GET " .. P .. "/access", kind = "status", status = 429, times = 2,
        body = error_resource("429 TOO_MANY_REQUESTS", "Rate limit exceeded") } }
      local clock = transport.virtual_clock(0)
      local portal = client(sb, creds, { clock = clock, on_request = access_times(clock) })
      assert.is_true(assert(portal.access.get()).portalAllowed)
      local waits = gaps(clock)
      assert.equal(2, #waits)
      assert.is_true(waits[1] >= 1 and waits[1] <= 1.25, tostring(waits[1]))
      assert.is_true(waits[2] >= 2 and waits[2] <= 2.5, tostring(waits[2]))
      assert.equal(3, count(sb, "GET", "/access"))
    end)

    it("waits as long as Retry-After says, in seconds or as an HTTP date", function()
      local sb, creds = start{ { match = "GET " .. P .. "/access", kind = "status", status = 429, times = 1,
        headers = { ["Retry-After"] = "3" }, body = error_resource("429 TOO_MANY_REQUESTS", "later") } }
      local clock = transport.virtual_clock(0)
      local portal = client(sb, creds, { clock = clock, on_request = access_times(clock) })
      assert(portal.access.get())
      assert.same({ 3 }, gaps(clock))
      local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 30)
      local sb2, creds2 = start{ { match = "GET " .. P .. "/access", kind = "status", status = 429,
        headers = { ["Retry-After"] = date }, body = error_resource("429 TOO_MANY_REQUESTS", "later") } }
      local _, err = client(sb2, creds2, { retry = { attempts = 1 } }).access.get()
      assert.equal("rate_limited", err.kind)
      assert.equal("429 TOO_MANY_REQUESTS", err.code)
      assert.is_true(err.retry_after >= 27 and err.retry_after <= 31, tostring(err.retry_after))
    end)
  end)

  it("trusts a token whose expireDateTime looks past only because the server clock lags", function()
    local sb, creds = start()
    sb:control("sandbox", "clock", { offset = -7200 }) -- tokens live 1 h: "expired" an hour ago
    local portal = client(sb, creds, { clock = nil })
    for _ = 1, 3 do assert(portal.units.get()) end
    assert.equal(1, count(sb, "POST", "/units/logins"))
  end)

  it("returns the body of a 202 (accepted, applied later)", function()
    local sb, creds = start{
      { match = "PUT " .. P .. "/units/users/{userId}", kind = "status", status = 202, handled = true,
        body = { personaUpdateId = "persona-1", dpskUpdateId = "dpsk-1" } },
      { match = "PUT " .. P .. "/units", kind = "status", status = 202, handled = true,
        headers = { ["Content-Type"] = "application/hal+json" }, body = { guid = "u-1", number = "101" } } }
    local portal = client(sb, creds)
    local user = assert(portal.units.users.query{}).content[1]
    assert.same({ personaUpdateId = "persona-1", dpskUpdateId = "dpsk-1" },
      assert(portal.units.users.update{ user_id = user.userId, user_name = "Later" }))
    assert.equal("101", assert(portal.units.update{ number = "101", description = "later" }).number)
  end)

  it("asks again with Accept: */* when the combined Accept is refused (406)", function()
    local sb, creds = start{ { match = "GET " .. P .. "/units", kind = "status", status = 406, times = 1,
      body = error_resource("406 NOT_ACCEPTABLE", "Could not find acceptable representation") } }
    assert.is_string(assert(client(sb, creds).units.get()).guid)
    local accepts = {}
    for _, r in ipairs(sb:requests()) do
      if r.path:match("/units$") then accepts[#accepts + 1] = r.headers.accept end
    end
    assert.same({ "application/json, application/hal+json, application/vnd.ruckus.v1+json", "*/*" }, accepts)
  end)

  it("maps a 500 whose body is not an ErrorResource", function()
    local sb, creds = start{ { match = "GET " .. P .. "/uiConfigurations", kind = "non_json", status = 500 } }
    local _, err = client(sb, creds).ui_configurations.get()
    assert.equal("api", err.kind)
    assert.equal(500, err.status)
    assert.is_true(err.retryable)
    assert.matches("not an ErrorResource", err.message)
  end)

  describe("secrets", function()
    it("are masked when the server echoes them in an ErrorResource", function()
      local pass, secret = "Hunter2-Passphrase", "Unit-Owner-Secret-77"
      local sb, creds = start{
        { match = "PUT " .. P .. "/units/users/{userId}", kind = "status", status = 400,
          body = error_resource("400 BAD_REQUEST", "passphrase '" .. pass .. "' is weak", { "passphrase: " .. pass }) },
        { match = "PUT " .. P .. "/units", kind = "status", status = 400,
          body = error_resource("400 BAD_REQUEST", "secret " .. secret .. " rejected") } }
      local infos = {}
      local portal = client(sb, creds, { on_request = function(i) infos[#infos + 1] = i end,
        on_response = function(i) infos[#infos + 1] = i end })
      local user = assert(portal.units.users.query{}).content[1]
      local _, err = portal.units.users.update{ user_id = user.userId, passphrase = pass }
      assert.equal(400, err.status)
      assert.matches("[redacted]", err.message, 1, true)
      assert.same({ "passphrase: [redacted]" }, err.details.validation_errors)
      local _, err2 = portal.units.update{ number = "101", secret = secret }
      for _, text in ipairs({ tostring(err), all_text(err), tostring(err2), all_text(err2), all_text(infos) }) do
        assert.is_nil(text:find(pass, 1, true))
        assert.is_nil(text:find(secret, 1, true))
        assert.is_nil(text:find(creds.hashed_secret, 1, true))
      end
    end)

    it("mask the hashed secret and the token", function()
      local sb, creds = start()
      local bad = "Wrong-Hashed-Secret-123"
      local sb2 = start{ { match = "POST " .. P .. "/units/logins", kind = "status", status = 401,
        body = error_resource("401 UNAUTHORIZED", "no unit for " .. bad) } }
      local _, err = client(sb2, creds, { hashed_secret = bad }).units.get()
      assert.equal("auth", err.kind)
      assert.is_nil(all_text(err):find(bad, 1, true))
      assert.is_nil(tostring(err):find(bad, 1, true))
      local token = assert(client(sb, creds).units.logins.create{}).token
      local sb3 = start{ { match = "GET " .. P .. "/units", kind = "status", status = 400,
        body = error_resource("400 BAD_REQUEST", "token " .. token .. " malformed") } }
      local portal = assert(dwell.ruckus{ property_id = creds.property_id, token = token, base_url = sb3.url })
      _, err = portal.units.get()
      assert.equal(400, err.status)
      assert.is_nil(all_text(err):find(token, 1, true))
      assert.is_nil(tostring(portal):find(token, 1, true))
    end)
  end)

  describe("Spring paging", function()
    local function page(fields)
      local p = { content = { { userId = "2c4a230c-5085-4924-a3e1-25fb4fc5965b", userName = "A" } },
        last = false, first = false, empty = false, size = 1, numberOfElements = 1, totalElements = 2 }
      for k, v in pairs(fields) do p[k] = v end
      return p
    end

    it("reads the page number from pageable.pageNumber when `number` is absent", function()
      local sb, creds = start{
        { match = "POST " .. P .. "/units/users/query", kind = "status", status = 200, times = 1,
          body = page{ totalPages = 2, pageable = { pageNumber = 1, pageSize = 1 } } },
        { match = "POST " .. P .. "/units/users/query", kind = "status", status = 200, times = 1,
          body = page{ totalPages = 2, pageable = { pageNumber = 2, pageSize = 1 },
          content = { { userId = "5d0b7e21-9a3c-4f61-8b2e-0c7d9e4f1a36", userName = "B" } } } } }
      local all = assert(client(sb, creds).units.users.query:all{ page_size = 1 })
      assert.equal(2, #all)
      local pages = {}
      for _, r in ipairs(sb:requests()) do
        if r.path:match("/query$") then pages[#pages + 1] = json.decode(r.body).page end
      end
      assert.same({ 0, 2 }, pages) -- counted from 1, detected on the first answer
    end)

    it("stops with an error when the server keeps answering the same page", function()
      -- At most 10 repeats, so that a client without the guard ends (wrongly) instead of hanging.
      local sb, creds = start{ { match = "POST " .. P .. "/units/users/query", kind = "status", status = 200,
        times = 10, body = page{ number = 0, totalPages = 5 } } }
      local res, err = client(sb, creds).units.users.query:all{}
      assert.is_nil(res)
      assert.equal("decode", err.kind)
      assert.matches("did not advance", err.message)
      assert.equal(2, count(sb, "POST", "/units/users/query"))
    end)
  end)
end)
