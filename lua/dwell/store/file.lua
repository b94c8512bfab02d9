--- dwell.store.file: a store in a directory, shared by every process of one machine that
-- uses the same directory (see dwell.store for the interface).
--
--   dwell.store.file{ path = "/var/lib/dwell" }   -- or the client option store = "file:///var/lib/dwell"
--
-- The directory is created with mode 0700 (parents too); every file is written 0600, whatever
-- the umask. For each key K (named by a readable slug plus a hash of K, so any key is a safe
-- file name):
--   K.json   the entry (a token and its times), JSON
--   K.rate   a bucket's state (tokens, time), locked and rewritten in place by each take
--   K.lease  a token renewal's lock: { owner, expires_at } (wall-clock seconds)
--   K.lock   empty; flock(2) on it serialises the read-modify-writes of the files above
-- Entries and leases are replaced by writing a temporary file beside them and renaming it over
-- them, so a reader (get takes no lock) never sees a half-written file, and an interrupted
-- writer leaves only a stray K.json.tmp.XXXXXX behind. A bucket is one checksummed record
-- rewritten in place under its own flock (see File:take). flock is held for one read-modify-write at a time,
-- never across a network call: a renewal holds the K.lease, which expires after its ttl if
-- its holder dies or hangs. A process that dies holding flock releases it with its descriptors.
-- Times are this machine's wall clock (dwell.core.http.realtime), shared by its processes.
local core = require "dwell.core"
local json = require "dwell.json"
local errors = require "dwell.error"
local store = require "dwell.store"

local fs = core.fs
local realtime = core.http.realtime

local M = {}

local DIR_MODE = tonumber("700", 8) -- Lua has no octal literals

local File = {}
File.__index = File
File.__name = "dwell.store.file"

function File:__tostring() return "dwell.store.file (" .. self.name .. ", secrets hidden)" end

--- The file name of `key` in the store, without its suffix.
function File:path(key)
  local slug = key:gsub("[^%w%-_.@]", "_"):sub(1, 80)
  return self.dir .. "/" .. slug .. "-" .. core.sha256_hex(key):sub(1, 16)
end

local function read_json(path)
  local f, msg, code = io.open(path, "rb")
  if not f then
    if code == 2 then return nil end -- ENOENT
    return nil, msg
  end
  local text = f:read("a")
  f:close()
  -- A file that is not ours (edited by hand, an older format) counts as absent: it is
  -- replaced on the next write instead of wedging every call.
  local v = text and json.decode(text)
  if type(v) ~= "table" then return nil end
  return v
end

function File:fail(reason, message)
  return nil, store.error(self.name, reason, message)
end

-- Milliseconds for one flock wait: the time left, capped by the store's own limit.
function File:wait_ms(timeout)
  local ms = self.timeout_ms
  if timeout then ms = math.min(ms, math.floor(timeout * 1000)) end
  return ms
end

-- Runs fn(base) holding base.lock; returns fn's results, or nil, store error.
function File:locked(key, timeout, fn)
  local base = self:path(key)
  local ms = self:wait_ms(timeout)
  if ms <= 0 then return self:fail("deadline", "the deadline passed before the store could be used") end
  local lock, msg, why = fs.lock(base .. ".lock", ms)
  if not lock then return self:fail(why, msg) end
  local res = table.pack(pcall(fn, base))
  lock:unlock()
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

function File:write(path, value)
  local ok, msg = fs.write_atomic(path, assert(json.encode(value)))
  if not ok then return self:fail("io", msg) end
  return true
end

function File:get(key)
  local v, msg = read_json(self:path(key) .. ".json")
  if msg then return self:fail("io", msg) end
  return v
end

function File:put(key, entry, timeout)
  return self:locked(key, timeout, function(base) return self:write(base .. ".json", entry) end)
end

function File:invalidate(key, gen, timeout)
  return self:locked(key, timeout, function(base)
    local cur, msg = read_json(base .. ".json")
    if msg then return self:fail("io", msg) end
    if not cur or cur.gen ~= gen then return true end
    cur.stale = true
    return self:write(base .. ".json", cur)
  end)
end

function File:try_lock(key, owner, ttl, timeout)
  return self:locked(key, timeout, function(base)
    local lease = read_json(base .. ".lease")
    local now = realtime()
    if lease and lease.owner ~= owner and tonumber(lease.expires_at) and lease.expires_at > now then
      return false
    end
    local ok, err = self:write(base .. ".lease", { owner = owner, expires_at = now + ttl })
    if not ok then return nil, err end
    return true
  end)
