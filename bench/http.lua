--- bench/http.lua: client CPU per keep-alive GET, dwell.core.http and a full signed Tuya call
-- against a plain libcurl loop, and dwell.parallel throughput against the sandbox.
-- Not a test: it prints figures, nothing asserts speed.
--   lua5.4 bench/http.lua RAW_CURL_BINARY [requests, default 20000] [rounds, default 7]
--
-- nginx (Debian's nginx-light) serves static files on 127.0.0.1 from a temp config: a 15 KB
-- JSON page, and the two Tuya gateway paths a room-users call touches (the token grant and a
-- ~15 KB page of 20 room users). nginx checks no signature; only the client's CPU is measured.
-- CPU time is user+sys of the client only: getrusage in raw_curl, os.clock() (process CPU time)
-- here. Rounds are interleaved; each row shows the best round, the median and the spread
-- (worst/best - 1), since a shared machine adds noise upward only.
local http = require("dwell.core").http
local json = require "dwell.json"

local raw_curl = assert(arg[1], "usage: bench/http.lua RAW_CURL_BINARY [requests] [rounds]")
local N = tonumber(arg[2]) or 20000
local ROUNDS = tonumber(arg[3]) or 7

local here = ((arg and arg[0] or ""):match("^(.*)/") or ".")
local nginx = dofile(here .. "/nginx.lua")
local pages = dofile(here .. "/tuya_pages.lua")
local ROOM_USERS, BLOCK_ID = pages.ROOM_USERS, pages.BLOCK_ID
local common = dofile(here .. "/common.lua")
local sh, quote = common.sh, common.quote

-- ---- the pages -------------------------------------------------------------------------------

local function floor_page()
  return '{"rows":[' .. ('{"id":1234567890123456789,"name":"resident"},'):rep(340) .. '{"id":0}]}'
end

-- Starts nginx; returns the base URL, the page sizes and a stop function.
local function start_nginx()
  local bodies = { floor = floor_page(), token = pages.token_page(), room_users = pages.room_users_page(20) }
  local files, sizes = {}, {}
  for name, body in pairs(bodies) do files[name .. ".json"], sizes[name] = body, #body end
  local base, stop = nginx.start(files, {
    -- The gateway paths answer whatever the query (grant_type=1, page_no, ...).
    "location = /v1.0/token { try_files /token.json =404; }",
    "location = " .. ROOM_USERS .. " { try_files /room_users.json =404; }",
  })
  return base, sizes, stop
end

-- ---- the measured loops ----------------------------------------------------------------------

-- `headers` is a list of "name: value" lines sent by the C loop.
local function raw_round(url, headers)
  local args = {}
  for i, h in ipairs(headers or {}) do args[i] = quote(h) end
  local out = sh(("%s %s %d %s %s"):format(raw_curl, quote(url), N, quote(http.user_agent), table.concat(args, " ")))
  return (assert(tonumber(out), "raw_curl failed: " .. out))
end

local function dwell_round(session, req, after)
  assert(session:request(req).status == 200)
  local t0 = os.clock()
  for _ = 1, N do
    local r = session:request(req)
    if after then after(r) end
  end
  return os.clock() - t0
end

local function full_round(call, args)
  assert(call(args))
  local t0 = os.clock()
  for _ = 1, N do call(args) end
  return os.clock() - t0
end

local function parallel_throughput()
  local ok, sandbox = pcall(require, "dwell.sandbox")
  if not ok then return nil end
  local dwell = require "dwell"
  local sb <close> = assert(sandbox.start{ routes = { "static" }, latency_ms = 50 })
  local t = dwell.transport.new{}
  local calls, n = {}, 16 * 20
  for i = 1, n do calls[i] = { function() return assert(t:send{ url = sb.url .. "/static/1024" }).status end } end
  dwell.parallel({ calls[1] }, { concurrency = 1 })
  local t0 = http.monotonic()
  local results = dwell.parallel(calls, { concurrency = 16 })
  local dt = http.monotonic() - t0
  assert(#results == n)
  return n / dt, sb:stats().max_in_flight
end

-- ---- the report ------------------------------------------------------------------------------

local function summary(samples)
  local s = {}
  for i, v in ipairs(samples) do s[i] = v end
  table.sort(s)
  local mid = #s // 2
  local median = #s % 2 == 1 and s[mid + 1] or (s[mid] + s[mid + 1]) / 2
  return s[1], median, s[#s] / s[1] - 1
end

local function print_rows(title, rows, times, floor)
  print(title)
  print(("  %-52s %9s %9s %7s %9s"):format("", "best us", "median us", "spread", "ratio"))
  local floor_best, floor_median = summary(times[floor])
  for _, row in ipairs(rows) do
    local best, median, spread = summary(times[row[1]])
    print(("  %-52s %9.2f %9.2f %6.1f%% %6.3fx (median %5.3fx)"):format(row[2], best / N * 1e6, median / N * 1e6,
      spread * 100, best / floor_best, median / floor_median))
  end
end

local function signed_request(tuya, base)
  local args = { block_id = BLOCK_ID, page_no = 1, page_size = 20 }
  local prepared = assert(tuya.community.room_users:prepare(args))
  assert(prepared.url:sub(1, #base) == base and prepared.method == "GET")
  local lines = {}
  for name, value in pairs(prepared.headers) do lines[#lines + 1] = name .. ": " .. value end
  table.sort(lines)
  return args, prepared, lines
end

local base, sizes, stop = start_nginx()
local ok, err = xpcall(function()
  local tuya = assert(require("dwell").tuya{ client_id = "benchclientid0000001", secret = ("s"):rep(32), base_url = base })
  local room_users = tuya.community.room_users
  local call = function(a) return room_users(a) end
  local args, prepared, header_lines = signed_request(tuya, base)
  local session = http.new_session()
  local floor_req = { url = base .. "/floor.json" }
  local signed_req = { url = prepared.url, headers = prepared.headers }
  local page = assert(room_users(args))
  assert(#page.data == 20 and page.data[1].room_user_id:match("^%d+$"))

  local names = { "raw", "dwell", "dwell_h", "raw_signed", "dwell_signed", "dwell_signed_json", "full" }
  local times = {}
  for _, k in ipairs(names) do times[k] = {} end
  local function add(k, v) times[k][#times[k] + 1] = v end
  local decode = function(r) json.decode(r.body) end
  for _ = 1, ROUNDS do
    add("raw", raw_round(floor_req.url))
    add("dwell", dwell_round(session, floor_req))
    add("dwell_h", dwell_round(session, floor_req, function(r) local _ = r.headers end))
    add("raw_signed", raw_round(prepared.url, header_lines))
    add("dwell_signed", dwell_round(session, signed_req))
    add("dwell_signed_json", dwell_round(session, signed_req, decode))
    add("full", full_round(call, args))
  end

  print(("client CPU (user+sys) per keep-alive GET, %d requests per round, %d rounds"):format(N, ROUNDS))
  print_rows(("plain GET of a %d-byte JSON page:"):format(sizes.floor), {
    { "raw", "C loop, one libcurl easy handle (floor)" },
    { "dwell", "dwell.core.http session:request" },
    { "dwell_h", "dwell.core.http session:request + .headers" },
  }, times, "raw")
  print_rows(("signed Tuya room-users GET, %d-byte page (20 rows), %d headers:"):format(sizes.room_users,
    #header_lines), {
    { "raw_signed", "C loop, same URL and headers (floor)" },
    { "dwell_signed", "dwell.core.http session:request, same request" },
    { "dwell_signed_json", "  + dwell.json.decode of the body" },
    { "full", "tuya.community.room_users{...}, full signed call" },
  }, times, "raw_signed")
  -- What the Lua layers add on top of what any Lua client pays (the fetch and the decode).
  local full, base_cost = summary(times.full), summary(times.dwell_signed_json)
  print(("  the Lua layers (validate, sign, transport, envelope) add %.2f us/call = %.3fx of fetch + decode"):format(
    (full - base_cost) / N * 1e6, full / base_cost))
end, debug.traceback)
stop()
assert(ok, err)

local rate, max_in_flight = parallel_throughput()
if rate then
  local ideal = 16 / 0.05
  print(("dwell.parallel, concurrency 16, sandbox latency 50 ms: %.1f req/s = %.3f of ideal %d req/s"
    .. " (max in flight %d)"):format(rate, rate / ideal, ideal, max_in_flight))
end
