--- dwell.trace: every request and response of a client, one line each on stderr (or any
-- writer), masked: the hooks see redacted URLs only (no headers, no bodies), and every secret
-- the configuration holds is masked again by value. Tuya clients also show the string-to-sign.
-- A resend shows its attempt number and how long the client waited before it (backoff,
-- Retry-After, a rate limiter); a first attempt, how long a rate limiter held it.
--
--   local cfg = require("dwell.trace").install("tuya", cfg, { write = fn(line), on_event = fn(kind, info) })
--
-- `DWELL_TRACE=1` turns it on for every client made through `dwell.tuya/rooms/ruckus`.
local errors = require "dwell.error"
local redact = require "dwell.redact"

local M = {}

local realtime = require("dwell.core").http.monotonic

--- Every string of a client configuration that must never be shown (tokens, secrets, keys).
function M.secrets_of(cfg)
  local out = {}
  local function add(v) if type(v) == "string" and #v >= 4 then out[#out + 1] = v end end
  if type(cfg) ~= "table" then return out end
  add(cfg.secret); add(cfg.hashed_secret); add(cfg.token); add(cfg.access_token)
  for _, sub in ipairs{ cfg.jwt, cfg.auth_code } do
    if type(sub) == "table" then
      add(sub.private_key); add(sub.passphrase); add(sub.secret); add(sub.refresh_token); add(sub.code)
      add(sub.code_verifier)
      for line in (type(sub.private_key) == "string" and sub.private_key or ""):gmatch("[^\r\n]+") do
        add(line:match("^[%w+/=]+$"))
      end
    end
  end
  -- user-info of a base URL ("user:password@")
  for _, u in ipairs{ cfg.base_url, cfg.auth_base_url } do
    add(redact.userinfo(u))
  end
  return out
end

local scrub = redact.token_path

local function visible(s)
  return (s:gsub("\\", "\\\\"):gsub("\n", "\\n"):gsub("\r", "\\r"):gsub("%c", function(c)
    return string.format("\\x%02x", c:byte())
  end))
end

--- A copy of `cfg` whose on_request / on_response hooks (the caller's still run after) write
-- the trace; for Tuya also the `trace` option (the string-to-sign). opts: write(line) (default
-- stderr), on_event(kind, info) for "request" / "response" / "sign" (the CLI's progress line),
-- secrets (more strings to mask), now (clock, seconds).
function M.install(vendor, cfg, opts)
  opts = opts or {}
  local out = {}
  for k, v in pairs(cfg or {}) do out[k] = v end
  local secrets = M.secrets_of(cfg)
  for _, s in ipairs(opts.secrets or {}) do secrets[#secrets + 1] = s end
  table.sort(secrets, function(a, b) return #a > #b end)
  local write = opts.write or function(line) io.stderr:write(line, "\n") end
  local now = opts.now or realtime
  local event = opts.on_event
  local function emit(line) write("dwell trace: " .. errors.mask_text(scrub(line), secrets)) end
  local user_req, user_resp, user_trace = cfg.on_request, cfg.on_response, cfg.trace
  local last_response -- when the previous answer (or failure) came: a resend waited since then

  out.on_request = function(info)
    local attempt = info.attempt or 1
    local line = string.format("> %s %s %s (attempt %d)", vendor, tostring(info.method), tostring(info.url), attempt)
    local waited
    if attempt > 1 and last_response then
      waited = math.max(0, now() - last_response)
      line = line .. string.format(", resent after waiting %.3f s", waited)
    elseif info.queued and info.queued >= 0.001 then
      -- a first attempt the rate limiter held back
      waited = info.queued
      line = line .. string.format(", sent after waiting %.3f s for the rate limit", waited)
    end
    emit(line)
    if event then event("request", info, waited) end
    if user_req then return user_req(info) end
  end

  out.on_response = function(info)
    last_response = now()
    local what = info.status and ("HTTP " .. info.status) or ("failed: " .. tostring(info.error))
    local line = string.format("< %s %s %s %s", vendor, what, tostring(info.method), tostring(info.url))
    local total = type(info.timing) == "table" and info.timing.total
    if total then line = line .. string.format(" (%.1f ms)", total) end
    if info.retry_in then line = line .. string.format(", retrying in %.3f s", info.retry_in) end
    emit(line)
    if event then event("response", info) end
    if user_resp then return user_resp(info) end
  end

  if vendor == "tuya" then
    out.trace = function(t)
      emit(string.format("  tuya string-to-sign: \"%s\"", visible(t.string_to_sign or "")))
      emit(string.format("  tuya signed: HMAC-SHA256(client_id .. access_token .. t .. nonce .. string-to-sign)"
        .. " with t=%s nonce=%s%s", tostring(t.t), t.nonce ~= "" and tostring(t.nonce) or "(none)",
        t.token_api and " (token API: no access_token)" or ""))
      if event then event("sign", t) end
      if user_trace then return user_trace(t) end
    end
  end
  return out
end

--- Whether DWELL_TRACE asks for the trace (1, true, yes, on).
function M.wanted(getenv)
  local v = (getenv or os.getenv)("DWELL_TRACE")
  return v ~= nil and (v == "1" or v:lower() == "true" or v:lower() == "yes" or v:lower() == "on")
end

return M
