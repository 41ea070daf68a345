// exprgen.mjs: writes node/aos/testdata/golden/generated-exprs.yaml, a scenario of generated Lua expressions
// over the standard library (arithmetic and bitwise operators, comparisons, the string functions with odd
// arguments, patterns, string.format, the table functions, tonumber/tostring). generate.mjs then runs it
// through the real AOS process like any scenario, and the golden test compares aonode with it.
//
//   node exprgen.mjs [--seed N] [--count N]     (defaults: seed 1, 600 expressions)
//
// The output depends only on the seed and the count. Every expression is evaluated by R, which the
// scenario's first message defines: it runs the expression in pcall and writes what comes back so that a
// difference can only come from behaviour, not from what Lua leaves free or from float-only printing
// (numbers are written with %.17g, or %.14g by R14, and zero without its sign; tables as "table").

import { setup, writeEvals } from './genlib.mjs'

const g = setup('exprgen.mjs', 'generated-exprs.yaml', 600)
const { rand, pick } = g

const ints = ['0', '1', '-1', '2', '3', '7', '-7', '10', '255', '256', '1000', '-1000', '65535', '2147483647', '-2147483648', '4294967296', '9007199254740991']
// No float with an integral value (100.0, 1e10): Lua 5.3 writes it as a float ("100.0") where aonode, with
// one number type, writes an integer (a known, marked difference: DIFFERENCES.md).
const floats = ['0.5', '-0.5', '1.5', '2.25', '3.14159', '1e-3', '-2.5', '1/3', '0.1 + 0.2']
const strs = ['""', '"a"', '"abc"', '"Hello World"', '"  padded  "', '"a,b,,c"', '"x=1&y=2"', '"12"', '"0x1F"', '" 3.5 "', '"héllo"', '"a.b-c_d"', '"\\0z"', '"%d"', '"(x)"', '"[]"', '"aaa"', '"abcabc"']
const patterns = ['"%a+"', '"%d+"', '"%s"', '"(%w+)"', '"^a"', '"c$"', '"[%a_]+"', '"[^,]+"', '"(.)(.)"', '"%%"', '".-"', '"a*"', '"a-b"', '"%p"', '"()a"', '"[%d%.]+"', '"%f[%w]%w+"', '"%b()"', '"x?y"', '"."']
const fmts = ['"%d"', '"%5d"', '"%-5d|"', '"%x"', '"%X"', '"%o"', '"%e"', '"%.3f"', '"%g"', '"%10.2f"', '"%s"', '"%q"', '"%5s|"', '"%-5s|"', '"%.2s"', '"%c"', '"%i"', '"%+d"', '"%05.1f"', '"%%"', '"%a"', '"%#x"']

const num = () => rand() < 0.7 ? pick(ints) : pick(floats)
const anyv = () => pick([num, () => pick(strs), () => 'nil', () => 'true', () => '{}'])()
// A value whose text is defined (a table's tostring is an address).
const textv = () => pick([num, () => pick(strs), () => 'nil', () => 'true'])()

