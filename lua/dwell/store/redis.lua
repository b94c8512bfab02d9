--- dwell.store.redis: a store on a Redis server, shared by every process (on any machine)
-- that uses the same server, database and prefix (see dwell.store for the interface).
--
--   dwell.store.redis{ url = "redis://user:password@127.0.0.1:6379/2", prefix = "dwell:", timeout_ms = 1000 }
--   -- or the client option store = "redis://:password@127.0.0.1:6379/0"
--
-- Keys (P = prefix, K = the client's key such as tuya:<client_id>@<base url>):
--   P..K          hash { entry = JSON, gen, stale }   a token and its times
--   P.."lock:"..K string owner, PX ttl              a token renewal's lock (SET NX PX)
--   P.."rate:"..K hash { tokens, ts }, PEXPIRE      a bucket; gone once it would be full again
-- Every read-modify-write is one server-side script (EVALSHA, loading it with SCRIPT LOAD when
-- the server does not know it), and buckets use the server's clock (TIME), so processes on
-- different machines agree. Each command runs on the C module dwell.store.redis_client
-- (hiredis), bounded by the time left on the calling request's deadline and by timeout_ms;
-- a failure closes the connection and the next command connects again.
-- The password (and user) come from the URL and are sent with AUTH; they never appear in
-- errors or tostring, which show the URL without its user-info.
local json = require "dwell.json"
local errors = require "dwell.error"
local store = require "dwell.store"
local redact_url = require("dwell.redact").url

local M = {}

local Redis = {}
Redis.__index = Redis
Redis.__name = "dwell.store.redis"

function Redis:__tostring() return "dwell.store.redis (" .. self.name .. ", secrets hidden)" end

local SCRIPTS = {
  -- KEYS[1] entry hash; ARGV[1] gen
  invalidate = [[
if redis.call('HGET', KEYS[1], 'gen') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'stale', '1')
  return 1
end
return 0]],
  -- KEYS[1] lock; ARGV[1] owner
  unlock = [[
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0]],
  -- KEYS[1] bucket; ARGV capacity, rate, n, max_wait (< 0: none). Returns { taken, wait }.
  take = [[
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cap, rate, n, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(s[1]), tonumber(s[2])
if not tokens or not ts then tokens, ts = cap, now end
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local wait = (n - tokens) / rate
if wait > 0 and max_wait >= 0 and wait > max_wait then return { 0, tostring(wait) } end
tokens = tokens - n
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(((cap - tokens) / rate + 1) * 1000))
if wait < 0 then wait = 0 end
return { 1, tostring(wait) }]],
}

