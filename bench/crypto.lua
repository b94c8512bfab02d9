--- Throughput of dwell.core's crypto (`make bench-crypto`): what signing costs
-- per request. Prints operations per second; asserts nothing about speed.
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/?.so;;' lua5.4 bench/crypto.lua
local core = require "dwell.core"

local function bench(name, seconds, fn)
  fn() -- warm up
  local n, start = 0, os.clock()
  repeat
    for _ = 1, 16 do fn() end
    n = n + 16
  until os.clock() - start >= seconds
  local elapsed = os.clock() - start
  print(("%-40s %12.0f ops/s %10.2f us/op"):format(name, n / elapsed, elapsed / n * 1e6))
end

local small = string.rep("x", 256)             -- a typical string-to-sign
local big = string.rep("y", 1024 * 1024)       -- a large request body
local secret = core.random_hex(16)

bench("sha256_hex 256 B", 0.5, function() return core.sha256_hex(small) end)
bench("sha256 1 MiB", 0.5, function() return core.sha256(big) end)
bench("hmac_sha256_hex 256 B (Tuya sign)", 0.5, function() return core.hmac_sha256_hex(secret, small, true) end)
bench("base64url_encode 1 KiB", 0.5, function() return core.base64url_encode(big:sub(1, 1024)) end)
bench("random_hex 16", 0.5, function() return core.random_hex(16) end)

local p = assert(io.popen('mktemp -d "${TMPDIR:-/tmp}/dwell-bench.XXXXXX"'))
local dir = assert(p:read("l"))
p:close()
local ok = os.execute(("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '%s/k.pem' 2>/dev/null"
  .. " && openssl pkey -in '%s/k.pem' -pubout -out '%s/p.pem'"):format(dir, dir, dir))
if ok then
  local function read(f) local h = assert(io.open(dir .. "/" .. f)) local s = h:read("a") h:close() return s end
  local key, pub = read("k.pem"), read("p.pem")
  local sig = assert(core.rs256_sign(key, small))
  bench("rs256_sign 2048-bit (PEM parse + sign)", 1, function() return core.rs256_sign(key, small) end)
  bench("rs256_verify 2048-bit (PEM parse + verify)", 1, function() return core.rs256_verify(pub, small, sig) end)
else
  print("rs256: skipped, the openssl command failed")
end
os.execute("rm -rf '" .. dir .. "'")
