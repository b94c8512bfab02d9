--- DocuSign Rooms API v2 endpoints, as data (see lua/dwell/api.lua for the format).
--
-- Naming: every path starts with /v2/accounts/{accountId}; that prefix is dropped and
-- the rest of the URL path gives the table path. A collection's GET is `list`, an
-- item's GET/PUT/DELETE are `get`/`update`/`delete` (`remove` for company users,
-- matching the vendor's "RemoveUser"), POST to a collection is `create` (`invite`
-- for users, as the vendor calls it), and action segments keep the vendor's word:
--
--   rooms.list                  GET    /rooms                                  Rooms_GetRooms
--   rooms.create                POST   /rooms                                  Rooms_CreateRoom
--   rooms.get                   GET    /rooms/{roomId}                         Rooms_GetRoom
--   rooms.delete                DELETE /rooms/{roomId}                         Rooms_DeleteRoom
--   rooms.assignable_roles.list GET    /rooms/{roomId}/assignable_roles        Rooms_GetAssignableRoles
--   rooms.users.list            GET    /rooms/{roomId}/users                   Rooms_GetRoomUsers
--   rooms.users.invite          POST   /rooms/{roomId}/users                   Rooms_InviteUser
--   rooms.users.update          PUT    /rooms/{roomId}/users/{userId}          Rooms_PutRoomUser
--   rooms.users.revoke_access   POST   /rooms/{roomId}/users/{userId}/revoke_access
--   rooms.users.restore_access  POST   /rooms/{roomId}/users/{userId}/restore_access
--   users.list                  GET    /users                                  Users_GetUsers
--   users.get | update | remove GET | PUT | DELETE /users/{userId}
--   users.invite                POST   /users/invite_user                      Users_InviteUser
--   users.reinvite | lock | unlock | add_to_office | remove_from_office |
--     add_to_region | remove_from_region   POST /users/{userId}/<action>
--   roles.list                  GET    /roles                                  Roles_GetRoles
--   account.get                 GET    /v2/accounts/{accountId}                Accounts_GetAccountInformation
--   transaction_sides.list      GET    /v2/transaction_sides                   (no account prefix)
--
-- Arguments are snake_case; `wire` is the vendor's camelCase spelling (also accepted).
-- `required_when = { { field, other, value }, ... }`: field is required when other = value
-- (checked by the client before any I/O).
-- `account_id` comes from the client's config. Params with `canonical` are matched
-- case-insensitively and sent in the spelling the API documents (docs/vendors/rooms.md §6.1).

local ACCOUNT = { "account_id", "path", "string", wire = "accountId", required = true, from_client = true,
  min_length = 1 }
local ROOM = { "room_id", "path", "integer", wire = "roomId", required = true, min = 1 }
local USER = { "user_id", "path", "integer", wire = "userId", required = true, min = 1 }
local START = { "start_position", "query", "integer", wire = "startPosition", min = 0 }
local COUNT = { "count", "query", "integer", min = 1, max = 100 }

local TRANSACTION_SIDES = { "buy", "sell", "listbuy", "refi" }
local ACCESS_LEVELS = { "Contributor", "Office", "Region", "Company", "Admin" }

-- Case-insensitive enum: `check` validates, `canonical` maps lower-case -> wire spelling.
local function ci_enum(values, aliases)
  local canonical, shown = {}, {}
  for i, v in ipairs(values) do canonical[v:lower()] = v; shown[i] = v end
  for alias, v in pairs(aliases or {}) do canonical[alias:lower()] = v end
  local rule = "must be one of " .. table.concat(shown, ", ") .. " (any letter case)"
  local function check(v)
    for part in tostring(v):gmatch("[^,]+") do
      if not canonical[part:lower()] then return rule end
    end
    return nil
  end
  return check, canonical
end

-- GetRoomUsers documents camelCase firstNameAsc..lastNameDesc; the spec's
-- RoomUserSortingOption is PascalCase and adds EmailAsc/EmailDesc. Sent PascalCase.
local sort_check, sort_canonical = ci_enum({ "FirstNameAsc", "LastNameAsc", "EmailAsc",
  "FirstNameDesc", "LastNameDesc", "EmailDesc" })
