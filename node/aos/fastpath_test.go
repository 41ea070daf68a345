package aos

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// Every Go fast path (native.go, env.go) stands for Lua code the runtime keeps as its fallback. These
// property tests run both over generated inputs, odd shapes included (metatables, non-string names, tags
// that are not lists, replaced functions), and require the same results, the same errors and the same
// changes to the tables they were given, so that the two cannot drift apart.

// luaGen writes random Lua expressions.
type luaGen struct{ r *rand.Rand }

var genStrings = []string{"", "Action", "action", "x_reference", "X-Reference", "content-TYPE", "Content-Type", "a,b,,c", ",",
	"Tags", "tags", "TAGS", "tAgs", "From", "Target", "Data", "Anchor", "Owner", "Id", "é_x", "\xff_a", "%d+", "^Ping$", "Ping",
	"[a-", "a.b", "_", "-", "--a", "Authority", "Module", "Data-Protocol", "Reference", "TagArray", "Name", "Ref_", "9lives_x"}

func (g luaGen) str() string {
	if g.r.IntN(4) == 0 {
		const alphabet = "aA_-,.%^$ éZ9"
		b := make([]byte, g.r.IntN(6))
		for i := range b {
			b[i] = alphabet[g.r.IntN(len(alphabet))]
		}
		return strconv.Quote(string(b))
	}
	return strconv.Quote(genStrings[g.r.IntN(len(genStrings))])
}

func (g luaGen) number() string {
	return []string{"0", "1", "-1", "1.5", "2^53", "1e100", "-2.25", "1/0", "0/0", "7", "123456789012", "-0.0", "2^63", "-(1/0)"}[g.r.IntN(14)]
}

// key is a table key: mostly strings, sometimes a number or a boolean.
func (g luaGen) key() string {
	switch g.r.IntN(10) {
	case 0:
		return []string{"1", "2", "3", "1.5", "-1"}[g.r.IntN(5)]
	case 1:
		return "true"
	}
	return g.str()
}

// value is any value, tables up to depth.
func (g luaGen) value(depth int) string {
	switch n := g.r.IntN(12); {
	case n < 4:
		return g.str()
	case n < 6:
		return g.number()
	case n == 6:
		return []string{"true", "false", "nil"}[g.r.IntN(3)]
	case n == 7:
		return "print"
	default:
		if depth <= 0 {
			return g.str()
		}
		return g.table(depth - 1)
	}
}

// withMeta sometimes gives t a metatable.
func (g luaGen) withMeta(t string) string {
	switch g.r.IntN(12) {
	case 0:
		return "setmetatable(" + t + ", {})"
	case 1:
		// It answers string keys only: one that answered every key would make ipairs (which reads through
		// __index, as in Lua 5.3) go on forever over the table.
		return "setmetatable(" + t + `, { __index = function(_, k) if type(k) == "string" then return "mt:" .. k end end })`
	}
	return t
}

func (g luaGen) table(depth int) string {
	var parts []string
	if g.r.IntN(2) == 0 {
		for i := g.r.IntN(4); i > 0; i-- {
			parts = append(parts, g.value(depth))
		}
	}
	for i := g.r.IntN(4); i > 0; i-- {
		parts = append(parts, "["+g.key()+"] = "+g.value(depth))
	}
	return g.withMeta("{ " + strings.Join(parts, ", ") + " }")
}

// tagEntry is one element of a tag list: usually { name = string, value = string }.
func (g luaGen) tagEntry() string {
	switch g.r.IntN(14) {
	case 0:
		return g.value(1)
	case 1:
		return "{ name = " + g.value(0) + ", value = " + g.value(1) + " }"
	case 2:
		return g.withMeta("{ name = " + g.str() + ", value = " + g.str() + " }")
	case 3:
		return "{ value = " + g.str() + " }"
	}
	v := g.str()
	if g.r.IntN(4) == 0 {
		v = g.value(1)
	}
	return "{ name = " + g.str() + ", value = " + v + " }"
}

