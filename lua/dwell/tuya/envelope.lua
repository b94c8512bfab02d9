--- Tuya's response envelope (docs/vendors/tuya.md §5): `{ success, result, t, tid }` on success,
-- `{ success = false, code, msg, t, tid }` on failure, both with HTTP 200. Decodes a
-- response, maps failure codes to dwell.error kinds and normalises result keys to the
-- documented snake_case (docs/vendors/tuya.md §8.1: examples mix camelCase and snake_case).
local errors = require "dwell.error"
local dwell_json = require "dwell.json"

local M = {}

local KIND = {
  [1002] = "auth", [1400] = "auth", [1010] = "auth", [1011] = "auth", [1012] = "auth",
  [1001] = "auth", [1003] = "auth", [1005] = "auth", [1004] = "auth",
  [1106] = "forbidden", [1008] = "forbidden", [28841001] = "forbidden", [28841105] = "forbidden",
  [28841002] = "forbidden", [28841004] = "forbidden",
  -- The gateway refused the request's content: `rejected` (invalid_argument is the local check).
  [1109] = "rejected", [1100] = "rejected", [1101] = "rejected",
  [1102] = "rejected", [1104] = "rejected", [1105] = "rejected",
  [1006] = "rejected", [1007] = "rejected",
  [1110] = "rate_limited", [1111] = "rate_limited", [1199] = "rate_limited", [1112] = "rate_limited",
  [1113] = "rate_limited",
  [1107] = "auth", [1108] = "not_found", [1000] = "not_found",
}

--- Codes after which the token is re-obtained and the request retried once: expired/invalid
-- token (1010, 1011, 1012) and a token the gateway did not receive or accept (1002, 1400).
M.REAUTH = { [1002] = true, [1010] = true, [1011] = true, [1012] = true, [1400] = true }
--- Clock skew: correct the offset from the envelope's `t` and retry once.
M.CLOCK = 1013
--- Throttling (docs/vendors/tuya.md §5): the request was refused before it was processed, so any request,
-- write or read, waits and is sent again.
M.THROTTLED = { [1110] = true, [1199] = true }
--- Transient server errors ("system busy", "user syncing, retry later", "system error"): the
-- request may have taken effect, so only repeatable ones are sent again. 1113 "do not repeat
-- the operation in a short time" is never sent again automatically.
M.TRANSIENT = { [1111] = true, [1112] = true, [500] = true }

--- The dwell.error kind for a vendor code.
function M.kind(code)
  return KIND[code] or "api"
end

local function decode_error(ctx, status, message)
  return errors.new{ kind = "decode", vendor = "tuya", endpoint = ctx.endpoint, status = status,
    message = message }
end

local function http_error(ctx, resp)
  local kind = resp.status == 429 and "rate_limited" or "http"
  return errors.new{ kind = kind, vendor = "tuya", endpoint = ctx.endpoint, status = resp.status,
    message = "unexpected HTTP status " .. tostring(resp.status) .. " from the gateway",
    retryable = resp.status == 429 or resp.status >= 500 }
end

local SNAKE_KEYS = { key_case = "snake" }

--- Decodes a transport response into an envelope table, or nil, dwell.error (kind decode/http).
-- With ctx.snake_keys the decoder renames object keys to snake_case as it goes (the same
-- spelling as M.snake), so the result needs no second walk through M.normalize.
function M.decode(resp, json, ctx)
  local body = resp.body or ""
  local opts = ctx.snake_keys and SNAKE_KEYS or nil
  local ok, env
  if json == dwell_json and type(body) == "string" then
    -- dwell.json's decoder answers nil, err for any text (it runs protected itself)
    ok, env = true, dwell_json.decode(body, opts)
  else
    ok, env = pcall(json.decode, body, opts)
  end
  local is_envelope = ok and type(env) == "table" and type(env.success) == "boolean"
  if resp.status < 200 or resp.status > 299 then
    -- Gateways report errors with 200 + success=false; anything else is HTTP-level,
    -- unless the body still carries an envelope (then its code is more precise).
    if is_envelope and env.success == false then return env end
    return nil, http_error(ctx, resp)
  end
  if not ok or env == nil then
    return nil, decode_error(ctx, resp.status, "response body is not JSON ("
      .. (#body == 0 and "empty" or (#body .. " bytes")) .. ")")
  end
  if not is_envelope then
    return nil, decode_error(ctx, resp.status, "response is not a Tuya envelope (no boolean 'success')")
  end
  return env
end

--- The dwell.error for a failed envelope.
function M.error(env, ctx, status)
  local code = math.tointeger(tonumber(env.code)) or env.code
  local kind = M.kind(code)
  return errors.new{
    kind = kind, vendor = "tuya", endpoint = ctx.endpoint, status = status, code = code,
    message = type(env.msg) == "string" and env.msg or "request failed",
    request_id = type(env.tid) == "string" and env.tid or nil,
    retryable = (M.TRANSIENT[code] or M.THROTTLED[code]) == true,
  }
end

--- "roomUserId" -> "room_user_id", "hkId" -> "hk_id"; snake_case names are unchanged. The
-- decoder's own renaming (key_case = "snake"), so both spell every key alike.
M.snake = require("dwell.core").json.snake_key
local snake = M.snake

--- Copies `v` with every object key in snake_case (snake wins when both spellings are present);
-- arrays keep their metatable (so `[]` re-encodes as `[]`), other values are shared.
function M.normalize(v)
  if type(v) ~= "table" then return v end
  local out = setmetatable({}, getmetatable(v))
  for k, item in pairs(v) do
    if type(k) == "string" then
      local s = snake(k)
      if s == k or v[s] == nil then out[s] = M.normalize(item) end
    else
      out[k] = M.normalize(item)
    end
  end
  return out
end

return M
