--- dwell.credential: the one token lifecycle every vendor client uses.
--
-- A credential is obtained on first use, cached, renewed `margin` seconds ahead of expiry
-- (never earlier than half-way through its life), and renewed single-flight: callers that find
-- it stale while another coroutine renews it wait and then use what it obtained. Every token
-- carries a generation; a token the server rejected is dropped once, for everyone holding it
-- (invalidate(entry) is a no-op when the entry was already replaced).
--
-- State lives in a store with get(key), put(key, entry) and lock(key, fn) (run fn holding the
-- key's lock). The default is in memory, one per client; the store option lets clients share.
-- Entries are plain tables of strings and numbers so that a shared store can serialise them:
--   { token, expires_at, refresh_at, gen, refresh_token?, ... vendor extras }
local errors = require "dwell.error"
local transport = require "dwell.transport"

local M = {}

-- ---- the in-memory store ---------------------------------------------------------------

local Memory = {}
Memory.__index = Memory
Memory.__name = "dwell.store.memory"

function Memory:get(key) return self.slots[key] end
function Memory:put(key, entry) self.slots[key] = entry end
function Memory:lock(key, fn)
  local l = self.locks[key]
  if not l then
    l = transport.lock(self.host)
    self.locks[key] = l
  end
  return l:with(fn)
end
function Memory.__tostring() return "dwell.store.memory (secrets hidden)" end

--- A store in this process's memory. `host` (optional) is a host transport with park/wake,
-- so that coroutines of a host's own loop can wait on the single-flight lock.
function M.memory_store(host)
  return setmetatable({ slots = {}, locks = {}, host = host }, Memory)
end

-- A store of the older { get, set } shape (Tuya's token_store option) as a full store.
local function adapt_store(store, host)
  if type(store.put) == "function" and type(store.lock) == "function" then return store end
  local mem = M.memory_store(host)
  return {
    get = function(_, key) return store:get(key) end,
    put = function(_, key, entry) return (store.put or store.set)(store, key, entry) end,
    lock = function(_, key, fn) return mem:lock(key, fn) end,
  }
end

-- ---- the credential -----------------------------------------------------------------------

local Credential = {}
Credential.__index = Credential
Credential.__name = "dwell.credential"

function Credential.__tostring(c)
  return "dwell.credential (" .. c.vendor .. ", secrets hidden)"
end

--- opts: vendor; key (store key: per vendor and account, never a secret); now() (seconds);
-- margin (seconds renewed early, default 60); store; host (park/wake for the lock);
-- fetch(current, deadline) -> { token, expires_in?, refresh_token?, ... } | nil, err
--   (current: the entry being replaced, or nil; may be called with a stale one to refresh it);
-- static (a fixed token: never fetched, never renewed).
function M.new(opts)
  local c = setmetatable({
    vendor = opts.vendor, key = opts.key or "default", now = opts.now, margin = opts.margin or 60,
    fetch = opts.fetch, store = adapt_store(opts.store or M.memory_store(opts.host), opts.host),
    stats = { fetches = 0, failures = 0 },
  }, Credential)
  if opts.static then
    c.static = true
    c.store:put(c.key, { token = opts.static, gen = 1 })
  end
  return c
end

local function fresh(self, e)
  if e == nil or e.stale or type(e.token) ~= "string" then return false end
  return e.refresh_at == nil or self.now() < e.refresh_at
end

local function alive(self, e)
  if e == nil or e.stale or type(e.token) ~= "string" then return false end
  return e.expires_at == nil or self.now() < e.expires_at
end

--- Whether a string from a server can travel in a header: printable, no CR/LF/NUL.
function M.header_safe(s)
  return type(s) == "string" and s ~= "" and #s <= 16384 and not s:find("[%z\1-\31\127]")
end

local function bad_token(self, why)
  return nil, errors.new{ kind = "auth", vendor = self.vendor, endpoint = "token",
    message = "the token endpoint answered " .. why, retryable = false }
end

-- Builds the entry for a fetched result: renew `margin` early, but never earlier than
-- half-way through the token's life, so that a short-lived token is not renewed on every call.
local function make_entry(self, res, started, gen)
  local ttl = tonumber(res.expires_in)
  local e = {}
  for k, v in pairs(res) do if k ~= "expires_in" then e[k] = v end end
  e.gen = gen
  if ttl and ttl == ttl then
    e.expires_at = started + ttl
    e.refresh_at = started + ttl - math.min(self.margin, ttl / 2)
  end
  return e
end

-- Runs under the lock: renew unless another holder already did while we waited.
local function renew(self, seen_gen, deadline)
  local cur = self.store:get(self.key)
  if fresh(self, cur) or (cur and cur.gen ~= seen_gen and alive(self, cur)) then return cur end
  local started = self.now()
  local res, err = self.fetch(cur, deadline)
  if not res then
    self.stats.failures = self.stats.failures + 1
    return nil, err
  end
  if type(res) ~= "table" or type(res.token) ~= "string" or res.token == "" then
    return bad_token(self, "without a token")
  end
  if not M.header_safe(res.token) then return bad_token(self, "with a token that cannot be sent (control characters)") end
  self.stats.fetches = self.stats.fetches + 1
  local e = make_entry(self, res, started, ((cur and cur.gen) or 0) + 1)
  self.store:put(self.key, e)
  return e
end

--- A usable entry ({ token, gen, ... }), renewing it first when needed; nil, dwell.error.
function Credential:get(deadline)
  local cur = self.store:get(self.key)
  if fresh(self, cur) then return cur end
  if self.static then
    return nil, errors.new{ kind = "auth", vendor = self.vendor, retryable = false,
      message = "the configured token was rejected or has expired, and no way to obtain a new one was configured" }
  end
  local seen = cur and cur.gen
  return self.store:lock(self.key, function() return renew(self, seen, deadline) end)
end

--- Drops `entry` after the server rejected it, unless it was already replaced.
function Credential:invalidate(entry)
  local cur = self.store:get(self.key)
  if cur and entry and cur.gen == entry.gen and not self.static then
    cur.stale = true
    self.store:put(self.key, cur)
  end
end

--- Whether a rejected token can be replaced by fetching another.
function Credential:renewable() return not self.static end

--- The current entry without renewing (nil when none); for vendor diagnostics.
function Credential:peek() return self.store:get(self.key) end

--- Stores an updated entry (a vendor marking a refresh token spent, say).
function Credential:update(entry) self.store:put(self.key, entry) end

return M
