--- dwell.scheduler: runs request code as coroutines.
--
-- A task yields what it waits for (an HTTP request, a sleep, or "park" until
-- another task wakes it) and the scheduler resumes it with the outcome. One
-- waiting request is performed directly on an easy handle; several go to curl
-- multi together, so the same code runs one at a time or 64 at a time.
--
-- All schedulers share one dwell.core.http session, so connections stay alive
-- across calls. A scheduler started while another is blocked (send() called
-- from a plain coroutine inside a task) may poll the other's transfers; those
-- results wait in their owner's inbox.
local http = require("dwell.core").http

local M = {}

-- First value of every scheduler yield: tells our yields from a task's own.
local MARK = setmetatable({}, { __name = "dwell.scheduler.mark" })

--- The default clock: monotonic seconds; sleep blocks the thread.
M.system_clock = { now = http.monotonic, sleep = http.sleep, system = true }

--- A clock for tests: time only moves when something sleeps (or advance()).
function M.virtual_clock(start)
  local t = start or 0
  local clock = {}
  function clock.now() return t end
  function clock.sleep(s) if s > 0 then t = t + s end end
  function clock.advance(s) t = t + s end
  return clock
end

local session
local function shared_session()
  if not session then session = assert(http.new_session()) end
  return session
end

-- Connections for the dwell.parallel runs in progress: the sum of their concurrencies (nested
-- runs add up, as their tasks do). While it is above 0 the shared session opens at most that
-- many connections and keeps as many idle (see session:limit_connections); back at 0 it has no
-- limit and the default idle cache.
local reserved = 0

-- A reservation: release() gives its connections back, once; closing it (a `<close>`
-- variable) or collecting it releases it too.
local Reservation = {}
Reservation.__index = Reservation
function Reservation:release()
  if self.released then return end
  self.released = true
  reserved = reserved - self.n
  if session then session:limit_connections(reserved) end
end
Reservation.__close = Reservation.release
-- at lua_close the session may be finalized first: then there is nothing left to give back to
Reservation.__gc = function(self) pcall(Reservation.release, self) end

--- Reserves n connections for a run of up to n tasks at once; returns a reservation to
-- release (`local _ <close> = scheduler.reserve_connections(n)`).
function M.reserve_connections(n)
  reserved = reserved + n
  shared_session():limit_connections(reserved)
  return setmetatable({ n = n }, Reservation)
end

local owner = setmetatable({}, { __mode = "k" }) -- task coroutine -> scheduler
local routes = {}                                 -- transfer id -> scheduler

local Scheduler = {}
Scheduler.__index = Scheduler

--- A new scheduler; opts.clock defaults to the system clock. opts.background: requests always
-- go to curl multi, so that kick() never waits for an answer.
function M.new(opts)
  return setmetatable({
    clock = (opts and opts.clock) or M.system_clock,
    background = opts and opts.background,
    ready = {}, ready_head = 1, ready_tail = 0, -- queue of { co, n, ... }
    timers = {},                     -- sorted by wake time: { at, seq, co }
    seq = 0,
    pending = {},                    -- { co, req } waiting to be performed
    inflight = {}, n_inflight = 0,   -- transfer id -> co
    inbox = {},                      -- results polled by another scheduler
    done = {},                       -- co -> completion callback
    tasks = 0,
  }, Scheduler)
end

--- The scheduler running the current coroutine, or nil.
local running = coroutine.running
function M.current()
  return owner[(running())]
end

--- The transport failure of a request whose caller gave up on it (a cancelled scheduler, a
-- closed loop transport): kind `cancelled`, which dwell.retry never resends; `sent` says
-- whether it may have left.
function M.cancelled(sent, message)
  return { kind = "cancelled", sent = sent, message = message }
end

-- What a task's request returns once its scheduler is cancelled (see Scheduler:cancel).
local function cancelled(sent)
  return M.cancelled(sent, "cancelled: the reader stopped before this answer was needed")
end

local function push_ready(self, co, ...)
  self.ready_tail = self.ready_tail + 1
  self.ready[self.ready_tail] = table.pack(co, ...)
end

--- Wakes a parked task with values for park() to return; false when co is no scheduler task.
function M.wake(co, ...)
  local s = owner[co]
  if s then push_ready(s, co, ...) end
  return s ~= nil
