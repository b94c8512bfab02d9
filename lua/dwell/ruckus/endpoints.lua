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
-- separate, never-retried declaration so that a token reset is always explicit (NOTES.md §2.1).
--
-- Vendor fields read by the client (lua/dwell/ruckus/init.lua):
--   response = "json" (default) | "css" | "png": CSS and PNG bodies are returned as raw strings
--   media    = "hal" | "vnd" | "json": which Accept the operation is documented with (NOTES.md §3)
--   auth     = false for the login call (it must not carry the unit token)
local P = "/residents/properties/{propertyId}"

-- The property is the venue id, hyphenated on the wire whichever form the caller used.
local function property_id()
  return { "property_id", "path", "uuid", wire = "propertyId", required = true, from_client = true }
end

local function user_id_path()
  return { "user_id", "path", "uuid", wire = "userId", required = true }
end

local USER_STATUS = { "BLOCKED", "ACTIVE" }
local USER_TYPE = { "UNIT", "GUEST", "LINKED" }

-- UnitUserDto (the request body of updateUnitUser), each field a body parameter.
local function unit_user_body()
  return {
    { "user_name", "body", "string", wire = "userName" },
    { "email", "body", "string", max_length = 255 },
    { "phone_number", "body", "string", wire = "phoneNumber", max_length = 16 },
    -- "" resets the passphrase (NOTES.md §9.7): omit it to leave the passphrase alone.
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

local CONTACT = {
  { "contact_name", "body", "string", wire = "contactName", required = true },
  { "email", "body", "string", max_length = 255 },
  { "phone_number", "body", "string", wire = "phoneNumber", max_length = 16 },
}

return {
  -- Resident Portal Configuration / UI Configuration ------------------------------------
  { name = "property.get", method = "GET", path = P, media = "hal",
    summary = "Gets Property Details (residentFetchProperty)",
    params = { property_id() } },
  { name = "ui_configurations.get", method = "GET", path = P .. "/uiConfigurations", media = "hal",
    summary = "Gets User Interface Configurations (residentFetchUiConfiguration)",
    params = { property_id() } },
  { name = "styles.get", method = "GET", path = P .. "/styles", response = "css",
    summary = "Gets Resident Portal Styles as CSS text (getPropertyStyles)",
    params = { property_id() } },
  { name = "files.get", method = "GET", path = P .. "/files/{type}", response = "png",
    summary = "Gets Resident Portal File as PNG bytes (residentDownloadPortalFile)",
    params = { property_id(),
      -- The literal files/favicons shadows this template: that one has its own call.
      { "type", "path", "string", required = true, min_length = 1,
        check = function(v) if v == "favicons" then return "must not be 'favicons' (use files.favicons.get)" end end },
    } },
  { name = "files.favicons.get", method = "GET", path = P .. "/files/favicons", response = "png",
    summary = "Gets Resident Portal Icon File as PNG bytes (downloadFavicons)",
    params = { property_id() } },
  { name = "access.get", method = "GET", path = P .. "/access", media = "json",
    summary = "Gets Portal Access Details (getTenantPortalAccess)",
    params = { property_id() } },

  -- Resident Portal Login API -------------------------------------------------------------
  { name = "units.logins.create", method = "POST", path = P .. "/units/logins", media = "hal",
    auth = false, idempotent = true, -- a login is safe to repeat (NOTES.md §7)
    summary = "Access Resident Portal: exchanges the hashed secret for a unit token (residentLogin)",
    params = { property_id(),
      { "hashed_secret", "body", "string", wire = "hashedSecret", required = true, secret = true,
        from_client = true } } },

  -- Resident Portal Unit API --------------------------------------------------------------
  { name = "units.get", method = "GET", path = P .. "/units", media = "hal",
    summary = "Gets Unit Details of the authenticated unit (residentFetchUnit)",
    params = { property_id() } },
  { name = "units.update", method = "PUT", path = P .. "/units", media = "hal", body_required = true,
    summary = "Selectively Updates Unit Configurations: passphrases, contact (residentEditUnit)",
    params = { property_id(),
      { "guid", "body", "string" },
      { "number", "body", "string" },
      { "description", "body", "string" },
      { "contact", "body", "object", fields = CONTACT },
      { "status", "body", "string", enum = { "DISABLED", "ENABLED", "TOKEN_RESET" } },
      { "secret", "body", "string", max_length = 63, secret = true },
      { "guest_secret", "body", "string", wire = "guestSecret", max_length = 63, secret = true },
    } },
  { name = "units.reset_token", method = "PUT", path = P .. "/units", media = "hal", idempotent = false,
    summary = "Resets the unit token: PUT /units {\"status\":\"TOKEN_RESET\"} (vendor collection)",
    params = { property_id(),
      { "status", "body", "string", default = "TOKEN_RESET", enum = { "TOKEN_RESET" } } } },
  { name = "units.devices.list", method = "GET", path = P .. "/units/devices", media = "hal",
    paging = { style = "single", items = "contents" },
    summary = "Gets Unit Devices of one type; the list is under `contents` (residentFetchUnitDevices)",
    params = { property_id(),
      { "type", "query", "string", required = true, enum = { "UNIT", "GUEST" } } } },
  { name = "units.devices.delete", method = "DELETE", path = P .. "/units/devices/{deviceId}", media = "json",
    summary = "Delete Device of the unit (residentRemoveDevice)",
    params = { property_id(),
      { "device_id", "path", "string", wire = "deviceId", required = true, min_length = 1 } } },

  -- Resident Portal Unit Users API --------------------------------------------------------
  { name = "units.users.get", method = "GET", path = P .. "/units/users/{userId}", media = "vnd",
    summary = "Get Unit User Details for Specific User (getUnitUser)",
    params = { property_id(), user_id_path() } },
  { name = "units.users.update", method = "PUT", path = P .. "/units/users/{userId}", media = "vnd",
    body_required = true,
    summary = "Updates Unit User; returns {personaUpdateId, dpskUpdateId} (updateUnitUser)",
    params = concat({ property_id(), user_id_path() }, unit_user_body()) },
  { name = "units.users.query", method = "POST", path = P .. "/units/users/query", media = "vnd",
    idempotent = true, -- a read, safe to retry (NOTES.md §7)
    summary = "Query Unit Users, one Spring page (queryUnitUsers)",
    paging = { style = "spring", page = "page", size = "page_size", items = "content", default_size = 20 },
    params = { property_id(),
      { "sort_direction", "body", "string", wire = "sortDirection", enum = { "ASC", "DESC" } },
      { "page", "body", "integer", min = 0 },
      { "page_size", "body", "integer", wire = "pageSize", min = 1 },
      { "user_id", "body", "uuid", wire = "userId" },
      -- An array on the wire even when given one string (the rendered docs show a bare string).
      { "sort_fields", "body", "array", wire = "sortFields", items = { type = "string", enum = { "userId" } } },
    } },
  { name = "units.users.devices.list", method = "GET", path = P .. "/units/users/{userId}/devices", media = "vnd",
    paging = { style = "single", items = "contents" },
    summary = "Get Unit User Devices; the list is under `contents` (getUnitUserDevices)",
    params = { property_id(), user_id_path() } },
  { name = "units.users.devices.delete", method = "DELETE",
    path = P .. "/units/users/{userId}/devices/{deviceId}", media = "json",
    summary = "Delete Unit User Device (removeUnitUserDevice)",
    params = { property_id(), user_id_path(),
      { "device_id", "path", "string", wire = "deviceId", required = true, min_length = 1 } } },
}
