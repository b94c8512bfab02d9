--- One process of the multi-process store specs: a Tuya client on a shared store calling the
-- sandbox for `seconds`, `concurrency` calls at a time, then one line of JSON on stdout:
--   { ok, failed, kinds = { kind = n }, grants, refreshes, failed_refreshes, calls }
-- Usage: lua5.4 spec/support/tuya_worker.lua base_url client_id secret store seconds concurrency [margin]
local dwell = require "dwell"
local json = require "dwell.json"
local http = require("dwell.core").http

local base, client_id, secret, store, seconds, conc, margin = ...
seconds, conc = tonumber(seconds), math.tointeger(tonumber(conc))
local tuya = assert(dwell.tuya{ base_url = base, client_id = client_id, secret = secret, store = store,
  refresh_margin_s = tonumber(margin), deadline_ms = 10000, retry = { attempts = 3, base_ms = 20, cap_ms = 200 } })
local block = os.getenv("DWELL_BLOCK_ID")

local out = { ok = 0, failed = 0, kinds = {}, calls = 0, messages = {} }
local stop = http.monotonic() + seconds
while http.monotonic() < stop do
  local calls = {}
  for i = 1, conc do calls[i] = { tuya.community.room_users, { block_id = block, page_no = 1, page_size = 5 } } end
  local results, errs = dwell.parallel(calls, { concurrency = conc })
  for i = 1, conc do
    out.calls = out.calls + 1
    if results[i] then
      out.ok = out.ok + 1
    else
      out.failed = out.failed + 1
      local k = errs[i] and errs[i].kind or "?"
      out.kinds[k] = (out.kinds[k] or 0) + 1
      if #out.messages < 3 then out.messages[#out.messages + 1] = tostring(errs[i]) end
    end
  end
  http.sleep(0.05)
end
local info = tuya:token_info()
out.grants, out.refreshes, out.failed_refreshes = info.grants, info.refreshes, info.failed_refreshes
io.write(json.encode(out), "\n")
