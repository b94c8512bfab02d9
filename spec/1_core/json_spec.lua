local json = require "dwell.json"
local cjson = require "cjson"
local helpers = require "support.json_values"

local deep_equal = helpers.deep_equal

local function decode_err(text, opts)
  local v, err = json.decode(text, opts)
  assert.is_nil(v, "expected a decode error for " .. string.format("%q", text))
  assert.is_string(err)
  return err
end

-- The snake_case spelling as Lua patterns: the reference the C renaming (decode's
-- key_case = "snake" and json.snake_key) is checked against.
local function reference_snake(key)
  if not key:find("%u") then return key end
  local s = key:gsub("(%l)(%u)", "%1_%2"):gsub("(%d)(%u)", "%1_%2"):gsub("(%u)(%u%l)", "%1_%2")
  return s:lower()
end

describe("dwell.json", function()
  it("is reachable as dwell.json and dwell.core.json", function()
    assert.equal(json, require("dwell").json)
    assert.equal(json, require("dwell.core").json)
  end)

  describe("integers", function()
    it("keeps 19-digit vendor ids exact both ways", function()
      local v = json.decode('{"id":1367673991539501234}')
      assert.equal("integer", math.type(v.id))
      assert.equal(1367673991539501234, v.id)
      assert.equal('{"id":1367673991539501234}', json.encode(v))
    end)

    it("decodes the int64 extremes as integers", function()
      assert.equal(math.maxinteger, json.decode("9223372036854775807"))
      assert.equal("integer", math.type(json.decode("9223372036854775807")))
      assert.equal(math.mininteger, json.decode("-9223372036854775808"))
      assert.equal("integer", math.type(json.decode("-9223372036854775808")))
      assert.equal("9223372036854775807", json.encode(math.maxinteger))
      assert.equal("-9223372036854775808", json.encode(math.mininteger))
      assert.equal("0", json.encode(0))
      assert.equal("-1", json.encode(-1))
      assert.equal("integer", math.type(json.decode("-0")))
    end)

    it("turns overflowing integer literals into floats, never clamping", function()
      local up = json.decode("9223372036854775808")
      assert.equal("float", math.type(up))
      assert.equal(2.0 ^ 63, up)
      local down = json.decode("-9223372036854775809")
      assert.equal("float", math.type(down))
      assert.equal(-(2.0 ^ 63), down)
      assert.equal(1e30, json.decode("1000000000000000000000000000000"))
      assert.equal(1.2345678901234568e29, json.decode("123456789012345678901234567890"))
    end)

    it("gives overflowing literals as strings with big = 'string'", function()
      local v = json.decode('[9223372036854775808,-9223372036854775809,12,1.5]', { big = "string" })
      assert.same({ "9223372036854775808", "-9223372036854775809", 12, 1.5 }, { v[1], v[2], v[3], v[4] })
      assert.equal(math.mininteger, json.decode("-9223372036854775808", { big = "string" }))
    end)
  end)

  describe("floats", function()
    local cases = {
      { 0.1, "0.1" }, { 1e300, "1e+300" }, { 5e-324, "5e-324" },
      { 1.7976931348623157e308, "1.7976931348623157e+308" }, { 3.0, "3.0" },
      { -2.5, "-2.5" }, { 0.1 + 0.2, "0.30000000000000004" }, { 1 / 3, "0.3333333333333333" },
      { 2.0 ^ 63, "9.223372036854776e+18" }, { 123456.789, "123456.789" },
    }
    for _, c in ipairs(cases) do
      it("writes " .. c[2] .. " in its shortest round-tripping form", function()
        assert.equal(c[2], json.encode(c[1]))
        local back = json.decode(c[2])
        assert.equal("float", math.type(back))
        assert.equal(c[1], back)
      end)
    end

    it("keeps the sign of -0.0", function()
      assert.equal("-0.0", json.encode(-0.0))
      local z = json.decode("-0.0")
      assert.equal("float", math.type(z))
      assert.equal(-math.huge, 1 / z)
      assert.equal(-math.huge, 1 / json.decode("-0e5"))
    end)

    it("rounds decimal literals correctly", function()
      local cases2 = {
        ["2.2250738585072011e-308"] = 2.2250738585072011e-308,
        ["2.2250738585072014e-308"] = 2.2250738585072014e-308,
        ["9007199254740993.0"] = 9007199254740992.0,
        ["0.1000000000000000055511151231257827"] = 0.1,
        ["4.9406564584124654e-324"] = 5e-324,
        ["1.7976931348623157e308"] = 1.7976931348623157e308,
        ["123.456e-2"] = 1.23456, ["1E2"] = 100.0, ["0.5e1"] = 5.0, ["1e-7"] = 1e-7,
        ["1e400"] = math.huge, ["1e-400"] = 0.0,
        ["0.00000000000000000000000000000000000000000000000000001"] = 1e-53,
      }
      for text, want in pairs(cases2) do
        local got = json.decode(text)
        assert.equal("float", math.type(got), text)
        assert.equal(want, got, text)
      end
    end)

    it("refuses to encode NaN and infinities", function()
      for _, v in ipairs({ 0 / 0, math.huge, -math.huge }) do
        local s, err = json.encode({ x = v })
        assert.is_nil(s)
        assert.matches("NaN or infinity at %$%.x", err)
      end
    end)
  end)

  describe("strings", function()
    it("decodes \\u escapes and surrogate pairs", function()
      assert.equal("é", json.decode('"\\u00e9"'))
      assert.equal("é", json.decode('"\\u00E9"'))
      assert.equal("😀", json.decode('"\\ud83d\\ude00"'))
      assert.equal("\u{10FFFF}", json.decode('"\\uDBFF\\uDFFF"'))
      assert.equal("a\0b", json.decode('"a\\u0000b"'))
      assert.equal("/\b\f\n\r\t\"\\", json.decode('"\\/\\b\\f\\n\\r\\t\\"\\\\"'))
      assert.equal("中文 text", json.decode('"中文 text"'))
    end)

    it("escapes quotes, backslashes and control characters, and leaves / alone", function()
      assert.equal('"a/b\\"c\\\\d\\n\\t\\u0001\\u001f\127"', json.encode('a/b"c\\d\n\t\1\31\127'))
      assert.equal('"\\b\\f\\r\\u0000"', json.encode("\b\f\r\0"))
      assert.equal('"中文😀"', json.encode("中文😀"))
    end)

    it("refuses to encode invalid UTF-8", function()
      for _, s in ipairs({ "\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe4\xb8", "ok\x80" }) do
        local out, err = json.encode({ name = s })
        assert.is_nil(out)
        assert.matches("invalid UTF%-8 in string at %$%.name", err)
      end
      local out, err = json.encode({ ["\xff"] = 1 })
      assert.is_nil(out)
      assert.matches("invalid UTF%-8", err)
    end)

    it("round-trips long strings with escapes in them", function()
      local s = string.rep('abc"\\\n中', 5000)
      assert.equal(s, json.decode(json.encode(s)))
    end)
  end)

  describe("strict parsing", function()
    local rejects = {
      { "[1,]", "expected value at byte 4" },
      { '{"a":1,}', "expected string key at byte 8" },
      { "[1 2]", "expected ',' or ']' at byte 4" },
      { '{"a":1 "b":2}', "expected ',' or '}' at byte 8" },
      { '{"a" 1}', "expected ':' at byte 6" },
      { "{a:1}", "expected string key or '}' at byte 2" },
      { "// c\n1", "expected value at byte 1" },
      { "/* c */ 1", "expected value at byte 1" },
      { "[1] // c", "expected end of input at byte 5" },
      { "01", "leading zero in number at byte 2" },
      { "-01", "leading zero in number at byte 3" },
      { "+1", "expected value at byte 1" },
      { ".5", "expected value at byte 1" },
      { "1.", "expected digit after '.' at byte 3" },
      { "1.e5", "expected digit after '.' at byte 3" },
      { "1e", "expected digit in exponent at byte 3" },
      { "1e+", "expected digit in exponent at byte 4" },
      { "-", "expected digit at byte 2" },
      { "NaN", "expected value at byte 1" },
      { "Infinity", "expected value at byte 1" },
      { "-Infinity", "expected digit at byte 2" },
      { "'a'", "expected value at byte 1" },
      { "tru", "expected value at byte 1" },
      { "nul", "expected value at byte 1" },
      { '"a\tb"', "unescaped control character in string at byte 3" },
      { '"a\nb"', "unescaped control character in string at byte 3" },
      { '"a\0b"', "unescaped control character in string at byte 3" },
      { '"\\x"', "invalid escape in string at byte 2" },
      { '"\\U00e9"', "invalid escape in string at byte 2" },
      { '"\\u00g9"', "invalid \\u escape at byte 2" },
      { '"\\u12"', "invalid \\u escape at byte 2" },
      { '"\xc0\x80"', "invalid UTF-8 in string at byte 2" },
      { '"\xe0\x80\xaf"', "invalid UTF-8 in string at byte 2" },
      { '"\xed\xa0\x80"', "invalid UTF-8 in string at byte 2" },
      { '"\xf4\x90\x80\x80"', "invalid UTF-8 in string at byte 2" },
      { '"\xf5\x80\x80\x80"', "invalid UTF-8 in string at byte 2" },
      { '"\xe4\xb8"', "invalid UTF-8 in string at byte 2" },
      { '"\xe4\xb8', "invalid UTF-8 in string at byte 2" },
      { '"\x80"', "invalid UTF-8 in string at byte 2" },
      { '"\\ud800"', "unpaired high surrogate escape at byte 2" },
      { '"\\ud800x"', "unpaired high surrogate escape at byte 2" },
      { '"\\ud800\\u0041"', "expected low surrogate escape at byte 8" },
      { '"\\ud800\\ud800"', "expected low surrogate escape at byte 8" },
      { '"\\udc00"', "unpaired low surrogate escape at byte 2" },
      { '"\\udc00\\ud800"', "unpaired low surrogate escape at byte 2" },
      { '"abc', "unterminated string at byte 5" },
      { "", "unexpected end of input, expected value at byte 1" },
      { "  ", "unexpected end of input, expected value at byte 3" },
      { "[", "unexpected end of input, expected value at byte 2" },
      { "{", "expected string key or '}' at byte 2" },
      { "[1] [2]", "expected end of input at byte 5" },
      { "1 x", "expected end of input at byte 3" },
      { "\f1", "expected value at byte 1" },
      { "\v1", "expected value at byte 1" },
      { "\xc2\xa01", "expected value at byte 1" },
      { "1\0", "expected end of input at byte 2" },
    }
    for _, c in ipairs(rejects) do
      it(string.format("rejects %q", c[1]), function()
        assert.equal("dwell.json: " .. c[2], decode_err(c[1]))
      end)
    end

    it("accepts any value at the top level and the four whitespace characters", function()
      assert.equal(1, json.decode(" \t\r\n1 \t\r\n"))
      assert.equal("x", json.decode('"x"'))
      assert.is_true(json.decode("true"))
      assert.is_false(json.decode("false"))
      assert.equal(json.null, json.decode("null"))
      assert.same({ 1, 2 }, { table.unpack(json.decode(" [ 1 , 2 ] ")) })
    end)

    it("names the byte offset deep in a large document", function()
      local text = "[" .. string.rep('{"a":1},', 200) .. '{"a":1 "b":2}]'
      local err = decode_err(text)
      assert.equal("dwell.json: expected ',' or '}' at byte " .. (#text - 6), err)
    end)
  end)

  describe("null, arrays and objects", function()
    it("decodes null to the NULL lightuserdata shared with lua-cjson", function()
      assert.equal("userdata", type(json.null))
      assert.equal(cjson.null, json.null)
      local v = json.decode('{"a":null,"b":[null]}')
      assert.equal(cjson.null, v.a)
      assert.equal(json.null, v.b[1])
      assert.equal('{"a":null}', json.encode({ a = cjson.null }))
    end)

    it("marks arrays with array_mt so [] and {} re-encode faithfully", function()
      local v = json.decode('{"list":[],"map":{},"rows":[[],{}]}')
      assert.equal(json.array_mt, getmetatable(v.list))
      assert.is_nil(getmetatable(v.map))
      assert.equal('{"list":[],"map":{},"rows":[[],{}]}', json.encode(v, { sort_keys = true }))
    end)

    it("lets the last duplicate key win", function()
      assert.equal(3, json.decode('{"a":1,"a":2,"a":3}').a)
    end)

    it("encodes sequences as arrays and an empty plain table as {} (or [] on request)", function()
      assert.equal("[1,2,3]", json.encode({ 1, 2, 3 }))
      assert.equal("{}", json.encode({}))
      assert.equal("[]", json.encode({}, { empty_table = "array" }))
      assert.equal('{"a":[]}', json.encode({ a = {} }, { empty_table = "array" }))
      assert.equal("[]", json.encode(setmetatable({}, json.array_mt)))
      assert.equal('[true,false,null,"x",1.5]', json.encode({ true, false, json.null, "x", 1.5 }))
    end)

    it("names the path of sparse, mixed, cyclic and unencodable values", function()
      local function err_of(v)
        local s, err = json.encode(v)
        assert.is_nil(s)
        return err
      end
      assert.matches("sparse.* at %$%.data%[3%]%.x$", err_of({ data = { {}, {}, { x = { 1, 2, nil, 4 } } } }))
      assert.matches("at %$%.t$", err_of({ t = { 1, 2, x = 3 } }))
      assert.matches("number key.* at %$%.t$", err_of({ t = { [2] = "b" } }))
      assert.matches("boolean key in object .* at %$$", err_of({ [true] = 1 }))
      assert.matches("cannot encode a function at %$%.data%[2%]%.cb$", err_of({ data = { 1, { cb = print } } }))
      assert.matches("at %$%[\"a b\"%]%[1%]$", err_of({ ["a b"] = { print } }))
      local loop = { a = {} }
      loop.a.b = loop
      assert.matches("cycle .* at %$%.a%.b$", err_of(loop))
      local self_list = setmetatable({}, json.array_mt)
      self_list[1] = self_list
      assert.matches("cycle .* at %$%[1%]$", err_of(self_list))
      assert.matches("cannot encode a thread at %$$", err_of(coroutine.create(print)))
      assert.matches("mixed or sparse table", err_of(setmetatable({ x = 1 }, json.array_mt)))
      -- past max_depth the path shows its ends, not a thousand "[1]"s
      local deep = {}
      local cur = deep
      for _ = 1, 2000 do cur[1] = {}; cur = cur[1] end
      local msg = err_of(deep)
      assert.matches("nesting deeper than max_depth at %$%[1%]%[1%]", msg)
      assert.matches("%.%.%.%(984 more%)%.%.%.", msg)
      assert.is_true(#msg < 200, #msg)
    end)

    it("does not let a shared (non-cyclic) table count as a cycle", function()
      local shared = { 1 }
      assert.equal('[[1],[1]]', json.encode({ shared, shared }))
    end)
  end)

  describe("encode options", function()
    it("sort_keys gives the same bytes whatever the insertion order", function()
      local a, b = {}, {}
      local keys = { "zeta", "alpha", "mid", "Alpha", "a", "ab", "b" }
      for i = 1, #keys do a[keys[i]] = i end
      for i = #keys, 1, -1 do b[keys[i]] = i end
      a.nested = { y = 1, x = 2 }
      b.nested = { x = 2, y = 1 }
      local sa, sb = json.encode(a, { sort_keys = true }), json.encode(b, { sort_keys = true })
      assert.equal(sa, sb)
      assert.equal('{"Alpha":4,"a":5,"ab":6,"alpha":2,"b":7,"mid":3,"nested":{"x":2,"y":1},"zeta":1}', sa)
    end)

    it("indent pretty-prints", function()
      local v = json.decode('{"a":[1,{"b":null}],"c":{},"d":[]}')
      assert.equal('{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ],\n  "c": {},\n  "d": []\n}',
        json.encode(v, { indent = 2, sort_keys = true }))
      assert.equal('[\n 1\n]', json.encode({ 1 }, { indent = 1 }))
    end)

    it("raises on malformed options", function()
      assert.has_error(function() json.encode(1, "x") end)
      assert.has_error(function() json.encode(1, { indent = "two" }) end)
      assert.has_error(function() json.encode(1, { empty_table = "list" }) end)
      assert.has_error(function() json.decode("1", { big = "int" }) end)
      assert.has_error(function() json.decode("1", { max_depth = 0 }) end)
      assert.has_error(function() json.decode({}) end)
      assert.has_error(function() json.encode() end)
    end)
  end)

  describe("nesting", function()
    it("accepts 1000 levels and rejects 1001 by default", function()
      assert.is_table(json.decode(string.rep("[", 1000) .. string.rep("]", 1000)))
      assert.equal("dwell.json: nesting deeper than max_depth at byte 1001",
        decode_err(string.rep("[", 1001) .. string.rep("]", 1001)))
      assert.is_table(json.decode(string.rep('{"a":', 1000) .. "1" .. string.rep("}", 1000)))
    end)

    it("honours opts.max_depth", function()
      assert.matches("nesting deeper than max_depth at byte 3", decode_err("[[[]]]", { max_depth = 2 }))
      assert.is_table(json.decode(string.rep("[", 5000) .. string.rep("]", 5000), { max_depth = 5000 }))
    end)

    it("returns an error for ten million '[' instead of overflowing the C stack", function()
      local err = decode_err(string.rep("[", 10000000))
      assert.matches("nesting deeper than max_depth", err)
    end)

    it("limits encoding depth too", function()
      local v = {}
      local cur = v
      for _ = 1, 1100 do cur[1] = {} cur = cur[1] end
      local s, err = json.encode(v)
      assert.is_nil(s)
      assert.matches("nesting deeper than max_depth", err)
      assert.is_string(json.encode(v, { max_depth = 2000 }))
    end)
  end)

  -- From 4 KB on, the decoder caches the strings of keys and short values and
  -- first tries the key the previous row had at the same place: these make sure
  -- that shortcut neither changes a value nor lets a malformed key through.
  describe("large documents of similar rows", function()
    local rows = string.rep('{"name":"x","id":1,"abcdefghi":"é"},', 150)

    it("decodes keys that differ from the previous row's only in length or their last byte", function()
      local keys = { "a", "ab", "abc", "abcdefgh", "abcdefghi", "abcdefghj", "abcdefgh\\u0069", "ab\\\"c",
        "é", "éé", "\\u00e9", "", string.rep("k", 40), string.rep("k", 41), string.rep("k", 39) .. "K" }
      local r = helpers.rng(4096)
      for _ = 1, 20 do
        local parts = {}
        for i = 1, 300 do
          local members = {}
          for m = 1, 1 + r(6) do
            members[m] = string.format('"%s":"%s"', keys[1 + r(#keys)], keys[1 + r(#keys)])
          end
          parts[i] = "{" .. table.concat(members, ",") .. "}"
        end
        local text = "[" .. table.concat(parts, ",") .. "]"
        assert.is_true(#text > 4096)
        local ok, where = deep_equal(cjson.decode(text), json.decode(text), true)
        assert(ok, "differs at " .. tostring(where))
      end
    end)

    -- { row after the similar rows, 1-based offset of the error in it, error }
    local bad = {
      { '{"name\t":"x"}', 7, "unescaped control character in string" },
      { '{"nam\xff":"x"}', 6, "invalid UTF-8 in string" },
      { '{"name\\q":"x"}', 7, "invalid escape in string" },
      { '{"name":"x\1"}', 11, "unescaped control character in string" },
      { '{"name":"x","id":01}', 19, "leading zero in number" },
      { '{"name"', 8, "expected ':'" },
      { '{"nam', 6, "unterminated string" },
    }
    for _, c in ipairs(bad) do
      it(string.format("rejects %q after rows that had the same keys", c[1]), function()
        local text = "[" .. rows .. c[1] .. (c[1]:sub(-1) == "}" and "]" or "")
        assert.equal(string.format("dwell.json: %s at byte %d", c[3], 1 + #rows + c[2]), decode_err(text))
      end)
    end
  end)

  describe("round trips", function()
    it("round-trips a vendor-like page", function()
      local text = '{"success":true,"t":1717200000123,"result":{"total_count":2,"has_more":false,' ..
        '"data":[{"user_id":"1367673991539501234","room_user_id":1367673991539501234,"tags":[],' ..
        '"real_name":"王伟","expire_date":null,"score":97.5,"parent_id_list":["1","2"]},{}]}}'
      local v = json.decode(text)
      assert.truthy(deep_equal(v, json.decode(json.encode(v))))
      assert.truthy(deep_equal(v, json.decode(json.encode(v, { indent = 2 }))))
      local sorted = json.encode(v, { sort_keys = true })
      assert.equal(sorted, json.encode(json.decode(sorted), { sort_keys = true }))
      assert.equal("1367673991539501234", sorted:match('"room_user_id":(%d+)'))
    end)

    it("round-trips a 10 MB document", function()
      local rows = setmetatable({}, json.array_mt)
      for i = 1, 85000 do
        rows[i] = { id = 1367673991539501234 + i, name = "住户 " .. i, ts = 1717200000000 + i,
                    ratio = i / 7, tags = setmetatable({ "a\"b", i }, json.array_mt), gone = json.null }
      end
      local text = assert(json.encode({ rows = rows }))
      assert.is_true(#text > 10e6)
      local back = assert(json.decode(text))
      assert.equal(85000, #back.rows)
      assert.equal(1367673991539501234 + 85000, back.rows[85000].id)
      assert.truthy(deep_equal({ rows = rows }, back))
      -- compared as a boolean: a 10 MB diff in the failure message helps nobody
      assert.is_true(json.encode(back, { sort_keys = true }) == json.encode({ rows = rows }, { sort_keys = true }))
    end)

    it("decode(encode(v)) deep-equals v for thousands of seeded random values", function()
      local r = helpers.rng(8259)
      for i = 1, 4000 do
        local v = helpers.random_value(r, 4, false)
        local text, err = json.encode(v)
        assert(text, err)
        local back, derr = json.decode(text)
        assert(derr == nil, derr)
        local ok, where = deep_equal(v, back)
        assert(ok, "value " .. i .. " differs at " .. tostring(where) .. ": " .. text)
        assert.equal(json.encode(v, { sort_keys = true }), json.encode(back, { sort_keys = true }))
      end
    end)

    it("decodes like lua-cjson for documents without big integers", function()
      local r = helpers.rng(1967)
      for i = 1, 3000 do
        local text = assert(json.encode(helpers.random_value(r, 4, true)))
        local ok, where = deep_equal(cjson.decode(text), json.decode(text), true)
        assert(ok, "document " .. i .. " differs at " .. tostring(where) .. ": " .. text)
      end
    end)
  end)

  describe("under a comma decimal locale", function()
    local comma
    for _, name in ipairs({ "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "de_DE", "fr_FR" }) do
      if os.setlocale(name, "numeric") then comma = name break end
    end
    os.setlocale("C", "numeric")

    it("reads and writes '.' whatever LC_NUMERIC says", function()
      if comma then
        os.setlocale(comma, "numeric")
        assert.equal("0,5", string.format("%.1f", 0.5)) -- the locale really is in force
      end
      local ok, err = pcall(function()
        assert.equal(0.5, json.decode("0.5"))
        assert.equal(0.1, json.decode("0.1000000000000000055511151231257827"))
        assert.equal(1.7976931348623157e308, json.decode("1.7976931348623157e308"))
        assert.equal("0.5", json.encode(0.5))
        assert.equal("1.7976931348623157e+308", json.encode(1.7976931348623157e308))
        assert.equal("[0.1,2.5e-300]", json.encode({ 0.1, 2.5e-300 }))
      end)
      os.setlocale("C", "numeric")
      assert(ok, err)
    end)
  end)
end)

describe("dwell.json.decode key_case = \"snake\"", function()
  local SNAKE = { key_case = "snake" }

  it("renames camelCase keys at every depth and leaves values and snake_case keys alone", function()
    local v = assert(json.decode(
      '{"roomUserId":"1367673991539501234","total_count":2,"dataList":[{"hkId":"HK","roleInfos":[{"roleId":"R"}]}],'
        .. '"empty":[],"userID":"u","HTTPServer":"x"}', SNAKE))
    assert.equal("1367673991539501234", v.room_user_id)
    assert.equal(2, v.total_count)
    assert.equal("HK", v.data_list[1].hk_id)
    assert.equal("R", v.data_list[1].role_infos[1].role_id)
    assert.equal("u", v.user_id)
    assert.equal("x", v.http_server)
    assert.is_nil(v.roomUserId)
    assert.equal("[]", json.encode(v.empty)) -- arrays keep array_mt
    assert.equal(json.array_mt, getmetatable(v.data_list))
  end)

  it("keeps the snake_case spelling when both spellings are present, in either order", function()
    assert.equal(2, json.decode('{"roomId":1,"room_id":2}', SNAKE).room_id)
    assert.equal(2, json.decode('{"room_id":2,"roomId":1}', SNAKE).room_id)
  end)

  it("renames escaped keys too", function()
    assert.equal(1, json.decode('{"room\\u0055serId":1}', SNAKE).room_user_id)
  end)

  it("spells every key as the reference does, with and without the key cache, as json.snake_key does", function()
    local seed = 12345
    local function rand(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n + 1
    end
    local alphabet = { "a", "b", "Z", "Q", "x", "1", "9", "_", "K", "m" }
    local keys = { "roomUserId", "hkId", "HTTPServer", "getHTTPResponseCode", "ABcDEf", "aBC", "a1B", "ID", "X", "" }
    for _ = 1, 400 do
      local k = {}
      for i = 1, rand(12) do k[i] = alphabet[rand(#alphabet)] end
      keys[#keys + 1] = table.concat(k)
    end
    local small, big = {}, {}
    for i, k in ipairs(keys) do
      small[i] = '{"' .. k .. '":' .. i .. '}'
      big[#big + 1] = '"' .. k .. '":' .. i
    end
    local doc = "{" .. table.concat(big, ",") .. "}"
    assert.is_true(#doc >= 4096) -- large enough for the decoder's key cache
    local from_big = assert(json.decode(doc, SNAKE))
    for i, k in ipairs(keys) do
      local want = reference_snake(k)
      assert.equal(want, json.snake_key(k), k)
      assert.equal(want, next(assert(json.decode(small[i], SNAKE))), k)
      -- in the big document an earlier key may already hold the same snake_case name
      assert.is_not_nil(from_big[want], k)
    end
  end)

  it("refuses an unknown key_case", function()
    assert.has_error(function() json.decode("{}", { key_case = "camel" }) end)
    assert.same({ aB = 1 }, json.decode('{"aB":1}', { key_case = "asis" }))
  end)
end)

describe("dwell.json.decode key_case = \"snake\" and values", function()
  it("never renames a value spelt like a renamed key, in small and large documents", function()
    local SNAKE = { key_case = "snake" }
    local rows = {}
    for i = 1, 200 do rows[i] = '{"roomType":"roomType","userType":"TENANT","aB":"aB"}' end
    for _, doc in ipairs{ rows[1], "[" .. table.concat(rows, ",") .. "]" } do
      local v = assert(json.decode(doc, SNAKE))
      local row = v[1] or v
      for _, r in ipairs(v[1] and v or { v }) do
        assert.same({ room_type = "roomType", user_type = "TENANT", a_b = "aB" }, r)
      end
      assert.equal("roomType", row.room_type)
    end
    -- a value seen before the key, then the key, then the value again
    local v = assert(json.decode("[" .. ('{"x":"aB","aB":"aB"},'):rep(300) .. '{"x":"aB"}]', SNAKE))
    assert.same({ x = "aB", a_b = "aB" }, v[1])
    assert.same({ x = "aB" }, v[301])
  end)
end)

describe("dwell.json.decode key_case = \"snake\" when keys collide", function()
  local SNAKE = { key_case = "snake" }
  local PAD = string.rep(" ", 4096) -- makes a document large enough for the key cache and prediction

  it("keeps the last of the keys renamed to one name, unless one is spelt in snake_case", function()
    for _, pad in ipairs({ "", PAD }) do
      local function dec(text) return assert(json.decode(pad .. text, SNAKE)) end
      assert.same({ a_b = 2 }, dec('{"aB":1,"aB":2}'))
      assert.same({ a_b = 2 }, dec('{"aB":1,"a_B":2}'))
      assert.same({ a_b = 0 }, dec('{"aB":1,"a_b":0,"aB":2}'))
      assert.same({ a_b = 0 }, dec('{"aB":1,"aB":2,"a_b":0,"aB":3}'))
      assert.same({ a_b = 3 }, dec('{"a_b":0,"a_b":3,"aB":4}'))
      -- escaped spellings count as what they spell
      assert.same({ a_b = 0 }, dec('{"a\\u005fb":0,"aB":1}'))
      assert.same({ a_b = 2 }, dec('{"a\\u0042":1,"aB":2}'))
      -- a nested object's keys are its own
      assert.same({ a_b = 2, x = { a_b = 0 } }, dec('{"aB":1,"x":{"a_b":0,"aB":5},"aB":2}'))
    end
  end)

  it("matches a reference on generated objects, alone, as rows and as repeated rows", function()
    local seed = 4242
    local function rand(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n + 1
    end
    -- keys that collide once renamed, and values spelt like them (TENANT as a key, too)
    local names = { "aB", "a_b", "a_B", "roomId", "room_id", "ID", "id", "TENANT", "tenant", "hkId", "HTTPServer",
      "http_server", "userType" }
    local gen
    -- Returns the expected value and the text of an object with random (repeated) keys.
    local function gen_object(depth)
      local want, snake_spelt, text = {}, {}, {}
      for i = 1, rand(6) - 1 do
        local k = names[rand(#names)]
        local v, vtext = gen(depth + 1)
        local s = reference_snake(k)
        if s == k then
          want[s], snake_spelt[s] = v, true
        elseif not snake_spelt[s] then
          want[s] = v
        end
        if rand(4) == 1 then -- escape the capitals
          k = k:gsub("%u", function(c) return string.format("\\u%04X", c:byte()) end)
        end
        text[i] = '"' .. k .. '":' .. vtext
      end
      return want, "{" .. table.concat(text, ",") .. "}"
    end
    function gen(depth)
      local r = rand(depth > 2 and 3 or 5)
      if r == 1 then
        local s = names[rand(#names)]
        return s, '"' .. s .. '"'
      elseif r == 2 then
        local n = rand(100)
        return n, tostring(n)
      elseif r == 3 then
        return "TENANT", '"TENANT"'
      elseif r == 4 then
        return gen_object(depth)
      end
      local arr, text = setmetatable({}, json.array_mt), {}
      for i = 1, rand(4) - 1 do arr[i], text[i] = gen(depth + 1) end
      return arr, "[" .. table.concat(text, ",") .. "]"
    end
    local function check(want, got, text)
      local ok, where = helpers.deep_equal(want, got)
      assert(ok, (where or "") .. " in " .. text)
    end
    for _ = 1, 150 do
      local want, text = gen_object(0)
      check(want, assert(json.decode(text, SNAKE)), text)
      local rows, wants = {}, {}
      for i = 1, 30 do wants[i], rows[i] = gen_object(0) end
      local got = assert(json.decode("[" .. PAD .. table.concat(rows, ",") .. "]", SNAKE))
      for i = 1, 30 do check(wants[i], got[i], rows[i]) end
      got = assert(json.decode("[" .. PAD .. (text .. ","):rep(10) .. text .. "]", SNAKE))
      for i = 1, 11 do check(want, got[i], text) end
    end
  end)

  it("names the option when it is not a known key_case", function()
    for _, bad in ipairs({ "camel", "SNAKE", 1, true }) do
      local ok, err = pcall(json.decode, "{}", { key_case = bad })
      assert.is_false(ok)
      assert.matches('opts.key_case must be "asis" or "snake"', err, 1, true)
    end
  end)
end)
