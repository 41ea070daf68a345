// libgen.mjs: writes node/aos/testdata/golden/generated-lib.yaml, a scenario of generated calls into the
// parts of the standard library the other generators touch least: os.date with every conversion and
// times from before 1970 to after 2100, os.time over normalised and out-of-range date tables,
// string.format with random flags, widths and precisions, tonumber in every base, utf8's functions at
// their bounds, and string.sub/byte/rep, select and table.unpack with negative and out-of-range indices.
// generate.mjs runs it through the real AOS process, and the golden test compares aonode with it.
//
//   node libgen.mjs [--seed N] [--count N]     (defaults: seed 1, 500 expressions)
//
// Every expression goes through R (defined by the first message), which writes what pcall returns:
// numbers with %.17g (integral ones as integers), strings with %q, tables as their sorted key=value pairs.

import { setup, writeEvals, showR } from './genlib.mjs'

const g = setup('libgen.mjs', 'generated-lib.yaml', 500)
const { rand, int, pick, chance } = g
const q = (s) => JSON.stringify(s)

const convs = ['a', 'A', 'b', 'B', 'c', 'C', 'd', 'D', 'e', 'F', 'g', 'G', 'h', 'H', 'I', 'j', 'm', 'M', 'n', 'p', 'r', 'R', 'S', 't', 'T', 'u', 'U', 'V', 'w', 'W', 'x', 'X', 'y', 'Y', 'z', 'Z', '%', 'Ec', 'Ex', 'EY', 'Od', 'OH', 'q', 'E', 'O', '']
const times = ['0', '1', '59', '86399', '86400', '951782400', '1700000000', '1709251199', '4102444800', '-1', '-86400', '-2208988800', '253402300799', '2147483647', '2147483648', '1e10', '0.5', '1700000000.9']
function dateFmt () {
  let f = chance(0.8) ? '!' : ''
  const n = 1 + int(3)
  for (let i = 0; i < n; i++) f += pick(['', ' ', '-', 'T']) + '%' + pick(convs)
  return f
}
const dateFields = ['year', 'month', 'day', 'hour', 'min', 'sec', 'isdst']
function dateTable () {
  const f = [`year = ${pick(['1970', '2000', '2024', '1969', '2100', '1900', '3000'])}`, `month = ${pick(['1', '2', '12', '13', '0', '-1', '25'])}`, `day = ${pick(['1', '28', '29', '31', '0', '-5', '400'])}`]
  if (chance(0.7)) f.push(`hour = ${pick(['0', '12', '23', '24', '-1', '100'])}`)
  if (chance(0.5)) f.push(`min = ${pick(['0', '59', '60', '-30'])}`)
  if (chance(0.5)) f.push(`sec = ${pick(['0', '59', '61', '-1', '3600'])}`)
  if (chance(0.1)) f.splice(int(f.length), 1)
  if (chance(0.1)) f.push(`isdst = ${pick(['true', 'false'])}`)
  if (chance(0.05)) f.push(`${pick(dateFields)} = ${pick(['"5"', '"x"', '1.5'])}`)
  return '{ ' + f.join(', ') + ' }'
}

function fmtSpec () {
  let s = '%'
  for (const fl of ['-', '+', ' ', '#', '0']) if (chance(0.15)) s += fl
  if (chance(0.5)) s += String(pick([1, 2, 5, 10, 20, 99]))
  if (chance(0.4)) s += '.' + String(pick([0, 1, 3, 10, 20, 99]))
  return s + pick(['d', 'i', 'u', 'c', 'x', 'X', 'o', 'e', 'E', 'f', 'F', 'g', 'G', 'a', 'A', 's', 'q', '%'])
}
// No float with an integral value (1.0, 2^53, 1e100): Lua 5.3 formats it as a float where aonode, with one
// number type, has an integer (a known, marked difference: DIFFERENCES.md); no table (its address).
const fmtArgs = ['0', '1', '-1', '42', '-42', '255', '3.5', '-0.5', '1e-10', '1/0', '-1/0', '0/0',
  '"text"', '""', '"12"', '"0x10"', '"é"', 'true', 'nil', '65']

// anyFloat is a random argument for the transcendental functions: a fraction, a small or large magnitude,
// or a value near a multiple of pi/2, written as JavaScript writes a double (it reads back exactly).
function anyFloat () {
  const r = rand()
  let v
  if (r < 0.3) v = rand() * 2
  else if (r < 0.5) v = (rand() - 0.5) * 20
  else if (r < 0.65) v = rand() * 700
  else if (r < 0.75) v = Math.pow(10, (rand() - 0.5) * 40)
  else if (r < 0.85) v = (int(20) - 10) * Math.PI / 2 + (rand() - 0.5) * 1e-6
  else v = (rand() - 0.3) * 1e6
  const t = String(v)
  return t.startsWith('-') ? '(' + t + ')' : t
}

