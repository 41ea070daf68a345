-- Runs every chunk of a corpus (one a line, "\n" for a line break) as Lua 5.3 loads and runs it, named
-- "aos", and writes what it gives: OK, COMPILE and the message, or the error (a non-string error as
-- <type>), one a line. Regenerate: lua5.3 run53.lua corpus.txt > lua53.txt
for code in io.lines(arg[1]) do
  code = code:gsub("\\n", "\n")
  local f, err = load(code, "aos")
  local res
  if not f then
    res = "COMPILE " .. tostring(err)
  else
    local ok, e = pcall(f)
    if ok then res = "OK" else res = (type(e) == "string") and e or ("<" .. type(e) .. ">") end
  end
  io.write((res:gsub("\n", "\\n")), "\n")
end
