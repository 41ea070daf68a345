-- utils: the functional helpers AOS code expects (curried where AOS curries).
local utils = { _version = "aonode" }

local function curry(fn, arity)
  arity = arity or 2
  if arity < 2 then return fn end
  return function(...)
    local args = { ... }
    if #args >= arity then return fn(table.unpack(args)) end
    return curry(function(...)
      local more = { ... }
      local all = {}
      for _, v in ipairs(args) do all[#all + 1] = v end
      for _, v in ipairs(more) do all[#all + 1] = v end
      return fn(table.unpack(all))
    end, arity - #args)
  end
end
utils.curry = curry

-- A string pattern is a Lua pattern when it has magic characters, a literal otherwise; "_" matches anything.
function utils.matchesPattern(pattern, value, msg)
  if pattern == nil then return false end
  if pattern == "_" then return true end
  if type(pattern) == "function" then return pattern(value, msg) and true or false end
  if type(pattern) == "table" then
    for _, p in ipairs(pattern) do
      if utils.matchesPattern(p, value, msg) then return true end
    end
    return false
  end
  if type(pattern) == "string" then
    if value == nil then return false end
    value = tostring(value)
    if pattern:find("[%^%$%(%)%%%.%[%]%*%+%-%?]") then
      local ok, m = pcall(string.match, value, pattern)
      return ok and m ~= nil
    end
    return value == pattern
  end
  return pattern == value
end

function utils.matchesSpec(msg, spec)
  if type(spec) == "function" then return spec(msg) end
  if type(spec) == "table" then
    for k, v in pairs(spec) do
      if msg[k] == nil then return false end
      if not utils.matchesPattern(v, msg[k], msg) then return false end
    end
    return true
  end
  if type(spec) == "string" then return msg.Action ~= nil and msg.Action == spec end
  return false
end

local function isArray(t)
  if type(t) ~= "table" then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do if t[i] == nil then return false end end
  return true
end
utils.isArray = isArray

utils.map = curry(function(fn, t)
  local out = {}
  for i, v in ipairs(t) do out[#out + 1] = fn(v, i) end
  return out
end, 2)

utils.filter = curry(function(fn, t)
  local out = {}
  for _, v in ipairs(t) do if fn(v) then out[#out + 1] = v end end
  return out
end, 2)

utils.reduce = curry(function(fn, initial, t)
  local acc = initial
  for i, v in ipairs(t) do
    if i == 1 and acc == nil then acc = v else acc = fn(acc, v) end
  end
  return acc
end, 3)

utils.find = curry(function(fn, t)
  for _, v in ipairs(t) do if fn(v) then return v end end
  return nil
end, 2)

utils.propEq = curry(function(name, value, obj) return obj[name] == value end, 3)
utils.prop = curry(function(name, obj) return obj[name] end, 2)

utils.includes = curry(function(v, t)
  for _, x in ipairs(t) do if x == v then return true end end
  return false
end, 2)

utils.concat = curry(function(a, b)
  local out = {}
  for _, v in ipairs(a) do out[#out + 1] = v end
  for _, v in ipairs(b) do out[#out + 1] = v end
  return out
end, 2)

utils.reverse = function(t)
  local out = {}
  for i = #t, 1, -1 do out[#out + 1] = t[i] end
  return out
end

function utils.keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out, function(a, b) return tostring(a) < tostring(b) end)
  return out
end

function utils.values(t)
  local out = {}
  for _, k in ipairs(utils.keys(t)) do out[#out + 1] = t[k] end
  return out
end

function utils.compose(...)
  local fns = { ... }
  return function(...)
    local r = { ... }
    for i = #fns, 1, -1 do r = { fns[i](table.unpack(r)) } end
    return table.unpack(r)
  end
end

return utils
