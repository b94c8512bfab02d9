#!/usr/bin/env lua5.4
--- A small luv program: a local HTTP endpoint whose answers come from Tuya through dwell,
-- without ever blocking its event loop (docs/embedding.md).
--
--   GET /residents?page=N   one page of room users of the first block, as JSON
--   GET /health             answered at once, however many Tuya calls are under way
--
-- Each HTTP request is served by a coroutine of the loop; its dwell call waits in the loop
-- (dwell.loop.luv) while the request to Tuya is in flight, so the server keeps accepting and
-- answering. It starts a local Tuya sandbox to talk to; a real gateway would give its
-- client_id, secret and region instead.
--
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/?.so;;' lua5.4 examples/luv_gateway.lua
--   LUA_PATH=... lua5.4 examples/luv_gateway.lua --self-test 12   # serve 12 concurrent requests, then exit
local uv = require "luv"
local dwell = require "dwell"
local json = require "dwell.json"
local sandbox = require "dwell.sandbox"

local self_test = arg[1] == "--self-test" and (math.tointeger(tonumber(arg[2])) or 12) or nil

-- ---- the upstream: a Tuya client on the loop's transport -----------------------------------
local sb = assert(sandbox.start{ routes = { "tuya" }, latency_ms = 50 })
local creds = assert(sb:control("tuya", "credentials"))
local block_id = creds.block_ids[1]
local transport = assert(require("dwell.loop.luv").transport(uv))
local tuya = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url,
                                transport = transport })

-- ---- the local endpoint: HTTP/1.1, one request per connection ------------------------------
local function respond(client, status, body)
  local reason = ({ [200] = "OK", [404] = "Not Found", [502] = "Bad Gateway" })[status] or "Error"
  client:write(("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
    :format(status, reason, #body, body))
  client:shutdown(function() client:close() end)
end

-- Runs in a coroutine of its own: the Tuya call yields to the loop until its answer is in.
local function serve(client, method, target)
  local path, query = target:match("^([^?]*)%??(.*)$")
  if method == "GET" and path == "/health" then
    return respond(client, 200, json.encode{ ok = true, tuya_requests_in_flight = transport:stats().in_flight })
  end
  if method == "GET" and path == "/residents" then
    local page = math.tointeger(tonumber(query:match("page=(%d+)"))) or 1
    local r, err = tuya.community.room_users{ block_id = block_id, page_no = page, page_size = 5 }
    if not r then return respond(client, 502, json.encode{ error = tostring(err) }) end
    local residents = {}
    for i, u in ipairs(r.data) do residents[i] = { id = u.room_user_id, name = u.real_name, room = u.room_address } end
    return respond(client, 200, json.encode{ page = page, residents = residents })
  end
  respond(client, 404, json.encode{ error = "no such path" })
end

local server = uv.new_tcp()
assert(server:bind("127.0.0.1", 0))
assert(server:listen(128, function(err)
  assert(not err, err)
  local client = uv.new_tcp()
  server:accept(client)
  local buf = ""
  client:read_start(function(rerr, chunk)
    if rerr or not chunk then return client:close() end
    buf = buf .. chunk
    local head = buf:match("^(.-)\r\n\r\n")
    if head then
      client:read_stop()
      local method, target = head:match("^(%u+) (%S+) HTTP/1%.%d")
      if not method then return respond(client, 404, "{}") end
      coroutine.wrap(serve)(client, method, target)
    end
  end)
end))
local port = server:getsockname().port
local base = "http://127.0.0.1:" .. port

local function shutdown()
  server:close()
  transport:close()
  sb:stop()
end

if not self_test then
  print("listening on " .. base .. "  (try: curl '" .. base .. "/residents?page=2')")
  local sigint = uv.new_signal()
  sigint:start("sigint", function()
    sigint:close()
    shutdown()
  end)
  uv.run()
  return
end

-- ---- --self-test: N concurrent clients of the endpoint, in the same loop -------------------
-- the N pages and one /health probe
local answered, residents, health, ticks, outstanding = 0, 0, nil, 0, self_test + 1
local ticker = uv.new_timer()
ticker:start(10, 10, function() ticks = ticks + 1 end)

local function get(target, on_body)
  local c = uv.new_tcp()
  c:connect("127.0.0.1", port, function(err)
    assert(not err, err)
    local data = ""
    c:read_start(function(rerr, chunk)
      assert(not rerr, rerr)
      if chunk then data = data .. chunk return end
      c:close()
      on_body(assert(data:match("^HTTP/1%.1 200 .-\r\n\r\n(.*)$"), data))
    end)
    c:write("GET " .. target .. " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
  end)
end

local function finished()
  outstanding = outstanding - 1
  if outstanding > 0 then return end
  ticker:stop()
  ticker:close()
  local st = transport:stats()
  print(("answered %d requests (%d residents) from %s"):format(answered, residents, base))
  print(("at most %d dwell requests in flight at once; the loop's 10 ms timer fired %d times meanwhile")
    :format(st.max_in_flight, ticks))
  print(("/health answered while %d Tuya requests were in flight; token grants %d")
    :format(health.tuya_requests_in_flight, tuya:token_info().grants))
  shutdown()
end

for page = 1, self_test do
  get("/residents?page=" .. page, function(body)
    local doc = json.decode(body)
    assert(doc.page == page and #doc.residents == 5)
    answered, residents = answered + 1, residents + #doc.residents
    finished()
  end)
end
-- once the Tuya calls are out, /health still answers at once
local probe = uv.new_timer()
probe:start(5, 5, function()
  if transport:stats().in_flight < 2 and answered < self_test then return end
  probe:stop()
  probe:close()
  get("/health", function(body)
    health = json.decode(body)
    finished()
  end)
end)
uv.run()
assert(answered == self_test and health and health.ok)
