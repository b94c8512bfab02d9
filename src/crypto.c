/* Hashing, HMAC, base64, secure random and RS256 for dwell.core, on
 * OpenSSL 3's EVP interfaces.
 *
 * Argument misuse raises (luaL_check*); a bad key, a wrong passphrase or
 * undecodable input returns `nil, message`. OpenSSL objects live in a
 * "key scratch" userdata created before they are acquired, so that a Lua
 * error at any point (even out of memory) still frees them through __gc. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "dwell.h"

#define SCRATCH_MT "dwell.crypto.scratch"
#define DIGEST_MT "dwell.crypto.digest"
#define MAX_RANDOM_BYTES (1 << 20)

static const char HEX_LOWER[] = "0123456789abcdef";
static const char HEX_UPPER[] = "0123456789ABCDEF";

/* Writes 2n hex digits of p[0..n) to out. out may be p - n (random_hex
 * expands in place): byte i is read before out[2i], out[2i+1] are written,
 * and those never reach a byte not yet read. */
static void hex_into(char *out, const unsigned char *p, size_t n, const char *digits) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char v = p[i];
    out[2 * i] = digits[v >> 4];
    out[2 * i + 1] = digits[v & 15];
  }
}

static void push_hex(lua_State *L, const unsigned char *p, size_t n, int upper) {
  char out[2 * EVP_MAX_MD_SIZE];
  hex_into(out, p, n, upper ? HEX_UPPER : HEX_LOWER);
  lua_pushlstring(L, out, 2 * n);
}

/* ---- digests ---------------------------------------------------------- */

/* SHA-256 fetched from the default provider once per Lua state, held by a
 * userdata that every crypto function has as upvalue 1 and that frees it in
 * __gc. EVP_sha256() makes every digest init look the algorithm up again,
 * which costs more than hashing a short message; HMAC() does that three times
 * per call. */
typedef struct {
  EVP_MD *md;
} digest_t;

static int digest_gc(lua_State *L) {
  digest_t *d = luaL_checkudata(L, 1, DIGEST_MT);
  EVP_MD_free(d->md);
  d->md = NULL;
  return 0;
}

static const EVP_MD *sha256_md(lua_State *L) {
  digest_t *d = lua_touserdata(L, lua_upvalueindex(1));
  return d && d->md ? d->md : EVP_sha256();
}

static void sha256(lua_State *L, unsigned char out[32]) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  unsigned int len = 0;
  if (!EVP_Digest(s, n, out, &len, sha256_md(L), NULL))
    luaL_error(L, "dwell.core: SHA-256 failed");
}

/* HMAC-SHA256 (RFC 2104) over the fetched digest; returns 1 on success. */
static int hmac_sha256_into(const EVP_MD *md, const unsigned char *key, size_t klen,
                            const unsigned char *msg, size_t n, unsigned char out[32]) {
  unsigned char k[64], pad[64], inner[32];
  unsigned int len = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t i;
  int ok = ctx != NULL;
  memset(k, 0, sizeof k);
  if (ok && klen > sizeof k) ok = EVP_Digest(key, klen, k, &len, md, NULL);
  else if (klen) memcpy(k, key, klen);
  for (i = 0; i < sizeof pad; i++) pad[i] = (unsigned char)(k[i] ^ 0x36);
  ok = ok && EVP_DigestInit_ex2(ctx, md, NULL) && EVP_DigestUpdate(ctx, pad, sizeof pad) &&
       EVP_DigestUpdate(ctx, msg, n) && EVP_DigestFinal_ex(ctx, inner, &len);
  for (i = 0; i < sizeof pad; i++) pad[i] = (unsigned char)(k[i] ^ 0x5c);
  ok = ok && EVP_DigestInit_ex2(ctx, md, NULL) && EVP_DigestUpdate(ctx, pad, sizeof pad) &&
       EVP_DigestUpdate(ctx, inner, sizeof inner) && EVP_DigestFinal_ex(ctx, out, &len);
  EVP_MD_CTX_free(ctx);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(inner, sizeof inner);
  return ok;
}

static int c_sha256(lua_State *L) {
  unsigned char md[32];
  sha256(L, md);
  lua_pushlstring(L, (const char *)md, sizeof md);
  return 1;
}

static int c_sha256_hex(lua_State *L) {
  unsigned char md[32];
  sha256(L, md);
  push_hex(L, md, sizeof md, 0);
  return 1;
}

