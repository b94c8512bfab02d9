--- bench/each_count.lua: the client instructions of a sequential `ep:each` over P pages of
-- Tuya room users (default 20 pages of 100, from nginx: bench/nginx.lua, one file per page_no)
-- against fetching the same pages by hand (`ep{ block_id, page_no = i, page_size = 100 }` in a
-- loop, iterating each page's rows), counted by callgrind, and their ratio: what the paging
-- bookkeeping (dwell.paging's bounds: the first total + slack, the id window, position checks;
-- api.lua's iterators) costs on top of the fetches and decodes. The collector runs as usual
-- (its share of the bookkeeping's garbage counts); a full collection, uncounted, precedes the
-- measured read; the token and the connection are warm.
--   make bench-each-count
--   lua5.4 bench/each_count.lua HOST [pages, default 20] [rows per page, default 100]
-- HOST is build/bench/json_count. With DWELL_TREE=DIR[:DIR2] those checkouts are counted too.
-- Not a test: nothing asserts speed.
local here = ((arg and arg[0] or ""):match("^(.*)/") or ".")
local cg = dofile(here .. "/callgrind.lua")

-- ---- inside valgrind ----------------------------------------------------------------------

local function inner(mode, base, pages, rows)
  local dwell = require "dwell"
  local block = dofile(here .. "/tuya_pages.lua").BLOCK_ID
  local tuya = assert(dwell.tuya{ client_id = "benchclientid0000001", secret = ("s"):rep(32), base_url = base })
  local ep = tuya.community.room_users
  assert(ep{ block_id = block, page_no = 1, page_size = rows }) -- the token and the connection
  local n = 0
  local read = {
    each = function()
      for row in ep:each{ block_id = block, page_size = rows } do
        if row.room_user_id then n = n + 1 end
      end
    end,
    hand = function()
      for i = 1, pages do
        local page = assert(ep{ block_id = block, page_no = i, page_size = rows })
        for _, row in ipairs(page.data) do
          if row.room_user_id then n = n + 1 end
        end
      end
    end,
  }
  collectgarbage("collect")
  measured(read[mode]) -- luacheck: globals measured
  assert(n == pages * rows, ("%s read %d rows, not %d"):format(mode, n, pages * rows))
end

-- ---- the driver ---------------------------------------------------------------------------

local function driver(host, pages, rows)
  package.path, package.cpath = cg.tree_paths(here .. "/..")
  local nginx = dofile(here .. "/nginx.lua")
  local tp = dofile(here .. "/tuya_pages.lua")
  local files = { ["token.json"] = tp.token_page() }
  for i = 1, pages do files["page_" .. i .. ".json"] = tp.room_users_page(rows, i, pages * rows) end
  local base, stop = nginx.start(files, {
    "location = /v1.0/token { try_files /token.json =404; }",
    "location = " .. tp.ROOM_USERS .. " { try_files /page_$arg_page_no.json =404; }",
  })
  local trees = cg.trees(here .. "/..")
  local ok, err = xpcall(function()
    print(("instructions of reading %d pages of %d Tuya room users (callgrind), sequential ep:each"
      .. " against the same pages fetched by hand"):format(pages, rows))
    print(("  %-34s %14s %14s %14s %8s"):format("tree", "ep:each", "by hand", "bookkeeping/page", "ratio"))
    for i, tree in ipairs(trees) do
      local c = {}
      for _, mode in ipairs{ "each", "hand" } do
        c[mode] = cg.count(host, tree, string.format("%s inner %s %s %d %d", arg[0], mode, base, pages, rows)).total
      end
      print(("  %-34s %14d %14d %16.0f %7.3fx"):format(i == #trees and "this tree" or tree, c.each, c.hand,
        (c.each - c.hand) / pages, c.each / c.hand))
      io.stdout:flush()
    end
  end, debug.traceback)
  stop()
  assert(ok, err)
end

if arg[1] == "inner" then
  inner(arg[2], arg[3], tonumber(arg[4]), tonumber(arg[5]))
else
  driver(assert(arg[1], "usage: lua5.4 bench/each_count.lua HOST [pages] [rows]"), tonumber(arg[2]) or 20,
    tonumber(arg[3]) or 100)
end
