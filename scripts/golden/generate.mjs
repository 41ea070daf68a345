// generate.mjs: runs the golden scenarios (node/aos/testdata/golden/*.yaml) through the real AOS process
// (the aos process.wasm, run by @permaweb/ao-loader as the reference CU runs it) and writes what it answers,
// message by message, next to them as <file>.golden.json. node/aos/golden_test.go feeds the same messages to
// aonode's runtime and compares.
//
//   node --experimental-wasm-memory64 generate.mjs --wasm /tmp/golden/process.wasm [--dir DIR] [--only FILE]
//
// Each scenario runs in a fresh wasm instance: its spawn message first (Type=Process, the process tags), then
// its messages in order. As the reference CU does, a message whose result has an Error leaves no trace: the
// next message runs on the memory from before it, in a new instance. The messages are built exactly as
// golden_test.go builds them (the rules are in testdata/golden/README.md), and every input is written with
// its result, so the test can tell when a scenario changed after its goldens were made.
//
// The output depends on nothing but the scenarios and the wasm: keys are sorted, no times or paths are
// written, and the wasm itself is deterministic (the loader fixes Math.random; the process seeds its own).

import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { fileURLToPath } from 'node:url'
import yaml from 'js-yaml'
import AoLoader from '@permaweb/ao-loader'

// The loader silences console.log while the wasm runs, and does not restore it when the wasm throws: keep
// the real one.
const log = console.log.bind(console)
const logErr = console.error.bind(console)

const here = path.dirname(fileURLToPath(import.meta.url))
const LOADER_VERSION = JSON.parse(fs.readFileSync(path.join(here, 'node_modules/@permaweb/ao-loader/package.json'), 'utf8')).version

// The module format and limits the reference CU gives an aos 2.0 wasm64 module.
const LOADER_OPTIONS = {
  format: 'wasm64-unknown-emscripten-draft_2024_02_15',
  inputEncoding: 'JSON-1',
  outputEncoding: 'JSON-1',
  memoryLimit: '1-gb',
  computeLimit: 9e12,
  extensions: [],
  // The result's Memory is the instance's own buffer instead of a copy (this script never reads it).
  UNSAFE_MEMORY: true
}

// Defaults, the same as golden_test.go's.
const DEF = {
  process: 'AOS_PROCESS',
  owner: 'OWNER_WALLET',
  module: 'AOS_MODULE',
  scheduler: 'SCHEDULER_WALLET',
  baseTime: 1700000000000,
  baseHeight: 1000
}

function usage (msg) {
  if (msg) logErr(msg)
  logErr('usage: node --experimental-wasm-memory64 generate.mjs --wasm PATH [--dir DIR] [--only FILE.yaml]')
  process.exit(2)
}

