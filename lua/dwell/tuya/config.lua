--- The Tuya client's configuration as data (docs/vendors/tuya.md §1): data centres, every option and its
-- rule, and the checks made before anything is built, so that a bad configuration is nil,
-- invalid_argument naming the option, never a failure on a later call. Never echoes the secret.
local errors = require "dwell.error"
local store = require "dwell.store"
local transport = require "dwell.transport"
local validate = require "dwell.validate"

local M = {}

--- Data centres (docs/vendors/tuya.md §1).
M.REGIONS = {
  cn = "https://openapi.tuyacn.com",
  us = "https://openapi.tuyaus.com",
  ["us-east"] = "https://openapi-ueaz.tuyaus.com",
  eu = "https://openapi.tuyaeu.com",
  ["eu-west"] = "https://openapi-weaz.tuyaeu.com",
  ["in"] = "https://openapi.tuyain.com",
}

-- Every accepted configuration key and its check (nil = fine, else the rule broken).
local function is_type(t) return function(v) if type(v) ~= t then return "must be a " .. t .. " (got " .. type(v) .. ")" end end end
local function non_negative(v)
  if type(v) ~= "number" or v < 0 then return "must be a number >= 0" end
end
local function non_empty(v)
  if type(v) ~= "string" or v == "" then return "must be a non-empty string (got " .. type(v) .. ")" end
end
-- Tuya's own options; the transport options (timeout_ms, proxy, retry, ...) are checked by
-- dwell.transport and the store options (store, store_fallback, on_warning) by dwell.store,
-- one list each for every client.
local CONFIG = {
  client_id = non_empty, secret = non_empty, region = is_type("string"), base_url = is_type("string"),
  lang = is_type("string"), limiter = is_type("table"), raw_keys = is_type("boolean"),
  rate_limit = function(v)
    if type(v) ~= "table" or type(v.capacity) ~= "number" or v.capacity < 1
      or type(v.refill_per_second) ~= "number" or v.refill_per_second <= 0 then
      return "must be { capacity = n >= 1, refill_per_second = r > 0 }"
    end
  end,
  refresh_margin_s = non_negative, token_store = is_type("table"), transport = is_type("table"),
  nonce = is_type("boolean"), trace = is_type("function"), sign_scheme = function(v)
    if v ~= "hmac" and v ~= "legacy" then return "must be \"hmac\" or \"legacy\"" end
  end,
}

local function bad(param, rule)
  return nil, errors.invalid_argument("tuya", nil, param, rule)
end

--- Checks the configuration; the base URL, or nil, dwell.error. Never echoes the secret.
function M.check(cfg)
  if type(cfg) ~= "table" then return bad(nil, "configuration must be a table (got " .. type(cfg) .. ")") end
  local names = {}
  for k in pairs(CONFIG) do names[#names + 1] = k end
  table.sort(names)
  local unknown, why = validate.unknown_option(cfg, "Tuya", names, transport.CLIENT_OPTIONS, store.CLIENT_OPTIONS)
  if unknown then return bad(unknown, why) end
  for k, v in pairs(cfg) do
    local rule = CONFIG[k] and CONFIG[k](v)
    if rule then return bad(k, rule) end
  end
  if cfg.client_id == nil then return bad("client_id", "is required (the cloud project's Access ID)") end
  if cfg.secret == nil then return bad("secret", "is required (the cloud project's Access Secret)") end
  local ctl = validate.control_option(cfg)
  if ctl then return bad(ctl, "must not contain CR, LF or NUL") end
  local opt, opt_rule = transport.check_client_options(cfg)
  if opt then return bad(opt, opt_rule) end
  opt, opt_rule = store.check_client_options(cfg)
  if opt then return bad(opt, opt_rule) end
  if cfg.token_store ~= nil and cfg.store ~= nil then
    return bad("token_store", "and store are two ways to say where tokens live: give one (store)")
  end
  if cfg.limiter ~= nil and cfg.rate_limit ~= nil then
    return bad("limiter", "and rate_limit both pace requests: give one")
  end
  local base = cfg.base_url
  if base == nil then
    if cfg.region == nil then return bad("region", "or base_url is required (one of cn, us, us-east, eu, eu-west, in)") end
    base = M.REGIONS[cfg.region]
    if not base then
      local keys = {}
      for k in pairs(M.REGIONS) do keys[#keys + 1] = k end
      table.sort(keys)
      return bad("region", "must be one of " .. table.concat(keys, ", ") .. " (got " .. cfg.region .. ")")
    end
  elseif not base:match("^https?://[^/]+") then
    return bad("base_url", "must be an http(s) URL such as https://openapi.tuyaeu.com")
  end
  return (base:gsub("/+$", ""))
end

return M
