--- Test-time key material from the openssl command line tool, in a private
-- temporary directory that `cleanup` removes.
local M = {}

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.quote = quote

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

--- Runs an openssl command line (arguments already quoted), failing loudly. The tool runs
-- without the sanitizer runtime `make asan` preloads into lua5.4 (its leak check fails openssl).
function M.run(args)
  local ok, how, code = os.execute("env -u LD_PRELOAD -u ASAN_OPTIONS -u LSAN_OPTIONS openssl " .. args
    .. " 2>/dev/null")
  assert(ok, ("openssl %s: %s %s"):format(args, how, code))
end

--- A fresh directory; returns its path.
function M.tmpdir()
  local p = io.popen('mktemp -d "${TMPDIR:-/tmp}/dwell-spec.XXXXXX"')
  local dir = p:read("l")
  p:close()
  assert(dir and dir ~= "", "mktemp -d failed")
  return dir
end

local function genrsa(file)
  M.run("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " .. quote(file))
end

--- A fresh 2048-bit RSA key as { private = PKCS#8 PEM, public = SubjectPublicKeyInfo PEM },
-- made in `dir` under `name`.
function M.rsa_key_pair(dir, name)
  local priv, pub = dir .. "/" .. name .. ".pem", dir .. "/" .. name .. "-pub.pem"
  genrsa(priv)
  M.run("pkey -in " .. quote(priv) .. " -pubout -out " .. quote(pub))
  return { private = read(priv), public = read(pub) }
end

--- Generates one 2048-bit RSA key and every form of it the specs need.
-- Returns a table of PEM strings:
--   pkcs8, pkcs1, pkcs8_encrypted, pkcs1_encrypted (with `passphrase`),
--   public (SubjectPublicKeyInfo), rsa_public (PKCS#1), cert (self-signed X.509)
function M.rsa_key_set(dir, passphrase)
  local function path(name) return quote(dir .. "/" .. name) end
  local pass = quote("pass:" .. passphrase)
  genrsa(dir .. "/p8.pem")
  M.run("pkey -in " .. path("p8.pem") .. " -traditional -out " .. path("p1.pem"))
  M.run("pkey -in " .. path("p8.pem") .. " -aes-256-cbc -passout " .. pass .. " -out " .. path("p8e.pem"))
  M.run("pkey -in " .. path("p8.pem") .. " -traditional -aes256 -passout " .. pass .. " -out " .. path("p1e.pem"))
  M.run("pkey -in " .. path("p8.pem") .. " -pubout -out " .. path("pub.pem"))
  M.run("rsa -in " .. path("p8.pem") .. " -RSAPublicKey_out -out " .. path("rsapub.pem"))
  M.run("req -x509 -new -key " .. path("p8.pem") .. " -subj /CN=dwell-test -days 2 -out " .. path("cert.pem"))
  local function get(name) return read(dir .. "/" .. name) end
  return {
    pkcs8 = get("p8.pem"), pkcs1 = get("p1.pem"),
    pkcs8_encrypted = get("p8e.pem"), pkcs1_encrypted = get("p1e.pem"),
    public = get("pub.pem"), rsa_public = get("rsapub.pem"), cert = get("cert.pem"),
  }
end

--- A self-signed certificate for CN=`cn` with a fresh unencrypted RSA key, written to
-- cert_path and key_path; returns both PEMs. `san`: an optional subjectAltName value.
function M.self_signed(cert_path, key_path, cn, san)
  M.run("req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" .. cn
    .. (san and (" -addext " .. quote("subjectAltName=" .. san)) or "")
    .. " -keyout " .. quote(key_path) .. " -out " .. quote(cert_path))
  return read(cert_path), read(key_path)
end

--- An EC P-256 private and public key pair (for "not an RSA key" checks).
function M.ec_key_pair(dir)
  local priv, pub = quote(dir .. "/ec.pem"), quote(dir .. "/ecpub.pem")
  M.run("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " .. priv)
  M.run("pkey -in " .. priv .. " -pubout -out " .. pub)
  return read(dir .. "/ec.pem"), read(dir .. "/ecpub.pem")
end

function M.cleanup(dir)
  -- only ever a directory that tmpdir made
  if dir and dir:match("/dwell%-spec%.%w+$") then os.execute("rm -rf " .. quote(dir)) end
end

M.read = read
return M
