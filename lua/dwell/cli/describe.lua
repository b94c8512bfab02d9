--- What `dwell endpoints` and `dwell describe` print, and the text of each endpoint's --help:
-- all read from the declarations (no client, no credentials needed).
local api = require "dwell.api"

local M = {}

M.VENDORS = { "tuya", "rooms", "ruckus" }
M.TITLES = { tuya = "Tuya Smart Community", rooms = "DocuSign Rooms v2", ruckus = "RUCKUS One Resident Portal" }

local catalogues = {}

--- The endpoint objects of a vendor, sorted by name, built from the declarations alone.
function M.catalogue(vendor)
  if not catalogues[vendor] then
    -- settings the declarations take from the client (account_id, property_id) as placeholders,
    -- so that arguments can be checked before any client (or credential) exists
    local placeholder = { account_id = "00000000-0000-4000-8000-000000000000",
      property_id = "00000000-0000-4000-8000-000000000000" }
    catalogues[vendor] = api.list(api.build(require("dwell." .. vendor .. ".endpoints"),
      { vendor = vendor, config = placeholder }))
  end
  return catalogues[vendor]
end

function M.find(vendor, name)
  for _, ep in ipairs(M.catalogue(vendor)) do
    if ep.spec.name == name then return ep end
  end
  return nil
end