// tags is a message's Tags: a list of tag entries, a name -> value table, or something else.
func (g luaGen) tags() string {
	switch g.r.IntN(10) {
	case 0:
		return g.value(1)
	case 1, 2:
		return g.table(1)
	}
	var es []string
	for i := g.r.IntN(6); i > 0; i-- {
		es = append(es, g.tagEntry())
	}
	if g.r.IntN(6) == 0 && len(es) > 1 {
		es[g.r.IntN(len(es))] = "nil" // a hole
	}
	return g.withMeta("{ " + strings.Join(es, ", ") + " }")
}

// msg is a message-like table.
func (g luaGen) msg() string {
	var parts []string
	for i := g.r.IntN(5); i > 0; i-- {
		parts = append(parts, "["+g.key()+"] = "+g.value(1))
	}
	if g.r.IntN(8) != 0 {
		parts = append(parts, "Tags = "+g.tags())
	}
	if g.r.IntN(3) == 0 {
		parts = append(parts, "Target = "+g.str())
	}
	return g.withMeta("{ " + strings.Join(parts, ", ") + " }")
}

// env is an ao.env-like table.
func (g luaGen) env() string {
	var tags []string
	for i := g.r.IntN(5); i > 0; i-- {
		name := []string{`"Authority"`, `"Module"`, `"Name"`, g.str()}[g.r.IntN(4)]
		val := []string{`"A1,A2"`, `",a,,b,a, c"`, `"MOD"`, `""`, g.str(), g.value(0)}[g.r.IntN(6)]
		tags = append(tags, g.withMeta("{ name = "+name+", value = "+val+" }"))
	}
	list := g.withMeta("{ " + strings.Join(tags, ", ") + " }")
	if g.r.IntN(10) == 0 {
		list = g.value(1)
	}
	proc := g.withMeta("{ Id = " + g.str() + ", Tags = " + list + " }")
	if g.r.IntN(12) == 0 {
		proc = g.value(1)
	}
	return "{ Process = " + proc + " }"
}

// dumpSource renders a value deterministically: tables in pairs order (key order is part of what the
// fast paths keep), with their metatables, shared tables and cycles named.
const dumpSource = `local function dump(v, seen)
  seen = seen or { n = 0 }
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t ~= "table" then return t .. ":" .. tostring(v) end
  if seen[v] then return "@" .. seen[v] end
  seen.n = seen.n + 1
  seen[v] = seen.n
  local out = {}
  for k, x in next, v do out[#out + 1] = dump(k, seen) .. "=" .. dump(x, seen) end
  local mt = getmetatable(v) and "mt" or ""
  return mt .. "{" .. table.concat(out, ",") .. "}"
end
return dump`

// moduleCase is a scenario run against one instance of a runtime module: Lua code that gets the module and
// a table of input makers, and returns a text of everything it saw.
const (
	aoScenario = `local ao, mk, dump = ...
local out = {}
local function try(name, f, ...)
  local r = table.pack(pcall(f, ...))
  out[#out + 1] = name .. " " .. dump(r)
end
ao.authorities = mk.auths()
ao._module = mk.modname()
local env = mk.env()
try("init", ao.init, env)
out[#out + 1] = dump({ ao.authorities, ao._module, ao.outbox, ao.id, ao.env == env })
local m = mk.msg()
try("normalize", ao.normalize, m)
out[#out + 1] = dump(m)
local function strip(r) if type(r) == "table" then r.onReply, r.receive = nil, nil end return r end
try("send", function(x) return strip(ao.send(x)) end, mk.msg())
try("send", function(x) return strip(ao.send(x)) end, mk.msg())
if mk.badReference then ao.reference = mk.badReference end
try("send", function(x) return strip(ao.send(x)) end, mk.msg())
try("spawn", function(x) return strip(ao.spawn(mk.modname(), x)) end, mk.msg())
if mk.ownTostring then
  local ts = tostring
  tostring = function(v) return "T:" .. type(v) end
  try("send, tostring replaced", function(x) return strip(ao.send(x)) end, mk.msg())
  tostring = ts
end
try("sanitize", ao.sanitize, mk.msg())
try("result", ao.result, { Output = mk.value() })
out[#out + 1] = dump(ao.outbox) .. " " .. tostring(ao.reference)
local before = ao.outbox
ao.clearOutbox()
try("init again", ao.init, env)
out[#out + 1] = dump(ao.outbox) .. tostring(ao.outbox == before)
return table.concat(out, "\n")`

	utilsScenario = `local utils, mk, dump = ...
local out = {}
local function try(name, f, ...)
  out[#out + 1] = name .. " " .. dump(table.pack(pcall(f, ...)))
end
for i = 1, 4 do try("normalize", utils.normalize, mk.value()) end
try("normalize", utils.normalize, mk.key())
for i = 1, 3 do try("matchesPattern", utils.matchesPattern, mk.pattern(), mk.key(), mk.msg()) end
try("matchesSpec", utils.matchesSpec, mk.msg(), mk.spec())
return table.concat(out, "\n")`
)

