#!/usr/bin/env lua5.4
--- Make a RUCKUS One unit's users match the approved residents of a Tuya Smart Community block.
--
--   lua5.4 examples/sync_tuya_to_ruckus.lua --sandbox [--dry-run]
--       starts both vendors' emulations on 127.0.0.1 and syncs those (what `make demo` runs)
--   lua5.4 examples/sync_tuya_to_ruckus.lua [--dry-run] [--profile NAME]
--       [--tuya-url URL --tuya-client-id ID --tuya-secret S --block-id B]
--       [--ruckus-url URL --property-id P --hashed-secret H]
--   (what the options leave out comes from dwell's settings chain: DWELL_TUYA_BASE_URL,
--    DWELL_TUYA_CLIENT_ID, DWELL_TUYA_SECRET, DWELL_RUCKUS_BASE_URL, DWELL_RUCKUS_PROPERTY_ID,
--    DWELL_RUCKUS_HASHED_SECRET, then the profile file; the block from DWELL_TUYA_BLOCK_ID:
--    `eval "$(dwell sandbox --env)"` sets them all)
--
-- Residents are matched to unit users by phone number (digits, country code included), then by
-- name. For each approved resident (room_user_stage 20) the matching unit user gets the
-- resident's name and phone number and is made ACTIVE; every other ACTIVE unit user (moved out,
-- or never approved) is BLOCKED. The resident API has no call to create unit users, so approved
-- residents without one are reported as "missing" (add them on the RUCKUS One admin side).
-- --dry-run reports the same plan without changing anything.
--
-- Run as a script it syncs; `require`d or dofile'd it returns its functions (M.run, M.plan).
local ex = dofile((debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "_setup.lua")
local dwell = require "dwell"

local APPROVED = 20

local function digits(s)
  return s and (tostring(s):gsub("%D", "")) or ""
end

local function resident_phone(r)
  local m = digits(r.mobile)
  if m == "" then return nil end
  local cc = digits(r.country_code)
  if cc ~= "" and m:sub(1, #cc) ~= cc then m = cc .. m end
  return "+" .. m
end

local function name_key(s)
  return s and s:lower():gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "") or ""
end

-- Index unit users by phone digits and by name so each resident finds at most one user.
local function index(users)
  local by_phone, by_name = {}, {}
  for _, u in ipairs(users) do
    local p = digits(u.phoneNumber)
    if p ~= "" and not by_phone[p] then by_phone[p] = u end
    local n = name_key(u.userName)
    if n ~= "" and not by_name[n] then by_name[n] = u end
  end
  return by_phone, by_name
end

--- Works out the changes: a list of { action = "update"|"block"|"missing", user = ..., changes = ..., resident = ... }.
local function plan(residents, users)
  local by_phone, by_name = index(users)
  local matched, out = {}, {}
  for _, r in ipairs(residents) do
    local phone = resident_phone(r)
    local u = (phone and by_phone[digits(phone)]) or by_name[name_key(r.real_name)]
    if u and matched[u.userId] then u = nil end
    if not u then
      out[#out + 1] = { action = "missing", resident = r }
    else
      matched[u.userId] = true
      local changes = {}
      if r.real_name and r.real_name ~= "" and r.real_name ~= u.userName then changes.user_name = r.real_name end
      if phone and #phone <= 16 and phone ~= u.phoneNumber then changes.phone_number = phone end
      if u.status ~= "ACTIVE" then changes.status = "ACTIVE" end
      if next(changes) then out[#out + 1] = { action = "update", user = u, changes = changes, resident = r } end
    end
  end
  for _, u in ipairs(users) do
    if not matched[u.userId] and u.status == "ACTIVE" then
      out[#out + 1] = { action = "block", user = u, changes = { status = "BLOCKED" } }
    end
  end
  return out
end

local function describe_change(step)
  if step.action == "missing" then
    return string.format("missing  %s (%s): no unit user to match; add one on the admin side",
      tostring(step.resident.real_name), tostring(resident_phone(step.resident)))
  end
  local keys = {}
  for k, v in pairs(step.changes) do keys[#keys + 1] = k .. "=" .. tostring(v) end
  table.sort(keys)
  return string.format("%-8s %s %s: %s", step.action, step.user.userId, tostring(step.user.userName),
    table.concat(keys, ", "))
end

local M = {}

--- Syncs; returns the plan (each step with `ok`/`err` once applied) and counts, or nil, err.
function M.run(tuya, portal, opts)
  local residents = {}
  local ok, err = pcall(function()
    for r in tuya.community.room_users:each{ block_id = opts.block_id, room_user_stage = APPROVED } do
      if tonumber(r.room_user_stage) == APPROVED or r.room_user_stage == nil then residents[#residents + 1] = r end
    end
  end)
  if not ok then return nil, err end
  local users, uerr = portal.units.users.query:all{ sort_fields = "userId", page_size = 100 }
  if not users then return nil, uerr end
  local steps = plan(residents, users)
  local counts = { update = 0, block = 0, missing = 0, failed = 0, residents = #residents, users = #users }
  for _, step in ipairs(steps) do
    if step.action ~= "missing" and not opts.dry_run then
      local args = { user_id = step.user.userId }
      for k, v in pairs(step.changes) do args[k] = v end
      local res, e = portal.units.users.update(args)
      step.ok, step.err = res ~= nil, e
      if not res then counts.failed = counts.failed + 1 end
    end
    counts[step.action] = counts[step.action] + 1
  end
  return steps, counts
end

--- The command line: argparse's result. The explicit client options (--tuya-*, --property-id,
-- --hashed-secret, --ruckus-url) win; what they leave out comes from the settings chain.
function M.parse_args(argv)
  local parser = ex.parser("sync_tuya_to_ruckus.lua",
    "Makes a RUCKUS One unit's users match the approved residents of a Tuya community block.",
    { sandbox = "Start seeded Tuya and RUCKUS sandboxes, sync them, stop them." })
  parser:flag("-n --dry-run", "Report the plan; change nothing.")
  parser:option("--tuya-url", "Tuya base URL (else DWELL_TUYA_BASE_URL / DWELL_TUYA_REGION)."):argname("<url>")
  parser:option("--tuya-client-id", "Tuya Access ID (else DWELL_TUYA_CLIENT_ID)."):argname("<id>")
  parser:option("--tuya-secret", "Tuya Access Secret (else DWELL_TUYA_SECRET)."):argname("<secret>")
  ex.block_option(parser)
  parser:option("--ruckus-url", "RUCKUS One base URL (else DWELL_RUCKUS_BASE_URL / DWELL_RUCKUS_REGION)."):argname("<url>")
  parser:option("--property-id", "RUCKUS property (else DWELL_RUCKUS_PROPERTY_ID)."):argname("<id>")
  parser:option("--hashed-secret", "RUCKUS unit's hashed secret (else DWELL_RUCKUS_HASHED_SECRET)."):argname("<hash>")
  return parser:parse(argv)
end

-- Starts the two emulations; the RUCKUS unit users are seeded from the Tuya residents so that
-- the demo has work of every kind: stale contacts, blocked returners, moved-out users, gaps.
local function start_sandboxes()
  local sandbox = require "dwell.sandbox"
  local tsb = assert(sandbox.start{ routes = { { set = "tuya", config = { blocks = 1, residents_per_block = 40 } } } })
  local tcreds = tsb:control("tuya", "credentials")
  local tuya = assert(dwell.tuya{ client_id = tcreds.client_id, secret = tcreds.secret, base_url = tsb.url })
  local block = tsb:control("tuya", "summary").blocks[1].block_id
  local approved = {}
  for r in tuya.community.room_users:each{ block_id = block, room_user_stage = APPROVED } do
    approved[#approved + 1] = r
  end
  local users = {}
  for i, r in ipairs(approved) do
    if i % 4 ~= 0 then -- every fourth resident has no unit user yet
      users[#users + 1] = { userName = r.real_name, phoneNumber = (i % 3 == 0) and "+10000000000" or resident_phone(r),
        status = (i % 5 == 0) and "BLOCKED" or "ACTIVE", type = i == 1 and "UNIT" or "LINKED" }
    end
  end
  users[#users + 1] = { userName = "Moved Out Person", phoneNumber = "+15559990001", status = "ACTIVE", type = "LINKED" }
  users[#users + 1] = { userName = "Former Guest", phoneNumber = "+15559990002", status = "ACTIVE", type = "GUEST" }
  local rsb = assert(sandbox.start{ routes = { { set = "ruckus", config = { users = users } } } })
  local rcreds = rsb:control("ruckus", "credentials")
  return { tuya_sb = tsb, ruckus_sb = rsb, tuya = tuya, block_id = block,
    portal = assert(dwell.ruckus{ property_id = rcreds.property_id, hashed_secret = rcreds.hashed_secret,
      base_url = rsb.url }) }
end

function M.main(argv)
  local args = M.parse_args(argv)
  local dry = args.dry_run
  local env
  local tuya, portal, block
  if args.sandbox then
    env = start_sandboxes()
    tuya, portal, block = env.tuya, env.portal, env.block_id
  else
    local err
    tuya, err = dwell.tuya{ client_id = args.tuya_client_id, secret = args.tuya_secret, base_url = args.tuya_url,
      profile = args.profile }
    if not tuya then io.stderr:write("sync_tuya_to_ruckus: ", tostring(err), "\n"); return ex.USAGE end
    portal, err = dwell.ruckus{ property_id = args.property_id, hashed_secret = args.hashed_secret,
      base_url = args.ruckus_url, profile = args.profile }
    if not portal then io.stderr:write("sync_tuya_to_ruckus: ", tostring(err), "\n"); return ex.USAGE end
    block, err = ex.block_id(args)
    if not block then io.stderr:write("sync_tuya_to_ruckus: ", err, "\n"); return ex.USAGE end
  end
  local steps, counts = M.run(tuya, portal, { block_id = block, dry_run = dry })
  if not steps then
    io.stderr:write("sync_tuya_to_ruckus: sync failed: ", tostring(counts), "\n")
    if env then env.tuya_sb:stop(); env.ruckus_sb:stop() end
    return 1
  end
  print(string.format("%d approved residents, %d unit users%s", counts.residents, counts.users,
    dry and " (dry run: nothing changed)" or ""))
  for _, step in ipairs(steps) do
    local line = describe_change(step)
    if step.err then line = line .. "  FAILED: " .. tostring(step.err) end
    print(line)
  end
  print(string.format("%s %d, %s %d, missing %d, failed %d", dry and "would update" or "updated",
    counts.update, dry and "would block" or "blocked", counts.block, counts.missing, counts.failed))
  if env then
    if not dry then
      -- Against the sandbox, show that a second pass finds nothing left to change.
      local again = M.run(tuya, portal, { block_id = block, dry_run = true })
      local left = 0
      for _, step in ipairs(again or {}) do if step.action ~= "missing" then left = left + 1 end end
      print(string.format("second pass: %d changes left", left))
    end
    env.tuya_sb:stop(); env.ruckus_sb:stop()
  end
  return counts.failed == 0 and 0 or 1
end

M.plan = plan

-- Run as a script (`lua5.4 examples/sync_tuya_to_ruckus.lua ...`); `require`/dofile just get M.
if arg and arg[0] and arg[0]:match("sync_tuya_to_ruckus%.lua$") and not package.loaded["examples.sync_tuya_to_ruckus"] then
  os.exit(M.main(arg))
end
return M
