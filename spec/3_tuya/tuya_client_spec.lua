-- The Tuya client over real HTTP against the sandbox's "tuya" route set on 127.0.0.1.
local dwell = require "dwell"
local sandbox = require "dwell.sandbox"

local function start(config, extra)
  local opts = { host = "127.0.0.1", port = 0, routes = { { set = "tuya", config = config or {} } } }
  for k, v in pairs(extra or {}) do opts[k] = v end
  local sb = assert(sandbox.start(opts))
  local creds = assert(sb:control("tuya", "credentials"))
  return sb, creds, assert(sb:control("tuya", "summary"))
end

local function connect(sb, creds, extra)
  local cfg = { client_id = creds.client_id, secret = creds.secret, base_url = sb.url }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  return assert(dwell.tuya(cfg))
end

local function count_requests(sb, pattern)
  local n = 0
  for _, r in ipairs(sb:requests()) do
    if r.path:match(pattern) then n = n + 1 end
  end
  return n
end

describe("tuya client over HTTP", function()
  local sb, creds, summary, tuya, block

  before_each(function()
    sb, creds, summary = start()
    tuya = connect(sb, creds)
    block = summary.blocks[1]
  end)
  after_each(function() sb:stop() end)

  it("lists room users page by page and unwraps the envelope", function()
    local page = assert(tuya.community.room_users{ block_id = block.block_id, page_no = 1, page_size = 20 })
    assert.equal(block.room_users, page.total_count)
    assert.equal(20, #page.data)
    local u = page.data[1]
    assert.is_string(u.room_user_id)
    assert.equal(19, #u.room_user_id)
    assert.is_string(u.real_name)
    assert.is_true(math.type(u.room_user_stage) == "integer")
    assert.is_nil(page.success) -- unwrapped
    -- the room's place: its parents nearest first, and the names from the top down
    assert.is_true(#u.parent_id_list >= 2, "a floor and a building above the room")
    assert.is_string(u.parent_id_list[1].parent_id)
    assert.equal(" " .. u.space_tree_name, u.room_address:sub(-#u.space_tree_name - 1))
    local again = assert(tuya.community.room_users{ block_id = block.block_id, page_no = 1, page_size = 20 })
    assert.are.same(u.parent_id_list, again.data[1].parent_id_list)
    assert.equal(u.room_address, again.data[1].room_address)
    -- one token, obtained once, then reused
    tuya.community.room_users{ block_id = block.block_id, page_no = 2, page_size = 20 }
    assert.equal(1, count_requests(sb, "^/v1%.0/token$"))
  end)

  it("a listing shows a room user created or removed since the previous listing", function()
    local B = block.block_id
    local first = assert(tuya.community.room_users{ block_id = B, page_no = 1, page_size = 50 })
    local a, b = first.data[1], first.data[#first.data]
    local tree
    for _, u in ipairs(first.data) do
      if u.tree_id ~= a.tree_id then tree = u.tree_id end
    end
    assert.truthy(tree, "two rooms on the first page")
    local made = assert(tuya.community.room_user.create{ block_id = B, householder_id = a.householder_id,
      room_user_type = "TENANT", tree_id = tree })
    local again = assert(tuya.community.room_users{ block_id = B, page_no = 1, page_size = 50 })
    assert.equal(first.total_count + 1, again.total_count)
    assert.equal(made.room_user_id, again.data[1].room_user_id, "newest first")
    assert(tuya.community.room_user.delete{ block_id = B, room_user_id = made.room_user_id })
    assert(tuya.community.room_user.delete{ block_id = B, room_user_id = b.room_user_id })
    local after = assert(tuya.community.room_users{ block_id = B, page_no = 1, page_size = 50 })
    assert.equal(first.total_count - 1, after.total_count)
    for _, u in ipairs(after.data) do
      assert.are_not.equal(made.room_user_id, u.room_user_id)
      assert.are_not.equal(b.room_user_id, u.room_user_id)
    end
    assert.equal(first.data[1].room_user_id, after.data[1].room_user_id)
  end)

  it("iterates every page with :each and filters as documented", function()
    local n, seen = 0, {}
    for u in tuya.community.room_users:each{ block_id = block.block_id, page_size = 17 } do
      n = n + 1
      assert.is_nil(seen[u.room_user_id])
      seen[u.room_user_id] = true
    end
    assert.equal(block.room_users, n)
    local pending = assert(tuya.community.room_users:all{ block_id = block.block_id, room_user_stage = 0, page_size = 7 })
    assert.equal(block.pending, #pending)
    for _, u in ipairs(pending) do assert.equal(0, u.room_user_stage) end
    local women = assert(tuya.community.room_users:all{ block_id = block.block_id, sex = 2 })
    for _, u in ipairs(women) do assert.equal(2, u.sex) end
    local asc = assert(tuya.community.room_users:all{ block_id = block.block_id, field_order_by = "CREATE_TIME_ASC" })
    for i = 2, #asc do assert.is_true(asc[i - 1].gmt_create <= asc[i].gmt_create) end
    local someone = asc[5]
    local by_mobile = assert(tuya.community.room_users:all{ block_id = block.block_id, mobile_or_name = someone.mobile:sub(-6) })
    local found = false
    for _, u in ipairs(by_mobile) do if u.room_user_id == someone.room_user_id then found = true end end
    assert.is_true(found)
    local tenants = assert(tuya.community.room_users:all{ block_id = block.block_id, room_user_type = "TENANT" })
    assert.is_true(#tenants > 0)
    for _, u in ipairs(tenants) do assert.equal("TENANT", u.room_user_type) end
  end)

  it("keeps 19-digit ids exact from response to request", function()
    local page = assert(tuya.community.room_users{ block_id = block.block_id, page_no = 1, page_size = 1 })
    local id = page.data[1].room_user_id
    assert.is_true(math.tointeger(id) > 2 ^ 53)
    local detail = assert(tuya.community.room_user.get{ block_id = block.block_id, room_user_id = id })
    assert.equal(id, detail.room_user_id)
    -- the same id given as a Lua integer is sent as its exact digits
    detail = assert(tuya.community.room_user.get{ block_id = math.tointeger(block.block_id), room_user_id = math.tointeger(id) })
    assert.equal(id, detail.room_user_id)
    local last = sb:requests()[#sb:requests()]
    assert.matches("room_user_id=" .. id, last.query, 1, true)
  end)

  it("refreshes once when the token expires during a 10-page :each", function()
    local n = 0
    for _ in tuya.community.room_users:each{ block_id = block.block_id, page_size = 16 } do
      n = n + 1
      if n == 50 then assert(sb:control("tuya", "expire_tokens")) end
    end
    assert.equal(160, n)
    assert.equal(10, count_requests(sb, "^/v1%.0/iot%-02/community/room%-users$") - 1) -- one page retried after 1010
    assert.equal(1, count_requests(sb, "^/v1%.0/token/"))
    assert.equal(1, count_requests(sb, "^/v1%.0/token$"))
    assert.equal(1, tuya:token_info().refreshes)
  end)

  it("single-flights the refresh when 50 concurrent calls find the token expired", function()
    -- The client's clock jumps past the token's expiry: every call finds it expired (and its t is
    -- now skewed, so the refresh itself also goes through the 1013 correction).
    local shift = 0
    tuya = connect(sb, creds, { clock = { now = function() return os.time() + shift end, sleep = function() end } })
    assert(tuya.community.room_users{ block_id = block.block_id, page_no = 1, page_size = 1 })
    shift = 7200
    local calls = {}
    for i = 1, 50 do
      calls[i] = { tuya.community.room_users, { block_id = block.block_id, page_no = i % 8 + 1, page_size = 5 } }
    end
    local results, errs = dwell.parallel(calls, { concurrency = 50 })
    for i = 1, 50 do
      assert.is_nil(errs[i])
      assert.equal(block.room_users, results[i].total_count)
    end
    assert.equal(1, assert(sb:control("tuya", "stats")).refreshes)
    assert.equal(1, tuya:token_info().refreshes)
    assert.equal(1, count_requests(sb, "^/v1%.0/token$"))
  end)

  it("re-authenticates once for 50 concurrent calls answered 1010, keeping their parameters", function()
    assert(tuya.community.room_users{ block_id = block.block_id, page_no = 1, page_size = 1 })
    assert(sb:control("tuya", "expire_tokens"))
    local calls = {}
    for i = 1, 50 do
      calls[i] = { tuya.community.room_users, { block_id = block.block_id, page_no = i % 8 + 1, page_size = 3,
        room_user_stage = 20 } }
    end
    local results, errs = dwell.parallel(calls, { concurrency = 50 })
    for i = 1, 50 do
      assert.is_nil(errs[i])
      assert.equal(block.approved, results[i].total_count)
      for _, u in ipairs(results[i].data) do assert.equal(20, u.room_user_stage) end
    end
    assert.equal(1, count_requests(sb, "^/v1%.0/token/"))
  end)

  it("corrects its clock from the envelope's t after a 1013 and retries once", function()
    assert(sb:control("tuya", "set_clock_offset", { ms = 3600 * 1000 }))
    local page = assert(tuya.community.members{ block_id = block.block_id, page_no = 1, page_size = 5 })
    assert.equal(5, #page.data)
    local offset = tuya:clock_offset_ms()
    assert.is_true(math.abs(offset - 3600 * 1000) < 60 * 1000)
    local stats = assert(sb:control("tuya", "stats"))
    assert.equal(1, stats.skewed)
    assert(tuya.community.members{ block_id = block.block_id, page_no = 2, page_size = 5 })
    assert.equal(1, assert(sb:control("tuya", "stats")).skewed)
  end)

  it("turns envelope failures into dwell.errors with the vendor code and tid", function()
    local r, err = tuya.community.room_user.get{ block_id = block.block_id, room_user_id = "1382581044365099999" }
    assert.is_nil(r)
    assert.equal("not_found", err.kind)
    assert.equal(1000, err.code)
    assert.equal("tuya", err.vendor)
    assert.equal("community.room_user.get", err.endpoint)
    assert.matches("^%x+$", err.request_id)
    -- a parameter the gateway rejects (1109), via the raw escape hatch
    r, err = tuya:request{ method = "GET", path = "/v1.0/iot-02/community/room-users", query = { block_id = block.block_id } }
    assert.is_nil(r)
    assert.equal("rejected", err.kind)
    assert.equal(1109, err.code)
    -- the wrong verb on a known path (1108)
    r, err = tuya:request{ method = "POST", path = "/v1.0/iot-02/community/room-users", body = {} }
    assert.is_nil(r)
    assert.equal("not_found", err.kind)
    assert.equal(1108, err.code)
  end)

  it("the trace shows how long a rate limit held a first attempt back", function()
    local lines = {}
    local cfg = require("dwell.trace").install("tuya", { client_id = creds.client_id, secret = creds.secret,
      base_url = sb.url, rate_limit = { capacity = 1, refill_per_second = 5 } },
      { write = function(line) lines[#lines + 1] = line end })
    local paced = assert(dwell.tuya(cfg))
    for page_no = 1, 3 do assert(paced.community.room_users{ block_id = block.block_id, page_no = page_no, page_size = 1 }) end
    local held = 0
    for _, line in ipairs(lines) do
      if line:find("(attempt 1), sent after waiting", 1, true) and line:find("for the rate limit", 1, true) then
        held = held + 1
      end
    end
    -- a bucket of one: after the first request, each waits for the next token
    assert.is_true(held >= 2, table.concat(lines, "\n"))
  end)

  it("reports a wrong secret as an auth error (1004) without retrying", function()
    local bad = connect(sb, { client_id = creds.client_id, secret = "not-the-secret-at-all-0123456789" })
    local r, err = bad.community.room_users{ block_id = block.block_id, page_no = 1, page_size = 1 }
    assert.is_nil(r)
    assert.equal("auth", err.kind)
    assert.equal(1004, err.code)
    assert.not_matches("not%-the%-secret", tostring(err))
  end)

  it("gives decode errors for non-JSON bodies and bad envelopes", function()
    for _, kind in ipairs({ "not_json", "no_success", "truncated", "empty" }) do
      assert(tuya.community.members{ block_id = block.block_id, page_no = 1, page_size = 1 })
      assert(sb:control("tuya", "fault", { kind = kind }))
      local r, err = tuya.community.members{ block_id = block.block_id, page_no = 1, page_size = 1 }
      assert.is_nil(r, kind)
      assert.equal("decode", err.kind, kind)
      assert.equal("community.members", err.endpoint)
    end
    -- the GET is retried on 502 (3 attempts in all), so every attempt gets the fault
    assert(sb:control("tuya", "fault", { kind = "html_502", count = 3 }))
    local r, err = tuya.community.member.get{ block_id = block.block_id, member_id = "1" }
    assert.is_nil(r)
    assert.equal("http", err.kind)
    assert.equal(502, err.status)
    -- a fault the emulation does not have is refused by name, with no source position
    local none, why = sb:control("tuya", "fault", { kind = "nope" })
    assert.is_nil(none)
    assert.equal("unknown fault kind nope", why)
  end)

  it("keeps secrets out of hooks", function()
    local seen = {}
    local function hook(info)
      local parts = {}
      local function walk(v)
        if type(v) == "table" then for k, x in pairs(v) do parts[#parts + 1] = tostring(k); walk(x) end
        else parts[#parts + 1] = tostring(v) end
      end
      walk(info)
      seen[#seen + 1] = table.concat(parts, " ")
    end
    local c = connect(sb, creds, { on_request = hook, on_response = hook })
    assert(c.community.room_users{ block_id = block.block_id, page_no = 1, page_size = 1 })
    assert(sb:control("tuya", "expire_tokens"))
    assert(c.community.room_users{ block_id = block.block_id, page_no = 2, page_size = 1 }) -- 1010, refresh
    assert.equal(1, c:token_info().refreshes)
    assert.is_true(#seen >= 4)
    local secrets = { creds.secret }
    for _, r in ipairs(sb:requests()) do
      secrets[#secrets + 1] = r.headers.sign
      if r.headers.access_token and r.headers.access_token ~= "" then secrets[#secrets + 1] = r.headers.access_token end
      local rt = r.path:match("^/v1%.0/token/(.+)$")
      if rt then secrets[#secrets + 1] = rt end
    end
    for _, line in ipairs(seen) do
      for _, s in ipairs(secrets) do assert.is_nil(line:find(s, 1, true), "hook saw a secret") end
    end
  end)
end)

describe("tuya client: key casing", function()
  it("normalises camelCase results to snake_case unless raw_keys is set", function()
    local sb, creds, summary = start{ camel_keys = true }
    local block = summary.blocks[1]
    local tuya = connect(sb, creds)
    local page = assert(tuya.community.structure.members{ structure_id = summary.structure_ids[1], page_no = 1, page_size = 2 })
    assert.is_number(page.total_count)
    assert.is_string(page.data[1].admin_name)
    assert.is_string(page.data[1].role_infos[1].role_id)
    local raw = connect(sb, creds, { raw_keys = true })
    local rpage = assert(raw.community.room_users{ block_id = block.block_id, page_no = 1, page_size = 1 })
    assert.is_number(rpage.totalCount)
    assert.is_string(rpage.data[1].roomUserId)
    sb:stop()
  end)
end)

describe("tuya client: every endpoint against the sandbox", function()
  it("creates, reads, updates and deletes across the whole family", function()
    local sb, creds, summary = start()
    local tuya = connect(sb, creds)
    local b = summary.blocks[1]
    local C = tuya.community

    -- householders and their relationships to houses
    local h = assert(C.householder.create{ block_id = b.block_id, real_name = "Ada Lovelace", sex = 2,
      mobile = "13512345678", card_type = 1, card_no = "330106199001011234" })
    assert.is_true(h.success)
    assert.equal("Ada Lovelace", assert(C.householder.get{ block_id = b.block_id, householder_id = h.householder_id }).real_name)
    -- the modify-resident table requires these fields; the body repeats both path ids
    local before = #sb:requests()
    assert.is_true(assert(C.householder.update{ block_id = b.block_id, householder_id = h.householder_id,
      real_name = "Ada Lovelace", sex = 2, mobile = "13512345678", household_registry_address = "London",
      marital_status = 2, employer = "Analytical", political_status = 3, household_registry_type = 2 }))
    local sent = require("dwell.json").decode(sb:requests()[before + 1].body)
    assert.equal(b.block_id, sent.block_id)
    assert.equal(h.householder_id, sent.householder_id)
    assert.equal(2, sent.marital_status)
    assert.equal(2, assert(C.householder.get{ block_id = b.block_id, householder_id = h.householder_id }).household_registry_type)
    local listed = assert(C.householders:all{ block_id = b.block_id, mobile_or_name = "Lovelace" })
    assert.equal(1, #listed)
    assert.equal("Analytical", listed[1].employer)

    local rel = assert(C.room_user.create{ block_id = b.block_id, householder_id = h.householder_id,
      room_user_type = "TENANT", tree_id = b.first_room_tree_id })
    assert.is_true(rel.success)
    assert.is_true(assert(C.room_user.update{ room_user_id = rel.room_user_id, block_id = b.block_id,
      householder_id = h.householder_id, room_user_type = "FAMILY", tree_id = b.first_room_tree_id, expire_date = "" }))
    local got = assert(C.room_user.get{ block_id = b.block_id, room_user_id = rel.room_user_id })
    assert.equal("FAMILY", got.room_user_type)
    assert.equal(20, got.room_user_stage)
    assert.is_true(assert(C.room_user.move_out{ block_id = b.block_id, room_user_id = rel.room_user_id }))
    assert.equal(30, assert(C.room_user.get{ block_id = b.block_id, room_user_id = rel.room_user_id }).room_user_stage)
    assert.is_true(assert(C.room_user.delete{ block_id = b.block_id, room_user_id = rel.room_user_id }))
    local _, gone = C.room_user.get{ block_id = b.block_id, room_user_id = rel.room_user_id }
    assert.equal("not_found", gone.kind)

    -- move-in review changes what later reads see
    local pending = assert(C.room_users{ block_id = b.block_id, room_user_stage = 0, page_no = 1, page_size = 2 })
    local p1, p2 = pending.data[1], pending.data[2]
    local function review(u, stage)
      return assert(C.room_user.move_in{ room_user_id = u.room_user_id, block_id = b.block_id,
        householder_id = u.householder_id, room_user_type = u.room_user_type, tree_id = u.tree_id,
        room_user_stage = stage, audit_reason = stage == 20 and "ok" or "missing lease" })
    end
    assert.is_true(review(p1, 20).success)
    assert.is_true(review(p2, 10).success)
    assert.is_false(review(p1, 20).success) -- no longer pending
    local after = assert(C.room_users{ block_id = b.block_id, room_user_stage = 0, page_no = 1, page_size = 1 })
    assert.equal(b.pending - 2, after.total_count)
    assert.equal("missing lease", assert(C.room_user.get{ block_id = b.block_id, room_user_id = p2.room_user_id }).audit_reason)
    assert.is_true(assert(C.householder.delete{ block_id = b.block_id, householder_id = h.householder_id }))

    -- members (staff)
    local members = assert(C.members{ block_id = b.block_id, page_no = 1, page_size = 5 })
    assert.is_true(members.total_record > 5)
    local m = members.data[1]
    assert.is_true(assert(C.member.update{ block_id = b.block_id, member_id = m.member_id,
      block_ids = { b.block_id, summary.blocks[2].block_id }, role_ids = { summary.role_ids[1], summary.role_ids[2] },
      structure_id = summary.structure_ids[2], education = "Master", admin_name = "Utilities Operation", sex = 1,
      mobile = m.mobile, admin = 2, data_permission = 2, country_code = "86", card_type = 1,
      card_no = "31162119920918123X", birthday = 700000000000, position = "Plumber" }))
    local md = assert(C.member.get{ block_id = b.block_id, member_id = m.member_id })
    assert.equal("Utilities Operation", md.admin_name)
    assert.equal(2, #md.role_infos)
    assert.equal(2, #md.blocks)
    assert.equal("Plumber", md.position)
    assert.equal(700000000000, md.birthday)
    local new_id = assert(C.member.create{ block_ids = b.block_id, structure_id = summary.structure_ids[1],
      education = "Bachelor", role_ids = summary.role_ids[3], admin_name = "New Hire", sex = 2, mobile = "13700001111" })
    assert.is_string(new_id)
    assert.equal("New Hire", assert(C.member.get{ block_id = b.block_id, member_id = new_id }).admin_name)
    assert.is_true(assert(C.member.delete{ block_id = b.block_id, member_id = new_id }))

    -- organisations
    local root = assert(C.structure.get{ structure_id = summary.root_structure_id })
    assert.equal("", root.parent_structure_id)
    local kids = assert(C.structures.children{ structure_id = summary.root_structure_id })
    assert.equal(#summary.structure_ids, #kids.list)
    local sm = assert(C.structure.members:all{ structure_id = summary.structure_ids[1], page_size = 4 })
    assert.is_true(#sm > 4)
    for _, x in ipairs(sm) do assert.equal(summary.structure_ids[1], x.structure_id) end
    local sid = assert(C.structure.create{ parent_structure_id = summary.root_structure_id, structure_name = "Gardening" })
    assert.is_true(assert(C.structure.update{ structure_id = sid, structure_name = "Landscaping", contact = "Helen",
      contact_mobile = "18800001234" }))
    assert.equal("Landscaping", assert(C.structure.get{ structure_id = sid }).structure_name)
    assert.is_true(assert(C.structure.delete{ structure_id = sid }))

    -- houses and housekeepers
    local tree_id = assert(C.room.create{ block_id = b.block_id, parent_tree_id = b.first_floor_tree_id, room_name = "105" })
    assert.equal(19, #tree_id)
    assert.is_true(assert(C.room.delete{ block_id = b.block_id, tree_id = tree_id }))
    local hk = assert(C.housekeeper_detail{ block_id = b.block_id, hk_id = b.housekeeper_ids[1] })
    assert.equal(b.housekeeper_ids[1], hk.hk_id)

    -- an expired token is refreshed (token.refresh), then token endpoints are callable directly
    assert(sb:control("tuya", "expire_tokens"))
    assert(C.structure.get{ structure_id = summary.root_structure_id })
    assert.equal(1, tuya:token_info().refreshes)
    assert.is_string(assert(tuya.token.get()).access_token)

    -- every declared endpoint was called at least once
    local hits = {}
    for _, r in ipairs(sb:requests()) do hits[#hits + 1] = r.method .. " " .. r.path end
    for _, ep in ipairs(tuya:endpoints()) do
      local pat = "^" .. ep.spec.method .. " " .. ep.spec.path:gsub("[%-%.]", "%%%0"):gsub("{[^}]+}", "[^/]+") .. "$"
      local called = false
      for _, line in ipairs(hits) do if line:match(pat) then called = true; break end end
      assert.is_true(called, ep.spec.name .. " was never called")
    end
    sb:stop()
  end)
end)
