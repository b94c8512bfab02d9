--- Document and picture uploads for the Rooms API (the vendor swagger's consumes/params):
--
--   rooms.documents.create           POST /rooms/{roomId}/documents            JSON Document,
--                                    the contents base64-encoded in `base64Contents`
--   rooms.documents.contents.create  POST /rooms/{roomId}/documents/contents   multipart/form-data,
--   rooms.picture.update             PUT  /rooms/{roomId}/picture              one part named `file`
--
-- Each takes the contents as a Lua string (`contents` for the JSON call, `file` for the
-- multipart ones, as the swagger names them) or `path`, a file dwell reads before any I/O.
-- Limits (docs/vendors/rooms.md §8): 35 MB per upload, 40 MB per request. Base64 makes the JSON body 4/3 of
-- the contents, so the JSON call takes at most 30 MB; the multipart calls take 35 MB.
local core = require "dwell.core"

local M = {}

local MB = 1024 * 1024
M.MAX_UPLOAD = 35 * MB
M.MAX_JSON_CONTENTS = 30 * MB

local TYPES = { pdf = "application/pdf", doc = "application/msword",
  docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xls = "application/vnd.ms-excel", xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ppt = "application/vnd.ms-powerpoint",
  pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  rtf = "application/rtf", txt = "text/plain", csv = "text/csv", htm = "text/html", html = "text/html",
  xml = "application/xml", zip = "application/zip", jpg = "image/jpeg", jpeg = "image/jpeg", png = "image/png",
  gif = "image/gif", bmp = "image/bmp", tif = "image/tiff", tiff = "image/tiff", heic = "image/heic",
  webp = "image/webp" }

--- The media type for a file name, from its extension (application/octet-stream when unknown).
function M.content_type(name)
  local ext = tostring(name or ""):match("%.([%w]+)$")
  return ext and TYPES[ext:lower()] or "application/octet-stream"
end

--- The last path segment of `path` ("a/b/offer.pdf" -> "offer.pdf").
function M.basename(path)
  return (tostring(path):match("([^/\\]+)[/\\]*$")) or tostring(path)
end

-- The contents of the file at `path`, or nil and the rule it breaks.
local function read(path, max)
  if type(path) ~= "string" or path == "" then return nil, "must be a file path (a non-empty string)" end
  local f, err = io.open(path, "rb")
  if not f then return nil, "cannot be read: " .. tostring(err) end
  local size = f:seek("end")
  if size and size > max then
    f:close()
    return nil, "names a file of " .. size .. " bytes; at most " .. max .. " can be uploaded this way"
  end
  f:seek("set")
  local data = f:read("a")
  f:close()
  if data == nil then return nil, "cannot be read" end
  return data
end

local function given(args, name, wire)
  if args[name] ~= nil then return args[name], name end
  if wire and args[wire] ~= nil then return args[wire], wire end
  return nil
end

--- The declaration's `prepare` for a multipart upload whose part is the parameter `part`
-- ("file"): `path` is read into it, and names the part's file unless file_name says otherwise.
function M.multipart(part)
  return function(args)
    local path = given(args, "path")
    local data = given(args, part)
    if path ~= nil then
      if data ~= nil then return "path", "give " .. part .. " (the contents) or path (a file to read), not both" end
      local rule
      data, rule = read(path, M.MAX_UPLOAD)
      if not data then return "path", rule end
      args[part] = data
      if given(args, "file_name") == nil then args.file_name = M.basename(path) end
    elseif data == nil then
      return part, "is required: the contents as a Lua string, or path = a file to read"
    end
    return nil
  end
end

--- The declaration's `prepare` for rooms.documents.create: one of `contents` (raw bytes, sent
-- base64-encoded), `path` (a file read and sent the same way; its name is the document's unless
-- `name` is given) or `base64_contents` (already encoded, sent as given).
function M.json_document(args)
  local encoded, enc_key = given(args, "base64_contents", "base64Contents")
  local contents = given(args, "contents")
  local path = given(args, "path")
  local sources = (encoded ~= nil and 1 or 0) + (contents ~= nil and 1 or 0) + (path ~= nil and 1 or 0)
  if sources > 1 then
    return "contents", "give one of contents (the bytes), path (a file to read) or base64_contents, not several"
  end
  if sources == 0 then
    return "contents", "is required: the document as a Lua string, path = a file to read, or base64_contents"
  end
  if encoded ~= nil then
    if enc_key ~= "base64_contents" then args.base64_contents, args[enc_key] = encoded, nil end
    return nil
  end
  if path ~= nil then
    local rule
    contents, rule = read(path, M.MAX_JSON_CONTENTS)
    if not contents then return "path", rule end
    if given(args, "name") == nil then args.name = M.basename(path) end
  elseif type(contents) ~= "string" then
    return "contents", "must be the document as a Lua string (got " .. type(contents) .. ")"
  elseif #contents > M.MAX_JSON_CONTENTS then
    return "contents", "must be at most " .. M.MAX_JSON_CONTENTS .. " bytes (got " .. #contents
      .. "); rooms.documents.contents.create takes up to " .. M.MAX_UPLOAD
  end
  args.base64_contents = core.base64_encode(contents)
  return nil
end

-- A boundary that does not occur in the contents (RFC 2046 §5.1.1: at most 70 characters).
local function boundary(data)
  while true do
    local b = "dwell-" .. core.random_hex(24)
    if not data:find(b, 1, true) then return b end
  end
end

-- A quoted-string value for Content-Disposition (RFC 7578 §4.2: the name as UTF-8, with " and \
-- escaped; CR and LF are refused by the declaration's check).
local function quoted(s)
  return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

--- body, Content-Type for one file part named `field`.
function M.encode(field, data, file_name, content_type)
  local b = boundary(data)
  local name = file_name or "upload"
  local body = table.concat{ "--", b, "\r\n",
    "Content-Disposition: form-data; name=", quoted(field), "; filename=", quoted(name), "\r\n",
    "Content-Type: ", content_type or M.content_type(name), "\r\n\r\n",
    data, "\r\n--", b, "--\r\n" }
  return body, "multipart/form-data; boundary=" .. b
end

return M
