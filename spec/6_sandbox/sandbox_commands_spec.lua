-- bin/dwell-sandbox and `dwell sandbox` are one command line (lua/dwell/cli/sandbox.lua): run
-- as real processes, they take the same server options and print the same DWELL_* variables
-- for the same route sets (--env: the bin in the foreground, `dwell sandbox` in the background).
local support = require "support.shell"
local openssl = require "support.openssl"

local SERVER_OPTIONS = "--threads 2 --lanes 2 --max-connections 64 --overflow-connections 8 --header-timeout-ms 5000 "
  .. "--idle-timeout-s 5 --record-limit 100 --record-bytes 100000 --record-body-bytes 1000 --latency-ms 0 --seed 7"

-- lua5.4 <args> with the runner's paths and `dir` (route-set modules) first on LUA_PATH.
local function lua_cmd(dir, args)
  return ("LUA_PATH=%s LUA_CPATH=%s lua5.4 %s"):format(
    support.quote(dir .. "/?.lua;" .. (os.getenv("LUA_PATH") or "lua/?.lua;lua/?/init.lua;;")),
    support.quote(os.getenv("LUA_CPATH") or "build/?.so;;"), args)
end

-- The export lines of `out` as { name = value }.
local function exports(out)
  local vars = {}
  for name, value in out:gmatch("export ([%w_]+)='([^']*)'") do vars[name] = value end
  return vars
end

-- bin/dwell-sandbox <args> --env: serves in the foreground; its exports once it listens, and
-- what a request to its URL answered.
local function bin_env(args, lib)
  local dir = openssl.tmpdir()
  local script = ([[
    %s %s > %s/out 2>%s/err & pid=$!
    for i in $(seq 500); do
      grep -q 'listening on' %s/err 2>/dev/null && break
      kill -0 $pid 2>/dev/null || break
      sleep 0.02
    done
    URL=$(sed -n "s/^export DWELL_SANDBOX_URL='\(.*\)'$/\1/p" %s/out)
    %s -s -o /dev/null -w '%%{http_code}' "$URL/tuya-no-such-path" > %s/client
    kill -TERM $pid 2>/dev/null
    wait $pid
    echo "exit=$?"
  ]]):format(support.sanitizer_env(), lua_cmd(lib, "bin/dwell-sandbox " .. args .. " --env"),
    dir, dir, dir, dir, support.curl_cmd, dir)
  local f = assert(io.open(dir .. "/run.sh", "w"))
  f:write(script)
  f:close()
  local status = support.shell(support.tool_env .. "sh " .. dir .. "/run.sh")
  local out, err, client = support.read_all(dir .. "/out"), support.read_all(dir .. "/err"), support.read_all(dir .. "/client")
  openssl.cleanup(dir)
  return out, err, tonumber(status:match("exit=(%d+)")), client
end

-- `dwell sandbox <args> --env`: prints, detaches; its exports and what a request answered,
-- then the background sandbox is stopped.
local function command_env(args, lib)
  local script = ([[
    out=$(%s) || { echo "failed: $out"; exit 9; }
    printf '%%s\n' "$out"
    eval "$out"
    echo "status=$(%s -s -o /dev/null -w '%%{http_code}' "$DWELL_SANDBOX_URL/tuya-no-such-path")"
    kill "$DWELL_SANDBOX_PID"
  ]]):format(lua_cmd(lib, "bin/dwell sandbox " .. args .. " --env"), support.curl_cmd)
  return support.shell(support.tool_env .. support.sanitizer_env() .. " sh -c " .. support.quote(script) .. " 2>&1")
end

local function names(vars)
  local list = {}
  for k in pairs(vars) do list[#list + 1] = k end
  table.sort(list)
  return table.concat(list, " ")
end

describe("bin/dwell-sandbox and dwell sandbox", function()
  it("take the same server options and print the same environment for the same routes", function()
    local undo, dir = support.route_sets{ spec_vendor = [[
      return function(config)
        return { { "GET", "/hello", function() return 200, {}, "hi" end } },
               { credentials = function() return { client_id = config.client_id, keys = { "a", "b" } } end }
      end ]] }
    local fx = os.tmpname()
    local f = assert(io.open(fx, "w"))
    f:write('return { spec_vendor = { client_id = "cid-9" } }')
    f:close()
    local args = "--routes tuya,rooms,ruckus --fixtures " .. fx .. " " .. SERVER_OPTIONS
    local out, err, code, client = bin_env(args, dir)
    local cout = command_env(args, dir)
    undo()
    os.remove(fx)
    assert.are.equal(0, code, out .. err)
    assert.are.equal("404", client, out .. err)
    assert.truthy(err:find("dwell-sandbox listening on http://127.0.0.1:", 1, true), err)
    assert.truthy(cout:find("status=404", 1, true), "dwell sandbox: " .. cout)
    local a, b = exports(out), exports(cout)
    assert.are.equal(names(a), names(b))
    for _, name in ipairs{ "DWELL_SANDBOX_URL", "DWELL_SANDBOX_PID", "DWELL_TUYA_BLOCK_IDS", "DWELL_TUYA_SECRET",
        "DWELL_ROOMS_ACCESS_TOKEN", "DWELL_RUCKUS_HASHED_SECRET", "DWELL_SPEC_VENDOR_CLIENT_ID",
        "DWELL_SPEC_VENDOR_KEYS" } do
      assert.truthy(a[name], name .. "\n" .. out)
    end
    assert.are.equal("cid-9", b.DWELL_SPEC_VENDOR_CLIENT_ID)
    assert.are.equal("a,b", b.DWELL_SPEC_VENDOR_KEYS)
    -- the same values but for where each one serves
    local function relative(v, url) return v:sub(1, #url) == url and "URL" .. v:sub(#url + 1) or v end
    for name, v in pairs(a) do
      if name ~= "DWELL_SANDBOX_PID" then
        assert.are.equal(relative(v, a.DWELL_SANDBOX_URL), relative(b[name], b.DWELL_SANDBOX_URL), name)
      end
    end
  end)

  it("both refuse a bad value of a server option, with status 2", function()
    for _, opt in ipairs{ "--threads", "--lanes", "--max-connections", "--overflow-connections", "--header-timeout-ms",
        "--idle-timeout-s", "--record-limit", "--record-bytes", "--record-body-bytes" } do
      for _, cmd in ipairs{ "bin/dwell-sandbox", "bin/dwell sandbox" } do
        local out, rc = support.shell(support.lua_cmd(cmd .. " " .. opt .. " x") .. " 2>&1")
        assert.are.equal(2, rc, cmd .. " " .. opt .. ": " .. out)
        assert.truthy(out:find(opt .. " needs an integer", 1, true), out)
      end
    end
    -- `dwell sandbox --env` hands the options to the sandbox it starts in the background
    for _, cmd in ipairs{ "bin/dwell-sandbox", "bin/dwell sandbox" } do
      local out, rc = support.shell(support.lua_cmd(cmd .. " --lanes 2 --replay /nonexistent --env") .. " 2>&1")
      assert.are.equal(2, rc, cmd .. ": " .. out)
      assert.truthy(out:find("--record and --replay serve with one lane", 1, true), cmd .. ": " .. out)
    end
  end)
end)
