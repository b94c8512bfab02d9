--- What every example shares, loaded first thing by each of them with
--
--   local ex = dofile((debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") or "") .. "_setup.lua")
--
-- (this file, found next to the example itself). It puts the checkout's lua/ and build/ in
-- front of the module paths, found from this file's own location (as bin/dwell does from
-- its own), so that `lua5.4 examples/x.lua` works from the checkout or from any other
-- directory without LUA_PATH / LUA_CPATH; and it makes each example's command line parser
-- (lua-argparse) with the options they all have: --help, --sandbox and --profile.
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local root = dir .. "/.."
package.path = ("%s/lua/?.lua;%s/lua/?/init.lua;"):format(root, root) .. package.path
package.cpath = ("%s/build/?.so;"):format(root) .. package.cpath

local M = { root = root }

--- Exit statuses, as the `dwell` command's: 0 ok, 1 a failure, 2 bad arguments or settings.
M.USAGE = 2

local SETTINGS = [[
Settings that are not options come from dwell's settings chain (README "Settings"): the
DWELL_* environment variables, then the profile file ($DWELL_CONFIG, else
$XDG_CONFIG_HOME/dwell/config; its [default] section, or --profile NAME / DWELL_PROFILE).
`eval "$(dwell sandbox --env)"` points them all at a local sandbox.
Exit status: 0 ok; 1 a failure; 2 invalid arguments or settings.]]

--- An argparse parser for the example `name` with --sandbox (`sandbox`: what it does there)
-- and, unless `settings` is false (an example that talks to no vendor), --profile and the
-- settings chain in the help text. Errors exit with status 2, after the usage, on stderr.
function M.parser(name, description, opts)
  opts = opts or {}
  local parser = require("argparse")(name, description)
  parser:flag("--sandbox", opts.sandbox or "Start a local sandbox, run against it, stop it.")
  if opts.settings ~= false then
    parser:option("--profile", "Profile of the profile file (default: DWELL_PROFILE, else 'default').")
      :argname("<name>")
    parser:epilog((opts.epilog and (opts.epilog .. "\n\n") or "") .. SETTINGS)
  elseif opts.epilog then
    parser:epilog(opts.epilog)
  end
  parser.error = function(p, msg)
    io.stderr:write(("%s\n\nError: %s\n"):format(p:get_usage(), msg))
    os.exit(M.USAGE)
  end
  return parser
end

--- Adds --block-id (a Tuya community block); M.block_id reads it back.
function M.block_option(parser)
  parser:option("--block-id", "Tuya community block (default: DWELL_TUYA_BLOCK_ID).")
    :argname("<id>")
end

--- The block: --block-id, else DWELL_TUYA_BLOCK_ID; or nil, a message saying how to give one.
function M.block_id(args)
  local b = args.block_id
  if b == nil or b == "" then b = os.getenv("DWELL_TUYA_BLOCK_ID") end
  if b == nil or b == "" then return nil, "no block: pass --block-id or set DWELL_TUYA_BLOCK_ID" end
  return b
end

--- Writes "name: message" on stderr and exits with `status` (default 1).
function M.die(name, msg, status)
  io.stdout:flush()
  io.stderr:write(name, ": ", (tostring(msg):gsub("[\r\n]+$", "")), "\n")
  os.exit(status or 1)
end

return M
