--- bench/common.lua: what several benches share: running a shell command, quoting for the
-- shell, writing a file, and the seeded generator that makes their documents identical on
-- every machine and Lua build. Loaded with dofile, from a bench script or a bench module:
--   local common = dofile((debug.getinfo(1, "S").source:match("^@(.*)/") or ".") .. "/common.lua")
local M = {}

--- Runs cmd; returns its stdout and whether it exited 0.
function M.sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

--- s single-quoted for sh.
function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

function M.write(path, s)
  local f = assert(io.open(path, "w"))
  f:write(s)
  f:close()
end

--- rng(seed) -> next(n), an integer in 0 .. n - 1: a 64-bit LCG (Knuth's MMIX constants), the
-- top bits taken.
function M.rng(seed)
  local state = seed
  return function(n)
    state = (state * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    return (state >> 33) % n
  end
end

return M
