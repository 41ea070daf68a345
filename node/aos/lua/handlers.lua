-- Handlers: the ordered list of (pattern, handle) pairs every message is run through.
local utils = require(".utils")
local handlers = { _version = "aonode", list = {}, coroutines = {}, onceNonce = 0 }
handlers.utils = require(".handlers-utils")

local function indexOf(name)
  for i, h in ipairs(handlers.list) do
    if h.name == name then return i end
  end
  return nil
end

-- normalizes the (name, pattern, handle, maxRuns) forms AOS accepts: a missing pattern means "Action = name".
local function args(name, pattern, handle, maxRuns)
  assert(type(name) == "string", "invalid arguments: handler name must be a string")
  if type(pattern) == "function" and handle == nil then
    handle, pattern = pattern, name
  elseif type(pattern) == "function" and type(handle) == "number" and maxRuns == nil then
    -- (name, handle, maxRuns)? AOS reads (name, pattern, handle): only when handle is not a function.
  end
  assert(type(handle) == "function" or type(handle) == "table" or type(handle) == "string",
    "invalid arguments: handle must be a function")
  if type(pattern) == "string" then
    local action = pattern
    pattern = function(msg) return msg.Action == action end
  elseif type(pattern) == "table" then
    local spec = pattern
    pattern = function(msg) return utils.matchesSpec(msg, spec) end
  end
  assert(type(pattern) == "function", "invalid arguments: pattern must be a function, a string or a table")
  return { name = name, pattern = pattern, handle = handle, maxRuns = maxRuns }
end

function handlers.add(name, pattern, handle, maxRuns)
  local h = args(name, pattern, handle, maxRuns)
  local i = indexOf(name)
  if i then handlers.list[i] = h else table.insert(handlers.list, h) end
  return #handlers.list
end

function handlers.append(name, pattern, handle, maxRuns)
  return handlers.add(name, pattern, handle, maxRuns)
end

function handlers.prepend(name, pattern, handle, maxRuns)
  local h = args(name, pattern, handle, maxRuns)
  local i = indexOf(name)
  if i then table.remove(handlers.list, i) end
  table.insert(handlers.list, 1, h)
  return #handlers.list
end

function handlers.before(target)
  return {
    add = function(name, pattern, handle, maxRuns)
      local h = args(name, pattern, handle, maxRuns)
      local old = indexOf(name)
      if old then table.remove(handlers.list, old) end
      local i = indexOf(target)
      table.insert(handlers.list, i or 1, h)
      return #handlers.list
    end
  }
end

function handlers.after(target)
  return {
    add = function(name, pattern, handle, maxRuns)
      local h = args(name, pattern, handle, maxRuns)
      local old = indexOf(name)
      if old then table.remove(handlers.list, old) end
      local i = indexOf(target)
      table.insert(handlers.list, i and i + 1 or #handlers.list + 1, h)
      return #handlers.list
    end
  }
end

function handlers.once(name, pattern, handle)
  if type(name) ~= "string" then
    name, pattern, handle = "_once_" .. tostring(handlers.onceNonce), name, pattern
    handlers.onceNonce = handlers.onceNonce + 1
  end
  return handlers.prepend(name, pattern, handle, 1)
end

function handlers.remove(name)
  local i = indexOf(name)
  if i then table.remove(handlers.list, i) end
  return i ~= nil
end

-- decision turns a pattern's answer into what to do: -1 skip, 0 run and go on, 1 run and stop.
local function decision(r)
  if r == nil or r == false or r == -1 or r == "skip" then return -1 end
  if r == 0 or r == "continue" then return 0 end
  if r == true or r == 1 or r == "break" then return 1 end
  return 1
end

-- evaluate runs msg through the list; it returns whether any handler ran. A handler error stops the run
-- and is raised with the handler's name and the message's Action.
function handlers.evaluate(msg, env)
  local ran = false
  local i = 1
  while i <= #handlers.list do
    local h = handlers.list[i]
    local ok, r = pcall(h.pattern, msg)
    local d = ok and decision(r) or -1
    if d >= 0 then
      ran = true
      if h.maxRuns ~= nil then
        h.maxRuns = h.maxRuns - 1
        if h.maxRuns <= 0 then table.remove(handlers.list, i); i = i - 1 end
      end
      if type(h.handle) == "function" then
        local hok, err = pcall(h.handle, msg, env)
        if not hok then
          error({ handler = h.name, action = msg.Action, err = err }, 0)
        end
      end
      if d == 1 then break end
    end
    i = i + 1
  end
  return ran
end

return handlers
