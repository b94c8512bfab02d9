--- The seeded picker the sandboxes build their seed data with.
--
-- picker(seed) -> pick, where pick(n) returns an integer in 1..n. It is the MINSTD
-- (Park-Miller) generator rather than math.random so that a given seed gives the same
-- ids, names and stages on every platform and Lua build, and specs can name them.
local M = {}

local MODULUS, MULTIPLIER = 2147483647, 48271

function M.picker(seed)
  local state = seed % MODULUS
  if state <= 0 then state = state + MODULUS - 1 end
  return function(n)
    state = (state * MULTIPLIER) % MODULUS
    return state % n + 1
  end
end

return M
