--- Route set "static": fixed bodies for transport tests and benchmarks.
--   GET  /static/{bytes}  exactly that many bytes of valid JSON (0 gives an empty body)
--   POST /static/sink     reads the body, answers { "bytes": n }
-- Config: fixed = { ["/path"] = "body" | { status = 200, headers = {...}, body = "..." | table } }
-- serves each of those bodies on GET.
local MAX_BYTES = 64 * 1024 * 1024

-- Valid JSON of exactly n bytes: a number below 8 bytes, a one-string object above.
local function json_of_size(n)
  if n == 0 then return "" end
  if n < 8 then return "1" .. ("0"):rep(n - 1) end
  return '{"d":"' .. ("x"):rep(n - 8) .. '"}'
end

local function sized(req)
  local n = math.tointeger(tonumber(req.captures.bytes))
  if not n or n < 0 or n > MAX_BYTES then
    return 400, {}, { error = "bad_size", message = "bytes must be an integer in 0.." .. MAX_BYTES }
  end
  return 200, { ["Content-Type"] = "application/json" }, json_of_size(n)
end

local function sink(req)
  return 200, {}, { bytes = #req.body }
end

local function fixed_route(path, spec)
  if type(spec) == "string" then spec = { body = spec } end
  return { "GET", path, function()
    return spec.status or 200, spec.headers or { ["Content-Type"] = "application/json" }, spec.body
  end, read = true }
end

return function(config)
  local list = {}
  for path, spec in pairs(config.fixed or {}) do list[#list + 1] = fixed_route(path, spec) end
  table.sort(list, function(a, b) return a[2] < b[2] end)
  -- No state: read-only, so with several lanes any of them serves these.
  list[#list + 1] = { "POST", "/static/sink", sink, read = true }
  list[#list + 1] = { "GET", "/static/{bytes}", sized, read = true }
  return list, {}
end
