--- Just enough DER to turn an RSA JWK into PEM keys, so that specs can use
-- published JWK test keys (RFC 7515 Appendix A.2) with OpenSSL, which has no
-- JWK reader. Only definite-length, short-form tags; no parsing.
local core = require "dwell.core"

local M = {}

local function len_bytes(n)
  if n < 0x80 then return string.char(n) end
  local out = ""
  while n > 0 do
    out = string.char(n & 0xff) .. out
    n = n >> 8
  end
  return string.char(0x80 | #out) .. out
end

--- One TLV with the given tag byte.
function M.tlv(tag, body)
  return string.char(tag) .. len_bytes(#body) .. body
end

--- INTEGER from unsigned big-endian bytes: minimal, with a 0x00 in front
-- when the top bit is set so that it stays positive.
function M.uint(raw)
  raw = raw:gsub("^%z+", "")
  if raw == "" or raw:byte(1) >= 0x80 then raw = "\0" .. raw end
  return M.tlv(0x02, raw)
end

function M.seq(...)
  return M.tlv(0x30, table.concat({ ... }))
end

--- PEM armour: base64 in 64-column lines between BEGIN/END labels.
function M.pem(label, der)
  local b64 = core.base64_encode(der)
  local lines = {}
  for i = 1, #b64, 64 do lines[#lines + 1] = b64:sub(i, i + 63) end
  return ("-----BEGIN %s-----\n%s\n-----END %s-----\n"):format(label, table.concat(lines, "\n"), label)
end

local function field(jwk, name)
  local raw = assert(core.base64url_decode(jwk[name]), "bad base64url in JWK field " .. name)
  return M.uint(raw)
end

--- PKCS#1 RSAPrivateKey (RFC 8017 A.1.2) as "RSA PRIVATE KEY" PEM.
function M.rsa_private_pem(jwk)
  local der = M.seq(M.uint("\0"), field(jwk, "n"), field(jwk, "e"), field(jwk, "d"), field(jwk, "p"),
    field(jwk, "q"), field(jwk, "dp"), field(jwk, "dq"), field(jwk, "qi"))
  return M.pem("RSA PRIVATE KEY", der)
end

-- AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
local RSA_ALGORITHM = M.seq(M.tlv(0x06, "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"), M.tlv(0x05, ""))

--- SubjectPublicKeyInfo (RFC 5280) as "PUBLIC KEY" PEM.
function M.rsa_public_pem(jwk)
  local rsa_public = M.seq(field(jwk, "n"), field(jwk, "e"))
  return M.pem("PUBLIC KEY", M.seq(RSA_ALGORITHM, M.tlv(0x03, "\0" .. rsa_public)))
end

return M
