#!/usr/bin/env lua5.4
--- Lists a community's pending move-in applications across all pages and approves those that
-- match a rule (here: verified identity, and a resident type the property accepts without an
-- interview); the rest are left pending for a human. Prints a summary.
--
--   lua5.4 examples/tuya_pending_moveins.lua --sandbox [--dry-run]
--       starts a local Tuya sandbox, approves its first block's move-ins, stops it
--   lua5.4 examples/tuya_pending_moveins.lua [--block-id B] [--profile NAME] [--dry-run]
--       Tuya from dwell's settings chain (README "Settings"): DWELL_TUYA_BASE_URL (or
--       DWELL_TUYA_REGION), DWELL_TUYA_CLIENT_ID, DWELL_TUYA_SECRET, else the profile file;
--       the block from --block-id or DWELL_TUYA_BLOCK_ID
local ex = dofile((debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "_setup.lua")
local dwell = require "dwell"

local AUTO_APPROVE = { HOUSEHOLDER = true, FAMILY = true, RELATIVES = true, BABYSITTER = true }

local function rule(user)
  return user.if_identify == 1 and AUTO_APPROVE[user.room_user_type] == true
end

local function parse_args(argv)
  local parser = ex.parser("tuya_pending_moveins.lua",
    "Approves a Tuya community block's pending move-ins that match a rule; leaves the rest for review.",
    { sandbox = "Start a local Tuya sandbox, approve its first block's move-ins, stop it." })
  ex.block_option(parser)
  parser:flag("-n --dry-run", "Report what would be approved; approve nothing.")
  return parser:parse(argv)
end

--- Approves the block's pending move-ins that match the rule (prints a line for each, then a
-- summary); returns how many approvals failed.
local function approve(tuya, block_id, dry_run)
  -- Collect first, then act: approving changes the pending list we would otherwise be paging through.
  local pending, lerr = tuya.community.room_users:all{ block_id = block_id, room_user_stage = 0,
    field_order_by = "CREATE_TIME_ASC", page_size = 50 }
  if not pending then ex.die("tuya_pending_moveins", "listing pending move-ins failed: " .. tostring(lerr)) end

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
        print(string.format("%s  %s  %-10s %-22s %s", dry_run and "would approve" or "approved", u.room_user_id,
          u.room_user_type, u.real_name, u.room_address))
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
  return failed
end

local function main(argv)
  local args = parse_args(argv)
  if args.sandbox then
    local sb = assert(require("dwell.sandbox").start{ routes = { { set = "tuya", config = {} } } })
    local creds = sb:control("tuya", "credentials")
    local block = sb:control("tuya", "summary").blocks[1]
    print(string.format("tuya sandbox on %s: block %s (%s) has %d pending move-ins", sb.url, block.block_id,
      block.block_name, block.pending))
    local tuya = assert(dwell.tuya{ client_id = creds.client_id, secret = creds.secret, base_url = sb.url })
    local failed = approve(tuya, block.block_id, args.dry_run)
    local after = sb:control("tuya", "summary").blocks[1]
    print(string.format("after the run: %d pending, %d approved", after.pending, after.approved))
    sb:stop()
    return failed == 0 and 0 or 1
  end
  -- everything from the settings chain: DWELL_TUYA_*, then the profile file
  local tuya, err = dwell.tuya{ profile = args.profile }
  if not tuya then ex.die("tuya_pending_moveins", err, ex.USAGE) end
  local block_id, berr = ex.block_id(args)
  if not block_id then ex.die("tuya_pending_moveins", berr, ex.USAGE) end
  return approve(tuya, block_id, args.dry_run) == 0 and 0 or 1
end

os.exit(main(arg))
