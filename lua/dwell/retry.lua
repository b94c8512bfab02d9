--- dwell.retry: the one retry policy, decided from the declaration (README, "Retries").
--
-- Reads (GET, HEAD, OPTIONS) and writes a declaration marks `idempotent = true` are retried on
-- transport errors, timeouts, 429, 502/503/504 and the vendor's transient codes. Any other
-- write is retried only when it provably did not take effect: it was never sent (DNS, connect
-- or TLS failure before any byte), or the server says it was not processed (429, the vendor's
-- rate-limit and token-expired codes). Retry-After (seconds or HTTP-date) is read here for
-- every vendor, and every wait is capped by the call's deadline by the caller.
local date = require "dwell.date"
local header = require("dwell.http").header

local M = {}

M.DEFAULTS = { attempts = 3, base_ms = 200, cap_ms = 10000, jitter = "full" }

local READS = { GET = true, HEAD = true, OPTIONS = true, TRACE = true }

--- HTTP statuses that mean "try again later" for a request that may be repeated.
M.RETRY_STATUS = { [429] = true, [502] = true, [503] = true, [504] = true }

--- Transport failures after which the request provably never left: nothing was sent.
local NOT_SENT = { dns = true, connect = true, tls = true }
--- Transport failures that would repeat identically, or that the application itself ended
-- (a host loop closing with the request in flight): never retried.
local DETERMINISTIC = { too_large = true, invalid = true, cancelled = true }

--- Whether a request may be sent again after an answer was lost: reads, and writes the
-- declaration marks idempotent.
function M.repeatable(method, idempotent)
  if idempotent ~= nil then return idempotent end
  return READS[string.upper(method or "GET")] == true
end

--- Whether a transport failure (the C core's { kind, sent }) may be retried for this request.
function M.transport_retryable(cerr, repeatable)
  if DETERMINISTIC[cerr.kind] then return false end
  if repeatable then return true end
  return NOT_SENT[cerr.kind] == true and cerr.sent ~= true
end

-- ---- Retry-After -------------------------------------------------------------------------

M.http_date = date.http_date

--- The wait a response asks for, in seconds: Retry-After as delta seconds or an HTTP date
-- (RFC 9110 §10.2.3), a date measured against the response's own Date when there is one.
-- nil when absent or unusable ("nan", "-5", garbage); a date in the past gives 0.
function M.after(headers)
  local v = header(headers, "retry-after")
  if type(v) ~= "string" then return nil end
  local secs = v:match("^%s*(%d+)%s*$")
  if secs then return math.tointeger(tonumber(secs)) or tonumber(secs) end
  local at = M.http_date(v:match("^%s*(.-)%s*$"))
  if not at then return nil end
  local ref = M.http_date(header(headers, "date")) or os.time()
  return math.max(0, at - ref)
end

--- The pipeline's verdict on an HTTP status that says "try again" (dwell.pipeline): a 429 was
-- not processed, so any request waits (Retry-After) and is sent again; 502/503/504 may have
-- been processed, so they are transient (sent again only when repeatable). nil for any other
-- status: the vendor reads it.
function M.status_verdict(resp, err)
  if resp.status == 429 then return { wait = M.after(resp.headers), err = err } end
  if M.RETRY_STATUS[resp.status] then return { transient = true, wait = M.after(resp.headers), err = err } end
  return nil
end

-- ---- backoff ------------------------------------------------------------------------------

--- Checks a `retry` option: true, or the rule it breaks.
function M.check(v)
  if type(v) ~= "table" then return "must be a table (got " .. type(v) .. ")" end
  if v.attempts ~= nil and not (math.type(v.attempts) == "integer" and v.attempts >= 1) then
    return "attempts must be an integer >= 1"
  end
  for _, k in ipairs{ "base_ms", "cap_ms" } do
    if v[k] ~= nil and (type(v[k]) ~= "number" or v[k] < 0 or v[k] ~= v[k]) then return k .. " must be a number >= 0" end
  end
  if v.jitter ~= nil and v.jitter ~= "full" and v.jitter ~= "added" then return "jitter must be 'full' or 'added'" end
  return true
end

local Policy = {}
Policy.__index = Policy
Policy.__name = "dwell.retry.policy"

--- A policy from a `retry` option over a vendor's defaults: { attempts, base_ms, cap_ms, jitter }.
function M.policy(opts, defaults, random)
  opts, defaults = opts or {}, defaults or M.DEFAULTS
  local p = setmetatable({ random = random or math.random }, Policy)
  for _, k in ipairs{ "attempts", "base_ms", "cap_ms", "jitter" } do
    local v = opts[k]
    if v == nil then v = defaults[k] end
    if v == nil then v = M.DEFAULTS[k] end
    p[k] = v
  end
  return p
end

--- The wait before attempt `attempt + 1`: the step is min(cap, base * 2^(attempt-1)). Full
-- jitter: uniform in [0, step]; "added": the step plus up to a quarter more, for vendors that
-- ask for waits of at least 1 s, 2 s, 4 s, ... (RUCKUS). In seconds.
function Policy:backoff(attempt)
  local step = math.min(self.cap_ms, self.base_ms * 2 ^ (attempt - 1))
  if self.jitter == "added" then return (step + self.random() * step / 4) / 1000 end
  return self.random() * step / 1000
end

return M
