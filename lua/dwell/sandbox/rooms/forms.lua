--- The Rooms sandbox's forms: seeded form libraries and their forms (read-only, with details),
-- form groups (created, renamed, deleted; forms assigned and unassigned; offices granted and
-- revoked), form provider associations, and external form fill sessions.
local json = require("dwell.core").json
local offices = require "dwell.sandbox.rooms.offices"
local gateway = require "dwell.sandbox.rooms.gateway"
local params = require "dwell.sandbox.rooms.params"

local M = {}

local UPDATED = "2024-03-01T12:00:00Z"

-- Libraries and their forms: { id, name, owner, { form names } }.
local LIBRARIES = {
  { "Ohio Association of Realtors", "Ohio Association of Realtors", { "Residential Purchase Agreement",
    "Seller's Property Disclosure", "Lead-Based Paint Disclosure", "Agency Disclosure Statement",
    "Short Sale Supplement to Marketing Agreement" } },
  { "Company Forms", "Dwell Realty", { "Commission Agreement", "Listing Checklist", "Wire Fraud Advisory" } },
  { "Commercial", "Dwell Realty", { "Commercial Lease Agreement", "Letter of Intent" } },
}

M.libraries, M.forms = {}, {}
do
  local n = 0
  for li, l in ipairs(LIBRARIES) do
    local lib = { formsLibraryId = params.guid(0x301f5600, li), name = l[1], forms = {} }
    for _, name in ipairs(l[3]) do
      n = n + 1
      local form = { formId = params.guid(0x5be32400, n), name = name, owner = l[2], library = lib,
        pages = 1 + n % 4 }
      lib.forms[#lib.forms + 1] = form
      M.forms[#M.forms + 1] = form
    end
    M.libraries[li] = lib
  end
end

function M.find_form(id)
  id = type(id) == "string" and id:lower() or id
  for _, f in ipairs(M.forms) do
    if f.formId == id then return f end
  end
  return nil
end

local PROVIDERS = { nar = { "NAR Residential", "NAR Commercial", "NAR Disclosures" }, nwmls = { "NWMLS Forms" } }

function M.seed(model)
  local function group(n, name, form_ids, office_ids)
    local g = { formGroupId = params.guid(0x7b879c00, n), name = name, officeIds = office_ids, forms = {} }
    for _, i in ipairs(form_ids) do g.forms[#g.forms + 1] = { form = M.forms[i], isRequired = i % 2 == 1 } end
    return g
  end
  model.data.form_groups = {
    group(1, "Listing Packet", { 1, 2, 3 }, { 10, 11 }),
    group(2, "Buyer Packet", { 1, 4 }, { 10 }),
    group(3, "Commercial Packet", { 9, 10 }, { 12 }),
  }
  model.data.next_form_group, model.data.next_fill_session = 4, 1
end

local function find_group(model, id)
  id = tostring(id):lower()
  for i, g in ipairs(model.data.form_groups) do
    if g.formGroupId == id then return g, i end
  end
  return nil
end

local function group_form(entry, with_access)
  local v = { formId = entry.form.formId, name = entry.form.name, isRequired = entry.isRequired,
    lastUpdatedDate = UPDATED }
  if with_access then v.viewingUserHasAccess = true end
  return v
end

local function group_view(g)
  local forms = params.list()
  for i, e in ipairs(g.forms) do forms[i] = group_form(e, true) end
  local ids = params.list()
  for i, o in ipairs(g.officeIds) do ids[i] = o end
  return { formGroupId = g.formGroupId, name = g.name, officeIds = ids, forms = forms }
end

function M.routes(model, account)
  local h = {}

  local function group_of(req)
    if not params.is_uuid(req.captures.formGroupId) then return nil, gateway.bad("formGroupId must be a GUID") end
    local g = find_group(model, req.captures.formGroupId)
    if not g then return nil, gateway.not_found("form group", "FORM_GROUP_NOT_FOUND") end
    return g
  end

  local function name_of(body, except)
    if type(body.name) ~= "string" or body.name == "" then return nil, gateway.bad("name is required") end
    for _, g in ipairs(model.data.form_groups) do
      if g ~= except and g.name:lower() == body.name:lower() then
        return nil, gateway.error(400, "FORM_GROUP_ALREADY_EXISTS", "A form group named " .. body.name .. " exists.")
      end
    end
    return body.name
  end

  function h.groups_list(req)
    return params.page(req, model.data.form_groups, "formGroups", function(g)
      return { formGroupId = g.formGroupId, name = g.name, formCount = #g.forms }
    end)
  end

  function h.groups_create(_, body)
    local name, s, hd, b = name_of(body)
    if not name then return s, hd, b end
    local n = model.data.next_form_group
    model.data.next_form_group = n + 1
    local g = { formGroupId = params.guid(0x7b879c00, n), name = name, officeIds = {}, forms = {} }
    model.data.form_groups[#model.data.form_groups + 1] = g
    return 201, {}, group_view(g)
  end

  function h.groups_get(req)
    local g, s, hd, b = group_of(req)
    if not g then return s, hd, b end
    return 200, {}, group_view(g)
  end

  function h.groups_rename(req, body)
    local g, s, hd, b = group_of(req)
    if not g then return s, hd, b end
    local name
    name, s, hd, b = name_of(body, g)
    if not name then return s, hd, b end
    g.name = name
    return 200, {}, group_view(g)
  end

  function h.groups_delete(req)
    local g, s, hd, b = group_of(req)
    if not g then return s, hd, b end
    local _, i = find_group(model, g.formGroupId)
    table.remove(model.data.form_groups, i)
    return 204, {}, ""
  end

  function h.group_forms(req)
    local g, s, hd, b = group_of(req)
    if not g then return s, hd, b end
    return params.page(req, g.forms, "forms", function(e) return group_form(e, false) end)
  end

  function h.assign(req, body)
    local g, s, hd, b = group_of(req)
    if not g then return s, hd, b end
    if not params.is_uuid(body.formId) then return gateway.bad("formId is required and must be a GUID") end
    if body.isRequired ~= nil and type(body.isRequired) ~= "boolean" then return gateway.bad("isRequired must be a boolean") end
    local form = M.find_form(body.formId)
    if not form then return gateway.error(400, "FORM_NOT_FOUND", "The form is in none of the company's libraries.") end
    for _, e in ipairs(g.forms) do
      if e.form == form then
        e.isRequired = body.isRequired == true
        return 204, {}, ""
      end
    end
    g.forms[#g.forms + 1] = { form = form, isRequired = body.isRequired == true }
    return 204, {}, ""
  end

  function h.unassign(req)
    local g, s, hd, b = group_of(req)
    if not g then return s, hd, b end
    local id = req.captures.formId:lower()
    for i, e in ipairs(g.forms) do
      if e.form.formId == id then
        table.remove(g.forms, i)
        return 204, {}, ""
      end
    end
    return gateway.error(400, "FORM_NOT_IN_GROUP", "The form is not in the form group.")
  end

  local function office_access(grant)
    return function(req)
      local g, s, hd, b = group_of(req)
      if not g then return s, hd, b end
      local id = params.id(req.captures.officeId)
      if not offices.find_office(model, id) then return gateway.not_found("office", "OFFICE_NOT_FOUND") end
      local kept = {}
      for _, o in ipairs(g.officeIds) do
        if o ~= id then kept[#kept + 1] = o end
      end
      if grant then kept[#kept + 1] = id end
      g.officeIds = kept
      return 204, {}, ""
    end
  end

  function h.libraries(req)
    return params.page(req, M.libraries, "formsLibrarySummaries", function(l)
      return { formsLibraryId = l.formsLibraryId, name = l.name, formCount = #l.forms }
    end)
  end

  function h.library_forms(req)
    if not params.is_uuid(req.captures.formLibraryId) then return gateway.bad("formLibraryId must be a GUID") end
    local lib
    for _, l in ipairs(M.libraries) do
      if l.formsLibraryId == req.captures.formLibraryId:lower() then lib = l end
    end
    if not lib then return gateway.not_found("form library", "FORM_LIBRARY_NOT_FOUND") end
    return params.page(req, lib.forms, "forms", function(f)
      return { libraryFormId = f.formId, name = f.name, lastUpdatedDate = UPDATED, viewingUserHasAccess = true }
    end)
  end

  function h.details(req)
    local f = params.is_uuid(req.captures.formId) and M.find_form(req.captures.formId)
    if not f then return gateway.not_found("form", "FORM_NOT_FOUND") end
    return 200, {}, { formId = f.formId, name = f.name, createdDate = "2023-11-20T08:00:00Z",
      lastUpdatedDate = UPDATED, availableOnDate = "2024-01-01T00:00:00Z", ownerName = f.owner, version = "1",
      numberOfPages = f.pages }
  end

  function h.associations(req)
    local names = PROVIDERS[req.captures.providerId:lower()] or {}
    local items = {}
    for i, name in ipairs(names) do
      items[i] = { associationId = req.captures.providerId:lower() .. "-" .. i, providerId = req.captures.providerId,
        lastUpdateDate = UPDATED, formProviderAssociationGuid = params.guid(0xa550c000, i),
        formProviderAssociationName = name }
    end
    return params.page(req, items, "formProviderAssociations", function(a) return a end)
  end

  function h.fill_session(_, body)
    if math.type(body.roomId) ~= "integer" then return gateway.bad("roomId is required") end
    if not model.data.room_by_id[body.roomId] then return gateway.not_found("room", "ROOM_NOT_FOUND") end
    local ids = {}
    if body.formId ~= nil and body.formId ~= json.null then ids[#ids + 1] = body.formId end
    if type(body.formIds) == "table" then
      for _, id in ipairs(body.formIds) do ids[#ids + 1] = id end
    end
    if #ids == 0 then return gateway.bad("formId or formIds is required") end
    for _, id in ipairs(ids) do
      if not M.find_form(id) then return gateway.error(400, "FORM_NOT_FOUND", "No library form " .. tostring(id) .. ".") end
    end
    local n = model.data.next_fill_session
    model.data.next_fill_session = n + 1
    return 201, {}, { url = "https://forms.sandbox.invalid/fill/" .. params.guid(0xf111, n) }
  end

  return {
    { "GET", account .. "/form_groups", h.groups_list },
    { "POST", account .. "/form_groups", h.groups_create, true },
    { "GET", account .. "/form_groups/{formGroupId}", h.groups_get },
    { "PUT", account .. "/form_groups/{formGroupId}", h.groups_rename, true },
    { "DELETE", account .. "/form_groups/{formGroupId}", h.groups_delete },
    { "GET", account .. "/form_groups/{formGroupId}/forms", h.group_forms },
    { "POST", account .. "/form_groups/{formGroupId}/assign_form", h.assign, true },
    { "POST", account .. "/form_groups/{formGroupId}/unassign_form/{formId}", h.unassign },
    { "POST", account .. "/form_groups/{formGroupId}/grant_office_access/{officeId}", office_access(true) },
    { "POST", account .. "/form_groups/{formGroupId}/revoke_office_access/{officeId}", office_access(false) },
    { "GET", account .. "/form_libraries", h.libraries },
    { "GET", account .. "/form_libraries/{formLibraryId}/forms", h.library_forms },
    { "GET", account .. "/forms/{formId}/details", h.details },
    { "GET", account .. "/form_providers/{providerId}/associations", h.associations },
    { "POST", account .. "/external_form_fill_sessions", h.fill_session, true },
  }
end

return M
