--- The sandbox command line, behind both `dwell sandbox` (lua/dwell/cli/init.lua) and
-- bin/dwell-sandbox: the options (M.add_options, on any argparse parser or command), the
-- fixtures, the route list, --record / --replay, the credentials, the DWELL_* environment and
-- the output. Both serve in the foreground until SIGINT/SIGTERM and print the URL and the
-- credentials; --json prints one line (URL, pid, credentials, environment) instead. They differ
-- in a mode (M.COMMAND, M.BIN): the name in their messages, the default --routes, and --env,
-- which `dwell sandbox` serves in the background (`eval "$(dwell sandbox --env)"`;
-- DWELL_SANDBOX_PID says which process to stop) and bin/dwell-sandbox in the foreground.
local json = require "dwell.json"

local M = {}

--- `dwell sandbox`: the three vendors by default; --env detaches.
M.COMMAND = { name = "dwell sandbox", routes = "tuya,rooms,ruckus", env = "detach" }
--- bin/dwell-sandbox: the transport test routes by default; --env keeps serving in the foreground.
M.BIN = { name = "dwell-sandbox", routes = "echo,static", env = "foreground" }

M.DESCRIPTION = "Runs the local sandbox: prints its base URL (and the credentials of the route sets "
  .. "that have them), then serves until SIGINT or SIGTERM."

-- The options with a value, in --help order: { flag, argname, help, integer? }. The key in argparse's
-- result is the flag without "--", "-" as "_".
local OPTIONS = {
  { "--host", "HOST", "Address to listen on (default 127.0.0.1)." },
  { "--port", "N", "Port (default 0: any free port; the URL is printed).", true },
  { "--latency-ms", "N", "Delay every response by N ms.", true },
  { "--routes", "A,B,...", "Route sets to serve, comma-separated." },
  { "--fixtures", "FILE", "Lua or JSON file: { <set> = <config>, ..., faults = { ... } }; every set named there is served too." },
  { "--seed", "N", "Seed for probabilistic faults.", true },
  { "--threads", "N", "Worker threads (default 4; connections are event-driven).", true },
  { "--lanes", "N", "Lua states serving the routes (default 1); read-only vendor routes run on any of them "
    .. "at once, the rest on all in turn.", true },
  { "--max-connections", "N", "Connections served at once (default 1024); beyond that each new connection "
    .. "is answered 503 with Retry-After.", true },
  { "--overflow-connections", "N", "How many such extra connections to answer (default 4096).", true },
  { "--header-timeout-ms", "N", "Over the limit, a connection that has waited this long for its request is "
    .. "closed to admit a new one (default 1000).", true },
  { "--idle-timeout-s", "N", "Close connections idle this long (default 30).", true },
  { "--record-limit", "N", "Keep the newest N requests (default 10000) ...", true },
  { "--record-bytes", "N", "... within N bytes in all (default 32 MiB).", true },
  { "--record-body-bytes", "N", "Keep the first N bytes of each body (default 64 KiB).", true },
  { "--record", "DIR", "A recording proxy: forward every request to --upstream URL, answer with its response, "
    .. "and write each exchange to DIR/000001.json, ... with secrets scrubbed (the names dwell.redact masks)." },
  { "--upstream", "URL", "Where --record forwards to (a vendor's base URL)." },
  { "--replay", "DIR", "Answer from the exchanges recorded in DIR (by method, path, query and body), issuing "
    .. "tokens of its own: the credentials it prints (the fixtures' `replay` table sets them) are what clients use." },
  { "--tls-cert", "FILE", "Serve HTTPS with this PEM certificate ..." },
  { "--tls-key", "FILE", "... and this PEM private key." },
}

local function key_of(flag) return (flag:sub(3):gsub("-", "_")) end

-- argparse converter: nil plus a message fails the parse with that message
local function integer(flag)
  return function(s)
    local n = math.tointeger(tonumber(s))
    if not n then return nil, flag .. " needs an integer, got '" .. s .. "'" end
    return n
  end
end

--- Adds the sandbox's options to the argparse parser or command `cmd`, for the mode `how`
-- (M.COMMAND or M.BIN). Returns `cmd`.
function M.add_options(cmd, how)
  for _, o in ipairs(OPTIONS) do
    local opt = cmd:option(o[1], o[3], o[1] == "--routes" and how.routes or nil):argname("<" .. o[2] .. ">")
    if o[4] then opt:convert(integer(o[1])) end
  end
  local env_help = how.env == "detach"
    and "Print export DWELL_...= lines and serve in the background: eval \"$(dwell sandbox --env)\"; "
      .. "kill $DWELL_SANDBOX_PID stops it."
    or "Print export DWELL_...= lines on stdout (DWELL_SANDBOX_URL and the DWELL_<VENDOR>_* settings that "
      .. "point dwell at the sandbox) and serve in the foreground; messages go to stderr."
  cmd:mutex(
    cmd:flag("--json", "Print {\"url\":..., \"pid\":..., \"credentials\":{<set>:{...}}, \"env\":{...}} as one JSON "
      .. "line on stdout, then serve (messages go to stderr)."),
    cmd:flag("--env", env_help))
  cmd:option("--env-file"):hidden(true) -- the detached sandbox of `dwell sandbox --env` writes it
  cmd:help_max_width(100)
  return cmd
