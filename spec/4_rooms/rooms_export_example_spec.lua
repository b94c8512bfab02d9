-- examples/rooms_export_users.lua run as a user would (a separate lua5.4 process, --sandbox):
-- one CSV row per room user, with the room's office and that office's region by id and name.
local support = require "support.shell"
local shell_quote = support.quote

local function split(line)
  local out = {}
  for field in (line .. ","):gmatch("([^,]*),") do out[#out + 1] = field end
  return out
end

describe("examples/rooms_export_users.lua", function()
  it("exports every room user with office and region columns", function()
    local out = os.tmpname()
    local ok = os.execute("lua5.4 examples/rooms_export_users.lua --sandbox --out " .. shell_quote(out)
      .. " 2>/dev/null")
    assert.is_true(ok == true or ok == 0)
    local f = assert(io.open(out, "rb"))
    local text = f:read("a")
    f:close()
    os.remove(out)
    local lines = {}
    for line in text:gmatch("([^\r\n]+)\r\n") do lines[#lines + 1] = line end
    assert.same({ "roomId", "roomName", "officeId", "officeName", "regionId", "regionName", "userId", "firstName",
      "lastName", "email", "roleId", "roleName", "transactionSideId", "companyName" }, split(lines[1]))
    -- The seeded rooms: 260 + 7 + 3 + 12 + 0 + 5 users, in offices 10 and 11 of region 1.
    assert.equal(287, #lines - 1)
    local offices = {}
    for i = 2, #lines do
      local row = split(lines[i])
      assert.equal(14, #row, lines[i])
      offices[row[3] .. "/" .. row[4] .. "/" .. row[5] .. "/" .. row[6]] = true
    end
    assert.same({ ["10/Springfield Main/1/North"] = true, ["11/Shelbyville/1/North"] = true }, offices)
  end)
end)
