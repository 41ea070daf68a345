-- process: the AOS process loop. The host calls handle(msg, env) once per message, in schedule order.
-- It follows AOS's process/process.lua (with its eval, boot, default-handler and stringify helpers): the
-- message is normalized, checked (trust, assignment), then run through Handlers inside a coroutine, so a
-- handler can suspend in Receive and be resumed by a later message.

-- The host passes Go versions of the message preparation loops as the chunk's second argument (see
-- native.go); each does the work only for the message shape the host builds, and says when it did not.
local _, native = ...
if type(native) ~= "table" then native = {} end

-- record("k1", v1, "k2", v2, ...) is the table { k1 = v1, k2 = v2, ... }.
local record = native.record or function(...)
  local t = {}
  for i = 1, select("#", ...), 2 do
    local k, v = select(i, ...)
    t[k] = v
  end
  return t
end

local ao = require(".ao")
local json = require("json")
local utils = require(".utils")
local chance = require(".chance")
-- Loaded from the start, as AOS's process module loads them (.crypto is loaded when first required: it
-- adds some 24 KB to every process).
require(".pretty")
require(".base64")
Dump = require(".dump")

Colors = {
  red = "\27[31m",
  green = "\27[32m",
  blue = "\27[34m",
  reset = "\27[0m",
  gray = "\27[90m",
}
Bell = "\x07"

Handlers = require(".handlers")
Utils = utils
-- aos 2.0.4's package manager module (1b87aa2) makes json a global.
_G.json = json
_G.ao = ao
if not package.loaded["ao"] then package.loaded["ao"] = ao end

-- The version aos 2.0.4 processes report: the aos CLI offers an update (and .update would load aos modules
-- this runtime does not have) to any process whose version is not its own.
local process = { _version = "2.0.4" }
local maxInboxCount = 10000

-- how print and Eval show a table: AOS's .stringify, a module of its own (lua/stringify.lua)
local stringify = require(".stringify")

