--- A structural check of PEM certificates and keys before they reach
-- libmicrohttpd: GnuTLS 3.7.9 leaks memory when asked to parse a certificate
-- that is not DER inside, and a check here also gives a clearer message.
local M = {}

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local VALUE = {}
for i = 1, #B64 do VALUE[B64:byte(i)] = i - 1 end

local function base64_decode(s)
  s = s:gsub("%s", "")
  if #s % 4 ~= 0 or s:find("[^%w+/=]") or s:find("=[^=]") then return nil end
  local out = {}
  for i = 1, #s, 4 do
    local a, b, c, d = s:byte(i, i + 3)
    local n = (VALUE[a] << 18) | (VALUE[b] << 12) | ((VALUE[c] or 0) << 6) | (VALUE[d] or 0)
    out[#out + 1] = string.char((n >> 16) & 255, (n >> 8) & 255, n & 255)
      :sub(1, c == 61 and 1 or d == 61 and 2 or 3)
  end
  return table.concat(out)
end

-- Total length (header included) and header length of the DER SEQUENCE at
-- `pos`, or nil.
local function der_sequence(der, pos)
  if der:byte(pos) ~= 0x30 then return nil end
  local first = der:byte(pos + 1)
  if not first then return nil end
  if first < 0x80 then return 2 + first, 2 end
  local count = first - 0x80
  if count < 1 or count > 4 then return nil end
  local len = 0
  for i = 1, count do
    local b = der:byte(pos + 1 + i)
    if not b then return nil end
    len = (len << 8) | b
  end
  return 2 + count + len, 2 + count
end

--- Returns true if `pem` has a PEM block whose DER is one SEQUENCE (keys) that
-- starts with a SEQUENCE when `is_cert` (the tbsCertificate); else nil, reason.
function M.check(pem, is_cert)
  local body = pem:match("%-%-%-%-%-BEGIN [%u ]+%-%-%-%-%-\r?\n(.-)%-%-%-%-%-END [%u ]+%-%-%-%-%-")
  if not body then return nil, "no PEM block" end
  body = body:gsub("[%w-]+: [^\n]*\n", "") -- headers of legacy encrypted keys
  local der = base64_decode(body)
  if not der then return nil, "bad base64 in the PEM block" end
  local total, header = der_sequence(der, 1)
  if total ~= #der then return nil, "the PEM block does not hold DER" end
  local inner = not is_cert or der_sequence(der, header + 1)
  if not inner or (is_cert and header + inner > total) then
    return nil, "the PEM block does not hold an X.509 certificate"
  end
  return true
end

return M
