-- Handlers: the ordered list of (name, pattern, handle, maxRuns) every message is run through, with AOS's
-- semantics (process/handlers.lua):
--   * a pattern is an Action name (string), a table of tag patterns, or a function; a function answers
--     true / -1 / "break" (run this handler and stop), 1 / "continue" (run it and go on), false / 0 / "skip"
--     or any other string (do not run it); any other answer is an error;
--   * the handler named "_default" runs only when no handler stopped the evaluation;
--   * a handle may be a function or a resolver table {matchSpec = fn, ...};
--   * Handlers.receive suspends the running handler (a coroutine) until a later message matches.
local utils = require(".utils")

local handlers = { _version = "0.0.5" }
handlers.utils = require(".handlers-utils")

-- A reloaded module keeps the handlers and suspended coroutines of the one it replaces.
local previous = rawget(_G, "Handlers")
if type(previous) == "table" then
  handlers.list = previous.list or {}
  handlers.coroutines = previous.coroutines or {}
else
  handlers.list = {}
  handlers.coroutines = {}
end
handlers.onceNonce = 0

local function findIndexByProp(list, prop, value)
  for i, o in ipairs(list) do
    if o[prop] == value then return i end
  end
  return nil
end

-- built once: the message would otherwise be concatenated on every add
local addArgsError = "Invalid arguments given. Expected: \n" ..
  "\tname : string, " ..
  "\tpattern : Action : string | MsgMatch : table,\n" ..
  "\t\tfunction(msg: Message) : {-1 = break, 0 = skip, 1 = continue},\n" ..
  "\thandle(msg : Message) : void) | Resolver,\n" ..
  "\tMaxRuns? : number | \"inf\" | nil"

-- AOS raises its argument errors from its own source lines, which are part of the messages: the positions
-- in the messages below are aos 2.0.0's.
local function assertAt(ok, message)
  if not ok then error(message, 0) end
  return ok
end

local addArgsFailure = '[string ".handlers"]:55: ' .. addArgsError

local function assertAddArgs(name, pattern)
  assertAt(type(name) == "string" and
    (type(pattern) == "function" or type(pattern) == "table" or type(pattern) == "string"),
    addArgsFailure)
end

-- generateResolver turns a handle into a function of the message (like AOS, the handle is not given env):
-- a function is called as is, a resolver table runs the function of its first matching spec.
function handlers.generateResolver(spec)
  return function(msg)
    if type(spec) == "function" then
      return spec(msg)
    end
    for matchSpec, fn in pairs(spec) do
      if utils.matchesSpec(msg, matchSpec) then
        return fn(msg)
      end
    end
  end
end

-- addArgs reads AOS's argument forms: (name, handle) uses name as the Action pattern,
-- (name, pattern, handle) and (name, pattern, handle, maxRuns).
local function addArgs(...)
  local n = select("#", ...)
  local name, pattern, handle, maxRuns
  if n == 2 then
    name, handle = ...
    pattern = name
  else
    name, pattern, handle, maxRuns = ...
  end
  assertAddArgs(name, pattern)
  return name, pattern, handlers.generateResolver(handle), maxRuns
end

-- upsert replaces the handler of the same name in place, or inserts a new one at pos (nil: the end).
local function upsert(name, pattern, handle, maxRuns, pos)
  local i = findIndexByProp(handlers.list, "name", name)
  if i then
    local o = handlers.list[i]
    o.pattern, o.handle, o.maxRuns = pattern, handle, maxRuns
    return
  end
  local o = { pattern = pattern, handle = handle, name = name, maxRuns = maxRuns }
  if pos then table.insert(handlers.list, pos, o) else table.insert(handlers.list, o) end
end

function handlers.add(...)
  upsert(addArgs(...))
  return #handlers.list
end

function handlers.append(...)
  upsert(addArgs(...))
end

function handlers.prepend(...)
  local name, pattern, handle, maxRuns = addArgs(...)
  upsert(name, pattern, handle, maxRuns, 1)
end

-- before/after place a new handler next to an existing one; the place is taken when before/after is called,
-- and nothing is added when that handler does not exist.
local function placer(target, offset, where)
  assertAt(type(target) == "string", where .. "Handler name MUST be a string")
  local idx = findIndexByProp(handlers.list, "name", target)
  return {
    add = function(name, pattern, handle, maxRuns)
      assertAddArgs(name, pattern)
      handle = handlers.generateResolver(handle)
      if idx then
        table.insert(handlers.list, idx + offset, { pattern = pattern, handle = handle, name = name, maxRuns = maxRuns })
      end
    end
  }
