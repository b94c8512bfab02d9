--- The Rooms sandbox's REST handlers (/restapi/v2/...): rooms, room users,
-- company users, roles, account, transaction sides, over the seeded state.
-- Paging, filter and sort follow docs/vendors/rooms.md §4 and §9; errors are ApiError bodies,
-- except GetRoomUsers' 404, which has no body (§6 trap 4).
local json = require("dwell.core").json
local seed = require "dwell.sandbox.rooms.seed"

local M = {}

local function list(t)
  return setmetatable(t or {}, json.array_mt)
end

local function api_error(status, code, message)
  return status, {}, { errorCode = code, message = message, referenceId = "sbx-" .. code:lower() }
end

local function bad(message)
  return api_error(400, "INVALID_REQUEST_PARAMETER", message)
end

local function int_param(params, name, default, min, max)
  local raw = params[name]
  if raw == nil or raw == "" then return default end
  local v = math.tointeger(tonumber(raw))
  if not v or (min and v < min) or (max and v > max) then
    return nil, name .. " must be an integer" .. (min and max and (" between " .. min .. " and " .. max) or "")
  end
  return v
end

-- Query booleans as a .NET server binds them: "true"/"True"/"TRUE".
local function truthy(v)
  return type(v) == "string" and v:lower() == "true"
end

