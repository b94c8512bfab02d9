--- bench/json_docs.lua: generated documents shaped like the usual JSON benchmark files, for
-- bench/json.lua and bench/json_count.lua, beside the vendor pages of bench/json_pages.lua:
--   geo     float-heavy: a GeoJSON FeatureCollection of polygons whose coordinates are full
--           doubles (15 to 17 significant digits), like canada.json (about 2 MB);
--   strings string-heavy: a page of social-media statuses (ASCII, accented and CJK text, emoji,
--           escapes, URLs) with nested user objects, like twitter.json (about 0.6 MB);
--   ints    integer-heavy: an event catalogue (ids, prices, millisecond timestamps, id lists,
--           objects keyed by ids), like citm_catalog.json (about 1.7 MB).
-- Each returns a Lua value whose arrays carry json.array_mt; the text is
-- json.encode(value, { sort_keys = true }), identical on every machine. Loaded with dofile.
-- `files()` lists the original canada/citm_catalog/twitter files when they are present in the
-- git-ignored bench/peers/data/ (see bench/json_count.lua), so that figures can be given for
-- them too; they are not part of the repository.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*)/") or ".") .. "/common.lua")
local json = require "dwell.json"

local rng = common.rng

local function array(t) return setmetatable(t, json.array_mt) end

local function geo()
  local r = rng(1867)
  local features = array({})
  for f = 1, 8 do
    local rings = array({})
    local lon0, lat0 = -141 + r(80), 42 + r(40)
    for g = 1, 60 do
      local ring = array({})
      local lon, lat = lon0 + r(1000) / 100, lat0 + r(1000) / 100
      for p = 1, 115 do
        -- random walks in full double precision, as surveyed coordinates come out
        lon = lon + (r(2000001) - 1000000) / 3e8
        lat = lat + (r(2000001) - 1000000) / 7e8
        ring[p] = array({ lon, lat })
      end
      ring[#ring + 1] = array({ ring[1][1], ring[1][2] })
      rings[g] = ring
    end
    features[f] = { type = "Feature", properties = { name = "Region " .. f },
      geometry = { type = "Polygon", coordinates = rings } }
  end
  return { type = "FeatureCollection", features = features }
end

local WORDS = { "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "JSON", "parser",
  "café", "naïve", "résumé", "東京", "今日は", "天気", "がいい", "北京", "欢迎", "😀", "🎉", "👍",
  "\"quoted\"", "back\\slash", "tab\there", "line\nbreak", "https://example.com/a/b?c=d&e=f" }

local function sentence(r, n)
  local parts = {}
  for i = 1, n do parts[i] = WORDS[r(#WORDS) + 1] end
  return table.concat(parts, " ")
end

local function strings()
  local r = rng(140)
  local statuses = array({})
  for i = 1, 400 do
    local uid = 100000000 + r(900000000)
    local tags = array({})
    for t = 1, r(4) do tags[t] = { text = WORDS[r(9) + 1], indices = array({ r(100), r(100) + 100 }) } end
    statuses[i] = {
      created_at = string.format("Sun Aug 31 %02d:%02d:%02d +0000 2014", r(24), r(60), r(60)),
      id = 505874924095815700 + r(1000000), id_str = tostring(505874924095815700 + r(1000000)),
      text = sentence(r, 8 + r(14)), source = '<a href="http://twitter.com/download/iphone" rel="nofollow">Twitter for iPhone</a>',
      truncated = false, in_reply_to_status_id = json.null, in_reply_to_screen_name = json.null,
      user = {
        id = uid, id_str = tostring(uid), name = sentence(r, 2), screen_name = "user_" .. r(100000),
        location = sentence(r, 2), description = sentence(r, 6 + r(10)), url = json.null,
        followers_count = r(100000), friends_count = r(5000), listed_count = r(100),
        created_at = "Wed Jul 28 12:00:00 +0000 2010", favourites_count = r(10000), utc_offset = json.null,
        time_zone = json.null, geo_enabled = r(2) == 0, verified = false, statuses_count = r(50000),
        lang = "ja", profile_background_color = "C0DEED",
        profile_image_url = "http://pbs.twimg.com/profile_images/" .. r(1000000000) .. "/normal.jpeg",
        profile_link_color = "0084B4", default_profile = true, following = false,
      },
      geo = json.null, coordinates = json.null, place = json.null, contributors = json.null,
      retweet_count = r(1000), favorite_count = r(1000),
      entities = { hashtags = tags, symbols = array({}), urls = array({}), user_mentions = array({}) },
      favorited = false, retweeted = false, lang = "ja",
    }
  end
  return { statuses = statuses, search_metadata = { completed_in = 0.087, max_id = 505874924095815700,
    query = "%E4%B8%80", count = 100, since_id = 0 } }
end

local function ints()
  local r = rng(2014)
  local events, performances = {}, array({})
  local area_names, seat_names, topics = {}, {}, {}
  for a = 1, 200 do area_names[tostring(205705993 + a)] = "Area " .. a end
  for s = 1, 60 do seat_names[tostring(338937000 + s)] = "Seat category " .. s end
  for t = 1, 40 do
    local ids = array({})
    for k = 1, 20 + r(40) do ids[k] = 138586341 + r(1000000) end
    topics[tostring(107888604 + t)] = ids
  end
  for e = 1, 180 do
    local id = 138586341 + e * 7
    local topic_ids = array({})
    for k = 1, 1 + r(3) do topic_ids[k] = 107888604 + r(40) end
    events[tostring(id)] = { id = id, name = "Event " .. e, subTopicIds = topic_ids,
      topicIds = array({ 324846099 + r(10) }), subjectCode = json.null, description = json.null, logo = json.null }
  end
  for p = 1, 240 do
    local prices, seats = array({}), array({})
    for k = 1, 2 + r(6) do
      prices[k] = { amount = 9000 + r(200) * 500, audienceSubCategoryId = 337100890, seatCategoryId = 338937000 + r(60) }
    end
    for k = 1, 2 + r(6) do
      local areas = array({})
      for a = 1, 4 + r(12) do areas[a] = { areaId = 205705993 + r(200), blockIds = array({}) } end
      seats[k] = { areas = areas, seatCategoryId = 338937000 + r(60) }
    end
    performances[p] = { id = 339887544 + p, eventId = 138586341 + r(180) * 7, name = json.null,
      logo = json.null, prices = prices, seatCategories = seats, seatMapImage = json.null,
      start = 1372608000000 + r(10000) * 3600000, venueCode = "PLEYEL_PLEYEL" }
  end
  return { areaNames = area_names, seatCategoryNames = seat_names, subTopicNames = {},
    topicSubTopics = topics, events = events, performances = performances,
    venueNames = { PLEYEL_PLEYEL = "Salle Pleyel" } }
end

-- The original benchmark files, when a peer snapshot put them in bench/peers/data/.
local function files(here)
  local list = {}
  for _, name in ipairs({ "canada", "citm_catalog", "twitter" }) do
    local f = io.open(here .. "/peers/data/" .. name .. ".json", "rb")
    if f then
      list[#list + 1] = { name = name, text = f:read("a") }
      f:close()
    end
  end
  return list
end

return { geo = geo, strings = strings, ints = ints, files = files }
