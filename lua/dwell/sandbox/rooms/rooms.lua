--- The Rooms sandbox's rooms and room users (/restapi/v2/accounts/{accountId}/rooms...): rooms
-- listed (status, office, paging), created, read, deleted; a room's assignable roles; its users
-- listed (filter, sort, paging), invited, updated, revoked (now or at a date) and restored.
-- Errors are ApiError bodies, except GetRoomUsers' 404, which has no body (docs/vendors/rooms.md
-- §6 trap 4).
local gateway = require "dwell.sandbox.rooms.gateway"
local params = require "dwell.sandbox.rooms.params"

local M = {}

local ROOM_USER_SUMMARY = { "userId", "email", "firstName", "lastName", "transactionSideId", "roleId", "titleId",
  "companyName", "roleName" }
local ROOM_USER = { "userId", "email", "firstName", "lastName", "transactionSideId", "roleId", "isRevoked",
  "invitedByUserId" }
local ROOM_SUMMARY = { "roomId", "name", "officeId", "createdDate", "submittedForReviewDate", "closedDate",
  "rejectedDate", "createdByUserId", "rejectedByUserId", "closedStatusId", "fieldDataLastUpdatedDate" }
local ROOM = { "roomId", "companyId", "name", "officeId", "createdDate", "submittedForReviewDate", "closedDate",
  "rejectedDate", "createdByUserId", "roomOwnerIds", "rejectedByUserId", "closedStatusId",
  "fieldDataLastUpdatedDate" }
local ROLE = { "roleId", "legacyRoleId", "name", "isDefaultForAdmin", "isExternal" }
local SIDES = { buy = true, sell = true, listbuy = true, refi = true }
local SIDE_ERROR = "transactionSideId must be buy, sell, listbuy or refi"

local function room_not_found()
  return gateway.not_found("room", "ROOM_NOT_FOUND")
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

