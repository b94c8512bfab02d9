--- dwell.loop: what the event-loop transports (dwell.loop.luv, dwell.loop.cqueues) share.
--
-- A loop transport is a dwell.transport (the same retries, Retry-After, deadlines, rate limits
-- and hooks) whose requests go to a dwell.core.http socket session instead of dwell's own
-- scheduler: the host's loop watches the sockets curl names and fires the timer curl asks for,
-- and each call waits in its own coroutine of that loop while its request is in flight. Waits
-- (retry backoff, rate limits, a Tuya transient code) become timers of the loop (`sleep`), and
-- the single-flight token lock waits in the loop too (`park`/`wake`). See docs/embedding.md.
--
-- A backend adapts one loop library. It is a table of functions (self is the backend):
--   watch(fd, what)   watch fd for "in" | "out" | "inout" (replacing what it watched for)
--   unwatch(fd)       stop watching fd (curl may already have closed it)
--   timer(ms | nil)   call engine:timeout() in ms milliseconds (nil: no timer)
--   kick()            a request was submitted (a backend that drives curl from a task of its
--                     own starts or wakes it)
--   slot()            a waiting place for the running coroutine's request
--   wait(slot)        suspend the running coroutine until deliver(slot, ...); returns those values
--   deliver(slot, ...) hand the values to the coroutine waiting on slot (resumes it now or soon)
--   sleep(seconds)    suspend the running coroutine; returns early, without error, on close
--   park()/wake(co)   dwell's lock protocol (docs/internals.md, "Transport")
--   in_loop()         whether the running coroutine can wait in this loop
--   close()           stop every watch and timer, end the sleeps
-- The engine calls back into `engine:ready(fd, what)` and `engine:timeout()`.
local errors = require "dwell.error"
local scheduler = require "dwell.scheduler"
local transport = require "dwell.transport"
local validate = require "dwell.validate"
local http = require("dwell.core").http

local M = {}

