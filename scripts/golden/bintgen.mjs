// bintgen.mjs: writes node/aos/testdata/golden/generated-bint.yaml, a scenario of generated uses of AOS's
// .bint (256 bits, the width token processes use): values near zero, near the word and 64-bit bounds and
// near 2^255, made from numbers, decimal and hexadecimal strings and other bints; every arithmetic,
// bitwise and comparison operator and the library's functions (division and modulo of every sign and
// kind, powers, shifts and rotations by any count, conversions to numbers, strings and bases, and the
// errors on bad input). generate.mjs runs it through the real AOS process, and the golden test compares
// aonode's .bint (math/big underneath) with bint.lua.
//
//   node bintgen.mjs [--seed N] [--count N]     (defaults: seed 1, 500 expressions)
//
// Every expression goes through R (defined by the first message): bints are written in decimal and as
// their 64 hexadecimal digits, numbers with %.17g (integral ones as integers), errors as pcall gives them.

import { setup, writeEvals, showR } from './genlib.mjs'

const g = setup('bintgen.mjs', 'generated-bint.yaml', 500)
const { pick } = g

const decimals = ['0', '1', '-1', '2', '7', '-7', '10', '255', '256', '4294967295', '4294967296', '-4294967296',
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '18446744073709551616',
  '1000000000000000000000000', '-1000000000000000000000000', '123456789012345678901234567890',
  '57896044618658097711785492504343953926634992332820282019728792003956564819967',
  '-57896044618658097711785492504343953926634992332820282019728792003956564819968',
  '115792089237316195423570985008687907853269984665640564039457584007913129639935']
const hexes = ['0x0', '0xff', '0xFFFFFFFF', '0x100000000', '0x8000000000000000', '0x' + 'f'.repeat(64), '0x8' + '0'.repeat(63), '0xdeadbeefcafe']
// No float with an integral value written as one (7.0): aonode has no float subtype (DIFFERENCES.md).
const numbers = ['0', '1', '-1', '3', '-3', '255', '2147483648', '4294967296', '0.5', '-2.5', '1000000000000']

function operand () {
  return pick([
    () => `B("${pick(decimals)}")`,
    () => `B("${pick(decimals)}")`,
    () => `B("${pick(hexes)}")`,
    () => `B(${pick(['0', '1', '-1', '3', '-3', '255', '2^32', '-2^32', '2^53'])})`,
    () => `B.maxinteger()`,
    () => `B.mininteger()`,
    () => `B.zero()`,
    () => `B.one()`
  ])()
}
const small = () => pick(['0', '1', '2', '3', '8', '31', '32', '33', '63', '64', '65', '128', '255', '256', '300', '-1', '-32', '-64', '-255', '-300'])

const families = [
  () => `${operand()} ${pick(['+', '-', '*', '//', '%'])} ${operand()}`,
  () => `${operand()} ${pick(['+', '-', '*', '//', '%'])} ${pick(numbers)}`,
  () => `${pick(numbers)} ${pick(['+', '-', '*', '//', '%'])} ${operand()}`,
  () => `${operand()} ${pick(['/', '^'])} ${pick(['2', '3', '0.5', '-1', '0', '10'])}`,
  () => `${operand()} ${pick(['&', '|', '~'])} ${operand()}`,
  () => `~${operand()}`,
  () => `-${operand()}`,
  () => `${operand()} ${pick(['<<', '>>'])} ${small()}`,
  () => `${operand()} ${pick(['==', '<', '<='])} ${operand()}`,
  () => `B.${pick(['udivmod', 'tdivmod', 'idivmod', 'udiv', 'umod', 'tdiv', 'tmod', 'ult', 'ule', 'eq', 'max', 'min'])}(${operand()}, ${operand()})`,
  () => `B.ipow(${operand()}, ${pick(['0', '1', '2', '3', '10', '100', '255', '-1'])})`,
  () => `B.upowmod(${operand()}, ${operand()}, ${operand()})`,
  () => `B.${pick(['brol', 'bror'])}(${operand()}, ${small()})`,
  () => `B.${pick(['bwrap'])}(${operand()}, ${pick(['0', '1', '8', '64', '255', '256', '300'])})`,
  () => `B.${pick(['abs', 'inc', 'dec', 'floor', 'ceil', 'trunc', 'tonumber', 'tointeger', 'touinteger', 'iszero', 'isone', 'isminusone', 'isneg', 'ispos', 'iseven', 'isodd', 'isintegral', 'isnumeric', 'type', 'isbint'])}(${operand()})`,
  () => `B.${pick(['abs', 'inc', 'dec', 'floor', 'ceil', 'trunc', 'tonumber', 'tointeger', 'isintegral', 'isnumeric', 'type', 'isbint'])}(${pick(numbers)})`,
  () => `B.tobase(${operand()}, ${pick(['2', '8', '10', '16', '36', '37', '1'])}, ${pick(['true', 'false', 'nil'])})`,
  () => `B.frombase(${JSON.stringify(pick(['ff', 'FF', '-ff', 'zz', '101', '', ' 1', '12x', '0x10', '7fffffffffffffffffffffffffffffff']))}, ${pick(['2', '10', '16', '36', '37'])})`,
  () => `B.fromstring(${JSON.stringify(pick(['', '-', '+5', '0x', '0xg', '0b101', '1e3', '12.5', ' 12', '-0', '0x-1', '99999999999999999999999999999999999999999999999999999999999999999999999999999999']))})`,
  () => `B.new(${pick(['"12"', '12', '1.5', '"1.5"', '"abc"', 'nil', 'true', '{}', '2^70'])})`,
  () => `B.parse(${pick(['"12"', '12', '1.5', '"1.5"', '"abc"', '"0x20"'])})`,
  () => `B.tole(${operand()}, ${pick(['true', 'false'])}):len()`,
  () => `B.tobe(${operand()})`,
  () => `B.frombe(B.tobe(${operand()})) == ${operand()}`,
  () => `(${operand()}):tobase(16)`,
  () => `#tostring(${operand()} * ${operand()})`,
  () => `B.__shl(${operand()}, ${small()})`,
  () => `B.__shr(${operand()}, ${small()})`
]

const helper = `B = require(".bint")(256)
local function show(v)
  if B.isbint(v) then return tostring(v) .. "/" .. B.tobase(v, 16, false) end
  if type(v) == "number" then
    if v ~= v then return "nan" end
    if v == math.floor(v) and v > -2^53 and v < 2^53 then return string.format("%d", v) end
    return string.format("%.17g", v)
  elseif type(v) == "string" then return string.format("%q", v)
  elseif type(v) == "table" then return "table" end
  return tostring(v)
end
` + showR

writeEvals(g, {
  script: 'bintgen.mjs',
  unit: 'expressions',
  about: 'Each message evaluates one use of .bint through R (defined by the first), which writes what pcall returns.',
  name: 'generated-bint',
  helper,
  next: () => 'R(function () return ' + pick(families)() + ' end)'
})
