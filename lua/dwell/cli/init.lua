--- dwell.cli: the `dwell` command (bin/dwell), on lua-argparse.
--
--   dwell <vendor> <endpoint> [name=value ...] [--all] [--format json|jsonl|csv|table]
--         [--fields a,b] [--dry-run] [--trace] [--profile NAME]
--   dwell endpoints [vendor] | dwell describe <vendor> <endpoint>
--   dwell sandbox [--routes ...] [--port N] [--json | --env] ... (lua/dwell/cli/sandbox.lua) | dwell completion bash|zsh|fish
--
-- Results on stdout, everything else on stderr; the exit status tells the error kind (EXIT).
local argparse = require "argparse"
local errors = require "dwell.error"
local describe = require "dwell.cli.describe"

local M = {}

--- Exit statuses by dwell.error kind (README "Command line").
M.EXIT = {
  ok = 0, failure = 1, usage = 2,
  invalid_argument = 2,
  auth = 3, forbidden = 3,
  not_found = 4,
  rate_limited = 5,
  transport = 6, timeout = 6,
  rejected = 7, api = 7, http = 7, decode = 7,
  store = 1,
}

local EPILOG = [[
Exit status: 0 ok; 1 unexpected failure; 2 invalid arguments or settings (nothing was sent);
3 credentials refused or not allowed (auth, forbidden); 4 not found; 5 rate limited;
6 transport failure or timeout; 7 any other API error (rejected, api, http, decode).

Settings come from options, then DWELL_* environment variables, then the profile file
($XDG_CONFIG_HOME/dwell/config, [default] or --profile NAME / DWELL_PROFILE).
DWELL_TRACE=1 is --trace for every call (and for any Lua script using dwell).]]

-- argparse converter: nil plus a message fails the parse with that message (exit status 2)
local function positive_integer(s)
  local n = math.tointeger(tonumber(s))
  if not n or n < 1 then return nil, "--concurrency: must be an integer >= 1, got '" .. s .. "'" end
  return n
end

local function call_options(cmd)
  cmd:option("-f --format", "Output format: json (default for one result), jsonl (default for --all), csv, table.")
    :choices(require("dwell.cli.output").FORMATS)
  cmd:option("--fields", "Columns of csv and table, comma-separated (default: the union of the items' keys).")
  cmd:flag("-a --all", "Read every page, streaming items as they come (a progress line when stderr is a terminal).")
  cmd:option("-c --concurrency", "With --all: fetch up to N pages at once once the total is known (items keep their order).")
    :convert(positive_integer)
  cmd:flag("-n --dry-run", "Print the prepared request, secrets masked; send nothing.")
  cmd:flag("--trace", "Every request and response on stderr, masked (Tuya: the string-to-sign too).")
  cmd:option("-p --profile", "Profile of the profile file (default: DWELL_PROFILE, else 'default').")
end

-- parser -> the names of its subcommands (for a did-you-mean argparse does not find)
local command_names = setmetatable({}, { __mode = "k" })

