--- Fault injection for the sandbox: which request gets which fault.
--
-- A fault spec:
--   { match = "GET /v1.0/token" | "/v1.0/rooms/{id}" | nil (every request),
--     every = n          -- the n-th, 2n-th, ... matching request (default 1), or
--     probability = p,   -- each matching request with probability p (0..1),
--     seed = s,          -- for `probability` (default: the sandbox's seed)
--     times = n,         -- fire at most n times (default unlimited)
--     kind = "status" | "delay" | "reset" | "truncate" | "non_json" | "hang",
--     status = 503, body = "..." or table, headers = { ... },   -- status, non_json
--     delay_ms = 250,    -- required for "delay"; extra delay for any kind
--     handled = false }  -- true: run the route handler first (the request
--                        -- takes effect, then the response is lost/replaced)
-- "truncate" always runs the handler and sends half of its body.
local routes = require "dwell.sandbox.routes"
local rng = require "dwell.sandbox.rng"

local M = {}

local KINDS = { status = true, delay = true, reset = true, truncate = true, non_json = true, hang = true }
local KIND_LIST = "status, delay, reset, truncate, non_json, hang"
local FIELDS = {
  match = "string", every = "number", probability = "number", seed = "number", times = "number",
  kind = "string", status = "number", body = true, headers = "table", delay_ms = "number",
  handled = "boolean",
}

local function fail(i, fmt, ...)
  error(("faults[%d]: " .. fmt):format(i, ...), 0)
end

local function check_int(i, f, name, lo, hi)
  local v = f[name]
  if v ~= nil and (math.type(v) ~= "integer" or v < lo or (hi and v > hi)) then
    fail(i, "'%s' must be an integer %s", name, hi and ("in " .. lo .. ".." .. hi) or (">= " .. lo))
  end
end

-- A small, reproducible stream per fault: xorshift64* (dwell.sandbox.rng) as a float in [0, 1).
local function new_rng(seed)
  local step = rng.xorshift(seed)
  return function() return (step() >> 11) / 9007199254740992.0 end
end

local function parse_match(i, match)
  if match == nil then return nil, nil end
  local method, pattern = match:match("^(%S+)%s+(%S+)$")
  if not method then pattern = match end
  if method and not method:match("^[%u*]+$") then fail(i, "bad method '%s' in match", method) end
  local ok, compiled = pcall(routes.compile, pattern)
  if not ok then fail(i, "%s", compiled) end
  return method, compiled
end

local function validate(i, f, default_seed)
  if type(f) ~= "table" then fail(i, "must be a table") end
  for k, v in pairs(f) do
    local want = FIELDS[k]
    if not want then fail(i, "unknown field '%s'", tostring(k)) end
    if want ~= true and type(v) ~= want then fail(i, "'%s' must be a %s", k, want) end
  end
  if not KINDS[f.kind] then fail(i, "unknown kind '%s' (expected one of %s)", tostring(f.kind), KIND_LIST) end
  if f.every and f.probability then fail(i, "give 'every' or 'probability', not both") end
  check_int(i, f, "every", 1)
  check_int(i, f, "times", 1)
  check_int(i, f, "seed", 0)
  check_int(i, f, "status", 100, 599)
  check_int(i, f, "delay_ms", 0, 3600000)
  if f.probability and (f.probability < 0 or f.probability > 1) then fail(i, "'probability' must be in 0..1") end
  if f.kind == "delay" and not f.delay_ms then fail(i, "kind 'delay' needs 'delay_ms'") end
  if f.body ~= nil and type(f.body) ~= "string" and type(f.body) ~= "table" then
    fail(i, "'body' must be a string or a table")
  end
  local method, compiled = parse_match(i, f.match)
  return { spec = f, method = method, pattern = compiled, seed = f.seed or (default_seed + i) }
end

--- Validates a list of fault specs; raises "faults[i]: ..." on the first bad one.
function M.compile(list, seed)
  if list == nil then list = {} end
  if type(list) ~= "table" then error("faults must be a list of tables", 0) end
  local out = {}
  for i, f in ipairs(list) do out[i] = validate(i, f, seed or 1) end
  M.reset(out)
  return out
end

--- Restarts every fault's counters and random stream.
function M.reset(compiled)
  for _, f in ipairs(compiled) do
    f.seen, f.fired = 0, 0
    f.random = new_rng(f.seed)
  end
end

local function matches(f, method, path)
  if f.method and f.method ~= "*" and f.method ~= method then return false end
  return f.pattern == nil or routes.match(f.pattern, path) ~= nil
end

local function fires(f)
  local s = f.spec
  if s.times and f.fired >= s.times then return false end
  if s.probability then return f.random() < s.probability end
  return f.seen % (s.every or 1) == 0
end

--- Returns the spec of the first fault that fires for this request, or nil.
-- Every matching fault counts the request, fired or not.
function M.pick(compiled, method, path)
  local chosen
  for _, f in ipairs(compiled) do
    if matches(f, method, path) then
      f.seen = f.seen + 1
      if fires(f) and not chosen then
        f.fired = f.fired + 1
        chosen = f.spec
      end
    end
  end
  return chosen
end

return M
