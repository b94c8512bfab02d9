-- Every vendor client constructor answers a configuration of the wrong shape with nil and an
-- invalid_argument dwell.error naming the option; it never raises (nor defers the failure to a
-- later call that then raises).
local dwell = require "dwell"
local errors = require "dwell.error"

local PROPERTY = "2c4a230c-5085-4924-a3e1-25fb4fc5965b"

local function with(base, extra)
  local cfg = {}
  for k, v in pairs(base) do cfg[k] = v end
  for k, v in pairs(extra) do cfg[k] = v end
  return cfg
end

local BASES = {
  tuya = { client_id = "id", secret = "s3cr3t-value", region = "eu" },
  rooms = { account_id = "a", env = "demo", access_token = "t0ken-value" },
  ruckus = { property_id = PROPERTY, token = "t0ken-value" },
}

local COMMON = {
  { "retry", 5 }, { "retry", { attempts = 0 } }, { "retry", { jitter = "none" } }, { "clock", 5 },
  { "clock", {} }, { "timeout_ms", "soon" }, { "on_request", true }, { "insecure", "yes" },
}

local SPECIFIC = {
  tuya = { { "base_url", 5 }, { "region", 5 } },
  rooms = { { "base_url", 5 }, { "auth_base_url", 3 }, { "env", 5 }, { "jwt", 1, "access_token" },
    { "auth_code", "x", "access_token" }, { "access_token", 5 }, { "rate_limit", 5 }, { "transport", 5 } },
  ruckus = { { "base_url", 5 }, { "region", 5 }, { "rate_limit", 5 }, { "renew_before", "x" }, { "transport", 5 } },
}

for vendor, base in pairs(BASES) do
  describe("dwell." .. vendor .. " configuration", function()
    local cases = {}
    for _, c in ipairs(COMMON) do cases[#cases + 1] = c end
    for _, c in ipairs(SPECIFIC[vendor]) do cases[#cases + 1] = c end
    for _, c in ipairs(cases) do
      local name, value, drop = c[1], c[2], c[3]
      it("returns nil, err for " .. name .. " = " .. tostring(type(value) == "table" and "{...}" or value), function()
        local cfg = with(base, { [name] = value })
        if drop then cfg[drop] = nil end
        local ok, client, err = pcall(dwell[vendor], cfg)
        assert.is_true(ok, "raised: " .. tostring(client))
        assert.is_nil(client)
        assert.is_true(errors.is(err))
        assert.equal("invalid_argument", err.kind)
        assert.equal(vendor, err.vendor)
        assert.matches(name, tostring(err), 1, true)
        for _, v in pairs(base) do
          if v:find("value", 1, true) then assert.is_nil(tostring(err):find(v, 1, true)) end
        end
      end)
    end
  end)
end

describe("a misspelt client option", function()
  local MISSPELT = {
    tuya = { "regoin", "region" },
    rooms = { "acess_token", "access_token" },
    ruckus = { "hashed_secert", "hashed_secret" },
  }
  for vendor, base in pairs(BASES) do
    it("is refused by dwell." .. vendor .. " with a did-you-mean, not ignored", function()
      local wrong, right = MISSPELT[vendor][1], MISSPELT[vendor][2]
      local client, err = dwell[vendor](with(base, { [wrong] = "x" }))
      assert.is_nil(client)
      assert.is_true(errors.is(err))
      assert.equal("invalid_argument", err.kind)
      assert.matches("'" .. wrong .. "' is not a .* client option %(did you mean '" .. right .. "'%?%)", err.message)
      assert.is_nil(tostring(err):find("x\"", 1, true))
    end)
  end
end)