static void hmac_sha256(lua_State *L, unsigned char out[32]) {
  size_t klen, n;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *msg = luaL_checklstring(L, 2, &n);
  if (!hmac_sha256_into(sha256_md(L), (const unsigned char *)key, klen, (const unsigned char *)msg, n, out))
    luaL_error(L, "dwell.core: HMAC-SHA256 failed");
}

static int c_hmac_sha256(lua_State *L) {
  unsigned char md[32];
  hmac_sha256(L, md);
  lua_pushlstring(L, (const char *)md, sizeof md);
  return 1;
}

/* hmac_sha256_hex(key, msg [, upper]) */
static int c_hmac_sha256_hex(lua_State *L) {
  unsigned char md[32];
  hmac_sha256(L, md);
  push_hex(L, md, sizeof md, lua_toboolean(L, 3));
  return 1;
}

/* hex(raw [, upper]) */
static int c_hex(lua_State *L) {
  size_t n;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
  const char *digits = lua_toboolean(L, 2) ? HEX_UPPER : HEX_LOWER;
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, 2 * n);
  hex_into(out, s, n, digits);
  luaL_pushresultsize(&b, 2 * n);
  return 1;
}

/* constant_eq(a, b): comparison whose time does not depend on where the
 * strings differ, for checking signatures and tokens. */
static int c_constant_eq(lua_State *L) {
  size_t na, nb;
  const char *a = luaL_checklstring(L, 1, &na);
  const char *b = luaL_checklstring(L, 2, &nb);
  lua_pushboolean(L, na == nb && CRYPTO_memcmp(a, b, na) == 0);
  return 1;
}

/* ---- base64 (RFC 4648) ------------------------------------------------- */

static const char B64_STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64_URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_encode(lua_State *L, const char *alphabet, int pad) {
  size_t n, i, o = 0;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, 4 * ((n + 2) / 3));
  for (i = 0; i + 2 < n; i += 3) {
    unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
    out[o++] = alphabet[v >> 18];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = alphabet[(v >> 6) & 63];
    out[o++] = alphabet[v & 63];
  }
  if (i < n) {
    unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
    out[o++] = alphabet[v >> 18];
    out[o++] = alphabet[(v >> 12) & 63];
    if (i + 1 < n) out[o++] = alphabet[(v >> 6) & 63];
    else if (pad) out[o++] = '=';
    if (pad) out[o++] = '=';
  }
  luaL_pushresultsize(&b, o);
  return 1;
}

static int b64_value(const char *alphabet, unsigned char c) {
  const char *p = c ? strchr(alphabet, c) : NULL;
  return p ? (int)(p - alphabet) : -1;
}

/* Strict decoding: only the alphabet's characters, padding only at the end
 * and only as much as the length needs (required for the standard form,
 * optional for the url form), no whitespace, and unused bits zero. */
static int b64_decode(lua_State *L, const char *alphabet, int pad_required) {
  size_t n, i, o = 0, data_len, pad = 0;
  const char *s = luaL_checklstring(L, 1, &n);
  while (pad < 2 && pad < n && s[n - 1 - pad] == '=') pad++;
  data_len = n - pad;
  if (pad_required ? (n % 4 != 0) : (pad && n % 4 != 0))
    return dwell_fail(L, "base64: length %d is not a multiple of 4", (int)n);
  if (data_len % 4 == 1)
    return dwell_fail(L, "base64: truncated input");
  {
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, data_len / 4 * 3 + 3);
    unsigned acc = 0;
    int bits = 0;
    for (i = 0; i < data_len; i++) {
      int v = b64_value(alphabet, (unsigned char)s[i]);
      if (v < 0) {
        luaL_pushresultsize(&b, 0);
        return dwell_fail(L, "base64: invalid character at byte %d", (int)i + 1);
      }
      acc = (acc << 6) | (unsigned)v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[o++] = (char)((acc >> bits) & 0xff);
      }
    }
    if (bits && (acc & ((1u << bits) - 1))) {
      luaL_pushresultsize(&b, 0);
      return dwell_fail(L, "base64: non-zero padding bits");
    }
    luaL_pushresultsize(&b, o);
  }
  return 1;
}

static int c_base64_encode(lua_State *L) { return b64_encode(L, B64_STD, 1); }
static int c_base64_decode(lua_State *L) { return b64_decode(L, B64_STD, 1); }
static int c_base64url_encode(lua_State *L) { return b64_encode(L, B64_URL, 0); }
static int c_base64url_decode(lua_State *L) { return b64_decode(L, B64_URL, 0); }

