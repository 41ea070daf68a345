-- Handlers.utils: ready-made patterns and replies, with AOS's return conventions (a pattern that does not
-- match answers false or 0, which both mean "skip").
local utils = require(".utils")
local hu = { _version = "0.0.2" }

-- assertAt is assert with the position AOS's module raises the error from: those positions (aos 2.0.0's
-- source lines) are part of the messages processes see.
local function assertAt(ok, message)
  if not ok then error(message, 0) end
  return ok
end

function hu.hasMatchingTag(name, value)
  assertAt(type(name) == "string" and type(value) == "string", '[string ".handlers-utils"]:13: invalid arguments: (name : string, value : string)')
  return function(msg)
    return msg.Tags[name] == value
  end
end

-- hasMatchingTagOf answers the first matching value's result, or 0 when none matches.
function hu.hasMatchingTagOf(name, values)
  assertAt(type(name) == "string" and type(values) == "table", '[string ".handlers-utils"]:29: invalid arguments: (name : string, values : string[])')
  return function(msg)
    for _, value in ipairs(values) do
      local r = hu.hasMatchingTag(name, value)(msg)
      if r ~= 0 and r ~= false and r ~= "skip" then return r end
    end
    return 0
  end
end

function hu.hasMatchingData(value)
  assertAt(type(value) == "string", '[string ".handlers-utils"]:59: invalid arguments: (value : string)')
  return function(msg)
    return msg.Data == value
  end
end

-- reply(input) is a handle that answers the message: a string becomes the reply's Data, a table is the reply.
function hu.reply(input)
  assertAt(type(input) == "string" or type(input) == "table", '[string ".handlers-utils"]:73: invalid arguments: (input : table or string)')
  return function(msg)
    if type(input) == "string" then
      msg.reply({ Data = input })
      return
    end
    msg.reply(input)
  end
end

-- continue(pattern) keeps pattern's "no" answers and turns any match into 1 (run, then go on to the next
-- handler).
function hu.continue(pattern)
  return function(msg)
    local r = utils.matchesSpec(msg, pattern)
    if not r or r == 0 or r == "skip" then return r end
    return 1
  end
end

return hu
