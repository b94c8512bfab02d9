--- The Rooms sandbox's company users (/restapi/v2/accounts/{accountId}/users...): listed
-- (filter, office, role, access level, status, locked, sort, paging), invited, read, updated,
-- removed, reinvited, locked and unlocked, added to and removed from offices and regions.
local gateway = require "dwell.sandbox.rooms.gateway"
local params = require "dwell.sandbox.rooms.params"

local M = {}

local USER_SUMMARY = { "userId", "email", "firstName", "lastName", "isLockedOut", "status", "accessLevel",
  "defaultOfficeId", "titleId", "roleId", "profileImageUrl" }

function M.routes(model, account)
  local h = {}

  -- Company users -----------------------------------------------------------------
  local function company_user(req)
    local id = math.tointeger(tonumber(req.captures.userId))
    for _, u in ipairs(model.data.company) do
      if u.userId == id then return u end
    end
    return nil, gateway.error(404, "USER_NOT_FOUND", "The user was not found.")
  end

  local function user_view(u)
    local v = params.copy(u, USER_SUMMARY)
    v.offices, v.regions = params.list(u.offices), params.list(u.regions)
    return v
  end

  function h.users_list(req)
    local p = req.params or {}
    local office, err = params.int(p, "defaultOfficeId", nil)
    if err then return gateway.bad(err) end
    local role
    role, err = params.int(p, "roleId", nil)
    if err then return gateway.bad(err) end
    local items = {}
    for _, u in ipairs(model.data.company) do
      local ok = params.matches(u, p.filter)
        and (not office or u.defaultOfficeId == office) and (not role or u.roleId == role)
        and (not p.accessLevel or u.accessLevel:lower() == p.accessLevel:lower())
        and (not p.status or u.status:lower() == p.status:lower())
        and (not params.truthy(p.lockedOnly) or u.isLockedOut)
      if ok then items[#items + 1] = u end
    end
    if not params.sorted(items, p.sort, "LastNameAsc") then
      return gateway.bad(params.SORT_ERROR)
    end
    return params.page(req, items, "userSummaries", function(u) return params.copy(u, USER_SUMMARY) end)
  end

  function h.users_get(req)
    local u, s, hd, b = company_user(req)
    if not u then return s, hd, b end
    return 200, {}, user_view(u)
  end

  function h.users_update(req, body)
    local u, s, hd, b = company_user(req)
    if not u then return s, hd, b end
    if math.type(body.defaultOfficeId) ~= "integer" then return gateway.bad("defaultOfficeId is required") end
    u.defaultOfficeId = body.defaultOfficeId
    return 200, {}, user_view(u)
  end

  function h.users_remove(req)
    local u, s, hd, b = company_user(req)
    if not u then return s, hd, b end
    for i, x in ipairs(model.data.company) do
      if x == u then table.remove(model.data.company, i); break end
    end
    return 204, {}, ""
  end

  function h.users_invite(_, body)
    for _, f in ipairs({ "firstName", "lastName", "email", "accessLevel", "eSignPermissionProfileId" }) do
      if type(body[f]) ~= "string" or body[f] == "" then return gateway.bad(f .. " is required") end
    end
    if not model:role(body.roleId) then return gateway.bad("roleId is required and must name a role") end
    if math.type(body.defaultOfficeId) ~= "integer" then return gateway.bad("defaultOfficeId is required") end
    if body.accessLevel == "Region" and type(body.regions) ~= "table" then return gateway.bad("regions is required") end
    if body.accessLevel == "Office" and type(body.offices) ~= "table" then return gateway.bad("offices is required") end
    for _, u in ipairs(model.data.company) do
      if u.email:lower() == body.email:lower() then
        return gateway.error(400, "USER_ALREADY_EXISTS", "A user with this email already exists in the company.")
      end
    end
    local id = model.data.next_user_id
    model.data.next_user_id = id + 1
    local u = { userId = id, email = body.email, firstName = body.firstName, lastName = body.lastName,
      isLockedOut = false, status = "Pending", accessLevel = body.accessLevel, defaultOfficeId = body.defaultOfficeId,
      roleId = body.roleId, offices = body.offices or { body.defaultOfficeId }, regions = body.regions or {} }
    model.data.company[#model.data.company + 1] = u
    return 201, {}, user_view(u)
  end

  function h.users_reinvite(req)
    local u, s, hd, b = company_user(req)
    if not u then return s, hd, b end
    if u.status ~= "Pending" then return gateway.bad("Only pending users can be reinvited.") end
    u.invitations = (u.invitations or 1) + 1
    return 204, {}, ""
  end

  function h.users_lock(req, body)
    local u, s, hd, b = company_user(req)
    if not u then return s, hd, b end
    if type(body.reason) ~= "string" or body.reason == "" then return gateway.bad("reason is required") end
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
      if math.type(id) ~= "integer" then return gateway.bad(key .. " is required") end
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

  return {
    { "GET", account .. "/users", h.users_list },
    { "POST", account .. "/users/invite_user", h.users_invite, true },
    { "GET", account .. "/users/{userId}", h.users_get },
    { "PUT", account .. "/users/{userId}", h.users_update, true },
    { "DELETE", account .. "/users/{userId}", h.users_remove },
    { "POST", account .. "/users/{userId}/reinvite", h.users_reinvite },
    { "POST", account .. "/users/{userId}/lock", h.users_lock, true },
    { "POST", account .. "/users/{userId}/unlock", h.users_unlock },
    { "POST", account .. "/users/{userId}/add_to_office", h.add_to_office, true },
    { "POST", account .. "/users/{userId}/remove_from_office", h.remove_from_office, true },
    { "POST", account .. "/users/{userId}/add_to_region", h.add_to_region, true },
    { "POST", account .. "/users/{userId}/remove_from_region", h.remove_from_region, true },
  }
end

return M
