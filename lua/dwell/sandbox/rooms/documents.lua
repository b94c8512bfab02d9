--- The Rooms sandbox's room documents: each room's folders (Documents, the default, Contracts,
-- Disclosures, Photos), documents added as JSON (base64Contents) or uploaded as
-- multipart/form-data (one part named "file"), listed (folder, name, archived, dynamic filters),
-- read (includeContents gives base64Contents), deleted and shared with room users; library forms
-- added to a room as dynamic documents; envelopes made from room documents; the room picture.
-- Limits (docs/vendors/rooms.md §8): 35 MB per upload, 25 MB of documents per envelope.
local core = require "dwell.core"
local forms = require "dwell.sandbox.rooms.forms"
local gateway = require "dwell.sandbox.rooms.gateway"
local params = require "dwell.sandbox.rooms.params"

local M = {}

local MB = 1024 * 1024
M.MAX_UPLOAD = 35 * MB
M.MAX_ENVELOPE = 25 * MB

local CREATED = "2024-06-02T10:00:00Z"
local FOLDERS = { "Documents", "Contracts", "Disclosures", "Photos" }

local function folders(model, room_id)
  local all = model.data.folders
  if not all[room_id] then
    local list = {}
    for i, name in ipairs(FOLDERS) do
      list[i] = { roomFolderId = room_id * 10 + i, name = name, isDefault = i == 1 }
    end
    all[room_id] = list
  end
  return all[room_id]
end

