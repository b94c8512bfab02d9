--- dwell.transport: policy over dwell.core.http: retries with backoff,
-- Retry-After, deadlines, rate limits, hooks, single-flight locks and
-- dwell.parallel. See docs/internals.md, "Transport".
-- @module dwell.transport
local errors = require "dwell.error"
local scheduler = require "dwell.scheduler"
local redact = require "dwell.redact"
local retry = require "dwell.retry"

local M = {}

M.sleep = scheduler.sleep
M.now = scheduler.now
M.virtual_clock = scheduler.virtual_clock
M.system_clock = scheduler.system_clock

local PASSTHROUGH = { "connect_timeout_ms", "ca_file", "ca_path", "insecure", "proxy", "http_version",
                      "max_response_bytes", "noproxy" }

-- Loopback never goes through a proxy unless one is given explicitly: a sandbox or a local
-- gateway on 127.0.0.1 must not be rerouted by an http_proxy meant for the outside world.
local LOOPBACK = "localhost,127.0.0.0/8,::1"

--- The C core's proxy fields for a `proxy` option: a string is used for every host (asked
-- for); false turns proxies off, environment included; nil honours http_proxy, https_proxy,
-- all_proxy and no_proxy as curl does, except for loopback addresses.
function M.proxy_fields(proxy, getenv)
  if proxy == false then return { proxy = "" } end
  if type(proxy) == "string" then return { proxy = proxy } end
  getenv = getenv or os.getenv
  local extra = getenv("no_proxy") or getenv("NO_PROXY")
  if extra == "*" then return { noproxy = "*" } end
  return { noproxy = (extra and extra ~= "") and (LOOPBACK .. "," .. extra) or LOOPBACK }
end

--- The transport options every vendor client accepts in its configuration and passes on to
-- new() (README, "Transport options"): one list, so the clients cannot drift apart.
M.CLIENT_OPTIONS = { "timeout_ms", "connect_timeout_ms", "ca_file", "ca_path", "insecure", "proxy", "retry",
  "deadline_ms", "on_request", "on_response", "clock", "max_response_bytes" }

--- The CLIENT_OPTIONS found in a client configuration, as a new table for new().
function M.client_options(cfg)
  local opts = {}
  for _, k in ipairs(M.CLIENT_OPTIONS) do opts[k] = cfg[k] end
  return opts
end

-- The type each client transport option must have (a client checks them before building
-- anything, so a bad configuration is `nil, err` from the constructor, never a raise later).
local function positive(v) return type(v) == "number" and v > 0 or "must be a positive number" end
local function typed(t) return function(v) return type(v) == t or ("must be a " .. t .. " (got " .. type(v) .. ")") end end
local function proxy_rule(v)
  if v == false then return true end
  if type(v) ~= "string" then return "must be a proxy URL string or false (got " .. type(v) .. ")" end
  if v:find("[%z\r\n]") then return "must not contain CR, LF or NUL" end
  return true
end
local OPTION_RULES = {
  timeout_ms = positive, connect_timeout_ms = positive, deadline_ms = positive, ca_file = typed("string"),
  ca_path = typed("string"), insecure = typed("boolean"), proxy = proxy_rule, retry = retry.check,
  on_request = typed("function"), on_response = typed("function"),
  max_response_bytes = function(v)
    return (math.type(v) == "integer" and v > 0) or "must be an integer > 0"
  end,
  clock = function(v)
    return (type(v) == "table" and type(v.now) == "function") or "must be a table with a now() function"
  end,
}

--- Checks the CLIENT_OPTIONS in a client configuration: nil when fine, else the option's
-- name and the rule it breaks (values are never echoed).
function M.check_client_options(cfg)
  for _, k in ipairs(M.CLIENT_OPTIONS) do
    if cfg[k] ~= nil then
      local ok = OPTION_RULES[k](cfg[k])
      if ok ~= true then return k, ok end
    end
  end
  return nil
end

local Transport = {}
Transport.__index = Transport
Transport.__name = "dwell.transport"

