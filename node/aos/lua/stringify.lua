-- .stringify: how print and Eval show a table (AOS's format, colours included). A module of its own, in
-- a chunk named ".stringify" as in AOS, whose statements that can fail sit on the lines of AOS's: an error
-- raised here carries the position real AOS reports (the runtime maps line n to 2n-1, as bint.go says).
local stringify = { _version = "0.0.1" }
local sc = { red = "\27[31m", green = "\27[32m", blue = "\27[34m", reset = "\27[0m" }

local function quoted(v) return sc.green .. '"' .. v .. '"' .. sc.reset end

-- isSimpleArray: keys 1..n in order and only strings and numbers as values (an empty table is one). Any
-- value may be given: format("x") fails here, as in AOS ("bad argument #1 to 'for iterator'").
function stringify.isSimpleArray(tbl)
  local expected = 1
  for k, v in pairs(tbl) do
    if k ~= expected or (type(v) ~= "number" and type(v) ~= "string") then return false end
    expected = expected + 1
  end
  return true
end

-- format shows a simple array on one line, other tables one entry a line. A table that is a sequence is
-- shown as its values; as soon as a key breaks the sequence, the table is shown as key = value pairs from
-- that key on. A table met again among key = value entries ends the whole rendering as "<circular
-- reference>". Values are written as tostring writes them; keys with `..`, so a boolean or table key fails
-- the rendering (and print, or an Eval's output, with it), as in AOS.
function stringify.format(tbl, indent, visited)
  indent = indent or 0
  local pad = string.rep(" ", indent)
  local childPad = string.rep(" ", indent + 2)
  local items = {}
  local sequence, nextIndex = true, 1
  if stringify.isSimpleArray(tbl) then
    for _, v in ipairs(tbl) do
      if type(v) == "string" then
        items[#items + 1] = quoted(v)
      else
        items[#items + 1] = sc.blue .. tostring(v) .. sc.reset
      end
    end
    return "{ " .. table.concat(items, ", ") .. " }"
  end
  -- the values of a leading sequence are kept only when every key is part of it

  for k, v in pairs(tbl) do
    if sequence then
      if k == nextIndex then
        nextIndex = nextIndex + 1
        if type(v) == "table" then
          v = stringify.format(v, indent + 2)
        elseif type(v) == "string" then
          v = quoted(v)
        else
          v = sc.blue .. tostring(v) .. sc.reset
        end
        items[#items + 1] = childPad .. v
      else
        sequence = false
        items = {}
      end
    end
    if not sequence then
      if type(v) == "table" then
        visited = visited or {}
        if visited[v] then
          return "<circular reference>"
        end
        visited[v] = true
        -- the nested table gets the visited set, so a cycle through it is found too
        v = stringify.format(v, indent + 2, visited)
      elseif type(v) == "string" then
        v = quoted(v)
      else
        v = sc.blue .. tostring(v) .. sc.reset
      end
      k = sc.red .. k .. sc.reset
      items[#items + 1] = childPad .. k .. " = " .. v
    end
  end
  if sequence then
    return "{\n" .. table.concat(items, ",\n") .. "\n" .. pad .. " }"
  end
  return "{\n " .. table.concat(items, ",\n ") .. "\n" .. pad .. "}"
end

return stringify
