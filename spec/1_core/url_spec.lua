-- dwell.core.url: percent-encoding, query strings and the canonical (sorted, raw) query, each
-- against a plain Lua reference over every byte and over random pairs.
local url = require("dwell.core").url

-- The references: RFC 3986 unreserved set in ASCII, bytewise key order.
local function ref_encode(s)
  return (s:gsub("[^A-Za-z0-9%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function ref_query(list, encode)
  local out = {}
  for i, kv in ipairs(list) do
    local k, v = tostring(kv[1]), tostring(kv[2])
    out[i] = (encode and ref_encode(k) or k) .. "=" .. (encode and ref_encode(v) or v)
  end
  return table.concat(out, "&")
end

local function bytewise_less(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local function ref_canonical(list)
  local sorted = {}
  for i, kv in ipairs(list) do sorted[i] = { tostring(kv[1]), kv[2] } end
  table.sort(sorted, function(x, y) return bytewise_less(x[1], y[1]) end)
  return ref_query(sorted, false)
end

local function random_string(max)
  local t = {}
  for i = 1, math.random(0, max) do
    -- mostly the characters ids and names are made of, some of everything else
    t[i] = math.random(4) == 1 and string.char(math.random(0, 255)) or string.char(math.random(97, 122))
  end
  return table.concat(t)
end

describe("dwell.core.url.encode", function()
  it("encodes every byte but the unreserved set, as %XX", function()
    for b = 0, 255 do
      local c = string.char(b)
      assert.equal(ref_encode(c), url.encode(c))
    end
    assert.equal("a%20b%2F%C3%A9%3F%26%3D", url.encode("a b/é?&="))
  end)

  it("gives back the string itself when nothing needs encoding", function()
    local s = "1367673991539501234-AZaz09._~"
    assert.is_true(rawequal(s, url.encode(s)))
    assert.equal("", url.encode(""))
  end)

  it("agrees with the reference on random strings", function()
    for _ = 1, 500 do
      local s = random_string(40)
      assert.equal(ref_encode(s), url.encode(s))
    end
  end)
end)

describe("dwell.core.url.query_string", function()
  it("joins the pairs in order, both sides encoded, non-strings as tostring gives them", function()
    assert.equal("", url.query_string({}))
    assert.equal("a=1&b%20c=2&x=true&f=0.5", url.query_string({ { "a", "1" }, { "b c", 2 }, { "x", true }, { "f", 0.5 } }))
    assert.equal("a=", url.query_string({ { "a", "" } }))
  end)

  it("reads the list as ipairs does, up to the first nil", function()
    assert.equal("a=1", url.query_string({ { "a", 1 }, nil, { "b", 2 } }))
  end)

  it("agrees with the reference on random pairs", function()
    for _ = 1, 200 do
      local list = {}
      for i = 1, math.random(0, 20) do list[i] = { random_string(12), random_string(20) } end
      assert.equal(ref_query(list, true), url.query_string(list))
    end
  end)

  it("raises on a pair that is not a table", function()
    assert.has_error(function() url.query_string({ "a=1" }) end)
  end)
end)

describe("dwell.core.url.canonical_query", function()
  it("sorts by key byte by byte, a key before the longer keys it begins, values raw", function()
    assert.equal("a=1&a-b=x y&a_b=z&b=2&é=/", url.canonical_query({ { "b", "2" }, { "é", "/" }, { "a-b", "x y" },
      { "a", 1 }, { "a_b", "z" } }))
    assert.equal("", url.canonical_query({}))
  end)

  it("agrees with the reference on random lists, short and long", function()
    for _ = 1, 200 do
      local list, seen = {}, {}
      for _ = 1, math.random(0, 40) do
        local k = random_string(8)
        if not seen[k] then seen[k] = true; list[#list + 1] = { k, random_string(10) } end
      end
      assert.equal(ref_canonical(list), url.canonical_query(list))
    end
  end)

  it("names the first key given twice, in list order, short and long lists", function()
    assert.same({ nil, "c" }, { url.canonical_query({ { "d", 1 }, { "c", 2 }, { "b", 3 }, { "c", 4 }, { "b", 5 } }) })
    local list = {}
    for i = 1, 40 do list[i] = { "k" .. (41 - i), i } end
    list[41] = { "k7", 0 }
    assert.same({ nil, "k7" }, { url.canonical_query(list) })
  end)
end)
