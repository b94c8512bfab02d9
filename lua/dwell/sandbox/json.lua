--- JSON for the sandbox's route sets: dwell.json, the C core's codec
-- (encode/decode return `nil, err` instead of raising). Kept as its own name
-- so route sets need not know where the codec lives.
return require "dwell.json"
