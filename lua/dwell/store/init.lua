--- dwell.store: where tokens and rate budgets live, so that every process of one account
-- shares them (a vendor's limits belong to the account, not to a process).
--
--   store = "memory"                                -- default: this client, this process
--   store = "file:///var/lib/dwell"                 -- or dwell.store.file{ path = ... }
--   store = "redis://:password@127.0.0.1:6379/0"    -- or dwell.store.redis{ url = ..., prefix = ... }
--   store_fallback = "memory"                       -- keep working locally while the store fails
--   on_warning = function(info) ... end             -- told when that happens and when it ends
--
-- A store has (every `timeout` is seconds, the time left on the calling request's deadline, or
-- nil for the store's own default; failures are `nil, dwell.error` of kind "store"):
--   get(key, timeout) -> entry | nil                 (nil, err on failure)
--   put(key, entry, timeout) -> true
--   invalidate(key, gen, timeout) -> true            marks the entry stale if its gen is `gen`
--                                                    (atomically: a newer entry is never touched)
--   lock(key, ttl, fn, timeout) -> fn's results      runs fn holding the key's lock across every
--                                                    process of the store; a holder that dies
--                                                    blocks the others at most `ttl` seconds
--   take(key, capacity, rate, n, max_wait, timeout) -> wait | false, wait
--                                                    reserves n tokens of the bucket `key`
--                                                    (capacity, rate per second) atomically; the
--                                                    caller then sleeps `wait` seconds (0: go);
--                                                    false when the wait would exceed max_wait
-- Entries are flat tables of strings, numbers and booleans. Keys are per vendor and account
-- (client id, account id, property id) and never hold secrets.
-- @module dwell.store
local errors = require "dwell.error"
local redact_url = require("dwell.redact").url

local M = {}

--- The store options every vendor client accepts.
M.CLIENT_OPTIONS = { "store", "store_fallback", "on_warning" }

--- How long a token renewal's lock lives when its holder dies (seconds).
M.LOCK_TTL = 10

M.memory = function(host) return require("dwell.store.memory").new(host) end

--- A store in files under opts.path (created 0700; files 0600). See dwell.store.file.
function M.file(opts) return require("dwell.store.file").new(opts) end

--- A store on a Redis server: opts.url, opts.prefix ("dwell:"), opts.timeout_ms (1000).
function M.redis(opts) return require("dwell.store.redis").new(opts) end

--- A store error: kind "store", naming the store (its URL without user-info).
-- @local
function M.error(name, reason, message)
  return errors.new{ kind = "store", reason = reason, store = name, retryable = true,
    message = name .. ": " .. message }
end

--- Seconds left on a pipeline deadline ({ at, left = fn }), or nil when there is none.
-- @local
function M.left(deadline)
  if type(deadline) == "table" and type(deadline.left) == "function" then return deadline:left() end
  return nil
end

-- Shared stores of this process by description: two clients on one URL share one connection
-- and, for files, one set of in-process locks.
local shared = setmetatable({}, { __mode = "v" })

local function bad(option, rule)
  return nil, errors.invalid_argument(nil, nil, option, rule)
end

local function is_store(v)
  return type(v) == "table" and type(v.get) == "function" and type(v.put) == "function"
    and type(v.lock) == "function"
end

--- The store a client's `store` option names, or nil, invalid_argument. `host` is a host
-- transport with park/wake (for the memory store's lock).
function M.resolve(option, host)
  if option == nil or option == "memory" then return M.memory(host) end
  if is_store(option) then return option end
  if type(option) ~= "string" then
    return bad("store", "must be \"memory\", a file:// or redis:// URL, or a store (dwell.store.file{...}, "
      .. "dwell.store.redis{...}) (got " .. type(option) .. ")")
  end
  local cached = shared[option]
  if cached then return cached end
  local s, err
  if option:match("^file:") then
    s, err = M.file{ url = option }
  elseif option:match("^rediss?:") then
    s, err = M.redis{ url = option }
  else
    return bad("store", "must be \"memory\", \"file:///path/to/dir\" or \"redis://host:port/db\" (got "
      .. redact_url(option) .. ")")
  end
  if not s then return nil, err end
  shared[option] = s
  return s
end

--- A store that uses `primary` and, while it fails, `secondary` (a memory store), telling
-- `warn(info)` once when it falls back and once when the primary answers again. While failed,
-- the primary is tried again at most every `retry_s` seconds (default 1), so that a store that
-- hangs costs one timeout per retry_s, not one per call.
function M.fallback(primary, secondary, warn, retry_s)
  return require("dwell.store.fallback").new(primary, secondary, warn, retry_s)
end

--- The warn hook for a client's `on_warning` option: the function itself, else Lua's warn()
-- (shown when warnings are on: `lua -W`, or warn("@on")).
-- @local
function M.warner(on_warning)
  if type(on_warning) == "function" then return on_warning end
  return function(info) warn("dwell: " .. tostring(info.message)) end
end

--- Checks the store options of a client configuration: nil when fine, else option, rule.
-- @local
function M.check_client_options(cfg)
  local s = cfg.store
  if s ~= nil and type(s) ~= "string" and not is_store(s) then
    return "store", "must be \"memory\", a file:// or redis:// URL, or a store with get, put and lock (got "
      .. type(s) .. ")"
  end
  if cfg.store_fallback ~= nil and cfg.store_fallback ~= "memory" then
    return "store_fallback", "must be \"memory\" (got " .. tostring(cfg.store_fallback) .. ")"
  end
  if cfg.on_warning ~= nil and type(cfg.on_warning) ~= "function" then
    return "on_warning", "must be a function (got " .. type(cfg.on_warning) .. ")"
  end
  return nil
end

--- The client's store from its configuration: store (resolved) with store_fallback applied;
-- or nil, invalid_argument. `label` names the vendor in warnings.
-- @local
function M.for_client(cfg, host, label)
  local s, err = M.resolve(cfg.store, host)
  if not s then
    err.vendor = label
    return nil, err
  end
  if cfg.store_fallback == "memory" and not s.is_memory then
    local warn = M.warner(cfg.on_warning)
    s = M.fallback(s, M.memory(host), function(info)
      info.vendor = label
      return warn(info)
    end)
  end
  return s
end

--- The strings errors must never show for `store` (a Redis password), as a list.
-- @local
function M.secrets(s)
  local out = {}
  if type(s) == "table" and type(s.secrets) == "function" then
    for _, v in pairs(s:secrets()) do
      if type(v) == "string" and #v >= 4 then out[#out + 1] = v end
    end
  end
  return out
end

-- ---- rate budgets ------------------------------------------------------------------------

-- A limiter's interface (what dwell.transport's `limiter` and dwell.pipeline use):
--   reserve(n, max_wait) -> wait | false, wait | nil, err   (no sleeping)
--   take(n, max_wait)    -> true | false, wait | nil, err   (sleeps the wait)

local scheduler_sleep = function(s) return require("dwell.scheduler").sleep(s) end

local Limiter = {}
Limiter.__index = Limiter
Limiter.__name = "dwell.store.limiter"

function Limiter:__tostring()
  return "dwell.store.limiter (" .. self.key .. ")"
end

--- Reserves n tokens in the store's bucket (atomically across processes): the seconds to wait
-- before using them, or false and the wait it would need when over max_wait; nil, err when
-- the store failed.
function Limiter:reserve(n, max_wait)
  return self.store:take(self.key, self.capacity, self.rate, n or 1, max_wait, max_wait)
end

--- Takes n tokens (default 1), sleeping until they exist. With max_wait it gives up when the
-- wait would be longer: false, the wait it would need. nil, err when the store failed.
function Limiter:take(n, max_wait)
  local wait, more = self:reserve(n, max_wait)
  if wait == nil or wait == false then return wait, more end
  if wait > 0 then scheduler_sleep(wait) end
  return true
end

-- Buckets of memory stores on the real clock, per key and limits, for the whole process: every
-- client of one account in this process draws on one bucket, as the vendor counts. Weak
-- values: unused buckets go away.
local process_buckets = setmetatable({}, { __mode = "v" })

--- A bucket of `capacity` tokens refilled at `rate` per second under `key`. In a shared store
-- (file, Redis) every client of every process sharing it draws on it. On a memory store it is
-- a dwell.ratelimit bucket: shared by the clients of this process without a clock of their
-- own, or the client's own when it has one (`clock`, e.g. a virtual clock in a test).
function M.limiter(store, key, capacity, rate, clock)
  if store.is_memory then
    if clock then return store:bucket(key, capacity, rate, clock) end
    local id = key .. "|" .. capacity .. "|" .. rate
    local b = process_buckets[id]
    if not b then
      b = require("dwell.ratelimit").new{ capacity = capacity, refill_per_second = rate }
      process_buckets[id] = b
    end
    return b
  end
  return setmetatable({ store = store, key = key, capacity = capacity, rate = rate }, Limiter)
end

local All = {}
All.__index = All
All.__name = "dwell.store.limiters"

function All:reserve(n, max_wait)
  local wait = 0
  for i, l in ipairs(self) do
    local w, more = l:reserve(n, max_wait)
    if not w then
      -- give back what the earlier buckets reserved
      for j = 1, i - 1 do self[j]:reserve(-(n or 1)) end
      return w, more
    end
    if w > wait then wait = w end
  end
  return wait
end

All.take = Limiter.take

--- One limiter over several buckets (an hourly budget and a burst window, say): a call takes
-- a token of each, and waits for the latest of them.
function M.limiters(list)
  if #list == 1 then return list[1] end
  return setmetatable(list, All)
end

-- ---- the cross-process lock, over a store's try_lock/unlock ----------------------------

--- Runs fn holding `key`'s lease in `store` (an object with try_lock(key, owner, ttl, timeout)
-- -> true | false | nil, err and unlock(key, owner, timeout)). Waits, polling, at most
-- `timeout` seconds; a lease whose holder died expires after `ttl` seconds.
-- @local
function M.lease(store, key, ttl, fn, timeout)
  local core = require "dwell.core"
  local scheduler = require "dwell.scheduler"
  local now = core.http.monotonic
  local owner = core.random_hex(12)
  local limit = timeout and now() + timeout
  local pause = 0.005
  ttl = math.max(ttl or M.LOCK_TTL, 0.05)
  while true do
    local left = limit and limit - now()
    if left and left <= 0 then
      return nil, errors.new{ kind = "timeout", reason = "deadline", store = store.name, retryable = true,
        message = "deadline passed waiting for the lock on " .. key .. " (another process is renewing)" }
    end
    local got, err = store:try_lock(key, owner, ttl, left)
    if got == nil then return nil, err end
    if got then break end
    scheduler.sleep(left and math.min(pause, left) or pause)
    pause = math.min(pause * 2, 0.05)
  end
  local res = table.pack(pcall(fn))
  -- A release that fails leaves the lease to expire by itself.
  store:unlock(key, owner, 1)
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

return M
