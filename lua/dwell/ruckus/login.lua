--- The RUCKUS unit token: obtained with the unit's hashed secret (POST .../units/logins),
-- valid until its expireDateTime. There is no refresh call, so the client logs in again a
-- little before expiry, or once after a 401. Logins are single-flight: coroutines that need
-- a token while one login is in progress wait for it instead of logging in themselves.
local M = {}

local Session = {}
Session.__index = Session
Session.__name = "dwell.ruckus.session"

function Session:__tostring()
  return "dwell.ruckus unit session (" .. (self.token and "token held" or "no token") .. ")"
end

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

--- A session. `opts`: login (function() -> PortalTokenResource | nil, err, the raw login
-- call), token (a ready token, used as is: no re-login possible without a hashed secret),
-- can_login (bool), now (function() -> seconds, any origin), wall (function() -> seconds since the
-- epoch, default os.time), lock (transport.lock()), renew_before (s).
function M.new(opts)
  return setmetatable({
    login_fn = opts.login, can_login = opts.can_login, now = opts.now, wall = opts.wall or os.time, lock = opts.lock,
    renew_before = opts.renew_before or 60,
    token = opts.token, expires_at = nil, generation = 0, unit_guid = nil,
  }, Session)
end

-- Renew `renew_before` seconds early, but never more than half the token's lifetime early,
-- so that a short-lived token is still used.
function Session:fresh()
  if not self.token then return false end
  if not self.expires_at then return true end
  local margin = math.min(self.renew_before, (self.expires_at - self.obtained_at) / 2)
  return self.now() < self.expires_at - margin
end

function Session:do_login()
  local res, err = self.login_fn()
  if not res then return nil, err end
  if type(res) ~= "table" or type(res.token) ~= "string" or res.token == "" then
    return nil, require("dwell.error").new{ kind = "decode", vendor = "ruckus", endpoint = "units.logins.create",
      message = "login response carries no token" }
  end
  self.token, self.unit_guid = res.token, res.unitGuid
  self.obtained_at = self.now()
  -- expireDateTime is wall-clock time; the session's clock may be monotonic or virtual, so
  -- the token's remaining lifetime is carried over to it rather than the date itself.
  -- A date already past on arrival says more about the two clocks than about the token (the
  -- server just issued it): it is then ignored, and a 401 triggers the next login instead.
  local expires = M.parse_datetime(res.expireDateTime)
  local lifetime = expires and expires - self.wall()
  self.expires_at = lifetime and lifetime > 0 and self.obtained_at + lifetime or nil
  self.generation = self.generation + 1
  return res
end

--- The current token, logging in first when there is none or it is about to expire.
-- `stale` is the generation a caller saw rejected with a 401: log in again unless another
-- coroutine already did. Returns token, generation or nil, err.
function Session:get(stale)
  local function need()
    if stale ~= nil and stale == self.generation then return true end
    return not self:fresh()
  end
  if not need() then return self.token, self.generation end
  if not self.can_login then
    if self.token and stale == nil then return self.token, self.generation end
    return nil, require("dwell.error").new{ kind = "auth", vendor = "ruckus",
      message = self.token and "the unit token was rejected or expired and no hashed_secret was given to log in again"
        or "no unit token: give token or hashed_secret" }
  end
  local ok, err = self.lock:with(function()
    -- Re-checked under the lock: the holder before us may have logged in already.
    if not need() then return true end
    local res, lerr = self:do_login()
    if not res then return nil, lerr end
    return true
  end)
  if not ok then return nil, err end
  return self.token, self.generation
end

--- Forgets the token (the next call logs in again).
function Session:invalidate()
  self.token, self.expires_at = nil, nil
  self.generation = self.generation + 1
end

return M
