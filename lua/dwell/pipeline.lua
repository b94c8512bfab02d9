--- dwell.pipeline: the one request loop every vendor client runs (docs/internals.md, "Pipeline").
--
--   credential -> sign -> send (one attempt) -> classify -> ok | reauth | wait | transient | fail
--
-- with one attempt budget, one deadline and one retry policy (dwell.retry) for all vendors.
-- A vendor supplies a profile of data and small hooks:
--   profile.vendor                       "tuya" | "rooms" | "ruckus"
--   profile.sign(state, spec, req, cred, ctx) -> { method, url, headers, body } | nil, err
--       state is the vendor's own client state; cred the credential entry (nil for
--       auth = "none"); ctx.secrets is the list of strings errors must never show: add the
--       signature and anything else the request carries.
--   profile.classify(state, spec, resp, ctx) -> verdict, one of
--       { ok = true, result = v }          success (v is what the call returns); also
--                                          as the two values true, v (no table made)
--       { reauth = true, err = e }         the credential was refused: renew once and resend
--       { wait = seconds|nil, err = e }    rate limited, the request was not processed: wait and
--                                          resend (any method); seconds nil = backoff
--       { again = true, err = e }          the server says resend now, once (Tuya's clock skew)
--       { transient = true, err = e, wait = s|nil }  may or may not have taken effect: resent
--                                          only when the request is repeatable
--       { fail = e }                       final
--   profile.observe(state, resp)           optional: every response (rate-limit headers)
--   profile.before(state, spec, ctx)       optional: pacing before a send; returns seconds to
--                                          wait (capped by the deadline) or nil
--   profile.redact                         header and query names hooks must never show
-- The token endpoint is a declaration like any other (auth = "none"); a credential's fetch runs
-- it through execute() with the calling request's deadline, never through the public tree.
local errors = require "dwell.error"
local retry = require "dwell.retry"
local scheduler = require "dwell.scheduler"

local M = {}

local Pipeline = {}
Pipeline.__index = Pipeline
Pipeline.__name = "dwell.pipeline"

function Pipeline.__tostring(p) return "dwell.pipeline (" .. p.profile.vendor .. ")" end

--- opts: profile, state (the vendor's client state, handed to the hooks), transport,
-- credential (dwell.credential, or nil when no call needs one), limiter (a bucket with take:
-- dwell.ratelimit's, or dwell.store.limiter's through a shared store; not for unmetered specs),
-- retry (the client's retry option), retry_defaults (the vendor's), deadline_ms (default
-- 120000), clock ({ now, sleep }: the client's clock option), secrets (strings of the client
-- itself that errors must never show: secret, hashed secret, private key, passphrase, ...).
function M.new(opts)
  return setmetatable({
    profile = opts.profile, state = opts.state, transport = opts.transport, credential = opts.credential,
    limiter = opts.limiter, policy = retry.policy(opts.retry, opts.retry_defaults),
    deadline_ms = opts.deadline_ms or 120000, clock = opts.clock, secrets = opts.secrets or {},
  }, Pipeline)
end

-- The pipeline's clock: the client's, else the running scheduler's (monotonic by default).
function Pipeline:now()
  if self.clock and self.clock.now then return self.clock.now() end
  return scheduler.now()
end

-- Waits: in a dwell scheduler task its timer; else the client clock's sleep; else a host
-- transport's own (`t:sleep(s)`: a timer of the host's loop); else a blocking sleep.
function Pipeline:sleep(seconds)
  if seconds <= 0 then return end
  if scheduler.current() then return scheduler.sleep(seconds) end
  if self.clock and self.clock.sleep then return self.clock.sleep(seconds) end
  local t = self.transport
  if type(t) == "table" and type(t.sleep) == "function" then return t:sleep(seconds) end
  return scheduler.sleep(seconds)
end

local function deadline_left(d) return d.at - d.pipeline:now() end

--- A deadline `ms` from now (or the client's deadline_ms): { at, left = fn } where
-- deadline:left() is the seconds left (what a store's calls are bounded by).
function Pipeline:deadline(ms)
  return { at = self:now() + (ms or self.deadline_ms) / 1000, pipeline = self, left = deadline_left }
end

function Pipeline:left(deadline)
  return deadline.at - self:now()
end

-- Fills in who failed and masks every secret the call knows, in every field.
function Pipeline:finish(err, spec, ctx)
  if not errors.is(err) then
    err = errors.new{ kind = "transport", message = tostring(type(err) == "table" and err.message or err) }
  end
  err.vendor = err.vendor or self.profile.vendor
  err.endpoint = err.endpoint or (spec and spec.name)
  -- requests this call put on the wire (the transport's own count is per send)
  if ctx then err.attempts = ctx.attempt end
  local secrets = {}
  for _, s in ipairs(self.secrets) do secrets[#secrets + 1] = s end
  for _, s in ipairs(ctx and ctx.secrets or {}) do secrets[#secrets + 1] = s end
  return errors.mask(err, secrets)
end

local function out_of_time(what, retry_after)
  return errors.new{ kind = retry_after and "rate_limited" or "timeout", reason = "deadline",
    retry_after = retry_after, retryable = true,
    message = "deadline passed " .. what }
end

-- A wait of `seconds`, unless it would pass the deadline: then the error to return at once.
function Pipeline:wait(seconds, deadline, err)
  if self:now() + seconds >= deadline.at then
    if err then
      err.retry_after = err.retry_after or seconds
      err.message = (err.message or "") .. " (waiting " .. string.format("%.3g", seconds)
        .. " s would pass the deadline)"
      return err
    end
    return out_of_time("before the wait of " .. string.format("%.3g", seconds) .. " s could end", seconds)
  end
  self:sleep(seconds)
  return nil
end

-- Every header value must be sendable: a token or id from a hostile server with CR/LF is an
-- error here, not a raise inside the C core.
-- (dwell.core.http.unsafe_header: one C pass over the values, in pairs order.)
local unsafe_header = require("dwell.core").http.unsafe_header
local function check_headers(h)
  local k = unsafe_header(h)
  if k ~= nil then
    return errors.new{ kind = "auth", retryable = false,
      message = "header '" .. tostring(k) .. "' would carry CR, LF or NUL (a token the server sent?)" }
  end
  return nil
end

--- The longest URL sent: servers refuse far shorter ones (8 KiB is common), and a value that
-- long is a mistake the same on every attempt, so it is refused before any I/O.
M.MAX_URL = 65536

local floor = math.floor

-- One attempt on the wire, bounded by what is left of the deadline.
function Pipeline:send(spec, hreq, deadline, attempt)
  local left_ms = floor((deadline.at - self:now()) * 1000)
  if left_ms <= 0 then return nil, out_of_time("before the request could be sent") end
  if #hreq.url > M.MAX_URL then
    return nil, errors.new{ kind = "invalid_argument", retryable = false, message = "the request URL would be "
      .. #hreq.url .. " bytes (at most " .. M.MAX_URL .. "): an argument too long to travel in a URL" }
  end
  local bad = check_headers(hreq.headers)
  if bad then return nil, bad end
  return self.transport:send{
    method = hreq.method, url = hreq.url, headers = hreq.headers, body = hreq.body,
    -- spec.unmetered: a call the vendor does not count against the budget (Rooms' OAuth service)
    idempotent = spec.repeatable, limiter = not spec.unmetered and self.limiter or nil, redact = self.profile.redact,
    attempts = 1, attempt = attempt, deadline_ms = left_ms, timeout_ms = hreq.timeout_ms,
    -- for host transports: a write that may not be repeated must not ride on a reused
    -- connection, which libcurl would silently resend on (the built-in transport does this)
    fresh_connect = not spec.repeatable or nil,
  }
end

-- Whether a transport failure may be sent again, and after how long.
function Pipeline:transport_delay(spec, err, attempt)
  local cerr = { kind = err.reason or err.kind, sent = err.sent }
  if err.kind == "timeout" and err.reason == "deadline" then return nil end
  if not retry.transport_retryable(cerr, spec.repeatable) then return nil end
  return self.policy:backoff(attempt)
end

-- The delay before the next attempt for a verdict, or nil when the call ends with verdict's error.
function Pipeline:delay_for(spec, v, ctx)
  if v.reauth then
    if ctx.reauthed or not (self.credential and self.credential:renewable()) then return nil end
    ctx.reauthed = true
    self.credential:invalidate(ctx.cred, ctx.deadline)
    return 0
  end
  if v.again then
    if ctx.again then return nil end
    ctx.again = true
    return 0
  end
  if v.wait ~= nil or (v.err and v.err.kind == "rate_limited" and not v.transient) then
    return v.wait or self.policy:backoff(ctx.attempt)
  end
  if v.transient and spec.repeatable then
    return v.wait or self.policy:backoff(ctx.attempt)
  end
  return nil
end

--- Runs one call: spec (a normalised declaration: method, name, repeatable, auth), req (the
-- engine's request), opts { deadline = d (shared with an outer call), deadline_ms, attempts }.
-- Returns the result or nil, dwell.error.
local NO_OPTS = {}

function Pipeline:execute(spec, req, opts)
  opts = opts or NO_OPTS
  local deadline = opts.deadline or self:deadline(opts.deadline_ms)
  local ctx = { attempt = 0, secrets = {}, deadline = deadline }
  local budget = opts.attempts or self.policy.attempts
  local profile, state = self.profile, self.state
  while true do
    ctx.attempt = ctx.attempt + 1
    local err
    ctx.cred = nil
    if spec.auth ~= "none" and self.credential then
      ctx.cred, err = self.credential:get(deadline)
      if not ctx.cred then return nil, self:finish(err, spec, ctx) end
      ctx.secrets[#ctx.secrets + 1] = ctx.cred.token
      ctx.secrets[#ctx.secrets + 1] = ctx.cred.refresh_token
    end
    if profile.before then
      local pause = profile.before(state, spec, ctx)
      if pause and pause > 0 then
        err = self:wait(pause, deadline)
        if err then return nil, self:finish(err, spec, ctx) end
      end
    end
    local hreq
    hreq, err = profile.sign(state, spec, req, ctx.cred, ctx)
    if not hreq then return nil, self:finish(err, spec, ctx) end
    local resp
    resp, err = self:send(spec, hreq, deadline, ctx.attempt)
    local delay, verdict
    if not resp then
      delay = self:transport_delay(spec, err, ctx.attempt)
      err.retryable = delay ~= nil
    else
      if profile.observe then profile.observe(state, resp) end
      local result
      verdict, result = profile.classify(state, spec, resp, ctx)
      if verdict == true then return result end
      if verdict.ok then return verdict.result end
      err = verdict.err or verdict.fail
      if not verdict.fail then delay = self:delay_for(spec, verdict, ctx) end
      -- A write that may have taken effect is not safe to send again blindly, by us or the caller.
      if verdict.transient and not spec.repeatable then err.retryable = false end
    end
    -- A renewal after a refused credential and a resend the server asked for come on top of
    -- the budget: each happens at most once per call.
    local extra = (ctx.reauthed and 1 or 0) + (ctx.again and 1 or 0)
    if delay == nil or ctx.attempt >= budget + extra then return nil, self:finish(err, spec, ctx) end
    if delay > 0 then
      local late = self:wait(delay, deadline, err)
      if late then return nil, self:finish(late, spec, ctx) end
    end
  end
end

--- What a declaration's `idempotent` and method say about repeating it (dwell.retry).
function M.repeatable(spec)
  return retry.repeatable(spec.method, spec.idempotent)
end

return M
