// jsongen.mjs: writes node/aos/testdata/golden/generated-json.yaml, a scenario of generated uses of AOS's
// json module: texts to decode (valid ones, with every number form, string escape, nesting and blank; and
// broken ones, each one mistake away from valid) whose result is encoded again, and Lua values to encode
// (strings with control bytes and UTF-8, numbers, nested arrays and one-key objects, sparse arrays, mixed
// keys, cycles, functions). generate.mjs then runs it through the real AOS process like any scenario, and
// the golden test compares aonode's json with it, error messages included.
//
//   node jsongen.mjs [--seed N] [--count N]     (defaults: seed 1, 400 cases)
//
// The output depends only on the seed and the count. Objects have at most one key, so no output depends on
// the order pairs() gives.

import { setup, luaStr, writeEvals, recordR } from './genlib.mjs'

const g = setup('jsongen.mjs', 'generated-json.yaml', 400)
const { rand, int, pick, chance } = g

// JSON texts. Numbers avoid integral values written as floats where Lua 5.3 and aonode print them
// differently (DIFFERENCES.md): every value goes back through json.encode, which writes numbers with %.14g.
const jnums = ['0', '1', '-1', '12', '-0', '0.5', '-0.25', '3.14159', '1e3', '1E-2', '2.5e+2', '123456789012', '9007199254740993',
  '1e400', '-1e400', '1e-400', '0.1', '100', '7e0', '5E1']
const jstrs = ['""', '"a"', '"hello world"', '"tab\\there"', '"nl\\nx"', '"q\\"q"', '"back\\\\slash"', '"sl\\/ash"',
  '"\\u0041"', '"\\u00e9"', '"\\u20ac"', '"\\ud83d\\ude00"', '"\\u0000x"', '"\\b\\f\\r"', '"é"', '"a b"', '"\\uD834\\uDD1E"']
const blanks = ['', ' ', '\n', '\t', '  \r\n']
function jvalue (depth) {
  const r = rand()
  if (depth > 2 || r < 0.35) return pick(jnums)
  if (r < 0.6) return pick(jstrs)
  if (r < 0.68) return pick(['true', 'false', 'null'])
  if (r < 0.85) {
    const n = int(4)
    const xs = []
    for (let i = 0; i < n; i++) xs.push(jvalue(depth + 1))
    return '[' + xs.map((x) => pick(blanks) + x + pick(blanks)).join(',') + ']'
  }
  if (chance(0.2)) return '{' + pick(blanks) + '}'
  return '{' + pick(blanks) + pick(['"k"', '"a b"', '"1"', '""', '"\\u0041"']) + pick(blanks) + ':' + pick(blanks) + jvalue(depth + 1) + pick(blanks) + '}'
}
// broken is a valid text with one mistake.
function broken () {
  const v = jvalue(0)
  const ms = [
    () => v + ',', () => v + ' x', () => '[' + v + ',]', () => '[' + v, () => '{"k" ' + v + '}', () => '{"k":' + v + ',}',
    () => '{k:' + v + '}', () => "'a'", () => '"abc', () => '"a\\qb"', () => '"\\u12"', () => '"\\uZZZZ"', () => '01', () => '1.',
    () => '.5', () => '+1', () => '-', () => '1e', () => 'tru', () => 'nul', () => 'NaN', () => 'Infinity', () => '"a\tb"',
    () => '"a\nb"', () => '', () => '   ', () => '[1 2]', () => '{"a":1 "b":2}', () => '{"a"}', () => '[' + v + ']]', () => '}', () => '\u00e9',
    () => '"\\ud83d"', () => '[--1]', () => '{"a":}', () => '[,1]'
  ]
  return pick(ms)()
}

// Lua values to encode.
const lstrs = ['""', '"a"', '"quote\\"d"', '"back\\\\"', '"\\n\\r\\t"', '"\\0\\1\\31"', '"\\127"', '"é€"', '"\\255\\254"', '"/"', '"<tag>"', '"\\8\\12"']
const lnums = ['0', '1', '-1', '0.5', '1/3', '1e300', '-2.5e-7', '123456789', '2^53', 'math.huge', '-math.huge', '0/0', '3.0', '1e15', '1e16', '-0.0']
function lvalue (depth) {
  const r = rand()
  if (depth > 2 || r < 0.3) return pick(lnums)
  if (r < 0.55) return pick(lstrs)
  if (r < 0.62) return pick(['true', 'false', 'nil', 'json.null'])
  if (r < 0.82) {
    const n = int(4)
    const xs = []
    for (let i = 0; i < n; i++) xs.push(lvalue(depth + 1))
    return '{ ' + xs.join(', ') + ' }'
  }
  if (r < 0.95) return '{ ' + pick(['k', '["a b"]', '[1]', '[2]', '["1"]', '[1.5]', '[true]', '[-1]']) + ' = ' + lvalue(depth + 1) + ' }'
  return pick(['{ [1] = 1, [3] = 3 }', '{ 1, 2, k = 3 }', 'print', 'coroutine.create(print)', '(function () local t = {} t[1] = t return t end)()',
    '(function () local t = {} t.self = t return t end)()', 'setmetatable({}, { __tojson = 1 })', '{ [{}] = 1 }'])
}

const families = [
  () => `json.encode(json.decode(${luaStr(jvalue(0))}))`,
  () => `json.encode(json.decode(${luaStr(pick(blanks) + jvalue(0) + pick(blanks))}))`,
  () => `json.encode(json.decode(${luaStr(broken())}))`,
  () => `json.encode(${lvalue(0)})`,
  () => `json.encode({ ${lvalue(1)}, ${lvalue(1)} })`,
  () => `(function () local v = json.decode(${luaStr(jvalue(0))}) return type(v) .. " " .. (type(v) == "table" and #v or json.encode(v)) end)()`
]

const helper = 'json = require("json")\n' + recordR

writeEvals(g, {
  script: 'jsongen.mjs',
  unit: 'cases',
  about: 'Each message evaluates one use of json through R (defined by the first), which writes what pcall returns.',
  name: 'generated-json',
  helper,
  next: () => 'R(function () return ' + pick(families)() + ' end)'
})