// makers is the Lua source of the input makers of one generated scenario (each call builds a new value).
func makers(g luaGen) string {
	fn := func(src string) string { return "function() return " + src + " end" }
	badRef := "nil"
	if g.r.IntN(6) == 0 {
		badRef = g.value(0)
	}
	var auths []string
	for i := g.r.IntN(3); i > 0; i-- {
		auths = append(auths, []string{`"A1"`, `"a"`, g.str()}[g.r.IntN(3)])
	}
	authList := g.withMeta("{ " + strings.Join(auths, ", ") + " }")
	ownTostring := "false"
	if g.r.IntN(5) == 0 {
		ownTostring = "true"
	}
	return "{ ownTostring = " + ownTostring + ", env = " + fn(g.env()) + ", msg = " + fn(g.msg()) + ", auths = " + fn(authList) +
		", modname = " + fn([]string{`""`, `"MOD"`, g.str()}[g.r.IntN(3)]) + ", value = " + fn(g.value(2)) +
		", key = " + fn(g.str()) + ", pattern = " + fn([]string{g.str(), g.str(), g.tags(), "function(v) return v == 'Ping' end", "{ " + g.str() + ", " + g.str() + " }"}[g.r.IntN(5)]) +
		", spec = " + fn([]string{g.str(), g.msg(), g.table(1)}[g.r.IntN(3)]) + ", badReference = " + badRef + " }"
}

// runModuleScenario loads module file with the given Go helpers (a subset of natives(L, file)) and runs
// scenario against it with the makers of src. The result is the scenario's text, or its error.
func runModuleScenario(L *lua.LState, file string, helpers map[string]bool, scenario, src string) string {
	all := natives(L, file)
	given := L.CreateTable(0, 0)
	all.ForEach(func(k, v lua.LValue) {
		if helpers[lua.LVAsString(k)] {
			given.RawSet(k, v)
		}
	})
	chunk := bundledLoader(L, "."+file)
	// A new instance of the module, on its own: ao.lua takes over the fields of a global ao.
	g := L.G.Global
	prev := g.RawGetString("ao")
	g.RawSetString("ao", lua.LNil)
	err := L.CallByParam(lua.P{Fn: chunk, NRet: 1, Protect: true}, lua.LString("."+file), given)
	g.RawSetString("ao", prev)
	if err != nil {
		return "load: " + err.Error()
	}
	mod := L.Get(-1)
	L.Pop(1)
	mk, err := L.LoadString("return " + src)
	if err != nil {
		return "makers: " + err.Error()
	}
	if err := L.CallByParam(lua.P{Fn: mk, NRet: 1, Protect: true}); err != nil {
		return "makers: " + err.Error()
	}
	makersTable := L.Get(-1)
	L.Pop(1)
	if err := L.DoString(dumpSource); err != nil {
		return "dump: " + err.Error()
	}
	dump := L.Get(-1)
	L.Pop(1)
	fn, err := L.LoadString(scenario)
	if err != nil {
		return "scenario: " + err.Error()
	}
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, mod, makersTable, dump); err != nil {
		return "error: " + err.Error()
	}
	out := L.Get(-1).String()
	L.Pop(1)
	return out
}

// helperNames are the Go helpers module file gets, sorted.
func helperNames(L *lua.LState, file string) []string {
	var names []string
	natives(L, file).ForEach(func(k, _ lua.LValue) { names = append(names, lua.LVAsString(k)) })
	sort.Strings(names)
	return names
}

