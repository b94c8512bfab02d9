--- Paging styles. An endpoint declares `paging = { style = ..., ... }`; each
-- style knows how to ask for the first page, find the items in a result and
-- ask for the next page, working on the caller's argument names so that it
-- does not matter whether the page fields travel in the query or the body.
--
--   start(p, args)                       -> args for the first page
--   items(p, result)                     -> list of items (possibly empty)
--   advance(p, args, result, items, st)  -> args for the next page, or nil at the end
local json = require "dwell.json"

local M = {}

local function copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

local function is_list(v)
  if type(v) ~= "table" then return false end
  if getmetatable(v) == json.array_mt then return true end
  return v[1] ~= nil
end

local function field(result, names)
  if type(result) ~= "table" then return nil end
  if type(names) == "string" then return result[names] end
  for _, n in ipairs(names) do
    if result[n] ~= nil then return result[n] end
  end
  return nil
end

-- A malformed page is a decode error, never an empty list: a sync that took it for "no
-- items" would act on a silently truncated listing.
local function malformed(what)
  error(require("dwell.error").new{ kind = "decode", message = "malformed page: " .. what }, 0)
end

local function list_or_empty(v, name)
  if v == nil or v == json.null then return {} end
  if type(v) == "table" and (getmetatable(v) == json.array_mt or next(v) == nil or v[1] ~= nil) then return v end
  malformed("'" .. tostring(name) .. "' is not a list (got " .. (type(v) == "table" and "an object" or type(v)) .. ")")
end

-- The result a paged call returned must be an object (or, where a style allows it, a list).
local function page_object(result)
  if type(result) ~= "table" then malformed("expected a JSON object, got " .. type(result)) end
  if getmetatable(result) == json.array_mt and next(result) ~= nil then
    malformed("expected a JSON object, got an array")
  end
  return result
end

-- For servers that do not say which page they sent: a page whose items repeat the previous
-- page's means the page parameter is ignored, and following it would never end.
local function check_repeat(st, items)
  local ok, print = pcall(json.encode, items, { sort_keys = true })
  if not ok then return end
  if print == st.last_items then
    error(require("dwell.error").new{ kind = "decode", message = "paging did not advance: the server sent the same "
      .. #items .. " items again" }, 0)
  end
  st.last_items = print
end

--- Tuya: page_no / page_size, totals under one of several names, and some
-- results are a bare array.
M.page_number = {
  start = function(p, args)
    local a = copy(args)
    a[p.page] = a[p.page] or p.first or 1
    a[p.size] = a[p.size] or p.default_size or 20
    return a
  end,
  items = function(p, result)
    if result == nil or result == json.null then return {} end
    if is_list(result) then return result end
    local names = p.items or { "data", "list" }
    return list_or_empty(field(page_object(result), names), type(names) == "table" and names[1] or names)
  end,
  advance = function(p, args, result, items, st)
    st.seen = (st.seen or 0) + #items
    if #items == 0 or #items < args[p.size] then return nil end
    local total = tonumber(field(result, p.total or { "total_count", "total_record", "total" }))
    if total and st.seen >= total then return nil end
    check_repeat(st, items)
    local a = copy(args)
    a[p.page] = args[p.page] + 1
    return a
  end,
}

--- DocuSign: startPosition / count with endPosition, resultSetSize,
-- totalRowCount and nextUri (NOTES.md §9). nextUri is never followed verbatim.
M.offset = {
  start = function(p, args)
    local a = copy(args)
    a[p.start or "start_position"] = a[p.start or "start_position"] or 0
    a[p.size or "count"] = a[p.size or "count"] or p.default_size or 100
    return a
  end,
  items = function(p, result)
    return list_or_empty(field(page_object(result), p.items), p.items)
  end,
  advance = function(p, args, result, items, st)
    local start_name = p.start or "start_position"
    local n = tonumber(result.resultSetSize) or #items
    if n == 0 or #items == 0 then return nil end
    local next_uri = result.nextUri
    if type(next_uri) ~= "string" or next_uri == "" then return nil end
    local stop, total = tonumber(result.endPosition), tonumber(result.totalRowCount)
    if total and stop and stop + 1 >= total then return nil end
    if not stop then check_repeat(st, items) end
    local next_start = stop and stop + 1 or args[start_name] + n
    if next_start <= args[start_name] then
      error(require("dwell.error").new{ kind = "decode", message = "paging did not advance: endPosition "
        .. tostring(stop) .. " after startPosition " .. tostring(args[start_name]) }, 0)
    end
    local a = copy(args)
    a[start_name] = next_start
    return a
  end,
}

--- RUCKUS (Spring Data): page / pageSize, content, last, totalPages, number.
-- The page base is unverified, so the server's own `number` (or pageable.pageNumber) decides
-- the next page. Stops at last, empty, an empty content list or the last of totalPages.
M.spring = {
  start = function(p, args)
    local a = copy(args)
    a[p.page or "page"] = a[p.page or "page"] or p.first or 0
    a[p.size or "page_size"] = a[p.size or "page_size"] or p.default_size or 20
    return a
  end,
  items = function(p, result)
    return list_or_empty(field(page_object(result), p.items or "content"), p.items or "content")
  end,
  advance = function(p, args, result, items, st)
    local page_name = p.page or "page"
    local pageable = type(result.pageable) == "table" and result.pageable or {}
    local told = math.tointeger(result.number) or math.tointeger(pageable.pageNumber)
    local number = told or args[page_name]
    if st.base == nil then
      -- Asked for page 0 and told "1": the server counts from 1.
      st.base = (args[page_name] == 0 and number == 1) and 1 or 0
    end
    if #items == 0 or result.last == true or result.empty == true then return nil end
    local pages = math.tointeger(result.totalPages)
    if pages and number - st.base + 1 >= pages then return nil end
    if st.number and number <= st.number then
      -- The server answered the same page again: following it would never end.
      error(require("dwell.error").new{ kind = "decode", message = "paging did not advance: page "
        .. tostring(number) .. " after page " .. tostring(st.number) }, 0)
    end
    if not told then check_repeat(st, items) end
    st.number = number
    local a = copy(args)
    a[page_name] = number + 1
    return a
  end,
}

--- A list that comes whole in one response, under `items` (RUCKUS device lists live under
-- `contents`): lets :each and :all iterate it like any paged list.
M.single = {
  start = function(_, args) return copy(args) end,
  items = function(p, result)
    if is_list(result) then return result end
    return list_or_empty(field(page_object(result), p.items or "contents"), p.items or "contents")
  end,
  advance = function() return nil end,
}

return M
