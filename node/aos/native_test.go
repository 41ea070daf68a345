package aos

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// The Go helpers must give what the Lua definitions they replace give (those still run when a module is
// loaded again without them).
func TestNativeNormalizeMatchesLua(t *testing.T) {
	p := lpBoot(t, Options{})
	inputs := []string{"", "x_reference", "content-TYPE", "ACTION", "a", "_", "--a", "a__b", "-x-", "9lives_x",
		"Already-Normal", "école_x", "x_é", "\xff_\xfeA", "data-protocol", "a-b-c_d_E"}
	L := p.L
	L.SetGlobal("__utilsLoader", bundledLoader(L, ".utils"))
	if err := L.DoString(`__luaUtils = __utilsLoader(".utils")`); err != nil {
		t.Fatal(err)
	}
	luaNormalize := L.GetField(L.GetGlobal("__luaUtils"), "normalize")
	for _, in := range inputs {
		if err := L.CallByParam(lua.P{Fn: luaNormalize, NRet: 1, Protect: true}, lua.LString(in)); err != nil {
			t.Fatal(err)
		}
		want := L.Get(-1).String()
		L.Pop(1)
		if got := normalizeKey(in); got != want {
			t.Errorf("normalize(%q) = %q, Lua gives %q", in, got, want)
		}
	}
	if got := normalizeKey("x_reference"); got != "X-Reference" {
		t.Errorf("normalize(x_reference) = %q", got)
	}
	if s := "Already-Normal"; !strings.EqualFold(normalizeKey(s), s) {
		t.Error("normalized key changed")
	}
}

// A user's Utils.normalize is the one messages are normalized with.
func TestReplacedNormalizeIsUsed(t *testing.T) {
	p := lpBoot(t, Options{})
	p.mustEval(`Utils.normalize = function(s) if s == "Key" then return "Item" end return s end
Handlers.add("seen", function(m) return m.Action == "Ping" end, function(m) print("key " .. tostring(m.Item)) end)`)
	r := p.Handle(p.msg(lpUser, "", Tag{"Action", "Ping"}, Tag{"Key", "k"}))
	if r.Error != "" || !strings.Contains(r.Output.Data, "key k") {
		t.Fatalf("result %+v", r)
	}
}

// dumpLua renders v with tables in pairs order (key order is part of what the natives must keep).
const dumpLua = `function __dump(v)
  if type(v) ~= "table" then return type(v) .. ":" .. tostring(v) end
  local out = {}
  for k, x in pairs(v) do out[#out + 1] = tostring(k) .. "=" .. __dump(x) end
  return "{" .. table.concat(out, ",") .. "}"
end`

// The ao module built with its Go helpers and without them (as a re-require builds it) queue the same
// messages and spawns, fields in the same order, and read Authority lists alike.
func TestNativeAoMatchesLua(t *testing.T) {
	p := lpBoot(t, Options{})
	L := p.L
	src := dumpLua + `
local native = package.loaded[".ao"]
local plain = __aoLoader(".ao")
local out = {}
for _, a in ipairs({ native, plain }) do
  a.authorities = {}
  a.init({ Process = { Id = "P", Tags = { { name = "Authority", value = ",a,,b,a, c" }, { name = "Authority", value = "d" } } } })
  a.clearOutbox()
  local m = a.send({ Target = "T", Data = "x", Action = "Go", Tags = { Z = "1", A = 2 } })
  a.send({ Target = "T", Num = 1.5, Big = 2^40, Flag = false, Fn = print, Tags = { { name = "L", value = "1" }, { name = "M", value = "2" } } })
  a.send({ Data = "no target", Tags = "not a table" })
  for i = 1, 3 do a.send({ Target = "R" .. i }) end
  local n = a.normalize({ Keep = "k", Tags = { { name = "Action", value = "A" }, { name = "From", value = "F" }, { name = "Action", value = "B" }, { name = "X-Y", value = "1" } } })
  local extra = __dump(n) .. a.reference
  a.spawn("MOD", { Data = "y", Name = "n" })
  out[#out + 1] = extra .. __dump(a.authorities) .. __dump(a.outbox) .. __dump(m.Tags) .. type(m.onReply) ..
    __dump(a.result({ Output = { data = "d" } }))
end
return out[1], out[2]`
	L.SetGlobal("__aoLoader", bundledLoader(L, ".ao"))
	if err := L.DoString(src); err != nil {
		t.Fatal(err)
	}
	native, plain := L.Get(-2).String(), L.Get(-1).String()
	L.Pop(2)
	if native != plain {
		t.Errorf("native ao:\n%s\nLua ao:\n%s", native, plain)
	}
}