end

--- Starts fn(...) as a task; on_done(ok, ...) receives its outcome. Without
-- on_done a failing task raises out of run().
function Scheduler:spawn(fn, on_done, ...)
  local co = coroutine.create(fn)
  owner[co] = self
  self.tasks = self.tasks + 1
  self.done[co] = on_done
  push_ready(self, co, ...)
  return co
end

local function add_timer(self, co, seconds)
  self.seq = self.seq + 1
  local t = { self.clock.now() + math.max(0, seconds), self.seq, co }
  local list = self.timers
  local i = #list
  while i > 0 and (list[i][1] > t[1] or (list[i][1] == t[1] and list[i][2] > t[2])) do
    list[i + 1] = list[i]
    i = i - 1
  end
  list[i + 1] = t
end

local function finish(self, co, ok, ...)
  owner[co] = nil
  self.tasks = self.tasks - 1
  local cb = self.done[co]
  self.done[co] = nil
  if cb then return cb(ok, ...) end
  if not ok then error((...), 0) end
end

local resume, status = coroutine.resume, coroutine.status

-- What a resume gave, as arguments (no table per resume).
local function resumed(self, co, ok, mark, op, arg, ...)
  if status(co) == "dead" then return finish(self, co, ok, mark, op, arg, ...) end
  if not ok or mark ~= MARK then
    error("dwell.scheduler: a task yielded a value the scheduler does not understand", 0)
  end
  if op == "http" then
    self.pending[#self.pending + 1] = { co, arg }
  elseif op == "sleep" then
    add_timer(self, co, arg)
  end -- "park": whoever holds the task wakes it
end

local function step(self, co, ...)
  return resumed(self, co, resume(co, ...))
end

local function drain_ready(self)
  while self.ready_head <= self.ready_tail do
    local e = self.ready[self.ready_head]
    self.ready[self.ready_head] = nil
    self.ready_head = self.ready_head + 1
    step(self, e[1], table.unpack(e, 2, e.n))
  end
  self.ready, self.ready_head, self.ready_tail = {}, 1, 0
end

local function deliver(self, r)
  local co = self.inflight[r.id]
  if not co then return end
  self.inflight[r.id] = nil
  self.n_inflight = self.n_inflight - 1
  -- push_ready(self, co, r.resp, r.err) without table.pack
  self.ready_tail = self.ready_tail + 1
  self.ready[self.ready_tail] = { co, r.resp, r.err, n = 3 }
end

local function dispatch(self, results)
  for _, r in ipairs(results) do
    local s = routes[r.id]
    routes[r.id] = nil
    if s == self then deliver(self, r) elseif s then s.inbox[#s.inbox + 1] = r end
  end
end

-- One request alone is performed directly: an easy handle, no multi. Several
-- (or one while others are in flight or timers are due) go to curl multi.
local function perform_pending(self)
  local pending = self.pending
  self.pending = {}
  if self.cancelling then
    for _, p in ipairs(pending) do push_ready(self, p[1], nil, cancelled(false)) end
    return
  end
  local s = shared_session()
  if #pending == 1 and self.n_inflight == 0 and #self.timers == 0 and not self.background then
    local ok, resp, err = pcall(s.request, s, pending[1][2])
    if ok then push_ready(self, pending[1][1], resp, err) else push_ready(self, pending[1][1], nil, nil, resp) end
    return
  end
  for _, p in ipairs(pending) do
    local ok, id, err = pcall(s.submit, s, p[2])
    if not ok then
      push_ready(self, p[1], nil, nil, id) -- misuse: raised again inside the task
    elseif id then
      self.inflight[id] = p[1]
      self.n_inflight = self.n_inflight + 1
      routes[id] = self
    else
      push_ready(self, p[1], nil, { kind = "transport", message = err })
    end
  end
end

local function fire_timers(self, now)
  local fired = false
  while self.timers[1] and (self.cancelling or self.timers[1][1] <= now) do
    local t = table.remove(self.timers, 1)
    push_ready(self, t[3])
    fired = true
  end
  return fired
end

-- Nothing is ready: wait for a transfer or the next timer.
local function wait(self)
  local now = self.clock.now()
  local next_timer = self.timers[1] and self.timers[1][1]
  if self.n_inflight > 0 then
    local ms = 1000
    if next_timer then
      -- A virtual clock does not move while we wait, so only peek at the
      -- transfers and then let its time jump to the timer.
      ms = self.clock.system and math.max(0, math.ceil((next_timer - now) * 1000)) or 0
    end
    local results = assert(shared_session():poll(ms))
    dispatch(self, results)
    if #results == 0 and next_timer and not self.clock.system then self.clock.sleep(next_timer - now) end
  elseif next_timer then
    self.clock.sleep(next_timer - now)
  else
    error("dwell.scheduler: deadlock: every task waits on a lock or limiter that no task will release", 0)
  end
end

--- Runs until done() is true (checked whenever nothing is ready to run) or every task has
-- finished; tasks still waiting stay as they are, for a later run.
function Scheduler:run_until(done)
  while true do
    drain_ready(self)
    if #self.inbox > 0 then
      local inbox = self.inbox
      self.inbox = {}
      for _, r in ipairs(inbox) do deliver(self, r) end
    elseif #self.pending > 0 then
      perform_pending(self)
    elseif self.tasks == 0 or (done and done()) then
      return
    elseif not fire_timers(self, self.clock.now()) then
      wait(self)
      fire_timers(self, self.clock.now())
    end
  end
end

--- Runs until every task has finished.
function Scheduler:run()
  return self:run_until(nil)
end

--- Starts what is ready and puts its requests on the wire, without waiting for any answer.
function Scheduler:kick()
  self:run_until(function() return true end)
  if self.n_inflight > 0 then dispatch(self, assert(shared_session():poll(0))) end
end

--- Ends every task early and waits for them to unwind: transfers in flight are cancelled,
-- requests not yet sent and any sent later fail with a `cancelled` transport error (never
-- resent), sleeps end at once. Each task finishes through its own code, so locks it holds are
-- released as on any failure.
function Scheduler:cancel()
  self.cancelling = true
  local s = shared_session()
  for id, co in pairs(self.inflight) do
    s:cancel(id)
    routes[id] = nil
    push_ready(self, co, nil, cancelled(true))
  end
  self.inflight, self.n_inflight = {}, 0
  self:run()
end

--- Cancels this scheduler's transfers in flight (after a task raised).
function Scheduler:abort()
  local s = shared_session()
  for id in pairs(self.inflight) do
    s:cancel(id)
    routes[id] = nil
  end
  self.inflight, self.n_inflight = {}, 0
end

--- Runs fn(...) as the only task of a new scheduler and returns its results.
function M.run_one(clock, fn, ...)
  local sched = M.new{ clock = clock }
  local out
  sched:spawn(fn, function(...) out = table.pack(...) end, ...)
  local ok, err = pcall(sched.run, sched)
  if not ok then sched:abort() error(err, 0) end
  if not out[1] then error(out[2], 0) end
  return table.unpack(out, 2, out.n)
end

--- Performs a dwell.core.http request: yields inside a task, blocks outside.
-- Argument misuse (say, CR/LF in a header) raises in the caller either way.
function M.perform(req)
  if not owner[(running())] then
    -- Misuse is reported as inside a task: the message as pcall gives it, at the caller.
    local s = session or shared_session()
    local ok, resp, err = pcall(s.request, s, req)
    if not ok then error(resp, 2) end
    return resp, err
  end
  local resp, err, raised = coroutine.yield(MARK, "http", req)
  if raised ~= nil then error(raised, 2) end
  return resp, err
end

--- Seconds on the current scheduler's clock (the system clock outside one).
local system_now = M.system_clock.now
function M.now()
  local s = owner[(running())]
  if s then return s.clock.now() end
  return system_now()
end

--- Waits `seconds`: other tasks run meanwhile; outside a scheduler it blocks.
function M.sleep(seconds)
  if M.current() then return coroutine.yield(MARK, "sleep", seconds) end
  M.system_clock.sleep(seconds)
end

--- Suspends the current task until M.wake(co, ...); returns the woken values.
function M.park()
  assert(M.current(), "dwell.scheduler: park() outside a scheduler task")
  return coroutine.yield(MARK, "park")
end

return M
