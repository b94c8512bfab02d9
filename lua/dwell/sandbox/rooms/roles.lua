--- The Rooms sandbox's company roles: the seeded six (dwell.sandbox.rooms.seed.ROLES) plus the
-- ones created through the API, with their permissions; list (filterContext, filter, paging),
-- get (includeIsAssigned), create, update, delete.
--
-- The live list is the model's (model.data.roles, a copy of the seed made on every reset; the
-- seed is never changed): the rooms, room-user and company-user routes look roles up there
-- (model:role), so a created role can be given to an invited user, a deleted one no longer.
-- Deleting a role still assigned to someone, or the administrators' default role, is refused
-- with a 400 (sandbox behaviour, unverified against DocuSign).
local json = require("dwell.core").json
local gateway = require "dwell.sandbox.rooms.gateway"
local params = require "dwell.sandbox.rooms.params"
local seed = require "dwell.sandbox.rooms.seed"

local M = {}

local CREATED = "2024-01-15T09:00:00Z"

-- The swagger's Permissions model: every field a boolean.
M.PERMISSIONS = { "canAddUsersToRooms", "canCreateRooms", "canSubmitRoomsForReview", "canCloseRooms",
  "canReopenRooms", "canDeleteOwnedRooms", "autoAccessToRooms", "canExportRoomActivityDetailsPeople",
  "canCopyRoomDetails", "canEditAnyRoomRole", "canEditInvitedRoomRole", "canEditRoomSide",
  "canManageAnyUserRoomAccess", "canManageInvitedUserRoomAccess", "isHiddenInRoom", "canManageRoomOwners",
  "canDeleteRooms", "canConnectToMortgageCadence", "autoAccessToRoomsInOfficeOnly", "canViewRoomDetails",
  "canViewAndEditRoomDetails", "canSendRoomDetailsToLoneWolf", "canAddDocuments", "canAddDocumentsFromFormGroups",
  "canAddDocumentsFromFormLibraries", "documentsViewableByOthersInRoomFromOffice", "documentsAutoOwnedByPeers",
  "canDeleteOwnedDocuments", "canDeleteSignedDocuments", "canDeleteUnsignedDocuments", "canManageSharedDocs",
  "canManageFormGroups", "canShareDocsNotOwned", "canCreateFormTemplates", "canManageFormPackets",
  "canAddTasksToAnyTaskLists", "canEditEditableTasks", "canEditAnyTasks", "canDeleteDeletableTasks",
  "canDeleteAnyTasks", "canApplyTaskList", "canRemoveAnyTaskList", "canSubmitTaskList", "canAutoSubmitTaskList",
  "canReviewTaskList", "canAutoApproveTaskList", "canManageTaskTemplatesForAllRegionsAllOffices",
  "canApplyRoomTemplates", "canAddTasksToRooms", "canReviewAnyTask", "canManageDocsOnAnyTask",
  "canAddMemberAndSetRoleLowerAccessLevel", "canAddMemberAndSetRoleSameAccessLevel",
  "canChangeMemberRoleLowerAccessLevel", "canChangeMemberRoleSameAccessLevel", "canManageMemberLowerAccessLevel",
  "canManageMemberSameAccessLevel", "canRemoveCompanyMemberLowerAccessLevel",
  "canRemoveCompanyMemberSameAccessLevel", "canManageAccount", "canManageLogo", "canManageRolesAndPermissions",
  "canManageRoomDetails", "canManageRoomTemplates", "canManageIntegrationSettings", "canExportCompanyUsageReport" }

local KNOWN = {}
for _, p in ipairs(M.PERMISSIONS) do KNOWN[p] = true end

-- What the seeded roles may do: everything (administrators), room work (agents, managers, TCs),
-- or nearly nothing (external buyers and sellers).
local AGENT = { canAddUsersToRooms = true, canCreateRooms = true, canSubmitRoomsForReview = true,
  canAddDocuments = true, canViewRoomDetails = true, canViewAndEditRoomDetails = true, canApplyTaskList = true,
  canAddTasksToRooms = true, canDeleteOwnedDocuments = true }
local MANAGER_EXTRA = { canCloseRooms = true, canReopenRooms = true, canManageAnyUserRoomAccess = true,
  canReviewTaskList = true, canManageFormGroups = true }

local function permissions_for(role)
  local out = {}
  for _, p in ipairs(M.PERMISSIONS) do
    if role.isDefaultForAdmin then out[p] = true
    elseif role.isExternal then out[p] = p == "canViewRoomDetails"
    else out[p] = AGENT[p] == true or (role.roleId == 2 and MANAGER_EXTRA[p] == true) end
  end
  return out
end

function M.seed(model)
  local roles = {}
  for i, r in ipairs(seed.ROLES) do
    local x = {}
    for k, v in pairs(r) do x[k] = v end
    x.createdDate = CREATED
    x.permissions = permissions_for(x)
    roles[i] = x
  end
  model.data.roles, model.data.next_role_id = roles, 7
end

local SUMMARY = { "roleId", "legacyRoleId", "name", "isDefaultForAdmin", "isExternal", "createdDate" }

local function find(model, id)
  for i, r in ipairs(model.data.roles) do
    if r.roleId == id then return r, i end
  end
  return nil
end

