--- The RUCKUS unit token: obtained with the unit's hashed secret (POST .../units/logins),
-- valid until its expireDateTime. There is no refresh call: dwell.credential logs in again a
-- little before expiry, or once after a 401, single-flight. This file reads the login answer.
local errors = require "dwell.error"

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

--- Seconds since the epoch for an ISO 8601 date-time ("2024-05-01T10:00:00.123+02:00",
-- "...Z", "+0200", "+02", without seconds as Java prints them when zero ("2024-05-01T10:00Z"),
-- with a trailing zone id ("...+02:00[Europe/Paris]"), or without an offset, read as UTC) or
-- an epoch number (s or ms); nil otherwise.
function M.parse_datetime(s)
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

--- The credential entry (dwell.credential's fetch result) for a PortalTokenResource.
-- expireDateTime is wall-clock time while the credential's clock may be monotonic or virtual,
-- so the token's remaining lifetime (expires_in) is carried over rather than the date itself.
-- A date already past on arrival says more about the two clocks than about the token (the
-- server just issued it): it is then ignored, and a 401 triggers the next login instead.
-- `wall`: seconds since the epoch now.
function M.entry(res, wall)
  if type(res) ~= "table" then
    return nil, errors.new{ kind = "decode", vendor = "ruckus", endpoint = "units.logins.create",
      message = "login response is not a PortalTokenResource" }
  end
  local expires = M.parse_datetime(res.expireDateTime)
  local lifetime = expires and expires - wall()
  return { token = res.token, unit_guid = res.unitGuid, expires_in = lifetime and lifetime > 0 and lifetime or nil }
end

return M
