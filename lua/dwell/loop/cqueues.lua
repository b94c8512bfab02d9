--- dwell.loop.cqueues: a transport for dwell clients inside a cqueues controller.
--
--   local cqueues = require "cqueues"
--   local cq = cqueues.new()
--   local t = assert(require("dwell.loop.cqueues").transport(cq))
--   local tuya = assert(dwell.tuya{ client_id = ..., secret = ..., transport = t })
--   cq:wrap(function() local page = tuya.community.room_users{ ... } end)
--   assert(cq:loop())
--
-- Each dwell call runs in a coroutine of the controller (cq:wrap); while its request is in
-- flight the coroutine waits on a condition variable and the controller runs the others. A
-- driver coroutine of the same controller polls curl's sockets and its timer, and exists only
-- while requests are in flight, so cq:loop() returns when the program's own coroutines are done.
-- Retry waits are condition waits with a timeout; the token lock parks on a condition too.
-- `t:close()` cancels what is in flight (the waiting calls return a cancelled error on the
-- controller's next step). cqueues is an optional dependency: without it transport() returns
-- nil, dwell.error.
local loop = require "dwell.loop"

local M = {}

local LABEL = "dwell.loop.cqueues"

local POLL_EVENTS = { ["in"] = "r", out = "w", inout = "rw" }

-- A descriptor as cqueues polls it.
local Fd = {}
Fd.__index = Fd
function Fd:pollfd() return self.fd end
function Fd:events() return self.ev end
function Fd.timeout() return nil end

local function backend(cqueues, condition, cq, engine)
  local b = { fds = {}, timer_at = nil, running = false, closed = false, parked = {}, sleepers = {} }
  local kick = condition.new()
  local monotime = cqueues.monotime

  local function driver()
    while not b.closed and engine.counts.in_flight > 0 do
      local list, n = { kick }, 1
      for _, o in pairs(b.fds) do n = n + 1; list[n] = o end
      if b.timer_at then n = n + 1; list[n] = math.max(0, b.timer_at - monotime()) end
      local ready = { cqueues.poll(table.unpack(list, 1, n)) }
      for _, o in ipairs(ready) do
        if b.closed then break end
        -- a socket curl gave back while we handled another is skipped
        if getmetatable(o) == Fd and b.fds[o.fd] == o then engine:ready(o.fd, nil) end
      end
      if not b.closed and b.timer_at and monotime() >= b.timer_at then
        b.timer_at = nil
        engine:timeout()
      end
    end
    b.running = false
  end

  function b.watch(_, fd, what)
    local o = b.fds[fd]
    if not o then
      o = setmetatable({ fd = fd }, Fd)
      b.fds[fd] = o
    end
    o.ev = POLL_EVENTS[what]
  end

  function b.unwatch(_, fd)
    if b.fds[fd] then
      b.fds[fd] = nil
      -- cqueues keeps a descriptor registered until told; the socket session keeps a socket
      -- curl closed open until the loop has seen its removal, so this is still in time
      cqueues.cancel(fd)
    end
  end

  function b.timer(_, ms)
    b.timer_at = ms and (monotime() + ms / 1000) or nil
  end

  function b.kick()
    if b.closed then return end
    if b.running then
      kick:signal()
    else
      b.running = true
      cq:wrap(driver)
    end
  end

  function b.slot() return { cond = condition.new() } end

  function b.wait(_, slot)
    while not slot.done do slot.cond:wait() end
    return table.unpack(slot.values, 1, slot.values.n)
  end

  function b.deliver(_, slot, ...)
    slot.done, slot.values = true, table.pack(...)
    slot.cond:signal()
  end

  function b.sleep(_, seconds)
    local cond = condition.new()
    b.sleepers[cond] = true
    cond:wait(seconds)
    b.sleepers[cond] = nil
  end

  function b.park()
    local co = coroutine.running()
    local p = b.parked[co]
    if not p then
      p = { cond = condition.new() }
      b.parked[co] = p
    end
    while not p.woken do p.cond:wait() end
    b.parked[co] = nil
  end

  function b.wake(_, co)
    local p = b.parked[co]
    if not p then
      -- woken before it parked: park() returns at once
      p = { cond = condition.new() }
      b.parked[co] = p
    end
    p.woken = true
    p.cond:signal()
  end

  function b.in_loop()
    return cqueues.running() ~= nil
  end

  function b.close()
    if b.closed then return end
    b.closed = true
    for fd in pairs(b.fds) do b.unwatch(nil, fd) end
    b.timer_at = nil
    kick:signal()
    for cond in pairs(b.sleepers) do cond:signal() end
  end

  return b
end

--- transport(cq [, opts]) -> transport | nil, dwell.error. `cq` is the controller
-- (cqueues.new()) whose coroutines make the calls; opts are dwell.transport's options
-- (timeout_ms, retry, deadline_ms, proxy, on_request, ...).
function M.transport(cq, opts)
  local ok, cqueues = pcall(require, "cqueues")
  if not ok then return loop.missing(LABEL, "cqueues", cqueues) end
  local condition = require "cqueues.condition"
  if cqueues.type(cq) ~= "controller" then
    return nil, require("dwell.error").invalid_argument(nil, LABEL, "cq", "must be a cqueues controller (cqueues.new())")
  end
  return loop.new(LABEL, function(engine) return backend(cqueues, condition, cq, engine) end, opts)
end

return M
