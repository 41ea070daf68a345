// The AOS tutorial's Key-Value store, as the tutorial gives it: the Lua the e2e tests Eval into a process.
export const KV_STORE = `local ao = require('ao')
Store = Store or {}
Handlers.add("Get", Handlers.utils.hasMatchingTag("Action", "Get"), function (msg)
  assert(type(msg.Key) == 'string', 'Key is required!')
  ao.send({ Target = msg.From, Tags = { Value = Store[msg.Key] }})
end)
Handlers.add("Set", Handlers.utils.hasMatchingTag("Action", "Set"), function (msg)
  assert(type(msg.Key) == 'string', 'Key is required!')
  assert(type(msg.Value) == 'string', 'Value is required!')
  Store[msg.Key] = msg.Value
  Handlers.utils.reply("Value stored!")(msg)
end)
`
