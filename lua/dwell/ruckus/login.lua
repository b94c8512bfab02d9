--- The RUCKUS unit token: obtained with the unit's hashed secret (POST .../units/logins),
-- valid until its expireDateTime. There is no refresh call: dwell.credential logs in again a
-- little before expiry, or once after a 401, single-flight. This file reads the login answer.
local date = require "dwell.date"
local errors = require "dwell.error"

local M = {}

--- ISO 8601 date-times as RUCKUS sends them (dwell.date.iso8601).
M.parse_datetime = date.iso8601

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
