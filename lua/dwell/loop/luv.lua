--- dwell.loop.luv: a transport for dwell clients inside a libuv loop (luv).
--
--   local uv = require "luv"
--   local t = assert(require("dwell.loop.luv").transport(uv))
--   local tuya = assert(dwell.tuya{ client_id = ..., secret = ..., transport = t })
--   coroutine.wrap(function() local page = tuya.community.room_users{ ... } end)()
--   uv.run()
--
-- Each dwell call runs in a coroutine of the program (coroutine.wrap(fn)() from the main chunk
-- or from any luv callback); while its request is in flight the coroutine is suspended and the
-- loop goes on. curl's sockets are watched with uv poll handles and its timer is a uv timer;
-- retry waits are uv timers; the token lock's waiters are resumed from a uv idle handle.
-- `t:close()` cancels what is in flight and closes every handle the transport opened.
-- luv is an optional dependency: without it transport() returns nil, dwell.error.
local loop = require "dwell.loop"

local M = {}

local LABEL = "dwell.loop.luv"

-- Our resumes carry this first, so a coroutine resumed by someone else is caught.
local MARK = setmetatable({}, { __name = "dwell.loop.luv.mark" })

local POLL_EVENTS = { ["in"] = "r", out = "w", inout = "rw" }

local function what_of(events)
  if type(events) ~= "string" then return nil end
  local r, w = events:find("r", 1, true), events:find("w", 1, true)
  if r and w then return "inout" end
  return (r and "in") or (w and "out") or nil
end

local function backend(uv, engine)
  local b = { polls = {}, want = {}, sleepers = {}, woken = {}, closed = false }
  local curl_timer = uv.new_timer()
  local idle -- resumes woken coroutines on the next turn of the loop

  -- Resumes co with our mark; an error raised in it goes to the engine.
  local function resume(co, ...)
    local ok, err = coroutine.resume(co, MARK, ...)
    if not ok then engine:_resume_failed(debug.traceback(co, tostring(err)), co) end
  end

  -- Suspends the running coroutine until one of our resumes; returns what it carried.
  local function suspend()
    local function check(mark, ...)
      if mark ~= MARK then
        error(LABEL .. ": a coroutine waiting in dwell was resumed by someone else", 0)
      end
      return ...
    end
    return check(coroutine.yield())
  end

  function b.watch(_, fd, what)
    local p = b.polls[fd]
    if not p then
      p = uv.new_socket_poll(fd)
      b.polls[fd] = p
    end
    local function on_poll(err, events)
      engine:ready(fd, err and "err" or what_of(events))
      -- On a socket error (a refused connect: EPOLLERR) libuv stops the handle and reports
      -- EBADF (luv prints that to stderr); if curl still wants the socket, watch it again.
      if err and b.polls[fd] == p and not b.closed then p:start(POLL_EVENTS[b.want[fd]], on_poll) end
    end
    b.want[fd] = what
    p:start(POLL_EVENTS[what], on_poll)
  end

  function b.unwatch(_, fd)
    local p = b.polls[fd]
    if p then
      b.polls[fd], b.want[fd] = nil, nil
      p:stop()
      p:close()
    end
  end

  function b.timer(_, ms)
    if b.closed then return end
    curl_timer:stop()
    if ms then curl_timer:start(ms, 0, function() engine:timeout() end) end
  end

  function b.kick() end

  function b.slot() return { co = coroutine.running() } end
  function b.wait(_, _) return suspend() end
  function b.deliver(_, slot, ...) return resume(slot.co, ...) end

  function b.sleep(_, seconds)
    local co = coroutine.running()
    local tm = uv.new_timer()
    b.sleepers[tm] = co
    tm:start(math.max(0, math.ceil(seconds * 1000)), 0, function()
      b.sleepers[tm] = nil
      tm:close()
      resume(co)
      engine:_raise_deferred()
    end)
    return suspend()
  end

  function b.park() return suspend() end

  local function drain()
    while #b.woken > 0 do
      local batch = b.woken
      b.woken = {}
      for _, co in ipairs(batch) do resume(co) end
    end
    if not b.closed then idle:stop() end
    engine:_raise_deferred()
  end

  function b.wake(_, co)
    if b.closed then return resume(co) end
    b.woken[#b.woken + 1] = co
    if not idle then idle = uv.new_idle() end
    if #b.woken == 1 then idle:start(drain) end
  end

  function b.in_loop()
    local _, main = coroutine.running()
    return not main and coroutine.isyieldable()
  end

  function b.close()
    if b.closed then return end
    b.closed = true
    for fd in pairs(b.polls) do b.unwatch(nil, fd) end
    curl_timer:stop()
    curl_timer:close()
    local sleepers, woken = b.sleepers, b.woken
    b.sleepers, b.woken = {}, {}
    if idle then
      idle:stop()
      idle:close()
    end
    for tm, co in pairs(sleepers) do
      tm:stop()
      tm:close()
      resume(co)
    end
    for _, co in ipairs(woken) do resume(co) end
  end

  return b
end

--- transport(uv [, opts]) -> transport | nil, dwell.error. `uv` is the luv module (nil:
-- require "luv"); opts are dwell.transport's options (timeout_ms, retry, deadline_ms, proxy,
-- on_request, ...) plus on_error(err, co) for errors raised in coroutines it resumed.
function M.transport(uv, opts)
  if uv == nil then
    local ok, mod = pcall(require, "luv")
    if not ok then return loop.missing(LABEL, "luv", mod) end
    uv = mod
  end
  if type(uv) ~= "table" or type(uv.new_socket_poll) ~= "function" or type(uv.new_timer) ~= "function"
    or type(uv.new_idle) ~= "function" then
    return nil, require("dwell.error").invalid_argument(nil, LABEL, "uv", "must be the luv module (require \"luv\")")
  end
  return loop.new(LABEL, function(engine) return backend(uv, engine) end, opts)
end

return M
