--- The Rooms sandbox's room details: the account's field set (the fields of a room's Details
-- tab, id = the account's defaultFieldSetId), a room's field data read and updated against it
-- (unknown fields, wrong types, values outside a list's options, too long or out of range are
-- 400s; null clears a field), and the room templates.
local json = require("dwell.core").json
local lookups = require "dwell.sandbox.rooms.lookups"
local gateway = require "dwell.sandbox.rooms.gateway"
local params = require "dwell.sandbox.rooms.params"

local M = {}

M.FIELD_SET_ID = "4aef602b-0000-4000-8000-08d76696f678" -- the account's defaultFieldSetId

local function options(name)
  for _, l in ipairs(lookups.LISTS) do
    if l[1] == name then
      local out = {}
      for i, r in ipairs(l[4]) do out[i] = { id = r[1], title = r[2], order = i } end
      return out
    end
  end
  error("no lookup " .. name)
end

-- apiName, title, type, configuration, required on create, required on submit
local FIELDS = {
  { "address1", "Address", "Text", { maxLength = 100 }, true, true },
  { "address2", "Address line 2", "Text", { maxLength = 100 } },
  { "city", "City", "Text", { maxLength = 50 }, true, true },
  { "state", "State", "SelectList", { options = "states" }, true, true },
  { "postalCode", "Postal code", "Text", { maxLength = 10, minLength = 3, pattern = "^[0-9A-Za-z -]+$" }, true, true },
  { "yearBuilt", "Year built", "Integer", { minValue = 1600, maxValue = 2100 } },
  { "originalListingAmount", "Original listing amount", "Currency", { minValue = 0, multipleOf = 0.01 } },
  { "propertyTypeId", "Property type", "SelectList", { options = "property_types" } },
  { "financingTypeId", "Financing type", "SelectList", { options = "financing_types" }, false, true },
  { "closingDate", "Closing date", "Date", {}, false, true },
  { "hasHoa", "Homeowners association", "Checkbox", {} },
}

local by_api = {}
for i, f in ipairs(FIELDS) do by_api[f[1]] = f; f.index = i end

local function field_view(f)
  local cfg = {}
  for k, v in pairs(f[4]) do
    if k == "options" then cfg.options = params.list(options(v)) else cfg[k] = v end
  end
  cfg.isPublisher = false
  return { fieldId = params.guid(0x4aef6100, f.index), fieldDefinitionId = params.guid(0x0f1e1d00, f.index),
    title = f[2], apiName = f[1], type = f[3], fields = params.list(), configuration = cfg,
    customData = { isRequiredOnCreate = f[5] == true, isRequiredOnSubmit = f[6] == true } }
end

local FILTERS = { none = true, isrequiredoncreate = true, isrequiredonsubmit = true }

local function field_set(filter)
  local wanted = {}
  for part in (filter or ""):gmatch("[^,]+") do wanted[part:lower()] = true end
  local fields = params.list()
  for _, f in ipairs(FIELDS) do
    local keep = next(wanted) == nil or wanted.none or (wanted.isrequiredoncreate and f[5])
      or (wanted.isrequiredonsubmit and f[6])
    if keep then fields[#fields + 1] = field_view(f) end
  end
  return { fieldSetId = M.FIELD_SET_ID, title = "Residential field set", fields = fields }
end

-- The rule a value breaks for field `f`, or nil.
local function invalid(f, v)
  local t, cfg = f[3], f[4]
  if t == "Text" or t == "TextArea" or t == "Date" then
    if type(v) ~= "string" then return "must be a string" end
    if t == "Date" and not v:match("^%d%d%d%d%-%d%d%-%d%d") then return "must be a date (yyyy-mm-dd...)" end
    local n = utf8.len(v) or #v
    if cfg.maxLength and n > cfg.maxLength then return "must be at most " .. cfg.maxLength .. " characters" end
    if cfg.minLength and n < cfg.minLength then return "must be at least " .. cfg.minLength .. " characters" end
    if cfg.pattern and not v:match(cfg.pattern) then return "has characters the field does not allow" end
  elseif t == "SelectList" then
    if not lookups.has(cfg.options, v) then return "must be one of the list's option ids" end
  elseif t == "Checkbox" then
    if type(v) ~= "boolean" then return "must be true or false" end
  else -- Integer, Numeric, Currency, Percentage
    if type(v) ~= "number" or (t == "Integer" and math.type(v) ~= "integer") then
      return "must be " .. (t == "Integer" and "an integer" or "a number")
    end
    if (cfg.minValue and v < cfg.minValue) or (cfg.maxValue and v > cfg.maxValue) then
      return "is out of range"
    end
  end
  return nil
end

local TEMPLATES = {
  { roomTemplateId = 1, name = "Residential Listing", taskTemplateCount = 3, offices = { 10, 11 }, enabled = true },
  { roomTemplateId = 2, name = "Buyer Representation", taskTemplateCount = 2, enabled = true },
  { roomTemplateId = 3, name = "Commercial Lease", taskTemplateCount = 1, offices = { 12 }, enabled = true },
  { roomTemplateId = 4, name = "Legacy Listing", taskTemplateCount = 0, enabled = false },
  { roomTemplateId = 5, name = "Short Sale", taskTemplateCount = 2, offices = { 13 }, enabled = true },
}

local function valid_for(t, office)
  if not t.offices or not office then return true end
  for _, o in ipairs(t.offices) do
    if o == office then return true end
  end
  return false
end

function M.routes(model, account)
  local h = {}

  local function room_of(req)
    local room = model.data.room_by_id[params.id(req.captures.roomId)]
    if not room then return nil, gateway.not_found("room", "ROOM_NOT_FOUND") end
    return room
  end

  function h.field_set(req)
    if req.captures.fieldSetId:lower() ~= M.FIELD_SET_ID then return gateway.not_found("field set", "FIELD_SET_NOT_FOUND") end
    local filter = (req.params or {}).fieldsCustomDataFilters
    for part in (filter or ""):gmatch("[^,]+") do
      if not FILTERS[part:lower()] then
        return gateway.bad("fieldsCustomDataFilters must be None, IsRequiredOnCreate or IsRequiredOnSubmit")
      end
    end
    return 200, {}, field_set(filter)
  end

  function h.room_field_set(req)
    local room, s, hd, b = room_of(req)
    if not room then return s, hd, b end
    return 200, {}, field_set(nil)
  end

  local function data_view(room)
    local data = {}
    for k, v in pairs((room.fieldData or {}).data or {}) do data[k] = v end
    return { data = data }
  end

  function h.field_data(req)
    local room, s, hd, b = room_of(req)
    if not room then return s, hd, b end
    return 200, {}, data_view(room)
  end

  function h.field_data_update(req, body)
    local room, s, hd, b = room_of(req)
    if not room then return s, hd, b end
    local data = body.data
    if data == nil or data == json.null then return 200, {}, data_view(room) end
    if type(data) ~= "table" or (getmetatable(data) == json.array_mt and next(data) ~= nil) then
      return gateway.bad("data must be an object of field names and values")
    end
    for k, v in pairs(data) do
      local f = by_api[k]
      if not f then return gateway.bad("data." .. tostring(k) .. " is not a field of the room's field set") end
      local rule = v ~= json.null and invalid(f, v)
      if rule then return gateway.bad("data." .. k .. " " .. rule) end
    end
    room.fieldData = room.fieldData or { data = {} }
    room.fieldData.data = room.fieldData.data or {}
    for k, v in pairs(data) do
      if v == json.null then room.fieldData.data[k] = nil else room.fieldData.data[k] = v end
    end
    room.fieldDataLastUpdatedDate = params.now(model)
    return 200, {}, data_view(room)
  end

  function h.room_templates(req)
    local p = req.params or {}
    local office, err = params.int(p, "officeId", nil)
    if err then return gateway.bad(err) end
    local enabled
    enabled, err = params.bool(p, "onlyEnabled", true)
    if err then return gateway.bad(err) end
    local assignable
    assignable, err = params.bool(p, "onlyAssignable", false)
    if err then return gateway.bad(err) end
    -- Assignable: usable in the current user's (5001's) default office.
    local mine
    for _, u in ipairs(model.data.company) do
      if u.userId == 5001 then mine = u.defaultOfficeId end
    end
    local items = {}
    for _, t in ipairs(TEMPLATES) do
      if (t.enabled or not enabled) and valid_for(t, office) and (not assignable or valid_for(t, mine)) then
        items[#items + 1] = t
      end
    end
    return params.page(req, items, "roomTemplates", function(t)
      return params.copy(t, { "roomTemplateId", "name", "taskTemplateCount" })
    end)
  end

  return {
    { "GET", account .. "/field_sets/{fieldSetId}", h.field_set },
    { "GET", account .. "/rooms/{roomId}/field_set", h.room_field_set },
    { "GET", account .. "/rooms/{roomId}/field_data", h.field_data },
    { "PUT", account .. "/rooms/{roomId}/field_data", h.field_data_update, true },
    { "GET", account .. "/room_templates", h.room_templates },
  }
end

return M