/* ---- random ------------------------------------------------------------- */

static void random_into(lua_State *L, unsigned char *p, lua_Integer n) {
  if (n > 0 && RAND_bytes(p, (int)n) != 1)
    luaL_error(L, "dwell.core: the system random generator failed");
}

static lua_Integer check_random_count(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 0 && n <= MAX_RANDOM_BYTES, 1, "byte count must be 0..1048576");
  return n;
}

static int c_random_bytes(lua_State *L) {
  lua_Integer n = check_random_count(L);
  luaL_Buffer b;
  unsigned char *p = (unsigned char *)luaL_buffinitsize(L, &b, (size_t)n);
  random_into(L, p, n);
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

/* random_hex(n): n random bytes as 2n lowercase hex digits. */
static int c_random_hex(lua_State *L) {
  lua_Integer n = check_random_count(L);
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, (size_t)n * 2);
  random_into(L, (unsigned char *)p + n, n); /* fill the upper half, expand downwards */
  hex_into(p, (const unsigned char *)p + n, (size_t)n, HEX_LOWER);
  luaL_pushresultsize(&b, (size_t)n * 2);
  return 1;
}

/* ---- RS256 ------------------------------------------------------------- */

typedef struct {
  BIO *bio;
  EVP_PKEY *pkey;
  EVP_MD_CTX *md;
  X509 *cert;
} Scratch;

static int scratch_gc(lua_State *L) {
  Scratch *s = (Scratch *)luaL_checkudata(L, 1, SCRATCH_MT);
  BIO_free(s->bio);
  EVP_PKEY_free(s->pkey);
  EVP_MD_CTX_free(s->md);
  X509_free(s->cert);
  memset(s, 0, sizeof *s);
  return 0;
}

static Scratch *new_scratch(lua_State *L) {
  Scratch *s = (Scratch *)lua_newuserdatauv(L, sizeof(Scratch), 0);
  memset(s, 0, sizeof *s);
  luaL_setmetatable(L, SCRATCH_MT);
  return s;
}

typedef struct {
  const char *pass;
  size_t len;
  int asked;
} Passphrase;

/* Never prompts on a terminal: without a passphrase an encrypted key fails. */
static int passphrase_cb(char *buf, int size, int rwflag, void *u) {
  Passphrase *p = (Passphrase *)u;
  (void)rwflag;
  p->asked = 1;
  if (!p->pass || p->len > (size_t)size) return -1;
  memcpy(buf, p->pass, p->len);
  return (int)p->len;
}

/* Pushes `nil, "<what>: <openssl reason>"`, clearing OpenSSL's error queue. */
static int openssl_fail(lua_State *L, const char *what) {
  unsigned long e = ERR_peek_last_error();
  const char *reason = e ? ERR_reason_error_string(e) : NULL;
  ERR_clear_error();
  return dwell_fail(L, "%s%s%s", what, reason ? ": " : "", reason ? reason : "");
}

static BIO *pem_bio(lua_State *L, Scratch *s, int idx) {
  size_t n;
  const char *pem = luaL_checklstring(L, idx, &n);
  luaL_argcheck(L, n < 0x7fffffff, idx, "key too large");
  s->bio = BIO_new_mem_buf(pem, (int)n);
  if (!s->bio) luaL_error(L, "dwell.core: out of memory");
  return s->bio;
}

