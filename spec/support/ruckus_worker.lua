--- One process of the multi-process store specs: a RUCKUS client on a shared store sending
-- `n` unit-user queries, `concurrency` at a time, then one line of JSON on stdout:
--   { ok, failed, kinds = { kind = n }, messages, statuses = { ["429"] = n, ... }, logins }
-- (statuses and logins as the answers this process received: on_response sees every attempt)
-- Usage: lua5.4 spec/support/ruckus_worker.lua base_url property_id hashed_secret store n concurrency
local dwell = require "dwell"
local json = require "dwell.json"

local base, property_id, hashed_secret, store, n, conc = ...
n, conc = math.tointeger(tonumber(n)), math.tointeger(tonumber(conc))
local statuses, logins = {}, 0
local portal = assert(dwell.ruckus{ base_url = base, property_id = property_id, hashed_secret = hashed_secret,
  store = store, deadline_ms = 60000, on_response = function(info)
    local k = tostring(info.status or info.error)
    statuses[k] = (statuses[k] or 0) + 1
    if info.status == 200 and info.url:find("/units/logins", 1, true) then logins = logins + 1 end
  end })

local calls = {}
for i = 1, n do calls[i] = { portal.units.users.query, { page_size = 1 } } end
local results, errs = dwell.parallel(calls, { concurrency = conc })
local out = { ok = 0, failed = 0, kinds = {}, messages = {}, statuses = statuses }
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
out.logins = logins
io.write(json.encode(out), "\n")
