#!/usr/bin/env lua5.4
--- Exports every user of every room in a DocuSign Rooms account to CSV, with the room's office
-- and that office's region (ids and names: offices.list and regions.list, read once).
--
--   lua5.4 examples/rooms_export_users.lua --sandbox [--out users.csv]
--       starts a local sandbox (with a throw-away RSA key pair made by openssl), exports from
--       it, stops it
--   DWELL_ROOMS_ACCOUNT_ID=... DWELL_ROOMS_INTEGRATION_KEY=... DWELL_ROOMS_USER_ID=... \
--   DWELL_ROOMS_PRIVATE_KEY_FILE=key.pem DWELL_ROOMS_ENV=demo lua5.4 examples/rooms_export_users.lua [--out f.csv]
--       (or the same settings in the profile file, or DWELL_ROOMS_ACCESS_TOKEN: README "Settings")
--
-- Options: --out FILE (default stdout), --status open,closed (rooms to include; default
-- all: active, pending and closed; the API's own default, without roomStatus, is active rooms
-- only), --page-size N (1..100, default 100), --profile NAME; --help tells them all.
-- Rooms and room users are paged with startPosition/count; the rate limiter keeps the
-- account under its hourly budget. A summary goes to stderr.
local ex = dofile((debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "_setup.lua")
local dwell = require "dwell"

local function die(msg)
  ex.die("rooms_export_users", msg)
end

local function parse_args(argv)
  local parser = ex.parser("rooms_export_users.lua",
    "Exports every user of every room of a DocuSign Rooms account to CSV, with office and region.",
    { sandbox = "Start a local Rooms sandbox (with a throw-away RSA key pair), export from it, stop it." })
  parser:option("--out", "CSV file to write (default: stdout)."):argname("<file>")
  parser:option("--status", "Rooms to include, by roomStatus, comma-separated: open,closed is all of them.",
    "open,closed")
    :argname("<list>")
  parser:option("--page-size", "Items per page, 1..100.", "100"):argname("<n>")
    :convert(function(v)
      local n = math.tointeger(tonumber(v))
      if not n or n < 1 or n > 100 then return nil, "--page-size must be an integer from 1 to 100" end
      return n
    end)
  return parser:parse(argv)
end

local function read(path)
  local f, err = io.open(path, "rb")
  if not f then die(err) end
  local s = f:read("a")
  f:close()
  return s
end

-- A sandbox on 127.0.0.1 with a fresh key pair; returns it and the client config.
local function sandbox_setup()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  assert(os.execute(("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s/key.pem 2>/dev/null"
    .. " && openssl pkey -in %s/key.pem -pubout -out %s/pub.pem 2>/dev/null"):format(dir, dir, dir)),
    "openssl failed")
  local private, public = read(dir .. "/key.pem"), read(dir .. "/pub.pem")
  os.execute("rm -rf " .. dir)
  local sb = assert(require("dwell.sandbox").start{ routes = { { set = "rooms", config = { public_key = public } } } })
  local cred = sb:control("rooms", "credentials")
  return sb, { account_id = cred.account_id, base_url = sb.url .. "/restapi", auth_base_url = sb.url,
    jwt = { integration_key = cred.integration_key, user_id = cred.user_id, private_key = private } }
end

-- RFC 4180 field: quoted when it holds a comma, quote or line break.
local function csv_field(v)
  if v == nil or v == require("dwell.core").json.null then return "" end
  local s = tostring(v)
  if s:find('[,"\r\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local COLUMNS = { "roomId", "roomName", "officeId", "officeName", "regionId", "regionName", "userId", "firstName",
  "lastName", "email", "roleId", "roleName", "transactionSideId", "companyName" }

-- Every office and region of the account by id (both lists are paged like the others).
local function offices_and_regions(rooms, page_size)
  local offices, regions = {}, {}
  for o in rooms.offices.list:each{ count = page_size } do offices[o.officeId] = o end
  for r in rooms.regions.list:each{ count = page_size } do regions[r.regionId] = r end
  return offices, regions
end

local function main()
  local o = parse_args(arg)
  local sb, cfg
  -- without --sandbox, every setting comes from the chain: DWELL_ROOMS_*, then the profile file
  if o.sandbox then sb, cfg = sandbox_setup() end
  local rooms, err = dwell.rooms(cfg or { profile = o.profile })
  if not rooms then ex.die("rooms_export_users", err, ex.USAGE) end
  local out = io.stdout
  if o.out then
    local f, ferr = io.open(o.out, "wb")
    if not f then
      if sb then sb:close() end
      die(ferr)
    end
    out = f
  end
  local function row(values)
    local f = {}
    for i, v in ipairs(values) do f[i] = csv_field(v) end
    out:write(table.concat(f, ","), "\r\n")
  end
  row(COLUMNS)
  local n_rooms, n_users = 0, 0
  local ok, failure = pcall(function()
    local offices, regions = offices_and_regions(rooms, o.page_size)
    for room in rooms.rooms.list:each{ room_status = o.status, count = o.page_size } do
      n_rooms = n_rooms + 1
      local office = offices[room.officeId] or {}
      local region = regions[office.regionId] or {}
      for u in rooms.rooms.users.list:each{ room_id = room.roomId, count = o.page_size } do
        n_users = n_users + 1
        row({ room.roomId, room.name, room.officeId, office.name, office.regionId, region.name, u.userId,
          u.firstName, u.lastName, u.email, u.roleId, u.roleName, u.transactionSideId, u.companyName })
      end
    end
  end)
  if out ~= io.stdout then out:close() end
  local rl = rooms:rate_limit()
  io.stderr:write(("exported %d users from %d rooms%s%s\n"):format(n_users, n_rooms,
    o.out and (" to " .. o.out) or "",
    rl and rl.remaining and ("; hourly budget left: " .. rl.remaining .. "/" .. tostring(rl.limit)) or ""))
  if sb then sb:close() end
  if not ok then die(failure) end
end

main()
