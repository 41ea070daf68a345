-- utils: the functional helpers and the message-matching rules of the AOS process API.
-- Behaviour follows AOS (process/utils.lua): curried helpers that assert their arguments, case-insensitive
-- value matching, and title-case key normalization.
local utils = { _version = "0.0.5" }

-- The host passes Go versions of the hot helpers as the chunk's second argument (see native.go); the Lua
-- definitions below are the same rules, used when the module is loaded without them (a re-require).
local _, native = ...
if type(native) ~= "table" then native = {} end

-- assertAt is assert with the position AOS's module raises the error from: those positions (aos 2.0.0's
-- source lines) are part of the messages processes see.
local function assertAt(ok, message)
  if not ok then error(message, 0) end
  return ok
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

-- A string is a Lua pattern when it holds one of ^$()%.[]*+? (a lone "-" does not count); otherwise it
-- is compared whole. Both compare case-insensitively, as AOS does.
local magic = "[%^%$%(%)%%%.%[%]%*%+%?]"
local isPattern = native.isPattern or function(s) return string.match(s, magic) ~= nil end

function utils.matchesPattern(pattern, value, msg)
  if not pattern then return false end
  if pattern == "_" then return true end
  local kind = type(pattern)
  if kind == "function" then
    return pattern(value, msg) and true or false
  end
  if kind == "string" then
    local subject = string.lower(value or "")
    local p = string.lower(pattern)
    if isPattern(pattern) then
      return string.match(subject, p) ~= nil
    end
    return subject == p
  end
  if kind == "table" then
    for _, alternative in pairs(pattern) do
      if utils.matchesPattern(alternative, value, msg) then return true end
    end
  end
  return false
end

-- matchesSpec: a function spec is called (its answer is returned as is), a table spec needs every key to be
-- present in msg and to match, a string spec is the message's Action.
function utils.matchesSpec(msg, spec)
  local kind = type(spec)
  if kind == "function" then
    return spec(msg)
  end
  if kind == "table" then
    for key, pattern in pairs(spec) do
      if not msg[key] then return false end
      if not utils.matchesPattern(pattern, msg[key], msg) then return false end
    end
    return true
  end
  if kind == "string" and msg.Action and msg.Action == spec then
    return true
  end
  return false
end

-- normalize turns a key into AOS's title case: underscores become dashes, the first letter and every letter
-- after a dash are upper case, the rest lower case ("x_reference" -> "X-Reference"). Letters are ASCII only,
-- as with C Lua's %l, string.upper and string.lower in the C locale (real AOS runs C Lua).
utils.normalize = native.normalize or function(str)
  if type(str) ~= "string" then return str end
  local s = string.gsub(str, "_", "-")
  return (string.gsub(s, "()([A-Za-z])", function(i, c)
    if i == 1 or string.sub(s, i - 1, i - 1) == "-" then return string.upper(c) end
    return string.lower(c)
  end))
end

function utils.capitalize(str)
  if type(str) ~= "string" or str == "" then return str end
  return string.upper(string.sub(str, 1, 1)) .. string.lower(string.sub(str, 2))
end

-- curry: calls fn once arity arguments were given (arity defaults to fn's parameter count, from
-- debug.getinfo). As in AOS, the arguments are counted with # and a partial call keeps only the first of
-- the arguments it was given: AOS forwards them as `table.unpack(args), ...`, where a call's results are
-- cut to one unless they come last.
local unpack = table.unpack

