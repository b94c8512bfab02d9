--- How a Rooms request is laid out on the wire (docs/vendors/rooms.md §3): always Accept: application/json,
-- the bearer token, query values in the API's own spelling, a JSON body for every operation
-- that has a body model, and multipart/form-data for the uploads whose swagger parameter is
-- formData (dwell.rooms.upload). The OAuth service's requests arrive already built (req.url).
local errors = require "dwell.error"
local json = require "dwell.json"
local upload = require "dwell.rooms.upload"
local url = require "dwell.url"

local M = {}

-- Query values with a `canonical` map are sent in the API's own spelling.
local function canonicalize(spec, req)
  for _, p in ipairs(spec.params) do
    if p.canonical then
      for _, kv in ipairs(req.query) do
        if kv[1] == p.wire then
          kv[2] = kv[2]:gsub("[^,]+", function(part) return p.canonical[part:lower()] or part end)
        end
      end
    end
  end
end

-- Whether the operation has a JSON body model (any body parameter declared).
local function takes_body(spec)
  for _, p in ipairs(spec.params) do
    if p["in"] == "body" then return true end
  end
  return false
end

-- The body and its Content-Type. A body model whose fields are all optional (RoomUserForUpdate,
-- RoomUserRemovalDetail) still travels as JSON: an empty object, not an empty body, which a
-- model-binding server may refuse.
local function body_of(spec, req)
  for _, p in ipairs(spec.params) do
    if p["in"] == "formData" and req.values[p.name] ~= nil then
      return upload.encode(p.wire, req.values[p.name], req.values.file_name, req.values.content_type)
    end
  end
  if req.body ~= nil then return json.encode(req.body), "application/json" end
  if takes_body(spec) then return "{}", "application/json" end
  if spec.method == "POST" or spec.method == "PUT" then return "" end
  return nil
end

--- { method, url, headers, body } for an engine request (or a built OAuth one) and a token.
function M.build(base_url, spec, req, token)
  local headers = { Accept = "application/json" }
  for k, v in pairs(req.headers or {}) do headers[k] = v end
  if token then headers.Authorization = "Bearer " .. token end
  if req.url then return { method = spec.method, url = req.url, headers = headers, body = req.body } end
  canonicalize(spec, req)
  local qs = url.query_string(req.query)
  local body, ctype = body_of(spec, req)
  headers["Content-Type"] = ctype
  return { method = spec.method, url = base_url .. req.path .. (qs ~= "" and ("?" .. qs) or ""),
    headers = headers, body = body }
end

--- Conditional requirements a parameter table cannot express (spec.required_when, and
-- spec.required_one_of = { { a, b, ... } }: at least one of them): true, or nil,
-- invalid_argument before any I/O.
function M.check(spec, req)
  for _, r in ipairs(spec.required_when or {}) do
    local field, other, value = r[1], r[2], r[3]
    if req.values[other] == value and req.values[field] == nil then
      return nil, errors.invalid_argument("rooms", spec.name, field, "is required when " .. other .. " is " .. tostring(value))
    end
  end
  for _, names in ipairs(spec.required_one_of or {}) do
    local found = false
    for _, n in ipairs(names) do found = found or req.values[n] ~= nil end
    if not found then
      return nil, errors.invalid_argument("rooms", spec.name, names[1],
        "is required unless " .. table.concat(names, " or ", 2) .. " is given")
    end
  end
  return true
end

return M