const families = [
  () => `os.date(${q(dateFmt())}, ${pick(times)})`,
  () => `os.date(${q(pick(['!*t', '*t']))}, ${pick(times)})`,
  () => `os.time(${dateTable()})`,
  () => `(function () local t = ${dateTable()} local r = os.time(t) return r, t.year, t.month, t.day, t.hour, t.min, t.sec, t.yday, t.wday end)()`,
  () => `os.date("!%Y-%m-%d %H:%M:%S", os.time(${dateTable()}))`,
  () => `os.difftime(${pick(times)}, ${pick(times)})`,
  () => `string.format(${q(fmtSpec())}, ${pick(fmtArgs)})`,
  () => `string.format(${q(fmtSpec() + '|' + fmtSpec())}, ${pick(fmtArgs)}, ${pick(fmtArgs)})`,
  () => `tonumber(${q(pick(['10', 'ff', 'FF', 'zz', '-10', ' 11 ', '1.5', '', '0x10', '7', '1e2', '-0', '9999999999999999999', 'Z', '101', '  -z  ']))}, ${pick(['2', '8', '10', '16', '36', '1', '37', '0', '2.5'])})`,
  () => `tonumber(${q(pick(['0x1p4', '0x.8', '1e+', '.5', '5.', '0x', '1e309', '-1e309', 'inf', 'nan', '0X1P-2', '  0x10  ', '1 2', '0b1', '١']))})`,
  () => `utf8.char(${pick(['0', '127', '128', '2047', '2048', '65535', '65536', '1114111', '1114112', '0x7FFFFFFF', '-1', '72, 105'])})`,
  () => `utf8.codepoint(${q(pick(['héllo', 'abc', '€', '\\xff', '\\xc3', 'a\\u{10FFFF}b', '']))}, ${pick(['1', '2', '-1', '0', '10'])}, ${pick(['1', '-1', '3', '10'])})`,
  () => `utf8.offset(${q(pick(['héllo', 'abc', '€x', '\\x80x', '']))}, ${pick(['1', '2', '-1', '0', '3', '-3', '10'])}, ${pick(['1', '2', '-1', 'nil', '4', '10'])})`,
  () => `utf8.len(${q(pick(['héllo', 'abc', '\\xff', 'a\\x80', '€', '']))}, ${pick(['1', '2', '-1', '0', '10'])}, ${pick(['-1', '1', '3', '10', '-10'])})`,
  () => `string.sub(${q(pick(['hello', '', 'é', 'abcdef']))}, ${pick(['1', '0', '-1', '-3', '3', '10', '-10', '2^53', '-2^53', '1.0'])}, ${pick(['-1', '0', '2', '-2', '10', '-10', '2^53'])})`,
  () => `string.byte(${q(pick(['hello', '', 'é']))}, ${pick(['1', '0', '-1', '-10', '3', '10'])}, ${pick(['-1', '0', '2', '10', '-10'])})`,
  () => `select(${pick(['1', '2', '-1', '-2', '-3', '3', '0', '"#"', '"x"', '1.5'])}, "a", "b")`,
  () => `table.unpack({ 1, 2, 3 }, ${pick(['1', '2', '-1', '0', '3', '4', 'nil'])}, ${pick(['3', '5', '1', '0', '-1', 'nil'])})`,
  () => `math.${pick(['floor', 'ceil', 'abs', 'tointeger', 'type'])}(${pick(['"10"', '"1.5"', '"x"', '3.7', '-3.7', '"2^63"', '0.25'])})`,
  () => `math.fmod(${pick(['7', '-7', '7.5', '"7"', '0'])}, ${pick(['3', '-3', '0.5', '"2"', 'math.huge'])})`,
  () => `string.rep(${q(pick(['ab', '', 'x']))}, ${pick(['3', '0', '-1', '2.0', '"2"'])}, ${pick(['nil', '","', '""'])})`,
  // the transcendental functions at full precision (%.17g): random arguments of every magnitude
  () => `math.${pick(['exp', 'log', 'sin', 'cos', 'tan', 'atan', 'asin', 'acos', 'sqrt'])}(${anyFloat()})`,
  () => `math.log(${anyFloat()}, ${pick(['2', '10', '3', '0.5', anyFloat()])})`,
  () => `math.atan(${anyFloat()}, ${anyFloat()})`,
  () => `${anyFloat()} ^ ${pick(['0.5', '1.5', '-0.25', '2', '3', '10', '-2', anyFloat()])}`
]

const helper = `local function show(v)
  if type(v) == "number" then
    if v ~= v then return "nan" end
    if v == math.floor(v) and v > -2^53 and v < 2^53 then return string.format("%d", v) end
    return string.format("%.17g", v)
  elseif type(v) == "string" then return string.format("%q", v)
  elseif type(v) == "table" then
    local ks = {}
    for k, x in pairs(v) do ks[#ks + 1] = tostring(k) .. "=" .. show(x) end
    table.sort(ks)
    return "{" .. table.concat(ks, ",") .. "}"
  end
  return tostring(v)
end
` + showR

writeEvals(g, {
  script: 'libgen.mjs',
  unit: 'expressions',
  about: 'Each message evaluates one library call through R (defined by the first), which writes what pcall returns.',
  name: 'generated-lib',
  helper,
  next: () => 'R(function () return ' + pick(families)() + ' end)'
})
