--- bench/callgrind.lua: one callgrind count of a bench script run by the counting host
-- (build/bench/json_count: its measured(fn, arg) counts only inside fn), for the benches that
-- count instructions. Loaded with dofile.
--   local cg = dofile(here .. "/callgrind.lua")
--   local r = cg.count(host, tree, script .. " inner ...", { inclusive = true })
--   r.total, r.incl["dwell_json_decode"]
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*)/") or ".") .. "/common.lua")
local M = {}

local run = common.sh

--- The checkouts to count: those in DWELL_TREE (separated by ':'), then `this` (the tree the
-- bench belongs to), last.
function M.trees(this)
  local trees = {}
  for t in (os.getenv("DWELL_TREE") or ""):gmatch("[^:]+") do trees[#trees + 1] = t end
  trees[#trees + 1] = this
  return trees
end

--- LUA_PATH and LUA_CPATH of a checkout with its own `make all`.
function M.tree_paths(tree)
  return tree .. "/lua/?.lua;" .. tree .. "/lua/?/init.lua;;", tree .. "/build/?.so;;"
end

--- Runs `host args` under callgrind with `tree`'s modules: { total, incl = { [C function] =
-- inclusive count } (with opts.inclusive), out = what the run printed }.
function M.count(host, tree, args, opts)
  local lpath, cpath = M.tree_paths(tree)
  local file = os.tmpname()
  local cmd = string.format("LUA_PATH='%s' LUA_CPATH='%s' valgrind --tool=callgrind --collect-atstart=no "
    .. "--callgrind-out-file=%s %s %s 2>&1", lpath, cpath, file, host, args)
  local out, ok = run(cmd)
  local total = out:match("Collected : (%d+)")
  if not ok or not total or total == "0" then
    os.remove(file)
    error("no callgrind total from: " .. cmd .. "\n" .. out)
  end
  local r = { total = tonumber(total), incl = {}, out = out }
  if opts and opts.inclusive then
    local ann = run("callgrind_annotate --inclusive=yes --threshold=100 " .. file .. " 2>&1")
    for line in ann:gmatch("[^\n]+") do
      -- "  10,593,198 (52.09%)  src/json_decode.c:dwell_json_decode [.../core.so]"; a name with
      -- 'N behind it is a recursion level, not the whole cost.
      local num, fn = line:match("^%s*([%d,]+)%s+%b()%s+%S*:([%w_]+)$")
      if not num then num, fn = line:match("^%s*([%d,]+)%s+%b()%s+%S*:([%w_]+) %[") end
      if num then r.incl[fn] = math.max(r.incl[fn] or 0, tonumber((num:gsub(",", "")))) end
    end
  end
  os.remove(file)
  return r
end

return M
