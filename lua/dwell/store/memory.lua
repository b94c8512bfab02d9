--- dwell.store.memory: the default store, in this process's memory (see dwell.store).
-- Nothing is shared with other processes. Its lock is a cooperative in-process lock (ttl and
-- timeout do not apply: a coroutine cannot die holding it), and its buckets are dwell.ratelimit
-- buckets, which follow the clock they are given or the scheduler's.
local M = {}

local Memory = {}
Memory.__index = Memory
Memory.__name = "dwell.store.memory"
Memory.is_memory = true
Memory.name = "memory"

function Memory:get(key) return self.slots[key] end

function Memory:put(key, entry)
  self.slots[key] = entry
  return true
end

function Memory:invalidate(key, gen)
  local cur = self.slots[key]
  if cur and cur.gen == gen then cur.stale = true end
  return true
end

function Memory:lock(key, _, fn)
  local l = self.locks[key]
  if not l then
    l = require("dwell.transport").lock(self.host)
    self.locks[key] = l
  end
  return l:with(fn)
end

--- The bucket `key` itself (a dwell.ratelimit bucket), created on first use.
function Memory:bucket(key, capacity, rate, clock)
  local b = self.buckets[key]
  if not b then
    b = require("dwell.ratelimit").new{ capacity = capacity, refill_per_second = rate, clock = clock }
    self.buckets[key] = b
  end
  return b
end

function Memory:take(key, capacity, rate, n, max_wait)
  return self:bucket(key, capacity, rate):reserve(n, max_wait)
end

function Memory.__tostring() return "dwell.store.memory (secrets hidden)" end

-- The metatable (dwell.credential knows its get takes no timeout).
M.Memory = Memory

--- A store in this process's memory. `host` (optional) is a host transport with park/wake,
-- so that coroutines of a host's own loop can wait on the single-flight lock.
function M.new(host)
  return setmetatable({ slots = {}, locks = {}, buckets = {}, host = host }, Memory)
end

return M
