--- dwell.json: the C core's JSON codec (exact 64-bit integers, strict RFC 8259).
-- decode(text [, opts]) -> value | nil, err; encode(value [, opts]) -> string | nil, err;
-- null (== cjson.null); array_mt (marks arrays so [] re-encodes as []).
return require("dwell.core").json
