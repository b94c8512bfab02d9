--- Shared setup for the rooms specs (not a spec itself): an RSA key pair made
-- with the openssl CLI, a sandbox running the "rooms" route set, a client wired
-- to it, and a virtual clock that moves the sandbox's clock along with it.
local sandbox = require "dwell.sandbox"
local openssl = require "support.openssl"

local M = {}

M.ACCOUNT = "6a1c2d3e-0000-4000-8000-00000000d0c5"
M.IK = "11111111-2222-4333-8444-555555555555"
M.USER = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
M.SECRET = "sandbox-secret-d0c5"
M.REFRESH = "sandbox-refresh-token-0001"

local keys
--- { private = pem, public = pem, other_private = pem } generated once per process.
function M.keys()
  if keys then return keys end
  local dir = openssl.tmpdir()
  local key, other = openssl.rsa_key_pair(dir, "key"), openssl.rsa_key_pair(dir, "other")
  openssl.cleanup(dir)
  keys = { private = key.private, public = key.public, other_private = other.private }
  return keys
end

--- Starts a sandbox with the rooms set; `config` overrides the defaults.
function M.start(config)
  local cfg = { account_id = M.ACCOUNT, integration_key = M.IK, user_id = M.USER, public_key = M.keys().public,
    secret = M.SECRET, refresh_token = M.REFRESH }
  for k, v in pairs(config or {}) do cfg[k] = v end
  return assert(sandbox.start{ routes = { { set = "rooms", config = cfg } } })
end

--- A virtual clock: sleeping advances both it and the sandbox's clock; nothing waits.
function M.clock(sb)
  local c = { offset = 0, slept = {} }
  function c.now() return os.time() + c.offset end
  function c.sleep(s)
    c.slept[#c.slept + 1] = s
    c.offset = c.offset + s
    sb:control("sandbox", "clock", { advance = s })
  end
  return c
end

--- The configuration of a client on the sandbox; `opts` overrides (jwt fields go in opts.jwt).
-- One attempt per call unless `opts.retry` says otherwise: a spec that expects a resend (or a
-- rate-limit wait, which spends an attempt too) asks for it.
function M.config(sb, opts)
  opts = opts or {}
  local cfg = { account_id = M.ACCOUNT, base_url = sb.url .. "/restapi", auth_base_url = sb.url,
    retry = { attempts = 1 } }
  if not (opts.access_token or opts.auth_code or opts.jwt == false) then
    cfg.jwt = { integration_key = M.IK, user_id = M.USER, private_key = M.keys().private,
      scopes = { "signature", "impersonation", "dtr.rooms.read", "dtr.rooms.write" } }
  end
  for k, v in pairs(opts) do
    if k == "jwt" and type(v) == "table" then
      for jk, jv in pairs(v) do cfg.jwt[jk] = jv end
    elseif k ~= "jwt" then
      cfg[k] = v
    end
  end
  return cfg
end

--- A client on the sandbox (see config).
function M.client(sb, opts)
  return assert(require("dwell").rooms(M.config(sb, opts)))
end

--- Requests the sandbox received whose path starts with `prefix` (and method, if given).
function M.requests(sb, prefix, method)
  local out = {}
  for _, r in ipairs(sb:requests()) do
    if r.path:sub(1, #prefix) == prefix and (not method or r.method == method) then out[#out + 1] = r end
  end
  return out
end

return M
