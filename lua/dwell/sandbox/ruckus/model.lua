--- The RUCKUS model for the sandbox (dwell.sandbox.ruckus): the property, its unit, the unit's
-- users and devices, and the 16 operations over them (resident_portal_api-0.0.1.yaml).
local json = require "dwell.sandbox.json"
local seed = require "dwell.sandbox.ruckus.seed"
local gateway = require "dwell.sandbox.ruckus.gateway"

local M = {}

--- The route list; c is the route set's context, gw = gateway.new(c).
function M.routes(c, gw)
  local config, env, property_id, ttl, rand = c.config, c.env, c.property_id, c.ttl, c.rand
  local iso, uuid, arr, UUID, P = seed.iso, seed.uuid, gateway.arr, gateway.UUID, gateway.P
  local fail, links, HAL, hal, media = gw.fail, gw.links, gw.HAL, gw.hal, gw.media
  local take, limited, json_body, route, str_field = gw.take, gw.limited, gw.json_body, gw.route, gw.str_field

  -- Representations ---------------------------------------------------------------------

  local function user_repr(req, u)
    return { userId = u.userId, userName = u.userName, email = u.email, phoneNumber = u.phoneNumber,
      passphrase = u.passphrase, status = u.status, type = u.type,
      _links = links(req, "/residents/properties/" .. property_id .. "/units/users/" .. u.userId) }
  end

  local function unit_repr(req)
    local u = c.state.unit
    return { guid = u.guid, number = u.number, description = u.description, contact = u.contact,
      status = u.status, secret = u.secret, guestSecret = u.guestSecret,
      _links = links(req, "/residents/properties/" .. property_id .. "/units") }
  end

  local function devices_repr(req, list, path)
    local out = {}
    for i, d in ipairs(list) do out[i] = d end
    return { contents = arr(out), _links = links(req, path) }
  end

  local PNG = "\137PNG\r\n\26\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\8\6\0\0\0\31\21\196\137"
    .. "\0\0\0\rIDATx\156c\248\15\4\0\9\251\3\253\227U\242\156\0\0\0\0IEND\174B`\130"

  -- Handlers ----------------------------------------------------------------------------

  local function login(req)
    if not take(req) then return limited() end
    local id = req.captures.propertyId or ""
    if not id:match(UUID) then return fail(400, "Invalid property id", { "propertyId: must be a UUID" }) end
    local body, err = json_body(req, true)
    if not body then return table.unpack(err) end
    if type(body.hashedSecret) ~= "string" or body.hashedSecret == "" then
      return fail(400, "Missing or invalid request body", { "hashedSecret: must not be blank" })
    end
    if id:lower() ~= property_id or body.hashedSecret ~= c.state.hashed_secret then
      return fail(401, "Invalid credentials")
    end
    c.state.logins = c.state.logins + 1
    local token = string.format("rk%08x%08x%08x", rand(), rand(), c.state.logins)
    local expires = env.now() + ttl
    c.state.tokens[token] = { expires = expires }
    return 200, HAL, { unitGuid = c.state.unit.guid, token = token, serverVersion = "0.0.1-dwell-sandbox",
      expireDateTime = iso(expires) }
  end

  local USER_STATUS = { BLOCKED = true, ACTIVE = true }
  local USER_TYPE = { UNIT = true, GUEST = true, LINKED = true }
  local UNIT_STATUS = { DISABLED = true, ENABLED = true, TOKEN_RESET = true }

  local function valid_user_id(req)
    local id = req.captures.userId or ""
    if not id:match(UUID) then
      return nil, { fail(400, "Invalid user id", { "userId: must be a UUID" }) }
    end
    return id:lower()
  end

  local function get_user(req)
    local id, err = valid_user_id(req)
    if not id then return table.unpack(err) end
    local u = c.state.users[id]
    if not u then return 404, {}, "" end -- documented without a body
    return 200, media(req), user_repr(req, u)
  end

  local function update_user(req)
    local id, err = valid_user_id(req)
    if not id then return table.unpack(err) end
    local body
    body, err = json_body(req, true)
    if not body then return table.unpack(err) end
    local errs = {}
    str_field(errs, body.userName, "userName")
    str_field(errs, body.email, "email", 255)
    str_field(errs, body.phoneNumber, "phoneNumber", 16)
    str_field(errs, body.passphrase, "passphrase")
    str_field(errs, body.status, "status", nil, USER_STATUS)
    str_field(errs, body.type, "type", nil, USER_TYPE)
    if body.userId ~= nil and (type(body.userId) ~= "string" or body.userId:lower() ~= id) then
      errs[#errs + 1] = "userId: must match the path"
    end
    if #errs > 0 then return fail(400, "Validation failed", errs) end
    local u = c.state.users[id]
    if not u then return fail(400, "Unit user not found: " .. id) end
    for _, k in ipairs({ "userName", "email", "phoneNumber", "status", "type" }) do
      if type(body[k]) == "string" then u[k] = body[k] end
    end
    if body.passphrase == "" then
      u.passphrase = string.format("reset-%06d", rand() % 1000000) -- "" asks for a new passphrase
    elseif type(body.passphrase) == "string" then
      u.passphrase = body.passphrase
    end
    return 200, { ["Content-Type"] = "application/json" },
      { personaUpdateId = uuid(rand), dpskUpdateId = uuid(rand) }
  end

  local function sorted_users(criteria)
    local list = {}
    for _, id in ipairs(c.state.order) do list[#list + 1] = c.state.users[id] end
    if criteria.userId then
      local only = {}
      for _, u in ipairs(list) do if u.userId == criteria.userId:lower() then only[1] = u end end
      list = only
    end
    local fields = criteria.sortFields
    if fields and #fields > 0 then
      local desc = criteria.sortDirection == "DESC"
      table.sort(list, function(a, b)
        if desc then return a.userId > b.userId end
        return a.userId < b.userId
      end)
    end
    return list
  end

  local function query_users(req)
    local body, err = json_body(req, false)
    if not body then return table.unpack(err) end
    local errs = {}
    local page, size = body.page, body.pageSize
    if page == nil or page == json.null then page = 0 end
    if size == nil or size == json.null then size = 20 end
    if math.type(page) ~= "integer" or page < 0 then errs[#errs + 1] = "page: must be a non-negative integer" end
    if math.type(size) ~= "integer" or size < 1 then errs[#errs + 1] = "pageSize: must be at least 1" end
    str_field(errs, body.sortDirection, "sortDirection", nil, { ASC = true, DESC = true })
    local fields = body.sortFields
    if type(fields) == "string" then fields = { fields } end -- the docs' example sends one string
    if fields ~= nil and fields ~= json.null then
      if type(fields) ~= "table" then errs[#errs + 1] = "sortFields: must be an array"
      else
        for _, f in ipairs(fields) do
          if f ~= "userId" then errs[#errs + 1] = "sortFields: invalid value '" .. tostring(f) .. "'" end
        end
      end
    else
      fields = nil
    end
    if body.userId ~= nil and body.userId ~= json.null
        and (type(body.userId) ~= "string" or not body.userId:match(UUID)) then
      errs[#errs + 1] = "userId: must be a UUID"
    end
    if #errs > 0 then return fail(400, "Invalid query data supplied.", errs) end
    local list = sorted_users{ userId = body.userId ~= json.null and body.userId or nil, sortFields = fields,
      sortDirection = body.sortDirection }
    local total = #list
    local content = {}
    for i = page * size + 1, math.min(total, (page + 1) * size) do content[#content + 1] = user_repr(req, list[i]) end
    local pages = (total + size - 1) // size
    local sorted = fields ~= nil
    local sort = { empty = not sorted, sorted = sorted, unsorted = not sorted }
    return 200, media(req), {
      content = arr(content), totalPages = pages, totalElements = total, first = page == 0,
      last = page + 1 >= pages, size = size, number = page, numberOfElements = #content, empty = #content == 0,
      sort = sort, pageable = { offset = page * size, sort = sort, pageNumber = page, pageSize = size,
        paged = true, unpaged = false },
    }
  end

  local function user_devices(req)
    local id, err = valid_user_id(req)
    if not id then return table.unpack(err) end
    if not c.state.users[id] then return 404, {}, "" end
    return 200, media(req), devices_repr(req, c.state.user_devices[id] or {},
      "/residents/properties/" .. property_id .. "/units/users/" .. id .. "/devices")
  end

  local function remove_from(list, device_id)
    for i, d in ipairs(list or {}) do
      if d.guid == device_id or d.macAddress:lower() == device_id:lower() then
        table.remove(list, i)
        return true
      end
    end
    return false
  end

  local function delete_user_device(req)
    local id, err = valid_user_id(req)
    if not id then return table.unpack(err) end
    if not remove_from(c.state.user_devices[id], req.captures.deviceId) then
      return fail(404, "Device not found for the given unit")
    end
    return 200, {}, ""
  end

  local function unit_devices(req)
    local t = req.params and req.params.type
    if t == nil or t == "" then return fail(400, "Required request parameter 'type' is not present") end
    if t ~= "UNIT" and t ~= "GUEST" then return fail(400, "Invalid device type", { "type: must be UNIT or GUEST" }) end
    local list = {}
    for _, d in ipairs(c.state.unit_devices) do if d.type == t then list[#list + 1] = d end end
    return hal(devices_repr(req, list, "/residents/properties/" .. property_id .. "/units/devices"))
  end

  local function delete_unit_device(req)
    if not remove_from(c.state.unit_devices, req.captures.deviceId) then
      return fail(404, "Unit device not found for the given unit")
    end
    return 200, {}, ""
  end

  local function edit_unit(req)
    local body, err = json_body(req, true)
    if not body then return table.unpack(err) end
    if next(body) == nil then return fail(400, "Missing or invalid request body", { "body: no fields to update" }) end
    local errs = {}
    -- UnitDto requires `number`; the vendor collection's token reset sends only the status.
    if body.status ~= "TOKEN_RESET" and (type(body.number) ~= "string" or body.number == "") then
      errs[#errs + 1] = "number: must not be blank"
    end
    str_field(errs, body.number, "number")
    str_field(errs, body.description, "description")
    str_field(errs, body.status, "status", nil, UNIT_STATUS)
    str_field(errs, body.secret, "secret", 63)
    str_field(errs, body.guestSecret, "guestSecret", 63)
    local contact = body.contact
    if contact ~= nil and contact ~= json.null then
      if type(contact) ~= "table" then errs[#errs + 1] = "contact: must be an object"
      else
        if type(contact.contactName) ~= "string" or contact.contactName == "" then
          errs[#errs + 1] = "contact.contactName: must not be blank"
        end
        str_field(errs, contact.email, "contact.email", 255)
        str_field(errs, contact.phoneNumber, "contact.phoneNumber", 16)
      end
    end
    if #errs > 0 then return fail(400, "Missing or invalid request body", errs) end
    local u = c.state.unit
    if body.status == "TOKEN_RESET" then
      -- The vendor's effect is unverified; here every unit token is revoked and the unit gets a
      -- new hashed secret (read it back with controls.credentials()).
      for _, t in pairs(c.state.tokens) do t.revoked = true end
      c.state.hashed_secret = string.format("reset-%08x%08x", rand(), rand())
      return hal(unit_repr(req))
    end
    for _, k in ipairs({ "number", "description", "status", "secret", "guestSecret" }) do
      if type(body[k]) == "string" then u[k] = body[k] end
    end
    if type(contact) == "table" then
      u.contact = { contactName = contact.contactName, email = type(contact.email) == "string" and contact.email or nil,
        phoneNumber = type(contact.phoneNumber) == "string" and contact.phoneNumber or nil }
    end
    return hal(unit_repr(req))
  end

  local function property(req)
    return hal({ guid = property_id, name = config.property_name or "Dwell Sandbox Residences",
      address = "1 Sandbox Way, Springfield", description = "Emulated RUCKUS One property",
      managementName = "Sandbox Property Management", managementPhone = "+15550100000",
      managementEmail = "office@example.com", tenantPortalHelpText = "Call the office for help.",
      tenantPortalAnnouncements = "Pool closed on Mondays.", allowSeparateGuestSecret = true,
      enforceMaxUnits = false, maxUnits = 500, sendEmail = true, sendSms = false,
      ssids = arr({ "Residents", "Residents-Guest" }),
      _links = links(req, "/residents/properties/" .. property_id) })
  end

  local function ui_configuration(req)
    return hal({ apiAllowed = true, tenantSetDpsk = true, portalAllowed = true, logoFileName = "logo.png",
      iconFileName = "favicon.png", tenantTitle = "Welcome home", tenantSubtitle = "Resident portal",
      announcements = "Pool closed on Mondays.", helpText = "Call the office for help.",
      loginText = "Sign in with the link from your welcome email.", mainColor = "#1a73e8",
      accentColor = "#fbbc04", separatorColor = "#dadce0", textColor = "#202124",
      _links = links(req, "/residents/properties/" .. property_id .. "/uiConfigurations") })
  end

  local function access(_)
    return 200, { ["Content-Type"] = "application/json" },
      { loginText = "Sign in with the link from your welcome email.", portalAllowed = true }
  end

  local function styles(_)
    return 200, { ["Content-Type"] = "text/css" },
      ":root { --main-color: #1a73e8; --accent-color: #fbbc04; }\nbody { color: #202124; }\n"
  end

  local function favicon(_)
    return 200, { ["Content-Type"] = "image/png" }, PNG
  end

  local function file(req)
    local t = req.captures.type
    if t == "favicons" then return favicon(req) end
    if t ~= "logo" and t ~= "favIcon" then return fail(404, "File not found: " .. tostring(t)) end
    return 200, { ["Content-Type"] = "image/png" }, PNG
  end


  local routes = {
    { "POST", P .. "/units/logins", login },
    route("GET", P, property),
    route("GET", P .. "/uiConfigurations", ui_configuration, true),
    route("GET", P .. "/styles", styles, true, { "text/css" }),
    route("GET", P .. "/files/favicons", favicon, true, { "image/png" }),
    route("GET", P .. "/files/{type}", file, true, { "image/png" }),
    route("GET", P .. "/access", access, true),
    route("GET", P .. "/units", function(req) return hal(unit_repr(req)) end),
    route("PUT", P .. "/units", edit_unit),
    route("GET", P .. "/units/devices", unit_devices),
    route("DELETE", P .. "/units/devices/{deviceId}", delete_unit_device),
    route("POST", P .. "/units/users/query", query_users),
    route("GET", P .. "/units/users/{userId}", get_user),
    route("PUT", P .. "/units/users/{userId}", update_user),
    route("GET", P .. "/units/users/{userId}/devices", user_devices),
    route("DELETE", P .. "/units/users/{userId}/devices/{deviceId}", delete_user_device),
  }
  return routes
end

return M
