--- dwell.error: the one error type every layer returns as `nil, err`.
-- Fields: kind, status, code (the vendor's), message, vendor, endpoint,
-- request_id, retry_after (seconds), retryable, and details (vendor extras
-- such as validation errors). tostring gives one line, never secrets: callers
-- build messages from redacted material only.
-- @module dwell.error
local M = {}

-- invalid_argument is the local check before any I/O only; a server that refuses the
-- request's content answers `rejected`.
M.KINDS = {
  invalid_argument = true, rejected = true, auth = true, forbidden = true, not_found = true,
  rate_limited = true, api = true, http = true, timeout = true,
  transport = true, decode = true, store = true,
}

--- The kind an HTTP status says, where it says one (every vendor reads its statuses alike; what
-- other statuses mean is each vendor's): a 400 is the server refusing the request's content.
M.STATUS_KINDS = { [400] = "rejected", [401] = "auth", [403] = "forbidden", [404] = "not_found",
  [429] = "rate_limited" }

local Error = {}
Error.__index = Error
Error.__name = "dwell.error"

function Error:__tostring()
  local where = self.vendor or "dwell"
  if self.endpoint then where = where .. " " .. self.endpoint end
  local parts = { "dwell.error[" .. where .. "] " .. self.kind }
  if self.status then parts[#parts + 1] = "(HTTP " .. self.status .. ")" end
  if self.code ~= nil then parts[#parts + 1] = "code " .. tostring(self.code) end
  parts[#parts + 1] = ": " .. (self.message or "")
  if self.request_id then parts[#parts + 1] = "[request " .. tostring(self.request_id) .. "]" end
  local line = table.concat(parts, " "):gsub(" : ", ": ")
  return (line:gsub("[\r\n]+", " "))
end

--- Creates an error; `fields.kind` must be one of M.KINDS.
function M.new(fields)
  assert(M.KINDS[fields.kind], "dwell.error: unknown kind " .. tostring(fields.kind))
  local e = {}
  for k, v in pairs(fields) do e[k] = v end
  if e.retryable == nil then
    e.retryable = e.kind == "rate_limited" or e.kind == "timeout" or e.kind == "transport"
  end
  return setmetatable(e, Error)
end

--- True when `x` is a dwell.error.
function M.is(x)
  return getmetatable(x) == Error
end

--- `text` with every string of the list `secrets` replaced by "[redacted]" (non-strings pass).
local function mask_text(text, secrets)
  if type(text) ~= "string" then return text end
  for _, s in ipairs(secrets) do
    local i = 1
    while true do
      local a, b = text:find(s, i, true)
      if not a then break end
      text = text:sub(1, a - 1) .. "[redacted]" .. text:sub(b + 1)
      i = a + #"[redacted]"
    end
  end
  return text
end

M.mask_text = mask_text

-- The secrets worth masking, longest first (so that a secret containing another is masked
-- whole); too-short and non-string entries are skipped.
local function secret_list(secrets)
  local list, seen = {}, {}
  for _, s in pairs(secrets) do
    if type(s) == "string" and #s >= 4 and not seen[s] then list[#list + 1], seen[s] = s, true end
  end
  table.sort(list, function(a, b) return #a > #b end)
  return list
end

-- Masks every string inside `v`, tables included (headers, details, rate limits), in place.
local function mask_value(v, list, depth)
  if type(v) == "string" then return mask_text(v, list) end
  if type(v) ~= "table" or depth > 8 or getmetatable(v) == Error then return v end
  for k, item in pairs(v) do v[k] = mask_value(item, list, depth + 1) end
  return v
end

--- Masks every string of `secrets` wherever the error repeats it, in every field and every
-- table under it (headers, details): servers may echo what they were sent. Returns `err`.
function M.mask(err, secrets)
  if type(err) ~= "table" or type(secrets) ~= "table" then return err end
  local list = secret_list(secrets)
  if #list == 0 then return err end
  for k, v in pairs(err) do err[k] = mask_value(v, list, 1) end
  return err
end

--- The usual shape for bad input: names the endpoint, the parameter and the rule.
-- Rules read on from the parameter's name ("'x' must be ...", "'x' is required"); a
-- documented rule worded as a sentence of its own gets a colon instead.
local function joins_name(rule)
  return rule:match("^must ") or rule:match("^is ") or rule:match("^given ") or rule:match("^has ")
end

function M.invalid_argument(vendor, endpoint, param, rule)
  local message = rule
  if param then message = "'" .. param .. "'" .. (joins_name(rule) and " " or ": ") .. rule end
  return M.new{
    kind = "invalid_argument", vendor = vendor, endpoint = endpoint, param = param, message = message,
  }
end

return M