// For the ao and utils modules, each Go helper alone, and all of them together, give what the module's Lua
// definitions give, over generated inputs.
func TestFastPathsMatchLuaModules(t *testing.T) {
	p := lpBoot(t, Options{ComputeLimit: -1})
	L := p.L
	const cases = 250
	for _, m := range []struct{ file, scenario string }{{"ao", aoScenario}, {"utils", utilsScenario}} {
		names := helperNames(L, m.file)
		if len(names) < 2 {
			t.Fatalf("%s: helpers %v", m.file, names)
		}
		variants := map[string]map[string]bool{"all": {}}
		for _, n := range names {
			variants[n] = map[string]bool{n: true}
			variants["all"][n] = true
		}
		t.Run(m.file, func(t *testing.T) {
			errors := 0
			for i := 0; i < cases; i++ {
				src := makers(luaGen{rand.New(rand.NewPCG(uint64(i), 7))})
				lua := runModuleScenario(L, m.file, nil, m.scenario, src)
				if strings.HasPrefix(lua, "load:") || strings.HasPrefix(lua, "makers:") || strings.HasPrefix(lua, "scenario:") {
					t.Fatalf("case %d: %s", i, lua)
				}
				errors += strings.Count(lua, "{number:1=boolean:false")
				for _, name := range append([]string{"all"}, names...) {
					if goPath := runModuleScenario(L, m.file, variants[name], m.scenario, src); goPath != lua {
						t.Fatalf("case %d: with Go %s and with Lua differ\ninput: %s\n%s", i, name, src, firstLineDiff(goPath, lua))
					}
				}
			}
			if errors == 0 {
				t.Error("no generated input made the module raise an error: the inputs are too tame")
			}
		})
	}
}

// firstLineDiff shows where a and b first differ: the line, around the first differing byte.
func firstLineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			at := 0
			for at < len(x) && at < len(y) && x[at] == y[at] {
				at++
			}
			window := func(s string) string {
				from, to := max(0, at-150), min(len(s), at+150)
				return s[from:to]
			}
			return fmt.Sprintf("line %d, byte %d:\n  go:  ...%s...\n  lua: ...%s...", i+1, at, window(x), window(y))
		}
	}
	return "(equal)"
}

// perturbations are Evals that change what the process module's fast paths check before they act (the
// shapes of the message, the env, Handlers, Colors, Inbox, the functions they stand for).
var perturbations = []string{
	`utils.normalize = function(s) return s end`,
	`local n = utils.normalize; utils.normalize = function(s) return n(s) end`,
	`Colors = setmetatable({}, { __index = Colors })`,
	`Colors.red = 5`,
	`Name = 42`,
	`Name = "renamed"`,
	`Inbox = setmetatable({}, { __len = function() return 7 end })`,
	`table.insert(Inbox, { Data = "x" })`,
	`local ts = tostring; tostring = function(v) return ts(v) end`,
	`local ts = tostring; tostring = function(v) if type(v) == "number" then return "n" .. ts(v) end return ts(v) end`,
	`Send({ Target = "T", Amount = 1.5, Big = 2^63, Flag = true, Nan = 0/0, Inf = 1/0 })`,
	`ao.env.Process.Tags = { { name = "Authority", value = "A,B" } }`,
	`Tab = function(m) local t = {} for _, o in ipairs(m.Tags) do t[o.name] = o.value end return t end`,
	`ao.env.Process.Tags[1].value = "changed"`,
	`ao.env.Process.Extra = 1`,
	`setmetatable(ao.env.Process, {})`,
	`ao.env.Process.TagArray = nil`,
	`table.insert(ao.env.Process.TagArray, { name = "Added", value = "yes" })`,
	`ao.env.Module.Tags = {}`,
	`ao.env.Process.Tags.Extra = "x"`,
	`Handlers.add("ping", Handlers.utils.hasMatchingTag("Action", "Ping"), function(m) print("pong " .. tostring(m.Tags.Extra) .. " " .. tostring(m.X_ref or m["X-Ref"])) end)`,
	`Handlers.remove("_default")`,
	`Handlers.list[1].maxRuns = 50`,
	`local add = Handlers.add; Handlers.add = function(...) return add(...) end`,
	`Handlers.prepend("first", function(m) return m.Action == "Ping" and "continue" or false end, function(m) print("first") end)`,
	`local r = ao.result; ao.result = function(x) return r(x) end`,
	`ao.outbox = setmetatable(ao.outbox, {})`,
	`ao.reference = "7"`,
	`Send({ Target = "T", Action = "Out", Tags = { { name = "L", value = "1" } } })`,
	`print(require("json").encode({ env = ao.env, tags = ao.env.Process.Tags }))`,
	`return Tab({ Tags = { { name = "a", value = "1" }, { name = "a", value = "2" } } })`,
	`return Prompt()`,
}

