--- bench/wire_counts.lua: requests on the wire, seconds taken and secrets shown for each hostile
-- case of the pipeline issue, so that one tree can be compared with another (run it from each
-- checkout with LUA_PATH pointing at that checkout's lua/ and at this checkout's spec/ for the
-- hostile server). Not a test: it prints figures, nothing asserts.
--   make bench-wire                      (this tree)
--   LUA_PATH='/tmp/old/lua/?.lua;/tmp/old/lua/?/init.lua;spec/?.lua;;' \
--     LUA_CPATH='/tmp/old/build/?.so;;' lua5.4 bench/wire_counts.lua   (another tree)
local dwell = require "dwell"
local hostile = require "support.hostile"
local http = require("dwell.core").http

local SECRET = "tuya-secret-0123456789abcdef"
local TOKEN = "AT-hostile-access-token-0123456789"
local C = "/v1.0/iot-02/community"
local PAGE_CAP = 300 -- a paged read still going after this many pages is reported as endless

local function ok(result) return { status = 200, body = { success = true, t = 1, result = result } } end
local GRANT = ok{ access_token = TOKEN, expire_time = 7200 }

local function tuya(h, extra)
  local cfg = { client_id = "cid-bench", secret = SECRET, base_url = h.url }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return assert(dwell.tuya(cfg))
end

local function rooms(h, extra)
  local cfg = { account_id = "6a1c2d3e-0000-4000-8000-00000000d0c5", base_url = h.url .. "/restapi",
    auth_base_url = h.url, access_token = TOKEN }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return assert(dwell.rooms(cfg))
end

local PID = "7f3e2a10-4b5c-4d6e-8f90-a1b2c3d4e5f6"
local RP = "/residents/properties/" .. PID
local function ruckus(h, extra)
  local cfg = { property_id = PID, hashed_secret = "hashed-secret-0123456789abcdef", base_url = h.url,
    rate_limit = false }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return assert(dwell.ruckus(cfg))
end