--- The transport options a loop transport accepts: dwell.transport's, less `clock` (the loop's
-- timers are the clock), plus `on_error(err, co)` for errors raised inside a coroutine the
-- transport resumed (default: raised again from the loop's callback once every other result
-- has been delivered; luv then ends the program, as for any error in a luv callback).
M.OPTIONS = {}
for _, k in ipairs(transport.CLIENT_OPTIONS) do
  if k ~= "clock" then M.OPTIONS[#M.OPTIONS + 1] = k end
end
M.OPTIONS[#M.OPTIONS + 1] = "http_version"
M.OPTIONS[#M.OPTIONS + 1] = "on_error"

local function bad(label, param, rule)
  return nil, errors.invalid_argument(nil, label, param, rule)
end

--- Checks a loop transport's options: nil when fine, else nil, dwell.error.
function M.check_options(label, opts)
  if opts == nil then return nil end
  if type(opts) ~= "table" then return bad(label, nil, "options must be a table (got " .. type(opts) .. ")") end
  local known = {}
  for _, k in ipairs(M.OPTIONS) do known[k] = true end
  for k in pairs(opts) do
    if not known[k] then
      local guess = type(k) == "string" and validate.did_you_mean(k, M.OPTIONS)
      if k == "clock" then return bad(label, "clock", "is not taken: the loop's own timers are the clock") end
      return bad(label, tostring(k), "is not a " .. label .. " option" .. (guess and (" (did you mean '" .. guess .. "'?)") or ""))
    end
  end
  local opt, rule = transport.check_client_options(opts)
  if opt then return bad(label, opt, rule) end
  if opts.on_error ~= nil and type(opts.on_error) ~= "function" then
    return bad(label, "on_error", "must be a function (got " .. type(opts.on_error) .. ")")
  end
  if opts.http_version ~= nil and type(opts.http_version) ~= "string" then
    return bad(label, "http_version", "must be a string (got " .. type(opts.http_version) .. ")")
  end
  return nil
end

--- The error a library that is not installed gives: a dwell.error naming the package.
function M.missing(label, lib, err)
  return nil, errors.new{ kind = "invalid_argument", endpoint = label, param = lib,
    message = label .. " needs the Lua library '" .. lib .. "', which is not installed (Debian: apt-get install lua-"
      .. lib .. "; LuaRocks: luarocks install " .. lib .. "): " .. tostring(err):match("^[^\n]*") }
end

local Loop = {}
local Base -- dwell.transport's methods, found through a transport it made

--- The error a request gets when the transport closes under it, or is used after.
local function cancelled(sent)
  return scheduler.cancelled(sent, "the loop transport was closed with the request in flight")
end

--- A new loop transport over `backend` (made by make_backend(engine), see above); `label`
-- ("dwell.loop.luv") names it in errors. Returns the transport or nil, dwell.error.
function M.new(label, make_backend, opts)
  local bad_opts, err = M.check_options(label, opts)
  if err then return bad_opts, err end
  opts = opts or {}
  local session, serr = http.new_socket_session()
  if not session then return nil, errors.new{ kind = "transport", message = tostring(serr) } end
  local topts = {}
  for k, v in pairs(opts) do if k ~= "on_error" then topts[k] = v end end
  local t = transport.new(topts)
  if not Base then
    Base = getmetatable(t).__index
    setmetatable(Loop, { __index = Base })
    Loop.__index = Loop
  end
  setmetatable(t, Loop)
  t.label, t.session, t.on_error = label, session, opts.on_error
  t.waiting, t.closed = {}, false
  t.counts = { in_flight = 0, max_in_flight = 0, sends = 0, done = 0, cancelled = 0, curl_timers = 0,
               socket_events = 0, watched = 0, max_watched = 0, sleeps = 0, parks = 0, wakes = 0 }
  t.watched = {}
  t.backend = make_backend(t)
  return t
end

Loop.__name = "dwell.loop.transport"
function Loop.__tostring(t)
  return ("%s transport (%s, %d in flight)"):format(t.label, t.closed and "closed" or "open", t.counts.in_flight)
end

--- Figures about the transport's work: in_flight (requests submitted and not yet finished),
-- max_in_flight, sends, done, cancelled, curl_timers (times curl's timer fired), socket_events
-- (readiness reports from the loop), watched / max_watched (sockets), sleeps, parks, wakes.
function Loop:stats()
  local out = {}
  for k, v in pairs(self.counts) do out[k] = v end
  return out
end

-- Applies what curl asked for since the last look: sockets to watch, its timer.
function Loop:_flush()
  if self.closed then return end
  local changes, timeout = self.session:events()
  if not changes then return self:_fail_all(timeout) end
  local c, b = self.counts, self.backend
  for _, ch in ipairs(changes) do
    if ch.what == "remove" then
      if self.watched[ch.fd] then
        self.watched[ch.fd] = nil
        c.watched = c.watched - 1
        b:unwatch(ch.fd)
      end
    else
      if not self.watched[ch.fd] then
        c.watched = c.watched + 1
        if c.watched > c.max_watched then c.max_watched = c.watched end
      end
      self.watched[ch.fd] = ch.what
      b:watch(ch.fd, ch.what)
    end
  end
  -- With nothing in flight curl's timer only tends idle connections: the loop need not wake.
  if timeout ~= nil or c.in_flight == 0 then
    if c.in_flight == 0 or timeout == -1 then b:timer(nil) else b:timer(timeout) end
  end
end

-- Hands finished transfers to the coroutines waiting on them. A coroutine resumed here may
-- submit again (next page) or even close the transport: each result is looked up afresh.
function Loop:_deliver(results)
  local c = self.counts
  for _, r in ipairs(results) do
    local slot = self.waiting[r.id]
    if slot then
      self.waiting[r.id] = nil
      c.in_flight, c.done = c.in_flight - 1, c.done + 1
      self.backend:deliver(slot, r.resp, r.err)
    end
  end
end

-- A loop callback: drive curl, then deliver, then apply its new wishes. Errors raised inside
-- resumed coroutines are reported once everything else is done.
function Loop:_drive(fd, what)
  if self.closed then return end
  local results, n = self.session:action(fd, what)
  if not results then return self:_fail_all(n) end
  self:_deliver(results)
  self:_flush()
  self:_raise_deferred()
end

--- Called by the backend: fd is ready for `what` ("in", "out", "inout", "err" or nil).
function Loop:ready(fd, what)
  self.counts.socket_events = self.counts.socket_events + 1
  return self:_drive(fd, what)
end

--- Called by the backend: curl's timer fired.
function Loop:timeout()
  self.counts.curl_timers = self.counts.curl_timers + 1
  return self:_drive(nil)
end

--- Called by a backend after resuming a coroutine that raised (`err` with its traceback).
function Loop:_resume_failed(err, co)
  if self.on_error then return self.on_error(err, co) end
  self.deferred_error = self.deferred_error or err
end

-- Raises, outside the backend's callbacks, the first error a resumed coroutine raised when no
-- on_error was given (raising inside a luv or cqueues callback would tear the loop down).
function Loop:_raise_deferred()
  local e = self.deferred_error
  if e ~= nil then
    self.deferred_error = nil
    error(e, 0)
  end
end

-- The session failed under us (out of memory recording socket events): every waiting call
-- gets the error, and the transport is closed.
function Loop:_fail_all(msg)
  local failed = { kind = "transport", sent = true, message = tostring(msg) }
  self:close(failed)
end

-- ---- dwell.transport's four hooks, in the loop (in a dwell scheduler task: the scheduler's) --

function Loop._now() return scheduler.now() end

function Loop:_perform(creq)
  if scheduler.current() then return Base._perform(self, creq) end
  if self.closed then return nil, cancelled(false) end
  local id, err = self.session:submit(creq) -- misuse raises here, in the caller, as it would in dwell's scheduler
  if not id then return nil, { kind = "transport", message = tostring(err) } end
  local c = self.counts
  c.sends, c.in_flight = c.sends + 1, c.in_flight + 1
  if c.in_flight > c.max_in_flight then c.max_in_flight = c.in_flight end
  local slot = self.backend:slot()
  self.waiting[id] = slot
  self:_flush()
  self.backend:kick()
  return self.backend:wait(slot)
end

function Loop:_sleep(seconds)
  if scheduler.current() then return Base._sleep(self, seconds) end
  return self:sleep(seconds)
end

-- Tokens from a limiter without blocking the loop: take one if it is there, else wait the
-- time the limiter names in the loop and try again (waiters are not served in strict order).
function Loop:_take(limiter, max_wait)
  if scheduler.current() then return Base._take(self, limiter, max_wait) end
  local give_up = self:_now() + max_wait
  while not self.closed do
    local ok, wait = limiter:take(1, 0)
    if ok then return true end
    if type(wait) ~= "number" or self:_now() + wait > give_up then return false end
    self:sleep(wait)
  end
  return false
end

local function misuse(self, what)
  error(errors.new{ kind = "invalid_argument", endpoint = self.label, message = self.label .. ": " .. what
    .. " must run in a coroutine of the loop (its calls wait there); the loop's main thread cannot wait" }, 3)
end

--- t:send(req) -> resp | nil, dwell.error, as dwell.transport's send, waiting in the loop. Inside
-- a dwell scheduler task (dwell.parallel) it is dwell's own transport.
function Loop:send(req)
  assert(type(req) == "table", self.label .. ": send expects a request table")
  if type(req.url) ~= "string" then
    error(errors.invalid_argument(nil, nil, "url", "must be a string"), 2)
  end
  if scheduler.current() then return self:_send(req) end
  if not self.closed and not self.backend:in_loop() then misuse(self, "send") end
  return self:_send(req)
end

--- Waits `seconds` on a timer of the loop (other coroutines run); in a dwell scheduler task its
-- sleep; outside any coroutine a blocking sleep. Ends early when the transport closes.
function Loop:sleep(seconds)
  if scheduler.current() then return scheduler.sleep(seconds) end
  if self.closed or seconds <= 0 then return end
  if not self.backend:in_loop() then return scheduler.sleep(seconds) end
  self.counts.sleeps = self.counts.sleeps + 1
  return self.backend:sleep(seconds)
end

--- The lock protocol: park() suspends the running coroutine until wake(co).
function Loop:park()
  if not self.backend:in_loop() then misuse(self, "a wait on dwell's token lock") end
  self.counts.parks = self.counts.parks + 1
  return self.backend:park()
end

function Loop:wake(co)
  self.counts.wakes = self.counts.wakes + 1
  return self.backend:wake(co)
end

--- Closes the transport: every request in flight is cancelled (its call returns a `transport`
-- error with reason "cancelled", never resent), sleeps end, the loop's watchers and timers are
-- stopped and closed, and the socket session is freed. Later calls fail the same way at once.
-- `failure` (internal) replaces the cancelled error.
function Loop:close(failure)
  if self.closed then return end
  self.closed = true
  for fd in pairs(self.watched) do self.backend:unwatch(fd) end
  self.watched, self.counts.watched = {}, 0
  self.backend:timer(nil)
  local waiting = self.waiting
  self.waiting = {}
  local ids = {}
  for id in pairs(waiting) do ids[#ids + 1] = id end
  table.sort(ids)
  for _, id in ipairs(ids) do self.session:cancel(id) end
  self.session:close()
  self.backend:close()
  local c = self.counts
  for _, id in ipairs(ids) do
    c.in_flight, c.cancelled = c.in_flight - 1, c.cancelled + 1
    self.backend:deliver(waiting[id], nil, failure or cancelled(true))
  end
  self:_raise_deferred()
end

function Loop.__close(t) t:close() end

return M
