// The AOS tutorial, run with the real @permaweb/aoconnect exactly as users write it, against a fresh aonode.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createDataItemSigner } from '@permaweb/aoconnect'
import { createServer } from 'node:http'
import { AONode, poll } from '../lib/aonode.mjs'
import { KV_STORE } from '../lib/kv.mjs'
import { newWallet, addressOf } from '../lib/wallet.mjs'

let node, ao, signer, wallet, me, moduleId, scheduler

const tag = (msg, name) => msg?.Tags?.find((t) => t.name === name)?.value

before(async () => {
  node = await AONode.start()
  ao = connect({ MU_URL: node.urls.MU_URL, CU_URL: node.urls.CU_URL, GATEWAY_URL: node.urls.GATEWAY_URL })
  wallet = newWallet()
  me = addressOf(wallet)
  signer = createDataItemSigner(wallet) // one signer for the whole run: ao-core-libs rate-limits signer creation
  moduleId = node.info.module
  scheduler = node.info.scheduler
})

after(async () => { await node?.stop() })

// captureSignedItem signs a message with aoconnect and returns the raw item it would POST, via a stand-in MU.
async function captureSignedItem (args) {
  let body
  const srv = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => { body = Buffer.concat(chunks); res.writeHead(202, { 'content-type': 'application/json' }); res.end('{"id":"captured"}') })
  })
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve))
  try {
    const capture = connect({ MU_URL: `http://127.0.0.1:${srv.address().port}`, CU_URL: node.urls.CU_URL, GATEWAY_URL: node.urls.GATEWAY_URL })
    await capture.message(args)
  } finally { srv.close() }
  return body
}

async function spawnKV () {
  const pid = await ao.spawn({ module: moduleId, scheduler, signer, tags: [{ name: 'Name', value: 'kv' }] })
  const evalId = await ao.message({ process: pid, signer, tags: [{ name: 'Action', value: 'Eval' }], data: KV_STORE })
  const r = await ao.result({ process: pid, message: evalId })
  assert.equal(r.Error, undefined, `Eval failed: ${JSON.stringify(r.Error)}`)
  return pid
}

test('node publishes what a client needs: SU address, module and scheduler location on the gateway', async () => {
  const su = await (await fetch(node.urls.SU_URL + '/')).json()
  assert.equal(su.address, scheduler)
  assert.match(String(su.timestamp), /^\d+$/)
  const q = `query ($owner: String!) { transactions(owners: [$owner], tags: [{name: "Data-Protocol", values: ["ao"]}, {name: "Type", values: ["Module", "Scheduler-Location"]}], first: 10) { edges { node { id tags { name value } } } } }`
  const res = await (await fetch(node.urls.GATEWAY_URL + '/graphql', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q, variables: { owner: scheduler } })
  })).json()
  const nodes = res.data.transactions.edges.map((e) => e.node)
  assert.ok(nodes.some((n) => n.id === moduleId), 'module record is on the gateway')
  const loc = nodes.find((n) => n.tags.some((t) => t.name === 'Type' && t.value === 'Scheduler-Location'))
  assert.ok(loc, 'scheduler location record is on the gateway')
  assert.equal(loc.tags.find((t) => t.name === 'Url').value, node.urls.SU_URL)
})

test('tutorial: spawn, Eval kv-store, Set, result, dryrun Get', async () => {
  const pid = await spawnKV()
  assert.match(pid, /^[A-Za-z0-9_-]{43}$/)

  const setId = await ao.message({
    process: pid, signer,
    tags: [{ name: 'Action', value: 'Set' }, { name: 'Key', value: 'test' }, { name: 'Value', value: 'abc' }]
  })
  const set = await ao.result({ process: pid, message: setId })
  assert.equal(set.Error, undefined)
  assert.equal(set.Messages.length, 1)
  assert.equal(set.Messages[0].Target, me)
  assert.equal(set.Messages[0].Data, 'Value stored!')

  const get = await ao.dryrun({ process: pid, tags: [{ name: 'Action', value: 'Get' }, { name: 'Key', value: 'test' }] })
  assert.equal(get.Messages.length, 1)
  assert.equal(tag(get.Messages[0], 'Value'), 'abc')

  // A dry-run changes nothing: the same read gives the same answer, and Inbox-bound reads do not pile up.
  const again = await ao.dryrun({ process: pid, tags: [{ name: 'Action', value: 'Get' }, { name: 'Key', value: 'test' }] })
  assert.deepEqual(again.Messages, get.Messages)
})

