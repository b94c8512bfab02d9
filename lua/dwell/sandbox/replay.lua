--- Route set "replay": answers from exchanges recorded by "record" (bin/dwell-sandbox
-- --replay DIR). A request is matched by method, path and query (its secret values scrubbed
-- as they were when recorded); the n-th request for a key gets the n-th exchange recorded for
-- it, the last one repeating. Nothing recorded for it: 404 { error = "not_recorded" }.
-- config: dir. controls: replayed() -> { exchanges, served, missed }; rewind() starts over.
local recording = require "dwell.sandbox.recording"

return function(config)
  local dir = config.dir
  if type(dir) ~= "string" or dir == "" then error("replay: config.dir is required", 0) end
  local exchanges = recording.load(dir)
  local by_key = {}
  for _, e in ipairs(exchanges) do
    local r = e.request
    local key = recording.key(r.method, r.path, r.query or "")
    by_key[key] = by_key[key] or {}
    table.insert(by_key[key], e)
  end
  local seen, served, missed = {}, 0, 0

  local function answer(req)
    local key = recording.key(req.method, req.path, req.query)
    local list = by_key[key]
    if not list then
      missed = missed + 1
      return 404, {}, { error = "not_recorded", message = req.method .. " " .. req.path }
    end
    seen[key] = (seen[key] or 0) + 1
    served = served + 1
    local a = list[math.min(seen[key], #list)].response
    return a.status, a.headers or {}, a.body
  end

  return { { "*", "/{rest*}", answer } }, {
    replayed = function() return { exchanges = #exchanges, served = served, missed = missed } end,
    rewind = function() seen, served, missed = {}, 0, 0; return true end,
  }
end
