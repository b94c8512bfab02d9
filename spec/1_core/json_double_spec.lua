-- dwell.json and doubles: every finite double encodes to the shortest text that reads back
-- as the same double (the nearest such text when there are several), and decoding rounds
-- any decimal literal to the nearest double, ties to even. The references are the C
-- library's own correctly rounded conversions (string.format, tonumber), tried at every
-- precision.
local json = require "dwell.json"
local helpers = require "support.json_values"

local function from_bits(u) return (string.unpack("<d", string.pack("<i8", u))) end
local function to_bits(v) return (string.unpack("<i8", string.pack("<d", v))) end

-- Significant digits of a number text, and those digits as a string.
local function digits_of(text)
  local mant = text:gsub("^%-", ""):gsub("[eE].*$", ""):gsub("%.", "")
  mant = mant:gsub("^0+", ""):gsub("0+$", "")
  return #mant, mant
end

-- The fewest digits %.{p}g needs to read back as v, and its text.
local function shortest_g(v)
  for p = 1, 17 do
    local s = string.format("%." .. p .. "g", v)
    if tonumber(s) == v then return p, s end
  end
  error("no %g precision reads back " .. string.format("%a", v))
end

-- Whether some decimal of k significant digits reads back as v: only the two k-digit
-- decimals on either side of v can lie within its rounding interval, and the correctly
-- rounded one (%.{k-1}e) is one of them, so it and its two neighbours are all to try.
local function k_digits_read_back(v, k)
  local m, e = string.format("%." .. (k - 1) .. "e", v):match("^%-?(%d[%.%d]*)e([-+]%d+)$")
  local n = math.tointeger(m:gsub("%.", ""))
  local sign = v < 0 and "-" or ""
  for d = -1, 1 do
    local text = string.format("%s%de%d", sign, n + d, tonumber(e) - (k - 1))
    if tonumber(text) == v then return true end
  end
  return false
end

local function check_double(v)
  local text = assert(json.encode(v))
  local back = json.decode(text)
  assert(math.type(back) == "float", text .. " decodes as " .. math.type(back))
  assert(to_bits(back) == to_bits(v), string.format("%a encodes as %s, which decodes as %a", v, text, back))
  assert(tonumber(string.format("%.17g", v)) == v, "the C library's %.17g does not read back")
  assert(text:find("[.e]"), text .. " would decode as an integer")
  if v == 0 then return end
  local n, digits = digits_of(text)
  local p, g = shortest_g(v)
  local _, gdigits = digits_of(g)
  if n == p then
    assert(digits == gdigits, string.format("%a: %s, where %%.%dg gives %s", v, text, p, g))
  else
    -- Fewer digits than any %g precision: only where the next double down is nearer than
    -- the next one up (at a power of two) can a shorter decimal that %g misses read back.
    assert(n < p, string.format("%a: %s is longer than %s", v, text, g))
    assert(to_bits(math.abs(v)) & 0xFFFFFFFFFFFFF == 0, string.format("%a: %s vs %s", v, text, g))
  end
  if n > 1 then
    assert(not k_digits_read_back(v, n - 1), string.format("%a: %s is not the shortest", v, text))
  end
  -- Among the texts of n digits that read back, the nearest: the correctly rounded one
  -- whenever it reads back.
  local rounded = string.format("%." .. (n - 1) .. "e", v)
  if tonumber(rounded) == v then
    local _, rdigits = digits_of(rounded)
    assert(rdigits == digits, string.format("%a: %s, but %s is nearer", v, text, rounded))
  end
end