local status_check, status_canonical = ci_enum({ "active", "pending", "open", "closed" })
local level_check, level_canonical = ci_enum(ACCESS_LEVELS)
local ustatus_check, ustatus_canonical = ci_enum({ "Active", "Pending" })
local context_check, context_canonical = ci_enum({ "AllRoles", "AssignableRolesBasedOnAllPermissions",
  "AssignableRolesBasedOnCompanyPermissions" })

local function paged(items)
  return { style = "offset", start = "start_position", size = "count", items = items, default_size = 100 }
end

local function body(name, wire, typ, extra)
  local p = { name, "body", typ, wire = wire }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local INT_LIST = { type = "integer", min = 1 }

local ENDPOINTS = {
  -- Rooms ---------------------------------------------------------------
  { name = "rooms.list", method = "GET", path = "/v2/accounts/{accountId}/rooms",
    summary = "Lists rooms (Rooms_GetRooms)", operation = "Rooms_GetRooms",
    paging = paged("rooms"),
    params = { ACCOUNT, COUNT, START,
      { "room_status", "query", "array", wire = "roomStatus", join = ",",
        items = { type = "string", check = status_check }, canonical = status_canonical },
      { "office_id", "query", "integer", wire = "officeId" },
      { "field_data_changed_start_date", "query", "string", wire = "fieldDataChangedStartDate" },
      { "field_data_changed_end_date", "query", "string", wire = "fieldDataChangedEndDate" },
      { "room_closed_start_date", "query", "string", wire = "roomClosedStartDate" },
      { "room_closed_end_date", "query", "string", wire = "roomClosedEndDate" } } },
  { name = "rooms.create", method = "POST", path = "/v2/accounts/{accountId}/rooms",
    summary = "Creates a room (Rooms_CreateRoom)", operation = "Rooms_CreateRoom",
    params = { ACCOUNT,
      body("name", "name", "string", { required = true, min_length = 1 }),
      body("role_id", "roleId", "integer", { required = true }),
      body("transaction_side_id", "transactionSideId", "string", { enum = TRANSACTION_SIDES }),
      body("owner_id", "ownerId", "integer"),
      body("template_id", "templateId", "integer"),
      body("office_id", "officeId", "integer"),
      body("field_data", "fieldData", "object"),
      body("listing_source", "listingSource", "string", { enum = { "PublicRecords", "MLS" } }) } },
  { name = "rooms.get", method = "GET", path = "/v2/accounts/{accountId}/rooms/{roomId}",
    summary = "Gets a room (Rooms_GetRoom)", operation = "Rooms_GetRoom",
    params = { ACCOUNT, ROOM, { "include_field_data", "query", "boolean", wire = "includeFieldData" } } },
  { name = "rooms.delete", method = "DELETE", path = "/v2/accounts/{accountId}/rooms/{roomId}",
    summary = "Deletes a room (Rooms_DeleteRoom)", operation = "Rooms_DeleteRoom",
    params = { ACCOUNT, ROOM } },
  { name = "rooms.assignable_roles.list", method = "GET",
    path = "/v2/accounts/{accountId}/rooms/{roomId}/assignable_roles",
    summary = "Roles the caller can assign in a room (Rooms_GetAssignableRoles)",
    operation = "Rooms_GetAssignableRoles", paging = paged("roles"),
    params = { ACCOUNT, ROOM, { "assignee_email", "query", "string", wire = "assigneeEmail" },
      { "filter", "query", "string" }, START, COUNT } },

  -- Room users ------------------------------------------------------------
  { name = "rooms.users.list", method = "GET", path = "/v2/accounts/{accountId}/rooms/{roomId}/users",
    summary = "Lists the users of a room (Rooms_GetRoomUsers)", operation = "Rooms_GetRoomUsers",
    paging = paged("users"),
    params = { ACCOUNT, ROOM, COUNT, START, { "filter", "query", "string" },
      { "sort", "query", "string", check = sort_check, canonical = sort_canonical } } },
  { name = "rooms.users.invite", method = "POST", path = "/v2/accounts/{accountId}/rooms/{roomId}/users",
    summary = "Invites a user to a room (Rooms_InviteUser)", operation = "Rooms_InviteUser",
    params = { ACCOUNT, ROOM,
      body("email", "email", "string", { required = true, min_length = 3 }),
      body("first_name", "firstName", "string", { required = true, min_length = 1 }),
      body("last_name", "lastName", "string", { required = true, min_length = 1 }),
      body("role_id", "roleId", "integer", { required = true }),
      body("transaction_side_id", "transactionSideId", "string", { enum = TRANSACTION_SIDES }) } },
  { name = "rooms.users.update", method = "PUT", path = "/v2/accounts/{accountId}/rooms/{roomId}/users/{userId}",
    summary = "Updates a room user's role or side (Rooms_PutRoomUser)", operation = "Rooms_PutRoomUser",
    params = { ACCOUNT, ROOM, USER,
      body("role_id", "roleId", "integer"),
      body("transaction_side_id", "transactionSideId", "string", { enum = TRANSACTION_SIDES }) } },
  { name = "rooms.users.revoke_access", method = "POST",
    path = "/v2/accounts/{accountId}/rooms/{roomId}/users/{userId}/revoke_access",
    summary = "Revokes a user's access to a room (Rooms_RevokeRoomUserAccess)",
    operation = "Rooms_RevokeRoomUserAccess",
    params = { ACCOUNT, ROOM, USER, body("revocation_date", "revocationDate", "datetime") } },
  { name = "rooms.users.restore_access", method = "POST",
    path = "/v2/accounts/{accountId}/rooms/{roomId}/users/{userId}/restore_access",
    summary = "Restores a revoked user's access to a room (Rooms_RestoreRoomUserAccess)",
    operation = "Rooms_RestoreRoomUserAccess",
    params = { ACCOUNT, ROOM, USER } },

  -- Company users ---------------------------------------------------------
  { name = "users.list", method = "GET", path = "/v2/accounts/{accountId}/users",
    summary = "Lists the company's users (Users_GetUsers)", operation = "Users_GetUsers",
    paging = paged("userSummaries"),
    params = { ACCOUNT, { "filter", "query", "string" },
      { "sort", "query", "string", check = sort_check, canonical = sort_canonical },
      { "default_office_id", "query", "integer", wire = "defaultOfficeId" },
      { "access_level", "query", "string", wire = "accessLevel", check = level_check, canonical = level_canonical },
      { "title_id", "query", "integer", wire = "titleId" },
      { "role_id", "query", "integer", wire = "roleId" },
      { "status", "query", "string", check = ustatus_check, canonical = ustatus_canonical },
      { "locked_only", "query", "boolean", wire = "lockedOnly" },
      START, COUNT } },
  { name = "users.get", method = "GET", path = "/v2/accounts/{accountId}/users/{userId}",
    summary = "Gets a company user (Users_GetUser)", operation = "Users_GetUser", params = { ACCOUNT, USER } },
  { name = "users.update", method = "PUT", path = "/v2/accounts/{accountId}/users/{userId}",
    summary = "Sets a user's default office (Users_UpdateUser)", operation = "Users_UpdateUser",
    params = { ACCOUNT, USER, body("default_office_id", "defaultOfficeId", "integer", { required = true }) } },
  { name = "users.remove", method = "DELETE", path = "/v2/accounts/{accountId}/users/{userId}",
    summary = "Removes a user from the whole company account (Users_RemoveUser)",
    operation = "Users_RemoveUser", params = { ACCOUNT, USER } },
  { name = "users.invite", method = "POST", path = "/v2/accounts/{accountId}/users/invite_user",
    summary = "Invites a user to the company (Users_InviteUser)", operation = "Users_InviteUser",
    -- UserToInvite: regions is required when accessLevel = Region, offices when Office.
    required_when = { { "regions", "access_level", "Region" }, { "offices", "access_level", "Office" } },
    params = { ACCOUNT,
      body("first_name", "firstName", "string", { required = true, min_length = 1 }),
      body("last_name", "lastName", "string", { required = true, min_length = 1 }),
      body("email", "email", "string", { required = true, min_length = 3 }),
      body("role_id", "roleId", "integer", { required = true }),
      body("access_level", "accessLevel", "string", { required = true, enum = ACCESS_LEVELS }),
      body("default_office_id", "defaultOfficeId", "integer", { required = true }),
      body("e_sign_permission_profile_id", "eSignPermissionProfileId", "string", { required = true }),
      body("regions", "regions", "array", { items = INT_LIST }),
      body("offices", "offices", "array", { items = INT_LIST }),
      body("subscribe_to_rooms_activity_notifications", "subscribeToRoomsActivityNotifications", "boolean"),
      body("redirect_url", "redirectUrl", "string") } },
  { name = "users.reinvite", method = "POST", path = "/v2/accounts/{accountId}/users/{userId}/reinvite",
    summary = "Resends a pending user's invitation (Users_ReinviteUser)", operation = "Users_ReinviteUser",
    params = { ACCOUNT, USER } },
  { name = "users.lock", method = "POST", path = "/v2/accounts/{accountId}/users/{userId}/lock",
    summary = "Locks a user out (Users_LockUser)", operation = "Users_LockUser",
    params = { ACCOUNT, USER, body("reason", "reason", "string", { required = true, min_length = 1 }) } },
  { name = "users.unlock", method = "POST", path = "/v2/accounts/{accountId}/users/{userId}/unlock",
    summary = "Unlocks a user (Users_UnlockUser)", operation = "Users_UnlockUser",
    params = { ACCOUNT, USER } },
  { name = "users.add_to_office", method = "POST", path = "/v2/accounts/{accountId}/users/{userId}/add_to_office",
    summary = "Adds a user to an office (Users_AddUserToOffice)", operation = "Users_AddUserToOffice",
    params = { ACCOUNT, USER, body("office_id", "officeId", "integer", { required = true }) } },
  { name = "users.remove_from_office", method = "POST",
    path = "/v2/accounts/{accountId}/users/{userId}/remove_from_office",
    summary = "Removes a user from an office (Users_RemoveUserFromOffice)",
    operation = "Users_RemoveUserFromOffice",
    params = { ACCOUNT, USER, body("office_id", "officeId", "integer", { required = true }) } },
  { name = "users.add_to_region", method = "POST", path = "/v2/accounts/{accountId}/users/{userId}/add_to_region",
    summary = "Adds a user to a region (Users_AddUserToRegion)", operation = "Users_AddUserToRegion",
    params = { ACCOUNT, USER, body("region_id", "regionId", "integer", { required = true }) } },
  { name = "users.remove_from_region", method = "POST",
    path = "/v2/accounts/{accountId}/users/{userId}/remove_from_region",
    summary = "Removes a user from a region (Users_RemoveUserFromRegion)",
    operation = "Users_RemoveUserFromRegion",
    params = { ACCOUNT, USER, body("region_id", "regionId", "integer", { required = true }) } },

  -- Supporting --------------------------------------------------------------
  { name = "roles.list", method = "GET", path = "/v2/accounts/{accountId}/roles",
    summary = "Lists the company's roles (Roles_GetRoles)", operation = "Roles_GetRoles",
    paging = paged("roles"),
    params = { ACCOUNT,
      { "only_assignable", "query", "boolean", wire = "onlyAssignable" },
      { "filter_context", "query", "string", wire = "filterContext", check = context_check,
        canonical = context_canonical },
      { "filter", "query", "string" }, START, COUNT } },
  { name = "account.get", method = "GET", path = "/v2/accounts/{accountId}",
    summary = "Gets account information (Accounts_GetAccountInformation)",
    operation = "Accounts_GetAccountInformation", params = { ACCOUNT } },
  { name = "transaction_sides.list", method = "GET", path = "/v2/transaction_sides",
    summary = "Lists transaction sides (buy, sell, listbuy, refi)", operation = "TransactionSides_GetTransactionSides",
    params = {} },
}

-- No declaration is marked idempotent: the engine's default (reads only, dwell.retry) is the
-- vendor's rule. A repeated PUT, DELETE or action POST may fail where the first one (unseen)
-- succeeded, so a write is sent again only when the server said it was not processed.

return ENDPOINTS