/* rs256_sign(private_key_pem, message [, passphrase]) -> signature | nil, err */
static int c_rs256_sign(lua_State *L) {
  size_t n, siglen = 0;
  const char *msg = luaL_checklstring(L, 2, &n);
  Passphrase pw = {NULL, 0, 0};
  Scratch *s;
  if (!lua_isnoneornil(L, 3)) pw.pass = luaL_checklstring(L, 3, &pw.len);
  /* OpenSSL's reason for text without any PEM block is just "unsupported". */
  if (!strstr(luaL_checkstring(L, 1), "-----BEGIN "))
    return dwell_fail(L, "not a PEM private key (PKCS#1 or PKCS#8 expected): no BEGIN line");
  s = new_scratch(L);
  ERR_clear_error();
  s->pkey = PEM_read_bio_PrivateKey(pem_bio(L, s, 1), NULL, passphrase_cb, &pw);
  if (!s->pkey) {
    if (pw.asked && !pw.pass) {
      ERR_clear_error();
      return dwell_fail(L, "private key is encrypted and no passphrase was given");
    }
    if (pw.asked) {
      ERR_clear_error();
      return dwell_fail(L, "wrong passphrase for the private key (or the key is corrupt)");
    }
    return openssl_fail(L, "not a PEM private key (PKCS#1 or PKCS#8 expected)");
  }
  if (!EVP_PKEY_is_a(s->pkey, "RSA"))
    return dwell_fail(L, "private key is not an RSA key (RS256 needs RSA)");
  if (!(s->md = EVP_MD_CTX_new())) luaL_error(L, "dwell.core: out of memory");
  if (EVP_DigestSignInit(s->md, NULL, EVP_sha256(), NULL, s->pkey) != 1 ||
      EVP_DigestSign(s->md, NULL, &siglen, (const unsigned char *)msg, n) != 1)
    return openssl_fail(L, "RS256 signing failed");
  {
    luaL_Buffer b;
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, siglen);
    if (EVP_DigestSign(s->md, out, &siglen, (const unsigned char *)msg, n) != 1)
      return openssl_fail(L, "RS256 signing failed");
    luaL_pushresultsize(&b, siglen);
  }
  return 1;
}

/* Reads an SPKI public key, or failing that an X.509 certificate's key. */
static int load_public_key(lua_State *L, Scratch *s) {
  BIO *bio = pem_bio(L, s, 1);
  s->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
  if (s->pkey) return 1;
  ERR_clear_error();
  if (BIO_reset(bio) != 1) return 0;
  s->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  if (!s->cert) return 0;
  s->pkey = X509_get_pubkey(s->cert);
  return s->pkey != NULL;
}

/* rs256_verify(public_key_or_cert_pem, message, signature) -> boolean | nil, err */
static int c_rs256_verify(lua_State *L) {
  size_t n, siglen;
  const char *msg = luaL_checklstring(L, 2, &n);
  const char *sig = luaL_checklstring(L, 3, &siglen);
  Scratch *s;
  int ok;
  luaL_checkstring(L, 1);
  s = new_scratch(L);
  ERR_clear_error();
  if (!load_public_key(L, s))
    return openssl_fail(L, "not a PEM public key or X.509 certificate");
  if (!EVP_PKEY_is_a(s->pkey, "RSA"))
    return dwell_fail(L, "public key is not an RSA key (RS256 needs RSA)");
  if (!(s->md = EVP_MD_CTX_new())) luaL_error(L, "dwell.core: out of memory");
  if (EVP_DigestVerifyInit(s->md, NULL, EVP_sha256(), NULL, s->pkey) != 1)
    return openssl_fail(L, "RS256 verification failed");
  ok = EVP_DigestVerify(s->md, (const unsigned char *)sig, siglen, (const unsigned char *)msg, n);
  ERR_clear_error(); /* a bad signature leaves reasons in the queue */
  lua_pushboolean(L, ok == 1);
  return 1;
}

static const luaL_Reg crypto_funcs[] = {
  {"sha256", c_sha256},
  {"sha256_hex", c_sha256_hex},
  {"hmac_sha256", c_hmac_sha256},
  {"hmac_sha256_hex", c_hmac_sha256_hex},
  {"hex", c_hex},
  {"constant_eq", c_constant_eq},
  {"base64_encode", c_base64_encode},
  {"base64_decode", c_base64_decode},
  {"base64url_encode", c_base64url_encode},
  {"base64url_decode", c_base64url_decode},
  {"random_bytes", c_random_bytes},
  {"random_hex", c_random_hex},
  {"rs256_sign", c_rs256_sign},
  {"rs256_verify", c_rs256_verify},
  {NULL, NULL}
};

void dwell_crypto_register(lua_State *L) {
  if (luaL_newmetatable(L, SCRATCH_MT)) {
    lua_pushcfunction(L, scratch_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, scratch_gc);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  /* The userdata exists (with its __gc) before the digest is fetched. */
  digest_t *d = lua_newuserdatauv(L, sizeof *d, 0);
  d->md = NULL;
  if (luaL_newmetatable(L, DIGEST_MT)) {
    lua_pushcfunction(L, digest_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  d->md = EVP_MD_fetch(NULL, "SHA256", NULL); /* NULL: fall back to EVP_sha256() */
  luaL_setfuncs(L, crypto_funcs, 1);
}
