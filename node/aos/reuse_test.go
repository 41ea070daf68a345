package aos

import (
	"strings"
	"testing"

	"github.com/aonode/aonode/internal/luavm"
)

// What the runtime now reuses from one message to the next (a dead coroutine's stacks, the env tables,
// the _eval and _default registrations) must stay invisible to Lua code.

func mustOutput(t *testing.T, r Result, want string) {
	t.Helper()
	if r.Error != "" || !strings.Contains(r.Output.Data, want) {
		t.Fatalf("want output containing %q, got %+v", want, r)
	}
}

// Every message runs in a new coroutine, distinct from the earlier (dead) ones, which stay dead.
func TestMessageCoroutinesAreFresh(t *testing.T) {
	p := lpBoot(t, Options{})
	p.mustEval(`Seen = {}
Handlers.add("co", Handlers.utils.hasMatchingTag("Action", "Co"), function(m)
  local co = coroutine.running()
  for _, old in ipairs(Seen) do
    if old == co then print("reused") end
    if coroutine.status(old) ~= "dead" then print("alive") end
    local ok, err = coroutine.resume(old)
    if ok then print("resumed") end
  end
  table.insert(Seen, co)
  print(type(co) .. " " .. coroutine.status(co) .. " " .. #Seen)
end)`)
	for i := 1; i <= 4; i++ {
		r := p.Handle(p.msg(lpUser, "", Tag{"Action", "Co"}))
		mustOutput(t, r, "thread running "+string(rune('0'+i)))
		for _, bad := range []string{"reused", "alive", "resumed"} {
			if strings.Contains(r.Output.Data, bad) {
				t.Fatalf("message %d: %s: %q", i, bad, r.Output.Data)
			}
		}
	}
}

// Coroutines a handler makes, suspends and resumes later work as before, also when they are made out of
// the parts of finished ones; a coroutine that failed with a local still captured keeps that local.
func TestUserCoroutinesWithReuse(t *testing.T) {
	p := lpBoot(t, Options{})
	p.mustEval(`Handlers.add("step", Handlers.utils.hasMatchingTag("Action", "Step"), function(m)
  if not Gen then
    Gen = coroutine.create(function(a) local b = coroutine.yield(a + 1); local c = coroutine.yield(b * 2); return c .. "!" end)
    print("first " .. select(2, coroutine.resume(Gen, 1)))
  else
    local ok, v = coroutine.resume(Gen, Arg)
    print(tostring(ok) .. " " .. tostring(v) .. " " .. coroutine.status(Gen))
  end
  for i = 1, 3 do
    local co = coroutine.create(function(x) local y, z = x * 10, x * 100; return y + z end)
    local _, v = coroutine.resume(co, i)
    print("tmp " .. v)
  end
end)`)
	mustOutput(t, p.Handle(p.msg(lpUser, "", Tag{"Action", "Step"})), "first 2\ntmp 110\ntmp 220\ntmp 330")
	p.mustEval(`Arg = 21`)
	mustOutput(t, p.Handle(p.msg(lpUser, "", Tag{"Action", "Step"})), "true 42 suspended")
	p.mustEval(`Arg = "done"`)
	mustOutput(t, p.Handle(p.msg(lpUser, "", Tag{"Action", "Step"})), "true done! dead")
	r := p.mustEval(`local f
local co = coroutine.create(function() local x = 42; f = function() return x end; error("boom") end)
local ok = coroutine.resume(co)
local co2 = coroutine.create(function() local a, b, c = 1, 2, 3; return a + b + c end)
local _, six = coroutine.resume(co2)
local co3 = coroutine.create(function() local q = 7; return q end)
coroutine.resume(co3)
return tostring(ok) .. " " .. six .. " " .. f()`)
	if !strings.Contains(r.Output.Data, "false 6 42") {
		t.Fatalf("got %q", r.Output.Data)
	}
}

// ao.env is what the host gives, every message: changes a handler makes to it do not carry over, and its
// tables iterate in the same order every time.
func TestEnvIsFreshEachMessage(t *testing.T) {
	p := lpBoot(t, Options{})
	p.mustEval(`Handlers.add("env", Handlers.utils.hasMatchingTag("Action", "Env"), function(m)
  local P = ao.env.Process
  local keys = {}
  for k in pairs(P) do keys[#keys + 1] = k end
  local tags = {}
  for k, v in pairs(P.Tags) do tags[#tags + 1] = k .. "=" .. v end
  print(table.concat(keys, ",") .. " | " .. table.concat(tags, ",") .. " | " .. P.Id .. " " .. #P.TagArray ..
    " " .. P.TagArray[1].name .. " " .. tostring(P.Tags.Extra) .. " " .. ao.env.Module.Id)
  if m.Mess == "tab" then P.Tags.Extra = "x" end
  if m.Mess == "id" then P.Id = "other" end
  if m.Mess == "tag" then P.TagArray[1].value = "changed" end
  if m.Mess == "list" then table.insert(P.TagArray, { name = "New", value = "1" }) end
  if m.Mess == "env" then ao.env.Extra = 1 end
  if m.Mess == "keep" then Kept = ao.env end
end)`)
	want := "Id,Owner,Tags,TagArray | Type=Process,Module=MOD | " + lpPid + " 2 Type nil MOD"
	for _, mess := range []string{"", "tab", "id", "tag", "list", "env", "keep", "", ""} {
		r := p.Handle(p.msg(lpUser, "", Tag{"Action", "Env"}, Tag{"Mess", mess}))
		mustOutput(t, r, want)
	}
	mustOutput(t, p.mustEval(`print(Kept.Process.Id .. " " .. Kept.Process.Tags.Type)`), lpPid+" Process")
}

