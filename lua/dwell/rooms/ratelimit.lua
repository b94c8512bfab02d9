--- DocuSign's account-wide hourly budget and 30-second burst window (docs/vendors/rooms.md §8).
-- Every response's X-RateLimit-* / X-BurstLimit-* headers are recorded; before a call, when the
-- hourly budget is nearly spent, calls are spread over what is left of the window instead of
-- running into HOURLY_APIINVOCATION_LIMIT_EXCEEDED. Nothing here sleeps: it says how long to
-- wait, and the pipeline (dwell.pipeline) waits, within the call's deadline and attempt budget.
local http = require "dwell.http"
local retry = require "dwell.retry"

local M = {}

M.DEFAULTS = {
  reserve = 0.05,     -- start pacing when remaining <= this share of the limit (or count, if >= 1)
  burst_window = 30,  -- the burst limit's window: a burst error waits this long, not the hour
}

-- The documented budgets (docs/vendors/rooms.md §8) that client-side buckets hold every client of one
-- account to (in one process, or in every process sharing a store): calls per hour for the
-- account, and calls per burst window (200 on demo, 500 in production).
M.HOURLY = 3000
M.BURST = { demo = 200, prod = 500 }

--- The account's buckets as a limiter for dwell.pipeline (dwell.store.limiters): an hourly one
-- (`hourly` calls, refilled over the hour) and a burst one (`burst` calls per `burst_window`),
-- kept in `shared` (a dwell.store) under `key`; nil when `opts` is false.
function M.buckets(opts, shared, key, prod, clock)
  if opts == false then return nil end
  local store = require "dwell.store"
  opts = opts or {}
  local hourly = opts.hourly or M.HOURLY
  local burst = opts.burst or (prod and M.BURST.prod or M.BURST.demo)
  local window = opts.burst_window or M.DEFAULTS.burst_window
  return store.limiters{
    store.limiter(shared, key .. "#hour", hourly, hourly / 3600, clock),
    store.limiter(shared, key .. "#burst", burst, burst / window, clock),
  }
end

local Limits = {}
Limits.__index = Limits

--- `opts` = false (observe only: no pacing, limit errors are final) or overrides of
-- M.DEFAULTS; `now()` is the wall clock (X-RateLimit-Reset is epoch seconds).
function M.new(opts, now)
  local self = setmetatable({ now = now, enabled = opts ~= false }, Limits)
  for k, v in pairs(M.DEFAULTS) do self[k] = v end
  if type(opts) == "table" then
    for k, v in pairs(opts) do
      if M.DEFAULTS[k] ~= nil then self[k] = v end
    end
  end
  return self
end

local function num(headers, name)
  return tonumber(http.header(headers, name))
end

--- The five documented headers of one response as numbers: { limit, remaining,
-- reset, burst_limit, burst_remaining }, or nil when it carries none of them.
function M.parse(headers)
  local r = { limit = num(headers, "X-RateLimit-Limit"), remaining = num(headers, "X-RateLimit-Remaining"),
    reset = num(headers, "X-RateLimit-Reset"), burst_limit = num(headers, "X-BurstLimit-Limit"),
    burst_remaining = num(headers, "X-BurstLimit-Remaining") }
  if next(r) == nil then return nil end
  return r
end

--- Records the rate-limit headers of a response (absent headers keep old values).
function Limits:observe(headers)
  local r = M.parse(headers)
  if not r then return end
  local s = self.state or {}
  s.limit, s.remaining = r.limit or s.limit, r.remaining or s.remaining
  s.burst_limit, s.burst_remaining = r.burst_limit or s.burst_limit, r.burst_remaining or s.burst_remaining
  if r.reset then
    -- Observed as epoch seconds; a small number is read as "seconds from now".
    s.reset = r.reset
    s.reset_at = r.reset > 1e8 and r.reset or self.now() + r.reset
  end
  self.state = s
end

--- The last seen values: { limit, remaining, reset, reset_at, burst_limit, burst_remaining }, or nil.
function Limits:snapshot()
  if not self.state then return nil end
  local c = {}
  for k, v in pairs(self.state) do c[k] = v end
  return c
end

-- Seconds until one second past the hourly reset (the header has one-second resolution), or nil.
function Limits:to_reset()
  local s = self.state
  if not (s and s.reset_at) then return nil end
  return math.max(0, s.reset_at - self.now()) + 1
end

--- The pause before the next call, in seconds, and whether it is required: when the budget is
-- spent the call must wait for the reset (`true`); when it is nearly spent the pause only spreads
-- what is left evenly over the rest of the window (`false`). nil when no pause is due.
function Limits:before_call()
  local s = self.state
  if not self.enabled or not s or not s.remaining or not s.reset_at then return nil end
  local left = s.reset_at - self.now()
  if left <= 0 then return nil end -- the window has rolled over since we last looked
  if s.remaining <= 0 then return left + 1, true end
  local reserve = self.reserve < 1 and (s.limit or 0) * self.reserve or self.reserve
  if s.remaining > reserve then return nil end
  return left / (s.remaining + 1), false
end

--- The wait a limit error asks for, in seconds: a usable Retry-After (a positive one: a date in
-- the past says nothing), else one burst window for a burst error, else the time to the hourly
-- reset; nil when none is known (the pipeline then backs off).
function Limits:wait_for(headers, burst)
  local after = retry.after(headers)
  if after and after > 0 then return after end
  if burst then return self.burst_window end
  return self:to_reset()
end

return M
