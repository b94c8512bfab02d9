-- luacheck configuration for dwell (`make lint`).
std = "lua54"
max_line_length = 140
codes = true

-- specs run under busted, which provides describe/it/assert/spy/lazy_setup...
files["spec/"] = { std = "+busted" }

-- bench/peers/ holds other projects, fetched for benchmarking (git-ignored).
exclude_files = { "build/", "luarocks-tree/", "lua_modules/", ".luarocks/", "bench/peers/" }
