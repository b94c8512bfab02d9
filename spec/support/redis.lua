--- A throw-away redis-server for specs and benchmarks: loopback only, a free port, no
-- persistence (`--save '' --appendonly no`), its files in a private temporary directory.
--
--   local redis = require "support.redis"
--   local r = redis.start{ password = "..." }   -- raises when redis-server cannot be started
--   r.url, r.port, r.pid
--   r:pause() / r:resume()    SIGSTOP / SIGCONT: a server that accepts but never answers
--   r:stop()                  SIGTERM, waits until it is gone (also what cleanup does)
--   r:restart()               starts again on the same port (empty: nothing was persisted)
--   r:cleanup()               stops it and removes its directory
-- redis-server comes from the Debian package scripts/bootstrap installs.
local M = {}

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok and 0 or code
end

-- Tools run without a sanitizer runtime `make asan` may have put into this process.
local ENV = "env -u LD_PRELOAD -u ASAN_OPTIONS -u LSAN_OPTIONS "

-- A daemonized server's parent is init, which in a container may never reap it: a zombie
-- (state Z in /proc) counts as gone.
local function alive(pid)
  if not pid then return false end
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if not f then return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true end
  local stat = f:read("a") or ""
  f:close()
  local state = stat:match("^%d+ %b() (%a)")
  return state ~= nil and state ~= "Z" and state ~= "X"
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local Server = {}
Server.__index = Server

-- A PING answered on the port (with the password when set).
local function answers(port, password)
  local ok, rc = pcall(require, "dwell.store.redis_client")
  if not ok then error("dwell.store.redis_client is not built: " .. tostring(rc)) end
  local conn = rc.connect("127.0.0.1", port, 200)
  if not conn then return false end
  if password then conn:call(200, "AUTH", password) end
  local pong = conn:call(200, "PING")
  conn:close()
  return pong == "PONG"
end

function Server:launch()
  local args = { "redis-server", "--port", tostring(self.port), "--bind", "127.0.0.1", "--save", "''",
    "--appendonly", "no", "--daemonize", "yes", "--pidfile", quote(self.dir .. "/redis.pid"),
    "--logfile", quote(self.dir .. "/redis.log"), "--dir", quote(self.dir) }
  if self.password then args[#args + 1] = "--requirepass " .. quote(self.password) end
  os.remove(self.dir .. "/redis.pid")
  local out, code = sh(ENV .. table.concat(args, " "))
  if code ~= 0 then return false, "redis-server failed: " .. out end
  for _ = 1, 250 do
    local pid = tonumber((read(self.dir .. "/redis.pid") or ""):match("%d+"))
    if pid and answers(self.port, self.password) then
      self.pid = pid
      return true
    end
    if pid and not alive(pid) then break end
    os.execute("sleep 0.02")
  end
  local log = read(self.dir .. "/redis.log") or ""
  local pid = tonumber((read(self.dir .. "/redis.pid") or ""):match("%d+"))
  if alive(pid) then os.execute("kill -9 " .. pid) end
  return false, "redis-server did not answer on port " .. self.port .. ": " .. log:sub(-400)
end

--- Starts a server on a free loopback port. opts.password sets requirepass.
function M.start(opts)
  opts = opts or {}
  local dir = sh('mktemp -d "${TMPDIR:-/tmp}/dwell-redis.XXXXXX"'):match("[^\n]+")
  local self = setmetatable({ dir = dir, password = opts.password }, Server)
  -- A port from a wide range, tried until one is free; the seed differs per process.
  local seed = os.time()
  for c in dir:gmatch(".") do seed = (seed * 31 + c:byte()) % 2147483647 end
  math.randomseed(seed)
  local last
  for _ = 1, 20 do
    self.port = math.random(20000, 59999)
    if not answers(self.port) then
      local ok, err = self:launch()
      if ok then
        local auth = self.password and (":" .. self.password .. "@") or ""
        self.url = "redis://" .. auth .. "127.0.0.1:" .. self.port .. "/0"
        return self
      end
      last = err
    end
  end
  os.execute("rm -rf " .. quote(dir))
  error("could not start redis-server: " .. tostring(last))
end

function Server:pause() os.execute("kill -STOP " .. self.pid) end
function Server:resume() os.execute("kill -CONT " .. self.pid) end

function Server:stop()
  if not self.pid then return end
  os.execute("kill -CONT " .. self.pid .. " 2>/dev/null")
  os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
  for _ = 1, 500 do
    if not alive(self.pid) then break end
    os.execute("sleep 0.01")
  end
  if alive(self.pid) then os.execute("kill -9 " .. self.pid) end
  self.pid = nil
end

function Server:restart()
  self:stop()
  local ok, err = self:launch()
  assert(ok, err)
end

function Server:cleanup()
  self:stop()
  if self.dir then os.execute("rm -rf " .. quote(self.dir)) end
  self.dir = nil
end

--- The server's INFO field (e.g. "total_commands_processed"), as a number or string.
function Server:info(field)
  local rc = require "dwell.store.redis_client"
  local conn = assert(rc.connect("127.0.0.1", self.port, 1000))
  if self.password then conn:call(1000, "AUTH", self.password) end
  local text = conn:call(1000, "INFO", "all") or ""
  conn:close()
  local v = text:match(field .. ":([^\r\n]*)")
  return tonumber(v) or v
end

--- Runs one command on the server and returns its reply.
function Server:command(...)
  local rc = require "dwell.store.redis_client"
  local conn = assert(rc.connect("127.0.0.1", self.port, 1000))
  if self.password then conn:call(1000, "AUTH", self.password) end
  local r, err = conn:call(1000, ...)
  conn:close()
  return r, err
end

return M
