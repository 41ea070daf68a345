// patgen.mjs: writes node/aos/testdata/golden/generated-patterns.yaml, a scenario of generated Lua pattern
// matches: random patterns (classes and their complements, sets with ranges and classes, quantifiers,
// anchors, captures and position captures, %b, %f, back-references, and malformed ones) over random
// subjects, through string.find, string.match, string.gmatch and string.gsub (string, table and function
// replacements, a limit). generate.mjs then runs it through the real AOS process like any scenario, and
// the golden test compares aonode's string library with Lua 5.3's.
//
//   node patgen.mjs [--seed N] [--count N]     (defaults: seed 1, 500 expressions)
//
// The output depends only on the seed and the count. Each expression is evaluated by R (defined by the
// scenario's first message), which writes what pcall returns (strings with %q), so an error's text is
// compared too.

import { setup, luaStr, writeEvals, recordR } from './genlib.mjs'

const g = setup('patgen.mjs', 'generated-patterns.yaml', 500)
const { rand, int, pick, chance } = g

// Subjects: letters of both cases, digits, blanks, punctuation (some of it magic in patterns), a control
// character, a NUL and a two-byte UTF-8 letter, so every class has members and non-members.
const subjectChars = ['a', 'b', 'c', 'x', 'A', 'B', 'Z', '0', '1', '9', ' ', ' ', '\t', '\n', '.', ',', '-', '_', '(', ')', '[', ']', '%', '=', '&', '\u0001', '\u0000', 'é']
function subject () {
  const n = pick([0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16])
  let s = ''
  for (let i = 0; i < n; i++) s += pick(subjectChars)
  if (chance(0.3)) s = pick(['ab', 'abc', 'x=1', '((a)b)', 'aaa']) + s
  return s
}

const classes = ['%a', '%d', '%l', '%s', '%u', '%w', '%x', '%p', '%c', '%g', '%A', '%D', '%L', '%S', '%U', '%W', '%X', '%P', '%C', '%G']
const literals = ['a', 'b', 'c', 'x', 'A', '0', '1', ' ', ',', '=', '&', '_', '%.', '%-', '%(', '%)', '%%', '%[', '%]', '%z', '%,']
function setItem () {
  return pick([
    () => pick(['a', 'b', 'x', '0', ' ', ',', '.', '_', '(', ')', '%]', '%-', '%%', '-']),
    () => pick(['a-c', 'A-Z', '0-9', 'a-z', 'x-a', '%a-z']),
    () => pick(classes)
  ])()
}
function set () {
  let s = '['
  if (chance(0.3)) s += '^'
  if (chance(0.1)) s += ']'
  const n = 1 + int(3)
  for (let i = 0; i < n; i++) s += setItem()
  return s + ']'
}
function single () {
  return pick([
    () => pick(literals), () => pick(literals), () => '.', () => pick(classes), () => pick(classes), set
  ])()
}

// item appends one pattern item; open counts the captures begun and not closed, closed those closed
// (back-references may name them).
function items (depth, state) {
  let p = ''
  const n = 1 + int(4)
  for (let i = 0; i < n; i++) {
    const r = rand()
    if (r < 0.55) {
      p += single()
      if (chance(0.45)) p += pick(['*', '+', '-', '?'])
    } else if (r < 0.7 && depth < 2) {
      state.captures++
      const inner = chance(0.15) ? '' : items(depth + 1, state)
      p += '(' + inner + ')'
      state.closed++
    } else if (r < 0.78) {
      p += pick(['%b()', '%b[]', '%bab', '%bxx'])
    } else if (r < 0.86) {
      p += '%f' + pick(['[%w]', '[%W]', '[%a_]', '[^%s]', '[%z]', '[a]'])
    } else if (r < 0.92 && state.closed > 0) {
      p += '%' + (1 + int(state.closed))
    } else {
      p += pick(['a', '.', '%s*', '%d+', ','])
    }
  }
  return p
}
function pattern () {
  if (chance(0.07)) {
    // malformed: each is an error in Lua, worded by the matcher
    return pick(['[a', '[^', '%', 'a%', '(a', 'a)', '%b', '%ba', '%f', '%fa', '%1', '(a)%2', '((a)', '[%', '[a-', '%g)', '(()'])
  }
  const state = { captures: 0, closed: 0 }
  let p = items(0, state)
  if (chance(0.2)) p = '^' + p
  if (chance(0.15)) p += '$'
  return p
}

const repls = ['"<%0>"', '"%1"', '"[%1|%2]"', '"%%"', '""', '"-"', '"%"', '"%9"', '"%a"',
  '{ a = "A", x = false, ["1"] = 1 }', 'string.upper', 'function (s) return #s > 1 and s or nil end',
  'function (...) return select("#", ...) end', 'function () return false end', 'function () return {} end']
const inits = ['1', '2', '-1', '-3', '0', '5', '100', 'nil']

const families = [
  () => `string.find(${luaStr(subject())}, ${luaStr(pattern())})`,
  () => `string.find(${luaStr(subject())}, ${luaStr(pattern())}, ${pick(inits)})`,
  () => `string.find(${luaStr(subject())}, ${luaStr(pattern())}, ${pick(inits)}, true)`,
  () => `string.match(${luaStr(subject())}, ${luaStr(pattern())})`,
  () => `string.match(${luaStr(subject())}, ${luaStr(pattern())}, ${pick(inits)})`,
  () => `(function () local o = {} for a, b in string.gmatch(${luaStr(subject())}, ${luaStr(pattern())}) do o[#o + 1] = tostring(a) .. "/" .. tostring(b) if #o > 20 then break end end return table.concat(o, " ") end)()`,
  () => `string.gsub(${luaStr(subject())}, ${luaStr(pattern())}, ${pick(repls)})`,
  () => `string.gsub(${luaStr(subject())}, ${luaStr(pattern())}, ${pick(repls)}, ${pick(['0', '1', '2', '-1'])})`
]

const helper = recordR

writeEvals(g, {
  script: 'patgen.mjs',
  unit: 'expressions',
  about: 'Each message evaluates one pattern match through R (defined by the first), which writes what pcall returns.',
  name: 'generated-patterns',
  helper,
  next: () => 'R(function () return ' + pick(families)() + ' end)'
})
