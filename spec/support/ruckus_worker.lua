--- One process of the multi-process store specs: a RUCKUS client on a shared store sending
-- `n` unit-user queries, `concurrency` at a time, then one line of JSON on stdout:
--   { ok, failed, kinds = { kind = n }, messages }
-- Usage: lua5.4 spec/support/ruckus_worker.lua base_url property_id hashed_secret store n concurrency
local dwell = require "dwell"
local json = require "dwell.json"

local base, property_id, hashed_secret, store, n, conc = ...
n, conc = math.tointeger(tonumber(n)), math.tointeger(tonumber(conc))
local portal = assert(dwell.ruckus{ base_url = base, property_id = property_id, hashed_secret = hashed_secret,
  store = store, deadline_ms = 60000 })

local calls = {}
for i = 1, n do calls[i] = { portal.units.users.query, { page_size = 1 } } end
local results, errs = dwell.parallel(calls, { concurrency = conc })
local out = { ok = 0, failed = 0, kinds = {}, messages = {} }
for i = 1, n do
  if results[i] then
    out.ok = out.ok + 1
  else
    out.failed = out.failed + 1
    local k = errs[i] and errs[i].kind or "?"
    out.kinds[k] = (out.kinds[k] or 0) + 1
    if #out.messages < 3 then out.messages[#out.messages + 1] = tostring(errs[i]) end
  end
end
io.write(json.encode(out), "\n")
