--- dwell.json: the C core's JSON codec (exact 64-bit integers, strict RFC 8259).
-- decode(text [, opts]) -> value | nil, err; encode(value [, opts]) -> string | nil, err;
-- null (== cjson.null); array_mt (marks arrays so [] re-encodes as []).
-- @module dwell.json

--- Decodes JSON text (strict RFC 8259; integers stay exact 64-bit Lua integers).
-- @function decode
-- @string text the JSON text
-- @tparam[opt] table opts `{ key_case = "snake" }` renames object keys to snake_case as it decodes
-- @return the value (`null` for JSON null, arrays marked with `array_mt`), or nil and a message

--- Encodes a Lua value as JSON.
-- @function encode
-- @param value a table, string, number, boolean or `null`
-- @tparam[opt] table opts `{ sort_keys = true, indent = 2 }`
-- @return the JSON text, or nil and a message

--- The snake_case spelling `key_case = "snake"` gives an object key ("roomUserId" ->
-- "room_user_id"; keys without a capital are returned as they are).
-- @function snake_key
-- @string key

--- The JSON null value (equal to `cjson.null`).
-- @field null

--- The metatable that marks a table as a JSON array, so that `{}` encodes as `[]`.
-- @field array_mt
return require("dwell.core").json
