--- The sandbox's seeded generators, each kept bit-for-bit so that seeded ids, tokens and fault
-- choices stay what specs name (dwell.sandbox.support re-exports them for the emulations).
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

--- lcg(seed) -> next, where next() returns the next state of the ANSI C example LCG
-- (x * 1103515245 + 12345 mod 2^31), an integer in 0 .. 2^31 - 1 (the RUCKUS emulation's ids
-- and tokens).
function M.lcg(seed)
  local state = seed
  return function()
    state = (state * 1103515245 + 12345) % 2147483648
    return state
  end
end

--- xorshift(seed) -> next, where next() returns the next 64-bit output (a Lua integer, any
-- sign) of xorshift64* seeded through splitmix64: a small, reproducible stream (probabilistic
-- faults; the per-request random hex that every lane replays alike).
function M.xorshift(seed)
  local x = seed + 0x9E3779B97F4A7C15
  x = (x ~ (x >> 30)) * 0xBF58476D1CE4E5B9
  x = (x ~ (x >> 27)) * 0x94D049BB133111EB
  x = x ~ (x >> 31)
  if x == 0 then x = 1 end
  return function()
    x = x ~ (x >> 12)
    x = x ~ (x << 25)
    x = x ~ (x >> 27)
    return x * 0x2545F4914F6CDD1D
  end
end

return M
