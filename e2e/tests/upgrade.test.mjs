// Upgrade: a data directory written by the previous storage version's aonode (built from git at PREV_REF) is
// opened by this checkout's: the store migrates, and what the old node scheduled and evaluated reads the same,
// through the real aoconnect, while new messages are scheduled, evaluated and uploaded as before.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect, createDataItemSigner } from '@permaweb/aoconnect'
import { AONode, poll } from '../lib/aonode.mjs'
import { KV_STORE } from '../lib/kv.mjs'
import { newWallet } from '../lib/wallet.mjs'

// The last commit whose store is StorageVersion 3 (one bucket per id index); AONODE_PREV_REF overrides it.
const PREV_REF = process.env.AONODE_PREV_REF ?? 'cb7d54b'
const root = resolve(fileURLToPath(import.meta.url), '../../..')


// prevBinary builds the aonode of PREV_REF from this checkout's git history, or says why it cannot.
function prevBinary () {
  try {
    execFileSync('git', ['-C', root, 'cat-file', '-e', `${PREV_REF}^{commit}`], { stdio: 'ignore' })
  } catch {
    return { why: `commit ${PREV_REF} is not in this checkout's history (no git, or a shallow clone)` }
  }
  const dir = mkdtempSync(join(tmpdir(), 'aonode-prev-'))
  const src = join(dir, 'src')
  mkdirSync(src)
  execFileSync('sh', ['-c', `git -C "${root}" archive ${PREV_REF} | tar -x -C "${src}"`])
  execFileSync('go', ['build', '-o', join(dir, 'aonode'), './cmd/aonode'], { cwd: src, stdio: 'inherit' })
  return { bin: join(dir, 'aonode') }
}

let node
after(async () => { await node?.stop() })

const tag = (msg, name) => msg?.Tags?.find((t) => t.name === name)?.value

test('a store of the previous version is migrated and reads the same', async (t) => {
  const prev = prevBinary()
  if (prev.why) return t.skip(prev.why)
  node = await AONode.start({ bin: prev.bin })
  const { dataDir, ports } = node
  let ao = connect({ MU_URL: node.urls.MU_URL, CU_URL: node.urls.CU_URL, GATEWAY_URL: node.urls.GATEWAY_URL })
  const signer = createDataItemSigner(newWallet())
  const pid = await ao.spawn({ module: node.info.module, scheduler: node.info.scheduler, signer })
  const evalId = await ao.message({ process: pid, signer, tags: [{ name: 'Action', value: 'Eval' }], data: KV_STORE })
  assert.equal((await ao.result({ process: pid, message: evalId })).Error, undefined)
  const setId = await ao.message({ process: pid, signer, tags: [{ name: 'Action', value: 'Set' }, { name: 'Key', value: 'k' }, { name: 'Value', value: 'before' }] })
  const before = await ao.result({ process: pid, message: setId })
  assert.equal(before.Messages[0].Data, 'Value stored!')
  const suBefore = await (await fetch(`${node.urls.SU_URL}/${setId}?process-id=${pid}`)).json()
  const pageBefore = await (await fetch(`${node.urls.SU_URL}/${pid}?process-id=${pid}`)).json()
  await node.stop()

  node = await AONode.start({ dataDir, ports })
  assert.match(node.logs, /store migrated/, 'the new aonode migrated the store')
  ao = connect({ MU_URL: node.urls.MU_URL, CU_URL: node.urls.CU_URL, GATEWAY_URL: node.urls.GATEWAY_URL })

  // What the old node held, found by id (the migrated index) and read the same.
  assert.deepEqual(await ao.result({ process: pid, message: setId }), before)
  assert.deepEqual(await (await fetch(`${node.urls.SU_URL}/${setId}?process-id=${pid}`)).json(), suBefore)
  assert.deepEqual(await (await fetch(`${node.urls.SU_URL}/${pid}?process-id=${pid}`)).json(), pageBefore)

  // The process goes on: its state came through, and a new message is scheduled, evaluated and uploaded.
  const get = await ao.dryrun({ process: pid, tags: [{ name: 'Action', value: 'Get' }, { name: 'Key', value: 'k' }] })
  assert.equal(tag(get.Messages[0], 'Value'), 'before')
  const nextId = await ao.message({ process: pid, signer, tags: [{ name: 'Action', value: 'Set' }, { name: 'Key', value: 'k' }, { name: 'Value', value: 'after' }] })
  assert.equal((await ao.result({ process: pid, message: nextId })).Messages[0].Data, 'Value stored!')
  const again = await ao.dryrun({ process: pid, tags: [{ name: 'Action', value: 'Get' }, { name: 'Key', value: 'k' }] })
  assert.equal(tag(again.Messages[0], 'Value'), 'after')
  const onGateway = (id) => async () => {
    const q = `query ($ids: [ID!]) { transactions(ids: $ids) { edges { node { id } } } }`
    const res = await (await fetch(node.urls.GATEWAY_URL + '/graphql', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q, variables: { ids: [id] } })
    })).json()
    return res.data?.transactions?.edges?.length === 1
  }
  await poll(onGateway(setId), { timeout: 60_000 })
  await poll(onGateway(nextId), { timeout: 60_000 })
})
