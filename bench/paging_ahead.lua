--- bench/paging_ahead.lua: a 20,000-row Tuya export at 50 ms a page of 100, read one page at a
-- time and with ep:each(args, { concurrency = n }), against the ideal ceil(pages / n) x latency.
-- Not a test: it prints figures, nothing asserts.
--   make bench-paging
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"
local http = require("dwell.core").http

local ROWS, SIZE, LATENCY = 20000, 100, 0.05
local sb = assert(sandbox.start{ latency_ms = math.tointeger(LATENCY * 1000), lanes = 2,
  routes = { { set = "tuya", config = { blocks = 1, residents_per_block = ROWS } } } })
local creds = sb:control("tuya", "credentials")
local block = sb:control("tuya", "summary").blocks[1].block_id
local tuya = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url })
assert(tuya.community.room_users{ block_id = block, page_no = 1, page_size = 1 }) -- the token, outside the timing

local pages = math.ceil(ROWS / SIZE)
print(("%d rows, %d pages of %d, %d ms a page"):format(ROWS, pages, SIZE, LATENCY * 1000))
print(("%-12s %8s %9s %9s %7s"):format("concurrency", "rows", "seconds", "ideal", "ratio"))
for _, n in ipairs{ 1, 8, 32 } do
  local t0, rows = http.monotonic(), 0
  for _ in tuya.community.room_users:each({ block_id = block, page_size = SIZE }, { concurrency = n }) do rows = rows + 1 end
  local took = http.monotonic() - t0
  -- the first page alone, then the rest n at a time
  local ideal = (1 + math.ceil((pages - 1) / n)) * LATENCY
  print(("%-12d %8d %9.2f %9.2f %7.2f"):format(n, rows, took, ideal, took / ideal))
end
sb:stop()
