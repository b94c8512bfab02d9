--- dwell.ratelimit: token buckets for what a vendor limits (per property,
-- per account, per client).
--
-- A bucket holds `capacity` tokens and gains `refill_per_second`. take()
-- reserves a token at once and, when the bucket is in debt, sleeps until that
-- token exists: waiters are served in order, and since the wait is a scheduler
-- sleep, a task waiting on one bucket never holds up tasks that can spend.
local scheduler = require "dwell.scheduler"

local M = {}

local Bucket = {}
Bucket.__index = Bucket
Bucket.__name = "dwell.ratelimit.bucket"

local function check(opts)
  assert(type(opts) == "table", "dwell.ratelimit: options must be a table")
  local cap, rate = opts.capacity, opts.refill_per_second
  assert(type(cap) == "number" and cap >= 1, "dwell.ratelimit: 'capacity' must be a number >= 1")
  assert(type(rate) == "number" and rate > 0, "dwell.ratelimit: 'refill_per_second' must be a number > 0")
  return cap, rate
end

--- A bucket: { capacity, refill_per_second [, clock] }. Without a clock it
-- follows the clock of the scheduler it is used in.
function M.new(opts)
  local cap, rate = check(opts)
  return setmetatable({ capacity = cap, rate = rate, tokens = cap, clock = opts.clock }, Bucket)
end

function Bucket:_now()
  return self.clock and self.clock.now() or scheduler.now()
end

function Bucket:_refill()
  local now = self:_now()
  if self.updated then
    self.tokens = math.min(self.capacity, self.tokens + (now - self.updated) * self.rate)
  end
  self.updated = now
end

--- Tokens available now (negative while waiters are in debt).
function Bucket:available()
  self:_refill()
  return self.tokens
end

--- Takes n tokens without waiting; true if they were there.
function Bucket:try_take(n)
  n = n or 1
  self:_refill()
  if self.tokens < n then return false end
  self.tokens = self.tokens - n
  return true
end

--- Reserves n tokens (default 1) without waiting: returns the seconds until they exist
-- (0 when they do now), for the caller to wait. With max_wait (seconds) it reserves nothing
-- when the wait would be longer: returns false and the wait it would have needed.
function Bucket:reserve(n, max_wait)
  n = n or 1
  self:_refill()
  local wait = (n - self.tokens) / self.rate
  if wait > 0 and max_wait and wait > max_wait then return false, wait end
  self.tokens = self.tokens - n
  return wait > 0 and wait or 0
end

--- Takes n tokens (default 1), waiting for them if needed. With max_wait
-- (seconds) it gives up when the wait would be longer: returns false and
-- the wait it would have needed, and takes nothing.
function Bucket:take(n, max_wait)
  local wait, need = self:reserve(n, max_wait)
  if not wait then return false, need end
  if wait > 0 then
    if self.clock and not scheduler.current() then self.clock.sleep(wait) else scheduler.sleep(wait) end
  end
  return true
end

local Group = {}
Group.__index = Group
Group.__name = "dwell.ratelimit.group"

--- Buckets by key, all with the same limits: group:get(key) -> bucket. Weak values: a bucket
-- nobody holds any more goes away.
function M.group(opts)
  check(opts)
  return setmetatable({ opts = opts, buckets = setmetatable({}, { __mode = "v" }) }, Group)
end

function Group:get(key)
  local b = self.buckets[key]
  if not b then
    b = M.new(self.opts)
    self.buckets[key] = b
  end
  return b
end

function Group:take(key, n, max_wait)
  return self:get(key):take(n, max_wait)
end

return M
