--- bench/nginx.lua: static answers from nginx (Debian's nginx-light, `DWELL_BOOTSTRAP_EXTRAS=nginx-light
-- scripts/bootstrap`) on 127.0.0.1, for benches that measure the client alone: the server is
-- processes of its own and checks nothing (no signature, no token). Loaded with dofile:
--
--   local nginx = dofile(here .. "/nginx.lua")
--   local base, stop = nginx.start({ ["page.json"] = body, ... },
--     { "location = /v1.0/token { try_files /token.json =404; }", ... })
--
-- Files are written to a temp directory that is the server's root; `locations` are nginx
-- location blocks (the gateway paths answer whatever the query unless a block says otherwise).
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*)/") or ".") .. "/common.lua")
local M = {}

local sh = common.sh

local write = common.write

local function binary()
  for _, p in ipairs{ "/usr/sbin/nginx", "/usr/bin/nginx" } do
    local f = io.open(p)
    if f then f:close() return p end
  end
  error("nginx not found: run `DWELL_BOOTSTRAP_EXTRAS=nginx-light scripts/bootstrap`")
end

--- Starts nginx on a free port with `files` in its root and `locations`; returns the base URL
-- and a stop function.
function M.start(files, locations)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/logs"))
  for name, body in pairs(files) do write(dir .. "/" .. name, body) end
  local nginx = binary()
  for _ = 1, 20 do
    local port = math.random(20000, 60000)
    write(dir .. "/nginx.conf", table.concat({
      "worker_processes 1;", "daemon on;", "pid " .. dir .. "/nginx.pid;",
      "error_log " .. dir .. "/logs/error.log;", "events { worker_connections 64; }",
      "http { access_log off; keepalive_requests 10000000; keepalive_timeout 300s;",
      "  default_type application/json;",
      "  server { listen 127.0.0.1:" .. port .. "; root " .. dir .. ";",
      "    " .. table.concat(locations, "\n    ") .. " } }",
    }, "\n"))
    local _, ok = sh(("%s -c %s/nginx.conf -p %s 2>&1"):format(nginx, dir, dir))
    if ok then
      local function stop()
        local f = io.open(dir .. "/nginx.pid")
        local pid = f and f:read("n")
        if f then f:close() end
        if pid then os.execute("kill " .. math.tointeger(pid)) end
        os.execute("sleep 0.2; rm -rf " .. dir)
      end
      return ("http://127.0.0.1:%d"):format(port), stop
    end
  end
  error("could not start nginx")
end

return M