// processMessages generates a message sequence for the process-level comparison.
func processMessages(r *rand.Rand, from string, n int) []Message {
	g := luaGen{r}
	var out []Message
	names := []string{"Action", "action", "x_ref", "X-Ref", "Content-Type", "tags", "Extra", "data_protocol", "From-Process", "Reference", "Name"}
	for i := 0; i < n; i++ {
		m := Message{Id: fmt.Sprintf("FP%041d", i+1), Owner: lpOwner, From: lpOwner, Target: lpPid, Nonce: int64(i + 1),
			Timestamp: int64(2_000_000 + i*1000), BlockHeight: int64(200 + i)}
		if r.IntN(3) == 0 {
			m.Tags = []Tag{{"Action", "Eval"}}
			m.Data = perturbations[r.IntN(len(perturbations))]
			if r.IntN(4) == 0 {
				m.Data = "return " + g.value(2)
			}
		} else {
			if r.IntN(5) == 0 {
				m.From, m.Owner = from, from
			}
			m.Tags = []Tag{{"Action", []string{"Ping", "Other", "Eval"}[r.IntN(3)]}}
			for j := r.IntN(5); j > 0; j-- {
				val, _ := strconv.Unquote(g.str())
				m.Tags = append(m.Tags, Tag{names[r.IntN(len(names))], val})
			}
			if r.IntN(8) == 0 {
				m.Tags = append(m.Tags, Tag{"Content-Type", "application/json"})
				m.Data = `{"a": [1, 2, {"b": null}], "c": "d"}`
			}
		}
		out = append(out, m)
	}
	return out
}

// resultText is a result without its GasUsed (the Lua definitions run more instructions than the Go
// helpers; everything else must be the same).
func resultText(t *testing.T, r Result) string {
	r.GasUsed = 0
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A process whose modules get none, or all but one, of their Go helpers, or that builds a new env for
// every message, gives the same results and state as the runtime with every fast path, over generated
// message sequences that change what the fast paths check.
func TestFastPathsMatchLuaProcess(t *testing.T) {
	rt, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	variant := func(without func(file, name string) bool, noEnvReuse bool) *Runtime {
		v := *rt
		v.withoutNative, v.noEnvReuse = without, noEnvReuse
		return &v
	}
	L := lpBoot(t, Options{}).L
	variants := map[string]*Runtime{
		"no Go helpers":   variant(func(string, string) bool { return true }, false),
		"no env reuse":    variant(nil, true),
		"Lua only, fresh": variant(func(string, string) bool { return true }, true),
	}
	for _, file := range nativeModules {
		for _, name := range helperNames(L, file) {
			file, name := file, name
			variants[file+"."+name] = variant(func(f, n string) bool { return f == file && n == name }, false)
		}
	}
	boot := func(r *Runtime) *Process {
		p, err := r.New(lpEnv, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		if res := p.Handle(Message{Id: lpPid, Owner: lpOwner, From: lpOwner, Target: lpPid, Tags: lpEnv.Process.Tags, Timestamp: 1_000}); res.Error != "" {
			t.Fatalf("spawn: %s", res.Error)
		}
		return p
	}
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			for seed := uint64(0); seed < 3; seed++ {
				full, other := boot(rt), boot(v)
				for i, m := range processMessages(rand.New(rand.NewPCG(seed, 11)), lpUser, 40) {
					a, b := resultText(t, full.Handle(m)), resultText(t, other.Handle(m))
					if a != b {
						t.Fatalf("seed %d, message %d (%q %v):\nfast paths: %s\n%s:         %s", seed, i, m.Data, m.Tags, a, name, b)
					}
				}
				sa, err := full.StateJSON()
				if err != nil {
					t.Fatal(err)
				}
				sb, err := other.StateJSON()
				if err != nil {
					t.Fatal(err)
				}
				if string(sa) != string(sb) {
					t.Fatalf("seed %d: states differ", seed)
				}
			}
		})
	}
}

