--- The Rooms sandbox's rate limits (docs/vendors/rooms.md §8): an hourly budget counted from
-- the first call (the Rooms rule), a 30-second burst window, X-RateLimit-* and
-- X-BurstLimit-* on every API response, HOURLY_APIINVOCATION_LIMIT_EXCEEDED /
-- BURST_APIINVOCATION_LIMIT_EXCEEDED once spent.
local M = {}

function M.new(st)
  local cfg = st.config
  local l = { hourly = cfg.hourly_limit or 3000, burst = cfg.burst_limit or 200, status = cfg.limit_status or 400 }
  local hour, burst -- { start, used }

  function l.reset()
    hour, burst = nil, nil
  end

  function l.set(args)
    if args.hourly_limit then l.hourly = args.hourly_limit end
    if args.burst_limit then l.burst = args.burst_limit end
    if args.limit_status then l.status = args.limit_status end
    if args.used then
      hour = hour or { start = st.now(), used = 0 }
      hour.used = args.used
    end
    return { hourly_limit = l.hourly, burst_limit = l.burst, used = hour and hour.used or 0 }
  end

  local function headers()
    return {
      ["X-RateLimit-Limit"] = tostring(l.hourly),
      ["X-RateLimit-Remaining"] = tostring(math.max(0, l.hourly - hour.used)),
      ["X-RateLimit-Reset"] = tostring(math.floor(hour.start + 3600)),
      ["X-BurstLimit-Limit"] = tostring(l.burst),
      ["X-BurstLimit-Remaining"] = tostring(math.max(0, l.burst - burst.used)),
    }
  end

  --- Counts one call: headers to add, and an error response when over a limit.
  function l.take()
    local now = st.now()
    if not hour or now >= hour.start + 3600 then hour = { start = now, used = 0 } end
    if not burst or now >= burst.start + 30 then burst = { start = now, used = 0 } end
    if hour.used >= l.hourly then
      st.stats.limited = st.stats.limited + 1
      return headers(), { errorCode = "HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
        message = "The maximum number of hourly API invocations has been exceeded. The hourly limit is "
          .. l.hourly .. "." }
    end
    if burst.used >= l.burst then
      st.stats.limited = st.stats.limited + 1
      return headers(), { errorCode = "BURST_APIINVOCATION_LIMIT_EXCEEDED",
        message = "The maximum number of API invocations in 30 seconds has been exceeded. The burst limit is "
          .. l.burst .. "." }
    end
    hour.used, burst.used = hour.used + 1, burst.used + 1
    return headers()
  end

  return l
end

return M
