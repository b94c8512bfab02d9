--- Route set "tuya": Tuya Smart Community, in the sandbox's one layout for a vendor:
--   tuya/gateway.lua  the gateway: signatures, tokens, envelopes, the checks every API shares
--   tuya/model.lua    the Smart Community data and its `/v1.0/iot-02/community` handlers
--   tuya/seed.lua     the seeded world the model starts from (tuya/params.lua: parameter binding)
-- over dwell.sandbox.support (what every emulation shares, never the client's modules).
return require "dwell.sandbox.tuya.gateway"
