--- bench/json_count.lua: instructions per decode and per encode, counted by callgrind, for
-- dwell.json and the other Lua JSON codecs on the bench documents. Unlike time, the counts do
-- not depend on what else the machine is doing and repeat within about 2% (Lua seeds its
-- string hashes from the clock, which moves table collisions), so they show the effect of a
-- change that wall-clock noise would hide. They do not see cache misses or branch
-- mispredictions: bench/json.lua gives time.
--   make bench-json-count                      (builds build/bench/json_count, needs valgrind)
--   lua5.4 bench/json_count.lua HOST [calls per count, default 3] [document ...]
-- Documents: tuya, rooms (bench/json_pages.lua), geo, strings, ints (bench/json_docs.lua) and,
-- when present in the git-ignored bench/peers/data/, canada, citm_catalog, twitter.
-- Codecs: dwell.json; "snake", dwell.json decoding with { key_case = "snake" } (and encoding
-- what that gives); lua-cjson; any of yyjson, rapidjson, simdjson that loads from
-- bench/peers/lib/ (peer builds, never committed); with DWELL_JSON_BASE=DIR also the
-- dwell.core found in DIR (another build of dwell, e.g. DIR/dwell/core.so from an older
-- commit), shown as "base". Ratios are the other codec's count over dwell.json's: above 1
-- means dwell.json runs fewer instructions. lua-cjson encodes doubles with 14 digits (its
-- default), which reads back inexactly; the others give the exact doubles.
-- Each count runs in its own valgrind process: HOST runs this file again with a codec, a
-- document and an operation; it prepares the input untimed (decoding the text with that
-- codec, for encodes), runs the operation once untimed, then `calls` times, each after a
-- full GC, with counting on only inside the calls.
local here = ((arg and arg[0] or ""):match("^(.*)/") or ".")
-- This tree's modules first, as `make` sets them, so that a direct run measures this tree.
package.path = here .. "/../lua/?.lua;" .. here .. "/../lua/?/init.lua;" .. package.path
package.cpath = here .. "/../build/?.so;" .. package.cpath
local peers_cpath = here .. "/peers/lib/?.so;" .. package.cpath

local PEERS = {
  yyjson = function(m) -- nulls as yyjson.null (the default drops them from arrays)
    return function(s) return m.decode(s, true) end, m.encode
  end,
  rapidjson = function(m) return m.decode, m.encode end,
  simdjson = function(m) return m.parse, m.encode end,
}

-- decode, encode of a codec name, or nil when it is not available here.
local function load_codec(name)
  if name == "dwell.json" or name == "base" then
    local json = require "dwell.json"
    return json.decode, json.encode
  elseif name == "snake" then -- dwell.json renaming keys as dwell.tuya does
    local json, opts = require "dwell.json", { key_case = "snake" }
    return function(s) return json.decode(s, opts) end, json.encode
  elseif name == "lua-cjson" then
    local cjson = require "cjson"
    return cjson.decode, cjson.encode
  end
  package.cpath = peers_cpath
  local ok, m = pcall(require, name)
  if not ok or not PEERS[name] then return nil end
  return PEERS[name](m)
end

local function doc_text(name)
  local json = require "dwell.json"
  local pages = dofile(here .. "/json_pages.lua")
  local docs = dofile(here .. "/json_docs.lua")
  local make = pages[name] or docs[name]
  if make then return assert(json.encode(make(), { sort_keys = true })) end
  for _, f in ipairs(docs.files(here)) do
    if f.name == name then return f.text end
  end
  error("no document " .. name)
end

local function inner(codec, doc, op, n)
  if codec == "base" then
    package.cpath = os.getenv("DWELL_JSON_BASE") .. "/?.so;" .. package.cpath
  end
  local decode, encode = load_codec(codec)
  local text = doc_text(doc)
  local fn, input = decode, text
  if op == "encode" then fn, input = encode, decode(text) end
  assert(fn(input))
  for _ = 1, n do
    collectgarbage("collect")
    measured(fn, input) -- luacheck: globals measured
  end
end

local function count(host, codec, doc, op, n)
  -- The host finds modules where this driver does.
  local cmd = string.format("LUA_PATH='%s' LUA_CPATH='%s' valgrind --tool=callgrind --collect-atstart=no " ..
    "--callgrind-out-file=/dev/null %s %s %s %s %s %d 2>&1", package.path, package.cpath, host, arg[0], codec, doc, op, n)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok = p:close()
  local total = out:match("Collected : (%d+)")
  if not ok or not total or total == "0" then error("no callgrind total from: " .. cmd .. "\n" .. out) end
  return tonumber(total) / n
end

local function available_codecs()
  local list = { "dwell.json", "snake" }
  if os.getenv("DWELL_JSON_BASE") then list[#list + 1] = "base" end
  for _, name in ipairs({ "lua-cjson", "yyjson", "rapidjson", "simdjson" }) do
    if load_codec(name) then list[#list + 1] = name end
  end
  return list
end

local function driver(host, n, docs)
  local codecs = available_codecs()
  if #docs == 0 then
    docs = { "tuya", "rooms", "geo", "strings", "ints" }
    for _, f in ipairs(dofile(here .. "/json_docs.lua").files(here)) do docs[#docs + 1] = f.name end
  end
  print(string.format("instructions per call (callgrind, mean of %d calls, full GC before each); " ..
    "other/dwell.json in parentheses, above 1 = dwell.json runs fewer", n))
  local head = string.format("  %-13s %-6s %12s", "document", "op", "dwell.json")
  for i = 2, #codecs do head = head .. string.format(" %22s", codecs[i]) end
  print(head)
  for _, doc in ipairs(docs) do
    for _, op in ipairs({ "decode", "encode" }) do
      local d = count(host, "dwell.json", doc, op, n)
      local line = string.format("  %-13s %-6s %12.0f", doc, op, d)
      for i = 2, #codecs do
        local c = count(host, codecs[i], doc, op, n)
        line = line .. string.format(" %13.0f (%5.2fx)", c, c / d)
      end
      print(line)
      io.stdout:flush()
    end
  end
end

if measured then -- luacheck: globals measured
  inner(arg[1], arg[2], arg[3], tonumber(arg[4]))
else
  local docs = {}
  for i = 3, #arg do docs[#docs + 1] = arg[i] end
  driver(assert(arg[1], "usage: lua5.4 bench/json_count.lua HOST [calls] [document ...]"), tonumber(arg[2]) or 3, docs)
end
