--- JSON for the sandbox's route sets: dwell.json (the C core's codec) when it
-- is available, lua-cjson until then. Remove the fallback once dwell.json is
-- on main. Both forms return `nil, err` instead of raising.
local ok, json = pcall(require, "dwell.json")
if ok and type(json) == "table" and json.encode then return json end

local cjson = require "cjson.safe"
return { encode = cjson.encode, decode = cjson.decode, null = cjson.null }
