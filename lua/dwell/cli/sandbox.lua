--- `dwell sandbox`: what bin/dwell-sandbox does (serve the local sandbox in the foreground
-- until SIGINT/SIGTERM), plus --json (one line: URL, pid and credentials, then serve) and
-- --env (`export DWELL_...=` lines for `eval "$(dwell sandbox --env)"`: the sandbox goes on
-- in the background, DWELL_SANDBOX_PID says which process to stop).
local json = require "dwell.json"

local M = {}

local function die(msg)
  io.stderr:write("dwell sandbox: ", msg, "\n")
  os.exit(2)
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then die(err) end
  local s = f:read("a")
  f:close()
  return s
end

local function load_fixtures(path)
  local text = read_file(path)
  if path:match("%.json$") then
    local data, err = json.decode(text)
    if type(data) ~= "table" then die(("%s: %s"):format(path, err or "not a JSON object")) end
    return data
  end
  local chunk, err = load(text, "@" .. path, "t", {})
  if not chunk then die(err) end
  local ok, data = pcall(chunk)
  if not ok or type(data) ~= "table" then die(("%s must return a table (%s)"):format(path, tostring(data))) end
  return data
end

-- --routes in order, then any other set the fixtures configure.
local function route_list(names, fixtures)
  local list, seen = {}, {}
  for name in names:gmatch("[^,%s]+") do
    list[#list + 1] = { set = name, config = fixtures[name] }
    seen[name] = true
  end
  local extra = {}
  for name in pairs(fixtures) do
    if name ~= "faults" and not seen[name] then extra[#extra + 1] = name end
  end
  table.sort(extra)
  for _, name in ipairs(extra) do list[#list + 1] = { set = name, config = fixtures[name] } end
  return list
end

--- Every route set's credentials: { [set] = table }.
function M.credentials(sb)
  local controls = sb:control("sandbox", "controls") or {}
  local out = {}
  for set, actions in pairs(controls) do
    for _, action in ipairs(actions) do
      if action == "credentials" then out[set] = sb:control(set, "credentials") end
    end
  end
  -- A replay answers as all three vendors: its credentials are shown (and exported) as theirs.
  if out.replay then return out.replay end
  return out
end

--- The DWELL_* settings that point the library and the CLI at this sandbox, as a sorted list
-- of { name, value }.
function M.environment(url, creds)
  local env = { { "DWELL_SANDBOX_URL", url } }
  local function add(name, v) if v ~= nil then env[#env + 1] = { name, tostring(v) } end end
  local t = creds.tuya
  if t then
    add("DWELL_TUYA_BASE_URL", url); add("DWELL_TUYA_CLIENT_ID", t.client_id); add("DWELL_TUYA_SECRET", t.secret)
    add("DWELL_TUYA_BLOCK_ID", t.block_ids and t.block_ids[1])
  end
  local r = creds.rooms
  if r then
    add("DWELL_ROOMS_ACCOUNT_ID", r.account_id)
    add("DWELL_ROOMS_BASE_URL", url .. (r.base_url_path or "/restapi"))
    add("DWELL_ROOMS_AUTH_BASE_URL", url)
    add("DWELL_ROOMS_ACCESS_TOKEN", r.access_token)
  end
  local k = creds.ruckus
  if k then
    add("DWELL_RUCKUS_BASE_URL", url); add("DWELL_RUCKUS_PROPERTY_ID", k.property_id)
    add("DWELL_RUCKUS_HASHED_SECRET", k.hashed_secret)
  end
  table.sort(env, function(a, b) return a[1] < b[1] end)
  return env
end

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.shell_quote = shell_quote

function M.env_text(env)
  local lines = {}
  for i, kv in ipairs(env) do lines[i] = ("export %s=%s"):format(kv[1], shell_quote(kv[2])) end
  return table.concat(lines, "\n") .. "\n"
end

local function show(v, indent)
  if type(v) ~= "table" then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local lines = {}
  for _, k in ipairs(keys) do
    lines[#lines + 1] = ("%s%s = %s"):format(indent, tostring(k), show(v[k], indent .. "  "))
  end
  return "\n" .. table.concat(lines, "\n")
end

local function start(o)
  local fixtures = o.fixtures and load_fixtures(o.fixtures) or {}
  local tls
  if o.tls_cert or o.tls_key then
    if not (o.tls_cert and o.tls_key) then die("--tls-cert and --tls-key go together") end
    tls = { cert = read_file(o.tls_cert), key = read_file(o.tls_key) }
  end
  local routes = route_list(o.routes, fixtures)
  if o.record or o.replay then
    if o.record and o.replay then die("--record and --replay go one at a time") end
    if o.record and not o.upstream then die("--record needs --upstream URL") end
    if o.record then
      if not os.execute("mkdir -p " .. shell_quote(o.record)) then die("cannot create " .. o.record) end
      routes = { { set = "record", config = { dir = o.record, upstream = o.upstream } } }
    else
      -- the replay's own credentials may come from the fixtures' `replay` table
      local cfg = {}
      for k, v in pairs(fixtures.replay or {}) do cfg[k] = v end
      cfg.dir = o.replay
      routes = { { set = "replay", config = cfg } }
    end
  elseif o.upstream then
    die("--upstream goes with --record DIR")
  end
  local sandbox = require "dwell.sandbox"
  local sb, err = sandbox.start{
    host = o.host, port = o.port, latency_ms = o.latency_ms, seed = o.seed, tls = tls,
    routes = routes, faults = fixtures.faults,
  }
  if not sb then die(tostring(err)) end
  return sb, sandbox
end

local function serve(sb, sandbox, quiet)
  local sig = sandbox.wait_for_signal()
  sb:stop()
  if not quiet then
    print(("dwell sandbox stopped (%s, %d requests served)"):format(tostring(sig), sb:stats().served))
  end
  sb:close()
end

local function own_pid()
  local f = io.open("/proc/self/stat")
  local pid = f and f:read("l"):match("^%d+")
  if f then f:close() end
  return pid
end

-- --env: starts `dwell sandbox --env-file F` in the background, waits for F, prints it.
local function detach(o, self_cmd)
  local dir = os.tmpname()
  local envfile, log = dir .. ".env", dir .. ".log"
  local words = { "--routes", o.routes }
  for _, k in ipairs{ "host", "port", "latency_ms", "fixtures", "seed", "tls_cert", "tls_key", "record", "upstream",
    "replay" } do
    if o[k] ~= nil then words[#words + 1] = "--" .. k:gsub("_", "-"); words[#words + 1] = tostring(o[k]) end
  end
  for i, w in ipairs(words) do words[i] = shell_quote(w) end
  local cmd = ("%s sandbox %s --env-file %s </dev/null >%s 2>&1 & echo $!"):format(self_cmd,
    table.concat(words, " "), shell_quote(envfile), shell_quote(log))
  local p = assert(io.popen(cmd))
  local pid = p:read("l")
  p:close()
  local http = require("dwell.core").http
  local text
  for _ = 1, 400 do
    local f = io.open(envfile, "rb")
    if f then text = f:read("a"); f:close(); break end
    if not os.execute("kill -0 " .. tostring(pid) .. " 2>/dev/null") then break end
    http.sleep(0.025)
  end
  os.remove(dir)
  os.remove(envfile)
  if not text then
    local f = io.open(log, "rb")
    local why = f and f:read("a") or ""
    if f then f:close() end
    os.remove(log)
    io.stderr:write(why ~= "" and why or "dwell sandbox: the sandbox did not start\n")
    os.exit(2)
  end
  os.remove(log)
  io.stdout:write(text)
  io.stdout:write("# stop it with: kill $DWELL_SANDBOX_PID\n")
  io.stdout:flush()
end

--- Runs `dwell sandbox` with the parsed options (argparse's result).
function M.run(o, self_cmd)
  if o.env and not o.env_file then return detach(o, self_cmd) end
  local sb, sandbox = start(o)
  local creds = M.credentials(sb)
  local env = M.environment(sb.url, creds)
  io.stdout:setvbuf("line")
  if o.env_file then
    local pid = own_pid()
    if pid then env[#env + 1] = { "DWELL_SANDBOX_PID", pid } end
    local tmp = o.env_file .. ".tmp"
    local f = assert(io.open(tmp, "w"))
    f:write(M.env_text(env))
    f:close()
    assert(os.rename(tmp, o.env_file))
    return serve(sb, sandbox, true)
  end
  if o.json then
    local vars = {}
    for _, kv in ipairs(env) do vars[kv[1]] = kv[2] end
    print(json.encode({ url = sb.url, pid = own_pid() and math.tointeger(tonumber(own_pid())) or nil,
      credentials = creds, env = vars }, { sort_keys = true }))
  else
    print("dwell sandbox listening on " .. sb.url)
    local names = {}
    for set in pairs(creds) do names[#names + 1] = set end
    table.sort(names)
    for _, set in ipairs(names) do
      print(("credentials for %s:%s"):format(set, show(creds[set], "  ")))
    end
  end
  return serve(sb, sandbox, o.json)
end

return M
