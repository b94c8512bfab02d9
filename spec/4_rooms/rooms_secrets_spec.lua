-- No secret of the Rooms client (private key, JWT assertion, access and refresh
-- tokens, client secret, Authorization values) shows up in anything a user can
-- see: error fields and tostring, client and endpoint tostring, transport hooks.
local S = require("support.rooms")
local dwell = require "dwell"
local url = require "dwell.url"

-- Everything reachable from `v` as text (keys, values, tostring of tables).
local function dump(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "table" then
    if seen[v] then return out end
    seen[v] = true
    local mt = getmetatable(v)
    if mt and mt.__tostring then out[#out + 1] = tostring(v) end
    for k, x in pairs(v) do dump(k, out, seen); dump(x, out, seen) end
  elseif v ~= nil then
    out[#out + 1] = tostring(v)
  end
  return out
end

describe("rooms secrets", function()
  local sb
  before_each(function() sb = S.start() end)
  after_each(function() sb:close() end)

  it("never shows keys, assertions, tokens, secrets or Authorization", function()
    local seen = {}
    local function hook(info) seen[#seen + 1] = info end
    local visible = {}
    local function keep(...) for _, v in ipairs({ ... }) do visible[#visible + 1] = v end end

    local rooms = S.client(sb, { on_request = hook, on_response = hook })
    -- Clients and endpoints are seen through tostring (their internals must hold the credentials).
    keep(tostring(rooms), tostring(rooms.rooms.users.list), assert(rooms.rooms.users.list{ room_id = 1002 }))
    keep(select(2, rooms.rooms.users.list{ room_id = 424242 }))
    sb:control("rooms", "expire_tokens")
    keep(assert(rooms.account.get()))
    keep(select(2, S.client(sb, { on_request = hook, jwt = { private_key = S.keys().other_private } }).rooms.list()))
    -- A key that cannot sign is refused by the constructor, naming the option and nothing of its text.
    local bad_key = "-----BEGIN PRIVATE KEY-----\nnot-a-key-5d1f\n"
    local no_client, key_err = dwell.rooms(S.config(sb, { jwt = { private_key = bad_key } }))
    assert.is_nil(no_client)
    assert.equal("jwt.private_key", key_err.param)
    assert.falsy(tostring(key_err):find("not-a-key-5d1f", 1, true))
    keep(key_err)
    local bad_secret = "wrong-secret-9c1e"
    keep(select(2, S.client(sb, { jwt = false, on_request = hook, auth_code = { integration_key = S.IK,
      secret = bad_secret, refresh_token = S.REFRESH } }).rooms.list()))
    local code_client = S.client(sb, { jwt = false, on_request = hook, auth_code = { integration_key = S.IK,
      secret = S.SECRET, refresh_token = S.REFRESH } })
    keep(tostring(code_client), assert(code_client.rooms.list()))
    local fixed_token = assert(rooms:access_token())
    local fixed = S.client(sb, { jwt = false, access_token = fixed_token, on_response = hook })
    sb:control("rooms", "expire_tokens")
    keep(tostring(fixed), select(2, fixed.rooms.list()))

    -- What the sandbox received: every credential that crossed the wire.
    local secrets = { S.SECRET, bad_secret, S.REFRESH, fixed_token }
    for line in S.keys().private:gmatch("[^\n]+") do
      if not line:find("-----", 1, true) then secrets[#secrets + 1] = line end
    end
    for _, r in ipairs(sb:requests()) do
      local auth = r.headers.authorization
      if auth then secrets[#secrets + 1] = auth:match("%S+$") end
      if r.path == "/oauth/token" then
        local form = url.parse_query(r.body)
        if form.assertion then
          secrets[#secrets + 1] = form.assertion
          secrets[#secrets + 1] = form.assertion:match("[^.]+$") -- the signature alone
        end
      end
    end
    assert.truthy(#secrets > 10)
    local text = table.concat(dump({ visible, seen }), "\n")
    assert.truthy(#seen > 0 and #visible > 8)
    assert.truthy(text:find("invalid_grant", 1, true)) -- the errors are in there
    for _, s in ipairs(secrets) do
      assert.falsy(text:find(s, 1, true), "secret leaked: " .. s:sub(1, 6) .. "...")
    end
  end)
end)
