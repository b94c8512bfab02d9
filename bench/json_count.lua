--- bench/json_count.lua: instructions per decode, counted by callgrind, for dwell.json and
-- lua-cjson on the bench pages. Unlike time, the counts do not depend on what else the machine
-- is doing and repeat within about 2% (Lua seeds its string hashes from the clock, which moves
-- table collisions), so they show the effect of a change to the decoder that wall-clock noise
-- would hide. They do not see cache misses or branch mispredictions: bench/json.lua gives time.
--   make bench-json-count           (builds the host build/bench/json_count, needs valgrind)
--   lua5.4 bench/json_count.lua HOST [decodes per count, default 3]
-- The last column is dwell.json with { key_case = "snake" } (the pages' keys are camelCase).
-- Each count runs in its own valgrind process: HOST runs this file again with a codec and a
-- page, which decodes the page once untimed, then `decodes` times, each after a full GC, with
-- counting on only inside the decode calls.
local here = ((arg and arg[0] or ""):match("^(.*)/") or ".")

local function inner(codec, page, n)
  local json = require "dwell.json"
  local decode = codec == "lua-cjson" and require("cjson").decode or json.decode
  if codec == "snake" then -- dwell.json renaming keys as dwell.tuya does
    local snake = { key_case = "snake" }
    decode = function(text) return json.decode(text, snake) end
  end
  local pages = dofile(here .. "/json_pages.lua")
  local text = assert(json.encode(pages[page](), { sort_keys = true }))
  decode(text)
  for _ = 1, n do
    collectgarbage("collect")
    measured(decode, text) -- luacheck: globals measured
  end
end

local function count(host, codec, page, n)
  local cmd = string.format("valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null " ..
    "%s %s %s %s %d 2>&1", host, arg[0], codec, page, n)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  local total = out:match("Collected : (%d+)")
  if not total then error("no callgrind total from: " .. cmd .. "\n" .. out) end
  return tonumber(total) / n
end

local function driver(host, n)
  print(string.format("instructions per decode (callgrind, mean of %d decodes, full GC before each)", n))
  print(string.format("  %-6s %16s %16s %8s %18s", "page", "dwell.json", "lua-cjson", "ratio", "key_case=snake"))
  for _, page in ipairs({ "tuya", "rooms" }) do
    local d = count(host, "dwell.json", page, n)
    local c = count(host, "lua-cjson", page, n)
    local s = count(host, "snake", page, n)
    print(string.format("  %-6s %16.0f %16.0f %7.2fx %18.0f", page, d, c, c / d, s))
  end
end

if measured then -- luacheck: globals measured
  inner(arg[1], arg[2], tonumber(arg[3]))
else
  driver(assert(arg[1], "usage: lua5.4 bench/json_count.lua HOST [decodes]"), tonumber(arg[2]) or 3)
end