// The allocation-free base functions (type, select, ipairs, coroutine.status) answer as gopher-lua's
// own, over generated arguments, errors included.
func TestBaseBuiltinsMatchGopherLua(t *testing.T) {
	aosL := lpBoot(t, Options{ComputeLimit: -1}).L
	plain := lua.NewState()
	defer plain.Close()
	// call runs f with args made by the Lua expression src in L, and renders what it returned or raised;
	// ipairs' iterator is run to its end.
	call := func(L *lua.LState, name, src string) string {
		fn, err := L.LoadString("return " + name)
		if err != nil {
			t.Fatal(err)
		}
		L.Push(fn)
		L.Call(0, 1)
		f := L.Get(-1)
		L.Pop(1)
		mk, err := L.LoadString("local co = coroutine.create(function() coroutine.yield() end) return " + src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		L.Push(mk)
		L.Call(0, lua.MultRet)
		args := make([]lua.LValue, L.GetTop())
		for i := range args {
			args[i] = L.Get(i + 1)
		}
		L.SetTop(0)
		render := func(vs []lua.LValue) string {
			var out []string
			for _, v := range vs {
				switch v.Type() {
				case lua.LTTable, lua.LTFunction, lua.LTThread:
					out = append(out, v.Type().String())
				default:
					out = append(out, v.Type().String()+":"+v.String())
				}
			}
			return strings.Join(out, ",")
		}
		L.Push(f)
		for _, a := range args {
			L.Push(a)
		}
		if err := L.PCall(len(args), lua.MultRet, nil); err != nil {
			return "error: " + err.(*lua.ApiError).Object.String()
		}
		rets := make([]lua.LValue, L.GetTop())
		for i := range rets {
			rets[i] = L.Get(i + 1)
		}
		L.SetTop(0)
		out := render(rets)
		if name == "ipairs" && len(rets) == 3 {
			for i := 0; i < 50; i++ {
				L.Push(rets[0])
				L.Push(rets[1])
				L.Push(rets[2])
				if err := L.PCall(2, 2, nil); err != nil {
					return out + " error: " + err.(*lua.ApiError).Object.String()
				}
				k, v := L.Get(-2), L.Get(-1)
				L.SetTop(0)
				if k == lua.LNil {
					break
				}
				out += " " + render([]lua.LValue{k, v})
				rets[2] = k
			}
		}
		return out
	}
	r := rand.New(rand.NewPCG(3, 5))
	g := luaGen{r}
	errs := 0
	for i := 0; i < 400; i++ {
		var name, src string
		switch i % 4 {
		case 0:
			name, src = "type", []string{g.value(1), "co", "", "nil"}[r.IntN(4)]
		case 1:
			name = "select"
			var args []string
			for j := r.IntN(4); j > 0; j-- {
				args = append(args, g.value(0))
			}
			first := []string{`"#"`, "1", "2", "-1", "-2", "0", "5", "-9", "1.5", `"2"`, `"x"`, "nil", "1/0"}[r.IntN(13)]
			src = strings.Join(append([]string{first}, args...), ", ")
		case 2:
			name = "ipairs"
			src = []string{g.table(1), "{ 1, 2, nil, 4 }", "{ [2000] = 1, [1] = 'a' }", g.value(0), ""}[r.IntN(5)]
		case 3:
			name = "coroutine.status"
			src = []string{"co", "coroutine.create(print)", "(function() local c = coroutine.create(function() end) coroutine.resume(c) return c end)()", g.value(0), ""}[r.IntN(5)]
		}
		a, b := call(aosL, name, src), call(plain, name, src)
		if name == "select" || (name == "ipairs" || name == "coroutine.status") && strings.Contains(a+b, "error: ") {
			// The runtime's select, ipairs and coroutine.status argument checks are Lua 5.3's (native.go), on
			// purpose not gopher-lua's: they are checked against Lua 5.3 and the aos wasm
			// (testdata/lua53-errors, the golden suite).
			continue
		}
		if a != b {
			t.Fatalf("%s(%s): runtime %q, gopher-lua %q", name, src, a, b)
		}
		if strings.Contains(a, "error: ") {
			errs++
		}
	}
	if errs < 10 {
		t.Fatalf("only %d calls raised an error: the arguments are too tame", errs)
	}
}
