// handlergen.mjs: writes node/aos/testdata/golden/generated-handlers.yaml, scenarios of generated handler
// lists and the messages they handle. Each scenario's first message (an Eval) installs a random list:
// handlers added, appended, prepended, placed before or after another, replaced by name and removed, with
// every kind of pattern (an Action string, a table spec with literal values, Lua patterns, '_' and lists,
// a function returning true, false, nil, "continue", "break", "skip", -1, 0 or 1, and the
// Handlers.utils matchers) and a run limit. The handlers print their name, reply, fail or fall through;
// then random messages (Action, a Color tag, Data) go through the list. generate.mjs runs the scenarios
// through the real AOS process like any other, and the golden test compares which handlers ran, in
// which order, what they printed and sent, and the errors.
//
//   node handlergen.mjs [--seed N] [--count N]     (defaults: seed 1, 40 scenarios of 1 + 8 messages)
//
// What aos 2.0.4 changed on purpose is left out (DIFFERENCES.md, "Version differences"): Handlers.once,
// the removal of a missing name, tag names not in title case, the list's length and contents (_boot).

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const out = path.join(here, '../../node/aos/testdata/golden/generated-handlers.yaml')

let seed = 1
let count = 40
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--seed') seed = Number(process.argv[++i])
  else if (process.argv[i] === '--count') count = Number(process.argv[++i])
  else { console.error('usage: node handlergen.mjs [--seed N] [--count N]'); process.exit(2) }
}

// mulberry32, as exprgen.mjs: the same file on every machine.
function rng (a) {
  return () => {
    a |= 0; a = a + 0x6D2B79F5 | 0
    let t = Math.imul(a ^ a >>> 15, 1 | a)
    t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t
    return ((t ^ t >>> 14) >>> 0) / 4294967296
  }
}
const rand = rng(seed)
const int = (n) => Math.floor(rand() * n)
const pick = (xs) => xs[int(xs.length)]
const chance = (p) => rand() < p

const actions = ['Ping', 'Get-Info', 'Get-Balance', 'Set', 'Transfer', 'X']
const colors = ['red', 'blue', 'green']
const datas = ['', 'x', 'hello', '42', 'Get-Info']

const q = (s) => JSON.stringify(s) // a Lua string literal for these ASCII values

function pattern () {
  return pick([
    () => q(pick(actions)),
    () => `{ Action = ${q(pick(actions))} }`,
    () => `{ Action = ${q(pick(actions))}, Color = ${q(pick(colors))} }`,
    () => `{ Action = ${q(pick(['Get%-.*', 'Get-.*', '^S', 'T.+r', '[PX]', 'Get%-Info']))} }`,
    () => `{ Color = "_" }`,
    () => `{ Action = { ${q(pick(actions))}, ${q(pick(actions))} } }`,
    () => `{ Action = function (v) return v:sub(1, 1) == ${q(pick(['G', 'S', 'P', 'T']))} end }`,
    () => `{ Action = function (v, m) return m.Data == ${q(pick(datas))} end }`,
    () => `function (m) return ${pick(['true', 'false', 'nil', '"continue"', '"break"', '"skip"', '-1', '0', '1', 'm.Color == "red"', 'm.Data ~= ""', 'm.Color == "blue" and "continue" or nil'])} end`,
    () => `Handlers.utils.hasMatchingTag("Color", ${q(pick(colors))})`,
    () => `Handlers.utils.hasMatchingTag("Action", ${q(pick(actions))})`,
    () => `Handlers.utils.hasMatchingData(${q(pick(datas))})`,
    () => `Handlers.utils.hasMatchingTagOf("Color", { ${q(pick(colors))}, ${q(pick(colors))} })`,
    () => `Handlers.utils.hasMatchingDataOf({ ${q(pick(datas))}, ${q(pick(datas))} })`,
    () => `Handlers.utils.continue(Handlers.utils.hasMatchingTag("Color", ${q(pick(colors))}))`
  ])()
}

function body (name) {
  return pick([
    () => `function (m) print(${q(name)} .. ":" .. tostring(m.Action) .. ":" .. m.Data) end`,
    () => `function (m) print(${q(name)}) m.reply({ Data = ${q(name)} .. " saw " .. m.Data }) end`,
    () => `function (m) print(${q(name)}) ao.send({ Target = "PEER", Action = "Note", Data = ${q(name)} }) end`,
    () => `function (m) print(${q(name)} .. " fails") error(${q(name)} .. " failed") end`,
    () => `function (m) Count = (Count or 0) + 1 print(${q(name)} .. " #" .. Count) end`,
    () => `Handlers.utils.reply(${q(name)} .. " replied")`
  ])()
}

function install () {
  const names = []
  const lines = ['Count = 0']
  const n = 2 + int(5)
  for (let i = 0; i < n; i++) {
    const name = 'h' + (i + 1)
    const limit = pick(['', '', '', ', 1', ', 2', ', "inf"'])
    const r = rand()
    if (names.length && r < 0.15) {
      lines.push(`Handlers.before(${q(pick(names))}).add(${q(name)}, ${pattern()}, ${body(name)}${limit})`)
    } else if (names.length && r < 0.3) {
      lines.push(`Handlers.after(${q(pick(names))}).add(${q(name)}, ${pattern()}, ${body(name)}${limit})`)
    } else if (r < 0.45) {
      lines.push(`Handlers.prepend(${q(name)}, ${pattern()}, ${body(name)}${limit})`)
    } else if (r < 0.55) {
      lines.push(`Handlers.append(${q(name)}, ${pattern()}, ${body(name)}${limit})`)
    } else {
      lines.push(`Handlers.add(${q(name)}, ${pattern()}, ${body(name)}${limit})`)
    }
    names.push(name)
  }
  if (chance(0.3)) lines.push(`Handlers.add(${q(pick(names))}, ${pattern()}, ${body('replaced')})`)
  if (chance(0.3)) lines.push(`Handlers.remove(${q(pick(names))})`)
  return lines
}

const lines = [
  '# Generated by scripts/golden/handlergen.mjs (seed ' + seed + ', ' + count + ' scenarios): do not edit; regenerate.',
  '# Each scenario installs a random handler list with its first message, then sends it 8 random messages.',
  ''
]
for (let s = 1; s <= count; s++) {
  lines.push(`- name: handlers-${s}`)
  lines.push('  messages:')
  lines.push('    - eval: |')
  for (const l of install()) lines.push('        ' + l)
  for (let m = 0; m < 8; m++) {
    const tags = []
    if (!chance(0.1)) tags.push(`Action: ${q(pick(actions))}`)
    if (chance(0.6)) tags.push(`Color: ${q(pick(colors))}`)
    lines.push('    - data: ' + q(pick(datas)))
    lines.push('      from: USER_ONE')
    if (tags.length) lines.push('      tags: { ' + tags.join(', ') + ' }')
  }
  lines.push('')
}
fs.writeFileSync(out, lines.join('\n'))
console.log(`${count} scenarios -> ${path.relative(process.cwd(), out)}`)