// Tab and the message normalization give the same tables with the Go helpers as the Lua loops.
func TestNativeTabMatchesLua(t *testing.T) {
	p := lpBoot(t, Options{})
	L := p.L
	src := dumpLua + `
local msg = { Tags = { { name = "b", value = "1" }, { name = "a", value = "2" }, { name = "b", value = "3" } } }
local native = Tab(msg)
local plain = {}
for _, o in ipairs(msg.Tags) do if not plain[o.name] then plain[o.name] = o.value end end
return __dump(native), __dump(plain)`
	if err := L.DoString(src); err != nil {
		t.Fatal(err)
	}
	native, plain := L.Get(-2).String(), L.Get(-1).String()
	L.Pop(2)
	if native != plain {
		t.Errorf("Tab: native %s, Lua %s", native, plain)
	}
}

// The allocation-free base functions answer as gopher-lua's do, with Lua 5.3's error messages.
func TestBaseBuiltins(t *testing.T) {
	p := lpBoot(t, Options{})
	L := p.L
	src := `local out = {}
local function add(...) for i = 1, select("#", ...) do out[#out + 1] = tostring((select(i, ...))) end end
add(type(nil), type(true), type(1), type("s"), type(print), type({}), type(coroutine.create(print)))
add(select("#"), select("#", nil, nil), select(2, "a", "b", "c"), select(-1, "a", "b", "c"))
for i, v in ipairs({ "x", "y", nil, "z" }) do add(i, v) end
for i, v in ipairs({ [2000] = 1, [1] = "big" }) do add(i, v) end
local co = coroutine.create(function() add(coroutine.status(coroutine.running())) coroutine.yield() end)
add(coroutine.status(co)) coroutine.resume(co) add(coroutine.status(co)) coroutine.resume(co) add(coroutine.status(co))
add(pcall(select, 0, "a"), pcall(select, "x"), pcall(ipairs, nil), pcall(type))
return table.concat(out, " ")`
	if err := L.DoString(src); err != nil {
		t.Fatal(err)
	}
	got := L.Get(-1).String()
	L.Pop(1)
	want := "nil boolean number string function table thread 0 2 b c 1 x 2 y 1 big suspended running suspended dead " +
		"false false true false bad argument #1 to 'type' (value expected)" // ipairs(nil) is fine in 5.3; iterating is not
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// A table built by fieldTable is the table the same RawSetString calls make: same fields, same pairs
// order, also after the runtime clears a field and sets it or new ones again.
func TestFieldTableMatchesRawSet(t *testing.T) {
	if err := luavm.Check(); err != nil {
		t.Fatal(err)
	}
	L := lua.NewState()
	defer L.Close()
	keys := []string{"b", "a", "Tags", "b", "x"}
	built := newFieldTable(L, 2, 1)
	plain := L.CreateTable(0, 0)
	for i, k := range keys {
		v := lua.LValue(lua.LNumber(i))
		if k == "x" {
			v = lua.LNil
		}
		built.set(lua.LString(k), v)
		plain.RawSetString(k, v)
	}
	b := built.table()
	for _, tb := range []*lua.LTable{b, plain} {
		tb.RawSetString("a", lua.LNil)
		tb.RawSetString("new", lua.LTrue)
		tb.RawSetString("a", lua.LFalse)
	}
	dump := func(tb *lua.LTable) string {
		var sb strings.Builder
		for k, v := tb.Next(lua.LNil); k != lua.LNil; k, v = tb.Next(k) {
			sb.WriteString(k.String() + "=" + v.String() + " ")
		}
		return sb.String()
	}
	if dump(b) != dump(plain) {
		t.Errorf("built %q, RawSetString %q", dump(b), dump(plain))
	}
}
