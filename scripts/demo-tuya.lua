-- Demo part for Tuya: starts a sandbox with the "tuya" route set, then runs
-- examples/tuya_pending_moveins.lua against it as a separate process (the
-- sandbox serves from its own threads while this process waits).
local sandbox = require "dwell.sandbox"
local sb = assert(sandbox.start{ routes = { { set = "tuya", config = {} } } })
local creds = assert(sb:control("tuya", "credentials"))
local summary = assert(sb:control("tuya", "summary"))
local block = summary.blocks[1]
print(string.format("tuya sandbox on %s: block %s (%s) has %d pending move-ins", sb.url, block.block_id,
  block.block_name, block.pending))
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local cmd = string.format("DWELL_TUYA_BASE_URL=%s DWELL_TUYA_CLIENT_ID=%s DWELL_TUYA_SECRET=%s DWELL_TUYA_BLOCK_ID=%s "
  .. "%s examples/tuya_pending_moveins.lua",
  q(sb.url), q(creds.client_id), q(creds.secret), q(block.block_id), q(arg[-1] or "lua5.4"))
local ok = os.execute(cmd)
local after = assert(sb:control("tuya", "summary")).blocks[1]
print(string.format("after the run: %d pending, %d approved", after.pending, after.approved))
sb:stop()
os.exit(ok and 0 or 1)
