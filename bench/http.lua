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

local ROOM_USERS = "/v1.0/iot-02/community/room-users"
local BLOCK_ID = "1367673991539501234"

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

local function write(path, s)
  local f = assert(io.open(path, "w"))
  f:write(s)
  f:close()
end

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function nginx_binary()
  for _, p in ipairs{ "/usr/sbin/nginx", "/usr/bin/nginx" } do
    local f = io.open(p)
    if f then f:close() return p end
  end
  error("nginx not found: run `DWELL_BOOTSTRAP_EXTRAS=nginx-light scripts/bootstrap`")
end

-- ---- the pages -------------------------------------------------------------------------------

local function floor_page()
  return '{"rows":[' .. ('{"id":1234567890123456789,"name":"resident"},'):rep(340) .. '{"id":0}]}'
end

local function token_page()
  return json.encode({ success = true, t = 1717200000123, tid = "5f1e8a3c0b7d4e2f9a6c1b0d3e5f7a9c",
    result = { access_token = "b4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", refresh_token = "e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4",
      expire_time = 7200, uid = "bay1717200000123abcd" } }, { sort_keys = true })
end

-- A small LCG so the page is the same on every run.
local function rng(seed)
  local state = seed
  return function(n)
    state = (state * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    return (state >> 33) % n
  end
end

local TYPES = { "HOUSEHOLDER", "FAMILY", "TENANT", "FRIEND", "RELATIVES", "OTHER" }
local TYPE_TEXT = { "Owner", "Family member", "Tenant", "Friend", "Relative", "Others" }
local NAMES = { "Li Wei", "Wang Fang", "Zhang Min", "Liu Yang", "Chen Jing", "Anna Berg", "Tom Meyer" }
local STAGES = { 0, 10, 20, 30 }

local function id19(r)
  return tostring(1300000000000000000 + r(99999999) * 1000000000 + r(999999999))
end

-- One row with the fields of a Tuya room user (docs/vendors/tuya.md §7.1), ids as 19-digit strings.
local function room_user(r)
  local t = r(#TYPES) + 1
  local created = 1600000000000 + r(100000000) * 1000 + r(1000)
  local building, unit, room = r(30) + 1, r(6) + 1, r(3000) + 101
  local stage = STAGES[r(#STAGES) + 1]
  local parents = setmetatable({}, json.array_mt)
  for k = 1, 3 do parents[k] = id19(r) end
  return {
    user_id = id19(r), householder_id = id19(r), room_user_id = id19(r), tree_id = id19(r),
    room_user_type = TYPES[t], room_user_type_text = TYPE_TEXT[t],
    expire_date = r(4) == 0 and tostring(created + 31536000000) or "",
    country_code = "86", sex = r(2) + 1, mobile = string.format("1%010d", r(9999999999)),
    card_type = 1, card_no = string.format("11010519%02d%02d%02d%04d", 60 + r(40), r(12) + 1, r(28) + 1, r(9999)),
    if_identify = r(2), real_name = NAMES[r(#NAMES) + 1], real_name_status = r(3),
    space_tree_name = string.format("%d-%d-%d", building, unit, room),
    parent_id_list = parents,
    room_address = string.format("Building %d Unit %d Room %d", building, unit, room),
    auth_time = created + r(86400000), audit_time = created + r(86400000) + 86400000,
    move_out_time = stage == 30 and created + 900000000 or 0, move_out_type = stage == 30 and 1 or 0,
    move_out_time_text = stage == 30 and "2021-03-01 10:00:00" or "",
    gmt_create = created, audit_reason = stage == 10 and "Document unreadable" or "",
    room_user_stage = stage, apply_time = created - r(86400000),
  }
end

local function room_users_page(rows)
  local r = rng(20240601)
  local data = setmetatable({}, json.array_mt)
  for i = 1, rows do data[i] = room_user(r) end
  return json.encode({ success = true, t = 1717200000456, tid = "9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
    result = { total_count = 18734, page_no = 1, page_size = rows, has_more = true, data = data } },
    { sort_keys = true })
end

-- ---- nginx -----------------------------------------------------------------------------------

-- Starts nginx on a free port; returns the base URL, the page sizes and a stop function.
local function start_nginx()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/logs"))
  local sizes = { floor = floor_page(), token = token_page(), room_users = room_users_page(20) }
  for name, body in pairs(sizes) do
    write(dir .. "/" .. name .. ".json", body)
    sizes[name] = #body
  end
  local nginx = nginx_binary()
  for _ = 1, 20 do
    local port = math.random(20000, 60000)
    write(dir .. "/nginx.conf", table.concat({
      "worker_processes 1;", "daemon on;", "pid " .. dir .. "/nginx.pid;",
      "error_log " .. dir .. "/logs/error.log;", "events { worker_connections 64; }",
      "http { access_log off; keepalive_requests 10000000; keepalive_timeout 300s;",
      "  default_type application/json;",
      "  server { listen 127.0.0.1:" .. port .. "; root " .. dir .. ";",
      -- The gateway paths answer whatever the query (grant_type=1, page_no, ...).
      "    location = /v1.0/token { try_files /token.json =404; }",
      "    location = " .. ROOM_USERS .. " { try_files /room_users.json =404; } } }",
    }, "\n"))
    local _, ok = sh(("%s -c %s/nginx.conf -p %s 2>&1"):format(nginx, dir, dir))
    if ok then
      local function stop()
        local f = io.open(dir .. "/nginx.pid")
        local pid = f and f:read("n")
        if f then f:close() end
        if pid then os.execute("kill " .. math.tointeger(pid)) end
        os.execute("sleep 0.2; rm -rf " .. dir)
      end
      return ("http://127.0.0.1:%d"):format(port), sizes, stop
    end
  end
  error("could not start nginx")
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