local function assigned(model, id)
  for _, u in ipairs(model.data.company) do
    if u.roleId == id then return true end
  end
  for _, room in ipairs(model.data.rooms) do
    for _, u in ipairs(room.users) do
      if u.roleId == id then return true end
    end
  end
  return false
end

local function view(model, r, with_assigned)
  local v = params.copy(r, SUMMARY)
  local perms = {}
  for _, p in ipairs(M.PERMISSIONS) do perms[p] = r.permissions[p] == true end
  v.permissions = perms
  if with_assigned then v.isAssigned = assigned(model, r.roleId) end
  return v
end

-- The body's permissions, checked: every key a known permission, every value a boolean.
local function permissions_of(body)
  local p = body.permissions
  if p == nil or p == json.null then return {} end
  if type(p) ~= "table" then return nil, "permissions must be an object" end
  for k, v in pairs(p) do
    if not KNOWN[k] then return nil, "permissions." .. tostring(k) .. " is not a permission" end
    if type(v) ~= "boolean" then return nil, "permissions." .. k .. " must be a boolean" end
  end
  return p
end

local function name_taken(model, name, except)
  for _, r in ipairs(model.data.roles) do
    if r ~= except and r.name:lower() == name:lower() then return true end
  end
  return false
end

function M.routes(model, account)
  local h = {}

  local function role_of(req)
    local r = find(model, params.id(req.captures.roleId))
    if not r then return nil, gateway.not_found("role", "ROLE_NOT_FOUND") end
    return r
  end

  function h.list(req)
    local p = req.params or {}
    local only, err = params.bool(p, "onlyAssignable", false)
    if err then return gateway.bad(err) end
    local ctx = (p.filterContext or "AllRoles"):lower()
    if ctx ~= "allroles" and ctx ~= "assignablerolesbasedonallpermissions"
      and ctx ~= "assignablerolesbasedoncompanypermissions" then
      return gateway.bad("filterContext must be AllRoles, AssignableRolesBasedOnAllPermissions or"
        .. " AssignableRolesBasedOnCompanyPermissions")
    end
    local items = {}
    for _, r in ipairs(model.data.roles) do
      local keep = (ctx == "allroles" and not only) or not r.isDefaultForAdmin
      if keep and (not p.filter or r.name:lower():sub(1, #p.filter) == p.filter:lower()) then
        items[#items + 1] = r
      end
    end
    return params.page(req, items, "roles", function(r) return params.copy(r, SUMMARY) end)
  end

  function h.get(req)
    local r, s, hd, b = role_of(req)
    if not r then return s, hd, b end
    local with, err = params.bool(req.params or {}, "includeIsAssigned", false)
    if err then return gateway.bad(err) end
    return 200, {}, view(model, r, with)
  end

  local function fields(body)
    if body.name ~= nil and (type(body.name) ~= "string" or body.name == "") then
      return nil, "name must be a non-empty string"
    end
    if body.isExternal ~= nil and type(body.isExternal) ~= "boolean" then return nil, "isExternal must be a boolean" end
    return permissions_of(body)
  end

  function h.create(_, body)
    local perms, err = fields(body)
    if not perms then return gateway.bad(err) end
    if body.name == nil then return gateway.bad("name is required") end
    if name_taken(model, body.name) then
      return gateway.error(400, "ROLE_ALREADY_EXISTS", "A role named " .. body.name .. " already exists.")
    end
    local id = model.data.next_role_id
    model.data.next_role_id = id + 1
    local r = { roleId = id, legacyRoleId = "custom-" .. id, name = body.name, isDefaultForAdmin = false,
      isExternal = body.isExternal == true, createdDate = params.now(model), permissions = {} }
    for k, v in pairs(perms) do r.permissions[k] = v end
    model.data.roles[#model.data.roles + 1] = r
    return 201, {}, view(model, r, false)
  end

  function h.update(req, body)
    local r, s, hd, b = role_of(req)
    if not r then return s, hd, b end
    local perms, err = fields(body)
    if not perms then return gateway.bad(err) end
    if body.name ~= nil then
      if name_taken(model, body.name, r) then
        return gateway.error(400, "ROLE_ALREADY_EXISTS", "A role named " .. body.name .. " already exists.")
      end
      r.name = body.name
    end
    if body.isExternal ~= nil then r.isExternal = body.isExternal end
    for k, v in pairs(perms) do r.permissions[k] = v end
    return 200, {}, view(model, r, false)
  end

  function h.delete(req)
    local r, s, hd, b = role_of(req)
    if not r then return s, hd, b end
    if r.isDefaultForAdmin then
      return gateway.error(400, "ROLE_IS_DEFAULT", "The administrators' default role cannot be deleted.")
    end
    if assigned(model, r.roleId) then
      return gateway.error(400, "ROLE_IN_USE", "The role is assigned to users; give them another role first.")
    end
    local _, i = find(model, r.roleId)
    table.remove(model.data.roles, i)
    return 204, {}, ""
  end

  return {
    { "GET", account .. "/roles", h.list },
    { "POST", account .. "/roles", h.create, true },
    { "GET", account .. "/roles/{roleId}", h.get },
    { "PUT", account .. "/roles/{roleId}", h.update, true },
    { "DELETE", account .. "/roles/{roleId}", h.delete },
  }
end

return M
