--- Sandbox route set "ruckus": the RUCKUS One Resident Portal API v0 (resident_portal_api-0.0.1.yaml,
-- specs/ruckus/NOTES.md) for one property and its authenticated unit.
--
-- config (all optional):
--   property_id    hyphenated venue id (default below)
--   hashed_secret  the unit's login secret (the `auth` parameter of its portal link)
--   unit           { guid, number, description, contact = { contactName, email, phoneNumber },
--                    status, secret, guestSecret }
--   users          a number of generated unit users (default 45), or a list of
--                  { userId?, userName, email, phoneNumber, status, type, passphrase? }
--   token_ttl      seconds a unit token lives (default 3600)
--   rate_limit     { capacity = 100, rate = 80 } (the documented per-property allowance) or false
--   retry_after    true: add a Retry-After header to 429s (none is documented, so off by default)
--   accept_bearer  true: also accept "Bearer <token>" (unverified upstream, so off by default)
--
-- Branding routes (styles, files, favicons, access, uiConfigurations) are served without a
-- token because the portal loads them before login (NOTES.md §2.2); the rest need
-- `Authorization: <token>` from POST .../units/logins.
local json = require "dwell.sandbox.json"

local array_mt = json.array_mt

local DEFAULT_PROPERTY = "6d1b6a3e-8f0c-4c59-9a38-2f1e7c5d4b10"
local DEFAULT_SECRET = "dwell-sandbox-unit-secret-7c2f0a9e"
local P = "/residents/properties/{propertyId}"

local REASONS = { [400] = "BAD_REQUEST", [401] = "UNAUTHORIZED", [404] = "NOT_FOUND",
  [406] = "NOT_ACCEPTABLE", [415] = "UNSUPPORTED_MEDIA_TYPE", [429] = "TOO_MANY_REQUESTS", [500] = "INTERNAL_SERVER_ERROR" }

local function arr(t)
  return array_mt and setmetatable(t, array_mt) or t
end

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

-- A deterministic pseudo-random generator so that seeded ids are stable across runs yet
-- not in insertion order (sorting by userId then means something).
local function generator(seed)
  local state = seed
  return function()
    state = (state * 1103515245 + 12345) % 2147483648
    return state
  end
end

local function uuid(rand)
  local h = {}
  for i = 1, 8 do h[i] = string.format("%04x", rand() % 65536) end
  return string.format("%s%s-%s-4%s-%s-%s%s%s", h[1], h[2], h[3], h[4]:sub(2), "8" .. h[5]:sub(2), h[6], h[7], h[8])
end

local FIRST = { "Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivo", "Jun", "Kemal", "Lea",
  "Mateo", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara" }
local LAST = { "Silva", "Okafor", "Wang", "Novak", "Haddad", "Berg", "Ito", "Moreau", "Costa", "Kaya" }

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(t)) .. string.format(".%03dZ", math.floor((t % 1) * 1000))
end

