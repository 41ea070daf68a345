// The calls the aos CLI (permaweb/aos 2.0.x run with --legacy) makes, in its order and with its parameters,
// through the same aoconnect: CI keeps the CLI working without running it. README ("Using the aos CLI") has
// the session this was checked against by hand.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createDataItemSigner } from '@permaweb/aoconnect'
import { AONode, poll } from '../lib/aonode.mjs'
import { newWallet, addressOf } from '../lib/wallet.mjs'

// The CLI's process module version (package.json aos.version): a process reporting another one makes the
// CLI offer `.update`, which loads AOS modules this runtime does not have.
const CLI_AOS_VERSION = '2.0.4'
// Legacy spawns carry this Authority tag (src/register.js).
const CLI_AUTHORITY = 'fcoN_xJeisVsPXA-trzVAuIiqO3ydLQxM-L4XbrQKzY'

let node, ao, signer, me

before(async () => {
  node = await AONode.start()
  ao = connect({ MU_URL: node.urls.MU_URL, CU_URL: node.urls.CU_URL, GATEWAY_URL: node.urls.GATEWAY_URL })
  const wallet = newWallet()
  me = addressOf(wallet)
  signer = createDataItemSigner(wallet)
})

after(async () => { await node?.stop() })

// spawn as `aos <name> [--cron <interval>]` does.
async function cliSpawn (name, cron) {
  const tags = [{ name: 'App-Name', value: 'aos' }, { name: 'Name', value: name }]
  if (cron) tags.push({ name: 'Cron-Interval', value: cron }, { name: 'Cron-Tag-Action', value: 'Cron' })
  tags.push({ name: 'Authority', value: CLI_AUTHORITY }, { name: 'aos-Version', value: '2.0.16' })
  return ao.spawn({ module: node.info.module, scheduler: node.info.scheduler, signer, tags, data: '' })
}

// evaluate is the CLI's: an Eval message, then its result from the CU.
async function evaluate (pid, line) {
  const id = await ao.message({ process: pid, signer, tags: [{ name: 'Action', value: 'Eval' }], data: line })
  return ao.result({ message: id, process: pid })
}

// LiveFeed is the CLI's notification poll (src/services/connect.js, every 2 s): the first page is the newest
// five, later ones start from the last edge's cursor with no sort of their own. A result whose Output has
// print = true becomes an alert, once per cursor; the cursor is what the CLI saves for the next session.
class LiveFeed {
  constructor (pid, cursor = null) { this.pid = pid; this.cursor = cursor; this.alerts = new Map() }
  async poll () {
    const params = { process: this.pid, limit: 1000 }
    if (this.cursor) params.from = this.cursor
    else { params.limit = 5; params.sort = 'DESC' }
    const res = await ao.results(params)
    const fresh = []
    for (const e of res.edges) {
      if (e.node?.Output?.print === true && !this.alerts.has(e.cursor)) {
        this.alerts.set(e.cursor, e.node.Output)
        fresh.push(e.node.Output.data)
      }
    }
    if (res.edges.length > 0) this.cursor = res.edges[res.edges.length - 1].cursor
    return { fresh, edges: res.edges }
  }

  // pollUntil polls until an alert matches re, then until a poll returns nothing (the cursor has caught up).
  async pollUntil (re) {
    const seen = []
    await poll(async () => { seen.push(...(await this.poll()).fresh); return seen.some((d) => re.test(d)) }, { timeout: 30_000 })
    await poll(async () => { const p = await this.poll(); seen.push(...p.fresh); return p.edges.length === 0 }, { timeout: 30_000 })
    return seen
  }
}

const cursorOf = (c) => JSON.parse(Buffer.from(c, 'base64').toString())

test('aos CLI: the process is found by name, connects without offering .update, evaluates and loads files', async () => {
  const name = 'cli-' + Date.now()
  const pid = await cliSpawn(name)
  // The CLI looks the name up on the gateway to reuse the process next time.
  const q = `query ($owners: [String!]!) { transactions(first: 10, owners: $owners, tags: [
    { name: "Data-Protocol", values: ["ao"] }, { name: "Type", values: ["Process"]}, { name: "Name", values: ["${name}"]}
  ]) { edges { node { id tags { name value } } } } }`
  const found = await poll(async () => {
    const res = await (await fetch(node.urls.GATEWAY_URL + '/graphql', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q, variables: { owners: [me] } })
    })).json()
    return res.data?.transactions?.edges?.length > 0 && res.data.transactions.edges
  })
  assert.deepEqual(found.map((e) => e.node.id), [pid])

  const hello = await evaluate(pid, "require('.process')._version")
  assert.equal(hello.Output.data, CLI_AOS_VERSION, 'the CLI offers .update unless the version is its own')
  assert.match(hello.Output.prompt, new RegExp(`${name}.*aos-${CLI_AOS_VERSION.replaceAll('.', '\\.')}.*Inbox`))

  assert.equal((await evaluate(pid, '1 + 41')).Output.data, '42')
  // A statement with no value: the real AOS 2.0.x process answers an empty data and the prompt (the CLI
  // prints that Output object as it is, against the reference units too).
  const stmt = await evaluate(pid, 'X = 1')
  assert.equal(stmt.Error, undefined)
  assert.equal(stmt.Output.data, '')
  assert.equal(typeof stmt.Output.prompt, 'string')
  assert.equal((await evaluate(pid, 'X')).Output.data, '1')

  // `.load main.lua` where main.lua requires greet.lua: the CLI sends one Eval with the module wrapped first.
  const greet = 'local M = {}\nfunction M.hello(name) return "hello, " .. name end\nreturn M'
  const main = 'local greet = require("greet")\nreturn greet.hello("loader")'
  const executable = `\n\n-- module: "greet"\nlocal function _loaded_mod_greet()\n${greet}\nend\n` +
    '\n_G.package.loaded["greet"] = _loaded_mod_greet()' + '\n\n' + main
  const loaded = await evaluate(pid, executable)
  assert.equal(loaded.Error, undefined)
  assert.equal(loaded.Output.data, 'hello, loader')
  assert.equal((await evaluate(pid, 'require("greet").hello("again")')).Output.data, 'hello, again')

  // An error comes back as Error, which the CLI prints with its line.
  const bad = await evaluate(pid, 'error("boom")')
  assert.match(bad.Error, /boom/)
})