local function add(model, doc)
  local d = model.data.docs
  doc.documentId = d.next_id
  d.next_id = d.next_id + 1
  doc.size = #doc.contents
  doc.ownerId = doc.ownerId or 5001
  doc.users = doc.users or { [doc.ownerId] = true }
  d.list[#d.list + 1] = doc
  return doc
end

function M.seed(model)
  model.data.folders = {}
  model.data.docs = { list = {}, next_id = 9001 }
  model.data.next_envelope = 1
  local seeded = {
    { 1001, "Listing Agreement.pdf", 2, "application/pdf" },
    { 1001, "Seller Disclosure.pdf", 3, "application/pdf" },
    { 1001, "Inspection Report.pdf", 1, "application/pdf" },
    { 1001, "Front.jpg", 4, "image/jpeg" },
    { 1001, "Old Listing Agreement.pdf", 2, "application/pdf", true },
    { 1002, "Purchase Offer.pdf", 2, "application/pdf" },
  }
  for _, s in ipairs(seeded) do
    add(model, { roomId = s[1], name = s[2], folderId = s[1] * 10 + s[3], contentType = s[4], isArchived = s[5] == true,
      isSigned = false, isDynamic = false, isVirtual = false, createdDate = CREATED,
      contents = "%PDF-1.4\n% sandbox document " .. s[2] .. "\n" })
  end
end

local function find(model, id)
  for i, doc in ipairs(model.data.docs.list) do
    if doc.documentId == id then return doc, i end
  end
  return nil
end

local function owner(model, user_id)
  local p = model.data.people[user_id - 5000]
  if not p then return { userId = user_id } end
  return { userId = user_id, firstName = p.firstName, lastName = p.lastName, companyName = "Dwell Realty",
    imageSrc = "https://images.sandbox.invalid/users/" .. user_id .. ".png" }
end

local ROOM_DOCUMENT = { "documentId", "name", "ownerId", "size", "folderId", "createdDate", "isSigned", "docuSignFormId",
  "isArchived", "isVirtual", "isDynamic" }
local DOCUMENT = { "documentId", "name", "roomId", "ownerId", "size", "folderId", "createdDate", "isSigned", "contentType",
  "isDynamic" }

local function room_document(model, doc)
  local v = params.copy(doc, ROOM_DOCUMENT)
  v.owner = owner(model, doc.ownerId)
  return v
end

-- The parts of a multipart/form-data body: { name, filename, content_type, data }, or nil, why.
local function quoted_param(disposition, key)
  local s, e = disposition:find(";%s*" .. key .. '="')
  if not s then return nil end
  local out, i = {}, e + 1
  while i <= #disposition do
    local c = disposition:sub(i, i)
    if c == "\\" then out[#out + 1] = disposition:sub(i + 1, i + 1); i = i + 2
    elseif c == '"' then return table.concat(out)
    else out[#out + 1] = c; i = i + 1 end
  end
  return nil
end

function M.multipart(req)
  local ctype = req.headers["content-type"] or ""
  if not ctype:lower():match("^multipart/form%-data") then return nil, "the body must be multipart/form-data" end
  local boundary = ctype:match('[Bb]oundary="([^"]+)"') or ctype:match("[Bb]oundary=([^;%s]+)")
  if not boundary then return nil, "the multipart Content-Type has no boundary" end
  local body, delim = req.body or "", "--" .. boundary
  local parts = {}
  local s, e = body:find(delim, 1, true)
  if not s then return nil, "the body has no part" end
  local pos = e + 1
  while body:sub(pos, pos + 1) ~= "--" do
    if body:sub(pos, pos + 1) ~= "\r\n" then return nil, "a part boundary is not followed by CRLF" end
    local head_end = body:find("\r\n\r\n", pos + 2, true)
    if not head_end then return nil, "a part has no header end" end
    local headers = {}
    for line in body:sub(pos + 2, head_end + 1):gmatch("(.-)\r\n") do
      local k, v = line:match("^([^:]+):%s*(.-)%s*$")
      if k then headers[k:lower()] = v end
    end
    local stop = body:find("\r\n" .. delim, head_end + 4, true)
    if not stop then return nil, "a part is not terminated by the boundary" end
    local disposition = headers["content-disposition"] or ""
    parts[#parts + 1] = { name = quoted_param(disposition, "name"), filename = quoted_param(disposition, "filename"),
      content_type = headers["content-type"], data = body:sub(head_end + 4, stop - 1) }
    pos = stop + 2 + #delim
  end
  return parts
end

-- The one file part named "file" of an upload, or the 400 to answer.
local function file_part(req)
  local parts, why = M.multipart(req)
  if not parts then return nil, gateway.error(400, "INVALID_REQUEST_BODY", why) end
  for _, p in ipairs(parts) do
    if p.name == "file" then
      if not p.filename or p.filename == "" then return nil, gateway.bad("the file part has no filename") end
      if #p.data > M.MAX_UPLOAD then
        return nil, gateway.error(400, "FILE_SIZE_LIMIT_EXCEEDED", "An upload may be at most 35 MB.")
      end
      return p
    end
  end
  return nil, gateway.bad("the form has no part named file")
end

function M.routes(model, account)
  local h = {}

  local function room_of(req)
    local room = model.data.room_by_id[params.id(req.captures.roomId)]
    if not room then return nil, gateway.not_found("room", "ROOM_NOT_FOUND") end
    return room
  end

  local function doc_of(req)
    local doc = find(model, params.id(req.captures.documentId))
    if not doc then return nil, gateway.not_found("document", "DOCUMENT_NOT_FOUND") end
    return doc
  end

  local function folder_for(room, folder_id)
    local list = folders(model, room.roomId)
    if folder_id == nil then return list[1].roomFolderId end
    for _, f in ipairs(list) do
      if f.roomFolderId == folder_id then return folder_id end
    end
    return nil
  end

  function h.folders(req)
    local room, s, hd, b = room_of(req)
    if not room then return s, hd, b end
    return params.page(req, folders(model, room.roomId), "folders", function(f)
      return params.copy(f, { "roomFolderId", "name", "isDefault" })
    end)
  end

  function h.list(req)
    local room, s, hd, b = room_of(req)
    if not room then return s, hd, b end
    local p = req.params or {}
    local folder, err = params.int(p, "roomFolderId", nil)
    if err then return gateway.bad(err) end
    local archived
    archived, err = params.bool(p, "includeArchived", true)
    if err then return gateway.bad(err) end
    local need_content
    need_content, err = params.bool(p, "requireContentForDynamicDocuments", false)
    if err then return gateway.bad(err) end
    local filter = p.nameFilter and p.nameFilter:lower()
    local items = {}
    for _, doc in ipairs(model.data.docs.list) do
      local keep = doc.roomId == room.roomId and (not folder or doc.folderId == folder)
        and (archived or not doc.isArchived) and (not filter or doc.name:lower():find(filter, 1, true))
        and not (need_content and doc.isDynamic and doc.contents == "")
      if keep then items[#items + 1] = doc end
    end
    return params.page(req, items, "documents", function(doc) return room_document(model, doc) end)
  end

  function h.add(req, body)
    local room, s, hd, b = room_of(req)
    if not room then return s, hd, b end
    s, hd, b = params.typed(body, { name = "string", base64Contents = "string", folderId = "integer",
      contentType = "string", isSigned = "boolean", roomId = "integer", ownerId = "integer", size = "integer",
      isDynamic = "boolean", documentId = "integer", createdDate = "string" })
    if s then return s, hd, b end
    if type(body.name) ~= "string" or body.name == "" then return gateway.bad("name is required") end
    if type(body.base64Contents) ~= "string" or body.base64Contents == "" then
      return gateway.bad("base64Contents is required")
    end
    if body.roomId ~= nil and body.roomId ~= room.roomId then return gateway.bad("roomId does not match the room") end
    local contents = core.base64_decode(body.base64Contents)
    if not contents then return gateway.bad("base64Contents is not valid base64") end
    if #contents > M.MAX_UPLOAD then
      return gateway.error(400, "FILE_SIZE_LIMIT_EXCEEDED", "An upload may be at most 35 MB.")
    end
    local folder = folder_for(room, body.folderId)
    if not folder then return gateway.bad("folderId is not a folder of the room") end
    local doc = add(model, { roomId = room.roomId, name = body.name, folderId = folder, contents = contents,
      contentType = body.contentType, isSigned = body.isSigned == true, isArchived = false, isDynamic = false,
      isVirtual = false, createdDate = params.now(model) })
    return 201, {}, room_document(model, doc)
  end

  function h.upload(req)
    local room, s, hd, b = room_of(req)
    if not room then return s, hd, b end
    local part
    part, s, hd, b = file_part(req)
    if not part then return s, hd, b end
    local doc = add(model, { roomId = room.roomId, name = part.filename, folderId = folder_for(room, nil),
      contents = part.data, contentType = part.content_type, isSigned = false, isArchived = false, isDynamic = false,
      isVirtual = false, createdDate = params.now(model) })
    return 201, {}, room_document(model, doc)
  end

  function h.get(req)
    local doc, s, hd, b = doc_of(req)
    if not doc then return s, hd, b end
    local with, err = params.bool(req.params or {}, "includeContents", false)
    if err then return gateway.bad(err) end
    local v = params.copy(doc, DOCUMENT)
    -- base64Contents only when asked for (the field's documentation; the model lists it as
    -- required because it doubles as AddDocumentToRoom's request body).
    if with then v.base64Contents = core.base64_encode(doc.contents) end
    return 200, {}, v
  end

  function h.delete(req)
    local doc, s, hd, b = doc_of(req)
    if not doc then return s, hd, b end
    local _, i = find(model, doc.documentId)
    table.remove(model.data.docs.list, i)
    return 204, {}, ""
  end

  function h.share(req, body)
    local doc, s, hd, b = doc_of(req)
    if not doc then return s, hd, b end
    local id = body.userId
    if math.type(id) ~= "integer" then return gateway.bad("userId is required") end
    local room = model.data.room_by_id[doc.roomId]
    local member = false
    for _, u in ipairs(room and room.users or {}) do member = member or u.userId == id end
    if not member and id ~= doc.ownerId then
      return gateway.error(400, "USER_NOT_IN_ROOM", "The user is not a member of the document's room.")
    end
    doc.users[id] = true
    local owner_rights = id == doc.ownerId
    return 201, {}, { userId = id, documentId = doc.documentId, name = doc.name, hasAccess = true,
      canApproveTask = owner_rights, canAssignToTaskList = owner_rights, canCopy = true, canDelete = owner_rights,
      canRemoveFromTaskList = owner_rights, canRemoveApproval = owner_rights, canRename = owner_rights,
      canShare = owner_rights, canViewActivity = true }
  end

  function h.add_form(req, body)
    local room, s, hd, b = room_of(req)
    if not room then return s, hd, b end
    if not params.is_uuid(body.formId) then return gateway.bad("formId is required and must be a GUID") end
    local form = forms.find_form(body.formId)
    if not form then return gateway.error(400, "FORM_NOT_FOUND", "The form is in none of the company's libraries.") end
    local doc = add(model, { roomId = room.roomId, name = form.name, folderId = folder_for(room, nil), contents = "",
      docuSignFormId = form.formId, isSigned = false, isArchived = false, isDynamic = true, isVirtual = false,
      contentType = "application/pdf", createdDate = params.now(model) })
    return 201, {}, room_document(model, doc)
  end

  function h.envelope(req, body)
    local room, s, hd, b = room_of(req)
    if not room then return s, hd, b end
    if type(body.documentIds) ~= "table" or #body.documentIds == 0 then return gateway.bad("documentIds is required") end
    local total = 0
    for _, id in ipairs(body.documentIds) do
      local doc = math.type(id) == "integer" and find(model, id)
      if not doc or doc.roomId ~= room.roomId then
        return gateway.bad("documentIds: " .. tostring(id) .. " is not a document of the room")
      end
      total = total + doc.size
    end
    if total > M.MAX_ENVELOPE then
      return gateway.error(400, "ENVELOPE_SIZE_LIMIT_EXCEEDED", "An envelope's documents may be at most 25 MB.")
    end
    local n = model.data.next_envelope
    model.data.next_envelope = n + 1
    return 201, {}, { eSignEnvelopeId = params.guid(0xe4e10000, n) }
  end

  function h.picture(req)
    local room, s, hd, b = room_of(req)
    if not room then return s, hd, b end
    local part
    part, s, hd, b = file_part(req)
    if not part then return s, hd, b end
    local ctype = (part.content_type or ""):lower()
    local ext = part.filename:lower():match("%.(%w+)$")
    if not ctype:match("^image/") and not ({ jpg = 1, jpeg = 1, png = 1, gif = 1, bmp = 1 })[ext or ""] then
      return gateway.bad("the picture must be an image (jpg, png, gif or bmp)")
    end
    room.picture = { name = part.filename, data = part.data }
    return 200, {}, { url = "https://images.sandbox.invalid/rooms/" .. room.roomId .. "/" .. part.filename:gsub("[^%w.-]", "_") }
  end

  return {
    { "GET", account .. "/rooms/{roomId}/room_folders", h.folders },
    { "GET", account .. "/rooms/{roomId}/documents", h.list },
    { "POST", account .. "/rooms/{roomId}/documents", h.add, true },
    { "POST", account .. "/rooms/{roomId}/documents/contents", h.upload },
    { "GET", account .. "/documents/{documentId}", h.get },
    { "DELETE", account .. "/documents/{documentId}", h.delete },
    { "POST", account .. "/documents/{documentId}/users", h.share, true },
    { "POST", account .. "/rooms/{roomId}/forms", h.add_form, true },
    { "POST", account .. "/rooms/{roomId}/envelopes", h.envelope, true },
    { "PUT", account .. "/rooms/{roomId}/picture", h.picture },
  }
end

return M