end

local prog = M.COMMAND.name

local function die(msg)
  io.stderr:write(prog, ": ", msg, "\n")
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

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

local function is_list(t)
  return type(t) == "table" and #t > 0 and next(t, #t) == nil
end

--- Every route set's credentials: { [set] = table, or { error = message } where the set failed
-- to give them }. A replay answers as all three vendors: its credentials are theirs.
function M.credentials(sb)
  local controls = sb:control("sandbox", "controls") or {}
  local out = {}
  for set, actions in pairs(controls) do
    for _, action in ipairs(actions) do
      if action == "credentials" then
        local creds, err = sb:control(set, "credentials")
        out[set] = creds or { error = tostring(err) }
      end
    end
  end
  if out.replay and not out.replay.error then return out.replay end
  return out
end

--- The DWELL_* settings that point the library and the CLI at this sandbox, as a list of
-- { name, value } sorted by name: DWELL_SANDBOX_URL (and DWELL_SANDBOX_PID when `pid` is
-- given), each vendor's DWELL_<VENDOR>_* (DWELL_TUYA_BLOCK_ID the first seeded block,
-- DWELL_TUYA_BLOCK_IDS all of them), and DWELL_<SET>_<KEY> for any other set's credentials
-- (nested keys joined by "_", lists comma-joined).
function M.environment(url, creds, pid)
  local env = { DWELL_SANDBOX_URL = url }
  local function add(name, v) if v ~= nil then env[name] = tostring(v) end end
  local function name(...) return (table.concat({ ... }, "_"):upper():gsub("[^%w]", "_")) end
  local function generic(prefix, v)
    if is_list(v) then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = tostring(x) end
      add(prefix, table.concat(parts, ","))
    elseif type(v) == "table" then
      for _, k in ipairs(sorted_keys(v)) do generic(prefix .. "_" .. name(k), v[k]) end
    else
      add(prefix, v)
    end
  end
  add("DWELL_SANDBOX_PID", pid)
  for set, c in pairs(creds) do
    if set == "tuya" then
      add("DWELL_TUYA_BASE_URL", url); add("DWELL_TUYA_CLIENT_ID", c.client_id); add("DWELL_TUYA_SECRET", c.secret)
      add("DWELL_TUYA_BLOCK_ID", c.block_ids and c.block_ids[1])
      if is_list(c.block_ids) then generic("DWELL_TUYA_BLOCK_IDS", c.block_ids) end
    elseif set == "rooms" then
      add("DWELL_ROOMS_ACCOUNT_ID", c.account_id)
      add("DWELL_ROOMS_BASE_URL", url .. (c.base_url_path or "/restapi"))
      add("DWELL_ROOMS_AUTH_BASE_URL", url)
      add("DWELL_ROOMS_ACCESS_TOKEN", c.access_token)
    elseif set == "ruckus" then
      add("DWELL_RUCKUS_BASE_URL", url); add("DWELL_RUCKUS_PROPERTY_ID", c.property_id)
      add("DWELL_RUCKUS_HASHED_SECRET", c.hashed_secret)
    elseif not c.error then
      generic(name("DWELL", set), c)
    end
  end
  local list = {}
  for _, k in ipairs(sorted_keys(env)) do list[#list + 1] = { k, env[k] } end
  return list
end

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.shell_quote = shell_quote

--- `export NAME='value'` lines (M.environment's list), each ending in a newline.
function M.env_text(env)
  local lines = {}
  for i, kv in ipairs(env) do lines[i] = ("export %s=%s\n"):format(kv[1], shell_quote(kv[2])) end
  return table.concat(lines)
end

local function show(v, indent)
  if type(v) ~= "table" then return tostring(v) end
  local lines = {}
  for _, k in ipairs(sorted_keys(v)) do
    lines[#lines + 1] = ("%s%s = %s"):format(indent, tostring(k), show(v[k], indent .. "  "))
  end
  return "\n" .. table.concat(lines, "\n")
end

--- The "credentials for SET:" blocks (`  key = value` lines, nested keys indented further).
function M.credentials_text(creds)
  local out = {}
  for _, set in ipairs(sorted_keys(creds)) do
    local c = creds[set]
    out[#out + 1] = ("credentials for %s:%s\n"):format(set, c.error and (" " .. c.error) or show(c, "  "))
  end
  return table.concat(out)
end

-- The route sets to serve: --routes and the fixtures', or the one of --record / --replay.
local function routes_of(o, fixtures)
  if o.upstream and not o.record then die("--upstream goes with --record DIR") end
  if not (o.record or o.replay) then return route_list(o.routes, fixtures) end
  if o.record and o.replay then die("--record and --replay go one at a time") end
  if o.lanes and o.lanes > 1 then die("--record and --replay serve with one lane") end
  if o.record then
    if not o.upstream then die("--record needs --upstream URL") end
    if not os.execute("mkdir -p " .. shell_quote(o.record)) then die("cannot create " .. o.record) end
    return { { set = "record", config = { dir = o.record, upstream = o.upstream } } }
  end
  -- the replay's own credentials may come from the fixtures' `replay` table
  local cfg = {}
  for k, v in pairs(fixtures.replay or {}) do cfg[k] = v end
  cfg.dir = o.replay
  return { { set = "replay", config = cfg } }
end

local function start(o)
  local fixtures = o.fixtures and load_fixtures(o.fixtures) or {}
  local tls
  if o.tls_cert or o.tls_key then
    if not (o.tls_cert and o.tls_key) then die("--tls-cert and --tls-key go together") end
    tls = { cert = read_file(o.tls_cert), key = read_file(o.tls_key) }
  end
  local routes = routes_of(o, fixtures)
  local sandbox = require "dwell.sandbox"
  local sb, err = sandbox.start{
    host = o.host, port = o.port, latency_ms = o.latency_ms, seed = o.seed, tls = tls,
    threads = o.threads, lanes = o.lanes, max_connections = o.max_connections,
    overflow_connections = o.overflow_connections, header_timeout_ms = o.header_timeout_ms,
    idle_timeout_s = o.idle_timeout_s, record_limit = o.record_limit, record_bytes = o.record_bytes,
    record_body_bytes = o.record_body_bytes, routes = routes, faults = fixtures.faults,
  }
  if not sb then die(tostring(err)) end
  return sb, sandbox
end

-- Serves until a signal; `say` (if any) tells that it stopped.
local function serve(sb, sandbox, say)
  local sig = sandbox.wait_for_signal()
  sb:stop()
  if say then say(("%s stopped (%s, %d requests served)"):format(prog, tostring(sig), sb:stats().served)) end
  sb:close()
end

local function own_pid()
  local f = io.open("/proc/self/stat")
  local pid = f and f:read("l"):match("^%d+")
  if f then f:close() end
  return pid
end

-- --env in the background: starts `<self_cmd> <options> --env-file F` detached, waits for F,
-- prints it.
local function detach(o, self_cmd)
  local dir = os.tmpname()
  local envfile, log = dir .. ".env", dir .. ".log"
  local words = {}
  for _, opt in ipairs(OPTIONS) do
    local v = o[key_of(opt[1])]
    if v ~= nil then words[#words + 1] = opt[1]; words[#words + 1] = tostring(v) end
  end
  for i, w in ipairs(words) do words[i] = shell_quote(w) end
  local cmd = ("%s %s --env-file %s </dev/null >%s 2>&1 & echo $!"):format(self_cmd,
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
  local f = io.open(log, "rb")
  local why = f and f:read("a") or ""
  if f then f:close() end
  os.remove(log)
  if not text then
    io.stderr:write(why ~= "" and why or (prog .. ": the sandbox did not start\n"))
    os.exit(2)
  end
  io.stdout:write(text)
  io.stdout:write("# stop it with: kill $DWELL_SANDBOX_PID\n")
  io.stdout:flush()
end

local function stderr_line(line) io.stderr:write(line, "\n") end

--- Runs the sandbox with the options argparse parsed (M.add_options), in the mode `how`
-- (M.COMMAND or M.BIN). `self_cmd` is the shell command that runs the sandbox command again
-- (`dwell ... sandbox`), for --env in M.COMMAND's mode. Returns once it has stopped.
function M.run(o, how, self_cmd)
  how = how or M.COMMAND
  prog = how.name
  if o.env and how.env == "detach" and not o.env_file then return detach(o, self_cmd) end
  local sb, sandbox = start(o)
  local creds = M.credentials(sb)
  local pid = own_pid()
  local env = M.environment(sb.url, creds, pid)
  io.stdout:setvbuf("line")
  if o.env_file then
    local tmp = o.env_file .. ".tmp"
    local f = assert(io.open(tmp, "w"))
    f:write(M.env_text(env))
    f:close()
    assert(os.rename(tmp, o.env_file))
    return serve(sb, sandbox, nil)
  end
  -- --json / --env: stdout is for programs (one JSON line, or shell assignments); what people
  -- read goes to stderr.
  local say = print
  if o.json then
    local vars = {}
    for _, kv in ipairs(env) do vars[kv[1]] = kv[2] end
    print(json.encode({ url = sb.url, pid = pid and math.tointeger(tonumber(pid)) or nil,
      credentials = creds, env = vars }, { sort_keys = true }))
    say = stderr_line
  elseif o.env then
    io.stdout:write(M.env_text(env))
    say = stderr_line
  end
  say(prog .. " listening on " .. sb.url)
  if not (o.json or o.env) then io.stdout:write(M.credentials_text(creds)) end
  io.stdout:flush()
  return serve(sb, sandbox, say)
end

--- argparse's `error` for a parser of the sandbox's options: usage, the message, exit status 2.
function M.usage_error(parser, msg)
  io.stderr:write(("%s\n\nError: %s\n"):format(parser:get_usage(), msg))
  os.exit(2)
end

return M