test('aos CLI live feed: a handler\'s print after a Send to itself shows once, and so does a .receive() result; reconnecting replays nothing', async () => {
  const pid = await cliSpawn('live-' + Date.now())
  const feed = new LiveFeed(pid)
  await feed.poll() // the CLI starts polling as it connects
  const handler = await evaluate(pid, 'Handlers.add("ping", Handlers.utils.hasMatchingTag("Action", "Ping"), function (msg) print("got Ping from " .. msg.From .. ": " .. msg.Data) end)')
  assert.equal(handler.Error, undefined)

  await evaluate(pid, 'Send({ Target = ao.id, Action = "Ping", Data = "hello me" })')
  let seen = await feed.pollUntil(/got Ping/)
  assert.deepEqual(seen.filter((d) => /got Ping/.test(d)), [`got Ping from ${pid}: hello me`])

  // A message no handler takes lands in the Inbox, announced as aos does.
  await evaluate(pid, 'Send({ Target = ao.id, Action = "Hello", Data = "no handler for me" })')
  seen = await feed.pollUntil(/New Message From/)
  assert.equal(seen.filter((d) => /New Message From/.test(d)).length, 1)
  assert.match(seen.find((d) => /New Message From/.test(d)), /Action = .*Hello/)

  // .receive(): the Eval waits for the reply; its value comes out with the reply's result.
  await evaluate(pid, 'Handlers.add("echo", Handlers.utils.hasMatchingTag("Action", "Echo"), function (msg) msg.reply({ Data = "echo: " .. msg.Data }) end)')
  const waiting = await evaluate(pid, 'Send({ Target = ao.id, Action = "Echo", Data = "ping" }).receive().Data')
  assert.equal(waiting.Error, undefined)
  seen = await feed.pollUntil(/echo: ping/)
  assert.equal(seen.filter((d) => /echo: ping/.test(d)).length, 1)

  // The first page's order carries on in the cursors the CLI keeps.
  const last = cursorOf(feed.cursor)
  assert.equal(last.sort, 'DESC', 'the first newest-first page sets the order of the rest')

  // Next session: the saved cursor, no alerts yet. Nothing already seen is announced again.
  const again = new LiveFeed(pid, feed.cursor)
  for (let i = 0; i < 3; i++) assert.deepEqual((await again.poll()).fresh, [])

  // A new notification still shows in the new session.
  await evaluate(pid, 'Send({ Target = ao.id, Action = "Ping", Data = "after reconnect" })')
  seen = await again.pollUntil(/after reconnect/)
  assert.deepEqual(seen, [`got Ping from ${pid}: after reconnect`])
})

test('aos CLI live feed carries the prints of cron ticks (aos --cron, monitored)', async () => {
  const pid = await cliSpawn('cron-' + Date.now(), '1-second')
  const feed = new LiveFeed(pid)
  await feed.poll()
  const r = await evaluate(pid, 'Ticks = 0\nHandlers.add("cron", Handlers.utils.hasMatchingTag("Action", "Cron"), function (msg) Ticks = Ticks + 1; print("cron tick " .. Ticks) end)')
  assert.equal(r.Error, undefined)
  await ao.monitor({ process: pid, signer })
  try {
    const ticks = []
    await poll(async () => {
      const { fresh, edges } = await feed.poll()
      for (const e of edges) {
        if (/^cron tick/.test(e.node?.Output?.data)) assert.match(cursorOf(e.cursor).cron, /^0-1-second$/)
      }
      ticks.push(...fresh.filter((d) => /^cron tick/.test(d)))
      return ticks.length >= 2
    }, { timeout: 30_000 })
    assert.equal(new Set(ticks).size, ticks.length, 'each tick is announced once')
  } finally {
    await ao.unmonitor({ process: pid, signer })
  }
})
