#!/usr/bin/env lua5.4
--- dwell inside a host application's own event loop (docs/internals.md, "Transport").
--
-- The host owns the loop and the HTTP session. It gives the client a `transport` whose send()
-- submits the request and yields to the loop (it never blocks), plus park/wake so dwell's
-- single-flight token lock can wait in the same loop. Each dwell call runs as one of the
-- host's coroutines; the loop polls the session and resumes whichever call's response is in.
--
--   lua5.4 examples/host_event_loop.lua --sandbox
--       starts a local Tuya sandbox (one block of 40 residents), runs against it, stops it
--   lua5.4 examples/host_event_loop.lua [--block-id B] [--profile NAME]
--       Tuya from the settings chain: DWELL_TUYA_* (or the profile file), DWELL_TUYA_BLOCK_ID
--
-- Ten pages of a block's room users are read at once, beside a paged walk of its approved
-- residents, all through one token grant.
local ex = dofile((debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "_setup.lua")
local parser = ex.parser("host_event_loop.lua",
  "dwell calls as coroutines of a host's own event loop, through a non-blocking host transport.",
  { sandbox = "Start a local Tuya sandbox (40 residents), run against it, stop it." })
ex.block_option(parser)
local args = parser:parse(arg)

local dwell = require "dwell"
local http = require("dwell.core").http

-- ---- the host's loop (in a real application: its own, e.g. a GUI or server loop) ----------
local session = assert(http.new_session())
local ready, waiting, n_waiting, live, max_waiting, sent = {}, {}, 0, 0, 0, 0

local transport = {}
-- req = { method, url, headers, body, idempotent, deadline_ms (what is left of the call's
-- deadline), fresh_connect (a write that must not ride on a reused connection), ... }
function transport.send(_, req)
  local id, err = session:submit{ method = req.method, url = req.url, headers = req.headers, body = req.body,
                                  timeout_ms = math.min(10000, req.deadline_ms or 10000),
                                  fresh_connect = req.fresh_connect }
  if not id then return nil, { kind = "transport", message = err } end
  sent = sent + 1
  return coroutine.yield("http", id) -- the loop resumes us with resp, err
end
function transport.park() return coroutine.yield("park") end    -- wait for the token lock
function transport.wake(_, co) ready[#ready + 1] = { co } end    -- the lock was handed to co

local function step(co, ...)
  local ok, what, id = coroutine.resume(co, ...)
  if not ok then error(what, 0) end
  if coroutine.status(co) == "dead" then live = live - 1
  elseif what == "http" then
    waiting[id], n_waiting = co, n_waiting + 1
    max_waiting = math.max(max_waiting, n_waiting)
  end
end

local function spawn(fn)
  live = live + 1
  ready[#ready + 1] = { coroutine.create(fn) }
end

local function run()
  while live > 0 do
    if #ready > 0 then
      local batch = ready
      ready = {}
      for _, r in ipairs(batch) do step(r[1], table.unpack(r, 2)) end
    else
      assert(n_waiting > 0, "every coroutine is parked")
      for _, r in ipairs(assert(session:poll(1000))) do
        local co = waiting[r.id]
        waiting[r.id], n_waiting = nil, n_waiting - 1
        step(co, r.resp, r.err)
      end
    end
  end
end

-- ---- dwell calls as host coroutines --------------------------------------------------------
local sb, tuya, block_id, err
if args.sandbox then
  sb = assert(require("dwell.sandbox").start{ host = "127.0.0.1", port = 0,
    routes = { { set = "tuya", config = { blocks = 1, residents_per_block = 40 } } } })
  local creds = sb:control("tuya", "credentials")
  block_id = sb:control("tuya", "summary").blocks[1].block_id
  tuya = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url,
                            transport = transport })
else
  -- everything but the transport from the settings chain (DWELL_TUYA_*, then the profile file)
  tuya, err = dwell.tuya{ profile = args.profile, transport = transport }
  if not tuya then ex.die("host_event_loop", err, ex.USAGE) end
  block_id, err = ex.block_id(args)
  if not block_id then ex.die("host_event_loop", err, ex.USAGE) end
end

local pages, approved = {}, 0
for page = 1, 10 do
  spawn(function()
    local r = assert(tuya.community.room_users{ block_id = block_id, page_no = page, page_size = 4 })
    pages[page] = #r.data
  end)
end
spawn(function()
  for r in tuya.community.room_users:each{ block_id = block_id, room_user_stage = 20 } do
    if r.room_user_stage == 20 then approved = approved + 1 end
  end
end)
run()

local listed = 0
for page = 1, 10 do listed = listed + pages[page] end
print(("listed %d room users over 10 pages and %d approved residents"):format(listed, approved))
-- Counted by the loop itself (requests submitted and not yet answered), not by the server's
-- timing: the calls overlap whenever the loop holds several of them in flight.
local grants = tuya:token_info().grants
print(("requests sent %d, at most %d at once, token grants %d"):format(sent, max_waiting, grants))
if sb then
  sb:stop()
  assert(listed == 40 and approved > 0, "the sandbox's block has 40 room users, some approved")
end
assert(grants == 1, "one token grant for all the calls")