function parseArgs (argv) {
  const args = { dir: path.resolve(here, '../../node/aos/testdata/golden') }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`)
      return argv[++i]
    }
    if (a === '--wasm') args.wasm = val()
    else if (a === '--dir') args.dir = val()
    else if (a === '--only') args.only = val()
    else usage(`unknown argument ${a}`)
  }
  if (!args.wasm) usage('--wasm is required')
  return args
}

// tags reads a tag list written as a mapping (order kept) or as a list of {name, value}.
function tags (node, where) {
  if (node == null) return []
  if (Array.isArray(node)) {
    return node.map((t) => {
      if (t == null || typeof t !== 'object' || !('name' in t)) throw new Error(`${where}: a tag list entry needs a name`)
      return { name: String(t.name), value: t.value == null ? '' : String(t.value) }
    })
  }
  if (typeof node === 'object') return Object.entries(node).map(([name, value]) => ({ name, value: value == null ? '' : String(value) }))
  throw new Error(`${where}: tags must be a mapping or a list of {name, value}`)
}

const str = (v, def = '') => (v == null || v === '' ? def : String(v))
function int (v, def, where) {
  if (v == null || v === '') return def
  if (!/^-?\d+$/.test(String(v))) throw new Error(`${where}: ${v} is not an integer`)
  return Number(v)
}
const bool = (v) => v === true || v === 'true'

// The reference CU removes From and Owner tags: those come from the signature.
const withoutIdentityTags = (ts) => ts.filter((t) => t.name !== 'From' && t.name !== 'Owner')

// wasmMessage is the message as the reference CU hands it to the process (servers/cu: the SU's message and
// assignment mapped to Id, Owner, From, Target, Anchor, Tags, Data, Epoch, Nonce, Timestamp, Block-Height,
// Hash-Chain, Forwarded-By, Cron). Empty optional strings are left out, as aonode's runtime leaves them out.
function wasmMessage (m) {
  const out = {}
  const opt = (k, v) => { if (v !== '') out[k] = v }
  opt('Id', m.id)
  opt('Owner', m.owner)
  opt('From', m.from)
  opt('Target', m.target)
  opt('Anchor', m.anchor)
  out.Tags = m.tags
  out.Data = m.data
  opt('Forwarded-By', m.forwardedBy)
  out.Epoch = m.epoch
  out.Nonce = m.nonce
  out.Timestamp = m.timestamp
  out['Block-Height'] = m.blockHeight
  opt('Hash-Chain', m.hashChain)
  out.Cron = m.cron
  return out
}

function processTags (p) {
  const ts = [
    { name: 'Data-Protocol', value: 'ao' },
    { name: 'Variant', value: 'ao.TN.1' },
    { name: 'Type', value: 'Process' },
    { name: 'Module', value: str(p.module, DEF.module) }
  ]
  const sched = p.scheduler == null ? DEF.scheduler : String(p.scheduler)
  if (sched !== '') ts.push({ name: 'Scheduler', value: sched })
  return ts.concat(tags(p.tags, 'process.tags'))
}

// build turns one scenario into its env and its messages (the spawn first), in wasm form.
function build (sc, where) {
  const p = sc.process || {}
  const pid = str(p.id, DEF.process)
  const owner = str(p.owner, DEF.owner)
  const ptags = processTags(p)
  const env = {
    Process: { Id: pid, Owner: owner, Tags: ptags },
    Module: { Id: str(p.module, DEF.module), Owner: owner, Tags: [{ name: 'Data-Protocol', value: 'ao' }, { name: 'Type', value: 'Module' }] }
  }
  const msgs = [wasmMessage({
    id: pid,
    owner,
    from: str(p.from, owner),
    target: pid,
    anchor: '',
    tags: withoutIdentityTags(ptags),
    data: str(p.data),
    forwardedBy: str(p['forwarded-by']),
    epoch: 0,
    nonce: 0,
    timestamp: DEF.baseTime,
    blockHeight: DEF.baseHeight,
    hashChain: 'HASH_CHAIN_0',
    cron: false
  })]
  for (const [i, m] of (sc.messages || []).entries()) {
    const n = i + 1
    const at = `${where} message ${n}`
    const from = str(m.from, owner)
    let ts = []
    const rep = int(m.repeat, 0, at)
    let data = rep > 0 ? str(m.data).repeat(rep) : str(m.data)
    if (m.eval != null) {
      ts.push({ name: 'Action', value: 'Eval' })
      data = String(m.eval)
    } else if (m.action != null && m.action !== '') {
      ts.push({ name: 'Action', value: String(m.action) })
    }
    ts = withoutIdentityTags(ts.concat(tags(m.tags, at)))
    msgs.push(wasmMessage({
      id: str(m.id, `MSG_${n}`),
      owner: str(m.owner, from),
      from,
      target: str(m.target, pid),
      anchor: str(m.anchor),
      tags: ts,
      data,
      forwardedBy: str(m['forwarded-by']),
      epoch: int(m.epoch, 0, at),
      nonce: int(m.nonce, n, at),
      timestamp: int(m.timestamp, DEF.baseTime + 1000 * n, at),
      blockHeight: int(m['block-height'], DEF.baseHeight + n, at),
      hashChain: str(m['hash-chain'], `HASH_CHAIN_${n}`),
      cron: bool(m.cron)
    }))
  }
  return { env, msgs }
}

// sorted returns v with every object's keys in sorted order (arrays keep theirs).
function sorted (v) {
  if (Array.isArray(v)) return v.map(sorted)
  if (v && typeof v === 'object') {
    const o = {}
    for (const k of Object.keys(v).sort()) o[k] = sorted(v[k])
    return o
  }
  return v
}

// Runner evaluates messages in order on one process, as the reference CU does: a result with an Error
// discards the memory the message left, and the next message runs on the memory from before it, in a new
// instance. That memory is rebuilt here by evaluating the earlier messages that had no Error again in a new
// instance (the wasm is deterministic: the same messages give the same memory), which is much faster than
// copying the 100 MiB memory before every message.
class Runner {
  constructor (wasm) { this.wasm = wasm }

  async start () {
    this.handle = await AoLoader(this.wasm, LOADER_OPTIONS)
    this.kept = [] // the messages whose effects the memory holds, in order
    this.stale = false // the instance ran a message with an Error: rebuild before the next one
  }

  async run (msg, env) {
    try {
      return await this.handle(null, msg, env)
    } catch (err) {
      // The loader throws when the process's handle itself failed; the reference CU makes the thrown value
      // the result's Error.
      return { Error: err instanceof Error ? err.message : err }
    }
  }

  async eval (msg, env) {
    if (this.stale) {
      this.handle = await AoLoader(this.wasm, LOADER_OPTIONS)
      for (const m of this.kept) {
        const r = await this.run(m, env)
        if (r.Error !== undefined && r.Error !== null) throw new Error(`replaying message ${m.Id} failed: ${JSON.stringify(r.Error)}`)
      }
      this.stale = false
    }
    const res = await this.run(msg, env)
    if (res.Error !== undefined && res.Error !== null) this.stale = true
    else this.kept.push(msg)
    const out = { ...res }
    delete out.Memory
    delete out.GasUsed // always 0 for this module: it is not metered
    return out
  }
}

// render writes a golden file with one line per case, so that a changed result is a one-line diff.
function render (wasmHash, scenarios) {
  const j = (v) => JSON.stringify(sorted(v))
  const lines = [
    '{',
    ` "generator": ${j('scripts/golden/generate.mjs')},`,
    ` "loader": ${j(`@permaweb/ao-loader@${LOADER_VERSION}`)},`,
    ` "wasm_sha256": ${j(wasmHash)},`,
    ' "scenarios": ['
  ]
  scenarios.forEach((sc, i) => {
    lines.push(`  {"name": ${j(sc.name)}, "env": ${j(sc.env)}, "cases": [`)
    sc.cases.forEach((c, k) => lines.push(`   ${j(c)}${k < sc.cases.length - 1 ? ',' : ''}`))
    lines.push(`  ]}${i < scenarios.length - 1 ? ',' : ''}`)
  })
  lines.push(' ]', '}', '')
  return lines.join('\n')
}

async function runFile (wasm, file, rel) {
  const src = fs.readFileSync(file, 'utf8')
  // Every scalar is read as a string, as golden_test.go reads them into strings.
  const scenarios = yaml.load(src, { schema: yaml.FAILSAFE_SCHEMA, filename: rel })
  if (!Array.isArray(scenarios)) throw new Error(`${rel}: a scenario file is a list of scenarios`)
  const runner = new Runner(wasm)
  const out = []
  const seen = new Set()
  for (const sc of scenarios) {
    if (!sc || !sc.name) throw new Error(`${rel}: a scenario without a name`)
    if (seen.has(sc.name)) throw new Error(`${rel}: scenario ${sc.name} repeated`)
    seen.add(sc.name)
    const { env, msgs } = build(sc, `${rel} ${sc.name}`)
    if (process.env.GOLDEN_VERBOSE) logErr(`${rel} ${sc.name}`)
    await runner.start()
    const cases = []
    for (const [n, msg] of msgs.entries()) {
      const result = await runner.eval(msg, env)
      cases.push({ n, input: msg, result })
    }
    out.push({ name: sc.name, env, cases })
  }
  return out
}

async function main () {
  const args = parseArgs(process.argv.slice(2))
  const wasm = fs.readFileSync(args.wasm)
  const wasmHash = crypto.createHash('sha256').update(wasm).digest('hex')
  let files = fs.readdirSync(args.dir).filter((f) => f.endsWith('.yaml')).sort()
  if (args.only) files = files.filter((f) => f === args.only || f === `${args.only}.yaml`)
  if (files.length === 0) usage(`no scenario files in ${args.dir}`)
  let total = 0
  for (const f of files) {
    const scenarios = await runFile(wasm, path.join(args.dir, f), f)
    const outFile = path.join(args.dir, f.replace(/\.yaml$/, '.golden.json'))
    fs.writeFileSync(outFile, render(wasmHash, scenarios))
    const n = scenarios.reduce((a, s) => a + s.cases.length, 0)
    total += n
    log(`${f}: ${scenarios.length} scenarios, ${n} messages -> ${path.basename(outFile)}`)
  }
  log(`${total} messages in ${files.length} files`)
}

main().catch((err) => {
  logErr(err instanceof yaml.YAMLException ? err.message : err)
  process.exit(1)
})