local function curry(fn, arity)
  assertAt(type(fn) == "function", '[string ".utils"]:185: function is required as first argument')
  arity = arity or debug.getinfo(fn, "u").nparams
  if arity < 2 then return fn end
  return function(...)
    local args = { ... }
    if #args >= arity then return fn(unpack(args)) end
    local first = args[1]
    return curry(function(...) return fn(first, ...) end, arity - #args)
  end
end
utils.curry = curry

utils.concat = curry(function(a, b)
  assertAt(type(a) == "table", '[string ".utils"]:227: first argument should be a table that is an array')
  assertAt(type(b) == "table", '[string ".utils"]:229: second argument should be a table that is an array')
  assertAt(isArray(a), '[string ".utils"]:231: first argument should be a table')
  assertAt(isArray(b), '[string ".utils"]:233: second argument should be a table')
  local out = {}
  for i = 1, #a do out[#out + 1] = a[i] end
  for i = 1, #b do out[#out + 1] = b[i] end
  return out
end, 2)

-- reduce folds with fn(acc, value, key); a nil accumulator takes the next value instead of calling fn.
utils.reduce = curry(function(fn, initial, t)
  assertAt(type(fn) == "function", '[string ".utils"]:269: first argument should be a function that accepts (result, value, key)')
  assertAt(type(t) == "table" and isArray(t), '[string ".utils"]:271: third argument should be a table that is an array')
  local acc = initial
  for k, v in pairs(t) do
    if acc == nil then acc = v else acc = fn(acc, v, k) end
  end
  return acc
end, 3)

utils.map = curry(function(fn, data)
  assertAt(type(fn) == "function", '[string ".utils"]:301: first argument should be a unary function')
  assertAt(type(data) == "table" and isArray(data), '[string ".utils"]:303: second argument should be an Array')
  return utils.reduce(function(out, v, k)
    out[k] = fn(v, k)
    return out
  end, {}, data)
end, 2)

utils.filter = curry(function(fn, data)
  assertAt(type(fn) == "function", '[string ".utils"]:329: first argument should be a unary function')
  assertAt(type(data) == "table" and isArray(data), '[string ".utils"]:331: second argument should be an Array')
  return utils.reduce(function(out, v)
    if fn(v) then out[#out + 1] = v end
    return out
  end, {}, data)
end, 2)

utils.find = curry(function(fn, t)
  assertAt(type(fn) == "function", '[string ".utils"]:361: first argument should be a unary function')
  assertAt(type(t) == "table", '[string ".utils"]:363: second argument should be a table that is an array')
  for _, v in pairs(t) do
    if fn(v) then return v end
  end
  -- no match: no value at all (not nil), as in AOS
end, 2)

utils.propEq = curry(function(name, value, object)
  assertAt(type(name) == "string", '[string ".utils"]:387: first argument should be a string')
  assert(type(value) == "string", "second argument should be a string")
  assertAt(type(object) == "table", '[string ".utils"]:391: third argument should be a table<object>')
  return object[name] == value
end, 3)

utils.reverse = function(data)
  assertAt(type(data) == "table", '[string ".utils"]:405: argument needs to be a table that is an array')
  return utils.reduce(function(out, v, i)
    out[#data - i + 1] = v
    return out
  end, {}, data)
end

-- compose(f, g, ...)(v) is f(g(...(v))); like AOS it takes at least two functions (curried on two).
utils.compose = curry(function(...)
  local fns = { ... }
  return function(v)
    local r = v
    for i = #fns, 1, -1 do
      assertAt(type(fns[i]) == "function", '[string ".utils"]:441: each argument needs to be a function')
      r = fns[i](r)
    end
    return r
  end
end, 2)

utils.prop = curry(function(name, object)
  return object[name]
end, 2)

utils.includes = curry(function(val, t)
  assertAt(type(t) == "table", '[string ".utils"]:473: argument needs to be a table')
  assert(isArray(t), "argument should be a table that is an array")
  return utils.find(function(v) return v == val end, t) ~= nil
end, 2)

utils.keys = function(t)
  assertAt(type(t) == "table", '[string ".utils"]:485: argument needs to be a table')
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  return out
end

utils.values = function(t)
  assertAt(type(t) == "table", '[string ".utils"]:505: argument needs to be a table')
  local out = {}
  for _, v in pairs(t) do out[#out + 1] = v end
  return out
end

return utils
