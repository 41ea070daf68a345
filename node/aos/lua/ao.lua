-- ao: the process's view of the AO protocol: identity, environment and the outbox.
local json = require(".json")
local ao = {
  _version = "aonode",
  id = "",
  _module = "",
  authorities = {},
  reference = 0,
  outbox = { Output = {}, Messages = {}, Spawns = {}, Assignments = {} },
  nonExtractableTags = { "Data-Protocol", "Variant", "From-Process", "From-Module", "Type", "From", "Owner",
    "Anchor", "Target", "Data", "Tags", "Read-Only" },
  nonForwardableTags = { "Data-Protocol", "Variant", "From-Process", "From-Module", "Type", "From", "Owner",
    "Anchor", "Target", "Tags", "TagArray", "Hash-Chain", "Timestamp", "Nonce", "Epoch", "Signature",
    "Forwarded-By", "Pushed-For", "Read-Only", "Cron", "Block-Height", "Reference", "Id", "Reply-To" },
}

local function includes(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

function ao.clearOutbox()
  ao.outbox = { Output = {}, Messages = {}, Spawns = {}, Assignments = {} }
end

function ao.init(env)
  if ao.id == "" then ao.id = env.Process.Id end
  if ao._module == "" then
    for _, t in ipairs(env.Process.Tags) do
      if t.name == "Module" then ao._module = t.value end
    end
  end
  if #ao.authorities == 0 then
    for _, t in ipairs(env.Process.Tags) do
      if t.name == "Authority" then
        for a in string.gmatch(t.value, "[^,%s]+") do table.insert(ao.authorities, a) end
      end
    end
  end
  ao.outbox = { Output = {}, Messages = {}, Spawns = {}, Assignments = {} }
  ao.env = env
end

function ao.log(txt)
  if type(ao.outbox.Output) == "string" then ao.outbox.Output = { ao.outbox.Output } end
  table.insert(ao.outbox.Output, txt)
end

-- anchors are the reference counter, zero-padded to 32 characters (an ANS-104 anchor is 32 bytes)
local function anchor(ref) return string.rep("0", 32 - #ref) .. ref end

-- sortedKeys gives string keys in a fixed order, so tags made from a Lua table are the same on every run.
local function sortedKeys(t)
  local ks = {}
  for k in pairs(t) do if type(k) == "string" then ks[#ks + 1] = k end end
  table.sort(ks)
  return ks
end

-- tagList turns msg.Tags (a {name,value} array or a name->value map) into an ordered array.
local function tagList(tags)
  local out = {}
  if type(tags) ~= "table" then return out end
  if #tags > 0 then
    for _, t in ipairs(tags) do
      if type(t) == "table" and t.name ~= nil then
        out[#out + 1] = { name = tostring(t.name), value = tostring(t.value) }
      end
    end
  end
  for _, k in ipairs(sortedKeys(tags)) do
    local v = tags[k]
    if v ~= nil then out[#out + 1] = { name = k, value = tostring(v) } end
  end
  return out
end

local function encodeData(d)
  if type(d) == "table" then return json.encode(d) end
  if d == nil then return nil end
  return tostring(d)
end

function ao.send(msg)
  assert(type(msg) == "table", "msg should be a table")
  ao.reference = ao.reference + 1
  local ref = tostring(ao.reference)
  local out = {
    Target = msg.Target,
    Data = encodeData(msg.Data),
    Anchor = anchor(ref),
    Tags = {
      { name = "Data-Protocol", value = "ao" },
      { name = "Variant", value = "ao.TN.1" },
      { name = "Type", value = "Message" },
      { name = "Reference", value = ref },
    },
  }
  for _, k in ipairs(sortedKeys(msg)) do
    if not includes(ao.nonExtractableTags, k) and type(msg[k]) ~= "function" and type(msg[k]) ~= "table" then
      out.Tags[#out.Tags + 1] = { name = k, value = tostring(msg[k]) }
    end
  end
  for _, t in ipairs(tagList(msg.Tags)) do out.Tags[#out.Tags + 1] = t end
  table.insert(ao.outbox.Messages, out)
  -- .receive() waits for the reply; it needs coroutine support from Handlers.receive when present.
  local result = { Target = out.Target, Data = out.Data, Anchor = out.Anchor, Tags = out.Tags }
  result.onReply = function(fn)
    Handlers.once({ ["X-Reference"] = ref }, fn)
  end
  result.receive = function()
    if Handlers.receive then return Handlers.receive({ ["X-Reference"] = ref }) end
    error("receive is not supported by this runtime")
  end
  return result
end

function ao.spawn(module, msg)
  assert(type(module) == "string", "module source id is required!")
  msg = msg or {}
  ao.reference = ao.reference + 1
  local ref = tostring(ao.reference)
  local out = {
    Data = encodeData(msg.Data) or "NODATA",
    Anchor = anchor(ref),
    Tags = {
      { name = "Data-Protocol", value = "ao" },
      { name = "Variant", value = "ao.TN.1" },
      { name = "Type", value = "Process" },
      { name = "From-Process", value = ao.id },
      { name = "From-Module", value = ao._module },
      { name = "Module", value = module },
      { name = "Reference", value = ref },
    },
  }
  for _, k in ipairs(sortedKeys(msg)) do
    if not includes(ao.nonExtractableTags, k) and type(msg[k]) ~= "function" and type(msg[k]) ~= "table" then
      out.Tags[#out.Tags + 1] = { name = k, value = tostring(msg[k]) }
    end
  end
  for _, t in ipairs(tagList(msg.Tags)) do out.Tags[#out.Tags + 1] = t end
  table.insert(ao.outbox.Spawns, out)
  local result = { Anchor = out.Anchor, Tags = out.Tags, Data = out.Data }
  result.onReply = function(fn)
    Handlers.once({ Action = "Spawned", ["Reference"] = ref }, fn)
  end
  result.receive = function()
    if Handlers.receive then return Handlers.receive({ Action = "Spawned", ["Reference"] = ref }) end
    error("receive is not supported by this runtime")
  end
  return result
end

function ao.assign(assignment)
  assert(type(assignment) == "table" and type(assignment.Processes) == "table" and type(assignment.Message) == "string",
    "assignment needs Processes (a list of ids) and Message (an id)")
  table.insert(ao.outbox.Assignments, { Processes = assignment.Processes, Message = assignment.Message })
end

-- isTrusted: a message is trusted when it speaks for its own signer, or when an authority relayed it.
function ao.isTrusted(msg)
  if msg.From == msg.Owner then return true end
  for _, a in ipairs(ao.authorities) do
    if msg.Owner == a or msg["Forwarded-By"] == a then return true end
  end
  return false
end

function ao.result(result)
  if ao.outbox.Error or result.Error then
    return { Error = result.Error or ao.outbox.Error }
  end
  return {
    Output = result.Output or ao.outbox.Output,
    Messages = ao.outbox.Messages,
    Spawns = ao.outbox.Spawns,
    Assignments = ao.outbox.Assignments,
  }
end

return ao
