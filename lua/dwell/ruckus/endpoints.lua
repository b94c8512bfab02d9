--- RUCKUS One Resident Portal v0 (resident_portal_api-0.0.1.yaml): every operation, as data.
--
-- Every path starts with P = /residents/properties/{propertyId}; the table path mirrors what
-- follows P, camelCase segments in snake_case, and the verb becomes the last name:
--
--   name                        method  path (after P)                         operationId
--   property.get                GET     (P itself)                             residentFetchProperty
--   ui_configurations.get       GET     /uiConfigurations                      residentFetchUiConfiguration
--   styles.get                  GET     /styles                                getPropertyStyles
--   files.get                   GET     /files/{type}                          residentDownloadPortalFile
--   files.favicons.get          GET     /files/favicons                        downloadFavicons
--   access.get                  GET     /access                                getTenantPortalAccess
--   units.logins.create         POST    /units/logins                          residentLogin
--   units.get                   GET     /units                                 residentFetchUnit
--   units.update                PUT     /units                                 residentEditUnit
--   units.reset_token           PUT     /units  {"status":"TOKEN_RESET"}       residentEditUnit
--   units.devices.list          GET     /units/devices?type=                   residentFetchUnitDevices
--   units.devices.delete        DELETE  /units/devices/{deviceId}              residentRemoveDevice
--   units.users.get             GET     /units/users/{userId}                  getUnitUser
--   units.users.update          PUT     /units/users/{userId}                  updateUnitUser
--   units.users.query           POST    /units/users/query          (paged)    queryUnitUsers
--   units.users.devices.list    GET     /units/users/{userId}/devices          getUnitUserDevices
--   units.users.devices.delete  DELETE  /units/users/{userId}/devices/{deviceId}  removeUnitUserDevice
--
-- Device lists come whole under `contents`: :each / :all iterate them (paging style "single").
-- units.reset_token is residentEditUnit with the vendor collection's TOKEN_RESET status: a
-- separate, never-retried declaration so that a token reset is always explicit (docs/vendors/ruckus.md §2.1).
--
-- Vendor fields (checked against the YAML by spec/5_ruckus/ruckus_openapi_spec.lua; the client reads
-- response, auth and body_required):
--   operation = the YAML's operationId
--   media     = the documented success media type: "hal" (application/hal+json), "vnd"
--               (application/json or application/vnd.ruckus.v1+json), "json", "any" (*/*),
--               "none" (200 with no body); every JSON type is decoded alike (docs/vendors/ruckus.md §3)
--   response  = "css" | "png": the body is returned as a raw string (text/css, image/png)
--   success   = the documented 2xx codes (202: accepted, applied asynchronously; re-read)
--   auth      = "none" for the login call (it must not carry the unit token)
local validate = require "dwell.validate"

local P = "/residents/properties/{propertyId}"

-- The property is the venue id, hyphenated on the wire whichever form the caller used.
local function property_id()
  return { "property_id", "path", "uuid", wire = "propertyId", required = true, from_client = true }
end

-- Login, styles, favicons and access declare propertyId without `format: uuid` (docs/vendors/ruckus.md §9.9):
-- any non-empty text is accepted there, but a venue id still goes hyphenated.
local function hyphenate(v)
  return validate.normalize_uuid(v) or v
end

local function property_id_text()
  return { "property_id", "path", "string", wire = "propertyId", required = true, from_client = true,
    min_length = 1, normalize = hyphenate }
end

local function user_id_path()
  return { "user_id", "path", "uuid", wire = "userId", required = true }
end

local USER_STATUS = { "BLOCKED", "ACTIVE" }
local USER_TYPE = { "UNIT", "GUEST", "LINKED" }

-- UnitUserDto (the request body of updateUnitUser), each field a body parameter. Its userId
-- repeats the path's user id (always the same user: the path decides which one is updated).
local function unit_user_body()
  return {
    { "body_user_id", "body", "uuid", wire = "userId", default_from = "user_id" },
    { "user_name", "body", "string", wire = "userName" },
    { "email", "body", "string", max_length = 255 },
    { "phone_number", "body", "string", wire = "phoneNumber", max_length = 16 },
    -- "" resets the passphrase (docs/vendors/ruckus.md §9.7): omit it to leave the passphrase alone.
    { "passphrase", "body", "string", secret = true },
    { "status", "body", "string", enum = USER_STATUS },
    { "type", "body", "string", enum = USER_TYPE },
  }
end

local function concat(...)
  local out = {}
  for _, list in ipairs({ ... }) do
    for _, v in ipairs(list) do out[#out + 1] = v end
  end
  return out
end

-- UnitContactDto.
local CONTACT = {
  { "contact_name", "body", "string", wire = "contactName", required = true },
  { "email", "body", "string", max_length = 255 },
  { "phone_number", "body", "string", wire = "phoneNumber", max_length = 16 },
}

local function device_id()
  return { "device_id", "path", "string", wire = "deviceId", required = true, min_length = 1 }
end

return {
  -- Resident Portal Configuration / UI Configuration ------------------------------------
  { name = "property.get", operation = "residentFetchProperty", method = "GET", path = P,
    media = "hal", success = { 200 },
    summary = "Gets Property Details (residentFetchProperty)",
    params = { property_id() } },
  { name = "ui_configurations.get", operation = "residentFetchUiConfiguration", method = "GET",
    path = P .. "/uiConfigurations", media = "hal", success = { 200 },
    summary = "Gets User Interface Configurations (residentFetchUiConfiguration)",
    params = { property_id() } },
  { name = "styles.get", operation = "getPropertyStyles", method = "GET", path = P .. "/styles",
    response = "css", success = { 200 },
    summary = "Gets Resident Portal Styles as CSS text (getPropertyStyles)",
    params = { property_id_text() } },
  { name = "files.get", operation = "residentDownloadPortalFile", method = "GET", path = P .. "/files/{type}",
    response = "png", success = { 200 },
    summary = "Gets Resident Portal File as PNG bytes (residentDownloadPortalFile)",
    params = { property_id(),
      -- The literal files/favicons shadows this template: that one has its own call.
      { "type", "path", "string", required = true, min_length = 1,
        check = function(v) if v == "favicons" then return "must not be 'favicons' (use files.favicons.get)" end end },
    } },
  { name = "files.favicons.get", operation = "downloadFavicons", method = "GET", path = P .. "/files/favicons",
    response = "png", success = { 200 },
    summary = "Gets Resident Portal Icon File as PNG bytes (downloadFavicons)",
    params = { property_id_text() } },
  { name = "access.get", operation = "getTenantPortalAccess", method = "GET", path = P .. "/access",
    media = "json", success = { 200 },
    summary = "Gets Portal Access Details (getTenantPortalAccess)",
    params = { property_id_text() } },

  -- Resident Portal Login API -------------------------------------------------------------
  -- The body (LoginResource) is required; its one field is optional in the schema, so an
  -- absent hashed secret fails as a missing body.
  { name = "units.logins.create", operation = "residentLogin", method = "POST", path = P .. "/units/logins",
    media = "hal", success = { 200 }, body_required = true,
    auth = "none", idempotent = true, -- a login is safe to repeat (docs/vendors/ruckus.md §7)
    summary = "Access Resident Portal: exchanges the hashed secret for a unit token (residentLogin)",
    params = { property_id_text(),
      { "hashed_secret", "body", "string", wire = "hashedSecret", secret = true, from_client = true } } },

  -- Resident Portal Unit API --------------------------------------------------------------
  { name = "units.get", operation = "residentFetchUnit", method = "GET", path = P .. "/units",
    media = "hal", success = { 200 },
    summary = "Gets Unit Details of the authenticated unit (residentFetchUnit)",
    params = { property_id() } },
  -- UnitDto: `number` (the unit name) is required by the schema, on every update.
  { name = "units.update", operation = "residentEditUnit", method = "PUT", path = P .. "/units",
    media = "hal", success = { 200, 202 }, body_required = true,
    summary = "Selectively Updates Unit Configurations: passphrases, contact (residentEditUnit)",
    params = { property_id(),
      { "guid", "body", "string" },
      { "number", "body", "string", required = true },
      { "description", "body", "string" },
      { "contact", "body", "object", fields = CONTACT },
      -- TOKEN_RESET is not a documented status: only units.reset_token sends it.
      { "status", "body", "string", enum = { "DISABLED", "ENABLED" } },
      { "secret", "body", "string", max_length = 63, secret = true },
      { "guest_secret", "body", "string", wire = "guestSecret", max_length = 63, secret = true },
    } },
  { name = "units.reset_token", operation = "residentEditUnit", method = "PUT", path = P .. "/units",
    media = "hal", success = { 200, 202 }, idempotent = false, token_reset = true,
    summary = "Resets the unit token: PUT /units {\"status\":\"TOKEN_RESET\"} (vendor collection)",
    params = { property_id(),
      { "status", "body", "string", default = "TOKEN_RESET", enum = { "TOKEN_RESET" } } } },
  { name = "units.devices.list", operation = "residentFetchUnitDevices", method = "GET", path = P .. "/units/devices",
    media = "hal", success = { 200 },
    paging = { style = "single", items = "contents" },
    summary = "Gets Unit Devices of one type; the list is under `contents` (residentFetchUnitDevices)",
    -- No enum in the schema; the description names UNIT and GUEST as the possible values.
    params = { property_id(),
      { "type", "query", "string", required = true, enum = { "UNIT", "GUEST" } } } },
  { name = "units.devices.delete", operation = "residentRemoveDevice", method = "DELETE",
    path = P .. "/units/devices/{deviceId}", media = "none", success = { 200 },
    summary = "Delete Device of the unit (residentRemoveDevice)",
    params = { property_id(), device_id() } },

  -- Resident Portal Unit Users API --------------------------------------------------------
  { name = "units.users.get", operation = "getUnitUser", method = "GET", path = P .. "/units/users/{userId}",
    media = "vnd", success = { 200 },
    summary = "Get Unit User Details for Specific User (getUnitUser)",
    params = { property_id(), user_id_path() } },
  { name = "units.users.update", operation = "updateUnitUser", method = "PUT", path = P .. "/units/users/{userId}",
    media = "any", success = { 200, 202 }, body_required = true,
    summary = "Updates Unit User; returns {personaUpdateId, dpskUpdateId} (updateUnitUser)",
    params = concat({ property_id(), user_id_path() }, unit_user_body()) },
  { name = "units.users.query", operation = "queryUnitUsers", method = "POST", path = P .. "/units/users/query",
    media = "vnd", success = { 200 },
    idempotent = true, -- a read, safe to retry (docs/vendors/ruckus.md §7)
    summary = "Query Unit Users, one Spring page (queryUnitUsers)",
    paging = { style = "spring", page = "page", size = "page_size", items = "content", default_size = 20,
      id = "userId" },
    params = { property_id(),
      { "sort_direction", "body", "string", wire = "sortDirection", enum = { "ASC", "DESC" } },
      { "page", "body", "integer", min = 0 },
      { "page_size", "body", "integer", wire = "pageSize", min = 1 },
      { "user_id", "body", "uuid", wire = "userId" },
      -- An array on the wire even when given one string (the rendered docs show a bare string).
      { "sort_fields", "body", "array", wire = "sortFields", items = { type = "string", enum = { "userId" } } },
    } },
  { name = "units.users.devices.list", operation = "getUnitUserDevices", method = "GET",
    path = P .. "/units/users/{userId}/devices", media = "vnd", success = { 200 },
    paging = { style = "single", items = "contents" },
    summary = "Get Unit User Devices; the list is under `contents` (getUnitUserDevices)",
    params = { property_id(), user_id_path() } },
  { name = "units.users.devices.delete", operation = "removeUnitUserDevice", method = "DELETE",
    path = P .. "/units/users/{userId}/devices/{deviceId}", media = "none", success = { 200 },
    summary = "Delete Unit User Device (removeUnitUserDevice)",
    params = { property_id(), user_id_path(), device_id() } },
}
