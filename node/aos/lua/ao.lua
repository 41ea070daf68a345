-- ao: the process's view of the AO protocol (identity, environment, outbox, trust and assignment rules), with
-- the behaviour of AOS's process/ao.lua and process/assignment.lua.
local previous = rawget(_G, "ao")
if type(previous) ~= "table" then previous = {} end

local ao = {
  _version = "0.0.6",
  id = previous.id or "",
  _module = previous._module or "",
  authorities = previous.authorities or {},
  reference = previous.reference or 0,
  outbox = previous.outbox or { Output = {}, Messages = {}, Spawns = {}, Assignments = {} },
  nonExtractableTags = { "Data-Protocol", "Variant", "From-Process", "From-Module", "Type", "From", "Owner",
    "Anchor", "Target", "Data", "Tags", "Read-Only" },
  nonForwardableTags = { "Data-Protocol", "Variant", "From-Process", "From-Module", "Type", "From", "Owner",
    "Anchor", "Target", "Tags", "TagArray", "Hash-Chain", "Timestamp", "Nonce", "Epoch", "Signature",
    "Forwarded-By", "Pushed-For", "Read-Only", "Cron", "Block-Height", "Reference", "Id", "Reply-To" },
  Nonce = nil,
}

-- The host passes Go versions of hot helpers as the chunk's second argument (see native.go); the Lua
-- definitions are the same rules, used when the module is loaded without them (a re-require).
local _, native = ...
if type(native) ~= "table" then native = {} end

-- assertAt is assert with the position AOS's module raises the error from: those positions (aos 2.0.0's
-- source lines) are part of the messages processes see.
local function assertAt(ok, message)
  if not ok then error(message, 0) end
  return ok
end

local contains = native.contains or function(list, v)
  for _, x in ipairs(list) do
    if x == v then return true end
  end
  return false
end

