--- bench/signed_call_count.lua: the client instructions of a full signed Tuya call
-- (`tuya.community.room_users{ block_id, page_no = 1, page_size = 20 }`, warm token, a ~15 KB
-- page of 20 users from nginx: bench/nginx.lua), counted by callgrind and split into
--   decode     inclusive cost of the JSON decoder's C entry (dwell_json_decode)
--   transfer   inclusive cost of the C request entry (s_request in src/http.c: libcurl, the
--              socket calls, the response table)
--   crypto     inclusive cost of the HMAC / SHA-256 / nonce entries (src/crypto.c)
--   Lua layers everything else of the call: the interpreter running dwell's Lua (validation,
--              URL and query, string to sign, pipeline, credential, transport, classify,
--              result), the allocations it makes, and the C helpers it calls
-- for this tree and for each other tree named in DWELL_TREE (a checkout with its own `make all`;
-- several separated by ':'), printed with ratios against the first other tree.
--   make bench-call-count                                   (this tree)
--   DWELL_TREE=/work/base-21e6305 make bench-call-count       (that tree too, and the ratio)
--   lua5.4 bench/signed_call_count.lua HOST [calls, default 20]
-- HOST is build/bench/json_count (a Lua host whose measured(fn, arg) counts only inside fn).
-- Each count runs in its own valgrind process; per call = (count of 2n calls - count of n
-- calls) / n, so what is paid once (the first call on a connection, lazy set-up) cancels.
-- The collector is stopped in the measured calls and a full collection runs, uncounted,
-- before each: the split then does not depend on where a GC step happens to land (the cost of
-- collecting is left out; `KB` is what each call allocates, which that cost follows).
-- Not a test: nothing asserts.
local here = ((arg and arg[0] or ""):match("^(.*)/") or ".")

-- C entries (callgrind's function names) whose inclusive cost is a category of its own.
local CATEGORIES = {
  { "decode", { "dwell_json_decode" } },
  { "transfer", { "s_request" } },
  { "crypto", { "c_hmac_sha256_hex", "c_hmac_sha256", "c_sha256_hex", "c_sha256", "c_random_hex" } },
}

local cg = dofile(here .. "/callgrind.lua")

-- ---- inside valgrind ----------------------------------------------------------------------

local function inner(base, n)
  local dwell = require "dwell"
  local pages = dofile(here .. "/tuya_pages.lua")
  local tuya = assert(dwell.tuya{ client_id = "benchclientid0000001", secret = ("s"):rep(32), base_url = base })
  local room_users = tuya.community.room_users
  local args = { block_id = pages.BLOCK_ID, page_no = 1, page_size = 20 }
  local function call() return room_users(args) end
  local page = assert(call()) -- the token, the connection, anything done once
  assert(#page.data == 20)
  assert(call())
  collectgarbage("collect")
  collectgarbage("stop")
  local kb = 0
  for _ = 1, n do
    collectgarbage("collect")
    local before = collectgarbage("count")
    measured(call) -- luacheck: globals measured
    kb = kb + collectgarbage("count") - before
  end
  io.stderr:write(("allocated-kb %.3f\n"):format(kb / n))
end

-- ---- the driver ---------------------------------------------------------------------------

-- One valgrind run of `n` calls: { total, decode, transfer, crypto, kb }.
local function count(host, tree, base, n)
  local c = cg.count(host, tree, string.format("%s inner %s %d", arg[0], base, n), { inclusive = true })
  local r = { total = c.total, kb = tonumber(c.out:match("allocated%-kb ([%d.]+)")) }
  for _, cat in ipairs(CATEGORIES) do
    local sum = 0
    for _, fn in ipairs(cat[2]) do sum = sum + (c.incl[fn] or 0) end
    r[cat[1]] = sum
  end
  return r
end

local function per_call(host, tree, base, n)
  local a, b = count(host, tree, base, n), count(host, tree, base, 2 * n)
  local r = { kb = b.kb }
  for _, k in ipairs{ "total", "decode", "transfer", "crypto" } do r[k] = (b[k] - a[k]) / n end
  r.lua = r.total - r.decode - r.transfer - r.crypto
  return r
end

local function driver(host, n)
  -- This tree's modules (to write the pages), as `make` sets them, also for a direct run.
  package.path, package.cpath = cg.tree_paths(here .. "/..")
  local nginx = dofile(here .. "/nginx.lua")
  local pages = dofile(here .. "/tuya_pages.lua")
  local base, stop = nginx.start({ ["token.json"] = pages.token_page(), ["room_users.json"] = pages.room_users_page(20) }, {
    "location = /v1.0/token { try_files /token.json =404; }",
    "location = " .. pages.ROOM_USERS .. " { try_files /room_users.json =404; }",
  })
  local trees = cg.trees(here .. "/..")
  local ok, err = xpcall(function()
    print(("instructions per full signed Tuya call (callgrind, (count(%d) - count(%d)) / %d calls; collector"
      .. " stopped, see the header)"):format(2 * n, n, n))
    print(("  %-34s %10s %10s %10s %10s %12s %8s"):format("tree", "total", "decode", "transfer", "crypto",
      "Lua layers", "KB"))
    local rows = {}
    for i, tree in ipairs(trees) do
      local r = per_call(host, tree, base, n)
      rows[i] = r
      local name = i == #trees and "this tree" or tree
      print(("  %-34s %10.0f %10.0f %10.0f %10.0f %12.0f %8.1f"):format(name, r.total, r.decode, r.transfer,
        r.crypto, r.lua, r.kb or 0))
      io.stdout:flush()
    end
    if #trees > 1 then
      local cur, ref = rows[#rows], rows[1]
      print(("this tree / %s: Lua layers %.3fx, total %.3fx, KB allocated %.3fx"):format(trees[1], cur.lua / ref.lua,
        cur.total / ref.total, (cur.kb or 0) / (ref.kb or 1)))
      for i = 2, #trees - 1 do
        print(("this tree / %s: Lua layers %.3fx, total %.3fx"):format(trees[i], cur.lua / rows[i].lua,
          cur.total / rows[i].total))
      end
    end
  end, debug.traceback)
  stop()
  assert(ok, err)
end

if arg[1] == "inner" then
  inner(arg[2], tonumber(arg[3]))
else
  driver(assert(arg[1], "usage: lua5.4 bench/signed_call_count.lua HOST [calls]"), tonumber(arg[2]) or 20)
end