test('a failing handler returns its Error and the process keeps working', async () => {
  const pid = await spawnKV()
  const bad = await ao.message({ process: pid, signer, tags: [{ name: 'Action', value: 'Set' }, { name: 'Key', value: 'k' }] })
  const r = await ao.result({ process: pid, message: bad })
  assert.ok(r.Error, 'an Error is reported')
  assert.match(String(typeof r.Error === 'string' ? r.Error : JSON.stringify(r.Error)), /Value is required!/)
  assert.deepEqual(r.Messages, [])

  const ok = await ao.message({ process: pid, signer, tags: [{ name: 'Action', value: 'Set' }, { name: 'Key', value: 'k' }, { name: 'Value', value: 'v2' }] })
  const r2 = await ao.result({ process: pid, message: ok })
  assert.equal(r2.Error, undefined)
  assert.equal(r2.Messages[0].Data, 'Value stored!')
  const get = await ao.dryrun({ process: pid, tags: [{ name: 'Action', value: 'Get' }, { name: 'Key', value: 'k' }] })
  assert.equal(tag(get.Messages[0], 'Value'), 'v2')
})

test('results pages through evaluations in both orders with string cursors', async () => {
  const pid = await spawnKV()
  for (const v of ['a', 'b', 'c']) {
    await ao.message({ process: pid, signer, tags: [{ name: 'Action', value: 'Set' }, { name: 'Key', value: 'k' + v }, { name: 'Value', value: v }] })
  }
  const asc = await ao.results({ process: pid, sort: 'ASC', limit: 100 })
  const data = asc.edges.map((e) => e.node.Messages?.[0]?.Data).filter(Boolean)
  assert.deepEqual(data, ['Value stored!', 'Value stored!', 'Value stored!'])
  for (const e of asc.edges) assert.equal(typeof e.cursor, 'string')

  const page1 = await ao.results({ process: pid, sort: 'ASC', limit: 2 })
  assert.equal(page1.edges.length, 2)
  const page2 = await ao.results({ process: pid, sort: 'ASC', limit: 100, from: page1.edges[1].cursor })
  assert.equal(page1.edges.length + page2.edges.length, asc.edges.length, 'pages cover everything once')
  assert.ok(!page2.edges.some((e) => page1.edges.some((p) => p.cursor === e.cursor)))

  const desc = await ao.results({ process: pid, sort: 'DESC', limit: 100 })
  const position = (c) => JSON.parse(Buffer.from(c, 'base64').toString()).ordinate
  assert.deepEqual(desc.edges.map((e) => position(e.cursor)), [...asc.edges].reverse().map((e) => position(e.cursor)))
  assert.deepEqual(desc.edges.map((e) => e.node), [...asc.edges].reverse().map((e) => e.node))
})

test('monitor and unmonitor answer 2xx and return the request id', async () => {
  const pid = await spawnKV()
  const m = await ao.monitor({ process: pid, signer })
  assert.match(m, /^[A-Za-z0-9_-]{43}$/)
  const u = await ao.unmonitor({ process: pid, signer })
  assert.match(u, /^[A-Za-z0-9_-]{43}$/)
  await assert.rejects(ao.unmonitor({ process: pid, signer }), /404/)
})

test('monitor drives cron ticks of a Cron-Interval process until unmonitor', async () => {
  const pid = await ao.spawn({
    module: moduleId, scheduler, signer,
    tags: [{ name: 'Cron-Interval', value: '1-second' }, { name: 'Cron-Tag-Action', value: 'Cron' }]
  })
  const evalId = await ao.message({
    process: pid, signer, tags: [{ name: 'Action', value: 'Eval' }],
    data: `Ticks = Ticks or 0
Handlers.add("tick", Handlers.utils.hasMatchingTag("Action", "Cron"), function (msg) Ticks = Ticks + 1 end)
Handlers.add("count", Handlers.utils.hasMatchingTag("Action", "Count"), function (msg) msg.reply({ Data = tostring(Ticks) }) end)`
  })
  assert.equal((await ao.result({ process: pid, message: evalId })).Error, undefined)
  const count = async () => Number((await ao.dryrun({ process: pid, tags: [{ name: 'Action', value: 'Count' }] })).Messages[0].Data)
  const start = await count()
  await ao.monitor({ process: pid, signer })
  const seen = await poll(async () => { const c = await count(); return c >= start + 2 && c }, { timeout: 30_000 })
  assert.ok(seen >= start + 2)
  await ao.unmonitor({ process: pid, signer })
})

