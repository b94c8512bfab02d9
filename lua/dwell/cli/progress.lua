--- The progress line of `dwell ... --all` on stderr, only when stderr is a terminal: items,
-- pages, rate, ETA (when the first page told the total) and the waits of resent requests
-- (rate limits, backoff). Redrawn in place ("\r" and erase-line); nothing at all otherwise.
local M = {}

local TOTAL_FIELDS = { "total_count", "total_record", "total", "totalRowCount", "totalElements" }

--- The total a page result announces, or nil.
function M.total_of(result)
  if type(result) ~= "table" then return nil end
  for _, f in ipairs(TOTAL_FIELDS) do
    local n = math.tointeger(tonumber(result[f]))
    if n then return n end
  end
  return nil
end

local function clock()
  return require("dwell.core").http.monotonic()
end

local Progress = {}
Progress.__index = Progress

--- opts: out (default io.stderr), enabled (default: stderr is a terminal), now.
function M.new(opts)
  opts = opts or {}
  local enabled = opts.enabled
  if enabled == nil then enabled = require("dwell.core").sys.isatty(2) end
  local now = opts.now or clock
  return setmetatable({ out = opts.out or io.stderr, enabled = enabled, now = now, start = now(),
    items = 0, pages = 0, waits = 0, waited = 0, drawn = false }, Progress)
end

local function duration(s)
  if s >= 3600 then return string.format("%dh%02dm", s // 3600, (s % 3600) // 60) end
  if s >= 60 then return string.format("%dm%02ds", s // 60, math.floor(s % 60)) end
  return string.format("%.0fs", s)
end

function Progress:line()
  local elapsed = math.max(1e-6, self.now() - self.start)
  local rate = self.items / elapsed
  local parts = { ("%d items"):format(self.items) .. (self.total and (" of " .. self.total) or ""),
    ("%d pages"):format(self.pages), ("%.1f items/s"):format(rate) }
  if self.total and rate > 0 and self.total > self.items then
    parts[#parts + 1] = "ETA " .. duration((self.total - self.items) / rate)
  end
  if self.waits > 0 then
    parts[#parts + 1] = ("%d waits (%.1f s)"):format(self.waits, self.waited)
  end
  return "dwell: " .. table.concat(parts, ", ")
end

function Progress:draw()
  if not self.enabled then return end
  self.out:write("\r", self:line(), "\27[K")
  self.out:flush()
  self.drawn = true
end

--- A page came: its items and the result (for the total).
function Progress:page(result, n)
  self.pages = self.pages + 1
  self.items = self.items + n
  self.total = self.total or M.total_of(result)
  self:draw()
end

--- A request was resent after waiting `seconds`.
function Progress:wait(seconds)
  self.waits = self.waits + 1
  self.waited = self.waited + (seconds or 0)
  self:draw()
end

--- Leaves the last line standing, ends it.
function Progress:finish()
  if self.enabled and self.drawn then
    self.out:write("\r", self:line(), "\27[K\n")
    self.out:flush()
  end
end

return M