// The runtime re-adds _eval and _default for every message as before: a removed or replaced one is back,
// and a Handlers.add or append of the process's own sees both calls every message.
func TestEvalAndDefaultReAdded(t *testing.T) {
	p := lpBoot(t, Options{})
	p.mustEval(`Handlers.remove("_eval")`)
	mustOutput(t, p.mustEval(`print("back")`), "back")
	p.mustEval(`Handlers.list[1].handle = function() print("replaced") end`)
	mustOutput(t, p.mustEval(`print("again")`), "again")
	p.mustEval(`Handlers.add("_default", function() return true end, function() print("mine") end)`)
	r := p.Handle(p.msg(lpUser, "", Tag{"Action", "Nothing"}))
	mustOutput(t, r, "New Message From")
	p.mustEval(`Calls = {}
local add, append = Handlers.add, Handlers.append
Handlers.add = function(name, ...) table.insert(Calls, name) return add(name, ...) end
Handlers.append = function(name, ...) table.insert(Calls, name) return append(name, ...) end`)
	p.Handle(p.msg(lpUser, "", Tag{"Action", "Nothing"}))
	// the Eval message's own _eval and _default come before its handler runs
	mustOutput(t, p.mustEval(`print(table.concat(Calls, ","))`), "_eval,_default,_eval,_default")
}

// A process's own Prompt and ao.result are used.
func TestOwnPromptAndResult(t *testing.T) {
	p := lpBoot(t, Options{})
	r := p.mustEval(`function Prompt() return "my> " end`)
	if r.Output.Prompt != "my> " {
		t.Fatalf("prompt %q", r.Output.Prompt)
	}
	p.mustEval(`local result = ao.result
ao.result = function(res) local r = result(res) if r.Output then r.Output.data = "wrapped" end return r end`)
	if r := p.mustEval(`print("x")`); r.Output.Data != "wrapped" {
		t.Fatalf("output %+v", r.Output)
	}
}

// The reuse paths are taken: gopher-lua's layout is the expected one, a finished message leaves its
// coroutine to lend, and an untouched env is given again.
func TestReusePathsTaken(t *testing.T) {
	if err := luavm.Check(); err != nil {
		t.Fatal(err)
	}
	p := lpBoot(t, Options{})
	p.mustEval(`X = 1`)
	if p.meter.spare == nil {
		t.Fatal("no coroutine to lend after a message")
	}
	c := p.envCache
	p.mustEval(`X = 2`)
	if p.envCache != c || c == nil {
		t.Fatal("env built again for an untouched env")
	}
	p.mustEval(`ao.env.Process.Owner = "x"`)
	p.mustEval(`X = 3`)
	if p.envCache == c {
		t.Fatal("changed env given again")
	}
}

// Prompt's Go path gives the text of its Lua concatenation.
func TestNativePromptMatchesLua(t *testing.T) {
	p := lpBoot(t, Options{})
	r := p.mustEval(`Name = "n\0x"; table.insert(Inbox, {}); table.insert(Inbox, {})
local lua = Colors.green .. Name .. Colors.gray .. "@" .. Colors.blue .. "aos-" .. require(".process")._version ..
  Colors.gray .. "[Inbox:" .. Colors.red .. tostring(#Inbox) .. Colors.gray .. "]" .. Colors.reset .. "> "
return tostring(Prompt() == lua) .. " " .. #Inbox`)
	mustOutput(t, r, "true 3")
	mustOutput(t, p.mustEval(`Colors.green = 5; return tostring(Prompt():find("5n") ~= nil)`), "true")
}

// The empty outbox ao.init sets is given again only while untouched: a handler that calls ao.init itself
// and then sends gets its message out, once.
func TestInitOutboxReuse(t *testing.T) {
	p := lpBoot(t, Options{})
	p.mustEval(`Handlers.add("init", Handlers.utils.hasMatchingTag("Action", "Init"), function(m)
  ao.init(ao.env)
  ao.send({ Target = "X", Data = "after init " .. m.Nonce })
end)`)
	for i := 0; i < 3; i++ {
		r := p.Handle(p.msg(lpUser, "", Tag{"Action", "Init"}))
		if r.Error != "" || len(r.Messages) != 1 || !strings.HasPrefix(r.Messages[0].Data, "after init") {
			t.Fatalf("round %d: %+v", i, r)
		}
		r = p.Handle(p.msg(lpUser, "", Tag{"Action", "Nothing"}))
		if r.Error != "" || len(r.Messages) != 0 {
			t.Fatalf("round %d: the next message sends %+v", i, r.Messages)
		}
	}
	if st := p.state(); !strings.Contains(st, `"outbox":{"Assignments":{},"Messages":{},"Output":{`) {
		t.Fatalf("state outbox: %s", st[strings.Index(st, `"outbox"`):][:120])
	}
}