--- transport.new{ timeout_ms, connect_timeout_ms, ca_file, ca_path, insecure, proxy,
--   http_version, max_response_bytes, retry = { attempts, base_ms, cap_ms, jitter },
--   deadline_ms, on_request, on_response, clock, random }
-- Every client takes these same options (CLIENT_OPTIONS) in its own configuration.
-- @tparam[opt] table opts the options (README, "Transport options"):
-- @tparam[opt] integer opts.timeout_ms one attempt's timeout (default 30000)
-- @tparam[opt] integer opts.deadline_ms the whole call's bound (default 120000)
-- @tparam[opt] table opts.retry `{ attempts = 3, base_ms = 200, cap_ms = 10000, jitter = "full" | "added" }`
-- @tparam[opt] string|false opts.proxy a proxy for every host; false: none (else the environment's, never for loopback)
-- @tparam[opt] function opts.on_request hook(info) before each attempt; `info` = `{ method, url (secrets
--   masked), attempt }`
-- @tparam[opt] function opts.on_response hook(info) after each attempt; `info` adds `status`, `timing`,
--   `error` (the transport failure's kind) and `retry_in` (seconds until the next attempt, or nil)
-- @tparam[opt] table opts.clock `{ now = function() ... end }`, e.g. transport.virtual_clock()
-- @return a transport
function M.new(opts)
  opts = opts or {}
  assert(opts.retry == nil or retry.check(opts.retry) == true, "dwell.transport: " .. tostring(
    opts.retry ~= nil and retry.check(opts.retry)))
  local policy = retry.policy(opts.retry, nil, opts.random)
  local t = setmetatable({
    timeout_ms = opts.timeout_ms or 30000,
    deadline_ms = opts.deadline_ms or 120000,
    policy = policy, attempts = policy.attempts,
    on_request = opts.on_request, on_response = opts.on_response,
    clock = opts.clock,
    base = {},
  }, Transport)
  for _, k in ipairs(PASSTHROUGH) do t.base[k] = opts[k] end
  t.base.proxy, t.base.noproxy = nil, nil
  for k, v in pairs(M.proxy_fields(opts.proxy)) do t.base[k] = v end
  return t
end

M.http_date = retry.http_date

--- The wait a response asks for (Retry-After in seconds or as an HTTP date), or nil.
function M.retry_after(resp)
  return retry.after(resp.headers)
end

--- The backoff before attempt `attempt + 1`, in seconds (dwell.retry).
function Transport:backoff(attempt)
  return self.policy:backoff(attempt)
end

local function to_error(cerr, info, retryable)
  local kind = cerr.kind == "timeout" and "timeout" or "transport"
  return errors.new{
    kind = kind, reason = cerr.kind, message = tostring(cerr.message), sent = cerr.sent,
    method = info.method, url = info.url, attempts = info.attempt, retryable = retryable,
  }
end
M.to_error = to_error

local function deadline_error(info, what)
  return errors.new{ kind = "timeout", reason = "deadline", method = info.method, url = info.url,
                     attempts = info.attempt, retryable = true,
                     message = what or "deadline passed before the request could complete" }
end


-- The C core's request for `req` with the method given (upper case): the transport's own
-- options (base), each overridden by the request's where it gives one. One constructor, so
-- the table is made at its final size.
local function c_request(self, req, method)
  local b = self.base
  local cto, caf, cap, ins = req.connect_timeout_ms, req.ca_file, req.ca_path, req.insecure
  local prx, hv, mrb, npx = req.proxy, req.http_version, req.max_response_bytes, req.noproxy
  if cto == nil then cto = b.connect_timeout_ms end
  if caf == nil then caf = b.ca_file end
  if cap == nil then cap = b.ca_path end
  if ins == nil then ins = b.insecure end
  if prx == nil then prx = b.proxy end
  if hv == nil then hv = b.http_version end
  if mrb == nil then mrb = b.max_response_bytes end
  if npx == nil then npx = b.noproxy end
  return { method = method, url = req.url, headers = req.headers, body = req.body,
    connect_timeout_ms = cto, ca_file = caf, ca_path = cap, insecure = ins, proxy = prx, http_version = hv,
    max_response_bytes = mrb, noproxy = npx, timeout_ms = nil, fresh_connect = nil }
end

function Transport:_request(req)
  return c_request(self, req, req.method)
end

-- Whether to try again after this outcome (dwell.retry's rules); returns the delay in seconds.
function Transport:_retry_delay(resp, cerr, attempt, attempts, repeatable)
  if attempt >= attempts then return nil end
  if cerr then return retry.transport_retryable(cerr, repeatable) and self:backoff(attempt) or nil end
  -- A 429 means the request was not processed: any method may be sent again.
  if not retry.RETRY_STATUS[resp.status] or (resp.status ~= 429 and not repeatable) then return nil end
  return M.retry_after(resp) or self:backoff(attempt)
end

-- The redacted URL is only worked out for hooks and errors: most calls need neither.
local function with_url(info, req)
  if info.url == nil then info.url = redact.url(req.url, req.redact) end
  return info
end

-- Where _send waits and performs: the dwell scheduler's. A transport driven by a host event
-- loop (dwell.loop.luv, dwell.loop.cqueues) overrides these four and keeps the policy above.
Transport._now = scheduler.now
function Transport._take(_, limiter, max_wait) return limiter:take(1, max_wait) end
local perform = scheduler.perform
function Transport._perform(_, creq)
  local resp, err = perform(creq) -- not a tail call: perform's errors name this line
  return resp, err
end
function Transport._sleep(_, seconds) return scheduler.sleep(seconds) end

-- Methods already in upper case (what every client sends) are used as they are.
local UPPER = { GET = true, POST = true, PUT = true, DELETE = true, PATCH = true, HEAD = true, OPTIONS = true }
local upper = string.upper

function Transport:_send(req)
  local method = req.method or "GET"
  if not UPPER[method] then method = upper(method) end
  local repeatable = req.idempotent
  if repeatable == nil then repeatable = retry.repeatable(method) end
  local deadline = req.deadline_at or (self:_now() + (req.deadline_ms or self.deadline_ms) / 1000)
  local creq = c_request(self, req, method)
  -- libcurl silently resends a request whose reused connection died before the answer:
  -- a write that may not be repeated always gets a connection of its own.
  if not repeatable then creq.fresh_connect = true end
  local on_request, on_response = self.on_request, self.on_response
  -- what the hooks and errors are told; made only when one of them needs it
  local info
  if on_request or on_response then info = with_url({ method = method }, req) end
  local timeout = req.timeout_ms or self.timeout_ms
  local attempts = req.attempts or self.attempts
  local first = req.attempt or 1
  for attempt = 1, attempts do
    -- A caller that owns the retries (the pipeline) says which of its attempts this is.
    if info then
      info.attempt, info.status, info.timing, info.error, info.retry_in, info.queued =
        first + attempt - 1, nil, nil, nil, nil, nil
    end
    if req.limiter then
      -- nil, err: a shared store holding the budget failed (kind "store")
      local before = info and self:_now()
      local ok, lerr = self:_take(req.limiter, deadline - self:_now())
      -- the hooks are told how long the limiter held this attempt (the trace shows it)
      if before then info.queued = ok and self:_now() - before or nil end
      if ok == nil and errors.is(lerr) then return nil, lerr end
      if not ok then
        info = info or { method = method, attempt = first + attempt - 1 }
        return nil, deadline_error(with_url(info, req), "deadline passed while waiting for the rate limiter")
      end
    end
    local left_ms = math.floor((deadline - self:_now()) * 1000)
    if left_ms <= 0 then
      info = info or { method = method, attempt = first + attempt - 1 }
      return nil, deadline_error(with_url(info, req))
    end
    creq.timeout_ms = left_ms < timeout and left_ms or timeout
    if on_request then on_request(info) end
    local resp, cerr = self:_perform(creq)
    local delay
    if attempt < attempts then
      delay = self:_retry_delay(resp, cerr, attempt, attempts, repeatable)
      if delay and self:_now() + delay >= deadline then delay = nil end
    end
    if info then
      info.status = resp and resp.status
      info.timing = resp and resp.timing
      info.error = cerr and cerr.kind
      info.retry_in = delay
      if on_response then on_response(info) end
    end
    if not delay then
      if cerr then
        info = info or { method = method, attempt = first + attempt - 1 }
        return nil, to_error(cerr, with_url(info, req), retry.transport_retryable(cerr, repeatable))
      end
      return resp
    end
    self:_sleep(delay)
  end
end

--- t:send{ method, url, headers, body, idempotent, limiter, redact, deadline_ms, timeout_ms, ... }
-- -> resp | nil, dwell.error. Inside a scheduler task it yields; outside it
-- runs its own scheduler and blocks.
function Transport:send(req)
  assert(type(req) == "table", "dwell.transport: send expects a request table")
  if type(req.url) ~= "string" then
    error(errors.invalid_argument(nil, nil, "url", "must be a string"), 2)
  end
  -- On the system clock a lone request needs no scheduler of its own: outside a task
  -- scheduler.perform and scheduler.sleep already block, which is all run_one would do.
  if self.clock == nil or scheduler.current() then return self:_send(req) end
  return scheduler.run_one(self.clock, self._send, self, req)
end

-- ---- single-flight lock --------------------------------------------------

local Lock = {}
Lock.__index = Lock
Lock.__name = "dwell.transport.lock"

--- A cooperative lock: lock:with(fn, ...) runs fn with the lock held; a task
-- that finds it held waits (other tasks keep running) and then runs fn itself,
-- so fn should re-check whatever it refreshes.
--
-- `host` (optional) lets coroutines of a host's own event loop wait too: an object with
-- host:park() (suspend the running coroutine until woken, e.g. by yielding to the host loop)
-- and host:wake(co) (have the host loop resume co). It is used only for coroutines that are
-- not dwell scheduler tasks; without it such a coroutine that finds the lock held raises.
-- A host-supplied client `transport` with park and wake methods is passed here by the clients.
function M.lock(host)
  if not (type(host) == "table" and type(host.park) == "function" and type(host.wake) == "function") then
    host = nil
  end
  return setmetatable({ holder = nil, waiters = {}, host = host }, Lock)
end

function Lock:acquire()
  local co = coroutine.running()
  if self.holder == nil then
    self.holder = co
    return
  end
  if self.holder == co then error("dwell.transport: lock is not re-entrant", 2) end
  local in_task = scheduler.current() ~= nil
  if not in_task and not self.host then error("dwell.transport: lock held and no scheduler to wait in", 2) end
  self.waiters[#self.waiters + 1] = co
  -- release() hands the lock over before waking us
  if in_task then scheduler.park() else self.host:park() end
end

function Lock:release()
  local nxt = table.remove(self.waiters, 1)
  self.holder = nxt
  if nxt and not scheduler.wake(nxt) then self.host:wake(nxt) end
end

function Lock:held() return self.holder ~= nil end

function Lock:with(fn, ...)
  self:acquire()
  local res = table.pack(pcall(fn, ...))
  self:release()
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- ---- dwell.parallel ------------------------------------------------------

local function traceback(e)
  if errors.is(e) then return e end
  return debug.traceback(tostring(e), 2)
end

-- Runs callable(args) as a task of sched; on_done(result, err, raised) gets its outcome: the
-- value, or the dwell.error it returned or raised, or (raised) any other error, to raise again.
local function spawn_call(sched, callable, args, on_done)
  sched:spawn(function() return xpcall(callable, traceback, args) end, function(ok, xok, v, err)
    if not ok then return on_done(nil, nil, xok) end -- the scheduler itself failed
    if not xok then
      if errors.is(v) then return on_done(nil, v) end
      return on_done(nil, nil, v)
    end
    if v == nil then return on_done(nil, err) end
    return on_done(v)
  end)
end

--- dwell.parallel(calls, { concurrency = 8, clock = ... }): calls[i] = { callable, args };
-- returns results, errors with results[i] the value or nil and errors[i] the
-- dwell.error (returned as `nil, err` or raised). Any other raised error is
-- raised again once the calls already running have finished.
-- @function parallel
-- @tparam {{callable,table},...} calls each `{ endpoint (or any function), args }`
-- @tparam[opt] table opts `{ concurrency = 8 }`
-- @return results, errors
function M.parallel(calls, opts)
  opts = opts or {}
  local function bad(rule) return nil, errors.invalid_argument(nil, "parallel", "calls", rule) end
  if type(calls) ~= "table" then return bad("must be a list of { callable, args } (got " .. type(calls) .. ")") end
  local n, conc = #calls, opts.concurrency or 8
  assert(math.type(conc) == "integer" and conc >= 1, "dwell.parallel: concurrency must be an integer >= 1")
  -- Checked whole before anything runs: a hole or a bad entry halfway must not leave calls
  -- already sent and the rest never started.
  for k in pairs(calls) do
    if math.type(k) ~= "integer" or k < 1 or k > n then
      return bad("must be a list without holes (unexpected key " .. tostring(k) .. ")")
    end
  end
  for i = 1, n do
    local c = calls[i]
    local f = type(c) == "table" and c[1]
    local callable = type(f) == "function" or (type(f) == "table" and getmetatable(f) and getmetatable(f).__call)
    if not callable then
      return bad("[" .. i .. "] must be { callable, args } (got " .. type(c) .. ")")
    end
  end
  local results, errs = {}, {}
  local current = scheduler.current()
  local sched = current or scheduler.new{ clock = opts.clock }
  local parent = current and coroutine.running()
  local next_i, running, finished, raised = 1, 0, 0, nil
  -- As many connections as tasks run at once: kept for reuse, never more opened.
  local _ <close> = scheduler.reserve_connections(math.min(conc, n))

  local start_next
  local function on_done(i, result, err, failure)
    running, finished = running - 1, finished + 1
    results[i], errs[i] = result, err
    raised = raised or failure
    start_next()
    if running == 0 and parent then scheduler.wake(parent) end
  end
  function start_next()
    while not raised and running < conc and next_i <= n do
      local i, call = next_i, calls[next_i]
      next_i, running = next_i + 1, running + 1
      spawn_call(sched, call[1], call[2], function(...) on_done(i, ...) end)
    end
  end

  start_next()
  if parent then
    if running > 0 then scheduler.park() end
  else
    sched:run()
  end
  if raised then error(raised, 0) end
  return results, errs
end

-- ---- an ordered window of calls -----------------------------------------

local Window = {}
Window.__index = Window

--- transport.window(): calls kept in flight in the background while the caller works on
-- earlier results (ep:each's reading ahead).
-- * `w:push(callable, args)` adds a call; `w:kick()` starts those added, their requests on
--   the wire at once, without waiting for answers;
-- * `w:take()` waits for the oldest call not yet taken and returns its result, err;
-- * `w:cancel()` cancels the rest (each ends with a `cancelled` transport error, never
--   resent); `w:close()` also gives back the connections the window holds.
-- Outside a scheduler task only: it runs a scheduler of its own, which moves only inside
-- kick and take. opts: { concurrency = n (the calls it holds at most), clock }.
-- @function window
function M.window(opts)
  opts = opts or {}
  return setmetatable({ sched = scheduler.new{ clock = opts.clock, background = true },
    queue = {}, head = 1, tail = 0,
    -- as dwell.parallel: connections kept for its calls, never more opened (given back by close)
    connections = scheduler.reserve_connections(opts.concurrency or 1) }, Window)
end

function Window:push(callable, args)
  local e = { args = args }
  self.tail = self.tail + 1
  self.queue[self.tail] = e
  spawn_call(self.sched, callable, args, function(result, err, raised)
    e.done, e.result, e.err, e.raised = true, result, err, raised
  end)
  return e
end

--- Puts the requests of the calls pushed so far on the wire, without waiting for answers.
function Window:kick() self.sched:kick() end

--- How many calls were pushed and not yet taken.
function Window:size() return self.tail - self.head + 1 end

--- The oldest call not yet taken, as { args = args as pushed }, or nil.
function Window:peek() return self.queue[self.head] end

function Window:take()
  local e = assert(self.queue[self.head], "dwell.transport: take from an empty window")
  self.queue[self.head], self.head = nil, self.head + 1
  self.sched:run_until(function() return e.done end)
  if e.raised then
    self:cancel()
    error(e.raised, 0)
  end
  return e.result, e.err
end

--- Cancels the calls not yet taken; the window stays usable.
function Window:cancel()
  if self:size() > 0 or self.sched.tasks > 0 then
    self.sched:cancel()
    self.sched = scheduler.new{ clock = self.sched.clock, background = true }
  end
  self.queue, self.head, self.tail = {}, 1, 0
end

--- Cancels the calls not yet taken and gives the window's connections back.
function Window:close()
  self:cancel()
  self.connections:release()
end

-- (A window dropped without close, an iterator abandoned outside a for loop, still gives its
-- connections back: the reservation releases itself when collected.)

return M
