--- dwell.profile: where a client's settings come from, the same for Lua scripts and the
-- `dwell` command: explicit options first, then environment variables, then a profile file.
--
--   dwell.tuya()                                -- everything from DWELL_TUYA_* or the profile
--   dwell.tuya{ profile = "prod" }              -- the [prod] section of the profile file
--   dwell.rooms{ account_id = A }               -- the rest from the environment or the profile
--
-- The profile file is $XDG_CONFIG_HOME/dwell/config (default ~/.config/dwell/config), or
-- $DWELL_CONFIG; sections name profiles ([default] unless --profile / DWELL_PROFILE /
-- `profile =` says otherwise) and keys are `<vendor>.<setting>`:
--
--   [default]
--   tuya.client_id = ...
--   tuya.secret = ...
--   rooms.private_key_file = ~/.config/dwell/rooms.pem
--
-- It holds secrets, so, as ssh does with keys, it is refused when group or others may read
-- or write it. Settings are taken one by one from the first source that has them, except
-- that where a vendor is reached (region / env / base_url ...) and how Rooms authenticates
-- (an access token, or the JWT grant's fields) come whole from the first source that says
-- anything about them, so that layers never mix into a host or mode nobody asked for.
local errors = require "dwell.error"
local validate = require "dwell.validate"

local M = {}

-- setting = { key (option / profile name), env, group, jwt (a field of cfg.jwt) }
M.SETTINGS = {
  tuya = {
    { key = "client_id", env = "DWELL_TUYA_CLIENT_ID" },
    { key = "secret", env = "DWELL_TUYA_SECRET" },
    { key = "region", env = "DWELL_TUYA_REGION", group = "location" },
    { key = "base_url", env = "DWELL_TUYA_BASE_URL", group = "location" },
    { key = "store", env = "DWELL_TUYA_STORE" },
  },
  rooms = {
    { key = "account_id", env = "DWELL_ROOMS_ACCOUNT_ID" },
    { key = "access_token", env = "DWELL_ROOMS_ACCESS_TOKEN", group = "auth" },
    { key = "integration_key", env = "DWELL_ROOMS_INTEGRATION_KEY", group = "auth", jwt = true },
    { key = "user_id", env = "DWELL_ROOMS_USER_ID", group = "auth", jwt = true },
    { key = "private_key_file", env = "DWELL_ROOMS_PRIVATE_KEY_FILE", group = "auth", jwt = "private_key" },
    { key = "key_passphrase", env = "DWELL_ROOMS_KEY_PASSPHRASE", group = "auth", jwt = "passphrase" },
    { key = "env", env = "DWELL_ROOMS_ENV", group = "location" },
    { key = "base_url", env = "DWELL_ROOMS_BASE_URL", group = "location" },
    { key = "auth_base_url", env = "DWELL_ROOMS_AUTH_BASE_URL", group = "location" },
    { key = "store", env = "DWELL_ROOMS_STORE" },
  },
  ruckus = {
    { key = "property_id", env = "DWELL_RUCKUS_PROPERTY_ID" },
    { key = "hashed_secret", env = "DWELL_RUCKUS_HASHED_SECRET" },
    { key = "token", env = "DWELL_RUCKUS_TOKEN" },
    { key = "region", env = "DWELL_RUCKUS_REGION", group = "location" },
    { key = "base_url", env = "DWELL_RUCKUS_BASE_URL", group = "location" },
    { key = "store", env = "DWELL_RUCKUS_STORE" },
  },
}
M.VENDORS = { "tuya", "rooms", "ruckus" }

local function bad(vendor, param, rule)
  return nil, errors.invalid_argument(vendor, nil, param, rule)
end

local function expand_home(path, getenv)
  local home = getenv("HOME")
  if home and (path == "~" or path:sub(1, 2) == "~/") then return home .. path:sub(2) end
  return path
end

--- The profile file's path: $DWELL_CONFIG, else $XDG_CONFIG_HOME/dwell/config, else
-- ~/.config/dwell/config (nil when no home is known).
function M.path(getenv)
  getenv = getenv or os.getenv
  local explicit = getenv("DWELL_CONFIG")
  if explicit and explicit ~= "" then return expand_home(explicit, getenv) end
  local xdg = getenv("XDG_CONFIG_HOME")
  if xdg and xdg ~= "" then return xdg .. "/dwell/config" end
  local home = getenv("HOME")
  if home and home ~= "" then return home .. "/.config/dwell/config" end
  return nil
end

local function known_keys()
  local list, set = {}, {}
  for _, vendor in ipairs(M.VENDORS) do
    for _, s in ipairs(M.SETTINGS[vendor]) do
      local k = vendor .. "." .. s.key
      list[#list + 1], set[k] = k, true
    end
  end
  set["rooms.private_key"] = true -- the key's PEM text itself (or a path) under its own name
  list[#list + 1] = "rooms.private_key"
  return list, set
end

local function unquote(v)
  local q = v:sub(1, 1)
  if (q == '"' or q == "'") and #v >= 2 and v:sub(-1) == q then return v:sub(2, -2) end
  return v
end

--- Parses the profile file's text: { [profile] = { ["tuya.client_id"] = "...", ... } }, or
-- nil, message (naming the line, never a value).
function M.parse(text, path)
  local list, known = known_keys()
  local profiles, current = {}, nil
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    line = line:gsub("\r$", ""):match("^%s*(.-)%s*$")
    if line ~= "" and not line:match("^[#;]") then
      local section = line:match("^%[%s*([^%]]-)%s*%]$")
      if section then
        if not section:match("^[%w_.-]+$") then
          return nil, ("%s:%d: a profile name is letters, digits, '_', '-' or '.'"):format(path, n)
        end
        current = profiles[section] or {}
        profiles[section] = current
      else
        local k, v = line:match("^([^=]-)%s*=%s*(.*)$")
        if not k or k == "" then return nil, ("%s:%d: expected [profile] or key = value"):format(path, n) end
        k = k:lower()
        if not known[k] then
          local guess = validate.did_you_mean(k, list)
          return nil, ("%s:%d: unknown setting '%s'%s"):format(path, n, k,
            guess and (" (did you mean '" .. guess .. "'?)") or "")
        end
        if not current then return nil, ("%s:%d: '%s' comes before any [profile] line"):format(path, n, k) end
        current[k] = unquote(v)
      end
    end
  end
  return profiles
end

local function sys()
  return require("dwell.core").sys
end

--- Reads the profile file: its profiles, or nil when there is none, or nil, message when it
-- cannot be used (unreadable, group/world-accessible, malformed).
function M.load(path)
  local st = sys().stat(path)
  if not st then return nil end
  if st.kind ~= "file" then return nil, path .. " is not a regular file" end
  if st.mode & 63 ~= 0 then -- 0077: group or others may read, write or search it
    return nil, ("%s is accessible by group or others (mode %04o) and holds secrets: refused, as ssh does;"
      .. " run: chmod 600 %s"):format(path, st.mode, path)
  end
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  return M.parse(text, path)
end

--- A private key given as PEM text (newlines real or escaped as the two characters \n) or as
-- a file path: the PEM text, or nil, rule (never the key itself).
function M.private_key(v, getenv)
  if type(v) ~= "string" then return v end
  if v:find("-----BEGIN", 1, true) then
    -- newlines that arrived as literal \n (an environment variable, a JSON string, a CI secret)
    return (v:gsub("\\r\\n", "\n"):gsub("\\n", "\n"))
  end
  local path = expand_home(v, getenv or os.getenv)
  local f = io.open(path, "rb")
  if not f then return nil, "is neither PEM text nor a readable file" end
  local text = f:read("a")
  f:close()
  if not text:find("-----BEGIN", 1, true) then return nil, "names a file that holds no PEM key" end
  return text
end

-- The explicit options as one flat layer (jwt fields under their setting keys).
local function explicit_layer(vendor, cfg)
  local layer = {}
  for _, s in ipairs(M.SETTINGS[vendor]) do
    if s.jwt then
      local field = s.jwt == true and s.key or s.jwt
      if type(cfg.jwt) == "table" then layer[s.key] = cfg.jwt[field] end
    else
      layer[s.key] = cfg[s.key]
    end
  end
  -- auth_code is a mode of its own: it counts as an explicit auth choice
  if vendor == "rooms" and (cfg.auth_code ~= nil or cfg.jwt ~= nil) then layer["\0auth"] = true end
  return layer
end

local function env_layer(vendor, getenv)
  local layer = {}
  for _, s in ipairs(M.SETTINGS[vendor]) do
    local v = getenv(s.env)
    if v ~= nil and v ~= "" then layer[s.key] = v end
  end
  return layer
end

local function profile_layer(vendor, section)
  local layer = {}
  for _, s in ipairs(M.SETTINGS[vendor]) do layer[s.key] = section[vendor .. "." .. s.key] end
  if vendor == "rooms" and layer.private_key_file == nil then layer.private_key_file = section["rooms.private_key"] end
  return layer
end

local function has_group(vendor, layer, group)
  if group == "auth" and layer["\0auth"] then return true end
  for _, s in ipairs(M.SETTINGS[vendor]) do
    if s.group == group and layer[s.key] ~= nil then return true end
  end
  return false
end

--- Which profile is asked for: the `profile` option, else DWELL_PROFILE, else "default"; and
-- whether it was named (a named profile must exist).
function M.selected(name, getenv)
  getenv = getenv or os.getenv
  if name ~= nil then return name, true end
  local env = getenv("DWELL_PROFILE")
  if env and env ~= "" then return env, true end
  return "default", false
end

--- The profile section in use: its settings (or {}), its name and the file's path; or nil,
-- message.
function M.section(name, getenv)
  getenv = getenv or os.getenv
  local named
  name, named = M.selected(name, getenv)
  local path = M.path(getenv)
  local profiles, err
  if path then profiles, err = M.load(path) end
  if err then return nil, err end
  if not profiles then
    if named then return nil, ("profile '%s' was asked for but there is no profile file (%s)"):format(name,
      path or "no HOME, XDG_CONFIG_HOME or DWELL_CONFIG") end
    return {}, name, path
  end
  local section = profiles[name]
  if not section then
    if named then
      local names = {}
      for k in pairs(profiles) do names[#names + 1] = k end
      table.sort(names)
      local guess = validate.did_you_mean(name, names)
      return nil, ("no profile '%s' in %s%s"):format(name, path, guess and (" (did you mean '" .. guess .. "'?)")
        or (#names > 0 and (" (it has: " .. table.concat(names, ", ") .. ")") or ""))
    end
    section = {}
  end
  return section, name, path
end

--- The configuration for `dwell.<vendor>(cfg)` after the chain: a new table (cfg is not
-- changed), or nil, dwell.error (invalid_argument). `getenv` may be injected (tests).
-- Also returns where each setting came from: { [key] = "option" | "env DWELL_..." | "profile NAME" }.
function M.resolve(vendor, cfg, getenv)
  getenv = getenv or os.getenv
  if cfg ~= nil and type(cfg) ~= "table" then
    return bad(vendor, nil, "configuration must be a table (got " .. type(cfg) .. ")")
  end
  cfg = cfg or {}
  if cfg.profile ~= nil and type(cfg.profile) ~= "string" then
    return bad(vendor, "profile", "must be a string (a profile name of the profile file)")
  end
  local section, name_or_err, path = M.section(cfg.profile, getenv)
  if not section then return bad(vendor, "profile", name_or_err) end
  local names = { option = "option", env = "environment", profile = "profile '" .. name_or_err .. "' (" .. tostring(path) .. ")" }
  local layers = {
    { explicit_layer(vendor, cfg), "option" },
    { env_layer(vendor, getenv), "env" },
    { profile_layer(vendor, section), "profile" },
  }
  local out = {}
  for k, v in pairs(cfg) do if k ~= "profile" then out[k] = v end end
  local from = {}
  -- a group (location, auth) comes whole from the first layer that has any of it
  local group_layer = {}
  for _, group in ipairs{ "location", "auth" } do
    for i, l in ipairs(layers) do
      if has_group(vendor, l[1], group) then group_layer[group] = i; break end
    end
  end
  local flat = {}
  for _, s in ipairs(M.SETTINGS[vendor]) do
    for i, l in ipairs(layers) do
      if (not s.group or group_layer[s.group] == i) and l[1][s.key] ~= nil then
        flat[s.key] = l[1][s.key]
        from[s.key] = l[2] == "env" and ("env " .. s.env) or names[l[2]]
        break
      end
    end
  end
  for _, s in ipairs(M.SETTINGS[vendor]) do
    if not s.jwt and group_layer[s.group or ""] ~= 1 and out[s.key] == nil then out[s.key] = flat[s.key] end
  end
  if vendor == "rooms" and group_layer.auth and group_layer.auth > 1 then
    -- the first layer that says how to authenticate decides: an access token, else the JWT grant
    if flat.access_token == nil and (flat.integration_key or flat.user_id or flat.private_key_file) then
      out.access_token = nil
      out.jwt = { integration_key = flat.integration_key, user_id = flat.user_id,
        private_key = flat.private_key_file, passphrase = flat.key_passphrase }
    end
  end
  if vendor == "rooms" and type(out.jwt) == "table" and out.jwt.private_key ~= nil then
    local pem, rule = M.private_key(out.jwt.private_key, getenv)
    if not pem then return bad(vendor, from.private_key_file == "option" and "jwt.private_key"
      or (from.private_key_file or "jwt.private_key"), rule) end
    if pem ~= out.jwt.private_key then
      local j = {}
      for k, v in pairs(out.jwt) do j[k] = v end
      j.private_key = pem
      out.jwt = j
    end
  end
  return out, from
end

-- Where to set a missing setting, for the constructor's "is required" message.
local function hint(vendor, param)
  for _, s in ipairs(M.SETTINGS[vendor]) do
    local field = s.jwt == true and s.key or s.jwt
    if s.key == param or (field and param == "jwt." .. field) then
      return " (set " .. s.env .. ", or " .. vendor .. "." .. s.key .. " in the profile file, or pass " .. s.key .. ")"
    end
  end
  if vendor == "rooms" and param == nil then
    return " (set DWELL_ROOMS_ACCESS_TOKEN, or DWELL_ROOMS_INTEGRATION_KEY, DWELL_ROOMS_USER_ID and"
      .. " DWELL_ROOMS_PRIVATE_KEY_FILE, or the same in the profile file)"
  end
  if vendor == "ruckus" and param == "token" then
    return " (set DWELL_RUCKUS_HASHED_SECRET or DWELL_RUCKUS_TOKEN, or the same in the profile file)"
  end
  return ""
end

--- Builds a client through the chain: dwell.<vendor>(cfg). opts.trace (a writer function,
-- or true for stderr) turns the trace on (as DWELL_TRACE=1 does), opts.on_event sees it.
function M.client(vendor, cfg, opts, getenv)
  local resolved, from = M.resolve(vendor, cfg, getenv)
  if not resolved then return nil, from end
  local client, err = M.build(vendor, resolved, opts, getenv)
  return client, err, from
end

--- Builds a client from an already resolved configuration (see client).
function M.build(vendor, resolved, opts, getenv)
  opts = opts or {}
  getenv = getenv or os.getenv
  local trace = opts.trace
  if trace == nil and M.trace_wanted(getenv) then trace = true end
  if trace or opts.on_event then
    local write -- nil: dwell.trace's default, stderr
    if type(trace) == "function" then write = trace elseif not trace then write = function() end end
    resolved = require("dwell.trace").install(vendor, resolved, { write = write, on_event = opts.on_event })
  end
  local client, err = require("dwell." .. vendor).new(resolved)
  if not client and errors.is(err) and err.kind == "invalid_argument" and type(err.message) == "string"
      and (err.message:find("required", 1, true) or (vendor == "rooms" and err.param == nil)) then
    err.message = err.message .. hint(vendor, err.param)
  end
  return client, err
end

function M.trace_wanted(getenv)
  return require("dwell.trace").wanted(getenv)
end

M.tuya = function(cfg) return M.client("tuya", cfg) end
M.rooms = function(cfg) return M.client("rooms", cfg) end
M.ruckus = function(cfg) return M.client("ruckus", cfg) end

return M
