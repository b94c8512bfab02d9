--- The Rooms sandbox's offices and regions: seeded (the office ids 10-13 and region ids 1-3 the
-- seeded rooms and company users already refer to), created, read, listed, deleted, and their
-- reference counts (company users, rooms, form groups; offices and users for a region).
-- Deleting an office or region something still refers to is refused with a 400 naming the
-- references (sandbox behaviour, unverified against DocuSign; the reference-count calls exist
-- so that a caller can check first).
local lookups = require "dwell.sandbox.rooms.lookups"
local gateway = require "dwell.sandbox.rooms.gateway"
local params = require "dwell.sandbox.rooms.params"

local M = {}

local CREATED = "2024-01-15T09:00:00Z"

local OFFICE = { "officeId", "name", "regionId", "address1", "address2", "city", "stateId", "postalCode",
  "countryId", "timeZoneId", "phone", "createdDate" }
local REGION = { "regionId", "name", "createdDate" }

--- Seeds model.data.offices / model.data.regions (called on every reset).
function M.seed(model)
  local d = model.data
  d.regions = {
    { regionId = 1, name = "North", createdDate = CREATED },
    { regionId = 2, name = "South", createdDate = CREATED },
    { regionId = 3, name = "West", createdDate = CREATED },
  }
  local function office(id, name, region, city, state, zone)
    return { officeId = id, name = name, regionId = region, address1 = id .. " Main Street", city = city,
      stateId = state, postalCode = "4" .. (5000 + id), countryId = "US", timeZoneId = zone,
      phone = "+1 555 0100 " .. id, createdDate = CREATED }
  end
  d.offices = {
    office(10, "Springfield Main", 1, "Springfield", "US-OH", "eastern"),
    office(11, "Shelbyville", 1, "Shelbyville", "US-OH", "eastern"),
    office(12, "Capital City", 2, "Capital City", "US-TX", "central"),
    office(13, "Ogdenville", 3, "Ogdenville", "US-WA", "pacific"),
  }
  d.next_office_id, d.next_region_id = 14, 4
end

local function find(list, field, id)
  for i, x in ipairs(list) do
    if x[field] == id then return x, i end
  end
  return nil
end

M.find_office = function(model, id) return find(model.data.offices, "officeId", id) end
M.find_region = function(model, id) return find(model.data.regions, "regionId", id) end

-- The caller of the sandbox API: company user 5001 (who creates the seeded rooms).
local function current_user(model)
  return find(model.data.company, "userId", 5001)
end

local function contains(list, v)
  for _, x in ipairs(list or {}) do
    if x == v then return true end
  end
  return false
end

local function office_references(model, id)
  local users, rooms, groups = 0, 0, 0
  for _, u in ipairs(model.data.company) do
    if u.defaultOfficeId == id or contains(u.offices, id) then users = users + 1 end
  end
  for _, r in ipairs(model.data.rooms) do
    if r.officeId == id then rooms = rooms + 1 end
  end
  for _, g in ipairs(model.data.form_groups or {}) do
    if contains(g.officeIds, id) then groups = groups + 1 end
  end
  return { { referenceType = "Users", referencedCount = users }, { referenceType = "Rooms", referencedCount = rooms },
    { referenceType = "FormGroups", referencedCount = groups } }
end

local function region_references(model, id)
  local offices, users = 0, 0
  for _, o in ipairs(model.data.offices) do
    if o.regionId == id then offices = offices + 1 end
  end
  for _, u in ipairs(model.data.company) do
    if contains(u.regions, id) then users = users + 1 end
  end
  return { { referenceType = "Offices", referenceCount = offices }, { referenceType = "Users", referenceCount = users } }
end