--------------------------------------------------------------------------------------------------------
-- Data that is a table is sent as JSON, with Content-Type application/json (AOS's "magic table").

local rawSend, rawSpawn = ao.send, ao.spawn

ao.send = function(msg)
  if msg.Data and type(msg.Data) == "table" then
    msg["Content-Type"] = "application/json"
    msg.Data = json.encode(msg.Data)
  end
  return rawSend(msg)
end

ao.spawn = function(module, msg)
  if msg.Data and type(msg.Data) == "table" then
    msg["Content-Type"] = "application/json"
    msg.Data = json.encode(msg.Data)
  end
  return rawSpawn(module, msg)
end

--------------------------------------------------------------------------------------------------------
-- Globals of the AOS API.

local nativeTab = native.tab

-- Tab turns a message's tag list into name -> value; the first tag of a name wins.
function Tab(msg)
  local out = nativeTab and nativeTab(msg)
  if out then return out end
  out = {}
  for _, o in ipairs(msg.Tags) do
    if not out[o.name] then out[o.name] = o.value end
  end
  return out
end

local nativePrompt = native.prompt

function Prompt()
  local p = nativePrompt and nativePrompt(Colors, Name, Inbox, process._version, tostring)
  if p then return p end
  return Colors.green .. Name .. Colors.gray
    .. "@" .. Colors.blue .. "aos-" .. process._version .. Colors.gray
    .. "[Inbox:" .. Colors.red .. tostring(#Inbox) .. Colors.gray
    .. "]" .. Colors.reset .. "> "
end

-- print adds one value to the message's Output: a table as stringify shows it, a boolean, nil or number
-- coloured, anything else as text.
function print(a)
  if type(a) == "table" then
    a = stringify.format(a)
  end
  if type(a) == "boolean" then
    a = Colors.blue .. tostring(a) .. Colors.reset
  elseif type(a) == "nil" then
    a = Colors.red .. tostring(a) .. Colors.reset
  elseif type(a) == "number" then
    a = Colors.green .. tostring(a) .. Colors.reset
  elseif type(a) ~= "string" then
    a = tostring(a)
  end
  local data = a
  if type(ao.outbox.Output) == "table" and type(ao.outbox.Output.data) == "string" then
    data = ao.outbox.Output.data .. "\n" .. a
  end
  ao.outbox.Output = { data = data, prompt = Prompt(), print = true }
  if HANDLER_PRINT_LOGS then
    table.insert(HANDLER_PRINT_LOGS, a)
    return nil
  end
  return tostring(a)
end

function Send(msg)
  if not msg.Target then
    print("WARN: No target specified for message. Data will be stored, but no process will receive it.")
  end
  local result = ao.send(msg)
  return {
    output = "Message added to outbox",
    receive = result.receive,
    onReply = result.onReply,
  }
end

-- Spawn(msg) spawns the process's own module; Spawn(module, msg) another one.
function Spawn(...)
  local module, spawnMsg
  if select("#", ...) == 1 then
    spawnMsg = ...
    module = ao._module
  else
    module, spawnMsg = ...
  end
  spawnMsg = spawnMsg or {}
  local result = ao.spawn(module, spawnMsg)
  return {
    output = "Spawn process request added to outbox",
    after = result.after,
    receive = result.receive,
  }
end

function Receive(match)
  return Handlers.receive(match)
end

function Assign(assignment)
  ao.assign(assignment)
  print("Assignment added to outbox.")
  return "Assignment added to outbox."
end

function Version()
  print("version: " .. process._version)
end

--------------------------------------------------------------------------------------------------------
-- The handlers the process installs itself: _eval, _boot and _default.

-- evaluator runs the Lua in msg.Data (as an expression first, then as a chunk) and shows what it returns.
-- A chunk that does not compile, or that returns a second value, makes the message's Error.
local function evaluator(a)
  return function(msg)
    local expr = msg.Data
    -- the chunk is called through a local named func, as AOS calls it (a traceback names it so)
    local func, err = load("return " .. expr, "aos", "t", _G)
    if err then
      func, err = load(expr, "aos", "t", _G)
    end
    if not func then
      a.outbox.Error = err
      return
    end
    local output, e = func()
    if e then
      a.outbox.Error = e
      return
    end
    if HANDLER_PRINT_LOGS and output then
      table.insert(HANDLER_PRINT_LOGS, type(output) == "table" and stringify.format(output) or tostring(output))
    end
  end
end
package.loaded[".eval"] = package.loaded[".eval"] or evaluator

-- booter handles the process's own spawn message: it becomes the first Inbox entry, and with On-Boot = Data
-- its Data is evaluated.
local function booter(a)
  local eval = evaluator(a)
  return function(msg)
    if #Inbox == 0 then table.insert(Inbox, msg) end
    local onBoot = msg.Tags["On-Boot"]
    if onBoot == nil then return end
    if onBoot == "Data" then
      eval(msg)
      return
    end
    -- AOS reads the transaction through WeaveDrive; this runtime has no drive to read it from.
    error("On-Boot: cannot load transaction " .. tostring(onBoot) .. ": File not found!", 0)
  end
end
package.loaded[".boot"] = package.loaded[".boot"] or booter

local function insertInbox(msg)
  table.insert(Inbox, msg)
  while #Inbox > maxInboxCount do
    table.remove(Inbox, 1)
  end
end

-- defaultHandler keeps a message no handler took in the Inbox and says so in the Output.
local function defaultHandler(insert)
  return function(msg)
    insert(msg)
    local from = msg.From and (msg.From:sub(1, 3) .. "..." .. msg.From:sub(-3)) or "unknown"
    local txt = Colors.gray .. "New Message From " .. Colors.green .. from .. Colors.gray .. ": "
    if msg.Action then
      txt = txt .. Colors.gray .. "Action = " .. Colors.blue .. msg.Action:sub(1, 20) .. Colors.reset
    else
      local data = msg.Data
      if type(data) == "table" then data = json.encode(data) end
      txt = txt .. Colors.gray .. "Data = " .. Colors.blue .. (data and data:sub(1, 20) or "") .. Colors.reset
    end
    print(txt)
  end
end
package.loaded[".default"] = package.loaded[".default"] or defaultHandler

--------------------------------------------------------------------------------------------------------
-- handle

local nativeNormalizeMsg = native.normalizeMsg

-- normalizeMsg writes the message's keys and tag names in title case, then lifts the tags onto the message.
local function normalizeMsg(msg)
  if nativeNormalizeMsg and nativeNormalizeMsg(msg, utils.normalize) then
    ao.normalize(msg)
    return msg
  end
  local renames -- made only when a key changes: most messages come normalized
  for key, value in pairs(msg) do
    local nk = utils.normalize(key)
    if nk ~= key then
      renames = renames or {}
      renames[#renames + 1] = { key, nk, value }
    end
  end
  for _, r in ipairs(renames or {}) do
    msg[r[1]] = nil
    msg[r[2]] = r[3]
  end
  if type(msg.Tags) == "table" then
    for _, tag in ipairs(msg.Tags) do
      if type(tag.name) == "string" then tag.name = utils.normalize(tag.name) end
    end
  end
  ao.normalize(msg)
  return msg
end

local function findObject(list, key, value)
  for _, o in ipairs(list) do
    if o[key] == value then return o end
  end
  return nil
end

-- math.random once seeded (AOS's): no argument a float, one an integer in [1, m], two one in [m, n],
-- counting the arguments as # counts {...}.
local seededRandom = native.mathRandom or function(...)
  local args = { ... }
  local n = #args
  if n == 1 then return chance.integer(1, args[1]) end
  if n == 2 then return chance.integer(args[1], args[2]) end
  return chance.random()
end

Seeded = Seeded or false

-- initializeState: the first message seeds the random numbers, as AOS does, with its Block-Height followed
-- by the sum of the bytes of its Owner, Module and Id; the spawn message names the Owner (the spawning
-- process, else its signer), once.
local function initializeState(msg, env)
  if not Seeded then
    local text, sum = tostring(msg.Owner) .. tostring(msg.Module or "") .. tostring(msg.Id), 0
    for i = 1, #text do sum = sum + string.byte(text, i) end
    chance.seed(tonumber(msg["Block-Height"] .. sum))
    math.random = seededRandom
    Seeded = true
  end
  Errors = Errors or {}
  Inbox = Inbox or {}
  if env.Process.Id == msg.Id and not Owner then
    local fromProcess = findObject(env.Process.Tags, "name", "From-Process")
    if fromProcess then Owner = fromProcess.value else Owner = msg.From end
  end
  if not Name then
    local name = findObject(env.Process.Tags, "name", "Name")
    Name = name and name.value or "aos"
  end
end

-- pushedByScheduler: aonode's MU pushes a process's messages signed with the wallet of the process's
-- Scheduler, and the CU believes a From-Process only from that signer or an Authority of the process; such a
-- message is trusted here as well, as a message relayed by an Authority is.
local function pushedByScheduler(msg)
  local tags = ao.env.Process.Tags
  local scheduler = type(tags) == "table" and tags.Scheduler or nil
  return type(scheduler) == "string" and scheduler ~= "" and msg.Owner == scheduler
end

-- keep the coroutines that may still be resumed; drop the finished ones.
local next = next
local function trackCoroutine(co)
  local list = Handlers.coroutines
  -- none kept and this one finished: the list stays empty
  if type(list) == "table" and next(list) == nil and coroutine.status(co) == "dead" then return end
  table.insert(list, co)
  for i = #list, 1, -1 do
    if coroutine.status(list[i]) == "dead" then table.remove(list, i) end
  end
end

-- errorText is the error value as AOS's process.handle joins it into the Error: a string or a number as
-- text, anything else (unless its metatable can concatenate it) fails there, with the message C Lua gives at
-- that line of AOS's process.lua (line is 733 for an Eval, 751 for another message).
local function errorText(e, line)
  local kind = type(e)
  if kind == "string" then return e end
  if kind == "number" then return tostring(e) end
  local mt = getmetatable(e)
  if type(mt) == "table" and rawget(mt, "__concat") ~= nil then return "" .. e end
  error('[string ".process"]:' .. line .. ": attempt to concatenate a " .. kind .. " value (local 'result')", 0)
end

-- The handler-error traceback AOS prints: debug.traceback() from process.handle less its last three lines.
local handleTraceback = "stack traceback:\n\t[string \".process\"]:753: in function '.process.handle'"

-- The patterns and handles of _eval and _default, re-added by every message (as in AOS), depend on no
-- message: made once, they cost no closures per message.
local function isEval(m)
  return m.Action == "Eval" and Owner == m.From
end
local evalHandle = evaluator(ao)
local function always() return true end
local defaultHandle = defaultHandler(insertInbox)

-- Re-adding _eval and _default changes nothing but their resolvers (new closures of the same handles)
-- while the runtime's last registration of each is still in place, unchanged, and Handlers.add, append
-- and generateResolver are the module's own; then they are not added again. The resolvers the last
-- registration installed are kept here to recognise it.
local own = { Handlers, Handlers.add, Handlers.append, Handlers.generateResolver }
local installed = native.installed
local evalResolver, defaultResolver

-- resolverOf is the resolver of the first handler named name, when it has this pattern and the handlers
-- are the module's own.
local function resolverOf(name, pattern)
  if not installed then return nil end
  local ok, resolver = installed(Handlers, own, name, pattern)
  return resolver
end

local aoResult = ao.result

-- outputOnly(ao, aoResult): ao.result is aoResult and ao.outbox a plain table without Error.
local outputOnly = native.outputOnly or function(a, own)
  local outbox = a.outbox
  return a.result == own and type(outbox) == "table" and getmetatable(outbox) == nil and not outbox.Error
end

-- The host may pass, after the env, the Tab table it made of the env's Process tags for the previous
-- message: tabAgain gives it again when it is still exactly Tab(ao.env.Process) (see env.go).
local ownTab, tabAgain = Tab, native.tabAgain or function() return nil end

-- The body of a message's coroutine: it starts at once (process.handle resumes it right after making it),
-- with the message and env handle left for it.
local evalMsg, evalEnv
local evalState = { inHandle = false } -- Handlers.evaluate sets inHandle while a handle runs
local function evaluateMessage()
  local m, e = evalMsg, evalEnv
  return Handlers.evaluate(m, e, evalState)
end

function process.handle(msg, envArg, prevTab)
  local env = envArg
  if not envArg.Process then env = envArg.env end

  ao.init(env)
  msg = normalizeMsg(msg)
  ao.id = ao.env.Process.Id
  initializeState(msg, ao.env)
  HANDLER_PRINT_LOGS = {}

  -- os.time() is the message's Timestamp (milliseconds), whatever its arguments, as in AOS.
  os.time = function() return msg.Timestamp end

  msg.TagArray = msg.Tags
  msg.Tags = Tab(msg)
  local envProcess = ao.env.Process
  envProcess.TagArray = envProcess.Tags
  envProcess.Tags = (Tab == ownTab and tabAgain(envProcess, prevTab)) or Tab(envProcess)
  if msg.Tags["Content-Type"] and msg.Tags["Content-Type"] == "application/json" then
    msg.Data = json.decode(msg.Data or "{}")
  end
  Errors = Errors or {}
  ao.clearOutbox()

  -- Only a message from its own signer, from an Authority, or relayed by one is trusted.
  if msg.From ~= msg.Owner and not ao.isTrusted(msg) and not pushedByScheduler(msg) then
    print("Message is not trusted! From: " .. tostring(msg.From) .. " - Owner: " .. tostring(msg.Owner))
    return ao.result({})
  end

  if ao.isAssignment(msg) and not ao.isAssignable(msg) then
    if msg.From ~= ao.id then
      Send({ Target = msg.From, Data = "Assignment is not trusted by this process!" })
    end
    print("Assignment is not trusted! From: " .. tostring(msg.From) .. " - Owner: " .. tostring(msg.Owner))
    return ao.result({})
  end

  if not (installed and installed(Handlers, own, "_eval", isEval, evalResolver)) then
    Handlers.add("_eval", isEval, evalHandle)
    evalResolver = resolverOf("_eval", isEval)
  end

  if env.Process.Id == msg.Id then
    Handlers.once("_boot", function(m)
      return m.Tags.Type == "Process" and Owner == m.From
    end, booter(ao))
  end

  if not (installed and installed(Handlers, own, "_default", always, defaultResolver)) then
    Handlers.append("_default", always, defaultHandle)
    defaultResolver = resolverOf("_default", always)
  end

  msg.reply = function(replyMsg)
    replyMsg.Target = msg["Reply-To"] or (replyMsg.Target or msg.From)
    replyMsg["X-Reference"] = msg["X-Reference"] or msg.Reference
    replyMsg["X-Origin"] = msg["X-Origin"] or nil
    return ao.send(replyMsg)
  end

  msg.forward = function(target, forwardMsg)
    local newMsg = ao.sanitize(msg)
    forwardMsg = forwardMsg or {}
    for k, v in pairs(forwardMsg) do newMsg[k] = v end
    newMsg.Target = target
    newMsg["Reply-To"] = msg["Reply-To"] or msg.From
    newMsg["X-Reference"] = msg["X-Reference"] or msg.Reference
    newMsg["X-Origin"] = msg["X-Origin"] or msg.From
    newMsg.reply = nil
    newMsg.forward = nil
    ao.send(newMsg)
  end

  -- The handlers run in a coroutine: one that calls Receive stays suspended (kept in Handlers.coroutines)
  -- until the message it waits for arrives; this message then ends normally.
  evalMsg, evalEnv = msg, env
  evalState.inHandle = false
  local co = coroutine.create(evaluateMessage)
  local ok, result = coroutine.resume(co)
  evalMsg, evalEnv = nil, nil
  trackCoroutine(co)

  if not ok then
    -- AOS's Handlers.evaluate raises a handle's error again with error(err): a string gets the position of
    -- that call.
    if evalState.inHandle and type(result) == "string" then
      result = '[string ".handlers"]:559: ' .. result
    end
    if msg.Action == "Eval" then
      table.insert(Errors, result)
      local text = errorText(result, 733)
      local printData = table.concat(HANDLER_PRINT_LOGS, "\n")
      return { Error = printData .. "\n\n" .. Colors.red .. "error:\n" .. Colors.reset .. text }
    end
    if msg.Action then
      print(Colors.red .. "Error" .. Colors.gray .. " handling message with Action = " .. msg.Action .. Colors.reset)
    else
      print(Colors.red .. "Error" .. Colors.gray .. " handling message " .. Colors.reset)
    end
    local text = errorText(result, 751)
    print(Colors.green .. text .. Colors.reset)
    print("\n" .. Colors.gray .. handleTraceback .. Colors.reset)
    local printData = table.concat(HANDLER_PRINT_LOGS, "\n")
    return ao.result({
      Error = printData .. "\n\n" .. Colors.red .. "error:\n" .. Colors.reset .. text,
      Messages = {},
      Spawns = {},
      Assignments = {},
    })
  end

  local data, prompt, printed = table.concat(HANDLER_PRINT_LOGS, "\n"), Prompt(), nil
  if msg.Action ~= "Eval" then printed = true end
  -- The host reads the outbox itself: with the module's own ao.result and a plain outbox without Error,
  -- the Output's data, prompt and print are all the result it needs (returned after nil, before true).
  if outputOnly(ao, aoResult) then
    HANDLER_PRINT_LOGS = {}
    ao.Nonce = msg.Nonce
    return nil, data, prompt, printed, true
  end
  local response = ao.result(record("Output", record("data", data, "prompt", prompt, "print", printed)))
  HANDLER_PRINT_LOGS = {}
  ao.Nonce = msg.Nonce
  return response
end

return process
