-- HTTPS with a self-signed certificate made at test time by openssl(1).
local sandbox = require "dwell.sandbox"
local support = require "support.shell"
local openssl = require "support.openssl"
local curl = support.curl

describe("sandbox over HTTPS", function()
  local dir, cert, key

  setup(function()
    dir = openssl.tmpdir()
    cert, key = openssl.self_signed(dir .. "/cert.pem", dir .. "/key.pem", "localhost", "DNS:localhost,IP:127.0.0.1")
  end)
  teardown(function() openssl.cleanup(dir) end)

  it("is built with TLS support", function()
    assert.is_true(sandbox.tls_supported())
  end)

  it("serves HTTPS that verifies against the self-signed certificate", function()
    local sb <close> = assert(sandbox.start{ routes = { "static" }, tls = { cert = cert, key = key } })
    assert.truthy(sb.url:find("^https://127%.0%.0%.1:%d+$"))
    local r = curl(("--cacert %s/cert.pem %s/static/16"):format(dir, sb.url))
    assert.are.equal(0, r.rc, r.err)
    assert.are.equal(16, #r.body)
    local byname = curl(("--cacert %s/cert.pem https://localhost:%d/static/3"):format(dir, sb.port))
    assert.are.equal(200, byname.status)
  end)

  it("fails verification for a client that does not trust the certificate", function()
    local sb <close> = assert(sandbox.start{ routes = { "static" }, tls = { cert = cert, key = key } })
    local r = curl(sb.url .. "/static/3")
    assert.are.equal(60, r.rc) -- CURLE_PEER_FAILED_VERIFICATION
  end)

  it("keeps TLS connections alive and injects faults over them", function()
    local sb <close> = assert(sandbox.start{ routes = { "static" }, tls = { cert = cert, key = key },
      faults = { { match = "/static/{n}", every = 2, times = 1, kind = "reset" } } })
    local r = curl(("--cacert %s/cert.pem %s/static/5"):format(dir, sb.url))
    assert.are.equal(0, r.rc)
    local bad = curl(("--cacert %s/cert.pem %s/static/5"):format(dir, sb.url))
    assert.are_not.equal(0, bad.rc)
    assert.are.equal(0, bad.status)
    local two = curl(("--cacert %s/cert.pem %s/static/5 -o /dev/null %s/static/7"):format(dir, sb.url, sb.url),
      "%{num_connects} ")
    assert.are.equal("1 0 ", two.out)
  end)

  it("reports an invalid certificate or key clearly", function()
    local function fails(tls, text)
      local sb, err = sandbox.start{ tls = tls }
      assert.is_nil(sb)
      assert.truthy(err:find(text, 1, true), err)
    end
    fails({ cert = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n", key = key },
      "tls.cert is not a PEM certificate: bad base64")
    fails({ cert = key, key = key }, "tls.cert is not a PEM certificate")
    fails({ cert = cert, key = "not a key" }, "tls.key is not a PEM private key")
    fails({ cert = cert }, "'tls' must be")
    -- A well-formed certificate with somebody else's key: GnuTLS says why.
    local _, other_key = openssl.self_signed(dir .. "/other-cert.pem", dir .. "/other.pem", "other")
    fails({ cert = cert, key = other_key }, "do not match")
  end)
end)