function M.routes(model, account)
  local h = {}

  local function room_of(req)
    return model.data.room_by_id[math.tointeger(tonumber(req.captures.roomId))]
  end

  local function member(room, user_id)
    user_id = math.tointeger(tonumber(user_id))
    for _, u in ipairs(room.users) do
      if u.userId == user_id then return u end
    end
    return nil
  end

  local function revoked(u)
    return u.revokedAt ~= nil and u.revokedAt <= model.now()
  end

  local function room_user_view(u)
    local v = params.copy(u, ROOM_USER)
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
      else return gateway.bad("roomStatus must be active, pending, open or closed") end
    end
    local office, err = params.int(p, "officeId", nil)
    if err then return gateway.bad(err) end
    local items = {}
    for _, r in ipairs(model.data.rooms) do
      if wanted[r.status] and (not office or r.officeId == office) then items[#items + 1] = r end
    end
    return params.page(req, items, "rooms", function(r) return params.copy(r, ROOM_SUMMARY) end)
  end

  function h.rooms_create(_, body)
    if type(body.name) ~= "string" or body.name == "" then return gateway.bad("name is required") end
    if not model:role(body.roleId) then return gateway.bad("roleId is required and must name a role") end
    if body.transactionSideId ~= nil and not SIDES[body.transactionSideId] then return gateway.bad(SIDE_ERROR) end
    local id = model.data.next_room_id
    model.data.next_room_id = id + 1
    local now = params.now(model)
    local room = { roomId = id, companyId = 77, name = body.name, officeId = body.officeId or 10,
      createdDate = now, createdByUserId = 5001, roomOwnerIds = params.list({ body.ownerId or 5001 }), status = "active",
      fieldDataLastUpdatedDate = now, fieldData = body.fieldData or { data = {} }, users = {} }
    model.data.rooms[#model.data.rooms + 1] = room
    model.data.room_by_id[id] = room
    local v = params.copy(room, ROOM)
    v.fieldData = room.fieldData
    return 201, {}, v
  end

  function h.rooms_get(req)
    local room = room_of(req)
    if not room then return room_not_found() end
    local v = params.copy(room, ROOM)
    v.roomOwnerIds = params.list(v.roomOwnerIds)
    if params.truthy((req.params or {}).includeFieldData) then v.fieldData = room.fieldData end
    return 200, {}, v
  end

  function h.rooms_delete(req)
    local room = room_of(req)
    if not room then return room_not_found() end
    for i, r in ipairs(model.data.rooms) do
      if r == room then table.remove(model.data.rooms, i); break end
    end
    model.data.room_by_id[room.roomId] = nil
    return 204, {}, ""
  end

  function h.assignable_roles(req)
    if not room_of(req) then return room_not_found() end
    local filter = (req.params or {}).filter
    local items = {}
    for _, r in ipairs(model.data.roles) do
      if not filter or params.starts_with(r.name, filter) then items[#items + 1] = r end
    end
    return params.page(req, items, "roles", function(r) return params.copy(r, ROLE) end,
      { currentRoleId = 3 })
  end

  -- Room users ----------------------------------------------------------------
  function h.room_users(req)
    local room = room_of(req)
    if not room then return 404, {}, "" end -- documented: 404 with no body
    local p = req.params or {}
    local items = {}
    for _, u in ipairs(room.users) do
      if not revoked(u) and params.matches(u, p.filter) then items[#items + 1] = u end
    end
    if not params.sorted(items, p.sort, "LastNameDesc") then
      return gateway.bad(params.SORT_ERROR)
    end
    model.stats.room_user_pages = model.stats.room_user_pages + 1
    return params.page(req, items, "users", function(u)
      local v = params.copy(u, ROOM_USER_SUMMARY)
      v.roleName = (model:role(u.roleId) or {}).name
      return v
    end)
  end

  function h.room_invite(req, body)
    local room = room_of(req)
    if not room then return room_not_found() end
    for _, f in ipairs({ "email", "firstName", "lastName" }) do
      if type(body[f]) ~= "string" or body[f] == "" then return gateway.bad(f .. " is required") end
    end
    if not model:role(body.roleId) then return gateway.bad("roleId is required and must name a role") end
    if body.transactionSideId ~= nil and not SIDES[body.transactionSideId] then return gateway.bad(SIDE_ERROR) end
    for _, u in ipairs(room.users) do
      if u.email:lower() == body.email:lower() then
        return gateway.error(400, "ROOM_USER_ALREADY_EXISTS", "A user with this email is already in the room.")
      end
    end
    local id
    for _, p in ipairs(model.data.people) do
      if p.email == body.email:lower() then id = p.userId end
    end
    if not id then id = model.data.next_user_id; model.data.next_user_id = id + 1 end
    local u = { userId = id, email = body.email, firstName = body.firstName, lastName = body.lastName,
      transactionSideId = body.transactionSideId, roleId = body.roleId, companyName = "Dwell Realty",
      invitedByUserId = 5001 }
    room.users[#room.users + 1] = u
    local v = params.copy(u, { "userId", "email", "firstName", "lastName", "transactionSideId", "roleId" })
    v.roomId = room.roomId
    return 201, {}, v
  end

  local function room_member(req)
    local room = room_of(req)
    if not room then return nil, room_not_found() end
    local u = member(room, req.captures.userId)
    if not u then return nil, gateway.error(404, "ROOM_USER_NOT_FOUND", "The user is not a member of the room.") end
    return u
  end

  function h.room_user_update(req, body)
    local u, s, hd, b = room_member(req)
    if not u then return s, hd, b end
    if body.roleId ~= nil and not model:role(body.roleId) then return gateway.bad("roleId must name a role") end
    if body.transactionSideId ~= nil and not SIDES[body.transactionSideId] then return gateway.bad(SIDE_ERROR) end
    u.roleId = body.roleId or u.roleId
    u.transactionSideId = body.transactionSideId or u.transactionSideId
    return 200, {}, room_user_view(u)
  end

  function h.revoke(req, body)
    local u, s, hd, b = room_member(req)
    if not u then return s, hd, b end
    local at = model.now()
    if body.revocationDate ~= nil then
      at = parse_date(body.revocationDate)
      if not at then return gateway.bad("revocationDate must be an ISO 8601 date-time") end
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

  return {
    { "GET", account .. "/rooms", h.rooms_list },
    { "POST", account .. "/rooms", h.rooms_create, true },
    { "GET", account .. "/rooms/{roomId}", h.rooms_get },
    { "DELETE", account .. "/rooms/{roomId}", h.rooms_delete },
    { "GET", account .. "/rooms/{roomId}/assignable_roles", h.assignable_roles },
    { "GET", account .. "/rooms/{roomId}/users", h.room_users },
    { "POST", account .. "/rooms/{roomId}/users", h.room_invite, true },
    { "PUT", account .. "/rooms/{roomId}/users/{userId}", h.room_user_update, true },
    { "POST", account .. "/rooms/{roomId}/users/{userId}/revoke_access", h.revoke, true },
    { "POST", account .. "/rooms/{roomId}/users/{userId}/restore_access", h.restore },
  }
end

return M