local function starts_with(s, prefix)
  return type(s) == "string" and s:sub(1, #prefix):lower() == prefix:lower()
end

local function matches(u, filter)
  if not filter or filter == "" then return true end
  return starts_with(u.firstName, filter) or starts_with(u.lastName, filter) or starts_with(u.email, filter)
end

local SORTS = { firstnameasc = { "firstName", false }, firstnamedesc = { "firstName", true },
  lastnameasc = { "lastName", false }, lastnamedesc = { "lastName", true },
  emailasc = { "email", false }, emaildesc = { "email", true } }

local function sorted(items, sort, default)
  local key = SORTS[(sort or default):lower()]
  if not key then return nil end
  local field, desc = key[1], key[2]
  table.sort(items, function(a, b)
    local x, y = (a[field] or ""):lower(), (b[field] or ""):lower()
    if x == y then return a.userId < b.userId end
    if desc then return x > y end
    return x < y
  end)
  return items
end

local function query_without(params, drop)
  local keys = {}
  for k in pairs(params) do
    if not drop[k] then keys[#keys + 1] = k end
  end
  table.sort(keys)
  local support = require "dwell.sandbox.support"
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = support.encode(k) .. "=" .. support.encode(params[k]) end
  return table.concat(parts, "&")
end

-- One page of `items` under `key` with the documented paging fields.
local function page(req, items, key, project, extra)
  local p = req.params or {}
  local count, err = int_param(p, "count", 100, 1, 100)
  if not count then return bad(err) end
  local start
  start, err = int_param(p, "startPosition", 0, 0)
  if not start then return bad(err) end
  local out = list()
  for i = start + 1, math.min(#items, start + count) do out[#out + 1] = project(items[i]) end
  local n = #out
  local path = req.path:gsub("^/restapi", "")
  local rest = query_without(p, { startPosition = true, count = true })
  local function uri(s)
    return path .. "?startPosition=" .. s .. "&count=" .. count .. (rest ~= "" and ("&" .. rest) or "")
  end
  local body = { [key] = out, resultSetSize = n, startPosition = start, endPosition = start + n - 1,
    totalRowCount = #items,
    nextUri = (n > 0 and start + n < #items) and uri(start + n) or json.null,
    priorUri = start > 0 and uri(math.max(0, start - count)) or json.null }
  for k, v in pairs(extra or {}) do body[k] = v end
  return 200, {}, body
end

local function copy(t, fields)
  local c = {}
  for _, f in ipairs(fields) do c[f] = t[f] end
  return c
end

local ROOM_USER_SUMMARY = { "userId", "email", "firstName", "lastName", "transactionSideId", "roleId", "titleId",
  "companyName", "roleName" }
local ROOM_USER = { "userId", "email", "firstName", "lastName", "transactionSideId", "roleId", "isRevoked",
  "invitedByUserId" }
local ROOM_SUMMARY = { "roomId", "name", "officeId", "createdDate", "submittedForReviewDate", "closedDate",
  "rejectedDate", "createdByUserId", "rejectedByUserId", "closedStatusId", "fieldDataLastUpdatedDate" }
local ROOM = { "roomId", "companyId", "name", "officeId", "createdDate", "submittedForReviewDate", "closedDate",
  "rejectedDate", "createdByUserId", "roomOwnerIds", "rejectedByUserId", "closedStatusId",
  "fieldDataLastUpdatedDate" }
local USER_SUMMARY = { "userId", "email", "firstName", "lastName", "isLockedOut", "status", "accessLevel",
  "defaultOfficeId", "titleId", "roleId", "profileImageUrl" }
local SIDES = { buy = true, sell = true, listbuy = true, refi = true }

local function role_name(id)
  for _, r in ipairs(seed.ROLES) do
    if r.roleId == id then return r.name end
  end
  return nil
end

local function role_exists(id)
  return role_name(id) ~= nil
end

function M.new(st)
  local h = {}

  local function room_of(req)
    return st.data.room_by_id[math.tointeger(tonumber(req.captures.roomId))]
  end

  local function member(room, user_id)
    user_id = math.tointeger(tonumber(user_id))
    for _, u in ipairs(room.users) do
      if u.userId == user_id then return u end
    end
    return nil
  end

  local function revoked(u)
    return u.revokedAt ~= nil and u.revokedAt <= st.now()
  end

  local function room_user_view(u)
    local v = copy(u, ROOM_USER)
    v.isRevoked = revoked(u)
    return v
  end

  -- Rooms -----------------------------------------------------------------
  function h.rooms_list(req)
    local p = req.params or {}
    local wanted = {}
    for s in (p.roomStatus or "active"):lower():gmatch("[^,]+") do
      if s == "open" then wanted.active, wanted.pending = true, true
      elseif s == "active" or s == "pending" or s == "closed" then wanted[s] = true
      else return bad("roomStatus must be active, pending, open or closed") end
    end
    local office, err = int_param(p, "officeId", nil)
    if err then return bad(err) end
    local items = {}
    for _, r in ipairs(st.data.rooms) do
      if wanted[r.status] and (not office or r.officeId == office) then items[#items + 1] = r end
    end
    return page(req, items, "rooms", function(r) return copy(r, ROOM_SUMMARY) end)
  end

  function h.rooms_create(_, body)
    if type(body.name) ~= "string" or body.name == "" then return bad("name is required") end
    if not role_exists(body.roleId) then return bad("roleId is required and must name a role") end
    if body.transactionSideId ~= nil and not SIDES[body.transactionSideId] then
      return bad("transactionSideId must be buy, sell, listbuy or refi")
    end
    local id = st.data.next_room_id
    st.data.next_room_id = id + 1
    local now = os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(st.now()))
    local room = { roomId = id, companyId = 77, name = body.name, officeId = body.officeId or 10,
      createdDate = now, createdByUserId = 5001, roomOwnerIds = list({ body.ownerId or 5001 }), status = "active",
      fieldDataLastUpdatedDate = now, fieldData = body.fieldData or { data = {} }, users = {} }
    st.data.rooms[#st.data.rooms + 1] = room
    st.data.room_by_id[id] = room
    local v = copy(room, ROOM)
    v.fieldData = room.fieldData
    return 201, {}, v
  end

  function h.rooms_get(req)
    local room = room_of(req)
    if not room then return api_error(404, "ROOM_NOT_FOUND", "The room was not found.") end
    local v = copy(room, ROOM)
    v.roomOwnerIds = list(v.roomOwnerIds)
    if truthy((req.params or {}).includeFieldData) then v.fieldData = room.fieldData end
    return 200, {}, v
  end

  function h.rooms_delete(req)
    local room = room_of(req)
    if not room then return api_error(404, "ROOM_NOT_FOUND", "The room was not found.") end
    for i, r in ipairs(st.data.rooms) do
      if r == room then table.remove(st.data.rooms, i); break end
    end
    st.data.room_by_id[room.roomId] = nil
    return 204, {}, ""
  end

  function h.assignable_roles(req)
    if not room_of(req) then return api_error(404, "ROOM_NOT_FOUND", "The room was not found.") end
    local filter = (req.params or {}).filter
    local items = {}
    for _, r in ipairs(seed.ROLES) do
      if not filter or starts_with(r.name, filter) then items[#items + 1] = r end
    end
    return page(req, items, "roles", function(r) return copy(r, { "roleId", "legacyRoleId", "name",
      "isDefaultForAdmin", "isExternal" }) end, { currentRoleId = 3 })
  end

  -- Room users ----------------------------------------------------------------
  function h.room_users(req)
    local room = room_of(req)
    if not room then return 404, {}, "" end -- documented: 404 with no body
    local p = req.params or {}
    local items = {}
    for _, u in ipairs(room.users) do
      if not revoked(u) and matches(u, p.filter) then items[#items + 1] = u end
    end
    if not sorted(items, p.sort, "LastNameDesc") then
      return bad("sort must be one of FirstNameAsc, LastNameAsc, EmailAsc, FirstNameDesc, LastNameDesc, EmailDesc")
    end
    st.stats.room_user_pages = st.stats.room_user_pages + 1
    return page(req, items, "users", function(u)
      local v = copy(u, ROOM_USER_SUMMARY)
      v.roleName = role_name(u.roleId)
      return v
    end)
  end

  function h.room_invite(req, body)
    local room = room_of(req)
    if not room then return api_error(404, "ROOM_NOT_FOUND", "The room was not found.") end
    for _, f in ipairs({ "email", "firstName", "lastName" }) do
      if type(body[f]) ~= "string" or body[f] == "" then return bad(f .. " is required") end
    end
    if not role_exists(body.roleId) then return bad("roleId is required and must name a role") end
    if body.transactionSideId ~= nil and not SIDES[body.transactionSideId] then
      return bad("transactionSideId must be buy, sell, listbuy or refi")
    end
    for _, u in ipairs(room.users) do
      if u.email:lower() == body.email:lower() then
        return api_error(400, "ROOM_USER_ALREADY_EXISTS", "A user with this email is already in the room.")
      end
    end
    local id
    for _, p in ipairs(st.data.people) do
      if p.email == body.email:lower() then id = p.userId end
    end
    if not id then id = st.data.next_user_id; st.data.next_user_id = id + 1 end
    local u = { userId = id, email = body.email, firstName = body.firstName, lastName = body.lastName,
      transactionSideId = body.transactionSideId, roleId = body.roleId, companyName = "Dwell Realty",
      invitedByUserId = 5001 }
    room.users[#room.users + 1] = u
    local v = copy(u, { "userId", "email", "firstName", "lastName", "transactionSideId", "roleId" })
    v.roomId = room.roomId
    return 201, {}, v
  end

  local function room_member(req)
    local room = room_of(req)
    if not room then return nil, api_error(404, "ROOM_NOT_FOUND", "The room was not found.") end
    local u = member(room, req.captures.userId)
    if not u then return nil, api_error(404, "ROOM_USER_NOT_FOUND", "The user is not a member of the room.") end
    return u
  end

  function h.room_user_update(req, body)
    local u, s, hd, b = room_member(req)
    if not u then return s, hd, b end
    if body.roleId ~= nil and not role_exists(body.roleId) then return bad("roleId must name a role") end
    if body.transactionSideId ~= nil and not SIDES[body.transactionSideId] then
      return bad("transactionSideId must be buy, sell, listbuy or refi")
    end
    u.roleId = body.roleId or u.roleId
    u.transactionSideId = body.transactionSideId or u.transactionSideId
    return 200, {}, room_user_view(u)
  end

  local function parse_date(s)
    local y, mo, d, hh, mi, ss = tostring(s):match("^(%d%d%d%d)-(%d%d)-(%d%d)T?(%d?%d?):?(%d?%d?):?(%d?%d?)")
    if not y then return nil end
    -- os.time reads local time; shift by the offset of the epoch to get UTC.
    local t = os.time{ year = y, month = mo, day = d, hour = tonumber(hh) or 0, min = tonumber(mi) or 0,
      sec = tonumber(ss) or 0 }
    local utc0 = os.time(os.date("!*t", 0))
    return t - utc0
  end

  function h.revoke(req, body)
    local u, s, hd, b = room_member(req)
    if not u then return s, hd, b end
    local at = st.now()
    if body.revocationDate ~= nil then
      at = parse_date(body.revocationDate)
      if not at then return bad("revocationDate must be an ISO 8601 date-time") end
    end
    u.revokedAt = at
    return 204, {}, ""
  end

  function h.restore(req)
    local u, s, hd, b = room_member(req)
    if not u then return s, hd, b end
    u.revokedAt = nil
    return 204, {}, ""
  end

  -- Company users -----------------------------------------------------------------
  local function company_user(req)
    local id = math.tointeger(tonumber(req.captures.userId))
    for _, u in ipairs(st.data.company) do
      if u.userId == id then return u end
    end
    return nil, api_error(404, "USER_NOT_FOUND", "The user was not found.")
  end

  local function user_view(u)
    local v = copy(u, USER_SUMMARY)
    v.offices, v.regions = list(u.offices), list(u.regions)
    return v
  end

  function h.users_list(req)
    local p = req.params or {}
    local office, err = int_param(p, "defaultOfficeId", nil)
    if err then return bad(err) end
    local role
    role, err = int_param(p, "roleId", nil)
    if err then return bad(err) end
    local items = {}
    for _, u in ipairs(st.data.company) do
      local ok = matches(u, p.filter)
        and (not office or u.defaultOfficeId == office) and (not role or u.roleId == role)
        and (not p.accessLevel or u.accessLevel:lower() == p.accessLevel:lower())
        and (not p.status or u.status:lower() == p.status:lower())
        and (not truthy(p.lockedOnly) or u.isLockedOut)
      if ok then items[#items + 1] = u end
    end
    if not sorted(items, p.sort, "LastNameAsc") then
      return bad("sort must be one of FirstNameAsc, LastNameAsc, EmailAsc, FirstNameDesc, LastNameDesc, EmailDesc")
    end
    return page(req, items, "userSummaries", function(u) return copy(u, USER_SUMMARY) end)
  end

  function h.users_get(req)
    local u, s, hd, b = company_user(req)
    if not u then return s, hd, b end
    return 200, {}, user_view(u)
  end

  function h.users_update(req, body)
    local u, s, hd, b = company_user(req)
    if not u then return s, hd, b end
    if math.type(body.defaultOfficeId) ~= "integer" then return bad("defaultOfficeId is required") end
    u.defaultOfficeId = body.defaultOfficeId
    return 200, {}, user_view(u)
  end

  function h.users_remove(req)
    local u, s, hd, b = company_user(req)
    if not u then return s, hd, b end
    for i, x in ipairs(st.data.company) do
      if x == u then table.remove(st.data.company, i); break end
    end
    return 204, {}, ""
  end

  function h.users_invite(_, body)
    for _, f in ipairs({ "firstName", "lastName", "email", "accessLevel", "eSignPermissionProfileId" }) do
      if type(body[f]) ~= "string" or body[f] == "" then return bad(f .. " is required") end
    end
    if not role_exists(body.roleId) then return bad("roleId is required and must name a role") end
    if math.type(body.defaultOfficeId) ~= "integer" then return bad("defaultOfficeId is required") end
    if body.accessLevel == "Region" and type(body.regions) ~= "table" then return bad("regions is required") end
    if body.accessLevel == "Office" and type(body.offices) ~= "table" then return bad("offices is required") end
    for _, u in ipairs(st.data.company) do
      if u.email:lower() == body.email:lower() then
        return api_error(400, "USER_ALREADY_EXISTS", "A user with this email already exists in the company.")
      end
    end
    local id = st.data.next_user_id
    st.data.next_user_id = id + 1
    local u = { userId = id, email = body.email, firstName = body.firstName, lastName = body.lastName,
      isLockedOut = false, status = "Pending", accessLevel = body.accessLevel, defaultOfficeId = body.defaultOfficeId,
      roleId = body.roleId, offices = body.offices or { body.defaultOfficeId }, regions = body.regions or {} }
    st.data.company[#st.data.company + 1] = u
    return 201, {}, user_view(u)
  end

  function h.users_reinvite(req)
    local u, s, hd, b = company_user(req)
    if not u then return s, hd, b end
    if u.status ~= "Pending" then return bad("Only pending users can be reinvited.") end
    u.invitations = (u.invitations or 1) + 1
    return 204, {}, ""
  end

  function h.users_lock(req, body)
    local u, s, hd, b = company_user(req)
    if not u then return s, hd, b end
    if type(body.reason) ~= "string" or body.reason == "" then return bad("reason is required") end
    u.isLockedOut, u.lockReason = true, body.reason
    return 204, {}, ""
  end

  function h.users_unlock(req)
    local u, s, hd, b = company_user(req)
    if not u then return s, hd, b end
    u.isLockedOut, u.lockReason = false, nil
    return 204, {}, ""
  end

  local function membership(field, key, add)
    return function(req, body)
      local u, s, hd, b = company_user(req)
      if not u then return s, hd, b end
      local id = body[key]
      if math.type(id) ~= "integer" then return bad(key .. " is required") end
      local kept = {}
      for _, x in ipairs(u[field]) do
        if x ~= id then kept[#kept + 1] = x end
      end
      if add then kept[#kept + 1] = id end
      u[field] = kept
      return 204, {}, ""
    end
  end
  h.add_to_office = membership("offices", "officeId", true)
  h.remove_from_office = membership("offices", "officeId", false)
  h.add_to_region = membership("regions", "regionId", true)
  h.remove_from_region = membership("regions", "regionId", false)

  -- Supporting ---------------------------------------------------------------------
  function h.roles(req)
    local p = req.params or {}
    local items = {}
    for _, r in ipairs(seed.ROLES) do
      local assignable = not r.isDefaultForAdmin
      local ctx = (p.filterContext or "AllRoles"):lower()
      local keep = (ctx == "allroles" and not truthy(p.onlyAssignable)) or assignable
      if keep and (not p.filter or starts_with(r.name, p.filter)) then items[#items + 1] = r end
    end
    return page(req, items, "roles", function(r) return copy(r, { "roleId", "legacyRoleId", "name",
      "isDefaultForAdmin", "isExternal" }) end)
  end

  function h.account()
    return 200, {}, { companyId = 77, name = "Dwell Realty (sandbox)", companyVersion = "v6",
      docuSignAccountGuid = st.config.account_id, defaultFieldSetId = "4aef602b-0000-4000-8000-08d76696f678",
      requireOfficeLibraryAssignments = false }
  end

  function h.transaction_sides()
    return 200, {}, { transactionSides = list(seed.TRANSACTION_SIDES) }
  end

  return h
end

return M
