--- Tuya access tokens (docs/vendors/tuya.md §4) for dwell.credential: a grant, refreshed with the
-- single-use refresh token, both fetched through the pipeline as declared endpoints
-- (token.get, token.refresh) inside the calling request's deadline.
local errors = require "dwell.error"
local envelope = require "dwell.tuya.envelope"

local M = {}

local function token_error(message)
  return errors.new{ kind = "decode", vendor = "tuya", endpoint = "token.get", message = message }
end

-- The token response as a credential entry; read by name whatever raw_keys says.
local function token_entry(result)
  result = envelope.normalize(result)
  if type(result) ~= "table" or type(result.access_token) ~= "string" or result.access_token == "" then
    return nil, token_error("token response has no access_token")
  end
  return { token = result.access_token, uid = result.uid,
    refresh_token = type(result.refresh_token) == "string" and result.refresh_token or nil,
    expires_in = tonumber(result.expire_time) or tonumber(result.expire) or 7200 }
end

-- fetch(current, deadline) for dwell.credential: refresh when there is a refresh token (spent
-- before it is sent, whatever the outcome), else, or when the refresh fails, a fresh grant.
function M.fetch(self, current, deadline)
  local stats = self.stats
  if current and current.refresh_token then
    local rt = current.refresh_token
    current.refresh_token = nil
    self.credential:update(current, deadline)
    local ep = self.tree.token.refresh
    local req = ep:build{ refresh_token = rt }
    local entry = req and token_entry(self.pipeline:execute(ep.spec, req, { deadline = deadline }))
    if entry then
      stats.refreshes = stats.refreshes + 1
      return entry
    end
    stats.failed_refreshes = stats.failed_refreshes + 1
  end
  local ep = self.tree.token.get
  local result, err = self.pipeline:execute(ep.spec, assert(ep:build(nil)), { deadline = deadline })
  if result == nil then return nil, err end
  local entry
  entry, err = token_entry(result)
  if entry then stats.grants = stats.grants + 1 end
  return entry, err
end

return M
