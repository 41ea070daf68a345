-- Runs every case of cases.txt (one Lua expression list per line; blank lines and lines starting with
-- "--" are skipped) under real Lua 5.3 and prints "<expression>\t<result>" per case, where result is
-- "ok <values>" or "err <message without its position>". golden_test.go (-update) runs this with lua5.3
-- to make golden.txt; the test then checks the package gives the same results.
--
-- Values are written so that a float-only Lua can write them the same way: integral numbers in the
-- int64 range as integers, other numbers with %.16e, strings quoted with every byte outside printable
-- ASCII (and '"', '\') as \ddd, tables as {...} of their array part.

function all(it) -- the results of an iterator, one table per step
  local r = {}
  while true do
    local t = {it()}
    if t[1] == nil then break end
    r[#r + 1] = t
  end
  return r
end

local function quote(s)
  local out = {}
  for i = 1, #s do
    local c = s:byte(i)
    if c < 32 or c > 126 or c == 34 or c == 92 then
      out[#out + 1] = string.format("\\%03d", c)
    else
      out[#out + 1] = string.char(c)
    end
  end
  return '"' .. table.concat(out) .. '"'
end

local ser
function ser(v)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then
    if v ~= v then return "nan" end
    if v == math.huge then return "inf" end
    if v == -math.huge then return "-inf" end
    if v == math.floor(v) and v >= -2^63 and v < 2^63 then
      return string.format("%d", math.tointeger(v))
    end
    return string.format("%.16e", v)
  end
  if t == "table" then
    local parts = {}
    for i = 1, #v do parts[i] = ser(v[i]) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  if t == "nil" or t == "boolean" then return tostring(v) end
  return t
end

for line in io.lines() do
  if line ~= "" and line:sub(1, 2) ~= "--" then
    local fn, cerr = load("return " .. line, "=case")
    local res
    if not fn then
      res = "compile error: " .. cerr
    else
      local r = table.pack(pcall(fn))
      if r[1] then
        local parts = {}
        for i = 2, r.n do parts[#parts + 1] = ser(r[i]) end
        res = "ok " .. table.concat(parts, ", ")
      else
        local msg = tostring(r[2]):gsub("^[^\n]-:%d+: ", "")
        res = "err " .. quote(msg)
      end
    end
    io.write(line, "\t", res, "\n")
  end
end
