--- The Rooms client's configuration as data (docs/vendors/rooms.md §1, §2): hosts per environment, every
-- option and its type, and the checks made before anything is built, so that a bad
-- configuration is nil, invalid_argument naming the option, and never an error on a later call.
local auth = require "dwell.rooms.auth"
local errors = require "dwell.error"
local store = require "dwell.store"
local transport = require "dwell.transport"
local validate = require "dwell.validate"

local M = {}

M.ENVIRONMENTS = {
  demo = { base_url = "https://demo.rooms.docusign.com/restapi", auth_base_url = "https://account-d.docusign.com" },
  prod = { base_url = "https://rooms.docusign.com/restapi", auth_base_url = "https://account.docusign.com" },
  stage = { base_url = "https://stage.rooms.docusign.com/restapi", auth_base_url = "https://account-s.docusign.com" },
}
M.ENVIRONMENTS.production = M.ENVIRONMENTS.prod
M.ENVIRONMENTS.developer = M.ENVIRONMENTS.demo

-- Every option of dwell.rooms{...} (besides transport.CLIENT_OPTIONS) and its type.
M.OPTIONS = { account_id = "string", env = "string", base_url = "string", auth_base_url = "string",
  access_token = "string", jwt = "table", auth_code = "table", transport = "table", rate_limit = "table" }
-- Fields each way of authenticating cannot do without.
M.REQUIRED = { jwt = { "integration_key", "private_key" }, auth_code = { "integration_key", "secret" } }
-- Options whose value may span lines (a PEM key); every other string must not carry CR, LF or NUL.
M.MULTILINE = { ["jwt.private_key"] = true }

local function bad(param, rule)
  return nil, errors.invalid_argument("rooms", nil, param, rule)
end

local function check_types(cfg)
  local names = {}
  for k in pairs(M.OPTIONS) do names[#names + 1] = k end
  table.sort(names)
  local unknown, why = validate.unknown_option(cfg, "DocuSign Rooms", names, transport.CLIENT_OPTIONS,
    store.CLIENT_OPTIONS)
  if unknown then return unknown, why end
  for k, t in pairs(M.OPTIONS) do
    local v = cfg[k]
    if v ~= nil and type(v) ~= t and not (k == "rate_limit" and v == false) then
      return k, "must be a " .. t .. (k == "rate_limit" and " or false" or "") .. " (got " .. type(v) .. ")"
    end
  end
  for _, k in ipairs{ "hourly", "burst", "burst_window" } do
    local v = type(cfg.rate_limit) == "table" and cfg.rate_limit[k]
    if v and (type(v) ~= "number" or v <= 0) then return "rate_limit." .. k, "must be a number > 0" end
  end
  local opt, rule = transport.check_client_options(cfg)
  if opt then return opt, rule end
  return store.check_client_options(cfg)
end

-- The SDKs' rule: https://demo... -> account-d, https://stage... -> account-s, else production.
local function auth_base_for(base_url)
  if base_url:match("^https://demo") then return M.ENVIRONMENTS.demo.auth_base_url end
  if base_url:match("^https://stage") then return M.ENVIRONMENTS.stage.auth_base_url end
  return M.ENVIRONMENTS.prod.auth_base_url
end

local function hosts(cfg)
  local base, auth_base = cfg.base_url, cfg.auth_base_url
  if cfg.env then
    local e = M.ENVIRONMENTS[cfg.env]
    if not e then return bad("env", "must be demo, prod or stage (got " .. cfg.env .. ")") end
    base, auth_base = base or e.base_url, auth_base or e.auth_base_url
  end
  if not base then return bad("env", "or base_url is required (env: demo, prod or stage)") end
  base = base:gsub("/+$", "")
  return base, ((auth_base or auth_base_for(base)):gsub("/+$", ""))
end

local function check_mode(cfg)
  local modes = (cfg.access_token and 1 or 0) + (cfg.jwt and 1 or 0) + (cfg.auth_code and 1 or 0)
  if modes ~= 1 then return nil, "give exactly one of 'access_token', 'jwt' or 'auth_code'" end
  for mode, fields in pairs(M.REQUIRED) do
    for _, k in ipairs(cfg[mode] and fields or {}) do
      if type(cfg[mode][k]) ~= "string" or cfg[mode][k] == "" then return mode .. "." .. k, "is required (a string)" end
    end
  end
  if cfg.jwt and cfg.jwt.passphrase ~= nil and type(cfg.jwt.passphrase) ~= "string" then
    return "jwt.passphrase", "must be a string"
  end
  if cfg.jwt then return auth.check_key(cfg.jwt) end
  return nil
end

--- Checks `cfg`: the API and OAuth base URLs, or nil, invalid_argument naming the option.
function M.check(cfg)
  if type(cfg) ~= "table" then return bad(nil, "dwell.rooms{...} needs a configuration table") end
  if type(cfg.account_id) ~= "string" or cfg.account_id == "" then
    return bad("account_id", "is required (the API account GUID, a string)")
  end
  local param, rule = check_types(cfg)
  if param then return bad(param, rule) end
  param = validate.control_option(cfg, M.MULTILINE)
  if param then return bad(param, "must not contain CR, LF or NUL") end
  param, rule = check_mode(cfg)
  if param or rule then return bad(param, rule) end
  return hosts(cfg)
end

return M