end

function File:unlock(key, owner, timeout)
  return self:locked(key, timeout, function(base)
    local lease = read_json(base .. ".lease")
    if lease and lease.owner == owner then
      local ok, msg = fs.unlink(base .. ".lease")
      if not ok then return self:fail("io", msg) end
    end
    return true
  end)
end

function File:lock(key, ttl, fn, timeout)
  return store.lease(self, key, ttl, fn, timeout)
end

-- A bucket's record: "v1 <tokens> <ts> <check>\n", check = the first 16 hex digits of the
-- SHA-256 of the rest. Anything else (a torn or foreign record) reads as a full bucket.
local function bucket_record(tokens, ts)
  local body = string.format("v1 %.17g %.17g", tokens, ts)
  return body .. " " .. core.sha256_hex(body):sub(1, 16) .. "\n"
end

local function read_bucket(text)
  local body, check = text:match("^(v1 %S+ %S+) (%x+)\n$")
  if not body or core.sha256_hex(body):sub(1, 16) ~= check then return nil end
  local tokens, ts = body:match("^v1 (%S+) (%S+)$")
  return tonumber(tokens), tonumber(ts)
end

-- Buckets are taken on every call, so a bucket lives in the file it is locked by (K.rate):
-- read and rewritten in place under its flock, one pwrite of a checksummed record (a rename
-- per take would cost a journal commit each; a record that fails its check is a full bucket).
function File:take(key, capacity, rate, n, max_wait, timeout)
  local ms = self:wait_ms(timeout)
  if ms <= 0 then return self:fail("deadline", "the deadline passed before the store could be used") end
  local lock, msg, why = fs.lock(self:path(key) .. ".rate", ms)
  if not lock then return self:fail(why, msg) end
  local now = realtime()
  local text, rerr = lock:read(256)
  if not text then
    lock:unlock()
    return self:fail("io", rerr)
  end
  local tokens, ts = read_bucket(text)
  if not tokens or not ts then tokens, ts = capacity, now end
  tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
  local wait = (n - tokens) / rate
  if wait > 0 and max_wait and wait > max_wait then
    lock:unlock()
    return false, wait
  end
  local ok, werr = lock:write(bucket_record(tokens - n, now))
  lock:unlock()
  if not ok then return self:fail("io", werr) end
  return wait > 0 and wait or 0
end

local function mkdir_p(path)
  local sofar = path:sub(1, 1) == "/" and "" or "."
  for part in path:gmatch("[^/]+") do
    sofar = sofar .. "/" .. part
    local ok, msg = fs.mkdir(sofar, DIR_MODE)
    if not ok then return nil, msg end
  end
  return true
end

local function decode_pct(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- opts: path (a directory) or url ("file:///dir"); timeout_ms (longest wait for another
-- process's flock, default 2000); lock_ttl (seconds a token renewal's lock outlives a holder
-- that died, default dwell.store.LOCK_TTL). Returns the store or nil, dwell.error.
function M.new(opts)
  if type(opts) ~= "table" then
    return nil, errors.invalid_argument(nil, "store.file", nil, "expects a table { path = dir }")
  end
  local path = opts.path
  if path == nil and type(opts.url) == "string" then
    local host, p = opts.url:match("^file://([^/]*)(/.*)$")
    if not p or (host ~= "" and host ~= "localhost") then
      return nil, errors.invalid_argument(nil, "store.file", "store",
        "a file store URL is file:///absolute/path/to/dir (got " .. opts.url .. ")")
    end
    path = decode_pct(p)
  end
  if type(path) ~= "string" or path == "" or path:find("%z") then
    return nil, errors.invalid_argument(nil, "store.file", "path", "must be a directory path")
  end
  local timeout_ms = opts.timeout_ms or 2000
  if math.type(timeout_ms) ~= "integer" or timeout_ms < 1 then
    return nil, errors.invalid_argument(nil, "store.file", "timeout_ms", "must be an integer >= 1")
  end
  if opts.lock_ttl ~= nil and (type(opts.lock_ttl) ~= "number" or opts.lock_ttl <= 0) then
    return nil, errors.invalid_argument(nil, "store.file", "lock_ttl", "must be a number of seconds > 0")
  end
  path = path:gsub("(.)/+$", "%1")
  local ok, msg = mkdir_p(path)
  if not ok then return nil, store.error("file://" .. path, "io", msg) end
  return setmetatable({ dir = path, name = "file://" .. path, timeout_ms = timeout_ms, lock_ttl = opts.lock_ttl }, File)
end

return M
