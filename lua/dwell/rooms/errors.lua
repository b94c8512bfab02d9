--- Reads Rooms API answers (docs/vendors/rooms.md §6.4, §7, §8): a pipeline verdict (dwell.pipeline)
-- for every response, and the dwell.error for every failure. Bodies are ApiError { errorCode,
-- message, referenceId } when present; an empty or non-JSON body (GetRoomUsers' 404 has none)
-- falls back to the status.
local errors = require "dwell.error"
local http = require "dwell.http"
local ratelimit = require "dwell.rooms.ratelimit"
local redact = require "dwell.redact"
local retry = require "dwell.retry"

local M = {}

local REASON = { [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [409] = "Conflict", [429] = "Too Many Requests", [500] = "Internal Server Error", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout" }

-- dwell.error's kinds by status; other 4xx are `api`, anything else `http`.
local KINDS = errors.STATUS_KINDS

local function kind_for(status)
  return KINDS[status] or (status >= 400 and status < 500 and "api") or "http"
end

--- True when a response means "rate limit exceeded" (docs/vendors/rooms.md §8): any 429; a
-- 400/403 whose errorCode matches APIINVOCATION.*LIMIT_EXCEEDED (any case); or,
-- whatever the status, a message about the maximum number of hourly API invocations.
function M.is_rate_limited(status, body)
  if status == 429 then return true end
  if type(body) ~= "table" or (status >= 200 and status < 300) then return false end
  if status == 400 or status == 403 then
    local code = tostring(body.errorCode or ""):upper()
    if code:find("APIINVOCATION.*LIMIT_EXCEEDED") then return true end
  end
  local msg = tostring(body.message or ""):lower()
  return msg:find("maximum number of hourly api invocations", 1, true) ~= nil
end

--- True when a limit error is the 30-second burst limit rather than the hourly one.
function M.is_burst(body)
  return type(body) == "table" and tostring(body.errorCode or ""):upper():find("BURST", 1, true) ~= nil
end

--- The dwell.error for a non-2xx response to endpoint `name`.
function M.from_response(name, resp, retry_after)
  local status = resp.status
  local body = http.decode(resp.body)
  local api = type(body) == "table" and body or {}
  local code = type(api.errorCode) ~= "table" and api.errorCode or nil
  local message = type(api.message) == "string" and api.message or nil
  if not message and type(api.error) == "string" then message = api.error end
  local kind = M.is_rate_limited(status, body) and "rate_limited" or kind_for(status)
  return errors.new{
    kind = kind, status = status, code = code, vendor = "rooms", endpoint = name,
    message = message or (REASON[status] or ("HTTP " .. status)),
    request_id = type(api.referenceId) == "string" and api.referenceId or http.header(resp.headers, "X-DocuSign-TraceToken"),
    retry_after = kind == "rate_limited" and retry_after or nil,
    retryable = kind == "rate_limited" or status >= 500,
    -- Kept for support requests (docs/vendors/rooms.md §7, §8); secret headers masked.
    headers = redact.headers(resp.headers),
    rate_limit = ratelimit.parse(resp.headers),
  }
end

--- A 2xx whose body should be JSON but is not.
function M.decode_error(name, resp)
  return errors.new{ kind = "decode", status = resp.status, vendor = "rooms", endpoint = name,
    message = "response body is not valid JSON (" .. #(resp.body or "") .. " bytes)" }
end

local function success(spec, resp)
  if resp.status == 204 or not (resp.body or ""):find("%S") then return { ok = true, result = true } end
  local v = http.decode(resp.body)
  if v == nil then return { fail = M.decode_error(spec.name, resp) } end
  return { ok = true, result = v }
end

--- The pipeline's verdict on an API response. A rate-limit answer was not processed: it waits
-- (Retry-After, the burst window or the hourly reset; the pipeline's deadline and budget decide)
-- unless `limits` is off. A 401 renews the token once. 502/503/504 may have taken effect: only
-- a repeatable request is sent again.
function M.verdict(spec, resp, limits)
  if resp.status >= 200 and resp.status < 300 then return success(spec, resp) end
  local body = http.decode(resp.body)
  if M.is_rate_limited(resp.status, body) then
    local wait = limits:wait_for(resp.headers, M.is_burst(body))
    local err = M.from_response(spec.name, resp, wait)
    if not limits.enabled then return { fail = err } end
    return { wait = wait, err = err }
  end
  local err = M.from_response(spec.name, resp)
  if resp.status == 401 then return { reauth = true, err = err } end
  return retry.status_verdict(resp, err) or { fail = err }
end

return M