local function decode_pct(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- redis://[[user]:password@]host[:port][/db] -> fields, or nil, rule
local function parse_url(u)
  if u:match("^rediss:") then
    return nil, "rediss:// (TLS) is not supported: use redis:// to a local server or a TLS tunnel"
  end
  local rest = u:match("^redis://(.*)$")
  if not rest then return nil, "must be redis://[user:password@]host[:port][/db]" end
  if rest:find("[?#]") then return nil, "takes no query or fragment: give prefix and timeout_ms to dwell.store.redis{}" end
  local info, hostpart = rest:match("^([^@/]*)@(.*)$")
  if not info then hostpart = rest end
  local out = { port = 6379, db = 0 }
  if info then
    local user, pass = info:match("^([^:]*):(.*)$")
    if user then
      out.user, out.password = decode_pct(user), decode_pct(pass)
      if out.user == "" then out.user = nil end
    else
      out.password = decode_pct(info) -- redis://password@host, as some clients accept
    end
    if out.password == "" then out.password = nil end
  end
  local host, port, db
  if hostpart:sub(1, 1) == "[" then
    host, port, db = hostpart:match("^%[([%x:.]+)%]:?(%d*)/?(%d*)$")
  else
    host, port, db = hostpart:match("^([^:/]+):?(%d*)/?(%d*)$")
  end
  if not host then return nil, "must be redis://[user:password@]host[:port][/db]" end
  out.host = host
  if port ~= "" then out.port = tonumber(port) end
  if db ~= "" then out.db = tonumber(db) end
  if out.port < 1 or out.port > 65535 then return nil, "port must be in 1..65535" end
  return out
end

M.parse_url = parse_url

function Redis:fail(reason, message)
  return nil, store.error(self.name, reason, message)
end

-- Milliseconds for one command: the time left, capped by the store's own limit.
function Redis:budget(timeout)
  local ms = self.timeout_ms
  if timeout then ms = math.min(ms, math.floor(timeout * 1000)) end
  return ms
end

local REASON = { timeout = "timeout", connect = "connect", eof = "io", io = "io", protocol = "io", closed = "io" }

-- An open connection (AUTH and SELECT done), or nil, store error.
function Redis:connection(ms)
  if self.conn and not self.conn:closed() then return self.conn end
  self.conn = nil
  local rc = require "dwell.store.redis_client"
  local conn, err = rc.connect(self.host, self.port, ms)
  if not conn then return self:fail(REASON[err.kind] or "connect", err.kind .. ": " .. err.message) end
  local function setup(...)
    local ok, e = conn:call(ms, ...)
    if ok == nil then return nil, e end
    return true
  end
  local ok, e = true, nil
  if self.password then
    if self.user then ok, e = setup("AUTH", self.user, self.password) else ok, e = setup("AUTH", self.password) end
  end
  if ok and self.db ~= 0 then ok, e = setup("SELECT", tostring(self.db)) end
  if not ok then
    conn:close()
    local msg = errors.mask_text(e.message, { self.password, self.user and #self.user >= 4 and self.user or nil })
    local reason = e.kind == "reply" and (msg:match("^%u+") == "WRONGPASS" or msg:match("^NOAUTH")) and "auth"
      or REASON[e.kind] or "io"
    return self:fail(reason, (e.kind == "reply" and "" or e.kind .. ": ") .. msg)
  end
  self.conn = conn
  return conn
end

--- One command: its reply, or nil, store error. `timeout` is seconds left (or nil).
function Redis:call(timeout, ...)
  local ms = self:budget(timeout)
  if ms <= 0 then return self:fail("deadline", "the deadline passed before the store could be asked") end
  local conn, cerr = self:connection(ms)
  if not conn then return nil, cerr end
  local reply, err = conn:call(ms, ...)
  if reply == nil then
    if err.kind == "reply" then return nil, store.error(self.name, "reply", err.message), true end
    return self:fail(REASON[err.kind] or "io", err.kind .. ": " .. err.message)
  end
  return reply
end

-- Runs a script by its SHA1, loading it first when this process has not, or again when the
-- server forgot it (restarted, SCRIPT FLUSH).
function Redis:script(name, timeout, keys, ...)
  for _ = 1, 2 do
    local sha = self.shas[name]
    if not sha then
      local loaded, err = self:call(timeout, "SCRIPT", "LOAD", SCRIPTS[name])
      if not loaded then return nil, err end
      sha = loaded
      self.shas[name] = sha
    end
    local reply, err, from_server = self:call(timeout, "EVALSHA", sha, #keys, table.unpack(keys), ...)
    if reply ~= nil then return reply end
    if not (from_server and err.message:find("NOSCRIPT", 1, true)) then return nil, err end
    self.shas[name] = nil
  end
  return self:fail("reply", "the server keeps forgetting the script " .. name)
end

function Redis:get(key, timeout)
  local r, err = self:call(timeout, "HMGET", self.prefix .. key, "entry", "stale")
  if r == nil then return nil, err end
  if type(r[1]) ~= "string" then return nil end
  local e = json.decode(r[1])
  if type(e) ~= "table" then return nil end
  if r[2] == "1" then e.stale = true end
  return e
end

function Redis:put(key, entry, timeout)
  local copy = {}
  for k, v in pairs(entry) do if k ~= "stale" then copy[k] = v end end
  local r, err = self:call(timeout, "HSET", self.prefix .. key, "entry", assert(json.encode(copy)),
    "gen", tostring(math.tointeger(entry.gen) or 0), "stale", entry.stale and "1" or "0")
  if r == nil then return nil, err end
  return true
end

function Redis:invalidate(key, gen, timeout)
  local r, err = self:script("invalidate", timeout, { self.prefix .. key }, tostring(math.tointeger(gen) or 0))
  if r == nil then return nil, err end
  return true
end

function Redis:try_lock(key, owner, ttl, timeout)
  local r, err = self:call(timeout, "SET", self.prefix .. "lock:" .. key, owner, "NX", "PX",
    tostring(math.max(1, math.ceil(ttl * 1000))))
  if r == nil then return nil, err end
  return r == "OK"
end

function Redis:unlock(key, owner, timeout)
  return self:script("unlock", timeout, { self.prefix .. "lock:" .. key }, owner)
end

function Redis:lock(key, ttl, fn, timeout)
  return store.lease(self, key, ttl, fn, timeout)
end

function Redis:take(key, capacity, rate, n, max_wait, timeout)
  local r, err = self:script("take", timeout, { self.prefix .. "rate:" .. key },
    tostring(capacity), tostring(rate), tostring(n), tostring(max_wait or -1))
  if r == nil then return nil, err end
  local wait = tonumber(r[2]) or 0
  if r[1] ~= 1 then return false, wait end
  return wait
end

--- The strings errors must never show (the password, a long user name).
function Redis:secrets()
  return { self.password, self.user }
end

function Redis:close()
  if self.conn then self.conn:close() end
  self.conn = nil
end

--- opts: url (redis://[user:password@]host[:port][/db]), prefix (default "dwell:"),
-- timeout_ms (the longest any command may take, default 1000; a request's deadline may
-- shorten it), lock_ttl (seconds a token renewal's lock outlives a holder that died, default
-- dwell.store.LOCK_TTL). Returns the store (not yet connected) or nil, dwell.error.
function M.new(opts)
  local function bad(param, rule)
    return nil, errors.invalid_argument(nil, "store.redis", param, rule)
  end
  if type(opts) ~= "table" then return bad(nil, "expects a table { url = ... }") end
  if type(opts.url) ~= "string" then return bad("url", "must be a redis:// URL") end
  local u, why = parse_url(opts.url)
  if not u then return bad("url", why .. " (got " .. redact_url(opts.url) .. ")") end
  local prefix = opts.prefix or "dwell:"
  if type(prefix) ~= "string" then return bad("prefix", "must be a string") end
  local timeout_ms = opts.timeout_ms or 1000
  if math.type(timeout_ms) ~= "integer" or timeout_ms < 1 or timeout_ms > 86400000 then
    return bad("timeout_ms", "must be an integer in 1..86400000")
  end
  if opts.lock_ttl ~= nil and (type(opts.lock_ttl) ~= "number" or opts.lock_ttl <= 0) then
    return bad("lock_ttl", "must be a number of seconds > 0")
  end
  local ok, rc = pcall(require, "dwell.store.redis_client")
  if not ok then
    return nil, store.error(redact_url(opts.url), "module", "the Redis client module dwell.store.redis_client "
      .. "is not installed (build it with libhiredis-dev): " .. tostring(rc):match("^[^\n]*"))
  end
  return setmetatable({
    host = u.host, port = u.port, db = u.db, user = u.user, password = u.password,
    prefix = prefix, timeout_ms = timeout_ms, name = redact_url(opts.url), shas = {}, lock_ttl = opts.lock_ttl,
  }, Redis)
end

return M
