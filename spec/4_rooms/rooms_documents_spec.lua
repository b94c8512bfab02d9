-- Room documents through dwell.rooms against the sandbox: folders, the JSON upload (contents
-- base64-encoded for the caller, from a Lua string or a file), the multipart upload (from a
-- string or a file, binary-safe), what is read back, filters, sharing, deleting, library forms
-- added to a room, envelopes, and the room picture.
local core = require "dwell.core"
local json = core.json
local S = require("support.rooms")

local BINARY = "%PDF-1.7\r\n\0\1\2\255\254 binary \r\n--not-a-boundary\r\n" .. string.rep("\0\255", 64)

local function tmpfile(name, data)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  return path, function() os.remove(path); os.remove(dir) end
end

describe("rooms documents", function()
  local sb, rooms
  before_each(function()
    sb = S.start()
    rooms = S.client(sb)
  end)
  after_each(function() sb:close() end)

  local function last(method)
    local list = S.requests(sb, "/restapi/", method)
    return list[#list]
  end

  local function names(list)
    local out = {}
    for _, d in ipairs(list) do out[#out + 1] = d.name end
    table.sort(out)
    return out
  end

  it("lists a room's folders, the default first", function()
    local folders = assert(rooms.rooms.room_folders.list:all{ room_id = 1001 })
    assert.equal(4, #folders)
    assert.is_true(folders[1].isDefault)
    for i = 2, #folders do assert.is_false(folders[i].isDefault) end
    -- A room created through the API has folders too.
    local room = assert(rooms.rooms.create{ name = "Fresh", role_id = 1 })
    assert.equal(4, #assert(rooms.rooms.room_folders.list:all{ room_id = room.roomId }))
  end)

  it("adds a document from a Lua string as base64 JSON and reads the same bytes back", function()
    local folders = assert(rooms.rooms.room_folders.list:all{ room_id = 1002 })
    local doc = assert(rooms.rooms.documents.create{ room_id = 1002, name = "offer.pdf", contents = BINARY,
      folder_id = folders[3].roomFolderId, content_type = "application/pdf" })
    local sent = last("POST")
    assert.equal("application/json", sent.headers["content-type"])
    local body = json.decode(sent.body)
    assert.equal(core.base64_encode(BINARY), body.base64Contents)
    assert.equal("offer.pdf", body.name)
    assert.is_nil(body.contents)
    assert.equal(#BINARY, doc.size)
    assert.equal(folders[3].roomFolderId, doc.folderId)
    local got = assert(rooms.documents.get{ document_id = doc.documentId, include_contents = true })
    assert.equal(BINARY, core.base64_decode(got.base64Contents))
    assert.equal("application/pdf", got.contentType)
    assert.equal(1002, got.roomId)
    assert.is_nil(assert(rooms.documents.get{ document_id = doc.documentId }).base64Contents)
    local listed = assert(rooms.rooms.documents.list:all{ room_id = 1002, room_folder_id = folders[3].roomFolderId })
    assert.same({ "offer.pdf" }, names(listed))
  end)

  it("adds a document from a file path, named after the file unless told otherwise", function()
    local path, cleanup = tmpfile("Seller Disclosure v2.pdf", BINARY)
    local doc = assert(rooms.rooms.documents.create{ room_id = 1002, path = path })
    local doc2 = assert(rooms.rooms.documents.create{ room_id = 1002, path = path, name = "renamed.pdf" })
    cleanup()
    assert.equal("Seller Disclosure v2.pdf", doc.name)
    assert.equal("renamed.pdf", doc2.name)
    assert.equal(BINARY, core.base64_decode(assert(rooms.documents.get{ document_id = doc.documentId,
      include_contents = true }).base64Contents))
    -- Already-encoded contents go as given.
    local enc = assert(rooms.rooms.documents.create{ room_id = 1002, name = "pre.txt",
      base64_contents = core.base64_encode("pre-encoded") })
    assert.equal("pre-encoded", core.base64_decode(assert(rooms.documents.get{ document_id = enc.documentId,
      include_contents = true }).base64Contents))
  end)

  it("uploads a file as multipart/form-data from a string or a path, binary-safe", function()
    local doc = assert(rooms.rooms.documents.contents.create{ room_id = 1003, file = BINARY, file_name = "scan.pdf" })
    local sent = last("POST")
    assert.equal("/restapi/v2/accounts/" .. S.ACCOUNT .. "/rooms/1003/documents/contents", sent.path)
    local boundary = sent.headers["content-type"]:match("^multipart/form%-data; boundary=(.+)$")
    assert.is_string(boundary)
    assert.truthy(sent.body:find('Content-Disposition: form-data; name="file"; filename="scan.pdf"', 1, true))
    assert.truthy(sent.body:find("Content-Type: application/pdf\r\n\r\n", 1, true))
    assert.equal("scan.pdf", doc.name)
    assert.equal(#BINARY, doc.size)
    assert.equal(BINARY, core.base64_decode(assert(rooms.documents.get{ document_id = doc.documentId,
      include_contents = true }).base64Contents))

    local path, cleanup = tmpfile('odd "name".txt', "plain text\n")
    local doc2 = assert(rooms.rooms.documents.contents.create{ room_id = 1003, path = path, content_type = "text/csv" })
    cleanup()
    assert.equal('odd "name".txt', doc2.name)
    assert.truthy(last("POST").body:find('filename="odd \\"name\\".txt"', 1, true))
    assert.truthy(last("POST").body:find("Content-Type: text/csv\r\n", 1, true))
    assert.same({ "odd \"name\".txt", "scan.pdf" }, names(assert(rooms.rooms.documents.list:all{ room_id = 1003 })))
  end)

  it("filters the room's documents by name and archived state", function()
    local all = assert(rooms.rooms.documents.list:all{ room_id = 1001 })
    assert.equal(5, #all)
    local current = assert(rooms.rooms.documents.list:all{ room_id = 1001, include_archived = false })
    assert.equal("false", last("GET").params.includeArchived)
    assert.equal(4, #current)
    for _, d in ipairs(current) do assert.is_false(d.isArchived) end
    local named = assert(rooms.rooms.documents.list:all{ room_id = 1001, name_filter = "listing" })
    assert.same({ "Listing Agreement.pdf", "Old Listing Agreement.pdf" }, names(named))
    for _, d in ipairs(all) do
      assert.is_table(d.owner)
      assert.equal(d.ownerId, d.owner.userId)
    end
  end)

  it("shares a document with a room user and deletes it", function()
    local docs = assert(rooms.rooms.documents.list:all{ room_id = 1002 })
    local members = assert(rooms.rooms.users.list:all{ room_id = 1002 })
    local share = assert(rooms.documents.users.create{ document_id = docs[1].documentId, user_id = members[1].userId })
    assert.same({ userId = members[1].userId }, json.decode(last("POST").body))
    assert.is_true(share.hasAccess)
    assert.equal(docs[1].documentId, share.documentId)
    local _, err = rooms.documents.users.create{ document_id = docs[1].documentId, user_id = 5299 }
    assert.equal("USER_NOT_IN_ROOM", err.code)

    assert.is_true(rooms.documents.delete{ document_id = docs[1].documentId })
    _, err = rooms.documents.get{ document_id = docs[1].documentId }
    assert.equal("not_found", err.kind)
    assert.equal(#docs - 1, #assert(rooms.rooms.documents.list:all{ room_id = 1002 }))
  end)

  it("adds a library form to a room as a dynamic document", function()
    local lib = assert(rooms.form_libraries.list:all())[1]
    local form = assert(rooms.form_libraries.forms.list:all{ form_library_id = lib.formsLibraryId })[1]
    local doc = assert(rooms.rooms.forms.create{ room_id = 1004, form_id = form.libraryFormId })
    assert.equal(form.name, doc.name)
    assert.equal(form.libraryFormId, doc.docuSignFormId)
    assert.is_true(doc.isDynamic)
    assert.same({ form.name }, names(assert(rooms.rooms.documents.list:all{ room_id = 1004 })))
    -- A dynamic document without content is left out when content is required.
    assert.same({}, assert(rooms.rooms.documents.list:all{ room_id = 1004,
      require_content_for_dynamic_documents = true }))
  end)

  it("creates an envelope from room documents", function()
    local docs = assert(rooms.rooms.documents.list:all{ room_id = 1001 })
    local env = assert(rooms.rooms.envelopes.create{ room_id = 1001, envelope_name = "Listing package",
      document_ids = { docs[1].documentId, docs[2].documentId } })
    assert.same({ envelopeName = "Listing package", documentIds = { docs[1].documentId, docs[2].documentId } },
      json.decode(last("POST").body))
    assert.is_string(env.eSignEnvelopeId)
    local _, err = rooms.rooms.envelopes.create{ room_id = 1002, document_ids = { docs[1].documentId } }
    assert.equal("rejected", err.kind)
  end)

  it("sets the room picture from a file, as multipart with an image type", function()
    local path, cleanup = tmpfile("front.png", "\137PNG\r\n\26\n picture bytes")
    local pic = assert(rooms.rooms.picture.update{ room_id = 1001, path = path })
    cleanup()
    local sent = last("PUT")
    assert.equal("/restapi/v2/accounts/" .. S.ACCOUNT .. "/rooms/1001/picture", sent.path)
    assert.truthy(sent.body:find("Content-Type: image/png\r\n", 1, true))
    assert.truthy(pic.url:find("front.png", 1, true))
    local _, err = rooms.rooms.picture.update{ room_id = 1001, file = "not an image", file_name = "notes.txt" }
    assert.equal("rejected", err.kind)
  end)

  it("never sends an upload twice: one whose answer was lost comes back retryable = false", function()
    sb:close()
    local cfg = { account_id = S.ACCOUNT, integration_key = S.IK, user_id = S.USER, public_key = S.keys().public }
    sb = assert(require("dwell.sandbox").start{ routes = { { set = "rooms", config = cfg } },
      faults = { { match = "POST /restapi/v2/accounts/{a}/rooms/1001/documents/contents", kind = "reset",
        handled = true, times = 1 } } })
    local r = S.client(sb, { retry = { attempts = 3, base_ms = 1, cap_ms = 1 } })
    local _, err = r.rooms.documents.contents.create{ room_id = 1001, file = "x", file_name = "x.txt" }
    assert.equal("transport", err.kind)
    assert.is_false(err.retryable)
    assert.equal(1, #S.requests(sb, "/restapi/v2/accounts/" .. S.ACCOUNT .. "/rooms/1001/documents/contents"))
    -- It took effect: the document is there, once.
    local docs = assert(r.rooms.documents.list:all{ room_id = 1001, name_filter = "x.txt" })
    assert.equal(1, #docs)
    assert.is_false(r.rooms.documents.contents.create.spec.repeatable)
  end)
end)
