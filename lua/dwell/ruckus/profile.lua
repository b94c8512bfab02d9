--- How a RUCKUS request is made and its answer read: the adapter the endpoint engine calls and
-- the dwell.pipeline profile (the contract is in pipeline.lua's header). The vendor's facts
-- (Accept values, kinds by status, secret header names) are data in init.lua, handed to new().
local errors = require "dwell.error"
local header = require("dwell.http").header
local json = require "dwell.json"
local retry = require "dwell.retry"
local url = require "dwell.url"
local login = require "dwell.ruckus.login"

local M = {}

local function str(v) return type(v) == "string" and v or nil end

-- The ErrorResource in a body (status, message, detailedMessage, validationErrors), or nil:
-- some 404s have no body at all.
local function error_resource(body)
  if not body:match("^%s*{") then return nil end
  local ok, v = pcall(json.decode, body)
  return ok and type(v) == "table" and v or nil
end

--- A non-2xx answer as a dwell.error. The HTTP status line decides the kind (`kinds`); the
-- body's "400 BAD_REQUEST" is kept as `code`. Secrets the server echoes are masked by the
-- pipeline, by value, in every field.
function M.map_error(spec, resp, kinds)
  local status, body = resp.status, resp.body or ""
  local e = { kind = kinds[status] or (status >= 400 and "api" or "http"), status = status, vendor = "ruckus",
    endpoint = spec.name, request_id = header(resp.headers, "x-request-id"), retry_after = retry.after(resp.headers),
    details = { validation_errors = {} } }
  -- Server-side failures may pass; the caller decides whether to try again.
  if status >= 500 and status ~= 501 then e.retryable = true end
  local doc = error_resource(body)
  if not doc then
    e.message = "HTTP " .. status .. (body == "" and " (no body)" or " (body is not an ErrorResource)")
    return errors.new(e)
  end
  local list = e.details.validation_errors
  for _, v in ipairs(type(doc.validationErrors) == "table" and doc.validationErrors or {}) do list[#list + 1] = tostring(v) end
  local msg, detailed = str(doc.message), str(doc.detailedMessage)
  e.code, e.details.detailed_message, e.details.timestamp = str(doc.status), detailed, str(doc.timestamp)
  local parts = { msg or ("HTTP " .. status) }
  if detailed and detailed ~= msg then parts[#parts + 1] = detailed end
  if #list > 0 then parts[#parts + 1] = "validation errors: " .. table.concat(list, "; ") end
  e.message = table.concat(parts, ": ")
  return errors.new(e)
end

-- A 2xx body: CSS and PNG as raw strings, nothing (deletes) as true, else JSON.
local function decode(spec, resp)
  local body = resp.body or ""
  if spec.response == "css" or spec.response == "png" then return body end
  if not body:find("%S") then return true end
  local ok, v = pcall(json.decode, body)
  if ok and v ~= nil then return v end
  return nil, errors.new{ kind = "decode", status = resp.status, vendor = "ruckus", endpoint = spec.name,
    message = "response body is not JSON (" .. tostring(header(resp.headers, "content-type")) .. ")" }
end

--- The profile over the vendor's facts: { accept = { json, css, png }, kinds = { [status] = kind },
-- redact = { header names } }.
function M.new(facts)
  local P = { vendor = "ruckus", redact = facts.redact }

  -- ctx.accept_any: this call was refused a 406 and asks with */* (per call, never shared).
  function P.sign(a, spec, req, cred, ctx)
    local headers = { Accept = ctx.accept_any and "*/*" or facts.accept[spec.response or "json"] or facts.accept.json }
    for k, v in pairs(req.headers or {}) do headers[k] = v end
    local body
    if req.body ~= nil or spec.method == "POST" or spec.method == "PUT" then
      body = json.encode(req.body or {}, { sort_keys = true })
      headers["Content-Type"] = "application/json"
    end
    if cred then headers.Authorization = (a.auth_scheme == "bearer" and "Bearer " or "") .. cred.token end
    -- Passphrases and the hashed secret travel in the body: errors must never repeat them.
    for _, p in ipairs(spec.params) do
      if p.secret then ctx.secrets[#ctx.secrets + 1] = req.values and req.values[p.name] end
    end
    local q = url.query_string(req.query)
    return { method = spec.method, url = a.base_url .. req.path .. (q ~= "" and ("?" .. q) or ""),
      headers = headers, body = body }
  end

  function P.classify(a, spec, resp, ctx)
    local status = resp.status
    if status >= 200 and status < 300 then
      -- The reset is taken to revoke the token (docs/vendors/ruckus.md §2.1, effect unverified): a client
      -- that can log in does so afresh on its next call; a static token is kept until refused.
      if spec.token_reset then a.credential:invalidate(ctx.cred) end
      local v, err = decode(spec, resp)
      if v == nil then return { fail = err } end
      return { ok = true, result = v }
    end
    local err = M.map_error(spec, resp, facts.kinds)
    if spec.token_reset then
      -- Never sent twice, whatever the answer (docs/vendors/ruckus.md §7); after a 401 the next call logs in.
      if status == 401 then a.credential:invalidate(ctx.cred) end
      return { fail = err }
    end
    if status == 401 and spec.auth ~= "none" then return { reauth = true, err = err } end
    -- The combined Accept is unverified (docs/vendors/ruckus.md §3): a server refusing it is asked once with */*.
    if status == 406 and not ctx.accept_any then
      ctx.accept_any = true
      return { again = true, err = err }
    end
    return retry.status_verdict(resp, err) or { fail = err }
  end

  return P
end

-- ---- the adapter the endpoint engine calls (dwell.api) ----------------------------------

local Adapter = {}
Adapter.__index = Adapter
Adapter.__name = "dwell.ruckus.adapter"

--- fields: vendor, config, base_url, auth_scheme, profile; the caller adds tree, credential
-- and pipeline.
function M.adapter(fields) return setmetatable(fields, Adapter) end

-- The local check before any I/O (and before a login): a body the schema requires.
local function check_body(spec, req)
  if spec.body_required and req.body == nil then
    return errors.invalid_argument("ruckus", spec.name, nil, "needs at least one body field")
  end
end

function Adapter:call(spec, req, opts)
  local bad = check_body(spec, req)
  if bad then return nil, bad end
  return self.pipeline:execute(spec, req, opts)
end

--- The request as it would be sent, the unit token shown as "<token>": prepare never logs in.
function Adapter:prepare(spec, req)
  local bad = check_body(spec, req)
  if bad then return nil, bad end
  return self.profile.sign(self, spec, req, spec.auth ~= "none" and { token = "<token>" } or nil, { secrets = {} })
end

--- fetch(current, deadline) for dwell.credential: a login with the hashed secret, run by the
-- pipeline within the calling request's deadline (never through the public tree).
function Adapter:login(deadline)
  local ep = self.tree.units.logins.create
  local req, err = ep:build{}
  if not req then return nil, err end
  local res
  res, err = self.pipeline:execute(ep.spec, req, { deadline = deadline })
  if res == nil then return nil, err end
  return login.entry(res, self.wall)
end

return M