-- copy is a shallow copy of t, entries set in pairs order.
local copy = native.copy or function(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- tag is the tag table { name = name, value = value }.
local tag = native.tag or function(name, value)
  return { name = name, value = value }
end

-- commaParts(s) lists the runs of s between commas (string.gmatch(s, "[^,]+")), without compiling the
-- pattern on every message (the Go version takes strings only: anything else fails as gmatch does).
local function luaCommaParts(s)
  local parts = {}
  for part in string.gmatch(s, "[^,]+") do parts[#parts + 1] = part end
  return parts
end
local commaParts = luaCommaParts
if native.commaParts then
  local goCommaParts = native.commaParts
  commaParts = function(s)
    if type(s) == "string" then return goCommaParts(s) end
    return luaCommaParts(s)
  end
end

-- record("k1", v1, "k2", v2, ...) is the table { k1 = v1, k2 = v2, ... }.
local record = native.record or function(...)
  local t = {}
  for i = 1, select("#", ...), 2 do
    local k, v = select(i, ...)
    t[k] = v
  end
  return t
end

-- Go versions of the per-message loops of normalize, init and send (addFields); each returns false when
-- the tables are not of the shape it handles, and the Lua loop does the work.
local liftTags, initTags, nativeAddFields = native.liftTags, native.initTags, native.addFields
local nativeSend = native.send -- ao.send's queueing of the message

-- newOutbox is an empty outbox.
local newOutbox = native.outbox or function()
  return { Output = {}, Messages = {}, Spawns = {}, Assignments = {} }
end

-- initOutbox is the empty outbox ao.init sets. The process replaces it with a new one (clearOutbox) before
-- any of its code runs, so ao.init gives the same empty outbox again for as long as it stays untouched
-- (native.sameOutbox checks, field by field) instead of making one per message.
local sameOutbox, initialOutbox = native.sameOutbox, nil
local function initOutbox()
  if not sameOutbox then return newOutbox() end
  initialOutbox = sameOutbox(initialOutbox)
  return initialOutbox
end

local function isArray(t)
  if type(t) ~= "table" then return false end
  local highest = 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or math.floor(k) ~= k then return false end
    if k > highest then highest = k end
  end
  return highest == #t
end

-- anchors are the reference counter, zero-padded to 32 characters (an ANS-104 anchor is 32 bytes)
local function anchor(n)
  local s = tostring(n)
  return string.rep("0", 32 - #s) .. s
end

-- sortedKeys gives the string keys of t in byte order: tags made from a Lua table come out in the same order
-- on every run, whatever order the table was built in.
local function sortedKeys(t)
  local ks = {}
  for k in pairs(t) do
    if type(k) == "string" then ks[#ks + 1] = k end
  end
  table.sort(ks)
  return ks
end


function ao.clone(obj, seen)
  if type(obj) ~= "table" then return obj end
  if seen and seen[obj] then return seen[obj] end
  local s = seen or {}
  local copy = {}
  s[obj] = copy
  for k, v in pairs(obj) do copy[ao.clone(k, s)] = ao.clone(v, s) end
  return setmetatable(copy, getmetatable(obj))
end

-- normalize lifts every tag onto the message (a later tag of the same name wins), except the names that
-- must come from the message itself.
function ao.normalize(msg)
  if liftTags and liftTags(msg, ao.nonExtractableTags) then return msg end
  for _, o in ipairs(msg.Tags) do
    if not contains(ao.nonExtractableTags, o.name) then
      msg[o.name] = o.value
    end
  end
  return msg
end

-- sanitize is a deep copy of msg without the fields that must not be forwarded.
function ao.sanitize(msg)
  local copy = ao.clone(msg)
  for k in pairs(msg) do
    if contains(ao.nonForwardableTags, k) then copy[k] = nil end
  end
  return copy
end

function ao.init(env)
  if ao.id == "" then ao.id = env.Process.Id end
  if initTags and initTags(ao, env) then
    ao.outbox = initOutbox()
    ao.env = env
    return
  end
  if ao._module == "" then
    for _, o in ipairs(env.Process.Tags) do
      if o.name == "Module" then ao._module = o.value end
    end
  end
  for _, o in ipairs(env.Process.Tags) do
    if o.name == "Authority" then
      for _, part in ipairs(commaParts(o.value)) do
        if part ~= "" and not contains(ao.authorities, part) then
          table.insert(ao.authorities, part)
        end
      end
    end
  end
  ao.outbox = initOutbox()
  ao.env = env
end

function ao.log(txt)
  if type(ao.outbox.Output) == "string" then ao.outbox.Output = { ao.outbox.Output } end
  table.insert(ao.outbox.Output, txt)
end

function ao.clearOutbox()
  ao.outbox = newOutbox()
end

-- addFields appends msg's own fields (all but the listed ones) and then msg.Tags (a {name, value} list or a
-- name -> value table) to tags.
local function addFields(tags, msg)
  if nativeAddFields and nativeAddFields(tags, msg) then return end
  for _, k in ipairs(sortedKeys(msg)) do
    if k ~= "Target" and k ~= "Data" and k ~= "Anchor" and k ~= "Tags" and k ~= "From" then
      table.insert(tags, tag(k, msg[k]))
    end
  end
  if type(msg.Tags) == "table" then
    if isArray(msg.Tags) then
      for _, o in ipairs(msg.Tags) do table.insert(tags, o) end
    else
      for _, k in ipairs(sortedKeys(msg.Tags)) do
        table.insert(tags, tag(k, msg.Tags[k]))
      end
    end
  end
end

-- send queues a message. The returned message has onReply(fn) / onReply(from, fn), which handle the reply
-- when it arrives, and receive() / receive(from), which suspend the calling handler until it does. A reply
-- is a message from the target (or from) that carries X-Reference = this message's Reference.
function ao.send(msg)
  assertAt(type(msg) == "table", '[string ".ao"]:241: msg should be a table')
  local message, ref = false, nil
  if nativeSend then message, ref = nativeSend(ao, msg) end
  if not message then
    ao.reference = ao.reference + 1
    ref = tostring(ao.reference)
    message = record(
      "Target", msg.Target,
      "Data", msg.Data,
      "Anchor", anchor(ao.reference),
      "Tags", {
        tag("Data-Protocol", "ao"),
        tag("Variant", "ao.TN.1"),
        tag("Type", "Message"),
        tag("Reference", ref),
      })
    addFields(message.Tags, msg)
    local queued = copy(message)
    table.insert(ao.outbox.Messages, queued)
  end

  message.onReply = function(...)
    local from, resolver
    if select("#", ...) == 2 then
      from, resolver = ...
    else
      from, resolver = message.Target, ...
    end
    Handlers.once({ From = from, ["X-Reference"] = ref }, resolver)
  end
  message.receive = function(...)
    local from = message.Target
    if select("#", ...) == 1 then from = ... end
    return Handlers.receive({ From = from, ["X-Reference"] = ref })
  end
  return message
end

-- spawn queues a new process. onReply(fn) / receive() wait for the Spawned notice the MU sends back.
function ao.spawn(module, msg)
  assertAt(type(module) == "string", '[string ".ao"]:389: Module source id is required!')
  assertAt(type(msg) == "table", '[string ".ao"]:391: Message must be a table')
  ao.reference = ao.reference + 1
  local ref = tostring(ao.reference)
  local spawn = {
    Data = msg.Data or "NODATA",
    Anchor = anchor(ao.reference),
    Tags = {
      tag("Data-Protocol", "ao"),
      tag("Variant", "ao.TN.1"),
      tag("Type", "Process"),
      tag("From-Process", ao.id),
      tag("From-Module", ao._module),
      tag("Module", module),
      tag("Reference", ref),
    },
  }
  addFields(spawn.Tags, msg)
  local queued = copy(spawn)
  table.insert(ao.outbox.Spawns, queued)

  spawn.onReply = function(callback)
    Handlers.once({ Action = "Spawned", From = ao.id, Reference = ref }, callback)
  end
  spawn.receive = function()
    return Handlers.receive({ Action = "Spawned", From = ao.id, Reference = ref })
  end
  return spawn
end

function ao.assign(assignment)
  assertAt(type(assignment) == "table", '[string ".ao"]:533: assignment should be a table')
  assertAt(type(assignment.Processes) == "table", '[string ".ao"]:535: Processes should be a table')
  assertAt(type(assignment.Message) == "string", '[string ".ao"]:537: Message should be a string')
  table.insert(ao.outbox.Assignments, assignment)
end

-- isTrusted: a message is trusted when its From or its Owner is one of the process's authorities (its
-- Authority tags).
function ao.isTrusted(msg)
  for _, authority in ipairs(ao.authorities) do
    if msg.From == authority then return true end
    if msg.Owner == authority then return true end
  end
  return false
end

-- result is what the process returns: only the Error when there is one, else the output and the outbox.
function ao.result(result)
  if ao.outbox.Error or result.Error then
    return { Error = result.Error or ao.outbox.Error }
  end
  return record(
    "Output", result.Output or ao.outbox.Output,
    "Messages", ao.outbox.Messages,
    "Spawns", ao.outbox.Spawns,
    "Assignments", ao.outbox.Assignments)
end

-- Assignables (AOS's assignment module): a message scheduled here whose Target is another process is an
-- assignment, and the process accepts it only when it matches one of ao.assignables (none by default).
local assignment = { _version = "0.1.0" }

function assignment.init(a)
  local function indexByName(name)
    for i, o in ipairs(a.assignables) do
      if o.name == name then return i end
    end
    return nil
  end

  a.assignables = a.assignables or {}

  -- addAssignable(spec) or addAssignable(name, spec); a known name has its spec replaced.
  a.addAssignable = a.addAssignable or function(...)
    local name, spec
    if select("#", ...) == 1 then
      spec = ...
    else
      name, spec = ...
      assertAt(type(name) == "string", '[string ".assignment"]:77: MatchSpec name MUST be a string')
    end
    local i = name and indexByName(name) or nil
    if i then
      a.assignables[i].pattern = spec
    else
      table.insert(a.assignables, { pattern = spec, name = name })
    end
  end

  -- removeAssignable(name) or removeAssignable(index); unknown ones are ignored.
  a.removeAssignable = a.removeAssignable or function(name)
    local i
    if type(name) == "string" then
      i = indexByName(name)
    else
      assertAt(type(name) == "number", '[string ".assignment"]:125: index MUST be a number')
      i = name
    end
    if i == nil or i <= 0 or i > #a.assignables then return end
    table.remove(a.assignables, i)
  end

  a.isAssignment = a.isAssignment or function(msg) return msg.Target ~= a.id end

  a.isAssignable = a.isAssignable or function(msg)
    local utils = require(".utils")
    for _, o in pairs(a.assignables) do
      if utils.matchesSpec(msg, o.pattern) then return true end
    end
    return false
  end
end

assignment.init(ao)
package.loaded[".assignment"] = package.loaded[".assignment"] or assignment

return ao
