// Runs a list of Eval sources through the real AOS process, in order, in one process spawned as the golden
// scenarios spawn theirs (Id AOS_PROCESS, owner OWNER_WALLET, module AOS_MODULE, Block-Height 1000 + n),
// and writes what each Eval answered: its Output.data, or its Error.
//
//   node --experimental-wasm-memory64 evals.mjs --wasm /tmp/golden/process.wasm IN.json > OUT.json
//
// IN.json is a JSON array of Lua sources; OUT.json an array of { code, data } or { code, error }.
import AoLoader from '@permaweb/ao-loader'
import fs from 'fs'

const args = process.argv.slice(2)
const wasmAt = args.indexOf('--wasm')
if (wasmAt < 0 || args.length < wasmAt + 3) {
  console.error('usage: evals.mjs --wasm process.wasm IN.json')
  process.exit(2)
}
const wasm = fs.readFileSync(args[wasmAt + 1])
const input = args.filter((_, i) => i !== wasmAt && i !== wasmAt + 1)[0]
const handle = await AoLoader(wasm, { format: 'wasm64-unknown-emscripten-draft_2024_02_15', inputEncoding: 'JSON-1', outputEncoding: 'JSON-1', memoryLimit: '1-gb', computeLimit: 9e12, extensions: [] })
const tags = [['Data-Protocol', 'ao'], ['Variant', 'ao.TN.1'], ['Type', 'Process'], ['Module', 'AOS_MODULE'], ['Scheduler', 'SCHEDULER_WALLET']].map(([name, value]) => ({ name, value }))
const env = { Process: { Id: 'AOS_PROCESS', Owner: 'OWNER_WALLET', Tags: tags }, Module: { Id: 'AOS_MODULE', Owner: 'OWNER_WALLET', Tags: [{ name: 'Data-Protocol', value: 'ao' }, { name: 'Type', value: 'Module' }] } }
let memory = null
let n = 0
async function send (id, msgTags, data) {
  const msg = { Id: id, Owner: 'OWNER_WALLET', From: 'OWNER_WALLET', Target: 'AOS_PROCESS', Tags: msgTags, Data: data, 'Block-Height': 1000 + n, Timestamp: 1700000000000 + 1000 * n, Nonce: n, Epoch: 0, 'Hash-Chain': 'HASH_CHAIN_' + n, Cron: false }
  n++
  const r = await handle(memory, msg, env)
  memory = r.Memory
  return r
}
await send('AOS_PROCESS', tags, '')
const out = []
for (const code of JSON.parse(fs.readFileSync(input, 'utf8'))) {
  const r = await send('MSG_' + n, [{ name: 'Action', value: 'Eval' }], code)
  out.push(r.Error !== undefined ? { code, error: r.Error } : { code, data: r.Output ? r.Output.data : '' })
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n')
