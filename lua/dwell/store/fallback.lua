--- dwell.store.fallback: a shared store that, while it fails, is stood in for by a memory
-- store (the client option store_fallback = "memory"). See dwell.store.fallback().
--
-- Every operation goes to the primary; one that fails with a `store` error is done on the
-- secondary instead, and the primary is left alone for `retry_s` seconds (so a store that
-- hangs costs one timeout per retry_s, not one per call). warn(info) is called once when the
-- fallback starts (info.event = "fallback") and once when the primary answers again
-- ("recovered"); info = { kind = "store", event, store = name (no user-info), message, error }.
-- What the processes share is lost meanwhile: each keeps its own tokens and buckets, so they
-- may fetch tokens of their own and draw on the account's limits independently.
local http = require("dwell.core").http

local M = {}

local Fallback = {}
Fallback.__index = Fallback
Fallback.__name = "dwell.store.fallback"

function Fallback:__tostring()
  return "dwell.store.fallback (" .. self.name .. ", then memory; secrets hidden)"
end

local function is_store_error(err)
  return type(err) == "table" and err.kind == "store"
end

function Fallback:failed(err)
  self.down_until = http.monotonic() + self.retry_s
  if not self.down then
    self.down = true
    self.warn{ kind = "store", event = "fallback", store = self.name, error = err,
      message = "store " .. self.name .. " failed (" .. tostring(err.message)
        .. "); tokens and rate budgets are kept in this process's memory until it answers again" }
  end
end

function Fallback:answered()
  if self.down then
    self.down = false
    self.warn{ kind = "store", event = "recovered", store = self.name,
      message = "store " .. self.name .. " answers again; tokens and rate budgets are shared again" }
  end
end

-- Runs op on the primary unless it is resting; on a store error, on the secondary.
function Fallback:run(op, ...)
  if not (self.down and http.monotonic() < self.down_until) then
    local res = table.pack(self.primary[op](self.primary, ...))
    if res[1] ~= nil or not is_store_error(res[2]) then
      self:answered()
      return table.unpack(res, 1, res.n)
    end
    self:failed(res[2])
  end
  return self.secondary[op](self.secondary, ...)
end

function Fallback:get(...) return self:run("get", ...) end
function Fallback:put(...) return self:run("put", ...) end
function Fallback:invalidate(...) return self:run("invalidate", ...) end
function Fallback:take(...) return self:run("take", ...) end

function Fallback:lock(key, ttl, fn, timeout)
  if not (self.down and http.monotonic() < self.down_until) then
    local ran = false
    local res = table.pack(self.primary:lock(key, ttl, function() ran = true; return fn() end, timeout))
    -- What fn returns stands (its own get and put fall back by themselves); only a lock that
    -- could not be taken for a store failure is taken on the secondary instead.
    if ran or res[1] ~= nil or not is_store_error(res[2]) then
      if ran then self:answered() end
      return table.unpack(res, 1, res.n)
    end
    self:failed(res[2])
  end
  return self.secondary:lock(key, ttl, fn, timeout)
end

function Fallback:secrets()
  return type(self.primary.secrets) == "function" and self.primary:secrets() or {}
end

function M.new(primary, secondary, warn, retry_s)
  return setmetatable({ primary = primary, secondary = secondary, warn = warn or function() end,
    retry_s = retry_s or 1, down = false, down_until = 0, name = primary.name or tostring(primary),
    lock_ttl = primary.lock_ttl }, Fallback)
end

return M
