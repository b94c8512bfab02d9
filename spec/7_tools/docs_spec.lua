-- The documentation's own rules: the tree cites only what is in it (docs/vendors/*.md and the
-- vendors' public documentation), and the generated reference (docs/reference/*.md) is what
-- scripts/gen-reference makes from the declarations today.

-- Every file of the tree: git's list in a checkout, else whatever find sees (a source tarball).
local function tree_files()
  local p = io.popen("git ls-files 2>/dev/null")
  local out = p:read("a")
  p:close()
  if out == "" then
    p = io.popen("find . -type f -not -path './.git/*' -not -path './build/*' | sed 's|^\\./||'")
    out = p:read("a")
    p:close()
  end
  local files = {}
  for f in out:gmatch("[^\n]+") do files[#files + 1] = f end
  table.sort(files)
  return files
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- What a file of this tree must not cite: notes and folders that live outside the repository,
-- and tracker numbers (which mean nothing to a reader of a release). Lower-cased text.
local FORBIDDEN = {
  { "notes%.md", "NOTES.md (cite docs/vendors/<vendor>.md §N or the vendor's docs)" },
  { "notes §", "NOTES § (cite docs/vendors/<vendor>.md §N)" },
  { "shared/", "the shared folder (not part of the repository)" },
  { "specs/seeds", "the seed documents (cite the vendor's page or docs/vendors/<vendor>.md)" },
  { "seeds? 00%d", "a seed document (cite the vendor's page or docs/vendors/<vendor>.md)" },
  { "issues? #?%d+", "an issue number" },
}

-- Files exempt: vendor material kept as received, and this spec (it spells the patterns out).
local function exempt(f)
  return f:match("^spec/fixtures/") or f == "spec/7_tools/docs_spec.lua"
end

describe("citations", function()
  it("no file cites NOTES.md, the shared folder, seed documents or issue numbers", function()
    local bad = {}
    for _, f in ipairs(tree_files()) do
      local text = not exempt(f) and read(f)
      if text and not text:find("%z") then
        local n = 0
        for line in (text .. "\n"):gmatch("([^\n]*)\n") do
          n = n + 1
          local low = line:lower()
          for _, rule in ipairs(FORBIDDEN) do
            if low:find(rule[1]) then bad[#bad + 1] = ("%s:%d cites %s: %s"):format(f, n, rule[2], line) end
          end
        end
      end
    end
    assert.are.same({}, bad)
  end)

  it("every docs/vendors/<vendor>.md §N a file cites exists", function()
    local sections = {}
    for _, v in ipairs{ "tuya", "rooms", "ruckus" } do
      local s = {}
      local text = assert(read("docs/vendors/" .. v .. ".md"))
      for line in text:gmatch("[^\n]+") do
        local num = line:match("^#+%s+(%d+[%.%d]*)")
        if num then s[(num:gsub("%.$", ""))] = true end
      end
      -- numbered list items under a section ("§9.7": item 7 of section 9)
      local cur
      for line in text:gmatch("[^\n]+") do
        local h = line:match("^##%s+(%d+)%.")
        if h then cur = h end
        local item = line:match("^(%d+)%. ")
        if cur and item then s[cur .. "." .. item] = true end
      end
      sections[v] = s
    end
    local bad = {}
    for _, f in ipairs(tree_files()) do
      local text = not exempt(f) and read(f)
      if text and not text:find("%z") then
        for v, rest in text:gmatch("docs/vendors/(%a+)%.md ([§%d%.,%s and]+)") do
          for num in rest:gmatch("§(%d+[%.%d]*)") do
            num = num:gsub("%.$", "")
            if not (sections[v] and sections[v][num]) then bad[#bad + 1] = f .. ": " .. v .. ".md §" .. num end
          end
        end
      end
    end
    assert.are.same({}, bad)
  end)
end)

describe("Markdown links", function()
  it("every relative link of README.md and docs/ points at a file of the tree", function()
    local bad = {}
    for _, f in ipairs(tree_files()) do
      if f == "README.md" or (f:match("^docs/") and f:match("%.md$")) then
        local dir = f:match("^(.*)/[^/]*$") or "."
        for target in assert(read(f)):gmatch("%]%(([^)%s]+)%)") do
          local path = target:gsub("#.*$", "")
          if path ~= "" and not target:match("^%a+:") then
            local full = dir .. "/" .. path
            local fh = io.open(full, "rb")
            if fh then fh:close() else bad[#bad + 1] = f .. ": " .. target end
          end
        end
      end
    end
    assert.are.same({}, bad)
  end)
end)

describe("the endpoint reference", function()
  it("docs/reference/*.md is what scripts/gen-reference makes from the declarations (run make docs)", function()
    local p = assert(io.popen("lua5.4 scripts/gen-reference --check 2>&1"))
    local out = p:read("a")
    local ok = p:close()
    assert.is_true(ok, out)
  end)

  it("is the same on every run (no table order, clock or environment in it)", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local function run()
      assert(os.execute("lua5.4 scripts/gen-reference --out " .. dir .. " >/dev/null"))
      local f = assert(io.open(dir .. "/rooms.md", "rb"))
      local s = f:read("a")
      f:close()
      return s
    end
    local a, b = run(), run()
    os.execute("rm -rf " .. dir)
    assert.equal(a, b)
  end)
end)

describe("the LDoc of the public Lua API", function()
  it("builds from config.ld without a warning", function()
    if not os.execute("command -v ldoc >/dev/null 2>&1") then
      pending("ldoc is not installed (scripts/bootstrap installs lua-ldoc)")
      return
    end
    local dir = os.tmpname()
    os.remove(dir)
    local p = assert(io.popen("ldoc -c config.ld -d " .. dir .. " . 2>&1"))
    local out = p:read("a")
    local ok = p:close()
    local index = io.open(dir .. "/index.html", "rb")
    local html = index and index:read("a") or ""
    if index then index:close() end
    os.execute("rm -rf " .. dir)
    assert.is_true(ok, out)
    local warnings = {}
    for line in out:gmatch("[^\n]+") do
      if not line:match("^reading configuration") and not line:match("^output written") then warnings[#warnings + 1] = line end
    end
    assert.are.same({}, warnings)
    for _, m in ipairs{ "dwell", "dwell.tuya", "dwell.rooms", "dwell.ruckus", "dwell.api", "dwell.error", "dwell.json",
        "dwell.transport", "dwell.sandbox" } do
      assert.truthy(html:find(">" .. m .. "<", 1, true), m .. " is not in the LDoc index")
    end
  end)
end)
