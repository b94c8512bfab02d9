--- How `dwell` writes results on stdout: json (one document), jsonl (one item a line), csv and
-- table (aligned columns). Items are written as they come where the format allows it (json,
-- jsonl, csv with --fields); csv without --fields and table need every item's keys (and
-- widths) before the first line, so items are spooled to a temporary file, one JSON line
-- each, and memory stays one page whatever the listing's size. Integers are kept exact
-- (dwell.json reads 64-bit integers as Lua integers): a 19-digit id is written digit for
-- digit in every format. Nested values (objects, lists) are JSON in csv and table cells.
local json = require "dwell.json"

local M = {}

M.FORMATS = { "json", "jsonl", "csv", "table" }

local function encode(v, opts)
  local s, err = json.encode(v, opts or { sort_keys = true })
  if not s then error("dwell: cannot write the result as JSON: " .. tostring(err), 0) end
  return s
end
M.encode = encode

--- A cell's text: strings as they are, integers exact, nested values as compact JSON.
function M.cell(v)
  if v == nil or v == json.null then return "" end
  local t = type(v)
  if t == "string" then return v end
  if math.type(v) == "integer" then return tostring(v) end
  if t == "number" or t == "table" then return encode(v) end
  return tostring(v)
end

local function csv_field(s)
  if s:find('[,"\r\n]') or s:match("^%s") or s:match("%s$") then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local function is_object(v)
  return type(v) == "table" and getmetatable(v) ~= json.array_mt and (next(v) == nil or v[1] == nil)
end

-- An item's keys in a stable order (Lua tables keep none): alphabetical.
local function keys_of(item)
  local ks = {}
  if is_object(item) then
    for k in pairs(item) do ks[#ks + 1] = tostring(k) end
    table.sort(ks)
  else
    ks[1] = "value"
  end
  return ks
end

local function value_of(item, key)
  if is_object(item) then return item[key] end
  return key == "value" and item or nil
end

local function width(s)
  return utf8.len(s) or #s
end

local Writer = {}
Writer.__index = Writer

--- opts: format, fields (list of column names), out (file, default io.stdout), many (a
-- listing: json writes an array), indent (json).
function M.writer(opts)
  local w = setmetatable({ format = opts.format or "json", fields = opts.fields, out = opts.out or io.stdout,
    many = opts.many, count = 0, columns = {}, seen = {}, widths = {} }, Writer)
  if w.fields then
    for _, f in ipairs(w.fields) do w:column(f) end
  end
  w.spool_needed = w.format == "table" or (w.format == "csv" and not w.fields)
  return w
end

function Writer:column(name)
  if not self.seen[name] then
    self.seen[name] = true
    self.columns[#self.columns + 1] = name
    self.widths[name] = width(name)
  end
end

function Writer:write(s)
  self.out:write(s)
end

function Writer:csv_row(item)
  local cells = {}
  for i, c in ipairs(self.columns) do cells[i] = csv_field(M.cell(value_of(item, c))) end
  self:write(table.concat(cells, ",") .. "\r\n")
end

--- One item of a listing.
function Writer:item(item)
  self.count = self.count + 1
  local f = self.format
  if f == "jsonl" then
    self:write(encode(item) .. "\n")
  elseif f == "json" then
    self:write((self.count == 1 and "[\n  " or ",\n  ") .. encode(item))
  elseif not self.spool_needed then -- csv with --fields: streamed
    if self.count == 1 then self:header() end
    self:csv_row(item)
  else
    if not self.fields then
      for _, k in ipairs(keys_of(item)) do self:column(k) end
    end
    if f == "table" then
      for _, c in ipairs(self.columns) do
        local n = width(M.cell(value_of(item, c)))
        if n > self.widths[c] then self.widths[c] = n end
      end
    end
    self.spool = self.spool or assert(io.tmpfile())
    self.spool:write(encode(item), "\n")
  end
  if self.flush_each then self.out:flush() end
end

function Writer:header()
  if self.format == "csv" then
    local cells = {}
    for i, c in ipairs(self.columns) do cells[i] = csv_field(c) end
    self:write(table.concat(cells, ",") .. "\r\n")
  end
end

function Writer:table_row(cells)
  local parts = {}
  for i, c in ipairs(self.columns) do
    local s = cells[i]
    -- the last column is not padded (no trailing blanks)
    parts[i] = i < #self.columns and (s .. string.rep(" ", self.widths[c] - width(s))) or s
  end
  self:write(table.concat(parts, "  ") .. "\n")
end

--- Ends a listing: closes the JSON array, or writes the spooled csv / table.
function Writer:finish()
  local f = self.format
  if f == "json" then
    self:write(self.count == 0 and "[]\n" or "\n]\n")
  elseif self.spool_needed then
    if self.count == 0 and #self.columns == 0 then return end
    if f == "csv" then
      self:header()
    else
      local heads = {}
      for i, c in ipairs(self.columns) do heads[i] = c end
      self:table_row(heads)
      local rule = {}
      for i, c in ipairs(self.columns) do rule[i] = string.rep("-", self.widths[c]) end
      self:table_row(rule)
    end
    if self.spool then
      self.spool:seek("set", 0)
      for line in self.spool:lines() do
        local item = json.decode(line)
        if f == "csv" then
          self:csv_row(item)
        else
          local cells = {}
          for i, c in ipairs(self.columns) do cells[i] = M.cell(value_of(item, c)):gsub("[\r\n\t]", " ") end
          self:table_row(cells)
        end
      end
      self.spool:close()
      self.spool = nil
    end
  elseif f == "csv" and self.count == 0 and self.fields then
    self:header()
  end
  self.out:flush()
end

--- One result (not a listing): json writes it whole; the other formats its items (`items`,
-- when the caller found a list in it) or the result as one row.
function M.result(result, opts, items)
  if (opts.format or "json") == "json" then
    local out = opts.out or io.stdout
    out:write(encode(result, { sort_keys = true, indent = 2 }), "\n")
    out:flush()
    return
  end
  local w = M.writer(opts)
  if items == nil then
    if type(result) == "table" and not is_object(result) then items = result else items = { result } end
  end
  for _, item in ipairs(items) do w:item(item) end
  w:finish()
end

return M
