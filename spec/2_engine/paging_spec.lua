-- dwell.paging on its own: each style's first page, items and next page, and the bounds every
-- paged read keeps (page count from the first page's total, repeated ids, positions).
local json = require "dwell.json"
local paging = require "dwell.paging"

local function raises(fn, pattern)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.equal("decode", err.kind)
  if pattern then assert.matches(pattern, err.message) end
  return err
end

local function rows(from, to, key)
  local out = setmetatable({}, json.array_mt)
  for i = from, to do out[#out + 1] = { [key or "id"] = i } end
  return out
end

describe("dwell.paging", function()
  describe("page_number (Tuya)", function()
    local p = { style = "page_number", page = "page_no", size = "page_size", first = 1, default_size = 2 }
    local style = paging.page_number

    it("starts at the first page with the default size, keeping the caller's arguments", function()
      assert.same({ block_id = "b", page_no = 1, page_size = 2 }, style.start(p, { block_id = "b" }))
      assert.same({ page_no = 3, page_size = 50 }, style.start(p, { page_no = 3, page_size = 50 }))
    end)

    it("reads items from data or list, or a bare array, and stops at a short page or the total", function()
      local st = {}
      local a = style.start(p, {})
      local page = { data = rows(1, 2), total = 5 }
      assert.same(rows(1, 2), style.items(p, page))
      a = style.advance(p, a, page, style.items(p, page), st)
      assert.equal(2, a.page_no)
      page = { list = rows(3, 4), total = 5 }
      a = style.advance(p, a, page, style.items(p, page), st)
      assert.equal(3, a.page_no)
      page = rows(5, 5)
      assert.is_nil(style.advance(p, a, page, style.items(p, page), st))
    end)

    it("stops a total that keeps growing at the pages the first total implies plus slack", function()
      local st, a, n = {}, style.start(p, {}), 0
      raises(function()
        while a do
          n = n + 1
          local page = { data = rows(n * 2 - 1, n * 2), total = 4 + n * 2 }
          a = style.advance(p, a, page, page.data, st)
        end
      end, "more pages than the first page's total implies")
      assert.equal(3 + paging.SLACK, n) -- the first page said 6 items, 3 pages
    end)

    it("stops when a page repeats an id of the last pages", function()
      local st, a = {}, style.start(p, {})
      a = style.advance(p, a, { data = rows(1, 2) }, rows(1, 2), st)
      a = style.advance(p, a, { data = rows(3, 4) }, rows(3, 4), st)
      raises(function() style.advance(p, a, { data = rows(1, 2) }, rows(1, 2), st) end, "repeats item id=1")
    end)

    it("counts items without ids as repeated only when the whole page was seen", function()
      local st, a = {}, style.start(p, {})
      local function page(x, y) return setmetatable({ { name = x }, { name = y } }, json.array_mt) end
      a = style.advance(p, a, {}, page("a", "b"), st)
      a = style.advance(p, a, {}, page("b", "c"), st) -- one repeat (a shifted listing): fine
      raises(function() style.advance(p, a, {}, page("b", "c"), st) end, "repeats the 2 items")
    end)

    it("uses the declaration's id fields", function()
      local q = { style = "page_number", page = "page_no", size = "page_size", default_size = 1, id = "uid" }
      local st, a = {}, style.start(q, {})
      a = style.advance(q, a, {}, { { uid = "u1", id = 1 } }, st)
      a = style.advance(q, a, {}, { { uid = "u2", id = 1 } }, st) -- same `id`, other uid: new item
      raises(function() style.advance(q, a, {}, { { uid = "u1", id = 9 } }, st) end, "uid=u1")
    end)

    it("refuses a page whose list has the wrong type", function()
      raises(function() style.items(p, { data = "x" }) end, "'data' is not a list")
    end)
  end)

  describe("offset (Rooms)", function()
    local p = { style = "offset", start = "start_position", size = "count", items = "users", default_size = 2 }
    local style = paging.offset

    it("follows endPosition and stops at totalRowCount", function()
      local st, a = {}, style.start(p, {})
      assert.same({ start_position = 0, count = 2 }, a)
      local page = { users = rows(1, 2, "userId"), resultSetSize = 2, endPosition = 1, totalRowCount = 3, nextUri = "n" }
      a = style.advance(p, a, page, page.users, st)
      assert.equal(2, a.start_position)
      page = { users = rows(3, 3, "userId"), resultSetSize = 1, endPosition = 2, totalRowCount = 3, nextUri = "n" }
      assert.is_nil(style.advance(p, a, page, page.users, st))
    end)

    it("stops at a missing nextUri and refuses a position that does not advance", function()
      local st, a = {}, style.start(p, { start_position = 4 })
      assert.is_nil(style.advance(p, a, { users = rows(1, 2), resultSetSize = 2 }, rows(1, 2), st))
      raises(function()
        style.advance(p, a, { users = rows(1, 2), resultSetSize = 2, endPosition = 3, nextUri = "n" }, rows(1, 2), st)
      end, "endPosition 3 after startPosition 4")
    end)
  end)

  describe("spring (RUCKUS)", function()
    local p = { style = "spring", page = "page", size = "page_size", items = "content", default_size = 2 }
    local style = paging.spring

    it("takes the page base from the server's own number and stops at last or totalPages", function()
      local st, a = {}, style.start(p, {})
      assert.equal(0, a.page)
      local page = { content = rows(1, 2), number = 1, totalPages = 2 }  -- counts from 1
      a = style.advance(p, a, page, page.content, st)
      assert.equal(2, a.page)
      page = { content = rows(3, 4), number = 2, totalPages = 2 }
      assert.is_nil(style.advance(p, a, page, page.content, st))
      assert.is_nil(style.advance(p, style.start(p, {}), { content = rows(1, 1), last = true }, rows(1, 1), {}))
    end)

    it("refuses the same page number twice", function()
      local st, a = {}, style.start(p, {})
      a = style.advance(p, a, { content = rows(1, 2), number = 0 }, rows(1, 2), st)
      raises(function() style.advance(p, a, { content = rows(3, 4), number = 0 }, rows(3, 4), st) end, "page 0 after page 0")
    end)
  end)

  it("single: one whole list under `contents`, no next page", function()
    local p = { style = "single" }
    assert.same(rows(1, 2), paging.single.items(p, { contents = rows(1, 2) }))
    assert.is_nil(paging.single.advance(p, {}, {}, {}, {}))
  end)
end)