-- Exact decimal text of m * 2^e (m a positive integer), by schoolbook arithmetic on digits
-- kept little-endian in base 10^7.
local BASE = 10000000
local function big_mul(a, k)
  local carry = 0
  for i = 1, #a do
    local x = a[i] * k + carry
    a[i], carry = x % BASE, x // BASE
  end
  while carry > 0 do a[#a + 1], carry = carry % BASE, carry // BASE end
end

local function big_text(a)
  local parts = { tostring(a[#a]) }
  for i = #a - 1, 1, -1 do parts[#parts + 1] = string.format("%07d", a[i]) end
  return table.concat(parts)
end

local function exact_decimal(m, e)
  local a = {}
  while m > 0 do a[#a + 1], m = m % BASE, m // BASE end
  if e >= 0 then
    for _ = 1, e do big_mul(a, 2) end
    return big_text(a)
  end
  for _ = 1, -e do big_mul(a, 5) end -- m * 2^e = m * 5^-e / 10^-e
  local s = big_text(a)
  if #s <= -e then s = string.rep("0", -e - #s + 1) .. s end
  return (s:sub(1, #s + e) .. "." .. s:sub(#s + e + 1)):gsub("0+$", ""):gsub("%.$", "")
end

-- The significand (with its hidden bit) and exponent of a finite positive double.
local function decompose(v)
  local u = to_bits(v)
  local be, f = (u >> 52) & 0x7FF, u & 0xFFFFFFFFFFFFF
  if be == 0 then return f, -1074 end
  return f | (1 << 52), be - 1075
end

-- A decimal text just below the exact decimal text s: its last digit one lower (borrowing
-- through trailing zeros of an integer), followed by nines.
local function just_below(s)
  local chars, i = {}, #s
  for c in s:gmatch(".") do chars[#chars + 1] = c end
  while chars[i] == "0" do
    chars[i] = "9"
    i = i - 1
  end
  chars[i] = tostring(tonumber(chars[i]) - 1)
  local t = table.concat(chars):gsub("^0(%d)", "%1")
  return t .. (s:find("%.") and "" or ".") .. "999999999"
end

describe("dwell.json doubles", function()
  local r = helpers.rng(754)
  local function rand64() return (r(1 << 32) << 32) | r(1 << 32) end

  it("encode random doubles to the shortest nearest text that decodes back exactly", function()
    local done = 0
    while done < 20000 do
      local v = from_bits(rand64())
      if v == v and v ~= math.huge and v ~= -math.huge then
        check_double(v)
        done = done + 1
      end
    end
  end)

  it("encode subnormals, powers of two and the extremes likewise", function()
    for _ = 1, 3000 do
      check_double(from_bits(rand64() & 0x800FFFFFFFFFFFFF)) -- subnormal (or zero)
      check_double(from_bits((rand64() & (1 << 63)) | ((1 + r(2046)) << 52))) -- a power of two
    end
    for _, v in ipairs({ 5e-324, -5e-324, 1e-323, 2.2250738585072009e-308, 2.2250738585072014e-308,
                         1.7976931348623157e308, -1.7976931348623157e308, 2 ^ 53, 2 ^ 53 + 2, 2 ^ 63, 2 ^ -1022,
                         0.1, 0.2, 0.3, 1 / 3, 2 / 3, 1e21, 1e22, 1e23, 123456789012345680.0, 9007199254740993.0 }) do
      check_double(v)
    end
  end)

  it("encode the powers of ten and their neighbours", function()
    for k = -323, 308 do
      local v = tonumber("1e" .. k)
      check_double(v)
      if v > 5e-324 then check_double(from_bits(to_bits(v) - 1)) end
      if k < 308 then check_double(from_bits(to_bits(v) + 1)) end
    end
  end)

  it("encode -0.0 as -0.0 and decode it back with its sign", function()
    assert.equal("-0.0", json.encode(-0.0))
    assert.equal(-math.huge, 1 / json.decode(json.encode(-0.0)))
    assert.equal("0.0", json.encode(0.0))
    assert.equal(math.huge, 1 / json.decode("0.0"))
    assert.equal(-math.huge, 1 / json.decode("-0e-999"))
  end)

  it("decode every exact halfway point between neighbours to the even one, and a hair off it to the nearer", function()
    local cases = 0
    while cases < 300 do
      -- a double of any magnitude (one in four subnormal) and the next one up
      local u = rand64() & 0x7FFFFFFFFFFFFFFF
      if cases % 4 == 0 then u = u & 0xFFFFFFFFFFFFF end
      local x = from_bits(u)
      local y = from_bits(u + 1)
      if x > 0 and y ~= math.huge then
        local m, e = decompose(x)
        local mid = exact_decimal(2 * m + 1, e - 1)
        local even = (to_bits(x) & 1) == 0 and x or y
        assert(json.decode(mid), "does not decode: " .. mid)
        assert(to_bits(json.decode(mid)) == to_bits(even), "halfway " .. mid)
        assert(to_bits(json.decode("-" .. mid)) == to_bits(-even), "halfway -" .. mid)
        local above = mid .. (mid:find("%.") and "" or ".") .. "0000000000000000000001"
        assert(to_bits(json.decode(above)) == to_bits(y), "above " .. above)
        assert(to_bits(json.decode(just_below(mid))) == to_bits(x), "below " .. just_below(mid))
        cases = cases + 1
      end
    end
  end)

  it("decode long and extreme literals like the C library", function()
    local texts = {
      "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1.797693134862315807e308",
      "2.4703282292062327e-324", "2.4703282292062328e-324", "4.9406564584124654e-324", "2.2250738585072011e-308",
      "9007199254740993", "9007199254740993.0000000000000000001", "18446744073709551615", "1e23", "8.3e-309",
      "0." .. string.rep("0", 400) .. "1e400", string.rep("9", 800) .. "e-800", "1" .. string.rep("0", 400) .. "e-400",
      "7.2057594037927933e16", "3.0540412e5", "1448997445238699", "2.2250738585072012e-308",
    }
    for _ = 1, 2000 do
      local digits = {}
      for i = 1, 1 + r(30) do digits[i] = tostring(r(10)) end
      texts[#texts + 1] = string.format("%s.%se%d", tostring(1 + r(9)), table.concat(digits), r(700) - 350)
    end
    for _, text in ipairs(texts) do
      local want = tonumber(text)
      local got = json.decode(text)
      assert(math.type(got) == "float" or math.type(want) == "integer", text)
      assert(got == want or (got ~= got and want ~= want), string.format("%s: %.17g, want %.17g", text, got, want))
      assert(to_bits(got + 0.0) == to_bits(want + 0.0), text)
    end
  end)
end)
