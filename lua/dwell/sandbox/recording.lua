--- Recorded exchanges for the "record" and "replay" route sets (bin/dwell-sandbox --record
-- DIR --upstream URL, --replay DIR): one JSON file per exchange, DIR/000001.json, ...,
--   { request = { method, path, query, headers, body }, response = { status, headers, body } }
-- (a body that is not UTF-8 text is kept as body_base64 instead). Secrets are scrubbed before
-- anything is written, by the one list the client masks its logs and errors with
-- (dwell.redact.is_secret): header values, query values, and in JSON or form bodies the
-- values of secret-named fields, all become dwell.redact.MASK; so does a token in a path
-- (Tuya's refresh). What a replay matches by is dwell.sandbox.replay.match.
local core = require "dwell.core"
local json = require "dwell.sandbox.json"
local redact = require "dwell.redact"
local support = require "dwell.sandbox.support"

local M = {}

M.MASK = redact.MASK

-- Not forwarded either way: hop-by-hop headers (RFC 9110 §7.6.1), what the transports set
-- for themselves, and Accept-Encoding (so that bodies arrive, and are stored, uncompressed).
local DROP = {
  host = true, connection = true, ["keep-alive"] = true, ["transfer-encoding"] = true, te = true,
  trailer = true, upgrade = true, ["proxy-connection"] = true, ["content-length"] = true,
  ["accept-encoding"] = true, expect = true,
}

function M.forwarded(name)
  return not DROP[name:lower()]
end

local function mask_value(name, v)
  if redact.is_secret(name) and v ~= "" then return M.MASK end
  return v
end

--- A copy of a header map (name -> value or list of values) with secret values masked.
function M.scrub_headers(h)
  local out = {}
  for k, v in pairs(h or {}) do
    if type(v) == "table" then
      local list = {}
      for i, x in ipairs(v) do list[i] = mask_value(k, x) end
      out[k] = list
    else
      out[k] = mask_value(k, v)
    end
  end
  return out
end

--- A path with the secrets that travel in paths masked: Tuya's refresh token
-- (/v1.0/token/{refresh_token}), by dwell.redact's rule for it.
function M.scrub_path(p)
  return redact.token_path(p or "")
end

--- A raw query string (or form body) with the values of secret parameters masked; the
-- rest stays byte for byte as it was.
function M.scrub_query(q)
  return (tostring(q or ""):gsub("([^&=]*)=([^&]*)", function(k, v)
    if v ~= "" and redact.is_secret(support.decode(k, true)) then return k .. "=" .. M.MASK end
  end))
end

local function scrub_json(v)
  if type(v) ~= "table" then return v end
  local out = setmetatable({}, getmetatable(v))
  for k, x in pairs(v) do
    if type(k) == "string" and redact.is_secret(k) and type(x) ~= "table" then out[k] = M.MASK
    else out[k] = scrub_json(x) end
  end
  return out
end

--- A body with secret fields masked: JSON (objects at any depth) and form bodies; any
-- other body is kept as it is.
function M.scrub_body(body, content_type)
  if body == nil or body == "" then return body end
  local ctype = (content_type or ""):lower()
  if ctype:find("json", 1, true) or body:match("^%s*[{%[]") then
    local doc = json.decode(body)
    if type(doc) == "table" then
      local text = json.encode(scrub_json(doc))
      if text then return text end
    end
  end
  if ctype:find("application/x-www-form-urlencoded", 1, true) then return M.scrub_query(body) end
  return body
end

local function header_value(h, name)
  for k, v in pairs(h or {}) do
    if k:lower() == name then return type(v) == "table" and v[1] or v end
  end
end

local function body_fields(t, body)
  if body == nil or body == "" then return end
  if utf8.len(body) then t.body = body else t.body_base64 = core.base64_encode(body) end
end

--- The file name of exchange n.
function M.file(dir, n)
  return ("%s/%06d.json"):format(dir, n)
end

--- Writes exchange n: req as the router gave it, resp = { status, headers, body }.
function M.save(dir, n, req, resp)
  local r = { method = req.method, path = M.scrub_path(req.path), query = M.scrub_query(req.query),
              headers = M.scrub_headers(req.headers) }
  body_fields(r, M.scrub_body(req.body, header_value(req.headers, "content-type")))
  local a = { status = resp.status, headers = M.scrub_headers(resp.headers) }
  body_fields(a, M.scrub_body(resp.body, header_value(resp.headers, "content-type")))
  local text = assert(json.encode({ request = r, response = a }))
  local f = assert(io.open(M.file(dir, n), "wb"))
  f:write(text, "\n")
  f:close()
end

--- Every exchange in dir, in order (000001.json, 000002.json, ... up to the first gap).
function M.load(dir)
  local list = {}
  while true do
    local f = io.open(M.file(dir, #list + 1), "rb")
    if not f then break end
    local text = f:read("a")
    f:close()
    local doc, err = json.decode(text)
    if type(doc) ~= "table" or type(doc.request) ~= "table" or type(doc.response) ~= "table" then
      error(("%s: not a recorded exchange (%s)"):format(M.file(dir, #list + 1), tostring(err or "bad shape")), 0)
    end
    for _, part in ipairs({ doc.request, doc.response }) do
      if part.body_base64 then part.body = core.base64_decode(part.body_base64) end
      part.body = part.body or ""
    end
    list[#list + 1] = doc
  end
  return list
end

return M
