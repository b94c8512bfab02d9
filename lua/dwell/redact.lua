--- dwell.redact: strips secrets from what hooks, logs and errors may show.
-- Query parameters and headers whose names look secret (tokens, signatures,
-- client secrets, passphrases, passwords, Authorization, cookies) keep their
-- name and lose their value; URL user-info is dropped.
local decode = require("dwell.url").decode

local M = {}

M.MASK = "[redacted]"

local EXACT = {
  authorization = true, ["proxy-authorization"] = true, cookie = true, ["set-cookie"] = true,
  sign = true, code = true, key = true, api_key = true, apikey = true, assertion = true,
  client_assertion = true, sig = true,
}
local FRAGMENTS = { "token", "secret", "passphrase", "password", "passwd", "signature", "credential", "session" }


--- Whether a parameter or header name carries a secret; `extra` is a list
-- of further names (case-insensitive) the caller knows to be secret.
function M.is_secret(name, extra)
  local n = string.lower(name)
  if EXACT[n] then return true end
  for _, f in ipairs(FRAGMENTS) do
    if n:find(f, 1, true) then return true end
  end
  if extra then
    for _, e in ipairs(extra) do
      if n == string.lower(e) then return true end
    end
  end
  return false
end

local function redact_query(q, extra)
  return (q:gsub("([^&;=]*)=([^&;]*)", function(k, v)
    if v ~= "" and M.is_secret(decode(k, true), extra) then return k .. "=" .. M.MASK end
  end))
end

--- The user-info of a URL ("user:password" of "https://user:password@host/"), a secret of
-- its own, or nil.
function M.userinfo(url)
  return type(url) == "string" and url:match("^%a[%w+.-]*://([^/?#@]*)@") or nil
end

--- The URL without its user-info.
function M.without_userinfo(url)
  return (url:gsub("^(%a[%w+.-]*://)[^/?#@]*@", "%1"))
end

--- Tuya's refresh token travels in the path (/v1.0/token/{refresh_token}), where no query or
-- header name says it is secret: `s` (a URL or a line naming one) with that segment masked.
function M.token_path(s)
  return (s:gsub("(/v1%.0/token/)[^?#%s\"]+", "%1" .. M.MASK))
end

--- The URL with user-info removed and secret query values masked.
function M.url(url, extra)
  if type(url) ~= "string" then return url end
  url = M.without_userinfo(url)
  local base, query, frag = url:match("^([^?#]*)%??([^#]*)(#?.*)$")
  if not base then return url end
  if query == "" then return base .. frag end
  return base .. "?" .. redact_query(query, extra) .. frag
end

--- A copy of a header map (or list of pairs) with secret values masked.
function M.headers(h, extra)
  local out = {}
  for k, v in pairs(h or {}) do
    if type(k) == "number" and type(v) == "table" then
      out[k] = { v[1], M.is_secret(tostring(v[1]), extra) and M.MASK or v[2] }
    else
      out[k] = M.is_secret(tostring(k), extra) and M.MASK or v
    end
  end
  return out
end

return M
