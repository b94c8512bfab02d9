--- How a Tuya call runs on dwell.pipeline: signed (request.lua), read from the envelope
-- (envelope.lua, docs/vendors/tuya.md §5) into the pipeline's verdicts, and hooks that never see the refresh
-- token the token path carries. `a` is the client state.
local json = require "dwell.json"
local retry = require "dwell.retry"
local envelope = require "dwell.tuya.envelope"
local request = require "dwell.tuya.request"

local M = {}

-- The refresh token travels in the path, where the transport's query-name masking cannot see
-- it: hook data gets it masked here (dwell.redact.token_path).
local scrub_url = require("dwell.redact").token_path

local function redact(info)
  if type(info) ~= "table" or type(info.url) ~= "string" then return info end
  local out = {}
  for k, v in pairs(info) do out[k] = v end
  out.url = scrub_url(info.url)
  return out
end

function M.wrap_hook(fn)
  if not fn then return nil end
  return function(info, ...) return fn(redact(info), ...) end
end

M.profile = { vendor = "tuya", redact = { "sign", "access_token" } }

function M.profile.sign(a, spec, req, cred, ctx)
  local hreq, err = request.build(a, spec, req, nil, cred and cred.token)
  if not hreq then return nil, err end
  ctx.secrets[#ctx.secrets + 1] = hreq.headers.sign
  ctx.secrets[#ctx.secrets + 1] = req.values and req.values.refresh_token
  return hreq
end

function M.profile.classify(a, spec, resp)
  local env, derr = envelope.decode(resp, json, { endpoint = spec.name, snake_keys = not a.raw_keys })
  if not env then
    -- HTTP-level, not an envelope (dwell.retry.status_verdict).
    return retry.status_verdict(resp, derr) or { fail = derr }
  end
  -- Unless raw_keys is set, the decoder already spelt the result's keys in snake_case.
  -- A success without a result is still a success: `ep(args)` never answers nil without an error.
  if env.success then
    local result = env.result
    if result == nil then result = true end
    return true, result
  end
  local code = math.tointeger(tonumber(env.code))
  local err = envelope.error(env, { endpoint = spec.name }, resp.status)
  if envelope.REAUTH[code] and spec.auth ~= "none" then return { reauth = true, err = err } end
  if code == envelope.CLOCK and a:adjust_clock(env.t) then return { again = true, err = err } end
  if envelope.THROTTLED[code] then return { wait = nil, err = err } end
  if envelope.TRANSIENT[code] then return { transient = true, err = err } end
  return { fail = err }
end

return M