--- The argparse parser of the whole command.
function M.parser()
  local parser = argparse("dwell",
    "Calls Tuya Smart Community, DocuSign Rooms v2 and RUCKUS One Resident Portal from the shell.")
    :epilog(EPILOG)
  parser:command_target("command")
  parser:option("-p --profile", "Profile of the profile file (default: DWELL_PROFILE, else 'default').")
  for _, vendor in ipairs(describe.VENDORS) do
    local vc = parser:command(vendor, describe.TITLES[vendor] .. " endpoints: dwell " .. vendor
      .. " <endpoint> [name=value ...]; `dwell " .. vendor .. " <endpoint> --help` tells its parameters.")
      :summary(describe.TITLES[vendor] .. " endpoints.")
    vc:command_target("endpoint")
    vc:usage(("Usage: dwell %s [-h] <endpoint> [name=value ...] [--all] [--format F] [--dry-run] [--trace]"):format(vendor))
    local names = {}
    for _, ep in ipairs(describe.catalogue(vendor)) do
      local spec = ep.spec
      names[#names + 1] = spec.name
      local c = vc:command(spec.name)
        :summary((spec.summary or spec.name):gsub("%.$", "") .. ".")
        :description(("%s.\n%s %s"):format((spec.summary or spec.name):gsub("%.$", ""), spec.method, spec.path))
        :epilog("Parameters (name=value; lists as a,b or a repeated name; JSON as name:=<json>):\n"
          .. describe.params_text(spec) .. "\n\nPaging: " .. (describe.paging_text(spec) or "none")
          .. "\nRetries: " .. describe.retry_text(spec) .. "\n\nExample:\n  " .. describe.example(vendor, spec))
      c:argument("params", "Parameters as name=value (or name:=<json>).")
        :args("*")
      call_options(c)
    end
    command_names[vc] = names
  end
  local ls = parser:command("endpoints", "Lists the endpoints (of one vendor, or of all).")
  ls:argument("vendor", "tuya, rooms or ruckus."):args("?"):choices(describe.VENDORS)
  local ds = parser:command("describe", "Describes an endpoint: parameters, paging, retries, an example.")
  ds:argument("vendor", "tuya, rooms or ruckus."):choices(describe.VENDORS)
  ds:argument("endpoint", "The endpoint's name, e.g. community.room_users.")
  local cli_sandbox = require "dwell.cli.sandbox"
  cli_sandbox.add_options(parser:command("sandbox", cli_sandbox.DESCRIPTION
    .. " What bin/dwell-sandbox does, but for the defaults of --routes and for --env, which serves in the background.")
    :summary("Runs the local sandbox (what bin/dwell-sandbox does)."), cli_sandbox.COMMAND)
  parser:add_complete_command{ description = "Prints a shell completion script: bash, zsh or fish." }
  parser.error = function(p, msg)
    local names = command_names[p]
    local wrong = msg:match("^unknown command '(.-)'")
    if names and wrong and not msg:find("Did you mean", 1, true) then
      local guess = require("dwell.validate").did_you_mean(wrong, names)
      if guess then msg = msg .. "\nDid you mean '" .. guess .. "'?" end
    end
    io.stderr:write(("%s\n\nError: %s\n"):format(p:get_usage(), msg))
    os.exit(M.EXIT.usage)
  end
  return parser
end

local function usage_error(msg)
  io.stderr:write("dwell: ", msg, "\n")
  return M.EXIT.usage
end

local function position_text(page)
  local parts = {}
  for k, v in pairs(page) do parts[#parts + 1] = k .. "=" .. tostring(v) end
  table.sort(parts)
  return table.concat(parts, " ")
end

--- Writes the error as one line on stderr; its exit status.
function M.fail(err)
  io.stdout:flush()
  if errors.is(err) then
    local line = tostring(err)
    if type(err.page) == "table" then line = line .. " (resume from " .. position_text(err.page) .. ")" end
    io.stderr:write("dwell: ", line, "\n")
    return M.EXIT[err.kind] or M.EXIT.failure
  end
  io.stderr:write("dwell: ", (tostring(err):gsub("[\r\n]+", " ")), "\n")
  return M.EXIT.failure
end

local function split_fields(s)
  if not s then return nil end
  local out = {}
  for f in s:gmatch("[^,]+") do out[#out + 1] = f:match("^%s*(.-)%s*$") end
  return out
end

local function client_endpoint(client, name)
  for _, ep in ipairs(client:endpoints()) do
    if ep.spec.name == name then return ep end
  end
  return nil
end

-- The prepared request with every secret masked: by header / query name (dwell.redact), and
-- by value (the signature, tokens and the configuration's secrets wherever they appear).
local function masked_request(req, secrets, redact_names)
  local redact = require "dwell.redact"
  local list = {}
  for _, s in ipairs(secrets) do list[#list + 1] = s end
  for k, v in pairs(req.headers or {}) do
    if redact.is_secret(tostring(k), redact_names) and type(v) == "string" then
      list[#list + 1] = v
      list[#list + 1] = v:match("^%a+ (.+)$") -- "Bearer <token>"
    end
  end
  local clean = {}
  for _, s in ipairs(list) do if type(s) == "string" and #s >= 4 and not s:find("^<.*>$") then clean[#clean + 1] = s end end
  table.sort(clean, function(a, b) return #a > #b end)
  local function m(s) return errors.mask_text(s, clean) end
  local headers = {}
  for k, v in pairs(redact.headers(req.headers or {}, redact_names)) do headers[k] = m(v) end
  local out = { method = req.method, url = m(redact.url(req.url, redact_names)), headers = headers }
  if req.body ~= nil then
    local body = m(req.body)
    local decoded = type(body) == "string" and require("dwell.json").decode(body)
    out.body = decoded ~= nil and decoded or body
  end
  return out
end

local REDACT = { tuya = { "sign", "access_token" }, rooms = { "authorization", "assertion", "refresh_token",
  "access_token", "code", "client_secret" }, ruckus = { "authorization", "hashedSecret" } }

local function run_endpoint(vendor, name, o)
  local profile = require "dwell.profile"
  local output = require "dwell.cli.output"
  local paging = require "dwell.paging"
  local decl = describe.find(vendor, name)
  local args, why = require("dwell.cli.args").parse(decl.spec, o.params or {})
  if not args then
    return M.fail(errors.invalid_argument(vendor, name, nil, why))
  end
  local spec = decl.spec
  local style = spec.paging and paging[spec.paging.style]
  -- the library's own check, before any settings, client or request
  local checked, bad = decl:build(style and style.start(spec.paging, args) or args)
  if not checked then return M.fail(bad) end
  if o.all and not spec.paging then
    return M.fail(errors.invalid_argument(vendor, name, nil, "--all: this endpoint is not paged (one call, one result)"))
  end
  if o.concurrency and not o.all then
    return M.fail(errors.invalid_argument(vendor, name, "concurrency", "--concurrency needs --all"))
  end
  local fields = split_fields(o.fields)
  local resolved, from = profile.resolve(vendor, { profile = o.profile })
  if not resolved then return M.fail(from) end
  local prog = o.all and not o.dry_run and require("dwell.cli.progress").new() or nil
  local trace
  if o.trace then
    trace = function(line)
      if prog and prog.drawn then io.stderr:write("\r\27[K") end
      io.stderr:write(line, "\n")
      if prog and prog.drawn then prog:draw() end
    end
  end
  local on_event
  if prog and prog.enabled then
    on_event = function(kind, _, waited) if kind == "request" and waited then prog:wait(waited) end end
  end
  local client, err = profile.build(vendor, resolved, { trace = (not o.dry_run) and trace or nil, on_event = on_event })
  if not client then return M.fail(err) end
  local ep = client_endpoint(client, name)
  if o.dry_run then
    local a = style and style.start(spec.paging, args) or args
    local req, perr = ep:prepare(a, { access_token = "<access_token>" })
    if not req then return M.fail(perr) end
    local secrets = require("dwell.trace").secrets_of(resolved)
    output.result(masked_request(req, secrets, REDACT[vendor]), { format = o.format or "json", fields = fields })
    return M.EXIT.ok
  end
  if not o.all then
    local a = style and style.start(spec.paging, args) or args
    local result, cerr = ep(a)
    if result == nil then return M.fail(cerr) end
    local format = o.format or "json"
    local items
    if style and format ~= "json" then
      local ok, list = pcall(style.items, spec.paging, result)
      if ok then items = list end
    end
    output.result(result, { format = format, fields = fields }, items)
    return M.EXIT.ok
  end
  local w = output.writer{ format = o.format or "jsonl", fields = fields, many = true }
  local ok, perr = pcall(function()
    for page, items in ep:pages(args, { concurrency = o.concurrency or 1 }) do
      for _, item in ipairs(items) do w:item(item) end
      io.stdout:flush()
      if prog then prog:page(page, #items) end
    end
  end)
  if prog then prog:finish() end
  w:finish()
  if not ok then return M.fail(perr) end
  return M.EXIT.ok
end

--- Runs the command line `argv`; returns the exit status. `self_cmd` is the shell command that
-- runs this program again (for `dwell sandbox --env`).
function M.main(argv, self_cmd)
  local parser = M.parser()
  local o = parser:parse(argv)
  local cmd = o.command
  if cmd == "tuya" or cmd == "rooms" or cmd == "ruckus" then
    local ok, code = pcall(run_endpoint, cmd, o.endpoint, o)
    if not ok then return M.fail(code) end
    return code
  elseif cmd == "endpoints" then
    io.stdout:write(describe.endpoints_text(o.vendor and { o.vendor } or describe.VENDORS), "\n")
    return M.EXIT.ok
  elseif cmd == "describe" then
    local ep = describe.find(o.vendor, o.endpoint)
    if not ep then
      local names = {}
      for _, e in ipairs(describe.catalogue(o.vendor)) do names[#names + 1] = e.spec.name end
      local guess = require("dwell.validate").did_you_mean(o.endpoint, names)
      return usage_error(("%s has no endpoint '%s'%s"):format(o.vendor, o.endpoint,
        guess and (" (did you mean '" .. guess .. "'?)") or " (dwell endpoints " .. o.vendor .. " lists them)"))
    end
    io.stdout:write(describe.describe(o.vendor, ep), "\n")
    return M.EXIT.ok
  elseif cmd == "sandbox" then
    local cli_sandbox = require "dwell.cli.sandbox"
    cli_sandbox.run(o, cli_sandbox.COMMAND, self_cmd .. " sandbox")
    return M.EXIT.ok
  end
  return usage_error("unknown command")
end

return M
