-- Handlers.utils: common patterns and replies.
local hu = { _version = "aonode" }

function hu.hasMatchingTag(name, value)
  assert(type(name) == "string" and type(value) == "string", "invalid arguments: (name : string, value : string)")
  return function(msg) return msg.Tags[name] == value end
end

function hu.hasMatchingTagOf(name, values)
  assert(type(name) == "string" and type(values) == "table", "invalid arguments: (name : string, values : string[])")
  return function(msg)
    for _, v in ipairs(values) do
      if msg.Tags[name] == v then return true end
    end
    return false
  end
end

function hu.hasMatchingData(value)
  assert(type(value) == "string", "invalid arguments: (value : string)")
  return function(msg) return msg.Data == value end
end

function hu.reply(input)
  assert(type(input) == "table" or type(input) == "string", "invalid arguments: (input : table or string)")
  return function(msg)
    if type(input) == "string" then
      msg.reply({ Data = input })
    else
      msg.reply(input)
    end
  end
end

function hu.continue(fn)
  assert(type(fn) == "function", "invalid arguments: (fn : function)")
  return function(msg)
    local r = fn(msg)
    if r == nil or r == false or r == 0 or r == "skip" or r == -1 then return r end
    return "continue"
  end
end

return hu
