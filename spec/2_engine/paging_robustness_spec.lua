-- Malformed pages and servers that never stop paging, against each vendor client over real
-- HTTP (sandbox faults replace the list endpoint's answer): :each raises a dwell.error naming
-- the vendor and endpoint, :all returns nil, err, and nothing loops forever.
local dwell = require "dwell"
local errors = require "dwell.error"
local sandbox = require "dwell.sandbox"

local ROOMS_ACCOUNT = "6a1c2d3e-0000-4000-8000-00000000d0c5"

local function full_page(key, n, extra)
  local rows = {}
  for i = 1, n do rows[i] = '{"id":' .. i .. '}' end
  return '{"' .. key .. '":[' .. table.concat(rows, ",") .. ']' .. (extra or "") .. '}'
end

local function tuya_page(inner) return '{"success":true,"t":1,"result":' .. inner .. '}' end

local VENDORS = {
  tuya = {
    match = "GET /v1.0/iot-02/community/room-users",
    client = function(sb)
      local creds = sb:control("tuya", "credentials")
      return assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url,
        retry = { attempts = 1 } })
    end,
    ep = function(c) return c.community.room_users end, args = { block_id = "1" }, endpoint = "community.room_users",
    malformed = {
      tuya_page('"x"'), tuya_page("5"), tuya_page('{"data":"x","total_count":3}'),
      tuya_page('{"data":{"a":1},"total_count":3}'), '{"success":true,"t":1}',
    },
    forever = { tuya_page(full_page("data", 20)), tuya_page(full_page("data", 20, ',"total_count":"lots"')) },
  },
  rooms = {
    match = "GET /restapi/v2/accounts/{a}/rooms/{r}/users",
    client = function(sb)
      return assert(dwell.rooms{ account_id = ROOMS_ACCOUNT, base_url = sb.url .. "/restapi", auth_base_url = sb.url,
        access_token = "dwellsbx-rooms-developer-token", retry = { attempts = 1 } })
    end,
    ep = function(c) return c.rooms.users.list end, args = { room_id = 1 }, endpoint = "rooms.users.list",
    malformed = { "", "42", '"x"', "[1,2]", '{"users":"x","resultSetSize":3,"nextUri":"n"}' },
    forever = { full_page("users", 1, ',"resultSetSize":1,"nextUri":"n"'),
      full_page("users", 1, ',"resultSetSize":"x","endPosition":{},"nextUri":"n"') },
  },
  ruckus = {
    match = "POST /residents/properties/{p}/units/users/query",
    client = function(sb)
      local creds = sb:control("ruckus", "credentials")
      return assert(dwell.ruckus{ property_id = creds.property_id, hashed_secret = creds.hashed_secret,
        base_url = sb.url, retry = { attempts = 1 }, rate_limit = false })
    end,
    ep = function(c) return c.units.users.query end, args = {}, endpoint = "units.users.query",
    malformed = { "", "42", '"x"', "[1,2]", '{"content":"x","totalPages":3}' },
    forever = { full_page("content", 1, ',"last":false'), full_page("content", 1, ',"totalPages":"x","number":"q"') },
  },
}

local function with_body(name, body, fn)
  local v = VENDORS[name]
  local sb = assert(sandbox.start{ routes = { name }, faults = {
    { match = v.match, kind = "status", status = 200, body = body, headers = { ["Content-Type"] = "application/json" } } } })
  local ok, err = pcall(fn, v.ep(v.client(sb)), v)
  sb:stop()
  if not ok then error(err, 0) end
end

local function assert_paging_error(v, name, err)
  assert.is_true(errors.is(err), "not a dwell.error: " .. tostring(err))
  assert.equal("decode", err.kind)
  assert.equal(name, err.vendor)
  assert.equal(v.endpoint, err.endpoint)
end

for name, v in pairs(VENDORS) do
  describe(name .. " paging robustness", function()
    for i, body in ipairs(v.malformed) do
      it("raises a decode dwell.error from :each on malformed page " .. i, function()
        with_body(name, body, function(ep)
          local ok, err = pcall(function() for _ in ep:each(v.args) do end end)
          assert.is_false(ok)
          assert_paging_error(v, name, err)
          local all, aerr = ep:all(v.args)
          assert.is_nil(all)
          assert_paging_error(v, name, aerr)
        end)
      end)
    end
    for i, body in ipairs(v.forever) do
      it("stops a server that sends the same full page forever (" .. i .. ")", function()
        with_body(name, body, function(ep)
          local n = 0
          local ok, err = pcall(function()
            for _ in ep:each(v.args) do
              n = n + 1
              if n > 1000 then error("still iterating after 1000 items") end
            end
          end)
          assert.is_false(ok)
          assert_paging_error(v, name, err)
          assert.matches("did not advance", err.message)
        end)
      end)
    end
  end)
end

describe("tuya success without a result", function()
  it("answers true, never nil without an error", function()
    local sb = assert(sandbox.start{ routes = { "tuya" }, faults = {
      { match = "DELETE /v1.0/iot-02/community/member/{b}/{m}", kind = "status", status = 200,
        body = '{"success":true,"t":1,"tid":"x"}' } } })
    local tuya = VENDORS.tuya.client(sb)
    local res, err = tuya.community.member.delete{ block_id = "1", member_id = "2" }
    sb:stop()
    assert.is_nil(err)
    assert.is_true(res)
  end)
end)
