-- bin/dwell-sandbox: runs in the foreground, prints its URL and credentials,
-- serves the configured route sets and faults, exits cleanly on a signal.
local support = require "support.shell"
local openssl = require "support.openssl" -- for its private temp directories

-- Runs the CLI in the background inside one shell so it can be signalled and
-- its exit status collected; `client` is shell code run once the URL is known
-- (with $URL set). Returns the CLI's output, the client's output and the exit code.
local function run_cli(flags, client, signal, env)
  local dir = openssl.tmpdir()
  local script = ([[
    %s %s bin/dwell-sandbox %s > %s/out 2>&1 & pid=$!
    for i in $(seq 500); do
      grep -q 'listening on' %s/out 2>/dev/null && break
      kill -0 $pid 2>/dev/null || break
      sleep 0.02
    done
    URL=$(grep -o 'https\?://[^ ]*' %s/out | head -n 1)
    ( %s ) > %s/client 2>&1
    kill -%s $pid 2>/dev/null
    wait $pid
    echo "exit=$?"
  ]]):format(support.sanitizer_env(), env or "", flags, dir, dir, dir, client or ":", dir, signal or "TERM")
  local f = assert(io.open(dir .. "/run.sh", "w"))
  f:write(script)
  f:close()
  local status = support.shell(support.tool_env .. "sh " .. dir .. "/run.sh")
  local out, client_out = support.read_all(dir .. "/out"), support.read_all(dir .. "/client")
  openssl.cleanup(dir)
  return out, client_out, tonumber(status:match("exit=(%d+)"))
end

