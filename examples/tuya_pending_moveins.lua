#!/usr/bin/env lua5.4
--- Lists a community's pending move-in applications across all pages and approves those that
-- match a rule (here: verified identity, and a resident type the property accepts without an
-- interview); the rest are left pending for a human. Prints a summary.
--
--   lua5.4 examples/tuya_pending_moveins.lua [base_url client_id secret block_id] [--dry-run]
--
-- Arguments not given come from dwell's settings chain (README "Settings"): DWELL_TUYA_BASE_URL
-- (or DWELL_TUYA_REGION), DWELL_TUYA_CLIENT_ID, DWELL_TUYA_SECRET, else the profile file; the
-- block from DWELL_TUYA_BLOCK_ID. scripts/demo runs it against a local sandbox.
local dwell = require "dwell"

local AUTO_APPROVE = { HOUSEHOLDER = true, FAMILY = true, RELATIVES = true, BABYSITTER = true }

local function rule(user)
  return user.if_identify == 1 and AUTO_APPROVE[user.room_user_type] == true
end

local function config(argv)
  local positional, dry_run = {}, false
  for _, a in ipairs(argv) do
    if a == "--dry-run" then dry_run = true else positional[#positional + 1] = a end
  end
  -- explicit options win; what is missing comes from the environment, then the profile file
  local c = { base_url = positional[1], client_id = positional[2], secret = positional[3] }
  return c, positional[4] or os.getenv("DWELL_TUYA_BLOCK_ID"), dry_run
end

local function main(argv)
  local cfg, block_id, dry_run = config(argv)
  if not block_id then
    io.stderr:write("usage: tuya_pending_moveins.lua [base_url client_id secret block_id] [--dry-run]\n",
      "       (or set DWELL_TUYA_BASE_URL, DWELL_TUYA_CLIENT_ID, DWELL_TUYA_SECRET, DWELL_TUYA_BLOCK_ID)\n")
    return 2
  end
  local tuya, err = dwell.tuya(cfg)
  if not tuya then
    io.stderr:write(tostring(err), "\n")
    return 2
  end

  -- Collect first, then act: approving changes the pending list we would otherwise be paging through.
  local pending, lerr = tuya.community.room_users:all{ block_id = block_id, room_user_stage = 0,
    field_order_by = "CREATE_TIME_ASC", page_size = 50 }
  if not pending then
    io.stderr:write("listing pending move-ins failed: ", tostring(lerr), "\n")
    return 1
  end

  local approved, left, failed = 0, 0, 0
  for _, u in ipairs(pending) do
    if rule(u) then
      local ok, aerr = true, nil
      if not dry_run then
        local res
        res, aerr = tuya.community.room_user.move_in{
          room_user_id = u.room_user_id, block_id = block_id, householder_id = u.householder_id,
          room_user_type = u.room_user_type, tree_id = u.tree_id, expire_date = u.expire_date ~= "" and u.expire_date or nil,
          room_user_stage = 20, audit_reason = "Approved automatically: identity verified",
        }
        ok = res ~= nil and (type(res) ~= "table" or res.success ~= false)
        if res and not ok then aerr = res.operation end
      end
      if ok then
        approved = approved + 1
        print(string.format("approved  %s  %-10s %-22s %s", u.room_user_id, u.room_user_type, u.real_name, u.room_address))
      else
        failed = failed + 1
        print(string.format("FAILED    %s  %s", u.room_user_id, tostring(aerr)))
      end
    else
      left = left + 1
    end
  end
  print(string.format("%d pending move-in application(s) in block %s: %d approved%s, %d left for review, %d failed",
    #pending, block_id, approved, dry_run and " (dry run)" or "", left, failed))
  return failed == 0 and 0 or 1
end

os.exit(main(arg))