local function list_text(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = tostring(v) end
  return table.concat(out, ", ")
end

local function type_text(p)
  if p.type == "array" then
    local items = p.items and p.items.type or "string"
    return "list of " .. items .. (p.join and (" (sent joined with '" .. p.join .. "')") or "")
  end
  return p.type
end

local function rule_source(fn)
  local info = debug.getinfo(fn, "S")
  if not info then return "?" end
  return (info.short_src:match("(dwell/.*)$") or info.short_src) .. ":" .. info.linedefined
end

--- The limits and rules of a parameter, as one phrase (or "").
function M.rules(p)
  local parts = {}
  local q = p.type == "array" and p.items or p
  if q then
    if q.enum then parts[#parts + 1] = "one of " .. list_text(q.enum) end
    if q.min and q.max then parts[#parts + 1] = q.min .. ".." .. q.max
    elseif q.min then parts[#parts + 1] = ">= " .. q.min
    elseif q.max then parts[#parts + 1] = "<= " .. q.max end
    if q.min_length then parts[#parts + 1] = "at least " .. q.min_length .. " characters" end
    if q.max_length then parts[#parts + 1] = "at most " .. q.max_length .. " characters" end
    if q.pattern then parts[#parts + 1] = q.pattern_rule or ("matches " .. q.pattern) end
    if q.check then parts[#parts + 1] = "documented rule (" .. rule_source(q.check) .. ")" end
  end
  if p.min_items then parts[#parts + 1] = "at least " .. p.min_items .. " items" end
  if p.max_items then parts[#parts + 1] = "at most " .. p.max_items .. " items" end
  if p.default ~= nil then parts[#parts + 1] = "default " .. tostring(p.default) end
  if p.default_from then parts[#parts + 1] = "defaults to " .. p.default_from end
  if p.from_client then parts[#parts + 1] = "from the client's settings" end
  if p.secret then parts[#parts + 1] = "secret" end
  if p.wire ~= p.name then parts[#parts + 1] = "vendor spelling " .. p.wire end
  return table.concat(parts, "; ")
end

local function pad(s, n) return s .. string.rep(" ", math.max(0, n - #s)) end

--- The parameter table, one line each (for describe and --help).
function M.params_text(spec, indent)
  indent = indent or "  "
  if #spec.params == 0 then return indent .. "(none)" end
  local rows = { { "name", "type", "in", "required", "limits and rules" } }
  local pg = spec.paging or {}
  for _, p in ipairs(spec.params) do
    local rules = M.rules(p)
    if p.name == pg.page or p.name == pg.start or p.name == pg.size then
      -- the command line asks for the first page (or its size) when not told otherwise
      rules = (rules ~= "" and (rules .. "; ") or "") .. "the CLI's default: "
        .. ((p.name == pg.size) and tostring(pg.default_size or "the vendor's") or tostring(pg.first or 0))
    end
    rows[#rows + 1] = { p.name, type_text(p), p["in"], p.required and "yes" or "", rules }
  end
  for _, rw in ipairs(spec.required_when or {}) do
    rows[#rows + 1] = { rw[1], "", "", "when " .. rw[2] .. "=" .. tostring(rw[3]), "" }
  end
  local widths = {}
  for _, r in ipairs(rows) do
    for i, c in ipairs(r) do widths[i] = math.max(widths[i] or 0, #c) end
  end
  local lines = {}
  for _, r in ipairs(rows) do
    local cells = {}
    for i, c in ipairs(r) do cells[i] = i < #r and pad(c, widths[i]) or c end
    lines[#lines + 1] = (indent .. table.concat(cells, "  ")):gsub("%s+$", "")
  end
  return table.concat(lines, "\n")
end

--- How the endpoint pages, in words (or nil).
function M.paging_text(spec)
  local p = spec.paging
  if not p then return nil end
  local style = p.style
  if style == "page_number" then
    return ("page numbers: %s from %s, %s items a page (default %s); --all reads every page"):format(
      p.page, p.first or 1, p.size, p.default_size or 20)
  elseif style == "offset" then
    return ("offsets: %s from 0, %s items a page (default %s); --all reads every page"):format(
      p.start or "start_position", p.size or "count", p.default_size or 100)
  elseif style == "spring" then
    return ("pages: %s from %s, %s items a page (default %s); --all reads every page"):format(
      p.page or "page", p.first or 0, p.size or "page_size", p.default_size or 20)
  elseif style == "single" then
    return "the whole list in one response (under " .. tostring(p.items or "contents") .. ")"
  end
  return style
end

--- The retry policy for this endpoint (README "Retries").
function M.retry_text(spec)
  if spec.method == "GET" or spec.method == "HEAD" then
    return "a read: resent after transport errors, timeouts, 429, 502/503/504 and the vendor's transient codes"
  end
  if spec.repeatable then
    return "a write the vendor documents as idempotent: resent like a read"
  end
  return "a write: resent only when it provably did not take effect (never sent, 429, the vendor's"
    .. " throttling codes, a refused token); an answer lost after sending is not resent"
end

local EXAMPLE_VALUES = { integer = "1", long = "1", number = "1", boolean = "true", uuid = "<uuid>",
  datetime = "2024-01-01T00:00:00Z", array = "a,b", object = "{}" }

--- An example command line: every required parameter with a placeholder.
function M.example(vendor, spec)
  local words = { "dwell", vendor, spec.name }
  for _, p in ipairs(spec.params) do
    if p.required and not p.from_client and not p.default_from and p.default == nil
        and not (spec.paging and (p.name == spec.paging.page or p.name == spec.paging.size)) then
      local v
      if p.enum then v = tostring(p.enum[1])
      elseif p.type == "object" then words[#words + 1] = p.name .. ":='{}'"
      else v = EXAMPLE_VALUES[p.type] or ("<" .. p.name .. ">") end
      if v then words[#words + 1] = p.name .. "=" .. v end
    end
  end
  local line = table.concat(words, " ")
  if spec.paging then return line .. "\n  " .. line .. " --all --format csv" end
  if spec.method ~= "GET" then return line .. "\n  " .. line .. " --dry-run" end
  return line
end

--- The whole description of one endpoint.
function M.describe(vendor, ep)
  local spec = ep.spec
  local out = {
    ("%s %s: %s"):format(vendor, spec.name, spec.summary or ""),
    ("  %s %s%s"):format(spec.method, spec.path, spec.operation and ("  (" .. spec.operation .. ")") or ""),
    "",
    "Parameters (name=value; lists as a,b or repeated; JSON as name:=<json>):",
    M.params_text(spec),
    "",
    "Paging: " .. (M.paging_text(spec) or "none (one call, one result)"),
    "Retries: " .. M.retry_text(spec),
    "",
    "Example:",
    "  " .. M.example(vendor, spec),
  }
  return table.concat(out, "\n")
end

--- `dwell endpoints [vendor]`: one line per endpoint.
function M.endpoints_text(vendors)
  local rows = {}
  for _, vendor in ipairs(vendors) do
    for _, ep in ipairs(M.catalogue(vendor)) do
      local s = ep.spec
      rows[#rows + 1] = { vendor, s.name, s.method, s.path, (s.paging and "paged. " or "") .. (s.summary or "") }
    end
  end
  local w = {}
  for _, r in ipairs(rows) do
    for i = 1, 4 do w[i] = math.max(w[i] or 0, #r[i]) end
  end
  local lines = {}
  for _, r in ipairs(rows) do
    lines[#lines + 1] = ("%s  %s  %s  %s  %s"):format(pad(r[1], w[1]), pad(r[2], w[2]), pad(r[3], w[3]), pad(r[4], w[4]), r[5])
  end
  return table.concat(lines, "\n")
end

return M
