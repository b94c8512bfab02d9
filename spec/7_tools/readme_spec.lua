-- Every README Lua snippet marked runnable (an `<!-- runnable -->` line right before its ```lua
-- fence) runs as written, each in a fresh lua5.4 with the tree's modules on the paths; each
-- starts and stops the sandbox it needs.

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function runnable_snippets(text)
  local out, lines = {}, {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local i = 1
  while i <= #lines do
    if lines[i]:match("^<!%-%- runnable %-%->$") and lines[i + 1] == "```lua" then
      local start, body = i + 2, {}
      local j = start
      while lines[j] and lines[j] ~= "```" do body[#body + 1] = lines[j]; j = j + 1 end
      out[#out + 1] = { line = start, code = table.concat(body, "\n") .. "\n" }
      i = j
    end
    i = i + 1
  end
  return out
end

local snippets = runnable_snippets(read("README.md"))

describe("README", function()
  it("marks its sandbox snippets runnable", function()
    assert.is_true(#snippets >= 3, "found " .. #snippets .. " runnable snippets")
  end)

  for _, sn in ipairs(snippets) do
    it("snippet at README.md:" .. sn.line .. " runs as written", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      f:write(sn.code)
      f:close()
      -- run-specs (and make) export LUA_PATH / LUA_CPATH for the tree; a sanitizer build's too.
      local p = assert(io.popen("lua5.4 " .. path .. " 2>&1"))
      local out = p:read("a")
      local ok = p:close()
      os.remove(path)
      assert.is_true(ok, "README.md:" .. sn.line .. " failed:\n" .. out)
    end)
  end
end)
