--- The Rooms sandbox's task lists: seeded task list templates, and task lists applied to rooms
-- from them (listed per room, created, deleted). Applying the same template to a room twice is
-- refused with a 400 (sandbox behaviour, unverified against DocuSign).
local gateway = require "dwell.sandbox.rooms.gateway"
local params = require "dwell.sandbox.rooms.params"

local M = {}

local CREATED = "2024-06-01T09:30:00Z"

-- { name, { { task name, is a document task, requires approval, due date type, offset }, ... } }
M.TEMPLATES = {
  { "Listing Tasks", { { "Signed listing agreement", true, true, "listing", 0 },
    { "Seller's property disclosure", true, false, "listing", 3 }, { "Schedule photos", false, false, "listing", 5 } } },
  { "Buyer Tasks", { { "Pre-approval letter", true, false, "contract", -3 },
    { "Home inspection", false, true, "contract", 10 } } },
  { "Closing Tasks", { { "Title commitment", true, false, "closing", -14 },
    { "Final walkthrough", false, false, "closing", -1 }, { "Closing disclosure", true, true, "closing", -3 } } },
  { "Commercial Lease Tasks", { { "Signed letter of intent", true, true, "contract", 0 } } },
}

local function template(id)
  local t = M.TEMPLATES[id]
  if not t then return nil end
  local docs = 0
  for _, task in ipairs(t[2]) do
    if task[2] then docs = docs + 1 end
  end
  return { taskListTemplateId = id, name = t[1], taskCount = #t[2], tasksWithDocumentsCount = docs }
end

local function apply(model, room_id, template_id, created)
  local d = model.data
  local t = M.TEMPLATES[template_id]
  local list = { taskListId = d.next_task_list_id, roomId = room_id, name = t[1], taskListTemplateId = template_id,
    createdDate = created, tasks = {} }
  d.next_task_list_id = d.next_task_list_id + 1
  for i, task in ipairs(t[2]) do
    list.tasks[i] = { taskId = list.taskListId * 100 + i, name = task[1], isDocumentTask = task[2],
      requiresApproval = task[3], requiresReview = task[3], dueDateTypeId = task[4], dueDateOffset = task[5],
      ownerUserId = 5001, createdDate = created }
  end
  d.task_lists[#d.task_lists + 1] = list
  return list
end

function M.seed(model)
  model.data.task_lists, model.data.next_task_list_id = {}, 701
  apply(model, 1001, 1, CREATED)
  apply(model, 1002, 2, CREATED)
end

local SUMMARY = { "taskListId", "name", "taskListTemplateId", "submittedForReviewDate", "approvalDate",
  "rejectedDate", "createdDate", "approvedByUserId", "rejectedByUserId", "comment" }
local TASK = { "taskId", "name", "requiresApproval", "dueDateTypeId", "dueDateOffset", "fixedDueDate", "ownerUserId",
  "completionDate", "approvalDate", "rejectedDate", "createdDate", "isDocumentTask", "requiresReview" }

function M.routes(model, account)
  local h = {}

  local function room_of(req)
    local room = model.data.room_by_id[params.id(req.captures.roomId)]
    if not room then return nil, gateway.not_found("room", "ROOM_NOT_FOUND") end
    return room
  end

  function h.templates(req)
    local items = {}
    for id in ipairs(M.TEMPLATES) do items[id] = template(id) end
    return params.page(req, items, "taskListTemplates", function(t) return t end)
  end

  function h.list(req)
    local room, s, hd, b = room_of(req)
    if not room then return s, hd, b end
    local out = params.list()
    for _, l in ipairs(model.data.task_lists) do
      if l.roomId == room.roomId then out[#out + 1] = params.copy(l, SUMMARY) end
    end
    return 200, {}, { taskListSummaries = out }
  end

  function h.create(req, body)
    local room, s, hd, b = room_of(req)
    if not room then return s, hd, b end
    local id = body.taskListTemplateId
    if math.type(id) ~= "integer" then return gateway.bad("taskListTemplateId is required") end
    if not M.TEMPLATES[id] then
      return gateway.error(400, "TASK_LIST_TEMPLATE_NOT_FOUND", "There is no task list template " .. id .. ".")
    end
    for _, l in ipairs(model.data.task_lists) do
      if l.roomId == room.roomId and l.taskListTemplateId == id then
        return gateway.error(400, "TASK_LIST_ALREADY_APPLIED", "The room already has this task list.")
      end
    end
    local list = apply(model, room.roomId, id, params.now(model))
    local v = params.copy(list, SUMMARY)
    v.tasks = params.list()
    for i, t in ipairs(list.tasks) do v.tasks[i] = params.copy(t, TASK) end
    return 201, {}, v
  end

  function h.delete(req)
    local id = params.id(req.captures.taskListId)
    for i, l in ipairs(model.data.task_lists) do
      if l.taskListId == id then
        table.remove(model.data.task_lists, i)
        return 204, {}, ""
      end
    end
    return gateway.not_found("task list", "TASK_LIST_NOT_FOUND")
  end

  return {
    { "GET", account .. "/task_list_templates", h.templates },
    { "GET", account .. "/rooms/{roomId}/task_lists", h.list },
    { "POST", account .. "/rooms/{roomId}/task_lists", h.create, true },
    { "DELETE", account .. "/task_lists/{taskListId}", h.delete },
  }
end

return M
