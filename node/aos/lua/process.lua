-- process: the AOS process loop. The host calls handle(msg, env) once per message, in schedule order.
local ao = require(".ao")
local json = require(".json")
local utils = require(".utils")
Handlers = require(".handlers")

ao.json = json
Inbox = Inbox or {}
MAX_INBOX_SIZE = 10000
Errors = Errors or {}
_G.utils = utils
_G.json = json
_G.ao = ao
Name = Name or "aos"
Owner = Owner or ""
Colors = { red = "\27[31m", green = "\27[32m", blue = "\27[34m", reset = "\27[0m", gray = "\27[90m" }
Bell = "\x07"

local process = { _version = "aonode-aos" }

function Prompt() return "aos> " end

function Send(msg)
  return ao.send(msg)
end

function Spawn(module, msg)
  return ao.spawn(module, msg)
end

function Assign(assignment)
  return ao.assign(assignment)
end

-- Tab turns the ordered tag list into name -> value; the first occurrence of a name wins.
local function tab(tags)
  local t = {}
  for _, tag in ipairs(tags or {}) do
    if t[tag.name] == nil then t[tag.name] = tag.value end
  end
  return t
end

local reserved = { Id = 1, From = 1, Owner = 1, Target = 1, Anchor = 1, Data = 1, Tags = 1, TagArray = 1,
  Timestamp = 1, Nonce = 1, Epoch = 1, Signature = 1, Cron = 1, Module = 0 }

local function normalize(msg)
  msg.TagArray = msg.Tags or {}
  msg.Tags = tab(msg.TagArray)
  for _, tag in ipairs(msg.TagArray) do
    if reserved[tag.name] ~= 1 and msg[tag.name] == nil then msg[tag.name] = tag.value end
  end
  return msg
end

local function addReplies(msg)
  msg.reply = function(reply)
    if type(reply) == "string" then reply = { Data = reply } end
    reply = reply or {}
    reply.Target = msg["Reply-To"] or msg.From
    if msg.Reference ~= nil then reply["X-Reference"] = msg.Reference end
    if msg["X-Origin"] ~= nil then reply["X-Origin"] = msg["X-Origin"] end
    return ao.send(reply)
  end
  msg.forward = function(target, extra)
    local fwd = {}
    for k, v in pairs(msg) do
      if type(v) ~= "function" and type(v) ~= "table" and not utils.includes(k, ao.nonForwardableTags) then fwd[k] = v end
    end
    for k, v in pairs(extra or {}) do fwd[k] = v end
    fwd.Target = target
    fwd.Data = (extra and extra.Data) or msg.Data
    fwd["X-Origin"] = msg["X-Origin"] or msg.From
    return ao.send(fwd)
  end
  return msg
end

local function stringify(v)
  if type(v) == "table" then
    local ok, s = pcall(json.encode, v)
    return ok and s or tostring(v)
  end
  return tostring(v)
end

-- print writes to the Output of the current message.
local printed = {}
function print(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[#parts + 1] = stringify((select(i, ...))) end
  printed[#printed + 1] = table.concat(parts, "\t")
end

local function isOwnerOrSelf(msg)
  return msg.From == Owner or msg.From == ao.id
end

-- The Eval handler runs Lua source sent by the owner (or the process itself) and prints what it returns.
Handlers.prepend("_eval", function(msg) return msg.Action == "Eval" and "break" or "skip" end, function(msg)
  if not isOwnerOrSelf(msg) then
    error("Eval is only accepted from the process owner", 0)
  end
  local fn, err = load(msg.Data or "", "aos", "t", _G)
  if not fn then error(err, 0) end
  local results = { fn() }
  if #results > 0 then
    local out = {}
    for i = 1, #results do out[#out + 1] = stringify(results[i]) end
    print(table.concat(out, "\t"))
  end
end)

local function shortId(id)
  id = tostring(id or "")
  if #id <= 6 then return id end
  return id:sub(1, 3) .. "..." .. id:sub(-3)
end

-- The default handler keeps what nobody handled, as AOS does.
local function addToInbox(msg)
  table.insert(Inbox, msg)
  if #Inbox > MAX_INBOX_SIZE then table.remove(Inbox, 1) end
  print("New Message From " .. shortId(msg.From) .. ": " .. (msg.Action and ("Action = " .. msg.Action) or ("Data = " .. tostring(msg.Data))))
end

local function errorText(e)
  if type(e) == "table" and e.handler then
    local inner = e.err
    if type(inner) == "table" then inner = stringify(inner) end
    return "Error handling message with Action = " .. tostring(e.action) .. " in handler " .. tostring(e.handler) .. ": " .. tostring(inner)
  end
  if type(e) == "table" then return stringify(e) end
  return tostring(e)
end

function process.handle(msg, env)
  ao.init(env)
  printed = {}
  msg = addReplies(normalize(msg))
  -- The spawn message sets who owns the process.
  if msg.Id == ao.id and msg.Tags.Type == "Process" then
    Owner = msg.From or msg.Owner -- a spawned child is owned by its parent process
    if msg.Tags.Name then Name = msg.Tags.Name end
    if msg.Tags["On-Boot"] == "Data" and msg.Data and msg.Data ~= "" then
      local fn, err = load(msg.Data, "boot", "t", _G)
      if not fn then return { Error = "boot: " .. tostring(err) } end
      local ok, berr = pcall(fn)
      if not ok then return { Error = "boot: " .. errorText(berr) } end
    end
    return { Output = { data = table.concat(printed, "\n"), prompt = Prompt(), print = true } }
  end
  local ok, res = pcall(Handlers.evaluate, msg, env)
  if not ok then
    table.insert(Errors, errorText(res))
    return { Error = errorText(res), Output = { data = table.concat(printed, "\n"), prompt = Prompt(), print = true } }
  end
  if not res and msg.Cron ~= true then
    addToInbox(msg)
  end
  return { Output = { data = table.concat(printed, "\n"), prompt = Prompt(), print = true } }
end

return process
