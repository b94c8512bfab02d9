-- Servers that echo what they were sent: the secrets of the call (client secret, access and
-- refresh tokens, signature, bearer token, OAuth client secret, passphrases) never reach the
-- dwell.error a user logs, its url, or tostring. Over real HTTP against the sandbox, whose
-- faults answer with the echoing bodies.
local dwell = require "dwell"
local errors = require "dwell.error"
local json = require "dwell.json"
local sandbox = require "dwell.sandbox"

local ROOMS_ACCOUNT = "6a1c2d3e-0000-4000-8000-00000000d0c5"

-- Every string an error carries, flattened, with its tostring.
local function all_text(err)
  local parts = { tostring(err) }
  local function walk(v)
    if type(v) == "table" then for _, x in pairs(v) do walk(x) end
    elseif type(v) == "string" then parts[#parts + 1] = v end
  end
  walk(err)
  return table.concat(parts, "\n")
end

local function assert_clean(err, secrets)
  assert.is_true(errors.is(err), "not a dwell.error: " .. tostring(err))
  local text = all_text(err)
  for _, s in ipairs(secrets) do
    assert.is_nil(text:find(s, 1, true), "error repeats a secret: " .. text)
  end
end

describe("secrets echoed by a server", function()
  local sb
  after_each(function() if sb then sb:stop(); sb = nil end end)

  it("tuya: the gateway's msg repeating the token and the client secret is masked", function()
    local token = "AT-known-access-token-0123456789"
    -- The credentials are fixed by the seed: a first server tells them, the second echoes them.
    sb = assert(sandbox.start{ routes = { "tuya" } })
    local creds = sb:control("tuya", "credentials")
    sb:stop()
    sb = assert(sandbox.start{ routes = { "tuya" }, faults = {
      { match = "GET /v1.0/iot-02/community/room-users", kind = "status", status = 200,
        body = '{"success":false,"code":1106,"t":1,"msg":"permission denied: ' .. token .. ' ' .. creds.secret .. '"}' } } })
    assert.same(creds, sb:control("tuya", "credentials"))
    local slot = { token = token, refresh_token = "RT-known-refresh-0123456789",
      expires_at = os.time() + 3600, refresh_at = os.time() + 3000, gen = 1 }
    local store = { get = function() return slot end, set = function(_, _, t) slot = t end }
    local tuya = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url,
      token_store = store, retry = { attempts = 1 } })
    local res, err = tuya.community.room_users{ block_id = "1", page_no = 1, page_size = 20 }
    assert.is_nil(res)
    assert.equal("forbidden", err.kind)
    assert.matches("permission denied", err.message)
    assert_clean(err, { token, creds.secret })
  end)

  it("tuya: a refresh that fails keeps the refresh token out of the error, its url and its message", function()
    local rt = "RT-secret-refresh-token-abcdef"
    sb = assert(sandbox.start{ routes = { "tuya" }, faults = {
      { match = "GET /v1.0/token/{rt}", kind = "reset", times = 1 },
      { match = "GET /v1.0/token/{rt}", kind = "status", status = 200,
        body = '{"success":false,"code":1004,"t":1,"msg":"refresh token ' .. rt .. ' is invalid"}' } } })
    local creds = sb:control("tuya", "credentials")
    local tuya = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url,
      retry = { attempts = 1 } })
    local res, err = tuya.token.refresh{ refresh_token = rt }
    assert.is_nil(res)
    assert.equal("transport", err.kind)
    assert.equal("token.refresh", err.endpoint)
    assert.is_string(err.url)
    assert_clean(err, { rt })
    res, err = tuya.token.refresh{ refresh_token = rt }
    assert.is_nil(res)
    assert.equal("auth", err.kind)
    assert_clean(err, { rt })
  end)

  it("rooms: an API error repeating the bearer token is masked", function()
    local token = "dwellsbx-rooms-developer-token"
    sb = assert(sandbox.start{ routes = { "rooms" }, faults = {
      { match = "GET /restapi/v2/accounts/{a}/rooms/{r}/users", kind = "status", status = 400,
        body = { errorCode = "INVALID_REQUEST", message = "bad header: Bearer " .. token } } } })
    local rooms = assert(dwell.rooms{ account_id = ROOMS_ACCOUNT, base_url = sb.url .. "/restapi",
      auth_base_url = sb.url, access_token = token, retry = { attempts = 1 } })
    local res, err = rooms.rooms.users.list{ room_id = 1 }
    assert.is_nil(res)
    assert.equal("rejected", err.kind)
    assert.matches("bad header", err.message)
    assert_clean(err, { token })
  end)

  it("rooms: an OAuth error repeating the refresh token and client secret is masked", function()
    local rt, secret = "RT-rooms-refresh-0123456789", "rooms-client-secret-0123"
    sb = assert(sandbox.start{ routes = { "rooms" }, faults = {
      { match = "POST /oauth/token", kind = "status", status = 400,
        body = { error = "invalid_grant", error_description = "refresh_token=" .. rt .. "&secret=" .. secret } } } })
    local rooms = assert(dwell.rooms{ account_id = ROOMS_ACCOUNT, base_url = sb.url .. "/restapi",
      auth_base_url = sb.url, auth_code = { integration_key = "ik", secret = secret, refresh_token = rt },
      retry = { attempts = 1 } })
    local res, err = rooms.rooms.users.list{ room_id = 1 }
    assert.is_nil(res)
    assert.equal("auth", err.kind)
    assert.matches("invalid_grant", err.message)
    assert_clean(err, { rt, secret })
  end)

  it("ruckus: a validation error repeating the passphrase is masked", function()
    local pass = "My-Secret-Passphrase-42"
    sb = assert(sandbox.start{ routes = { "ruckus" }, faults = {
      { match = "PUT /residents/properties/{p}/units/users/{u}", kind = "status", status = 400,
        body = json.encode{ status = "400 BAD_REQUEST", message = "invalid passphrase " .. pass,
          validationErrors = { "passphrase '" .. pass .. "' too weak" } } } } })
    local creds = sb:control("ruckus", "credentials")
    local portal = assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
      base_url = sb.url, retry = { attempts = 1 }, rate_limit = false })
    local res, err = portal.units.users.update{ user_id = "2c4a230c-5085-4924-a3e1-25fb4fc5965b", passphrase = pass }
    assert.is_nil(res)
    assert.equal(400, err.status)
    assert_clean(err, { pass, creds.hashed_secret })
  end)
end)
