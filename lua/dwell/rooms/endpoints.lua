--- DocuSign Rooms API v2 endpoints, as data (see lua/dwell/api.lua for the format): every
-- operation of the vendor's swagger (spec/fixtures/rooms-v2.swagger.json, 89 operations).
--
-- Naming: every path starts with /v2/accounts/{accountId}; that prefix is dropped and
-- the rest of the URL path gives the table path (the lookups under /v2/<list> have no account
-- prefix). A collection's GET is `list`, a single resource's GET/PUT/DELETE are
-- `get`/`update`/`delete` (`remove` for company users, matching the vendor's "RemoveUser"),
-- POST to a collection is `create` (`invite` for users, as the vendor calls it), and action
-- segments keep the vendor's word:
--
--   rooms.list                      GET    /rooms                                  Rooms_GetRooms
--   rooms.create                    POST   /rooms                                  Rooms_CreateRoom
--   rooms.get                       GET    /rooms/{roomId}                         Rooms_GetRoom
--   rooms.delete                    DELETE /rooms/{roomId}                         Rooms_DeleteRoom
--   rooms.assignable_roles.list     GET    /rooms/{roomId}/assignable_roles        Rooms_GetAssignableRoles
--   rooms.documents.list            GET    /rooms/{roomId}/documents               Rooms_GetDocuments
--   rooms.documents.create          POST   /rooms/{roomId}/documents               Rooms_AddDocumentToRoom (JSON, base64)
--   rooms.documents.contents.create POST   /rooms/{roomId}/documents/contents      Rooms_AddDocumentToRoomViaFileUpload (multipart)
--   rooms.envelopes.create          POST   /rooms/{roomId}/envelopes               RoomEnvelopes_CreateRoomEnvelope
--   rooms.field_data.get            GET    /rooms/{roomId}/field_data              Rooms_GetRoomFieldData
--   rooms.field_data.update         PUT    /rooms/{roomId}/field_data              Rooms_UpdateRoomFieldData
--   rooms.field_set.get             GET    /rooms/{roomId}/field_set               Rooms_GetRoomFieldSet
--   rooms.forms.create              POST   /rooms/{roomId}/forms                   Rooms_AddFormToRoom
--   rooms.picture.update            PUT    /rooms/{roomId}/picture                 Rooms_UpdatePicture (multipart)
--   rooms.room_folders.list         GET    /rooms/{roomId}/room_folders            RoomFolders_GetRoomFolders
--   rooms.task_lists.list           GET    /rooms/{roomId}/task_lists              TaskLists_GetTaskLists
--   rooms.task_lists.create         POST   /rooms/{roomId}/task_lists              TaskLists_CreateTaskList
--   rooms.users.list                GET    /rooms/{roomId}/users                   Rooms_GetRoomUsers
--   rooms.users.invite              POST   /rooms/{roomId}/users                   Rooms_InviteUser
--   rooms.users.update              PUT    /rooms/{roomId}/users/{userId}          Rooms_PutRoomUser
--   rooms.users.revoke_access       POST   /rooms/{roomId}/users/{userId}/revoke_access   Rooms_RevokeRoomUserAccess
--   rooms.users.restore_access      POST   /rooms/{roomId}/users/{userId}/restore_access  Rooms_RestoreRoomUserAccess
--   users.list                      GET    /users                                  Users_GetUsers
--   users.get | update | remove     GET | PUT | DELETE /users/{userId}             Users_GetUser | Users_UpdateUser | Users_RemoveUser
--   users.invite                    POST   /users/invite_user                      Users_InviteUser
--   users.reinvite | lock | unlock  POST   /users/{userId}/<action>                Users_ReinviteUser | Users_LockUser | Users_UnlockUser
--   users.add_to_office | remove_from_office   POST /users/{userId}/<action>       Users_AddUserToOffice | Users_RemoveUserFromOffice
--   users.add_to_region | remove_from_region   POST /users/{userId}/<action>       Users_AddUserToRegion | Users_RemoveUserFromRegion
--   roles.list                      GET    /roles                                  Roles_GetRoles
--   roles.create                    POST   /roles                                  Roles_CreateRole
--   roles.get | update | delete     GET | PUT | DELETE /roles/{roleId}             Roles_GetRole | Roles_UpdateRole | Roles_DeleteRole
--   offices.list                    GET    /offices                                Offices_GetOffices
--   offices.create                  POST   /offices                                Offices_CreateOffice
--   offices.get | delete            GET | DELETE /offices/{officeId}               Offices_GetOffice | Offices_DeleteOffice
--   offices.reference_counts.list   GET    /offices/{officeId}/reference_counts    Offices_GetReferenceCounts
--   regions.list                    GET    /regions                                Regions_GetRegions
--   regions.create                  POST   /regions                                Regions_CreateRegion
--   regions.get | delete            GET | DELETE /regions/{regionId}               Regions_GetRegion | Regions_DeleteRegion
--   regions.reference_counts.list   GET    /regions/{regionId}/reference_counts    Regions_GetRegionReferenceCounts
--   documents.get | delete          GET | DELETE /documents/{documentId}           Documents_GetDocument | Documents_DeleteDocument
--   documents.users.create          POST   /documents/{documentId}/users           Documents_CreateDocumentUser
--   task_lists.delete               DELETE /task_lists/{taskListId}                TaskLists_DeleteTaskList
--   task_list_templates.list        GET    /task_list_templates                    TaskListTemplates_GetTaskListTemplates
--   room_templates.list             GET    /room_templates                         RoomTemplates_GetRoomTemplates
--   form_groups.list                GET    /form_groups                            FormGroups_GetFormGroups
--   form_groups.create              POST   /form_groups                            FormGroups_CreateFormGroup
--   form_groups.get | update | delete   GET | PUT | DELETE /form_groups/{formGroupId}
--                                   FormGroups_GetFormGroup | FormGroups_RenameFormGroup | FormGroups_DeleteFormGroup
--   form_groups.forms.list          GET    /form_groups/{formGroupId}/forms        FormGroupForms_GetFormGroupForms
--   form_groups.assign_form         POST   /form_groups/{formGroupId}/assign_form  FormGroups_AssignFormGroupForm
--   form_groups.unassign_form       POST   /form_groups/{formGroupId}/unassign_form/{formId}   FormGroups_RemoveFormGroupForm
--   form_groups.grant_office_access POST   /form_groups/{formGroupId}/grant_office_access/{officeId}
--                                   FormGroups_GrantOfficeAccessToFormGroup
--   form_groups.revoke_office_access POST  /form_groups/{formGroupId}/revoke_office_access/{officeId}
--                                   FormGroups_RevokeOfficeAccessFromFormGroup
--   form_libraries.list             GET    /form_libraries                         FormLibraries_GetFormLibraries
--   form_libraries.forms.list       GET    /form_libraries/{formLibraryId}/forms   FormLibraries_GetFormLibraryForms
--   forms.details.get               GET    /forms/{formId}/details                 FormDetails_GetFormDetails
--   form_providers.associations.list GET   /form_providers/{providerId}/associations
--                                   FormProviderAssociations_GetFormProviderAssociations
--   external_form_fill_sessions.create POST /external_form_fill_sessions          ExternalFormFillSessions_CreateExternalFormFillSession
--   field_sets.get                  GET    /field_sets/{fieldSetId}                Fields_GetFieldSet
--   esign_permission_profiles.list  GET    /esign_permission_profiles              ESignPermissionProfiles_GetESignPermissionProfiles
--   account.get                     GET    /v2/accounts/{accountId}                Accounts_GetAccountInformation
--   Lookups, GET /v2/<name> (no account prefix), each `<name>.list`:
--   closing_statuses                ClosingStatuses_GetClosingStatuses
--   contact_sides                   ContactSides_GetContactSides
--   countries                       Countries_GetCountries
--   currencies                      Currencies_GetCurrencies
--   financing_types                 FinancingTypes_GetFinancingTypes
--   origins_of_leads                OriginsOfLeads_GetOriginsOfLeads
--   property_types                  PropertyTypes_GetPropertyTypes
--   room_contact_types              RoomContactTypes_GetRoomContactTypes
--   seller_decision_types           SellerDecisionTypes_GetSellerDecisionTypes
--   special_circumstance_types      SpecialCircumstanceTypes_GetSpecialCircumstanceTypes
--   states                          States_GetStates
--   task_date_types                 TaskDateTypes_GetTaskDateTypes
--   task_responsibility_types       TaskResponsibilityTypes_GetTaskResponsibilityTypes
--   task_statuses                   TaskStatuses_GetTaskStatuses
--   time_zones                      TimeZones_GetTimeZones
--   transaction_sides               TransactionSides_GetTransactionSides
--
-- form_groups.update is the vendor's "RenameFormGroup" (a PUT of the name). Lists that come
-- whole (the lookups, permission profiles, a room's task lists, reference counts) have paging
-- style "single", so :each and :all work on them as on the paged ones.
--
-- Arguments are snake_case; `wire` is the vendor's camelCase spelling (also accepted). A body
-- field repeating a path parameter's name is body_<name> (Document.roomId: body_room_id).
-- A body field is required where the model's `required` list says so, and where the model
-- leaves it out but documents the field "(Required)" (TaskListForCreate.taskListTemplateId).
-- `required_when = { { field, other, value }, ... }`: field is required when other = value;
-- `required_one_of = { { a, b } }`: a or b must be given (checked by the client before any I/O).
-- `account_id` comes from the client's config. Params with `canonical` are matched
-- case-insensitively and sent in the spelling the API documents (docs/vendors/rooms.md §6.1).
-- `vendor_default` is what the server assumes when a parameter is left out (never sent).
-- Uploads (documents, the room picture) take the contents as a Lua string or `path` = a file
-- to read (dwell.rooms.upload).

local upload = require "dwell.rooms.upload"

local ACCOUNT = { "account_id", "path", "string", wire = "accountId", required = true, from_client = true,
  min_length = 1 }
local ROOM = { "room_id", "path", "integer", wire = "roomId", required = true, min = 1 }
local USER = { "user_id", "path", "integer", wire = "userId", required = true, min = 1 }
local START = { "start_position", "query", "integer", wire = "startPosition", min = 0, vendor_default = 0 }
local COUNT = { "count", "query", "integer", min = 1, max = 100, vendor_default = 100 }

-- Path ids: the int32 ids the service assigns, and the GUIDs of forms, form groups, form
-- libraries and field sets.
local function int_id(name, wire)
  return { name, "path", "integer", wire = wire, required = true, min = 1 }
end
local function uuid_id(name, wire)
  return { name, "path", "uuid", wire = wire, required = true }
end
local OFFICE = int_id("office_id", "officeId")
local REGION = int_id("region_id", "regionId")
local ROLE = int_id("role_id", "roleId")
local DOCUMENT = int_id("document_id", "documentId")
local TASK_LIST = int_id("task_list_id", "taskListId")
local FORM_GROUP = uuid_id("form_group_id", "formGroupId")
local FORM = uuid_id("form_id", "formId")
local FORM_LIBRARY = uuid_id("form_library_id", "formLibraryId")
local FIELD_SET = uuid_id("field_set_id", "fieldSetId")

-- A query flag and the value the server assumes without it.
local function flag(name, wire, default)
  return { name, "query", "boolean", wire = wire, vendor_default = default }
end

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

-- `id`: the field that names an item (the Swagger schema's own id), for the repeat check of
-- dwell.paging; never a field items share (a document's roomId, a room's officeId).
local function paged(items, id)
  return { style = "offset", start = "start_position", size = "count", items = items, default_size = 100, id = id }
end

-- A list the API answers whole, in one response.
local function whole(items)
  return { style = "single", items = items }
end

local function body(name, wire, typ, extra)
  local p = { name, "body", typ, wire = wire }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local INT_LIST = { type = "integer", min = 1 }

-- FieldDataForCreate: { data = { name = value, ... } }, the names those of the room's field set.
local FIELD_DATA = { { "data", nil, "object" } }

-- Body strings: required ones must not be empty; none may carry CR, LF or NUL where they end up
-- in a header (file names).
local NAME = { required = true, min_length = 1 }
local function no_controls(v)
  if tostring(v):find("[%z\r\n]") then return "must not contain CR, LF or NUL" end
  return nil
end

-- The role model's permissions (swagger definition Permissions): every one a boolean.
local PERMISSIONS = { "canAddUsersToRooms", "canCreateRooms", "canSubmitRoomsForReview", "canCloseRooms",
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

local function snake(wire)
  return (wire:gsub("(%u)", function(c) return "_" .. c:lower() end))
end

local PERMISSION_FIELDS = {}
for i, w in ipairs(PERMISSIONS) do PERMISSION_FIELDS[i] = { name = snake(w), wire = w, type = "boolean" } end

-- RoleForCreate / RoleForUpdate (the same model): nothing is required.
local function role_body()
  return { body("name", "name", "string", { min_length = 1 }),
    body("is_external", "isExternal", "boolean"),
    body("permissions", "permissions", "object", { fields = PERMISSION_FIELDS }) }
end

local function with(list, ...)
  local out = {}
  for _, p in ipairs(list) do out[#out + 1] = p end
  for _, p in ipairs({ ... }) do out[#out + 1] = p end
  return out
end

-- The multipart uploads' parameters: the swagger's one formData part `file` (the contents as a
-- Lua string) and local ones: `path` (a file to read instead), the part's file name and type.
local function file_params(max)
  return { { "file", "formData", "file", max_bytes = max },
    { "path", "local", "string", min_length = 1 },
    { "file_name", "local", "string", min_length = 1, check = no_controls },
    { "content_type", "local", "string", pattern = "^[%w!#$&^_.+-]+/[%w!#$&^_.+-]+$",
      pattern_rule = "must be a media type such as application/pdf" } }
end

local ENDPOINTS = {
  -- Rooms ---------------------------------------------------------------
  { name = "rooms.list", method = "GET", path = "/v2/accounts/{accountId}/rooms",
    summary = "Lists rooms (Rooms_GetRooms). Without room_status only ACTIVE rooms are listed: pending and"
      .. " closed rooms are left out; room_status = { \"open\", \"closed\" } lists every room",
    operation = "Rooms_GetRooms",
    paging = paged("rooms", "roomId"),
    params = { ACCOUNT, COUNT, START,
      { "room_status", "query", "array", wire = "roomStatus", join = ",", vendor_default = "active",
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
      body("field_data", "fieldData", "object", { fields = FIELD_DATA }),
      body("listing_source", "listingSource", "string", { enum = { "PublicRecords", "MLS" } }) } },
  { name = "rooms.get", method = "GET", path = "/v2/accounts/{accountId}/rooms/{roomId}",
    summary = "Gets a room (Rooms_GetRoom)", operation = "Rooms_GetRoom",
    params = { ACCOUNT, ROOM, flag("include_field_data", "includeFieldData", false) } },
  { name = "rooms.delete", method = "DELETE", path = "/v2/accounts/{accountId}/rooms/{roomId}",
    summary = "Deletes a room (Rooms_DeleteRoom)", operation = "Rooms_DeleteRoom",
    params = { ACCOUNT, ROOM } },
  { name = "rooms.assignable_roles.list", method = "GET",
    path = "/v2/accounts/{accountId}/rooms/{roomId}/assignable_roles",
    summary = "Roles the caller can assign in a room (Rooms_GetAssignableRoles)",
    operation = "Rooms_GetAssignableRoles", paging = paged("roles", "roleId"),
    params = { ACCOUNT, ROOM, { "assignee_email", "query", "string", wire = "assigneeEmail" },
      { "filter", "query", "string" }, START, COUNT } },

  -- Room users ------------------------------------------------------------
  { name = "rooms.users.list", method = "GET", path = "/v2/accounts/{accountId}/rooms/{roomId}/users",
    summary = "Lists the users of a room (Rooms_GetRoomUsers)", operation = "Rooms_GetRoomUsers",
    paging = paged("users", "userId"),
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
    paging = paged("userSummaries", "userId"),
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
    paging = paged("roles", "roleId"),
    params = { ACCOUNT,
      flag("only_assignable", "onlyAssignable", false),
      { "filter_context", "query", "string", wire = "filterContext", check = context_check,
        canonical = context_canonical, vendor_default = "AllRoles" },
      { "filter", "query", "string" }, START, COUNT } },
  { name = "account.get", method = "GET", path = "/v2/accounts/{accountId}",
    summary = "Gets account information (Accounts_GetAccountInformation)",
    operation = "Accounts_GetAccountInformation", params = { ACCOUNT } },
  { name = "transaction_sides.list", method = "GET", path = "/v2/transaction_sides",
    summary = "Lists transaction sides: buy, sell, listbuy, refi (TransactionSides_GetTransactionSides)",
    operation = "TransactionSides_GetTransactionSides",
    paging = whole("transactionSides"), params = {} },

  -- Roles ---------------------------------------------------------------------
  { name = "roles.create", method = "POST", path = "/v2/accounts/{accountId}/roles",
    summary = "Creates a role (Roles_CreateRole)", operation = "Roles_CreateRole",
    params = with({ ACCOUNT }, table.unpack(role_body())) },
  { name = "roles.get", method = "GET", path = "/v2/accounts/{accountId}/roles/{roleId}",
    summary = "Gets a role and its permissions (Roles_GetRole); include_is_assigned adds isAssigned",
    operation = "Roles_GetRole",
    params = { ACCOUNT, ROLE, flag("include_is_assigned", "includeIsAssigned", false) } },
  { name = "roles.update", method = "PUT", path = "/v2/accounts/{accountId}/roles/{roleId}",
    summary = "Updates a role's name, external flag or permissions (Roles_UpdateRole)", operation = "Roles_UpdateRole",
    params = with({ ACCOUNT, ROLE }, table.unpack(role_body())) },
  { name = "roles.delete", method = "DELETE", path = "/v2/accounts/{accountId}/roles/{roleId}",
    summary = "Deletes a role (Roles_DeleteRole)", operation = "Roles_DeleteRole", params = { ACCOUNT, ROLE } },

  -- Offices and regions -----------------------------------------------------------
  { name = "offices.list", method = "GET", path = "/v2/accounts/{accountId}/offices",
    summary = "Lists the company's offices (Offices_GetOffices); search matches part of the name",
    operation = "Offices_GetOffices", paging = paged("officeSummaries", "officeId"),
    params = { ACCOUNT, COUNT, START, flag("only_accessible", "onlyAccessible", false),
      { "search", "query", "string" } } },
  { name = "offices.create", method = "POST", path = "/v2/accounts/{accountId}/offices",
    summary = "Creates an office (Offices_CreateOffice); stateId is like US-OH, countryId US, timeZoneId eastern"
      .. " (see states.list, countries.list, time_zones.list)",
    operation = "Offices_CreateOffice",
    params = { ACCOUNT,
      body("name", "name", "string", NAME),
      body("region_id", "regionId", "integer", { min = 1 }),
      body("address1", "address1", "string"),
      body("address2", "address2", "string"),
      body("city", "city", "string"),
      body("state_id", "stateId", "string"),
      body("postal_code", "postalCode", "string"),
      body("country_id", "countryId", "string"),
      body("time_zone_id", "timeZoneId", "string"),
      body("phone", "phone", "string") } },
  { name = "offices.get", method = "GET", path = "/v2/accounts/{accountId}/offices/{officeId}",
    summary = "Gets an office (Offices_GetOffice)", operation = "Offices_GetOffice", params = { ACCOUNT, OFFICE } },
  { name = "offices.delete", method = "DELETE", path = "/v2/accounts/{accountId}/offices/{officeId}",
    summary = "Deletes an office (Offices_DeleteOffice)", operation = "Offices_DeleteOffice",
    params = { ACCOUNT, OFFICE } },
  { name = "offices.reference_counts.list", method = "GET",
    path = "/v2/accounts/{accountId}/offices/{officeId}/reference_counts",
    summary = "What refers to an office, by type, e.g. before deleting it (Offices_GetReferenceCounts)",
    operation = "Offices_GetReferenceCounts", paging = whole("referencesCounts"), params = { ACCOUNT, OFFICE } },
  { name = "regions.list", method = "GET", path = "/v2/accounts/{accountId}/regions",
    summary = "Lists the company's regions (Regions_GetRegions)", operation = "Regions_GetRegions",
    paging = paged("regionSummaries", "regionId"),
    params = { ACCOUNT, COUNT, START, flag("managed_only", "managedOnly", false) } },
  { name = "regions.create", method = "POST", path = "/v2/accounts/{accountId}/regions",
    summary = "Creates a region (Regions_CreateRegion); regionId and createdDate are assigned by the service",
    operation = "Regions_CreateRegion",
    params = { ACCOUNT,
      body("region_id", "regionId", "integer", { min = 1 }),
      body("name", "name", "string", NAME),
      body("created_date", "createdDate", "datetime") } },
  { name = "regions.get", method = "GET", path = "/v2/accounts/{accountId}/regions/{regionId}",
    summary = "Gets a region (Regions_GetRegion)", operation = "Regions_GetRegion", params = { ACCOUNT, REGION } },
  { name = "regions.delete", method = "DELETE", path = "/v2/accounts/{accountId}/regions/{regionId}",
    summary = "Deletes a region (Regions_DeleteRegion)", operation = "Regions_DeleteRegion",
    params = { ACCOUNT, REGION } },
  { name = "regions.reference_counts.list", method = "GET",
    path = "/v2/accounts/{accountId}/regions/{regionId}/reference_counts",
    summary = "What refers to a region, by type (Regions_GetRegionReferenceCounts)",
    operation = "Regions_GetRegionReferenceCounts", paging = whole("referenceCounts"), params = { ACCOUNT, REGION } },

  -- Room details: field data, field sets, templates, folders, picture -----------------
  { name = "rooms.field_data.get", method = "GET", path = "/v2/accounts/{accountId}/rooms/{roomId}/field_data",
    summary = "Gets a room's field data, the Details tab (Rooms_GetRoomFieldData)",
    operation = "Rooms_GetRoomFieldData", params = { ACCOUNT, ROOM } },
  { name = "rooms.field_data.update", method = "PUT", path = "/v2/accounts/{accountId}/rooms/{roomId}/field_data",
    summary = "Updates a room's field data: only the fields given in data change (Rooms_UpdateRoomFieldData)",
    operation = "Rooms_UpdateRoomFieldData",
    params = { ACCOUNT, ROOM, body("data", "data", "object") } },
  { name = "rooms.field_set.get", method = "GET", path = "/v2/accounts/{accountId}/rooms/{roomId}/field_set",
    summary = "Gets the field set a room's field data follows (Rooms_GetRoomFieldSet)",
    operation = "Rooms_GetRoomFieldSet", params = { ACCOUNT, ROOM } },
  { name = "field_sets.get", method = "GET", path = "/v2/accounts/{accountId}/field_sets/{fieldSetId}",
    summary = "Gets a field set (Fields_GetFieldSet); fields_custom_data_filters limits the fields returned",
    operation = "Fields_GetFieldSet",
    params = { ACCOUNT, FIELD_SET,
      { "fields_custom_data_filters", "query", "array", wire = "fieldsCustomDataFilters", join = ",",
        items = { type = "string", enum = { "None", "IsRequiredOnCreate", "IsRequiredOnSubmit" } } } } },
  { name = "room_templates.list", method = "GET", path = "/v2/accounts/{accountId}/room_templates",
    summary = "Lists room templates (RoomTemplates_GetRoomTemplates); disabled ones only with only_enabled = false",
    operation = "RoomTemplates_GetRoomTemplates", paging = paged("roomTemplates", "roomTemplateId"),
    params = { ACCOUNT, { "office_id", "query", "integer", wire = "officeId" },
      flag("only_assignable", "onlyAssignable", false), flag("only_enabled", "onlyEnabled", true), COUNT, START } },
  { name = "rooms.room_folders.list", method = "GET", path = "/v2/accounts/{accountId}/rooms/{roomId}/room_folders",
    summary = "Lists the room's folders the caller can see (RoomFolders_GetRoomFolders)",
    operation = "RoomFolders_GetRoomFolders", paging = paged("folders", "roomFolderId"),
    params = { ACCOUNT, ROOM, START, COUNT } },
  { name = "rooms.picture.update", method = "PUT", path = "/v2/accounts/{accountId}/rooms/{roomId}/picture",
    summary = "Sets the room's picture (Rooms_UpdatePicture): file = the image as a Lua string, or path = a file;"
      .. " sent as multipart/form-data", operation = "Rooms_UpdatePicture",
    prepare = upload.multipart("file"),
    params = with({ ACCOUNT, ROOM }, table.unpack(file_params(upload.MAX_UPLOAD))) },

  -- Documents ----------------------------------------------------------------------
  { name = "rooms.documents.list", method = "GET", path = "/v2/accounts/{accountId}/rooms/{roomId}/documents",
    summary = "Lists a room's documents (Rooms_GetDocuments); include_archived = false leaves archived ones out",
    operation = "Rooms_GetDocuments", paging = paged("documents", "documentId"),
    params = { ACCOUNT, ROOM, COUNT, START,
      flag("require_content_for_dynamic_documents", "requireContentForDynamicDocuments", false),
      { "room_folder_id", "query", "integer", wire = "roomFolderId" },
      { "name_filter", "query", "string", wire = "nameFilter" },
      flag("include_archived", "includeArchived", true) } },
  { name = "rooms.documents.create", method = "POST", path = "/v2/accounts/{accountId}/rooms/{roomId}/documents",
    summary = "Adds a document to a room as JSON (Rooms_AddDocumentToRoom): contents = the bytes, or path ="
      .. " a file (its name is the default name), sent base64-encoded; at most 30 MB (use"
      .. " rooms.documents.contents.create for up to 35 MB)",
    operation = "Rooms_AddDocumentToRoom", prepare = upload.json_document,
    params = { ACCOUNT, ROOM,
      { "contents", "local", "file", max_bytes = upload.MAX_JSON_CONTENTS },
      { "path", "local", "string", min_length = 1 },
      body("document_id", "documentId", "integer"),
      body("name", "name", "string", NAME),
      body("body_room_id", "roomId", "integer", { min = 1 }),
      body("owner_id", "ownerId", "integer"),
      body("size", "size", "long", { min = 0 }),
      body("folder_id", "folderId", "integer"),
      body("created_date", "createdDate", "datetime"),
      body("is_signed", "isSigned", "boolean"),
      body("content_type", "contentType", "string"),
      body("base64_contents", "base64Contents", "string", { required = true, min_length = 1 }),
      body("is_dynamic", "isDynamic", "boolean") } },
  { name = "rooms.documents.contents.create", method = "POST",
    path = "/v2/accounts/{accountId}/rooms/{roomId}/documents/contents",
    summary = "Uploads a file as a room document (Rooms_AddDocumentToRoomViaFileUpload): file = the bytes, or"
      .. " path = a file; sent as multipart/form-data, at most 35 MB",
    operation = "Rooms_AddDocumentToRoomViaFileUpload", prepare = upload.multipart("file"),
    params = with({ ACCOUNT, ROOM }, table.unpack(file_params(upload.MAX_UPLOAD))) },
  { name = "documents.get", method = "GET", path = "/v2/accounts/{accountId}/documents/{documentId}",
    summary = "Gets a document; include_contents = true adds base64Contents (Documents_GetDocument)",
    operation = "Documents_GetDocument",
    params = { ACCOUNT, DOCUMENT, flag("include_contents", "includeContents", false) } },
  { name = "documents.delete", method = "DELETE", path = "/v2/accounts/{accountId}/documents/{documentId}",
    summary = "Deletes a document (Documents_DeleteDocument)", operation = "Documents_DeleteDocument",
    params = { ACCOUNT, DOCUMENT } },
  { name = "documents.users.create", method = "POST", path = "/v2/accounts/{accountId}/documents/{documentId}/users",
    summary = "Grants a room user access to a document (Documents_CreateDocumentUser)",
    operation = "Documents_CreateDocumentUser",
    params = { ACCOUNT, DOCUMENT, body("user_id", "userId", "integer", { required = true, min = 1 }) } },
  { name = "rooms.envelopes.create", method = "POST", path = "/v2/accounts/{accountId}/rooms/{roomId}/envelopes",
    summary = "Creates an eSignature envelope from room documents; answers its eSignEnvelopeId"
      .. " (RoomEnvelopes_CreateRoomEnvelope)", operation = "RoomEnvelopes_CreateRoomEnvelope",
    params = { ACCOUNT, ROOM, body("envelope_name", "envelopeName", "string", { min_length = 1 }),
      body("document_ids", "documentIds", "array", { items = INT_LIST, min_items = 1 }) } },

  -- Task lists ----------------------------------------------------------------------
  { name = "rooms.task_lists.list", method = "GET", path = "/v2/accounts/{accountId}/rooms/{roomId}/task_lists",
    summary = "Lists a room's task lists (TaskLists_GetTaskLists)", operation = "TaskLists_GetTaskLists",
    paging = whole("taskListSummaries"), params = { ACCOUNT, ROOM } },
  { name = "rooms.task_lists.create", method = "POST", path = "/v2/accounts/{accountId}/rooms/{roomId}/task_lists",
    summary = "Applies a task list template to a room (TaskLists_CreateTaskList)", operation = "TaskLists_CreateTaskList",
    -- TaskListForCreate has no required list; its one field is documented "(Required)".
    params = { ACCOUNT, ROOM, body("task_list_template_id", "taskListTemplateId", "integer",
      { required = true, min = 1 }) } },
  { name = "task_lists.delete", method = "DELETE", path = "/v2/accounts/{accountId}/task_lists/{taskListId}",
    summary = "Deletes a task list from its room (TaskLists_DeleteTaskList)", operation = "TaskLists_DeleteTaskList",
    params = { ACCOUNT, TASK_LIST } },
  { name = "task_list_templates.list", method = "GET", path = "/v2/accounts/{accountId}/task_list_templates",
    summary = "Lists task list templates (TaskListTemplates_GetTaskListTemplates)",
    operation = "TaskListTemplates_GetTaskListTemplates", paging = paged("taskListTemplates", "taskListTemplateId"),
    params = { ACCOUNT, START, COUNT } },

  -- Forms: groups, libraries, details, providers, fill sessions ------------------------
  { name = "form_groups.list", method = "GET", path = "/v2/accounts/{accountId}/form_groups",
    summary = "Lists form groups (FormGroups_GetFormGroups)", operation = "FormGroups_GetFormGroups",
    paging = paged("formGroups", "formGroupId"), params = { ACCOUNT, COUNT, START } },
  { name = "form_groups.create", method = "POST", path = "/v2/accounts/{accountId}/form_groups",
    summary = "Creates a form group (FormGroups_CreateFormGroup)", operation = "FormGroups_CreateFormGroup",
    params = { ACCOUNT, body("name", "name", "string", NAME) } },
  { name = "form_groups.get", method = "GET", path = "/v2/accounts/{accountId}/form_groups/{formGroupId}",
    summary = "Gets a form group, its forms and offices (FormGroups_GetFormGroup)", operation = "FormGroups_GetFormGroup",
    params = { ACCOUNT, FORM_GROUP } },
  { name = "form_groups.update", method = "PUT", path = "/v2/accounts/{accountId}/form_groups/{formGroupId}",
    summary = "Renames a form group (FormGroups_RenameFormGroup)", operation = "FormGroups_RenameFormGroup",
    params = { ACCOUNT, FORM_GROUP, body("name", "name", "string", NAME) } },
  { name = "form_groups.delete", method = "DELETE", path = "/v2/accounts/{accountId}/form_groups/{formGroupId}",
    summary = "Deletes a form group (FormGroups_DeleteFormGroup)", operation = "FormGroups_DeleteFormGroup",
    params = { ACCOUNT, FORM_GROUP } },
  { name = "form_groups.forms.list", method = "GET", path = "/v2/accounts/{accountId}/form_groups/{formGroupId}/forms",
    summary = "Lists the forms of a form group (FormGroupForms_GetFormGroupForms)",
    operation = "FormGroupForms_GetFormGroupForms", paging = paged("forms", "formId"),
    params = { ACCOUNT, FORM_GROUP, COUNT, START } },
  { name = "form_groups.assign_form", method = "POST",
    path = "/v2/accounts/{accountId}/form_groups/{formGroupId}/assign_form",
    summary = "Adds a library form to a form group (FormGroups_AssignFormGroupForm)",
    operation = "FormGroups_AssignFormGroupForm",
    params = { ACCOUNT, FORM_GROUP, body("form_id", "formId", "uuid", { required = true }),
      body("is_required", "isRequired", "boolean") } },
  { name = "form_groups.unassign_form", method = "POST",
    path = "/v2/accounts/{accountId}/form_groups/{formGroupId}/unassign_form/{formId}",
    summary = "Removes a form from a form group (FormGroups_RemoveFormGroupForm)",
    operation = "FormGroups_RemoveFormGroupForm", params = { ACCOUNT, FORM_GROUP, FORM } },
  { name = "form_groups.grant_office_access", method = "POST",
    path = "/v2/accounts/{accountId}/form_groups/{formGroupId}/grant_office_access/{officeId}",
    summary = "Lets an office use a form group (FormGroups_GrantOfficeAccessToFormGroup)",
    operation = "FormGroups_GrantOfficeAccessToFormGroup", params = { ACCOUNT, FORM_GROUP, OFFICE } },
  { name = "form_groups.revoke_office_access", method = "POST",
    path = "/v2/accounts/{accountId}/form_groups/{formGroupId}/revoke_office_access/{officeId}",
    summary = "Takes a form group away from an office (FormGroups_RevokeOfficeAccessFromFormGroup)",
    operation = "FormGroups_RevokeOfficeAccessFromFormGroup", params = { ACCOUNT, FORM_GROUP, OFFICE } },
  { name = "form_libraries.list", method = "GET", path = "/v2/accounts/{accountId}/form_libraries",
    summary = "Lists form libraries (FormLibraries_GetFormLibraries)", operation = "FormLibraries_GetFormLibraries",
    paging = paged("formsLibrarySummaries", "formsLibraryId"), params = { ACCOUNT, COUNT, START } },
  { name = "form_libraries.forms.list", method = "GET",
    path = "/v2/accounts/{accountId}/form_libraries/{formLibraryId}/forms",
    summary = "Lists the forms in a form library (FormLibraries_GetFormLibraryForms)",
    operation = "FormLibraries_GetFormLibraryForms", paging = paged("forms", "libraryFormId"),
    params = { ACCOUNT, FORM_LIBRARY, COUNT, START } },
  { name = "forms.details.get", method = "GET", path = "/v2/accounts/{accountId}/forms/{formId}/details",
    summary = "Gets a library form's details (FormDetails_GetFormDetails)", operation = "FormDetails_GetFormDetails",
    params = { ACCOUNT, FORM } },
  { name = "form_providers.associations.list", method = "GET",
    path = "/v2/accounts/{accountId}/form_providers/{providerId}/associations",
    summary = "Lists a form provider's associations (FormProviderAssociations_GetFormProviderAssociations)",
    operation = "FormProviderAssociations_GetFormProviderAssociations",
    paging = paged("formProviderAssociations", "formProviderAssociationGuid"),
    params = { ACCOUNT, { "provider_id", "path", "string", wire = "providerId", required = true, min_length = 1 },
      COUNT, START } },
  { name = "rooms.forms.create", method = "POST", path = "/v2/accounts/{accountId}/rooms/{roomId}/forms",
    summary = "Adds a library form to a room as a document (Rooms_AddFormToRoom)", operation = "Rooms_AddFormToRoom",
    params = { ACCOUNT, ROOM, body("form_id", "formId", "uuid", { required = true }) } },
  { name = "external_form_fill_sessions.create", method = "POST",
    path = "/v2/accounts/{accountId}/external_form_fill_sessions",
    summary = "Creates an external form fill session; answers its url (ExternalFormFillSessions_CreateExternalFormFillSession)",
    operation = "ExternalFormFillSessions_CreateExternalFormFillSession",
    -- formId is documented "(Required)" but the model lists only roomId: one of formId, formIds.
    required_one_of = { { "form_id", "form_ids" } },
    params = { ACCOUNT, body("form_id", "formId", "string", { min_length = 1 }),
      body("room_id", "roomId", "integer", { required = true, min = 1 }),
      body("form_ids", "formIds", "array", { items = { type = "uuid" }, min_items = 1 }),
      body("x_frame_allowed_url", "xFrameAllowedUrl", "string") } },

  -- Account settings --------------------------------------------------------------------
  { name = "esign_permission_profiles.list", method = "GET", path = "/v2/accounts/{accountId}/esign_permission_profiles",
    summary = "Lists the eSignature permission profiles users.invite needs"
      .. " (ESignPermissionProfiles_GetESignPermissionProfiles)",
    operation = "ESignPermissionProfiles_GetESignPermissionProfiles", paging = whole("permissionProfiles"),
    params = { ACCOUNT } },
}

-- Lookups: GET /v2/<name>, no account, no parameters, the list under `items`.
local LOOKUPS = {
  { "closing_statuses", "ClosingStatuses_GetClosingStatuses", "closingStatuses", "closing statuses" },
  { "contact_sides", "ContactSides_GetContactSides", "contactSides", "contact sides" },
  { "countries", "Countries_GetCountries", "countries", "countries" },
  { "currencies", "Currencies_GetCurrencies", "currencies", "currencies" },
  { "financing_types", "FinancingTypes_GetFinancingTypes", "financingTypes", "financing types" },
  { "origins_of_leads", "OriginsOfLeads_GetOriginsOfLeads", "originsOfLeads", "origins of leads" },
  { "property_types", "PropertyTypes_GetPropertyTypes", "propertyTypes", "property types" },
  { "room_contact_types", "RoomContactTypes_GetRoomContactTypes", "roomContactTypes", "room contact types" },
  { "seller_decision_types", "SellerDecisionTypes_GetSellerDecisionTypes", "sellerDecisionTypes",
    "seller decision types" },
  { "special_circumstance_types", "SpecialCircumstanceTypes_GetSpecialCircumstanceTypes",
    "specialCircumstanceTypes", "special circumstance types" },
  { "states", "States_GetStates", "states", "states (stateId like US-OH)" },
  { "task_date_types", "TaskDateTypes_GetTaskDateTypes", "taskDateTypes", "task date types" },
  { "task_responsibility_types", "TaskResponsibilityTypes_GetTaskResponsibilityTypes", "taskResponsibilityTypes",
    "task responsibility types" },
  { "task_statuses", "TaskStatuses_GetTaskStatuses", "taskStatuses", "task statuses" },
  { "time_zones", "TimeZones_GetTimeZones", "timeZones", "time zones" },
}
for _, l in ipairs(LOOKUPS) do
  ENDPOINTS[#ENDPOINTS + 1] = { name = l[1] .. ".list", method = "GET", path = "/v2/" .. l[1],
    summary = "Lists " .. l[4] .. " (" .. l[2] .. ")", operation = l[2], paging = whole(l[3]), params = {} }
end

-- No declaration is marked idempotent: the engine's default (reads only, dwell.retry) is the
-- vendor's rule. A repeated PUT, DELETE or action POST may fail where the first one (unseen)
-- succeeded, so a write is sent again only when the server said it was not processed.

return ENDPOINTS
