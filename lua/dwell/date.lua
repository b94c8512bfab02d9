--- dwell.date: UTC timestamps from the date forms the vendors send (HTTP dates for
-- Retry-After, ISO 8601 date-times for RUCKUS token expiry), without the process time zone.
local M = {}

-- Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm), so that UTC
-- timestamps convert without depending on the process time zone.
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9,
                 Oct = 10, Nov = 11, Dec = 12 }

--- Seconds since the epoch for an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110), or nil.
function M.http_date(s)
  if type(s) ~= "string" then return nil end
  local d, mon, y, h, mi, sec = s:match("^%a+, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d or not MONTHS[mon] then return nil end
  return days_from_civil(tonumber(y), MONTHS[mon], tonumber(d)) * 86400
    + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
end

--- Seconds since the epoch for an ISO 8601 date-time ("2024-05-01T10:00:00.123+02:00",
-- "...Z", "+0200", "+02", without seconds as Java prints them when zero ("2024-05-01T10:00Z"),
-- with a trailing zone id ("...+02:00[Europe/Paris]"), or without an offset, read as UTC) or
-- an epoch number (s or ms); nil otherwise.
function M.iso8601(s)
  -- Not the documented form, but some Spring setups serialise dates as epoch numbers.
  if math.type(s) then return s > 1e11 and s / 1000 or s end
  if type(s) ~= "string" then return nil end
  s = s:gsub("%[[^%]]*%]$", "")
  local y, mo, d, h, mi, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d)(.*)$")
  if not y then return nil end
  local sec, frac, zone = rest:match("^:(%d%d)([.,]?%d*)(.*)$")
  if not sec then sec, frac, zone = "0", "", rest end
  local t = days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400
    + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
  if #frac > 1 then t = t + tonumber("0." .. frac:sub(2)) end
  if zone == "" or zone == "Z" or zone == "z" then return t end
  local sign, zh, zm = zone:match("^([+-])(%d%d):?(%d?%d?)$")
  if not sign or (#zm ~= 0 and #zm ~= 2) then return nil end
  local offset = tonumber(zh) * 3600 + (tonumber(zm) or 0) * 60
  return sign == "+" and t - offset or t + offset
end

return M
