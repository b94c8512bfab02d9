--- The RUCKUS gateway for the sandbox (dwell.sandbox.ruckus): what every operation shares —
-- the per-property rate limit, the property id, the unit token, the request's JSON body, content
-- negotiation (406) and Spring's ErrorResource shape.
local json = require "dwell.sandbox.json"
local support = require "dwell.sandbox.support"
local seed = require "dwell.sandbox.ruckus.seed"

local M = {}

M.P = "/residents/properties/{propertyId}"
M.UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

local REASONS = { [400] = "BAD_REQUEST", [401] = "UNAUTHORIZED", [404] = "NOT_FOUND",
  [406] = "NOT_ACCEPTABLE", [415] = "UNSUPPORTED_MEDIA_TYPE", [429] = "TOO_MANY_REQUESTS", [500] = "INTERNAL_SERVER_ERROR" }

M.arr = support.array

--- c: the route set's context ({ config, env, property_id, limit, state, ... }; c.state is
-- replaced on reset, so it is read at each call). Returns the shared pieces.
function M.new(c)
  local config, env, property_id, limit = c.config, c.env, c.property_id, c.limit
  local iso, arr, UUID = seed.iso, M.arr, M.UUID

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
    local b = c.state.buckets[key]
    if not b then
      b = support.bucket(limit.capacity, limit.rate)
      c.state.buckets[key] = b
    end
    if not b.take(env.now()) then
      c.state.limited = c.state.limited + 1
      return false
    end
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
    local t = c.state.tokens[h]
    return t ~= nil and not t.revoked and env.now() < t.expires
  end

  -- Spring's order: a missing body (required or not), then the content type, then the JSON.
  local function json_body(req, required)
    if support.blank(req.body) then
      if required then return nil, { fail(400, "Missing or invalid request body", { "Required request body is missing" }) } end
      return {}
    end
    local ctype = (req.headers["content-type"] or ""):lower()
    if not (ctype:find("application/json", 1, true) or ctype:find("application/vnd.ruckus.v1+json", 1, true)) then
      return nil, { fail(415, "Content type '" .. ctype .. "' not supported") }
    end
    local v = support.json_value(req.body)
    if not v then
      return nil, { fail(400, "Missing or invalid request body", { "JSON parse error" }) }
    end
    return v
  end

  -- What each operation produces (docs/vendors/ruckus.md §3): JSON in its three media types, or CSS / PNG.
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
    c.state.not_acceptable = c.state.not_acceptable + 1
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
        c.state.unauthorized = c.state.unauthorized + 1
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

  return { error_body = error_body, fail = fail, base_url = base_url, links = links, HAL = HAL, hal = hal,
           media = media, take = take, limited = limited, property_ok = property_ok, authorized = authorized,
           json_body = json_body, acceptable = acceptable, not_acceptable = not_acceptable, route = route,
           str_field = str_field }
end

return M