local function in_use(refs, count_field)
  local parts = {}
  for _, r in ipairs(refs) do
    if r[count_field] > 0 then parts[#parts + 1] = r[count_field] .. " " .. r.referenceType:lower() end
  end
  return #parts > 0 and table.concat(parts, ", ") or nil
end

function M.routes(model, account)
  local h = {}

  local function office_of(req)
    local o = M.find_office(model, params.id(req.captures.officeId))
    if not o then return nil, gateway.not_found("office", "OFFICE_NOT_FOUND") end
    return o
  end

  local function region_of(req)
    local r = M.find_region(model, params.id(req.captures.regionId))
    if not r then return nil, gateway.not_found("region", "REGION_NOT_FOUND") end
    return r
  end

  function h.offices_list(req)
    local p = req.params or {}
    local only, err = params.bool(p, "onlyAccessible", false)
    if err then return gateway.bad(err) end
    local me = current_user(model)
    local items = {}
    for _, o in ipairs(model.data.offices) do
      local accessible = not only or not me or me.accessLevel == "Company" or me.accessLevel == "Admin"
        or me.defaultOfficeId == o.officeId or contains(me.offices, o.officeId)
        or (me.accessLevel == "Region" and contains(me.regions, o.regionId))
      local found = not p.search or p.search == "" or o.name:lower():find(p.search:lower(), 1, true)
      if accessible and found then items[#items + 1] = o end
    end
    return params.page(req, items, "officeSummaries", function(o) return params.copy(o, OFFICE) end)
  end

  function h.offices_create(_, body)
    local s, hd, b = params.typed(body, { name = "string", regionId = "integer", address1 = "string",
      address2 = "string", city = "string", stateId = "string", postalCode = "string", countryId = "string",
      timeZoneId = "string", phone = "string" })
    if s then return s, hd, b end
    if type(body.name) ~= "string" or body.name == "" then return gateway.bad("name is required") end
    if body.regionId ~= nil and not M.find_region(model, body.regionId) then
      return gateway.bad("regionId must name a region")
    end
    for field, list in pairs({ stateId = "states", countryId = "countries", timeZoneId = "time_zones" }) do
      if body[field] ~= nil and not lookups.has(list, body[field]) then
        return gateway.bad(field .. " must be one of the ids " .. list .. " lists")
      end
    end
    local d = model.data
    local o = params.copy(body, OFFICE)
    o.officeId, o.createdDate = d.next_office_id, params.now(model)
    d.next_office_id = d.next_office_id + 1
    d.offices[#d.offices + 1] = o
    return 201, {}, params.copy(o, OFFICE)
  end

  function h.offices_get(req)
    local o, s, hd, b = office_of(req)
    if not o then return s, hd, b end
    return 200, {}, params.copy(o, OFFICE)
  end

  function h.offices_delete(req)
    local o, s, hd, b = office_of(req)
    if not o then return s, hd, b end
    local refs = in_use(office_references(model, o.officeId), "referencedCount")
    if refs then return gateway.error(400, "OFFICE_IN_USE", "The office is still referenced by " .. refs .. ".") end
    local _, i = M.find_office(model, o.officeId)
    table.remove(model.data.offices, i)
    return 204, {}, ""
  end

  function h.offices_references(req)
    local o, s, hd, b = office_of(req)
    if not o then return s, hd, b end
    return 200, {}, { referencesCounts = params.list(office_references(model, o.officeId)) }
  end

  function h.regions_list(req)
    local p = req.params or {}
    local managed, err = params.bool(p, "managedOnly", false)
    if err then return gateway.bad(err) end
    local me = current_user(model)
    local items = {}
    for _, r in ipairs(model.data.regions) do
      if not managed or (me and contains(me.regions, r.regionId)) then items[#items + 1] = r end
    end
    return params.page(req, items, "regionSummaries", function(r) return params.copy(r, REGION) end)
  end

  function h.regions_create(_, body)
    local s, hd, b = params.typed(body, { name = "string", regionId = "integer", createdDate = "string" })
    if s then return s, hd, b end
    if type(body.name) ~= "string" or body.name == "" then return gateway.bad("name is required") end
    local d = model.data
    -- regionId and createdDate are the service's to assign, whatever the body says.
    local r = { regionId = d.next_region_id, name = body.name, createdDate = params.now(model) }
    d.next_region_id = d.next_region_id + 1
    d.regions[#d.regions + 1] = r
    return 201, {}, params.copy(r, REGION)
  end

  function h.regions_get(req)
    local r, s, hd, b = region_of(req)
    if not r then return s, hd, b end
    return 200, {}, params.copy(r, REGION)
  end

  function h.regions_delete(req)
    local r, s, hd, b = region_of(req)
    if not r then return s, hd, b end
    local refs = in_use(region_references(model, r.regionId), "referenceCount")
    if refs then return gateway.error(400, "REGION_IN_USE", "The region is still referenced by " .. refs .. ".") end
    local _, i = M.find_region(model, r.regionId)
    table.remove(model.data.regions, i)
    return 204, {}, ""
  end

  function h.regions_references(req)
    local r, s, hd, b = region_of(req)
    if not r then return s, hd, b end
    return 200, {}, { referenceCounts = params.list(region_references(model, r.regionId)) }
  end

  return {
    { "GET", account .. "/offices", h.offices_list },
    { "POST", account .. "/offices", h.offices_create, true },
    { "GET", account .. "/offices/{officeId}", h.offices_get },
    { "DELETE", account .. "/offices/{officeId}", h.offices_delete },
    { "GET", account .. "/offices/{officeId}/reference_counts", h.offices_references },
    { "GET", account .. "/regions", h.regions_list },
    { "POST", account .. "/regions", h.regions_create, true },
    { "GET", account .. "/regions/{regionId}", h.regions_get },
    { "DELETE", account .. "/regions/{regionId}", h.regions_delete },
    { "GET", account .. "/regions/{regionId}/reference_counts", h.regions_references },
  }
end

return M