end

function handlers.before(target) return placer(target, 0, '[string ".handlers"]:389: ') end

function handlers.after(target) return placer(target, 1, '[string ".handlers"]:425: ') end

-- once adds a handler that runs a single time, at the front of the list; without a name it is "_once_<n>".
function handlers.once(...)
  local name, pattern, handle
  if select("#", ...) == 3 then
    name, pattern, handle = ...
  else
    name = "_once_" .. tostring(handlers.onceNonce)
    handlers.onceNonce = handlers.onceNonce + 1
    pattern, handle = ...
  end
  handlers.prepend(name, pattern, handle, 1)
end

function handlers.remove(name)
  assertAt(type(name) == "string", '[string ".handlers"]:461: name MUST be string')
  if #handlers.list == 1 and handlers.list[1].name == name then
    handlers.list = {}
  end
  local i = findIndexByProp(handlers.list, "name", name)
  if i then table.remove(handlers.list, i) end
end

-- receive suspends the calling handler until a message matching pattern arrives, and returns that message.
-- It must run inside the coroutine the process evaluates a message in (every handler does).
function handlers.receive(pattern)
  local self, main = coroutine.running()
  assert(self ~= nil and not main, "Handlers.receive must be called from a handler")
  handlers.once(pattern, function(msg)
    -- A handler that failed after an earlier resume is dead; like AOS, resuming it again does nothing.
    if coroutine.status(self) == "dead" then return end
    local ok, err = coroutine.resume(self, msg)
    if not ok then error(err, 0) end
  end)
  return coroutine.yield(pattern)
end

-- decision maps a pattern's answer onto AOS's numbers: -1 run and stop, 1 run and go on, 0 skip.
local function decision(match)
  local kind = type(match)
  if kind ~= "number" and kind ~= "string" and kind ~= "boolean" then
    error('[string ".handlers"]:503: Pattern result is not valid, it MUST be string, number, or boolean', 0)
  end
  if kind == "boolean" then return match and -1 or 0 end
  if kind == "string" then
    if match == "continue" then return 1 end
    if match == "break" then return -1 end
    return 0
  end
  return match
end

-- evaluate runs msg through the list in order. A handler's error is not caught here: the process runs
-- evaluate in a coroutine and reports the error. (AOS runs each handle in pcall and raises its error again,
-- which prefixes a string error with its position: the process does that, and state.inHandle, when the
-- process passes a state table, tells it whether the error came from a handle. A pcall here would keep a
-- handle from suspending in Receive.) Like AOS, it walks the live list, so a handler removed
-- while the walk is under way shifts the ones after it.
--
-- A function pattern is called directly while utils.matchesSpec is the module's own (which would just call
-- it), and a boolean answer is mapped without decision: the same calls, fewer steps.
local matchesSpec = utils.matchesSpec

function handlers.evaluate(msg, env, state)
  if type(msg) ~= "table" then error('[string ".handlers"]:489: msg is not valid', 0) end
  if type(env) ~= "table" then error('[string ".handlers"]:491: env is not valid', 0) end
  local handled = false
  local list = handlers.list
  local i = 1
  while list[i] ~= nil do
    local o = list[i]
    if o.name ~= "_default" then
      local pattern = o.pattern
      local match
      if type(pattern) == "function" and utils.matchesSpec == matchesSpec then
        match = pattern(msg)
      else
        match = utils.matchesSpec(msg, pattern)
      end
      if match == true then
        match = -1
      elseif match == false then
        match = 0
      else
        match = decision(match)
      end
      if match ~= 0 then
        if match < 0 then handled = true end
        if state then state.inHandle = true end
        o.handle(msg, env)
        if state then state.inHandle = false end
        if o.maxRuns ~= nil and o.maxRuns ~= "inf" then
          o.maxRuns = o.maxRuns - 1
          if o.maxRuns == 0 then handlers.remove(o.name) end
        end
      end
      if match < 0 then return handled end
    end
    i = i + 1
  end
  if not handled then
    local d = findIndexByProp(handlers.list, "name", "_default")
    if d then handlers.list[d].handle(msg, env) end
  end
end

return handlers
