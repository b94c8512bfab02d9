--- Tuya Smart Community (`/v1.0/iot-02/community/...`) endpoints and the token APIs, as data.
-- Sources: docs/vendors/tuya.md §4 and §7, which name Tuya's per-endpoint pages (among them
-- room-users, structure/members and modify member). Parameter names are Tuya's own snake_case
-- names; query values documented as String with numeric codes (sex, if_identify, ...) accept a Lua
-- integer or a string. IDs are 19-digit strings: a Lua integer id is sent as its exact digits.
--
-- Naming: every community path starts with /v1.0/iot-02/community; that prefix is dropped and
-- the rest of the URL path gives the table path (`/room-users` is community.room_users,
-- `/structure/members` is community.structure.members). Where one path has several verbs, the
-- verb is the last name (get, create, update, delete, or Tuya's own word: move_in, move_out):
--
--   name                            method  path (after the prefix), then the title of Tuya's page where named
--   token.get                       GET     /v1.0/token?grant_type=1 (no prefix)
--   token.refresh                   GET     /v1.0/token/{refresh_token} (no prefix)
--   community.room_users            GET     /room-users                  (paged)  List of Relationships Between Residents and Houses
--   community.room_user.get         GET     /room-user
--   community.room_user.create      POST    /room-user
--   community.room_user.update      PUT     /room-user/{room_user_id}
--   community.room_user.delete      DELETE  /room-user/{block_id}/{room_user_id}
--   community.room_user.move_in     PUT     /room-user/{room_user_id}/move-in
--   community.room_user.move_out    PUT     /room-user/{block_id}/{room_user_id}/move-out
--   community.householders          GET     /householders                (paged)
--   community.householder.get       GET     /householder
--   community.householder.create    POST    /householder
--   community.householder.update    PUT     /householder/{block_id}/{householder_id}
--   community.householder.delete    DELETE  /householder/{block_id}/{householder_id}
--   community.members               GET     /members                     (paged)
--   community.member.get            GET     /member
--   community.member.create         POST    /member
--   community.member.update         PUT     /member/{block_id}/{member_id}  Modify Member
--   community.member.delete         DELETE  /member/{block_id}/{member_id}
--   community.structure.get         GET     /structure
--   community.structure.members     GET     /structure/members           (paged)  Query Organization Member
--   community.structures.children   GET     /structures/children
--   community.structure.create      POST    /structure
--   community.structure.update      PUT     /structure/{structure_id}
--   community.structure.delete      DELETE  /structure/{structure_id}
--   community.room.create           POST    /room
--   community.room.delete           DELETE  /room/{block_id}/{tree_id}
--   community.housekeeper_detail    GET     /housekeeper-detail
--
-- `operation` is the title of Tuya's page where dwell's sources name it. `result` lists the
-- fields of the envelope's `result` as Tuya's response tables give them: { name, Tuya's type,
-- meaning, fields = { ... } for a list or object of records }; `result = { bare = type, meaning }`
-- for a bare value (true, a new id). Neither changes a call: docs/reference/tuya.md shows them.
local C = "/v1.0/iot-02/community"

local ROOM_USER_TYPES = { "HOUSEHOLDER", "FAMILY", "TENANT", "FRIEND", "RELATIVES", "COLLEAGUE",
  "DECORATOR", "BABYSITTER", "OTHER" }
local STAGES = { "0", "10", "20", "30" }      -- pending, rejected, approved (moved in), moved out
local SEX = { 1, 2 }                           -- 1 male, 2 female

--- mobile_or_name: a name fragment, or a mobile fragment of at least four digits (docs/vendors/tuya.md §7.1).
local function mobile_or_name_rule(v)
  if v == "" then return "must not be empty" end
  local digits = v:match("^%+?(%d+)$")
  if digits and #digits < 4 then return "a mobile number must be four or more digits" end
  return nil
end

-- Paging as Tuya documents it: page_no from 1 and page_size, the total under one of three names,
-- items under `data` (or `list` for organisations), some results a bare array (docs/vendors/tuya.md §7.6).
-- `id` names an item for the repeat check of dwell.paging: never a field items share (a room
-- user's user_id is the resident's, the same in each of their rooms, and empty for residents
-- without the app).
local function paged(id)
  return { style = "page_number", page = "page_no", size = "page_size", first = 1, default_size = 20,
    items = { "data", "list" }, total = { "total_count", "total_record", "total" }, id = id }
end

local function page_params(params)
  params[#params + 1] = { "page_no", "query", "integer", required = true, min = 1 }
  params[#params + 1] = { "page_size", "query", "integer", required = true, min = 1 }
  return params
end

-- Filters of /householders (its page lists exactly these); /room-users adds the relation filters below.
local PERSON_FILTERS = {
  { "mobile_or_name", "query", "string", check = mobile_or_name_rule },
  { "sex", "query", "string", enum = { "1", "2" } },
  { "if_identify", "query", "string", enum = { "0", "1" } },
  { "apply_source", "query", "string", enum = { "0", "1", "2" } },
  { "if_upload_face", "query", "string", enum = { "0", "1" } },
  { "field_order_by", "query", "string", enum = { "CREATE_TIME_DESC", "CREATE_TIME_ASC" } },
}

-- Filters of /room-users (docs/vendors/tuya.md §7.1): the person filters plus the relation's own.
local RELATION_FILTERS = {
  { "room_user_stage", "query", "string", enum = STAGES },
  { "tree_id", "query", "string" },
  { "move_out_type", "query", "string", enum = { "0", "1", "2" } },
  { "room_user_type", "query", "string", enum = ROOM_USER_TYPES },
}

local function append(params, list)
  for _, f in ipairs(list) do params[#params + 1] = f end
  return params
end

-- A comma-joined multi-valued body field: a Lua list or an "a,b" string (docs/vendors/tuya.md §7.3).
local function ids(name, required)
  return { name, "body", "array", items = "string", join = ",", required = required, min_items = 1 }
end

-- The body of POST /member and PUT /member/{block_id}/{member_id} (Tuya's Modify Member table, docs/vendors/tuya.md §7.3).
local function member_fields(params)
  local fields = {
    ids("block_ids", true),
    { "structure_id", "body", "string", required = true },
    { "education", "body", "string", required = true },
    ids("role_ids", true),
    { "admin", "body", "integer", enum = { 1, 2 } },
    { "data_permission", "body", "integer", enum = { 1, 2 } },
    { "country_code", "body", "string", pattern = "^%d+$", pattern_rule = "must be digits, e.g. 86" },
    { "admin_name", "body", "string", required = true, min_length = 1 },
    { "sex", "body", "integer", required = true, enum = SEX },
    { "mobile", "body", "string", required = true, min_length = 1 },
    { "card_type", "body", "integer" },
    { "card_no", "body", "string" },
    { "birthday", "body", "long" },
    { "position", "body", "string" },
  }
  for _, f in ipairs(fields) do params[#params + 1] = f end
  return params
end

-- Body of the relationship between a resident and a house (create / update / move-in review).
local function relation_fields(params)
  local fields = {
    { "block_id", "body", "string", required = true },
    { "householder_id", "body", "string", required = true },
    { "room_user_type", "body", "string", required = true, enum = ROOM_USER_TYPES },
    { "tree_id", "body", "string", required = true },
  }
  for _, f in ipairs(fields) do params[#params + 1] = f end
  -- expire_date is typed String (empty = permanent) although examples send ms numbers (docs/vendors/tuya.md §8.7).
  params[#params + 1] = { "expire_date", "body", "string" }
  return params
end

-- Resident body fields (POST /householder and PUT /householder/{block_id}/{householder_id} tables).
-- The update table marks more fields required than the create table does; both are followed.
local function householder_fields(params, updating)
  if updating then params[#params + 1] = { "if_identify", "body", "integer", enum = { 0, 1 } } end
  return append(params, {
    { "real_name", "body", "string", required = true, min_length = 1 },
    { "sex", "body", "integer", required = true, enum = SEX },
    { "mobile", "body", "string", required = true, min_length = 1 },
    { "card_type", "body", "integer" },
    { "card_no", "body", "string" },
    { "apply_source", "body", "integer", enum = { 0, 1, 2 } },
    { "household_registry_type", "body", "integer", enum = { 1, 2 } },          -- 1 agricultural, 2 non-agricultural
    { "household_registry_address", "body", "string", required = updating },
    { "marital_status", "body", "integer", required = updating, enum = { 0, 1, 2, 3, 4, 5 } },
    { "employer", "body", "string", required = updating },
    { "political_status", "body", "integer", required = updating, enum = { 1, 2, 3 } },
    { "emergency_contact", "body", "string" },
    { "emergency_contact_number", "body", "string" },
  })
end

-- Organisation body (POST /structure and PUT /structure/{structure_id} tables; the update
-- table also requires the contact and its phone number).
local function structure_fields(params, updating)
  return append(params, {
    { "parent_structure_id", "body", "string" },
    { "structure_name", "body", "string", required = true, min_length = 1 },
    { "address_code", "body", "string" },
    { "address_detail", "body", "string" },
    { "contact", "body", "string", required = updating },
    { "contact_mobile", "body", "string", required = updating },
    { "contact_email", "body", "string" },
  })
end

-- Result fields (Tuya's response tables, docs/vendors/tuya.md §4.1 and §7) ----------------------

local TOKEN = {
  { "access_token", "String", "the access token business calls carry" },
  { "refresh_token", "String", "the single-use token that obtains the next access token" },
  { "expire_time", "Integer", "seconds the access token has left (some tables call it expire)" },
  { "uid", "String", "the user the token belongs to" },
}

local PARENT_IDS = { { "parent_id", "String", "a parent node of the house" } }

-- A relationship between a resident and a house (the room-users page's `data` table).
local ROOM_USER = {
  { "room_user_id", "String", "the id of the relationship between the resident and the house" },
  { "user_id", "String", "the user id" },
  { "householder_id", "String", "the resident's id" },
  { "room_user_type", "String", "the kind of resident: HOUSEHOLDER (owner), FAMILY, TENANT, FRIEND, RELATIVES, "
    .. "COLLEAGUE, DECORATOR, BABYSITTER or OTHER" },
  { "room_user_type_text", "String", "the kind of resident, in words" },
  { "tree_id", "String", "the space id of the house" },
  { "space_tree_name", "String", "the name of the house" },
  { "room_address", "String", "the resident's address" },
  { "parent_id_list", "List", "the parent nodes of the house", fields = PARENT_IDS },
  { "expire_date", "String", "until when the relationship is valid; empty for permanent" },
  { "country_code", "String", "the country code of the mobile number" },
  { "sex", "Integer", "1 male, 2 female" },
  { "mobile", "String", "the mobile number" },
  { "card_type", "Integer", "the type of identity document: 1 identity card" },
  { "card_no", "String", "the identity document's number" },
  { "if_identify", "Integer", "whether the identity is verified: 0 no, 1 yes" },
  { "real_name", "String", "the resident's name" },
  { "real_name_status", "Integer", "the state of the real-name verification" },
  { "auth_time", "Long", "when the real-name verification was applied for (ms)" },
  { "audit_time", "Long", "when the real-name verification was reviewed (ms)" },
  { "apply_time", "Long", "when the application was made (ms)" },
  { "gmt_create", "Long", "when the record was created (ms)" },
  { "move_out_time", "Long", "when the resident moved out (ms)" },
  { "move_out_time_text", "String", "when the resident moved out, as text" },
  { "move_out_type", "Integer", "how the resident left: 0 removed by the property, 1 by the owner, 2 expired" },
  { "audit_reason", "String", "why the application was rejected" },
  { "room_user_stage", "Integer", "the review stage: 0 pending, 10 rejected, 20 approved (moved in), 30 moved out" },
}

local ROLE_INFOS = {
  { "role_id", "String", "the role's id" },
  { "role_name", "String", "the role's name" },
}

local BLOCKS = {
  { "block_id", "String", "the community's (project's) id" },
  { "block_name", "String", "the community's name" },
  { "related_structure_name", "String", "the organisation it is related to" },
}

-- A member (staff) as /members lists it.
local MEMBER = {
  { "member_id", "String", "the member's id" },
  { "admin_name", "String", "the member's name" },
  { "role_infos", "List", "the member's roles", fields = ROLE_INFOS },
  { "mobile", "String", "the mobile number" },
  { "blocks", "List", "the communities the member works for", fields = BLOCKS },
  { "account_status", "Integer", "the account's state: 1 enabled, 2 disabled, 3 not activated" },
  { "structure_id", "String", "the member's organisation" },
  { "structure_name", "String", "the organisation's name" },
  { "sex", "Integer", "1 male, 2 female" },
  { "myself", "Integer", "whether the member is the calling account" },
  { "admin", "Integer", "whether the member is an administrator: 1 yes, 2 no" },
}

local MEMBER_DETAIL = {}
for i, f in ipairs(MEMBER) do MEMBER_DETAIL[i] = f end
for _, f in ipairs{
  { "country_code", "String", "the country code of the mobile number" },
  { "structure_path_name", "String", "the organisation's path, as names" },
  { "structure_infos", "List", "the organisations the member belongs to" },
  { "card_type", "Integer", "the type of identity document: 1 identity card" },
  { "card_no", "String", "the identity document's number" },
  { "birthday", "Long", "the birthday (ms)" },
  { "position", "String", "the job position" },
  { "education", "String", "the education background" },
} do MEMBER_DETAIL[#MEMBER_DETAIL + 1] = f end

-- A member of an organisation (the Query Organization Member page's `data` table).
local STRUCTURE_MEMBER = {
  { "structure_id", "String", "the organisation's id" },
  { "structure_name", "String", "the organisation's name" },
  { "admin_id", "String", "the member's id" },
  { "admin_name", "String", "the member's name" },
  { "role_infos", "List", "the member's roles", fields = ROLE_INFOS },
  { "mobile", "String", "the mobile number" },
  { "blocks", "List", "the member's communities (projects)", fields = BLOCKS },
  { "account_status", "Integer", "the account's state: 1 enabled, 2 disabled" },
  { "sex", "Integer", "1 male, 2 female" },
}

local DONE = { bare = "Boolean", meaning = "true when the change was made" }

return {
  -- §4 token APIs: signed without an access token (auth = "none"). The refresh token is
  -- single-use, so a refresh whose answer was lost is never sent again (idempotent = false).
  { name = "token.get", method = "GET", path = "/v1.0/token", auth = "none",
    summary = "Obtain an access token (simple mode)",
    result = TOKEN,
    params = { { "grant_type", "query", "integer", default = 1, enum = { 1 } } } },
  { name = "token.refresh", method = "GET", path = "/v1.0/token/{refresh_token}", auth = "none", idempotent = false,
    summary = "Refresh an access token with the single-use refresh token",
    result = TOKEN,
    params = { { "refresh_token", "path", "string", required = true, secret = true } } },

  -- §7.1 residents <-> houses
  { name = "community.room_users", method = "GET", path = C .. "/room-users", paging = paged("room_user_id"),
    summary = "List relationships between residents and houses",
    operation = "List of Relationships Between Residents and Houses",
    result = { { "total_count", "Long", "the number of relationships that match" },
      { "data", "List", "the relationships on this page", fields = ROOM_USER } },
    params = append(append(page_params({ { "block_id", "query", "string", required = true } }), PERSON_FILTERS),
      RELATION_FILTERS) },
  { name = "community.room_user.get", method = "GET", path = C .. "/room-user",
    summary = "Details of a relationship between a resident and a house",
    result = ROOM_USER, result_note = "assumed to be a list item's shape (unverified)",
    params = { { "block_id", "query", "string", required = true },
               { "room_user_id", "query", "string", required = true } } },
  { name = "community.room_user.create", method = "POST", path = C .. "/room-user",
    summary = "Create a relationship between a resident and a house",
    result = { { "room_user_id", "String", "the new relationship's id" },
      { "success", "Boolean", "whether it was created" }, { "operation", "", "what was done (type not documented)" } },
    params = relation_fields({}) },
  { name = "community.room_user.update", method = "PUT", path = C .. "/room-user/{room_user_id}",
    summary = "Modify a relationship between a resident and a house",
    result = DONE,
    params = relation_fields({ { "room_user_id", "path", "string", required = true },
      -- the body repeats the path id (documented as a required body field)
      { "body_room_user_id", "body", "string", wire = "room_user_id", default_from = "room_user_id" } }) },
  { name = "community.room_user.delete", method = "DELETE", path = C .. "/room-user/{block_id}/{room_user_id}",
    summary = "Delete a relationship between a resident and a house",
    result = DONE,
    params = { { "block_id", "path", "string", required = true },
               { "room_user_id", "path", "string", required = true } } },
  { name = "community.room_user.move_in", method = "PUT", path = C .. "/room-user/{room_user_id}/move-in",
    summary = "Review a move-in application (20 approve, 10 reject)",
    params = relation_fields({ { "room_user_id", "path", "string", required = true },
      { "room_user_stage", "body", "integer", required = true, enum = { 0, 10, 20, 30 } },
      { "audit_reason", "body", "string", required = true } }) },
  { name = "community.room_user.move_out", method = "PUT", path = C .. "/room-user/{block_id}/{room_user_id}/move-out",
    summary = "Move a resident out of a house",
    result = DONE,
    params = { { "block_id", "path", "string", required = true },
               { "room_user_id", "path", "string", required = true } } },

  -- §7.2 residents ("householders")
  { name = "community.householders", method = "GET", path = C .. "/householders", paging = paged("householder_id"),
    summary = "List residents",
    result = { { "total_record", "Long", "the number of residents that match (total_record, not total_count)" },
      { "data", "List", "the residents on this page" } },
    params = append(page_params({ { "block_id", "query", "string", required = true } }), PERSON_FILTERS) },
  { name = "community.householder.get", method = "GET", path = C .. "/householder",
    summary = "Details of a resident",
    params = { { "block_id", "query", "string", required = true },
               { "householder_id", "query", "string", required = true } } },
  { name = "community.householder.create", method = "POST", path = C .. "/householder",
    summary = "Add a resident",
    result = { { "householder_id", "String", "the new resident's id" },
      { "success", "Boolean", "whether it was created" }, { "operation", "", "what was done (type not documented)" } },
    params = householder_fields({ { "block_id", "body", "string", required = true } }, false) },
  { name = "community.householder.update", method = "PUT", path = C .. "/householder/{block_id}/{householder_id}",
    summary = "Modify a resident (the mobile number cannot be changed)",
    result = DONE,
    params = householder_fields({ { "block_id", "path", "string", required = true },
      { "householder_id", "path", "string", required = true },
      -- the body repeats both path ids (documented as required body fields)
      { "body_block_id", "body", "string", wire = "block_id", default_from = "block_id", required = true },
      { "body_householder_id", "body", "string", wire = "householder_id", default_from = "householder_id",
        required = true } }, true) },
  { name = "community.householder.delete", method = "DELETE", path = C .. "/householder/{block_id}/{householder_id}",
    summary = "Delete a resident",
    result = DONE,
    params = { { "block_id", "path", "string", required = true },
               { "householder_id", "path", "string", required = true } } },

  -- §7.3 property staff ("members")
  { name = "community.members", method = "GET", path = C .. "/members", paging = paged("member_id"),
    summary = "List the members (staff) of a community",
    result = { { "total_record", "Long", "the number of members that match" },
      { "data", "List", "the members on this page", fields = MEMBER } },
    params = page_params({ { "block_id", "query", "string", required = true },
      { "mobile_or_name", "query", "string", check = mobile_or_name_rule },
      { "status", "query", "integer", enum = { 1, 2, 3 } } }) },  -- 1 enabled, 2 disabled, 3 not activated
  { name = "community.member.get", method = "GET", path = C .. "/member",
    summary = "Details of a member",
    result = MEMBER_DETAIL,
    params = { { "block_id", "query", "string", required = true },
               { "member_id", "query", "string", required = true } } },
  { name = "community.member.create", method = "POST", path = C .. "/member",
    summary = "Add a member; the result is the new member id",
    result = { bare = "String", meaning = "the new member's id" },
    params = member_fields({}) },
  { name = "community.member.update", method = "PUT", path = C .. "/member/{block_id}/{member_id}",
    summary = "Modify a member (basic information, permissions and roles)",
    operation = "Modify Member", result = { bare = "Boolean", meaning = "whether the operation succeeded" },
    params = member_fields({ { "block_id", "path", "string", required = true },
      { "member_id", "path", "string", required = true },
      -- body member_id: "the list of member IDs, separated with commas"; defaults to the path id
      { "member_ids", "body", "array", items = "string", join = ",", wire = "member_id",
        default_from = "member_id", required = true, min_items = 1 } }) },
  { name = "community.member.delete", method = "DELETE", path = C .. "/member/{block_id}/{member_id}",
    summary = "Delete a member (also unbinds its roles and projects)",
    result = DONE,
    params = { { "block_id", "path", "string", required = true },
               { "member_id", "path", "string", required = true } } },

  -- §7.4 organisations ("structures")
  { name = "community.structure.get", method = "GET", path = C .. "/structure",
    summary = "Details of an organisation",
    params = { { "structure_id", "query", "string", required = true } } },
  { name = "community.structure.members", method = "GET", path = C .. "/structure/members", paging = paged("admin_id"),
    summary = "List the members of an organisation",
    operation = "Query Organization Member",
    result = { { "data", "List", "the members on this page", fields = STRUCTURE_MEMBER },
      { "total_count", "Integer", "the number of members" } },
    params = page_params({ { "structure_id", "query", "string", required = true } }) },
  { name = "community.structures.children", method = "GET", path = C .. "/structures/children",
    summary = "List the sub-organisations of an organisation",
    result = { { "list", "List", "the sub-organisations" }, { "page_size", "Integer", "the page size" },
      { "page_no", "Integer", "the page number" }, { "total", "Integer", "the number of sub-organisations" } },
    result_note = "the example shows a bare list instead (docs/vendors/tuya.md §8.2)",
    params = { { "structure_id", "query", "string", required = true } } },
  { name = "community.structure.create", method = "POST", path = C .. "/structure",
    summary = "Add an organisation; the result is the new organisation id",
    result = { bare = "String", meaning = "the new organisation's id" },
    params = structure_fields({}, false) },
  { name = "community.structure.update", method = "PUT", path = C .. "/structure/{structure_id}",
    summary = "Modify an organisation",
    result = DONE,
    params = structure_fields({ { "structure_id", "path", "string", required = true } }, true) },
  { name = "community.structure.delete", method = "DELETE", path = C .. "/structure/{structure_id}",
    summary = "Delete an organisation",
    result = DONE,
    params = { { "structure_id", "path", "string", required = true } } },

  -- §7.5 houses and housekeepers
  { name = "community.room.create", method = "POST", path = C .. "/room",
    summary = "Create a house under a floor node; the result is its tree_id",
    result = { bare = "String", meaning = "the new house's tree_id" },
    params = {
      { "block_id", "body", "string", required = true },
      { "parent_tree_id", "body", "string", required = true },
      { "meta_code", "body", "string" },
      { "room_site", "body", "string" },
      { "room_name", "body", "string" },
      { "room_status", "body", "string" },
      { "room_size", "body", "string" },
      { "door_model", "body", "string" },
      { "room_toward", "body", "integer", enum = { 1, 2, 3, 4 } },
      { "hand_over_date", "body", "long" },
      { "period_int", "body", "string" },
    } },
  { name = "community.room.delete", method = "DELETE", path = C .. "/room/{block_id}/{tree_id}",
    summary = "Delete a house",
    result = DONE,
    params = { { "block_id", "path", "string", required = true },
               { "tree_id", "path", "string", required = true } } },
  { name = "community.housekeeper_detail", method = "GET", path = C .. "/housekeeper-detail",
    summary = "Details of a community housekeeper (steward)",
    params = { { "block_id", "query", "string", required = true },
               { "hk_id", "query", "string", required = true } } },
}