test('assign delivers an existing message to another process', async () => {
  const a = await spawnKV()
  const b = await spawnKV()
  // As in AOS, a process refuses assignments it has not declared assignable.
  const refusedId = await ao.message({ process: a, signer, tags: [{ name: 'Action', value: 'Set' }, { name: 'Key', value: 'early' }, { name: 'Value', value: 'no' }] })
  await ao.result({ process: a, message: refusedId })
  const refused = await ao.result({ process: b, message: await ao.assign({ process: b, message: refusedId }) })
  assert.equal(refused.Error, undefined)
  assert.match(refused.Messages[0].Data, /Assignment is not trusted/)
  const allow = await ao.message({ process: b, signer, tags: [{ name: 'Action', value: 'Eval' }], data: 'ao.addAssignable("sets", { Action = "Set" })' })
  assert.equal((await ao.result({ process: b, message: allow })).Error, undefined)

  const setId = await ao.message({ process: a, signer, tags: [{ name: 'Action', value: 'Set' }, { name: 'Key', value: 'shared' }, { name: 'Value', value: 'xyz' }] })
  await ao.result({ process: a, message: setId })
  const assignmentId = await ao.assign({ process: b, message: setId })
  assert.match(assignmentId, /^[A-Za-z0-9_-]{43}$/)
  assert.notEqual(assignmentId, setId)
  const r = await ao.result({ process: b, message: assignmentId })
  assert.equal(r.Error, undefined)
  assert.equal(r.Messages[0].Data, 'Value stored!')
  const get = await ao.dryrun({ process: b, tags: [{ name: 'Action', value: 'Get' }, { name: 'Key', value: 'shared' }] })
  assert.equal(tag(get.Messages[0], 'Value'), 'xyz')
})

test('process-to-process: a Send from one process is pushed to the other by the MU', async () => {
  const a = await spawnKV()
  const b = await spawnKV()
  const evalId = await ao.message({
    process: a, signer, tags: [{ name: 'Action', value: 'Eval' }],
    data: `Send({ Target = "${b}", Action = "Set", Key = "fromA", Value = "hello" })`
  })
  const r = await ao.result({ process: a, message: evalId })
  assert.equal(r.Error, undefined)
  assert.equal(r.Messages.length, 1)
  assert.equal(r.Messages[0].Target, b)
  const got = await poll(async () => {
    const d = await ao.dryrun({ process: b, tags: [{ name: 'Action', value: 'Get' }, { name: 'Key', value: 'fromA' }] })
    return tag(d.Messages?.[0], 'Value') === 'hello' && d
  })
  assert.ok(got)
  // B's reply went back to A (B replies to msg.From, which is A's process id).
  const replies = await poll(async () => {
    const res = await ao.results({ process: a, sort: 'DESC', limit: 5 })
    return res.edges.length > 0 && res
  })
  assert.ok(replies.edges.length > 0)
})

test('bad input is refused with a clear JSON error and nothing is stored', async () => {
  const pid = await spawnKV()
  const before = await ao.results({ process: pid, limit: 1000 })

  let res = await fetch(node.urls.MU_URL, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from('not a data item') })
  assert.equal(res.status, 400)
  assert.match((await res.json()).error, /data item/)

  // A correctly signed item, captured by a stand-in MU, then one byte of its data changed.
  const captured = await captureSignedItem({ process: pid, signer, tags: [{ name: 'Action', value: 'Set' }, { name: 'Key', value: 'evil' }, { name: 'Value', value: 'v' }], data: 'payload' })
  const tampered = Buffer.from(captured)
  tampered[tampered.length - 1] ^= 0x01
  res = await fetch(node.urls.MU_URL, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: tampered })
  assert.equal(res.status, 400)
  assert.match((await res.json()).error, /signature/)

  // The untampered item is accepted; sending it again (a client retry) gets the same answer and schedules nothing new.
  res = await fetch(node.urls.MU_URL, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: captured })
  assert.equal(res.status, 202)
  const first = await res.json()
  res = await fetch(node.urls.MU_URL, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: captured })
  assert.equal(res.status, 202)
  assert.deepEqual(await res.json(), first)

  const afterRes = await ao.results({ process: pid, limit: 1000 })
  assert.equal(afterRes.edges.length, before.edges.length + 1, 'only the one valid message was added')

  res = await fetch(`${node.urls.CU_URL}/result/${'A'.repeat(43)}?process-id=${pid}`)
  assert.equal(res.status, 404)
  assert.ok((await res.json()).error)
})

test('restarting aonode keeps every process, its state and its results', async () => {
  const pid = await spawnKV()
  const setId = await ao.message({ process: pid, signer, tags: [{ name: 'Action', value: 'Set' }, { name: 'Key', value: 'persist' }, { name: 'Value', value: 'yes' }] })
  const before = await ao.result({ process: pid, message: setId })

  await node.restart()
  assert.equal(node.info.module, moduleId, 'the module is loaded, not published anew')
  assert.equal(node.info.scheduler, scheduler, 'the wallet is loaded, not created anew')

  const afterRes = await ao.result({ process: pid, message: setId })
  assert.deepEqual(afterRes, before)
  const get = await ao.dryrun({ process: pid, tags: [{ name: 'Action', value: 'Get' }, { name: 'Key', value: 'persist' }] })
  assert.equal(tag(get.Messages[0], 'Value'), 'yes')
  const next = await ao.message({ process: pid, signer, tags: [{ name: 'Action', value: 'Set' }, { name: 'Key', value: 'after' }, { name: 'Value', value: 'restart' }] })
  const r = await ao.result({ process: pid, message: next })
  assert.equal(r.Messages[0].Data, 'Value stored!')
})
