--- Run by examples/embed/host.c inside the host's own lua_State: reports every approved
-- resident of a Tuya block to the host through `host.record`.
--
--   build/examples/dwell-host examples/embed/approved_residents.lua BASE_URL CLIENT_ID SECRET BLOCK_ID
local dwell = require "dwell"

local base_url, client_id, secret, block_id = ...
local tuya = assert(dwell.tuya{ base_url = base_url, client_id = client_id, secret = secret })
local n = 0
for resident in tuya.community.room_users:each{ block_id = block_id, room_user_stage = 20, page_size = 50 } do
  host.record{ name = resident.real_name, mobile = resident.mobile } -- luacheck: globals host
  n = n + 1
end
print(("script: %d approved residents in block %s"):format(n, block_id))
