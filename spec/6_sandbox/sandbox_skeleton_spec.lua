-- The one layout of a vendor emulation (docs/internals.md "Sandbox"): each vendor is
-- a folder dwell/sandbox/<vendor>/ whose init.lua is the route set, over a gateway, a model and
-- a seed; and no sandbox module requires a client module, so that a client bug cannot hide
-- behind the same bug in its emulator (the sandbox checks signatures and JWTs with code of its
-- own over dwell.core's primitives).

local read = require("support.shell").read_all

local VENDORS = { "tuya", "rooms", "ruckus" }

-- Client modules (and their submodules) the sandbox must not use.
local CLIENT = { "dwell.rooms", "dwell.tuya", "dwell.ruckus", "dwell.pipeline", "dwell.credential", "dwell.api",
  "dwell.url" }

local function is_client(name)
  for _, c in ipairs(CLIENT) do
    if name == c or name:sub(1, #c + 1) == c .. "." then return true end
  end
  return false
end

-- The module names a Lua source requires with a literal name: require "x", require 'x',
-- require("x"), require [[x]], pcall(require, "x").
local function required(src)
  local out = {}
  local function add(name) out[#out + 1] = name end
  for name in src:gmatch("require%s*%(?%s*[\"']([^\"']+)[\"']") do add(name) end
  for name in src:gmatch("require%s*%(?%s*%[%[(.-)%]%]") do add(name) end
  for name in src:gmatch("pcall%s*%(%s*require%s*,%s*[\"']([^\"']+)[\"']") do add(name) end
  return out
end

local function lua_files(dir)
  local out = {}
  local p = assert(io.popen("find " .. dir .. " -name '*.lua' | LC_ALL=C sort"))
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

-- A source with its comments dropped (so that a comment may name what the code must not use).
local function code_of(src)
  return (src:gsub("%-%-%[(=*)%[.-%]%1%]", ""):gsub("%-%-[^\n]*", ""))
end

-- What the vendor folders must get from support.lua instead of carrying a copy: decoding a body
-- as JSON, marking a JSON array, drawing random hex from the core.
local LOCAL_COPIES = {
  { "json%.decode", "decodes JSON itself (support.json_body / json_value)" },
  { "setmetatable%s*%b()", "array_mt", "marks a JSON array itself (support.array)" },
  { "core%.random_hex", "draws random hex from the core (support.random_hex, which lanes reseed)" },
}

local function local_copies(src)
  local out, code = {}, code_of(src)
  for _, rule in ipairs(LOCAL_COPIES) do
    if #rule == 2 then
      if code:find(rule[1]) then out[#out + 1] = rule[2] end
    else
      for call in code:gmatch(rule[1]) do
        if call:find(rule[2], 1, true) then out[#out + 1] = rule[3]; break end
      end
    end
  end
  return out
end

-- The generators' constants (MINSTD, the ANSI C LCG, splitmix64 / xorshift64*): only rng.lua has them.
local GENERATOR_CONSTANTS = { "48271", "1103515245", "0x9E3779B97F4A7C15", "0x2545F4914F6CDD1D" }

describe("sandbox vendor skeleton", function()
  for _, vendor in ipairs(VENDORS) do
    it(vendor .. ": the route set is <vendor>/init.lua over gateway, model and seed modules", function()
      assert.is_nil(io.open("lua/dwell/sandbox/" .. vendor .. ".lua"), "a top-level " .. vendor .. ".lua would hide init.lua")
      assert.is_function(require("dwell.sandbox." .. vendor))
      for _, part in ipairs({ "gateway", "model", "seed" }) do
        -- a table of pieces (Tuya's gateway is the setup function itself)
        local t = type(require("dwell.sandbox." .. vendor .. "." .. part))
        assert.truthy(t == "table" or t == "function", vendor .. "." .. part .. " is a " .. t)
      end
    end)
  end

  it("finds a client require in any of the spellings it scans for", function()
    local src = [==[
      local a = require "dwell.rooms.jwt"
      local b = require('dwell.tuya.sign')
      local c = require [[dwell.pipeline]]
      local ok, d = pcall(require, "dwell.credential")
      local e = require "dwell.sandbox.rooms.gateway"
      local f = require("dwell.core")
    ]==]
    local flagged = {}
    for _, name in ipairs(required(src)) do
      if is_client(name) then flagged[#flagged + 1] = name end
    end
    assert.same({ "dwell.rooms.jwt", "dwell.tuya.sign", "dwell.pipeline", "dwell.credential" }, flagged)
  end)

  it("has no module under lua/dwell/sandbox that requires a client module", function()
    local files, found = lua_files("lua/dwell/sandbox"), {}
    assert.truthy(#files > 30, #files)
    for _, path in ipairs(files) do
      for _, name in ipairs(required(read(path))) do
        if is_client(name) then found[#found + 1] = path .. ": " .. name end
      end
    end
    assert.same({}, found)
  end)

  it("rooms: the live role list is the model's; the seed is never changed", function()
    local seed = require "dwell.sandbox.rooms.seed"
    local before = #seed.ROLES
    local routes, controls = require("dwell.sandbox.rooms")({}, { now = os.time })
    local create
    for _, r in ipairs(routes) do
      if r[1] == "POST" and r[2]:match("/roles$") then create = r[3] end
    end
    local status = create{ method = "POST", path = "/restapi/v2/accounts/x/roles", params = {},
      captures = { accountId = "6a1c2d3e-0000-4000-8000-00000000d0c5" }, body = '{"name":"Closer"}',
      headers = { authorization = "Bearer dwellsbx-rooms-developer-token", accept = "application/json" } }
    assert.equal(201, status)
    assert.equal(before, #seed.ROLES)
    for _, r in ipairs(seed.ROLES) do assert.is_nil(r.permissions) end
    assert.is_true(controls.reset())
    assert.equal(6, before)
  end)

  it("finds a local copy in the forms it scans for, not in comments", function()
    assert.same({ "decodes JSON itself (support.json_body / json_value)",
      "marks a JSON array itself (support.array)",
      "draws random hex from the core (support.random_hex, which lanes reseed)" }, local_copies([==[
      local ok, v = pcall(core.json.decode, req.body)
      local list = setmetatable(t or {}, json.array_mt)
      local tid = core.random_hex(16)
    ]==]))
    assert.same({}, local_copies([==[
      -- not core.json.decode, nor setmetatable(t, json.array_mt), nor core.random_hex
      --[[ json.decode ]]
      if getmetatable(data) == json.array_mt then return support.json_body(req.body) end
    ]==]))
  end)

  for _, vendor in ipairs(VENDORS) do
    it(vendor .. ": JSON bodies, JSON arrays and random hex come from support.lua", function()
      local found = {}
      for _, path in ipairs(lua_files("lua/dwell/sandbox/" .. vendor)) do
        for _, what in ipairs(local_copies(read(path))) do found[#found + 1] = path .. ": " .. what end
      end
      assert.same({}, found)
    end)
  end

  it("keeps the seeded generators in rng.lua alone, and no sandbox module uses math.random", function()
    local found = {}
    for _, path in ipairs(lua_files("lua/dwell/sandbox")) do
      local code = code_of(read(path))
      if code:find("math%.random") then found[#found + 1] = path .. ": math.random" end
      if path ~= "lua/dwell/sandbox/rng.lua" then
        for _, k in ipairs(GENERATOR_CONSTANTS) do
          if code:lower():find(k:lower(), 1, true) then found[#found + 1] = path .. ": " .. k end
        end
      end
    end
    assert.same({}, found)
  end)
end)
