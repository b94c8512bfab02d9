-- ep:each(args, { concurrency = n }): pages fetched ahead, n at a time, once the first page
-- says how many there are; items in exactly the sequential order; an error stops the read at
-- the page that failed, with the pages before it delivered.
local dwell = require "dwell"
local errors = require "dwell.error"
local hostile = require "support.hostile"

local C = "/v1.0/iot-02/community"
local PAGE = C .. "/room-users"

-- A Tuya gateway with 95 room users, 10 a page; page `bad` (if any) answers 1106. `user_id`
-- (Lua source of an expression in i) gives each room user's user_id.
local function gateway(bad, user_id)
  local h = hostile.start{}
  h:script("GET", "/v1.0/token", { { status = 200, body = { success = true, t = 1,
    result = { access_token = "AT-ahead-0123456789", expire_time = 7200 } } } })
  h:script("GET", PAGE, { { fn = ([[return function(req)
    local page, size = tonumber(req.params.page_no), tonumber(req.params.page_size)
    if page == %d then return 200, {}, { success = false, code = 1106, msg = "denied", t = 1 } end
    local data = {}
    for i = (page - 1) * size + 1, math.min(95, page * size) do
      data[#data + 1] = { room_user_id = "ru" .. i, user_id = %s }
    end
    return 200, {}, { success = true, t = 1, result = { data = data, total = 95 } }
  end]]):format(bad or -1, user_id or "nil") } })
  return h
end

local function client(h, hooks)
  local cfg = { client_id = "cid", secret = "secret-0123456789", base_url = h.url, retry = { attempts = 1 } }
  for k, v in pairs(hooks or {}) do cfg[k] = v end
  return assert(dwell.tuya(cfg))
end

local function ids(ep, opts)
  local out = {}
  for u in ep:each({ block_id = "1", page_size = 10 }, opts) do out[#out + 1] = u.room_user_id end
  return out
end

describe("paging ahead", function()
  it("gives the same items in the same order as one page at a time, with one request a page", function()
    local h <close> = gateway()
    local seq = ids(client(h).community.room_users)
    assert.equal(95, #seq)
    assert.equal(10, h:count("GET", PAGE))
    for _, n in ipairs{ 2, 8, 64 } do
      local g <close> = gateway()
      assert.same(seq, ids(client(g).community.room_users, { concurrency = n }))
      assert.equal(10, g:count("GET", PAGE))
    end
  end)

  it("has the pages of a batch all on the wire before the first of them is answered", function()
    local h <close> = gateway()
    local events = {}
    local tuya = client(h, {
      on_request = function(info) if info.url:find("room%-users") then events[#events + 1] = "send" end end,
      on_response = function(info) if info.url:find("room%-users") then events[#events + 1] = "answer" end end,
    })
    assert.equal(95, #ids(tuya.community.room_users, { concurrency = 8 }))
    -- page 1 alone, then pages 2..9 sent together, then page 10
    assert.same({ "send", "answer", "send", "send", "send", "send", "send", "send", "send", "send" },
      { table.unpack(events, 1, 10) })
  end)

  it("stops at the page that failed, after delivering the pages before it", function()
    local h <close> = gateway(5)
    local got = {}
    local ok, err = pcall(function()
      for u in client(h).community.room_users:each({ block_id = "1", page_size = 10 }, { concurrency = 8 }) do
        got[#got + 1] = u.room_user_id
      end
    end)
    assert.is_false(ok)
    assert.is_true(errors.is(err), tostring(err))
    assert.equal("forbidden", err.kind)
    assert.same({ page_no = 5 }, err.page)
    assert.equal(40, #got)
    assert.equal("ru40", got[40])
  end)

  it("reads offset pages (Rooms startPosition/count) ahead in the same order", function()
    local S = require "support.rooms"
    local sb = S.start()
    local rooms = S.client(sb)
    local function users(opts)
      local out = {}
      for u in rooms.rooms.users.list:each({ room_id = 1001, count = 20 }, opts) do out[#out + 1] = u.userId end
      return out
    end
    local seq = users()
    local before = #S.requests(sb, "/restapi/", "GET")
    local ahead = users{ concurrency = 4 }
    local sent = #S.requests(sb, "/restapi/", "GET") - before
    sb:stop()
    assert.is_true(#seq > 40)
    assert.same(seq, ahead)
    assert.equal(math.ceil(#seq / 20), sent)
  end)

  it("keeps n pages in flight while the reader works (a window, not batches), never more", function()
    local h <close> = gateway()
    local in_flight, most, sends, seen_at = 0, 0, 0, {}
    local tuya = client(h, {
      on_request = function(info)
        if not info.url:find("room%-users") then return end
        sends, in_flight = sends + 1, in_flight + 1
        most = math.max(most, in_flight)
      end,
      on_response = function(info) if info.url:find("room%-users") then in_flight = in_flight - 1 end end,
    })
    local n = 0
    for _ in tuya.community.room_users:each({ block_id = "1", page_size = 10 }, { concurrency = 3 }) do
      n = n + 1
      if n % 10 == 1 then seen_at[#seen_at + 1] = sends end
    end
    assert.equal(95, n)
    assert.equal(10, sends)
    assert.equal(3, most)
    -- when the reader starts page k (k >= 2), pages up to k + 3 have been sent: the window
    -- moves on with each page taken, where batches of 3 would stand at page 4 until page 5
    for k = 2, 10 do assert.equal(math.min(k + 3, 10), seen_at[k], "sent by the start of page " .. k) end
  end)

  it("a break cancels the pages still in flight: each ends as cancelled, nothing more is sent", function()
    local h <close> = gateway()
    local outcomes, started = {}, 0
    local tuya = client(h, {
      on_request = function(info) if info.url:find("room%-users") then started = started + 1 end end,
      on_response = function(info)
        if info.url:find("room%-users") then outcomes[#outcomes + 1] = info.error or info.status end
      end,
    })
    local n = 0
    for _ in tuya.community.room_users:each({ block_id = "1", page_size = 10 }, { concurrency = 4 }) do
      n = n + 1
      if n == 15 then break end
    end
    local sent = h:count("GET", PAGE)
    -- (a cancelled request may still reach the server a moment later; it is never sent twice)
    assert.is_true(started <= 6, "page 1, then at most pages 2..6 by the break: " .. started)
    assert.is_true(sent <= started, "a request cancelled before it left never reaches the server")
    assert.equal(started, #outcomes, "every request started has an outcome")
    local done = 0
    for _, o in ipairs(outcomes) do
      assert.is_true(o == 200 or o == "cancelled", tostring(o))
      if o == 200 then done = done + 1 end
    end
    assert.is_true(done >= 2, "the pages read were answered")
    -- the client is usable afterwards, and nothing left behind is sent later
    assert(tuya.community.room_users{ block_id = "1", page_no = 1, page_size = 10 })
    assert.equal(started, #outcomes)
    assert.is_true(h:count("GET", PAGE) <= started, "no request of the read was sent again")
  end)

  it("inside dwell.parallel tasks, reads ahead too and gives each read its items in order", function()
    local h <close> = gateway()
    local ep = client(h).community.room_users
    local seq = ids(ep)
    local function read(opts) return ids(ep, opts) end
    local results, errs = dwell.parallel({ { read, { concurrency = 4 } }, { read, { concurrency = 3 } } },
      { concurrency = 2 })
    assert.are.same({}, errs)
    assert.same(seq, results[1])
    assert.same(seq, results[2])
    assert.equal(30, h:count("GET", PAGE), "ten pages for each of the three reads")
  end)

  it("names a room user by room_user_id: a resident in two rooms, or without the app, is no repeat", function()
    -- each resident holds two rooms (items 10 and 11 straddle pages 1 and 2), or none has a user_id
    for _, user_id in ipairs{ '"u" .. (i // 2)', '""' } do
      for _, n in ipairs{ 1, 4 } do
        local h <close> = gateway(nil, user_id)
        local got = ids(client(h).community.room_users, { concurrency = n })
        assert.equal(95, #got, user_id)
      end
    end
  end)

  it("a page fetched ahead goes through the pipeline's retries: a 429 on it is waited out and resent", function()
    local h <close> = hostile.start{}
    h:script("GET", "/v1.0/token", { { status = 200, body = { success = true, t = 1,
      result = { access_token = "AT-ahead-0123456789", expire_time = 7200 } } } })
    h:script("GET", PAGE, { { fn = [[
      local refused = false
      return function(req)
        local page, size = tonumber(req.params.page_no), tonumber(req.params.page_size)
        if page == 3 and not refused then
          refused = true
          return 429, { ["Retry-After"] = "0" }, { success = false, code = 1199, msg = "slow down", t = 1 }
        end
        local data = {}
        for i = (page - 1) * size + 1, math.min(95, page * size) do data[#data + 1] = { room_user_id = "ru" .. i } end
        return 200, {}, { success = true, t = 1, result = { data = data, total = 95 } }
      end]] } })
    local tuya = assert(dwell.tuya{ client_id = "cid", secret = "secret-0123456789", base_url = h.url })
    local got = ids(tuya.community.room_users, { concurrency = 4 })
    assert.equal(95, #got)
    for i, id in ipairs(got) do assert.equal("ru" .. i, id) end
    assert.equal(11, h:count("GET", PAGE), "ten pages, page 3 twice")
  end)

  it("refuses a concurrency that is not an integer >= 1", function()
    local h <close> = gateway()
    local ep = client(h).community.room_users
    local ok, err = pcall(ep.each, ep, { block_id = "1" }, { concurrency = 0 })
    assert.is_false(ok)
    assert.equal("invalid_argument", err.kind)
    assert.equal("concurrency", err.param)
    assert.equal(0, h:count("GET", PAGE))
  end)
end)
