--- dwell.credential: the one token lifecycle every vendor client uses.
--
-- A credential is obtained on first use, cached, renewed `margin` seconds ahead of expiry
-- (never earlier than half-way through its life), and renewed single-flight: callers that find
-- it stale while another coroutine renews it wait and then use what it obtained. Every token
-- carries a generation; a token the server rejected is dropped once, for everyone holding it
-- (invalidate(entry) is a no-op when the entry was already replaced).
--
-- State lives in a store (dwell.store: memory, file or Redis) with get(key), put(key, entry),
-- invalidate(key, gen) and lock(key, ttl, fn), so that every process sharing the store shares
-- one token: one renewal per expiry across all of them (the store's lock, which expires if its
-- holder dies), and a token refused anywhere is dropped everywhere (generation in the store).
-- Entries are plain tables of strings and numbers so that a shared store can serialise them:
--   { token, expires_at, refresh_at, gen, refresh_token?, ... vendor extras }
-- Their times come from the credential's now(), so clients sharing a store across processes
-- use the wall clock for it.
local errors = require "dwell.error"
local store = require "dwell.store"
local transport = require "dwell.transport"
local memory_mt = require("dwell.store.memory").Memory

local M = {}

--- A store in this process's memory (dwell.store.memory); `host` as for dwell.store.memory.
M.memory_store = store.memory

-- A store of the older { get, set } shape (Tuya's token_store option), or one without
-- invalidate, as a full store. Its lock is in-process only.
local function adapt_store(s, host)
  if type(s.put) == "function" and type(s.lock) == "function" and type(s.invalidate) == "function" then
    return s
  end
  local mem = M.memory_store(host)
  local put = s.put or s.set
  local a = {
    get = function(_, key) return s:get(key) end,
    put = function(_, key, entry) put(s, key, entry); return true end,
    lock = function(_, key, _, fn) return mem:lock(key, nil, fn) end,
  }
  function a.invalidate(_, key, gen)
    local cur = s:get(key)
    if cur and cur.gen == gen then
      cur.stale = true
      put(s, key, cur)
    end
    return true
  end
  return a
end

-- ---- the credential -----------------------------------------------------------------------

local Credential = {}
Credential.__index = Credential
Credential.__name = "dwell.credential"

function Credential.__tostring(c)
  return "dwell.credential (" .. c.vendor .. ", secrets hidden)"
end

--- opts: vendor; key (store key: per vendor and account, never a secret); now() (seconds);
-- margin (seconds renewed early, default 60); store (see dwell.store; default in memory);
-- host (park/wake for the lock); lock_ttl (seconds a dead renewer blocks the others at most;
-- default the store's lock_ttl, else dwell.store.LOCK_TTL);
-- fetch(current, deadline) -> { token, expires_in?, refresh_token?, ... } | nil, err
--   (current: the entry being replaced, or nil; may be called with a stale one to refresh it);
-- static (a fixed token: never fetched, never renewed, never written to a shared store).
function M.new(opts)
  local s = opts.store
  if opts.static or s == nil then s = M.memory_store(opts.host) end
  local c = setmetatable({
    vendor = opts.vendor, key = opts.key or "default", now = opts.now, margin = opts.margin or 60,
    fetch = opts.fetch, store = adapt_store(s, opts.host), lock_ttl = opts.lock_ttl or s.lock_ttl or store.LOCK_TTL,
    -- coroutines of this process wait here; processes wait on the store's lock
    local_lock = transport.lock(opts.host),
    stats = { fetches = 0, failures = 0 },
  }, Credential)
  c.timeless = getmetatable(c.store) == memory_mt
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

-- Another holder renewed while we waited: what it obtained, if usable.
local function renewed(self, cur, seen_gen)
  return fresh(self, cur) or (cur ~= nil and cur.gen ~= seen_gen and alive(self, cur))
end

-- Runs under the lock: renew unless another holder already did while we waited.
local function renew(self, seen_gen, deadline)
  local cur, err = self.store:get(self.key, store.left(deadline))
  if err then return nil, err end
  if renewed(self, cur, seen_gen) then return cur end
  local started = self.now()
  local res
  res, err = self.fetch(cur, deadline)
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
  -- A store that fails now still leaves this call its token; the next call reports the store.
  self.store:put(self.key, e, store.left(deadline))
  return e
end

--- A usable entry ({ token, gen, ... }), renewing it first when needed; nil, dwell.error
-- (kind "store" when the store failed).
function Credential:get(deadline)
  -- the memory store takes no timeout: the deadline's clock is not read for it
  local cur, err = self.store:get(self.key, (not self.timeless) and store.left(deadline) or nil)
  if err then return nil, err end
  -- fresh(self, cur), inline: the path of every call
  if cur ~= nil and not cur.stale and type(cur.token) == "string" then
    local at = cur.refresh_at
    if at == nil or self.now() < at then return cur end
  end
  if self.static then
    return nil, errors.new{ kind = "auth", vendor = self.vendor, retryable = false,
      message = "the configured token was rejected or has expired, and no way to obtain a new one was configured" }
  end
  local seen = cur and cur.gen
  return self.local_lock:with(function()
    -- a coroutine of this process may have renewed while we waited for the local lock
    local now_cur, gerr = self.store:get(self.key, store.left(deadline))
    if gerr then return nil, gerr end
    if renewed(self, now_cur, seen) then return now_cur end
    local left = store.left(deadline)
    local ttl = left and math.min(self.lock_ttl, math.max(left, 0.05)) or self.lock_ttl
    return self.store:lock(self.key, ttl, function() return renew(self, seen, deadline) end, left)
  end)
end

--- Drops `entry` after the server rejected it, unless it was already replaced (for every
-- process sharing the store). A store failure here is left for the next get to report.
function Credential:invalidate(entry, deadline)
  if entry and not self.static then self.store:invalidate(self.key, entry.gen, store.left(deadline)) end
end

--- Whether a rejected token can be replaced by fetching another.
function Credential:renewable() return not self.static end

--- The current entry without renewing (nil when none, or nil, err when the store failed);
-- for vendor diagnostics.
function Credential:peek() return self.store:get(self.key) end

--- Stores an updated entry (a vendor marking a refresh token spent, say).
function Credential:update(entry, deadline) return self.store:put(self.key, entry, store.left(deadline)) end

return M
