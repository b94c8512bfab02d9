--- Route set "record": a recording proxy (bin/dwell-sandbox --record DIR --upstream URL).
-- Every request is forwarded to config.upstream (same method, path, query, headers but the
-- hop-by-hop ones, and body), its answer goes back to the client, and the exchange is
-- written to config.dir with secrets scrubbed (dwell.sandbox.recording). Requests are
-- forwarded one at a time, in the order they arrive.
-- config: dir, upstream ("http[s]://host[:port][/prefix]"), timeout_ms (30000).
-- controls: recorded() -> { count, dir }.
local core = require "dwell.core"
local recording = require "dwell.sandbox.recording"

return function(config, env)
  -- Forwarding is not a deterministic write: with several lanes it would run once per lane.
  if env and (env.lanes or 1) > 1 then error("record: serves with one lane only (lanes = 1)", 0) end
  local dir, upstream = config.dir, config.upstream
  if type(dir) ~= "string" or dir == "" then error("record: config.dir is required", 0) end
  if type(upstream) ~= "string" or not upstream:match("^https?://[^/]+") then
    error("record: config.upstream must be an http(s) URL", 0)
  end
  upstream = upstream:gsub("/+$", "")
  local session = assert(core.http.new_session())
  -- Numbering goes on after the exchanges already in dir.
  local n = #recording.load(dir)
  local first = n

  local function forward(req)
    local headers = {}
    for k, v in pairs(req.headers) do
      if recording.forwarded(k) then headers[k] = v end
    end
    local url = upstream .. req.path .. (req.query ~= "" and ("?" .. req.query) or "")
    local resp, err = session:request{ method = req.method, url = url, headers = headers,
      body = req.body ~= "" and req.body or nil, timeout_ms = config.timeout_ms or 30000 }
    if not resp then
      return 502, {}, { error = "upstream_failed", message = tostring(err and err.message or err) }
    end
    local out = {}
    for _, kv in ipairs(resp.header_list or {}) do
      local name = kv[1]
      if recording.forwarded(name) and name:lower() ~= "content-encoding" then
        local prev = out[name]
        if prev == nil then out[name] = kv[2]
        elseif type(prev) == "table" then prev[#prev + 1] = kv[2]
        else out[name] = { prev, kv[2] } end
      end
    end
    n = n + 1
    recording.save(dir, n, req, { status = resp.status, headers = out, body = resp.body })
    return resp.status, out, resp.body
  end

  return { { "*", "/{rest*}", forward } }, {
    recorded = function() return { count = n - first, dir = dir } end,
  }
end
