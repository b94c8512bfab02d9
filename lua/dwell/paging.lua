--- Paging styles. An endpoint declares `paging = { style = ..., ... }`; each
-- style knows how to ask for the first page, find the items in a result and
-- ask for the next page, working on the caller's argument names so that it
-- does not matter whether the page fields travel in the query or the body.
--
--   start(p, args)                       -> args for the first page
--   items(p, result)                     -> list of items (possibly empty)
--   advance(p, args, result, items, st)  -> args for the next page, or nil at the end
local json = require "dwell.json"
local errors = require "dwell.error"

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
  error(errors.new{ kind = "decode", message = "malformed page: " .. what }, 0)
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

local function stop(message)
  error(errors.new{ kind = "decode", message = "paging did not advance: " .. message }, 0)
end

-- ---- bounds every style keeps -------------------------------------------------------------
-- A server whose pages never converge (pages alternating A/B, a total that keeps growing,
-- positions that advance over the same items) must not page forever: a paged read stops with
-- a decode error when it would pass the page count the first page's total implies (plus
-- SLACK), or when a page repeats an item seen on the last WINDOW pages. Items are recognised
-- by their id (the declaration's `id` field names, else the usual ones); items without one by
-- a fingerprint of their scalar fields, and then only a whole page seen before counts.

M.SLACK, M.WINDOW = 2, 3
local ID_FIELDS = { "id", "uid", "userId", "user_id", "room_user_id", "member_id", "admin_id", "roomId",
  "room_id", "roleId", "role_id", "guid", "unitId" }

local function scalar(v)
  local t = type(v)
  return t == "string" or t == "number" or t == "boolean"
end

-- The fingerprint of an item without an id: its scalar fields in key order (cheap next to
-- re-encoding the page).
local function fingerprint(item)
  local keys = {}
  for k, v in pairs(item) do if type(k) == "string" and scalar(v) then keys[#keys + 1] = k end end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = k .. "=" .. tostring(item[k]) end
  return table.concat(keys, "\0")
end

-- A field's value as an id key, or nil: a string, number or boolean names an item; an empty
-- string names nothing (a resident without the app). Runs for every item of every page.
local function id_key(v)
  local t = type(v)
  if t == "string" then return v ~= "" and v or nil end
  if t == "number" then return v end
  if t == "boolean" then return tostring(v) end
  return nil
end

-- The item's id key and whether it is an id (else its fingerprint). With one declared id
-- field the value itself is the key; with several, "name=value" of the first present, so that
-- two fields' values cannot collide (the name goes into a repeat's message either way).
local function item_id(names, item)
  if type(item) ~= "table" then return scalar(item) and ("=" .. tostring(item)) or nil, false end
  if #names == 1 then
    local k = id_key(item[names[1]])
    if k ~= nil then return k, true end
  else
    for i = 1, #names do
      local k = id_key(item[names[i]])
      if k ~= nil then return names[i] .. "=" .. k, true end
    end
  end
  return fingerprint(item), false
end

local function id_names(p)
  return p.id and (type(p.id) == "table" and p.id or { p.id }) or ID_FIELDS
end

--- Records page `items` in the window and raises when they repeat what the last pages held.
local function check_repeat(p, st, items)
  local window = st.window
  if not window then window = {}; st.window = window end
  st.pages = (st.pages or 0) + 1
  local names = st.id_names
  if not names then names = id_names(p); st.id_names = names end
  local page, repeated, by_id = {}, 0, false
  local w1, w2, w3 = window[1], window[2], window[3]
  local deep = #window > 3 -- only when WINDOW was raised
  for i = 1, #items do
    local id, is_id = item_id(names, items[i])
    if id then
      by_id = by_id or is_id
      -- the newest page first: the one a repeat is reported against
      local back = (w1 and w1[id] and 1) or (w2 and w2[id] and 2) or (w3 and w3[id] and 3) or nil
      if not back and deep then
        for b = 4, #window do if window[b][id] then back = b; break end end
      end
      if back then
        if is_id then
          local shown = #names == 1 and (names[1] .. "=" .. tostring(id)) or id
          stop("page " .. st.pages .. " repeats item " .. shown .. " from " .. back .. " page(s) before")
        end
        repeated = repeated + 1
      end
      page[id] = true
    end
  end
  if not by_id and #items > 0 and repeated == #items then
    stop("page " .. st.pages .. " repeats the " .. #items .. " items of an earlier page")
  end
  table.insert(window, 1, page)
  window[M.WINDOW + 1] = nil
end

--- Stops when the read would pass the page count implied by the first page's total.
local function check_count(st, total_pages)
  if st.max_pages == nil and total_pages then st.max_pages = math.max(1, math.ceil(total_pages)) + M.SLACK end
  if st.max_pages and st.pages >= st.max_pages then
    stop("more pages than the first page's total implies (" .. (st.max_pages - M.SLACK) .. ")")
  end
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
    check_repeat(p, st, items)
    if #items == 0 or #items < args[p.size] then return nil end
    local total = tonumber(field(result, p.total or { "total_count", "total_record", "total" }))
    if total and st.seen >= total then return nil end
    check_count(st, total and total / args[p.size])
    local a = copy(args)
    a[p.page] = args[p.page] + 1
    return a
  end,
  -- For fetching ahead (ep:each(args, { concurrency = n })): the position field, the args of
  -- the k-th page after `args`, and how many pages are left from `args` on, by the total.
  position = function(p) return p.page end,
  ahead = function(p, args, k)
    local a = copy(args)
    a[p.page] = args[p.page] + k
    return a
  end,
  pages_left = function(p, args, result)
    local total = tonumber(field(result, p.total or { "total_count", "total_record", "total" }))
    if not total then return nil end
    return math.ceil(total / args[p.size]) - (args[p.page] - (p.first or 1))
  end,
}

--- DocuSign: startPosition / count with endPosition, resultSetSize,
-- totalRowCount and nextUri (docs/vendors/rooms.md §9). nextUri is never followed verbatim.
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
    local last, total = tonumber(result.endPosition), tonumber(result.totalRowCount)
    check_repeat(p, st, items)
    if total and last and last + 1 >= total then return nil end
    check_count(st, total and total / math.max(1, n))
    local next_start = last and last + 1 or args[start_name] + n
    if next_start <= args[start_name] then
      stop("endPosition " .. tostring(last) .. " after startPosition " .. tostring(args[start_name]))
    end
    local a = copy(args)
    a[start_name] = next_start
    return a
  end,
  position = function(p) return p.start or "start_position" end,
  ahead = function(p, args, k)
    local start_name = p.start or "start_position"
    local a = copy(args)
    a[start_name] = args[start_name] + k * args[p.size or "count"]
    return a
  end,
  pages_left = function(p, args, result)
    local total = tonumber(result.totalRowCount)
    if not total then return nil end
    return math.ceil((total - args[p.start or "start_position"]) / args[p.size or "count"])
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
    check_repeat(p, st, items)
    if #items == 0 or result.last == true or result.empty == true then return nil end
    local pages = math.tointeger(result.totalPages)
    if pages and number - st.base + 1 >= pages then return nil end
    check_count(st, pages)
    if st.number and number <= st.number then
      -- The server answered the same page again: following it would never end.
      stop("page " .. tostring(number) .. " after page " .. tostring(st.number))
    end
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
