-- DocuSign Rooms authentication over real HTTP against the sandbox: the JWT
-- assertion, token caching and renewal, single flight, consent_required,
-- invalid_grant, 401 re-mint, the refresh-token flow and userinfo.
local core = require "dwell.core"
local dwell = require "dwell"
local jwt = require "dwell.rooms.jwt"
local url = require "dwell.url"
local S = require("support.rooms")

describe("rooms auth", function()
  local sb
  before_each(function() sb = S.start() end)
  after_each(function() sb:close() end)

  it("sends an RS256 JWT assertion that verifies with the public key", function()
    local clock = S.clock(sb)
    local rooms = S.client(sb, { clock = clock, jwt = { iat_skew = 120 } })
    local before = clock.now()
    assert.truthy(rooms.rooms.users.list{ room_id = 1002 })
    local after = clock.now() -- the clock is wall time: a slow run (valgrind) may cross a second
    local reqs = S.requests(sb, "/oauth/token", "POST")
    assert.equal(1, #reqs)
    local r = reqs[1]
    assert.matches("application/x-www-form-urlencoded", r.headers["content-type"], 1, true)
    local form = url.parse_query(r.body)
    assert.equal("urn:ietf:params:oauth:grant-type:jwt-bearer", form.grant_type)
    local a = assert(jwt.parse(form.assertion))
    assert.same({ alg = "RS256", typ = "JWT" }, a.header)
    assert.is_true(core.rs256_verify(S.keys().public, a.input, a.signature))
    assert.is_false(core.rs256_verify(S.keys().public, a.input .. "x", a.signature))
    local c = a.claims
    assert.equal(S.IK, c.iss)
    assert.equal(S.USER, c.sub)
    assert.equal(sb.url:gsub("^http://", ""), c.aud) -- bare host, no scheme
    assert.equal("signature impersonation dtr.rooms.read dtr.rooms.write", c.scope)
    assert.is_true(c.iat >= before - 120 and c.iat <= after - 120, "iat " .. c.iat)
    assert.equal(c.iat + 3600, c.exp)
    -- The API call carried the minted token.
    local api = S.requests(sb, "/restapi/")[1]
    assert.matches("^Bearer %x+$", api.headers.authorization)
  end)

  it("caches the token and renews it ahead of expires_in", function()
    sb:close()
    sb = S.start{ expires_in = 600 }
    local clock = S.clock(sb)
    local rooms = S.client(sb, { clock = clock, jwt = { renew_before = 120 } })
    for _ = 1, 3 do assert.truthy(rooms.account.get()) end
    assert.equal(1, #S.requests(sb, "/oauth/token"))
    clock.sleep(470) -- still 10 s before the renewal point (600 - 120)
    assert.truthy(rooms.account.get())
    assert.equal(1, #S.requests(sb, "/oauth/token"))
    clock.sleep(20)  -- inside the last 120 s: renewed before the API would refuse it
    assert.truthy(rooms.account.get())
    assert.equal(2, #S.requests(sb, "/oauth/token"))
    assert.equal(5, #S.requests(sb, "/restapi/", "GET")) -- every API call went through
  end)

  it("renews once under concurrency (single flight)", function()
    local rooms = S.client(sb)
    local calls = {}
    for i = 1, 8 do calls[i] = { rooms.rooms.get, { room_id = 1001 + (i % 3) } } end
    local results, errs = dwell.parallel(calls, { concurrency = 8 })
    for i = 1, 8 do
      assert.is_nil(errs[i])
      assert.equal(1001 + (i % 3), results[i].roomId)
    end
    assert.equal(1, #S.requests(sb, "/oauth/token"))
  end)

  it("re-mints once when the API rejects the token (401)", function()
    local rooms = S.client(sb)
    assert.truthy(rooms.account.get())
    sb:control("rooms", "expire_tokens")
    local acct = assert(rooms.account.get())
    assert.equal(S.ACCOUNT, acct.docuSignAccountGuid)
    assert.equal(2, #S.requests(sb, "/oauth/token"))
  end)

  it("reports consent_required with a ready-made consent URL", function()
    sb:control("rooms", "require_consent", { on = true })
    local rooms = S.client(sb, { jwt = { redirect_uri = "https://app.example.com/callback" } })
    local v, err = rooms.rooms.list()
    assert.is_nil(v)
    assert.equal("auth", err.kind)
    assert.equal("consent_required", err.code)
    local expected = sb.url .. "/oauth/auth?response_type=code"
      .. "&scope=signature%20impersonation%20dtr.rooms.read%20dtr.rooms.write"
      .. "&client_id=" .. S.IK .. "&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback"
    assert.equal(expected, err.consent_url)
    assert.truthy(tostring(err):find(expected, 1, true))
    assert.equal(expected, rooms:consent_url())
    assert.equal(0, #S.requests(sb, "/restapi/")) -- no API call without a token
  end)

  it("reports invalid_grant with its reason and never leaks the key", function()
    local rooms = S.client(sb, { jwt = { private_key = S.keys().other_private } })
    local v, err = rooms.users.list()
    assert.is_nil(v)
    assert.equal("auth", err.kind)
    assert.equal("invalid_grant", err.code)
    assert.equal("no_valid_keys_or_signatures", err.reason)
    local line = tostring(err)
    assert.truthy(line:find("no_valid_keys_or_signatures", 1, true))
    assert.falsy(line:find("PRIVATE KEY", 1, true))
    local wrong_ik = S.client(sb, { jwt = { integration_key = "99999999-2222-4333-8444-555555555555" } })
    v, err = wrong_ik.users.list()
    assert.is_nil(v)
    assert.equal("issuer_not_found", err.reason)
    local wrong_user = S.client(sb, { jwt = { user_id = "00000000-0000-4000-8000-000000000000" } })
    v, err = wrong_user.users.list()
    assert.is_nil(v)
    assert.equal("user_not_found", err.code)
  end)

  it("refuses a JWT whose iat is in the future, and back-dating fixes it", function()
    local clock = S.clock(sb)
    clock.offset = 90 -- our clock runs 90 s ahead of the server's
    local ahead = S.client(sb, { clock = clock, jwt = { iat_skew = 0 } })
    local v, err = ahead.account.get()
    assert.is_nil(v)
    assert.equal("invalid_grant", err.code)
    local skewed = S.client(sb, { clock = clock, jwt = { iat_skew = 300 } })
    assert.truthy(skewed.account.get())
  end)

  it("uses the refresh-token flow for authorization-code users", function()
    local rooms = S.client(sb, { jwt = false,
      auth_code = { integration_key = S.IK, secret = S.SECRET, refresh_token = S.REFRESH } })
    assert.truthy(rooms.rooms.get{ room_id = 1001 })
    local r = S.requests(sb, "/oauth/token")[1]
    assert.equal("Basic " .. core.base64_encode(S.IK .. ":" .. S.SECRET), r.headers.authorization)
    local form = url.parse_query(r.body)
    assert.equal("refresh_token", form.grant_type)
    assert.equal(S.REFRESH, form.refresh_token)
    local bad = S.client(sb, { jwt = false,
      auth_code = { integration_key = S.IK, secret = "bad-secret-7f3a", refresh_token = S.REFRESH } })
    local v, err = bad.rooms.get{ room_id = 1001 }
    assert.is_nil(v)
    assert.equal("auth", err.kind)
    assert.falsy(tostring(err):find("bad-secret-7f3a", 1, true))
  end)

  it("works with a fixed access token and fails cleanly when it is rejected", function()
    local good = S.client(sb)
    local token = assert(good:access_token())
    local fixed = S.client(sb, { jwt = false, access_token = token })
    assert.truthy(fixed.rooms.get{ room_id = 1001 })
    sb:control("rooms", "expire_tokens")
    local v, err = fixed.rooms.get{ room_id = 1001 }
    assert.is_nil(v)
    assert.equal("auth", err.kind)
    assert.equal(401, err.status)
    assert.equal("AUTHORIZATION_INVALID_TOKEN", err.code)
    assert.falsy(tostring(err):find(token, 1, true))
    assert.falsy(tostring(fixed):find(token, 1, true))
  end)

  it("reads userinfo for the account list", function()
    local rooms = S.client(sb)
    local info = assert(rooms:userinfo())
    assert.equal(S.USER, info.sub)
    assert.equal(S.ACCOUNT, info.accounts[1].account_id)
    assert.is_true(info.accounts[1].is_default)
  end)

  it("sends the token form exactly as documented", function()
    local rooms = S.client(sb)
    assert.truthy(rooms.account.get())
    local r = S.requests(sb, "/oauth/token", "POST")[1]
    assert.equal("application/x-www-form-urlencoded", r.headers["content-type"])
    assert.equal("application/json", r.headers.accept)
    assert.matches("^grant_type=urn:ietf:params:oauth:grant%-type:jwt%-bearer&assertion=[%w_%-]+%.[%w_%-]+%.[%w_%-]+$",
      r.body)
    assert.is_nil(r.headers.authorization) -- the JWT grant carries no client authentication
  end)

  it("accepts the demo OAuth host as aud and omits sub for an application token", function()
    local rooms = S.client(sb, { jwt = { aud = "account-d.docusign.com", user_id = false } })
    assert.truthy(rooms.account.get())
    local form = url.parse_query(S.requests(sb, "/oauth/token")[1].body)
    local c = assert(jwt.parse(form.assertion)).claims
    assert.equal("account-d.docusign.com", c.aud)
    assert.is_nil(c.sub)
    local wrong = S.client(sb, { jwt = { aud = "https://account-d.docusign.com" } })
    local v, err = wrong.account.get()
    assert.is_nil(v)
    assert.equal("invalid_grant", err.code)
  end)

  it("asks for impersonation consent even when the scopes leave it out, with optional state", function()
    local rooms = S.client(sb, { jwt = { scopes = "signature dtr.rooms.read" } })
    local u = rooms:consent_url{ state = "xyz 1" }
    assert.equal(sb.url .. "/oauth/auth?response_type=code&scope=signature%20dtr.rooms.read%20impersonation"
      .. "&client_id=" .. S.IK .. "&redirect_uri=" .. url.encode(require("dwell.rooms.auth").DEFAULT_REDIRECT)
      .. "&state=xyz%201", u)
    -- PKCE (RFC 7636 appendix B's example verifier and challenge).
    local pkce = rooms:consent_url{ code_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" }
    assert.truthy(pkce:find("&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
      1, true), pkce)
    -- The JWT itself asks for exactly the configured scopes.
    assert.truthy(rooms.account.get())
    local form = url.parse_query(S.requests(sb, "/oauth/token")[1].body)
    assert.equal("signature dtr.rooms.read", assert(jwt.parse(form.assertion)).claims.scope)
  end)

  it("exchanges an authorization code (Basic client auth) and refreshes with the new refresh token", function()
    sb:close()
    sb = S.start{ auth_code = "one-time-code-42", expires_in = 600 }
    local clock = S.clock(sb)
    local seen = {}
    local rooms = S.client(sb, { jwt = false, clock = clock, auth_code = { integration_key = S.IK, secret = S.SECRET,
      code = "one-time-code-42", redirect_uri = "https://app.example.com/cb",
      on_refresh_token = function(t) seen[#seen + 1] = t end } })
    assert.truthy(rooms.account.get())
    local r = S.requests(sb, "/oauth/token")[1]
    assert.equal("Basic " .. core.base64_encode(S.IK .. ":" .. S.SECRET), r.headers.authorization)
    assert.equal("application/x-www-form-urlencoded", r.headers["content-type"])
    local form = url.parse_query(r.body)
    assert.same({ grant_type = "authorization_code", code = "one-time-code-42",
      redirect_uri = "https://app.example.com/cb" }, form)
    assert.same({ S.REFRESH }, seen)
    clock.sleep(590) -- past the renewal point: the refresh token is used, not the spent code
    assert.truthy(rooms.account.get())
    local reqs = S.requests(sb, "/oauth/token")
    assert.equal(2, #reqs)
    assert.same({ grant_type = "refresh_token", refresh_token = S.REFRESH }, url.parse_query(reqs[2].body))
    assert.equal("Basic " .. core.base64_encode(S.IK .. ":" .. S.SECRET), reqs[2].headers.authorization)
  end)

  it("clients sharing a store share a rotating refresh token: each refresh uses the newest", function()
    sb:close()
    sb = S.start{ rotate_refresh_tokens = true }
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -m 700 " .. dir))
    local seen = {}
    local function worker()
      return S.client(sb, { jwt = false, store = "file://" .. dir,
        auth_code = { integration_key = S.IK, secret = S.SECRET, refresh_token = S.REFRESH,
          on_refresh_token = function(t) seen[#seen + 1] = t end } })
    end
    local a, b = worker(), worker()
    assert.truthy(a.rooms.get{ room_id = 1001 }) -- spends S.REFRESH, the store gets the next one
    assert.truthy(b.rooms.get{ room_id = 1001 }) -- a's token, from the store: no refresh
    sb:control("rooms", "expire_tokens")
    assert.truthy(b.rooms.get{ room_id = 1001 }) -- refused, renewed with the refresh token a got
    sb:control("rooms", "expire_tokens")
    assert.truthy(a.rooms.get{ room_id = 1001 }) -- and a with the one b got
    local used = {}
    for i, r in ipairs(S.requests(sb, "/oauth/token")) do used[i] = url.parse_query(r.body).refresh_token end
    assert.equal(3, #used)
    assert.equal(S.REFRESH, used[1])
    assert.equal(seen[1], used[2], "b refreshed with the token a's refresh answered")
    assert.equal(seen[2], used[3], "a refreshed with the token b's refresh answered")
    assert.are_not.equal(used[2], used[3])
    -- a client without the store still holds the spent token: the server refuses it
    local alone = S.client(sb, { jwt = false,
      auth_code = { integration_key = S.IK, secret = S.SECRET, refresh_token = S.REFRESH } })
    local v, err = alone.rooms.get{ room_id = 1001 }
    assert.is_nil(v)
    assert.equal("auth", err.kind)
    assert.equal("invalid_grant", err.code)
    os.execute("rm -rf " .. dir)
  end)

  it("caches userinfo, renews a rejected token for it, and picks the default account", function()
    local rooms = S.client(sb)
    local info = assert(rooms:userinfo())
    assert.equal(info, assert(rooms:userinfo()))
    assert.equal(1, #S.requests(sb, "/oauth/userinfo"))
    local r = S.requests(sb, "/oauth/userinfo")[1]
    assert.equal("GET", r.method)
    assert.matches("^Bearer %x+$", r.headers.authorization)
    assert.equal("application/json", r.headers.accept)
    sb:control("rooms", "expire_tokens")
    info = assert(rooms:userinfo{ refresh = true })
    assert.equal(S.USER, info.sub)
    assert.equal(3, #S.requests(sb, "/oauth/userinfo")) -- 401, then again with a new token
    assert.equal(2, #S.requests(sb, "/oauth/token"))
    local acct = assert(rooms:userinfo_account())
    assert.equal(S.ACCOUNT, acct.account_id)
    assert.equal(S.ACCOUNT, assert(rooms:userinfo_account(S.ACCOUNT)).account_id)
    local v, err = rooms:userinfo_account("00000000-0000-0000-0000-000000000000")
    assert.is_nil(v)
    assert.equal("not_found", err.kind)
  end)

  it("rejects bad configuration before any I/O", function()
    local v, err = dwell.rooms{ account_id = S.ACCOUNT, env = "moon", access_token = "x" }
    assert.is_nil(v)
    assert.equal("invalid_argument", err.kind)
    v, err = dwell.rooms{ account_id = S.ACCOUNT, env = "demo" }
    assert.is_nil(v)
    assert.equal("invalid_argument", err.kind)
    local c = assert(dwell.rooms{ account_id = S.ACCOUNT, env = "demo", access_token = "tok-secret" })
    assert.falsy(tostring(c):find("tok-secret", 1, true))
    assert.truthy(tostring(c):find("demo.rooms.docusign.com", 1, true))
    local p = assert(c.rooms.users.list:prepare{ room_id = 7, count = 10 })
    assert.equal("https://demo.rooms.docusign.com/restapi/v2/accounts/" .. S.ACCOUNT .. "/rooms/7/users?count=10",
      p.url)
    local prod = assert(dwell.rooms{ account_id = S.ACCOUNT, env = "prod", jwt = { integration_key = S.IK,
      private_key = S.keys().private } })
    assert.equal("https://account.docusign.com/oauth/auth", prod:consent_url():match("^[^?]+"))
    -- A key that cannot sign is a configuration error now, not an auth error on the first call.
    v, err = dwell.rooms{ account_id = S.ACCOUNT, env = "prod", jwt = { integration_key = S.IK, private_key = "x" } }
    assert.is_nil(v)
    assert.equal("invalid_argument", err.kind)
    assert.equal("jwt.private_key", err.param)
  end)
end)
