--- bench/json.lua: decode/encode throughput of dwell.json against lua-cjson, dkjson and any
-- peer codec built in the git-ignored bench/peers/lib/ (yyjson, rapidjson, simdjson).
-- Not a test: it prints MB/s and the ratios to lua-cjson, all measured in this run.
--   lua5.4 bench/json.lua [repetitions, default 31] [document, default all]
-- Documents: tuya, rooms (bench/json_pages.lua); geo, strings, ints (bench/json_docs.lua);
-- canada, citm_catalog, twitter when present in bench/peers/data/.
--
-- Method, so that a figure can be trusted on a shared, noisy machine:
--  * every codec decodes the same text and encodes the same value (the generated page, whose
--    arrays carry json.array_mt), in the same process;
--  * each repetition runs every codec once, in rotating order; each timed run is one call
--    that starts after a full collectgarbage("collect"), so no codec pays for another's
--    garbage, and whose result is dropped, so the live heap is the same for every codec;
--  * time is process CPU time (os.clock); the report gives the median MB/s and the spread
--    (min..max) over the repetitions, and the median of the per-repetition ratios to
--    lua-cjson, which cancels slow drifts in machine load.
local json = require "dwell.json"
local cjson = require "cjson"
local ok_dk, dkjson = pcall(require, "dkjson")

-- The documents, generated identically on every machine (bench/json_pages.lua, json_docs.lua).
local here = ((arg and arg[0] or ""):match("^(.*)/") or ".")
local pages = dofile(here .. "/json_pages.lua")
local docs = dofile(here .. "/json_docs.lua")

-- Peer codecs built for comparison (never committed), loaded when present.
local function peers()
  local list, saved = {}, package.cpath
  package.cpath = here .. "/peers/lib/?.so;" .. package.cpath
  local ok, yy = pcall(require, "yyjson")
  if ok then
    list[#list + 1] = { name = "yyjson", own_values = true,
      decode = function(t) return yy.decode(t, true) end, encode = yy.encode }
  end
  local okr, rj = pcall(require, "rapidjson")
  if okr then list[#list + 1] = { name = "rapidjson", own_values = true, decode = rj.decode, encode = rj.encode } end
  local oks, sj = pcall(require, "simdjson")
  if oks then list[#list + 1] = { name = "simdjson", own_values = true, decode = sj.parse, encode = sj.encode } end
  package.cpath = saved
  return list
end
local peer_list = peers()

local reps = math.max(3, math.tointeger(tonumber(arg and arg[1]) or 31) or 31)
local only = arg and arg[2]

-- CPU seconds of one call fn(arg), after a full collection. The result is dropped at
-- once, so the only live data are the inputs, the same for every codec.
local function timed(fn, arg)
  collectgarbage("collect")
  local t0 = os.clock()
  fn(arg)
  return os.clock() - t0
end

local function median(list)
  local s = {}
  for i, v in ipairs(list) do s[i] = v end
  table.sort(s)
  local n = #s
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

local function spread(list)
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(list) do lo, hi = math.min(lo, v), math.max(hi, v) end
  return lo, hi
end

-- dkjson has its own null; the shared input uses json.null (== cjson.null).
local function dk_null(_, value, _, message)
  if value == json.null then return "null" end
  return nil, message
end

local function codecs()
  local list = {
    { name = "dwell.json", decode = json.decode, encode = json.encode },
    { name = "lua-cjson", decode = cjson.decode, encode = cjson.encode },
  }
  for _, p in ipairs(peer_list) do list[#list + 1] = p end
  if ok_dk then
    -- Two orders of magnitude slower and only there for context: a few runs suffice.
    list[#list + 1] = { name = "dkjson", reps = 5,
      decode = function(s) return dkjson.decode(s, 1, dkjson.null) end,
      encode = function(v) return dkjson.encode(v, { exception = dk_null }) end }
  end
  return list
end

-- One operation ("decode" or "encode") of every codec on its input (inputs[i]), `reps` times,
-- interleaved in rotating order.
local function measure(list, op, inputs, mb)
  local rates, ratios = {}, {}
  for i = 1, #list do rates[i], ratios[i] = {}, {} end
  for i, c in ipairs(list) do c[op](inputs[i]) end -- warm up
  for r = 1, reps do
    local secs = {}
    for k = 0, #list - 1 do
      local i = (r + k - 1) % #list + 1
      if r <= (list[i].reps or reps) then secs[i] = timed(list[i][op], inputs[i]) end
    end
    for i = 1, #list do
      if secs[i] then
        rates[i][#rates[i] + 1] = mb / secs[i]
        ratios[i][#ratios[i] + 1] = secs[2] / secs[i]
      end
    end
  end
  local out = {}
  for i = 1, #list do
    local lo, hi = spread(rates[i])
    local rlo, rhi = spread(ratios[i])
    out[i] = { med = median(rates[i]), lo = lo, hi = hi,
      ratio = median(ratios[i]), rlo = rlo, rhi = rhi, n = #rates[i] }
  end
  return out
end

local function bench_doc(title, doc)
  -- Sorted keys: the same text in every process (table order depends on a per-state seed).
  local text = assert(json.encode(doc, { sort_keys = true }))
  local mb = #text / 1e6
  local list = codecs()
  print(string.format("\n%s: %.2f MB", title, mb))
  print(string.format("  %-11s %-6s %5s %9s %19s %8s %15s",
    "codec", "op", "runs", "MB/s", "(min..max)", "/cjson", "(min..max)"))
  for _, op in ipairs({ "decode", "encode" }) do
    -- Every codec decodes the same text. The encoders take the same value, except the peers,
    -- which have their own null and array conventions: they encode what they decoded.
    local inputs = {}
    for i, c in ipairs(list) do
      if op == "decode" then inputs[i] = text
      elseif c.own_values then inputs[i] = c.decode(text)
      else inputs[i] = doc end
    end
    local res = measure(list, op, inputs, mb)
    for i, c in ipairs(list) do
      local m = res[i]
      print(string.format("  %-11s %-6s %5d %9.1f %8.1f..%-8.1f %7.2fx %6.2f..%-6.2f",
        c.name, op, m.n, m.med, m.lo, m.hi, m.ratio, m.rlo, m.rhi))
    end
  end
  local back = json.decode(text)
  local id = back.result and back.result.data[1].room_user_id
  if id then
    print(string.format("  exactness: room_user_id %s, dwell.json re-encodes it as %s, lua-cjson as %s",
      math.tointeger(id), json.encode(id), cjson.encode(cjson.decode(text).result.data[1].room_user_id)))
  end
end

print(string.format("%s; lua-cjson %s; dkjson %s; median of up to %d interleaved runs, full GC before each",
  _VERSION, cjson._VERSION or "?", ok_dk and dkjson.version or "missing", reps))
local DOCS = {
  { "tuya", "Tuya room-users page (2000 rows)", pages.tuya },
  { "rooms", "Rooms users page (1000 users)", pages.rooms },
  { "geo", "GeoJSON polygons (float-heavy)", docs.geo },
  { "strings", "status page (string-heavy)", docs.strings },
  { "ints", "event catalogue (integer-heavy)", docs.ints },
}
for _, f in ipairs(docs.files(here)) do
  DOCS[#DOCS + 1] = { f.name, f.name .. ".json", function() return assert(json.decode(f.text)) end }
end
for _, d in ipairs(DOCS) do
  if not only or only == d[1] then bench_doc(d[2], d[3]()) end
end