const families = [
  // arithmetic, comparisons and bitwise operators
  () => `${num()} ${pick(['+', '-', '*', '/', '//', '%'])} ${num()}`,
  () => `${num()} ${pick(['<', '<=', '>', '>=', '==', '~='])} ${num()}`,
  () => `${pick(ints)} ${pick(['&', '|', '~', '<<', '>>'])} ${pick(ints)}`,
  () => `${pick(strs)} ${pick(['+', '*', '..', '<', '=='])} ${anyv()}`,
  () => `-(${num()}) // ${num()}`,
  () => `math.${pick(['floor', 'ceil', 'abs', 'sqrt', 'tointeger', 'type'])}(${num()})`,
  // The transcendental functions, written with %.14g as tostring writes them (R14): their last bit can
  // differ from the wasm's libm (DIFFERENCES.md), which %.17g would show.
  () => `R14:math.${pick(['exp', 'log', 'sin', 'cos', 'tan', 'atan', 'asin'])}(${num()})`,
  () => `R14:math.log(${num()}, ${pick(['2', '10', '3', '0.5'])})`,
  () => `R14:${num()} ^ ${num()}`,
  () => `math.${pick(['max', 'min', 'fmod', 'ult'])}(${num()}, ${num()})`,
  // strings
  () => `string.sub(${pick(strs)}, ${pick(ints)}, ${pick(ints)})`,
  () => `string.byte(${pick(strs)}, ${pick(['1', '-1', '2', '0', '10'])}, ${pick(['1', '-1', '3', '100'])})`,
  () => `string.rep(${pick(strs)}, ${pick(['0', '1', '3', '-1'])}, ${pick(strs)})`,
  () => `string.${pick(['upper', 'lower', 'len', 'reverse'])}(${pick(strs)})`,
  () => `string.char(${pick(['65', '0', '255', '97, 98, 99', '72, 105'])})`,
  () => `string.find(${pick(strs)}, ${pick(patterns)}, ${pick(['1', '2', '-2', '10'])}, ${pick(['nil', 'true'])})`,
  () => `string.match(${pick(strs)}, ${pick(patterns)})`,
  () => `string.gsub(${pick(strs)}, ${pick(patterns)}, ${pick(['"<%0>"', '"%1"', '"-"', '""', 'string.upper', '{ a = "A" }'])}, ${pick(['nil', '1', '2'])})`,
  () => `select("#", string.gsub(${pick(strs)}, ${pick(patterns)}, "."))`,
  () => `string.format(${pick(fmts)}, ${textv()})`,
  () => `tostring(${textv()}) .. "|" .. tostring(tonumber(${pick(strs)}))`,
  () => `tonumber(${pick(strs)}, ${pick(['2', '10', '16', '36'])})`,
  () => `utf8.len(${pick(strs)})`,
  // tables
  () => `table.concat({ ${[textv(), num(), pick(strs)].join(', ')} }, ${pick(strs)})`,
  () => `(function () local t = { ${[num(), num(), num(), num()].join(', ')} } table.sort(t) return table.concat(t, " ") end)()`,
  () => `(function () local t = { ${[pick(strs), pick(strs), pick(strs)].join(', ')} } table.sort(t, function (a, b) return #a < #b end) return table.concat(t, "|") end)()`,
  () => `(function () local t = { 1, 2, 3 } table.insert(t, ${pick(['1', '2', '4', '5', '0'])}, ${num()}) return table.concat(t, ",") end)()`,
  () => `(function () local t = { 1, 2, 3 } local r = table.remove(t, ${pick(['1', '3', '4', '0', '-1'])}) return tostring(r) .. ":" .. table.concat(t, ",") end)()`,
  () => `select("#", table.unpack({ 1, 2, 3 }, ${pick(['1', '2', '-1', '0'])}, ${pick(['3', '5', '1', '0'])}))`,
  () => `#{ ${[num(), num(), num()].join(', ')} }`,
  () => `select(${pick(['1', '2', '-1', '"#"', '3'])}, ${[textv(), textv(), textv()].join(', ')})`
]

const helper = `local function show(f, numfmt)
  local r = table.pack(pcall(f))
  local out = {}
  for i = 1, r.n do
    local v = r[i]
    if type(v) == "number" then
      if v ~= v then out[i] = "nan"
      elseif v == 0 then out[i] = "0"
      else out[i] = string.format(numfmt, v) end
    elseif type(v) == "string" then out[i] = string.format("%q", v)
    elseif type(v) == "table" then out[i] = "table"
    else out[i] = tostring(v) end
  end
  return table.concat(out, " ")
end
function R(f) return show(f, "%.17g") end
function R14(f) return show(f, "%.14g") end`

writeEvals(g, {
  script: 'exprgen.mjs',
  unit: 'expressions',
  about: 'Each message evaluates one expression through R or R14 (defined by the first), which write what pcall returns.',
  name: 'generated-exprs',
  helper,
  next: () => {
    const e = pick(families)()
    return e.startsWith('R14:') ? 'R14(function () return ' + e.slice(4) + ' end)' : 'R(function () return ' + e + ' end)'
  }
})