return function(config, env)
  config = config or {}
  local property_id = (config.property_id or DEFAULT_PROPERTY):lower()
  local hashed_secret = config.hashed_secret or DEFAULT_SECRET
  local ttl = config.token_ttl or 3600
  local limit = config.rate_limit
  if limit == nil then limit = { capacity = 100, rate = 80 } end
  local rand = generator(config.seed or 20240501)

  local state -- everything mutable, rebuilt by controls.reset

  local function seed_users()
    local users, order = {}, {}
    local spec = config.users or 45
    if type(spec) == "number" then
      local list = {}
      for i = 1, spec do
        local first, last = FIRST[(i - 1) % #FIRST + 1], LAST[(i - 1) % #LAST + 1]
        list[i] = { userName = first .. " " .. last, email = (first .. "." .. last .. i .. "@example.com"):lower(),
          phoneNumber = string.format("+1555%07d", 1000 + i),
          status = (i % 9 == 0) and "BLOCKED" or "ACTIVE",
          type = i == 1 and "UNIT" or (i % 3 == 0 and "GUEST" or "LINKED") }
      end
      spec = list
    end
    for _, u in ipairs(spec) do
      local user = {}
      for k, v in pairs(u) do user[k] = v end
      user.userId = (user.userId or uuid(rand)):lower()
      user.status = user.status or "ACTIVE"
      user.type = user.type or "LINKED"
      user.passphrase = user.passphrase or string.format("pass-%06d", rand() % 1000000)
      users[user.userId] = user
      order[#order + 1] = user.userId
    end
    return users, order
  end

  local function mac(n)
    local b = {}
    for i = 1, 6 do b[i] = string.format("%02x", (n * 37 + i * 11 + rand()) % 256) end
    return table.concat(b, ":")
  end

  local function device(type_, n)
    return { guid = uuid(rand), type = type_, macAddress = mac(n),
      lastConnectedDate = iso(env.now() - n * 3600), authType = (n % 2 == 0) and "MACREG" or "DPSK" }
  end

  local function reset()
    local users, order = seed_users()
    local u = config.unit or {}
    state = {
      users = users, order = order, tokens = {}, logins = 0, hashed_secret = hashed_secret,
      buckets = {}, limited = 0, unauthorized = 0, not_acceptable = 0,
      unit = { guid = u.guid or uuid(rand), number = u.number or "101", description = u.description or "Corner unit",
        contact = u.contact or { contactName = "Ana Silva", email = "ana.silva@example.com", phoneNumber = "+15550001001" },
        status = u.status or "ENABLED", secret = u.secret or "unit-pass-0001", guestSecret = u.guestSecret or "guest-pass-0001" },
      unit_devices = {}, user_devices = {},
    }
    for i = 1, 3 do state.unit_devices[#state.unit_devices + 1] = device("UNIT", i) end
    for i = 4, 5 do state.unit_devices[#state.unit_devices + 1] = device("GUEST", i) end
    for i = 1, math.min(5, #order) do
      state.user_devices[order[i]] = { device(users[order[i]].type == "GUEST" and "GUEST" or "UNIT", i),
        device("UNIT", i + 10) }
    end
  end
  reset()

  -- Responses -------------------------------------------------------------------------

  local function error_body(status, message, detailed, validation)
    return { status = status .. " " .. (REASONS[status] or "ERROR"), timestamp = iso(env.now()),
      message = message, detailedMessage = detailed or message, validationErrors = arr(validation or {}) }
  end

  local function fail(status, message, validation)
    return status, { ["Content-Type"] = "application/json" }, error_body(status, message, nil, validation)
  end

  local function base_url(req)
    return "http://" .. (req.headers.host or "127.0.0.1")
  end

  local function links(req, path)
    return { self = { href = base_url(req) .. path } }
  end

  local HAL = { ["Content-Type"] = "application/hal+json" }
  local function hal(body) return 200, HAL, body end

  local function media(req)
    local accept = req.headers.accept or ""
    if accept:find("application/vnd.ruckus.v1+json", 1, true) and not accept:find("application/json", 1, true) then
      return { ["Content-Type"] = "application/vnd.ruckus.v1+json" }
    end
    return { ["Content-Type"] = "application/json" }
  end

  -- Checks ----------------------------------------------------------------------------

  -- The documented allowance: a bucket of `capacity` calls per property, `rate` returned per second.
  local function take(req)
    if not limit then return true end
    local key = (req.captures.propertyId or ""):lower()
    local now = env.now()
    local b = state.buckets[key]
    if not b then
      b = { tokens = limit.capacity, at = now }
      state.buckets[key] = b
    end
    b.tokens = math.min(limit.capacity, b.tokens + (now - b.at) * limit.rate)
    b.at = now
    if b.tokens < 1 then
      state.limited = state.limited + 1
      return false
    end
    b.tokens = b.tokens - 1
    return true
  end

  local function limited()
    local headers = { ["Content-Type"] = "application/json" }
    if config.retry_after then headers["Retry-After"] = "1" end
    return 429, headers, error_body(429, "Rate limit exceeded for property")
  end

  local function property_ok(req)
    local id = req.captures.propertyId or ""
    if not id:match(UUID) then
      return fail(400, "Invalid property id", { "propertyId: must be a UUID in 8-4-4-4-12 form" })
    end
    if id:lower() ~= property_id then return fail(404, "Property requested is not found") end
    return nil
  end

  local function authorized(req)
    local h = req.headers.authorization
    if not h or h == "" then return false end
    if config.accept_bearer then h = h:gsub("^[Bb]earer%s+", "") end
    local t = state.tokens[h]
    return t ~= nil and not t.revoked and env.now() < t.expires
  end

  local function json_body(req, required)
    local body = req.body or ""
    if body:match("^%s*$") then
      if required then return nil, { fail(400, "Missing or invalid request body", { "Required request body is missing" }) } end
      return {}
    end
    local ctype = (req.headers["content-type"] or ""):lower()
    if not (ctype:find("application/json", 1, true) or ctype:find("application/vnd.ruckus.v1+json", 1, true)) then
      return nil, { fail(415, "Content type '" .. ctype .. "' not supported") }
    end
    local v = json.decode(body)
    if type(v) ~= "table" then
      return nil, { fail(400, "Missing or invalid request body", { "JSON parse error" }) }
    end
    return v
  end

  -- What each operation produces (NOTES.md §3): JSON in its three media types, or CSS / PNG.
  local JSON_TYPES = { "application/json", "application/hal+json", "application/vnd.ruckus.v1+json" }

  -- Whether an Accept header admits one of `produces`: a missing Accept admits anything;
  -- media ranges (type/subtype, type/*, */*) with q=0 admit nothing.
  local function acceptable(accept, produces)
    if accept == nil or accept:match("^%s*$") then return true end
    for range in accept:gmatch("[^,]+") do
      local mt = (range:match("^%s*([^;%s]+)") or ""):lower()
      local q = tonumber(range:match(";%s*[qQ]%s*=%s*([%d.]+)") or "1") or 1
      if q > 0 then
        if mt == "*/*" then return true end
        local major = mt:match("^([^/]+)/%*$")
        for _, p in ipairs(produces) do
          if p == mt or (major and p:match("^[^/]+") == major) then return true end
        end
      end
    end
    return false
  end

  -- Spring answers an Accept it cannot produce (e.g. text/xml) with 406 Not Acceptable and no
  -- body: the error document itself would be JSON, which that Accept refuses too.
  local function not_acceptable()
    state.not_acceptable = state.not_acceptable + 1
    return 406, {}, ""
  end

  -- Wraps a handler with the checks every route shares: property, rate limit, token, Accept.
  local function route(method, path, handler, open, produces)
    produces = produces or JSON_TYPES
    return { method, path, function(req, ctx)
      if not take(req) then return limited() end
      local s, h, b = property_ok(req)
      if s then return s, h, b end
      if not open and not authorized(req) then
        state.unauthorized = state.unauthorized + 1
        return fail(401, "Unauthorized: missing, invalid or expired unit token")
      end
      if not acceptable(req.headers.accept, produces) then return not_acceptable() end
      return handler(req, ctx)
    end }
  end

  local function str_field(errs, v, name, max, enum)
    if v == nil or v == json.null then return end
    if type(v) ~= "string" then errs[#errs + 1] = name .. ": must be a string"; return end
    if max and utf8.len(v) and utf8.len(v) > max then
      errs[#errs + 1] = name .. ": size must be between 0 and " .. max
    end
    if enum and not enum[v] then errs[#errs + 1] = name .. ": invalid value '" .. v .. "'" end
  end

  -- Representations ---------------------------------------------------------------------

  local function user_repr(req, u)
    return { userId = u.userId, userName = u.userName, email = u.email, phoneNumber = u.phoneNumber,
      passphrase = u.passphrase, status = u.status, type = u.type,
      _links = links(req, "/residents/properties/" .. property_id .. "/units/users/" .. u.userId) }
  end

  local function unit_repr(req)
    local u = state.unit
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
    if id:lower() ~= property_id or body.hashedSecret ~= state.hashed_secret then
      return fail(401, "Invalid credentials")
    end
    state.logins = state.logins + 1
    local token = string.format("rk%08x%08x%08x", rand(), rand(), state.logins)
    local expires = env.now() + ttl
    state.tokens[token] = { expires = expires }
    return 200, HAL, { unitGuid = state.unit.guid, token = token, serverVersion = "0.0.1-dwell-sandbox",
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
    local u = state.users[id]
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
    local u = state.users[id]
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
    for _, id in ipairs(state.order) do list[#list + 1] = state.users[id] end
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
    if not state.users[id] then return 404, {}, "" end
    return 200, media(req), devices_repr(req, state.user_devices[id] or {},
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
    if not remove_from(state.user_devices[id], req.captures.deviceId) then
      return fail(404, "Device not found for the given unit")
    end
    return 200, {}, ""
  end

  local function unit_devices(req)
    local t = req.params and req.params.type
    if t == nil or t == "" then return fail(400, "Required request parameter 'type' is not present") end
    if t ~= "UNIT" and t ~= "GUEST" then return fail(400, "Invalid device type", { "type: must be UNIT or GUEST" }) end
    local list = {}
    for _, d in ipairs(state.unit_devices) do if d.type == t then list[#list + 1] = d end end
    return hal(devices_repr(req, list, "/residents/properties/" .. property_id .. "/units/devices"))
  end

  local function delete_unit_device(req)
    if not remove_from(state.unit_devices, req.captures.deviceId) then
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
    local c = body.contact
    if c ~= nil and c ~= json.null then
      if type(c) ~= "table" then errs[#errs + 1] = "contact: must be an object"
      else
        if type(c.contactName) ~= "string" or c.contactName == "" then errs[#errs + 1] = "contact.contactName: must not be blank" end
        str_field(errs, c.email, "contact.email", 255)
        str_field(errs, c.phoneNumber, "contact.phoneNumber", 16)
      end
    end
    if #errs > 0 then return fail(400, "Missing or invalid request body", errs) end
    local u = state.unit
    if body.status == "TOKEN_RESET" then
      -- The vendor's effect is unverified; here every unit token is revoked and the unit gets a
      -- new hashed secret (read it back with controls.credentials()).
      for _, t in pairs(state.tokens) do t.revoked = true end
      state.hashed_secret = string.format("reset-%08x%08x", rand(), rand())
      return hal(unit_repr(req))
    end
    for _, k in ipairs({ "number", "description", "status", "secret", "guestSecret" }) do
      if type(body[k]) == "string" then u[k] = body[k] end
    end
    if type(c) == "table" then
      u.contact = { contactName = c.contactName, email = type(c.email) == "string" and c.email or nil,
        phoneNumber = type(c.phoneNumber) == "string" and c.phoneNumber or nil }
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

  local function copy(v)
    if type(v) ~= "table" then return v end
    local c = {}
    for k, x in pairs(v) do c[k] = copy(x) end
    return c
  end

  local controls = {
    credentials = function()
      return { property_id = property_id, hashed_secret = state.hashed_secret, unit_guid = state.unit.guid,
        base_path = "/residents/properties/" .. property_id }
    end,
    -- Every issued token expires now (the client must log in again).
    expire_tokens = function()
      local n = 0
      for _, t in pairs(state.tokens) do t.expires = env.now() - 1; n = n + 1 end
      return { expired = n }
    end,
    users = function()
      local out = {}
      for i, id in ipairs(state.order) do out[i] = copy(state.users[id]) end
      return out
    end,
    user_devices = function(args) return copy(state.user_devices[(args or {}).user_id] or {}) end,
    unit = function() return copy(state.unit) end,
    unit_devices = function() return copy(state.unit_devices) end,
    stats = function()
      return { logins = state.logins, limited = state.limited, unauthorized = state.unauthorized,
               not_acceptable = state.not_acceptable }
    end,
    reset = function() reset(); return true end,
  }
  return routes, controls
end
