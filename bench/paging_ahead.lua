--- bench/paging_ahead.lua: a 20,000-row Tuya export at 50 ms a page of 100, read one page at a
-- time and with ep:each(args, { concurrency = n }), against the ideal ceil(pages / n) x latency
-- (the target: at most 1.25 x that at n = 8). The sandbox runs in this process, its CPU and the
-- client's sharing the machine ("cpu" is the whole process's). One lane by default (LANES=n to
-- change): on a 2-core machine a second lane only takes the client's core (1.25-1.39 x at n = 8
-- with 2 lanes, 1.19-1.20 x with 1, in one session).
-- Not a test: it prints figures, nothing asserts.
--   make bench-paging
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"
local http = require("dwell.core").http

local ROWS, SIZE, LATENCY = 20000, 100, 0.05
local sb = assert(sandbox.start{ latency_ms = math.tointeger(LATENCY * 1000), lanes = math.tointeger(tonumber(os.getenv("LANES"))) or 1,
  routes = { { set = "tuya", config = { blocks = 1, residents_per_block = ROWS } } } })
local creds = sb:control("tuya", "credentials")
local block = sb:control("tuya", "summary").blocks[1].block_id
local tuya = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url })
assert(tuya.community.room_users{ block_id = block, page_no = 1, page_size = 1 }) -- the token, outside the timing

local pages = math.ceil(ROWS / SIZE)
print(("%d rows, %d pages of %d, %d ms a page"):format(ROWS, pages, SIZE, LATENCY * 1000))
print(("%-12s %8s %9s %9s %7s %9s"):format("concurrency", "rows", "seconds", "ideal", "ratio", "cpu s"))
for _, n in ipairs{ 1, 8, 16, 32 } do
  local t0, c0, rows = http.monotonic(), os.clock(), 0
  for _ in tuya.community.room_users:each({ block_id = block, page_size = SIZE }, { concurrency = n }) do rows = rows + 1 end
  local took, cpu = http.monotonic() - t0, os.clock() - c0
  local ideal = math.ceil(pages / n) * LATENCY
  print(("%-12d %8d %9.2f %9.2f %7.2f %9.2f"):format(n, rows, took, ideal, took / ideal, cpu))
end
sb:stop()