describe("bin/dwell-sandbox", function()
  it("prints its URL, serves, and exits 0 on SIGTERM", function()
    local out, client, code = run_cli("--port 0 --routes echo,static", 'curl -sS "$URL/static/12"')
    assert.are.equal(0, code, out)
    assert.truthy(out:find("listening on http://127.0.0.1:%d+"), out)
    assert.are.equal(12, #client)
    assert.truthy(out:find("stopped (SIGTERM, 1 requests served)", 1, true), out)
  end)

  it("exits 0 on SIGINT", function()
    local out, _, code = run_cli("--port 0", nil, "INT")
    assert.are.equal(0, code, out)
    assert.truthy(out:find("stopped (SIGINT", 1, true), out)
  end)

  it("applies latency, fixtures (route-set config and faults) and shows credentials", function()
    local undo, dir = support.route_sets{ spec_vendor = [[
      return function(config)
        return { { "GET", "/hello", function() return 200, {}, config.greeting end } },
               { credentials = function() return { client_id = config.client_id } end }
      end ]] }
    local fx = os.tmpname()
    local f = assert(io.open(fx, "w"))
    f:write([[return {
      spec_vendor = { greeting = "hi there", client_id = "cid-123" },
      static = { fixed = { ["/fixed"] = "fixed body" } },
      faults = { { match = "/static/{n}", kind = "status", status = 418 } },
    }]])
    f:close()
    local out, client, code = run_cli(
      ("--latency-ms 10 --routes static --fixtures %s"):format(fx),
      'curl -sS "$URL/hello"; echo; curl -sS "$URL/fixed"; echo; '
        .. 'curl -sS -o /dev/null -w "%{http_code}" "$URL/static/3"',
      nil, ("LUA_PATH='%s/?.lua;;'"):format(dir))
    undo()
    os.remove(fx)
    assert.are.equal(0, code, out)
    assert.truthy(out:find("credentials for spec_vendor:", 1, true), out)
    assert.truthy(out:find("client_id = cid-123", 1, true), out)
    assert.are.equal("hi there\nfixed body\n418", client)
  end)

  it("--json prints the URL and every set's credentials as one JSON line", function()
    local json = require "dwell.json"
    local out, _, code = run_cli("--routes tuya,ruckus --json")
    assert.are.equal(0, code, out)
    local line = out:match("(%b{})")
    local doc = assert(json.decode(line), out)
    assert.truthy(out:find("listening on " .. doc.url, 1, true), out)
    assert.are.equal("dwellsbx4tuya7client", doc.credentials.tuya.client_id)
    assert.are.equal(3, #doc.credentials.tuya.block_ids)
    assert.is_string(doc.credentials.ruckus.hashed_secret)
    assert.is_nil(out:find("credentials for", 1, true))
  end)

  it("--env prints shell assignments a shell can source", function()
    local out, client, code = run_cli("--routes tuya,rooms,ruckus --env")
    assert.are.equal(0, code, out)
    local url = out:match("export DWELL_SANDBOX_URL='(http://127.0.0.1:%d+)'")
    assert.truthy(url, out)
    assert.truthy(out:find("export DWELL_TUYA_CLIENT_ID='dwellsbx4tuya7client'", 1, true), out)
    assert.truthy(out:find("export DWELL_TUYA_BASE_URL='" .. url .. "'", 1, true), out)
    assert.truthy(out:find("export DWELL_TUYA_BLOCK_ID='%d+'"), out)
    assert.truthy(out:find("export DWELL_TUYA_BLOCK_IDS='%d+,%d+,%d+'"), out)
    assert.truthy(out:find("export DWELL_ROOMS_BASE_URL='" .. url .. "/restapi'", 1, true), out)
    assert.truthy(out:find("export DWELL_ROOMS_ACCESS_TOKEN='", 1, true), out)
    assert.truthy(out:find("export DWELL_RUCKUS_HASHED_SECRET='", 1, true), out)
    -- What it prints is valid shell: source it and read a value back.
    local f = os.tmpname()
    local h = assert(io.open(f, "w"))
    for l in out:gmatch("[^\n]+") do if l:match("^export ") then h:write(l, "\n") end end
    h:close()
    local got = support.shell(". " .. f .. ' && printf %s "$DWELL_TUYA_SECRET"')
    os.remove(f)
    assert.are.equal("dwellsbx4tuya7secret0123456789ab", got)
    assert.are.equal("", client)
  end)

  it("fails with a clear message and status 2 on bad input", function()
    local out, rc = support.shell("bin/dwell-sandbox --routes no_such_set 2>&1")
    assert.are.equal(2, rc)
    assert.truthy(out:find("unknown route set 'no_such_set'", 1, true), out)
    out, rc = support.shell("bin/dwell-sandbox --port abc 2>&1")
    assert.are.equal(2, rc)
    assert.truthy(out:find("--port needs an integer", 1, true), out)
  end)
end)

describe("dwell.sandbox.wait_for_signal", function()
  it("raises for a NaN timeout", function()
    assert.has_error(function() require("dwell.sandbox").wait_for_signal(0 / 0) end)
  end)

  it("leaves the process's own SIGTERM disposition as it was once it returns", function()
    -- The child starts with SIGTERM ignored, waits briefly for a signal that
    -- never comes, then is sent SIGTERM: still ignored, it survives and says
    -- so. (SIGINT goes the same way, but lua5.4 installs its own handler.)
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
      local sandbox = require "dwell.sandbox"
      assert(sandbox.wait_for_signal(0.01) == nil)
      local pid = assert(io.open("/proc/self/stat")):read("l"):match("^%d+")
      os.execute(("(sleep 0.1; kill -TERM %s) &"):format(pid))
      io.popen("sleep 1"):read("a") -- popen leaves signals alone, unlike os.execute
      print("survived")
    ]])
    f:close()
    local out, rc = support.shell(("%s sh -c \"trap '' TERM; %s lua5.4 %s\" 2>&1")
      :format(support.tool_env, support.sanitizer_env(), script))
    os.remove(script)
    assert.are.equal(0, rc, out)
    assert.truthy(out:find("survived", 1, true), out)
  end)
end)
