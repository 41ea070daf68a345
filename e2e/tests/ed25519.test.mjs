// The AOS tutorial through the real @permaweb/aoconnect against a node whose keys are ed25519
// (-wallet-type ed25519): aoconnect never checks the scheduler's key type, the gateway finds the node's records
// by its address, and the node's assignments are ANS-104 type-2 items.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { connect, createDataItemSigner } from '@permaweb/aoconnect'
import { AONode } from '../lib/aonode.mjs'
import { newWallet, addressOf } from '../lib/wallet.mjs'

const KV_STORE = `Store = Store or {}
Handlers.add("Get", Handlers.utils.hasMatchingTag("Action", "Get"), function (msg)
  ao.send({ Target = msg.From, Tags = { Value = Store[msg.Key] }})
end)
Handlers.add("Set", Handlers.utils.hasMatchingTag("Action", "Set"), function (msg)
  assert(type(msg.Value) == 'string', 'Value is required!')
  Store[msg.Key] = msg.Value
  Handlers.utils.reply("Value stored!")(msg)
end)
`

let node, ao, signer, me

before(async () => {
  node = await AONode.start({ extraArgs: ['-wallet-type', 'ed25519'] })
  ao = connect({ MU_URL: node.urls.MU_URL, CU_URL: node.urls.CU_URL, GATEWAY_URL: node.urls.GATEWAY_URL })
  const wallet = newWallet()
  me = addressOf(wallet)
  signer = createDataItemSigner(wallet)
})

after(async () => { await node?.stop() })

const gql = async (query, variables) => (await (await fetch(node.urls.GATEWAY_URL + '/graphql', {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables })
})).json()).data

test('ed25519 node: spawn, Eval, Set, result, dryrun; its records and assignments are type-2 items', async () => {
  const scheduler = node.info.scheduler
  const pid = await ao.spawn({ module: node.info.module, scheduler, signer })
  const evalId = await ao.message({ process: pid, signer, tags: [{ name: 'Action', value: 'Eval' }], data: KV_STORE })
  assert.equal((await ao.result({ process: pid, message: evalId })).Error, undefined)
  const setId = await ao.message({ process: pid, signer, tags: [{ name: 'Action', value: 'Set' }, { name: 'Key', value: 'k' }, { name: 'Value', value: 'v' }] })
  const set = await ao.result({ process: pid, message: setId })
  assert.equal(set.Error, undefined)
  assert.equal(set.Messages[0].Target, me)
  assert.equal(set.Messages[0].Data, 'Value stored!')
  const get = await ao.dryrun({ process: pid, tags: [{ name: 'Action', value: 'Get' }, { name: 'Key', value: 'k' }] })
  assert.equal(get.Messages[0].Tags.find((t) => t.name === 'Value').value, 'v')

  // The scheduler's records, found by its address, carry a 32-byte key whose sha256 is that address.
  const q = `query ($owner: String!) { transactions(owners: [$owner], tags: [{name: "Type", values: ["Scheduler-Location"]}]) { edges { node { id owner { address key } tags { name value } } } } }`
  let loc
  for (let i = 0; i < 100 && !loc; i++) {
    loc = (await gql(q, { owner: scheduler })).transactions.edges[0]?.node
    if (!loc) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  assert.ok(loc, 'the Scheduler-Location record is found by the owner address')
  const key = Buffer.from(loc.owner.key, 'base64url')
  assert.equal(key.length, 32)
  assert.equal(createHash('sha256').update(key).digest('base64url'), scheduler)
  assert.equal(loc.tags.find((t) => t.name === 'Url').value, node.urls.SU_URL)

  // The SU's message page shows the assignment signed by the scheduler's ed25519 key.
  const page = await (await fetch(`${node.urls.SU_URL}/${pid}?process-id=${pid}`)).json()
  const asg = page.edges.find((e) => e.node.message.id === setId).node.assignment
  assert.equal(asg.owner.address, scheduler)
  assert.equal(Buffer.from(asg.owner.key, 'base64url').length, 32)
})
