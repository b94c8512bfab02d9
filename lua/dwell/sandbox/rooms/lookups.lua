--- The Rooms sandbox's lookup lists (GET /v2/<name>, no account, transaction sides among them),
-- the account itself and its eSignature permission profiles: seeded, read-only. Ids follow the documented shapes where the swagger
-- gives one (stateId "US-OH", countryId "US"/"UK", timeZoneId "eastern", closing statuses of
-- docs/vendors/rooms.md §5); the rest are sandbox values (unverified against DocuSign's real lists).
local params = require "dwell.sandbox.rooms.params"
local seed = require "dwell.sandbox.rooms.seed"

local M = {}

local function pairs_of(id_field, rows)
  local out = {}
  for i, r in ipairs(rows) do out[i] = { [id_field] = r[1], name = r[2] } end
  return out
end

-- name (the path segment) -> the answer's list field, its id field, the rows.
M.LISTS = {
  { "closing_statuses", "closingStatuses", "closingStatusId", { { "sold", "Sold" }, { "dup", "Duplicate" },
    { "escrcncl", "Escrow Cancelled" }, { "inspctn", "Failed Inspection" }, { "exp", "Expired" } } },
  { "contact_sides", "contactSides", "contactSideId", { { "buy", "Buy Side" }, { "sell", "List Side" } } },
  { "countries", "countries", "countryId", { { "US", "United States" }, { "CA", "Canada" },
    { "UK", "United Kingdom" }, { "MX", "Mexico" }, { "AU", "Australia" } } },
  { "currencies", "currencies", "currencyId", { { "USD", "US Dollar" }, { "CAD", "Canadian Dollar" },
    { "GBP", "Pound Sterling" }, { "EUR", "Euro" }, { "AUD", "Australian Dollar" } } },
  { "financing_types", "financingTypes", "financingTypeId", { { "conv", "Conventional" }, { "fha", "FHA" },
    { "va", "VA" }, { "usda", "USDA" }, { "cash", "Cash" } } },
  { "origins_of_leads", "originsOfLeads", "originOfLeadId", { { "web", "Website" }, { "ref", "Referral" },
    { "sign", "Yard Sign" }, { "open", "Open House" }, { "social", "Social Media" } } },
  { "property_types", "propertyTypes", "propertyTypeId", { { "sfr", "Single Family" }, { "condo", "Condominium" },
    { "town", "Townhouse" }, { "multi", "Multi-Family" }, { "land", "Land" }, { "comm", "Commercial" } } },
  { "room_contact_types", "roomContactTypes", "id", { { "buyer", "Buyer" }, { "seller", "Seller" },
    { "lender", "Lender" }, { "title", "Title Company" }, { "inspector", "Inspector" }, { "attorney", "Attorney" } } },
  { "seller_decision_types", "sellerDecisionTypes", "sellerDecisionTypeId", { { "acc", "Accepted" },
    { "rej", "Rejected" }, { "cntr", "Countered" } } },
  { "special_circumstance_types", "specialCircumstanceTypes", "specialCircumstanceTypeId", { { "short", "Short Sale" },
    { "reo", "REO / Bank Owned" }, { "auction", "Auction" }, { "probate", "Probate" } } },
  { "states", "states", "stateId", { { "US-CA", "California" }, { "US-NY", "New York" }, { "US-OH", "Ohio" },
    { "US-TX", "Texas" }, { "US-WA", "Washington" }, { "CA-ON", "Ontario" }, { "CA-BC", "British Columbia" } } },
  { "task_date_types", "taskDateTypes", "taskDateTypeId", { { "contract", "Contract Date" },
    { "closing", "Closing Date" }, { "listing", "Listing Date" }, { "fixed", "Fixed Date" } } },
  { "task_responsibility_types", "taskResponsibilityTypes", "taskResponsibilityTypeId", { { "agent", "Agent" },
    { "buyer", "Buyer" }, { "seller", "Seller" }, { "tc", "Transaction Coordinator" } } },
  { "task_statuses", "taskStatuses", "taskStatusId", { { "notstarted", "Not Started" },
    { "inprogress", "In Progress" }, { "complete", "Complete" }, { "na", "Not Applicable" } } },
  { "time_zones", "timeZones", "timeZoneId", { { "eastern", "Eastern" }, { "central", "Central" },
    { "mountain", "Mountain" }, { "pacific", "Pacific" }, { "alaska", "Alaska" }, { "hawaii", "Hawaii" } } },
}

M.PERMISSION_PROFILES = {
  { eSignPermissionProfileId = "1", name = "Account Administrator", settings = { allowAccountManagement = true } },
  { eSignPermissionProfileId = "2", name = "DS Sender", settings = { allowAccountManagement = false } },
  { eSignPermissionProfileId = "3", name = "DS Viewer", settings = { allowAccountManagement = false } },
}

local by_name = {}
for _, l in ipairs(M.LISTS) do by_name[l[1]] = l end

--- Whether `id` is one of the lookup list `name`'s ids (offices check stateId, countryId, timeZoneId).
function M.has(name, id)
  for _, r in ipairs(by_name[name][4]) do
    if r[1] == id then return true end
  end
  return false
end

--- Routes: { method, pattern, handler(req, body), takes_json_body }.
function M.routes(model, account)
  local out = {
    { "GET", account, function()
      return 200, {}, { companyId = 77, name = "Dwell Realty (sandbox)", companyVersion = "v6",
        docuSignAccountGuid = model.config.account_id, defaultFieldSetId = "4aef602b-0000-4000-8000-08d76696f678",
        requireOfficeLibraryAssignments = false }
    end },
    { "GET", "/restapi/v2/transaction_sides", function()
      -- A copy: the seed is never changed, not even by a metatable.
      local sides = params.list()
      for i, t in ipairs(seed.TRANSACTION_SIDES) do sides[i] = { transactionSideId = t.transactionSideId, name = t.name } end
      return 200, {}, { transactionSides = sides }
    end },
  }
  for _, l in ipairs(M.LISTS) do
    local key, id_field, rows = l[2], l[3], l[4]
    out[#out + 1] = { "GET", "/restapi/v2/" .. l[1], function()
      return 200, {}, { [key] = params.list(pairs_of(id_field, rows)) }
    end }
  end
  out[#out + 1] = { "GET", account .. "/esign_permission_profiles", function()
    local list = params.list()
    for i, p in ipairs(M.PERMISSION_PROFILES) do
      list[i] = { eSignPermissionProfileId = p.eSignPermissionProfileId, name = p.name,
        settings = { allowAccountManagement = p.settings.allowAccountManagement } }
    end
    return 200, {}, { permissionProfiles = list }
  end }
  return out
end

return M