-- How many of `secrets` any string field of err (or tostring(err)) repeats.
local function leaks(err, secrets)
  if type(err) ~= "table" then return 0 end
  local parts = { tostring(err) }
  local function walk(v, depth)
    if type(v) == "string" then parts[#parts + 1] = v
    elseif type(v) == "table" and depth < 6 then for _, x in pairs(v) do walk(x, depth + 1) end end
  end
  for _, v in pairs(err) do walk(v, 1) end
  local text, n = table.concat(parts, "\n"), 0
  for _, s in ipairs(secrets) do if text:find(s, 1, true) then n = n + 1 end end
  return n
end

local function pages_until_stop(ep, args)
  local n = 0
  pcall(function()
    for _ in ep:pages(args) do
      n = n + 1
      if n >= PAGE_CAP then error("cap", 0) end
    end
  end)
  return n >= PAGE_CAP and (">= " .. PAGE_CAP .. " (no end)") or tostring(n)
end

local CASES = {
  { "tuya move-out PUT answered 503", function(h)
    local path = C .. "/room-users/11/move-out"
    h:script("GET", "/v1.0/token", { GRANT })
    h:script("PUT", path, { { status = 503 } })
    tuya(h):request{ method = "PUT", path = path, body = { block_id = "1" } }
    return h:count("PUT", path)
  end },
  { "tuya POST read then dropped on a kept-alive connection", function(h)
    h:script("GET", "/v1.0/token", { GRANT })
    h:script("GET", C .. "/room-users", { ok{ data = {} } })
    h:script("POST", C .. "/member", { { close = true } })
    local c = tuya(h)
    c.community.room_users{ block_id = "1", page_no = 1, page_size = 20 }
    c:request{ method = "POST", path = C .. "/member", body = { block_id = "1" } }
    return h:count("POST", C .. "/member")
  end },
  { "tuya 1110 at 1 s latency, deadline_ms = 2500", function(h)
    h:script("GET", "/v1.0/token", { GRANT })
    h:script("GET", C .. "/room-users", { { delay_ms = 1000, status = 200,
      body = { success = false, code = 1110, msg = "limit", t = 1 } } })
    tuya(h, { deadline_ms = 2500 }).community.room_users{ block_id = "1", page_no = 1, page_size = 20 }
    return h:count("GET", C .. "/room-users")
  end },
  { "tuya token fetch 400 ms + call 400 ms, deadline_ms = 500", function(h)
    h:script("GET", "/v1.0/token", { { delay_ms = 400, status = 200, body = GRANT.body } })
    h:script("GET", C .. "/room-users", { { delay_ms = 400, status = 200, body = ok{ data = {} }.body } })
    tuya(h, { deadline_ms = 500 }).community.room_users{ block_id = "1", page_no = 1, page_size = 20 }
    return h:count("GET", C .. "/room-users")
  end },
  { "tuya echoing server: secrets shown in the error", function(h)
    h:script("GET", "/v1.0/token", { GRANT })
    h:script("GET", C .. "/room-users", { { echo = "tuya", code = 1106 } })
    local _, err = tuya(h).community.room_users{ block_id = "1", page_no = 1, page_size = 20 }
    local sent = h:requests()
    return h:count("GET", C .. "/room-users"), leaks(err, { TOKEN, SECRET, sent[#sent].headers.sign })
  end },
  { "tuya pages alternating A/B: pages read", function(h)
    h:script("GET", "/v1.0/token", { GRANT })
    h:pages("GET", C .. "/room-users", "tuya", "alternate")
    return pages_until_stop(tuya(h).community.room_users, { block_id = "1" })
  end },
  { "tuya total that grows: pages read", function(h)
    h:script("GET", "/v1.0/token", { GRANT })
    h:pages("GET", C .. "/room-users", "tuya", "growing")
    return pages_until_stop(tuya(h).community.room_users, { block_id = "1" })
  end },
  { "tuya 2 MB answer over max_response_bytes = 100000", function(h)
    h:script("GET", "/v1.0/token", { GRANT })
    h:script("GET", C .. "/room-users", { { status = 200, body = ("x"):rep(2000000) } })
    tuya(h, { max_response_bytes = 100000 }).community.room_users{ block_id = "1", page_no = 1, page_size = 20 }
    return h:count("GET", C .. "/room-users")
  end },
  { "rooms 2 GETs at the hourly limit (Retry-After 1)", function(h)
    local path = "/restapi/v2/accounts/6a1c2d3e-0000-4000-8000-00000000d0c5/rooms/42"
    h:script("GET", path, { { status = 429, retry_after = "1",
      body = { errorCode = "HOURLY_APIINVOCATION_LIMIT_EXCEEDED", message = "limit" } } })
    local c = rooms(h, { deadline_ms = 30000 })
    c.rooms.get{ room_id = 42 }
    c.rooms.get{ room_id = 42 }
    return h:count("GET", path)
  end },
  { "rooms Retry-After: 30 with deadline_ms = 5000", function(h)
    local path = "/restapi/v2/accounts/6a1c2d3e-0000-4000-8000-00000000d0c5/rooms/42"
    h:script("GET", path, { { status = 429, retry_after = "30", body = { errorCode = "x", message = "limit" } } })
    rooms(h, { deadline_ms = 5000 }).rooms.get{ room_id = 42 }
    return h:count("GET", path)
  end },
  { "rooms echoing server: secrets shown in the error", function(h)
    local path = "/restapi/v2/accounts/6a1c2d3e-0000-4000-8000-00000000d0c5/rooms/42"
    h:script("GET", path, { { echo = "rooms", status = 400 } })
    local _, err = rooms(h).rooms.get{ room_id = 42 }
    return h:count("GET", path), leaks(err, { TOKEN })
  end },
  { "ruckus echoing server: secrets shown in the error", function(h)
    h:script("POST", RP .. "/units/logins", { { status = 200, body = { token = TOKEN, unitGuid = "u" } } })
    h:script("GET", RP .. "/units", { { echo = "ruckus", status = 400 } })
    local _, err = ruckus(h).units.get{}
    return h:count("GET", RP .. "/units"), leaks(err, { TOKEN, "hashed-secret-0123456789abcdef" })
  end },
  { "ruckus pages alternating A/B: pages read", function(h)
    h:script("POST", RP .. "/units/logins", { { status = 200, body = { token = TOKEN, unitGuid = "u" } } })
    h:pages("POST", RP .. "/units/users/query", "ruckus", "alternate")
    return pages_until_stop(ruckus(h).units.users.query, {})
  end },
}

print(("%-58s %12s %8s %8s"):format("case", "requests", "seconds", "leaks"))
for _, case in ipairs(CASES) do
  local h = hostile.start{}
  local t0 = http.monotonic()
  local okk, count, leaked = pcall(case[2], h)
  local took = http.monotonic() - t0
  h:stop()
  if not okk then count, leaked = "raised: " .. tostring(count):sub(1, 40), nil end
  print(("%-58s %12s %8.2f %8s"):format(case[1], tostring(count), took, leaked and tostring(leaked) or "-"))
end
