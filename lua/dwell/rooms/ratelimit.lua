--- DocuSign's account-wide hourly budget and 30-second burst window (NOTES.md §8).
-- Every response's X-RateLimit-* / X-BurstLimit-* headers are recorded; before a
-- call, when the hourly budget is nearly spent, calls are spread over what is
-- left of the window instead of running into HOURLY_APIINVOCATION_LIMIT_EXCEEDED;
-- after a limit error, idempotent calls wait until the reset time.
local http = require "dwell.http"

local M = {}

M.DEFAULTS = {
  reserve = 0.05,     -- start pacing when remaining <= this share of the limit (or count, if >= 1)
  max_waits = 2,      -- waits-until-reset per call after a limit error
  max_wait = 3660,    -- never sleep longer than this (seconds) for one wait
  fallback_wait = 30, -- wait when the limit error carries no reset time
  burst_window = 30,  -- the burst limit's window: a burst error waits this long, not the hour
}

local Limits = {}
Limits.__index = Limits

--- `opts` = false (observe only) or overrides of M.DEFAULTS; `now()` and `sleep(s)` are the clock.
function M.new(opts, now, sleep)
  local self = setmetatable({ now = now, sleep = sleep, enabled = opts ~= false, waited = 0, waits = 0 }, Limits)
  for k, v in pairs(M.DEFAULTS) do self[k] = v end
  if type(opts) == "table" then
    for k, v in pairs(opts) do self[k] = v end
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

function Limits:pause(seconds)
  seconds = math.min(seconds, self.max_wait)
  if seconds <= 0 then return 0 end
  self.waited, self.waits = self.waited + seconds, self.waits + 1
  self.sleep(seconds)
  return seconds
end

--- Paces the next call: sleeps when the hourly budget is (nearly) used up.
-- Returns the seconds slept.
function Limits:before_call()
  local s = self.state
  if not self.enabled or not s or not s.remaining or not s.reset_at then return 0 end
  local left = s.reset_at - self.now()
  if left <= 0 then return 0 end -- the window has rolled over since we last looked
  if s.remaining <= 0 then
    return self:pause(left + 1)
  end
  local reserve = self.reserve < 1 and (s.limit or 0) * self.reserve or self.reserve
  if s.remaining > reserve then return 0 end
  -- Spread what is left evenly over the rest of the window.
  return self:pause(left / (s.remaining + 1))
end

--- After a limit error: sleeps until the reset (or Retry-After, one burst window
-- for a burst error); without any of those, exponential backoff with jitter from
-- fallback_wait (`attempt` = 1, 2, ...). Returns the seconds slept, or nil when
-- waiting is off or would exceed max_wait.
function Limits:wait_for_reset(retry_after, burst, attempt)
  if not self.enabled then return nil end
  local s = self.state
  local wait = retry_after or (burst and self.burst_window) or nil
  if not wait and s and s.reset_at then wait = s.reset_at - self.now() + 1 end
  if not wait then
    local full = self.fallback_wait * 2 ^ ((attempt or 1) - 1)
    wait = full / 2 + (self.random or math.random)() * full / 2 -- "equal jitter"
  end
  if wait > self.max_wait then return nil end
  if wait < 0.001 then wait = 0.001 end
  return self:pause(wait)
end

return M
