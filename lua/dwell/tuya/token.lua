--- The Tuya access-token lifecycle (NOTES.md §4): obtained on first use, cached, refreshed
-- ahead of expiry with the single-use refresh token (falling back to a fresh grant), and
-- single-flight: callers that find the token stale while another coroutine is already
-- renewing it wait on the lock and then use the token it obtained.
--
-- Tokens never leave this module except to the signer; `info()` is the secret-free view.
local M = {}

local Tokens = {}
Tokens.__index = Tokens
Tokens.__name = "dwell.tuya.tokens"

function Tokens.__tostring()
  return "dwell.tuya.tokens (secrets hidden)"
end

--- In-memory store, one per client. An external store ({ get = fn(key), set = fn(key, tok) })
-- can be shared between clients with the same client_id (NOTES §4.3: one store per client_id,
-- since a refresh by one holder invalidates the others' tokens).
local function memory_store()
  local slot = {}
  return { get = function(_, key) return slot[key] end, set = function(_, key, tok) slot[key] = tok end }
end

--- opts: fetch(kind, refresh_token) -> result, err (kind "grant" | "refresh"; result holds
-- access_token, refresh_token, expire_time|expire, uid); now() -> seconds; lock (transport.lock());
-- margin (seconds renewed ahead of expiry, default 60); store; key.
function M.new(opts)
  return setmetatable({
    fetch = opts.fetch, now = opts.now, lock = opts.lock, margin = opts.margin or 60,
    store = opts.store or memory_store(), key = opts.key or "default", gen = 0,
    stats = { grants = 0, refreshes = 0, failed_refreshes = 0 },
  }, Tokens)
end

function Tokens:current()
  return self.store:get(self.key)
end

local function fresh(self, tok)
  return tok ~= nil and not tok.stale and self.now() < tok.refresh_at
end

local function alive(self, tok)
  return tok ~= nil and not tok.stale and self.now() < tok.expires_at
end

local function make(self, result)
  local ttl = tonumber(result.expire_time) or tonumber(result.expire) or 7200
  self.gen = self.gen + 1
  local now = self.now()
  -- Renew `margin` seconds early, but never earlier than half-way through the token's life,
  -- so a short-lived token is not renewed on every call.
  return {
    access_token = result.access_token, refresh_token = result.refresh_token, uid = result.uid,
    expires_at = now + ttl, refresh_at = now + ttl - math.min(self.margin, ttl / 2), gen = self.gen,
  }
end

local function valid_result(result)
  return type(result) == "table" and type(result.access_token) == "string" and result.access_token ~= ""
end

-- Runs under the lock: renew unless another holder already did while we waited.
local function renew(self, seen_gen)
  local cur = self:current()
  if fresh(self, cur) or (cur and cur.gen ~= seen_gen and alive(self, cur)) then return cur end
  local result, err
  if cur and cur.refresh_token then
    local rt = cur.refresh_token
    cur.refresh_token = nil -- single-use: never sent twice, whatever the outcome
    -- A failed refresh falls back to a fresh grant (NOTES §4.3); its error is not the one reported.
    result = self.fetch("refresh", rt)
    if valid_result(result) then
      self.stats.refreshes = self.stats.refreshes + 1
    else
      self.stats.failed_refreshes = self.stats.failed_refreshes + 1
      result = nil
    end
  end
  if not result then
    result, err = self.fetch("grant")
    if not valid_result(result) then
      return nil, err or require("dwell.error").new{ kind = "decode", vendor = "tuya",
        endpoint = "token.get", message = "token response has no access_token" }
    end
    self.stats.grants = self.stats.grants + 1
  end
  local tok = make(self, result)
  self.store:set(self.key, tok)
  return tok
end

--- A usable token, renewing it first when needed: tok | nil, dwell.error.
function Tokens:get()
  local cur = self:current()
  if fresh(self, cur) then return cur end
  local seen = cur and cur.gen
  local ok, tok, err = pcall(function()
    return self.lock:with(function() return renew(self, seen) end)
  end)
  if not ok then error(tok, 0) end
  return tok, err
end

--- Marks `access_token` unusable (the gateway answered 1010/1011/1012) unless it was already replaced.
function Tokens:invalidate(access_token)
  local cur = self:current()
  if cur and (access_token == nil or cur.access_token == access_token) then cur.stale = true end
end

--- Secret-free view for diagnostics.
function Tokens:info()
  local cur = self:current()
  return {
    has_token = cur ~= nil and not cur.stale,
    expires_in = cur and math.max(0, cur.expires_at - self.now()) or nil,
    uid = cur and cur.uid or nil,
    grants = self.stats.grants, refreshes = self.stats.refreshes,
    failed_refreshes = self.stats.failed_refreshes,
  }
end

return M
