--- Route set "echo": reflects each request as JSON
-- { method, path, query, params, headers, body, captures }.
-- Config: prefix (default "/echo"; the set serves prefix and prefix/anything),
-- catch_all (true: also every path no other route took; list echo last).
-- A `status` query parameter sets the response status (e.g. ?status=503).
return function(config)
  local prefix = config.prefix or "/echo"

  local function echo(req)
    local status = tonumber(req.params.status) or 200
    return math.tointeger(status) or 200, {}, {
      method = req.method, path = req.path, query = req.query, params = req.params,
      headers = req.headers, body = req.body, captures = req.captures,
    }
  end

  local list = { -- no state: read-only
    { "*", prefix, echo, read = true },
    { "*", prefix .. "/{rest*}", echo, read = true },
  }
  if config.catch_all then list[#list + 1] = { "*", "/{rest*}", echo, read = true } end
  return list, {}
end
