package luavm

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestLayout(t *testing.T) {
	if err := Check(); err != nil {
		t.Fatalf("gopher-lua layout: %v", err)
	}
}

func TestFramesAndSlots(t *testing.T) {
	L := lua.NewState(lua.Options{MinimizeStackMemory: true, CallStackSize: 64, RegistryMaxSize: 1 << 16})
	defer L.Close()
	used, capacity := Frames(L)
	if used != 0 || capacity != 64 {
		t.Fatalf("fresh state: %d frames of %d", used, capacity)
	}
	GrowFrames(L, 1000)
	if _, capacity = Frames(L); capacity != 1000 {
		t.Fatalf("grown to %d frames, want 1000", capacity)
	}
	// A recursion deeper than the initial 64 frames now fits.
	if err := L.DoString(`local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end depth = f(500)`); err != nil {
		t.Fatal(err)
	}
	if L.GetGlobal("depth") != lua.LNumber(500) {
		t.Fatalf("depth %v", L.GetGlobal("depth"))
	}
	SetSlotGrowth(L, 4096)
	if SlotGrowth(L) != 4096 {
		t.Fatal("slot growth not set")
	}
	L.Push(lua.LString("x"))
	if top, _ := Slots(L); top != 1 || Stack(L)[0] != lua.LString("x") || Register(L, 0) != lua.LString("x") {
		t.Fatalf("stack: top %d", top)
	}
}

// A Go function sees the frames of its callers: function, program counter, argument count, tail calls.
func TestFrames(t *testing.T) {
	L := lua.NewState(lua.Options{MinimizeStackMemory: true})
	defer L.Close()
	var seen []string
	L.SetGlobal("probe", L.NewFunction(func(L *lua.LState) int {
		f := CurrentFrame(L)
		if !f.Valid() || f.IsLua() || f.NArgs() != L.GetTop() {
			t.Errorf("probe's frame: valid %v, lua %v, %d args of %d", f.Valid(), f.IsLua(), f.NArgs(), L.GetTop())
		}
		for f = f.Parent(); f.Valid(); f = f.Parent() {
			p := f.Fn().Proto
			seen = append(seen, fmt.Sprintf("line %d tail %d", p.DbgSourcePositions[f.Pc()-1], f.TailCall()))
		}
		if f.Parent().Valid() || f.Fn() != nil || f.Pc() != 0 {
			t.Error("the zero frame has a parent, a function or a pc")
		}
		return 0
	}))
	if err := L.DoString("local function g()\n  probe(1, 2)\nend\nlocal function f()\n  return g()\nend\nf()"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(seen, ", "); got != "line 2 tail 1, line 7 tail 0" {
		t.Fatalf("frames: %s", got)
	}
}

// CloseUpvalues closes the open upvalues of the registers from idx on: their closures keep the values
// whatever becomes of the registers; upvalues of lower registers stay shared with them.
func TestCloseUpvalues(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("close", L.NewFunction(func(L *lua.LState) int {
		CloseUpvalues(L, CurrentFrame(L).Parent().LocalBase()+L.CheckInt(1))
		return 0
	}))
	err := L.DoString(`local a, b = 1, 2
local function ga() return a end
local function gb() return b end
close(1) -- b's register and up
a, b = 10, 20
result = ga() .. " " .. gb()`)
	if err != nil {
		t.Fatal(err)
	}
	if got := L.GetGlobal("result").String(); got != "10 2" {
		t.Fatalf("upvalues after closing: %s, want 10 2", got)
	}
	if HasErrorFunc(L) {
		t.Fatal("no handler, yet the flag is set")
	}
	SetHasErrorFunc(L, true)
	if !HasErrorFunc(L) {
		t.Fatal("flag not set")
	}
	SetHasErrorFunc(L, false)
}

// The layout check names what differs when a struct is not the one aonode was written against.
func TestLayoutMismatchNamed(t *testing.T) {
	//lint:ignore U1000 the fields are only read by reflection: the layout check compares them by name and type
	type table struct {
		Metatable lua.LValue
		array     []lua.LValue
		dict      map[lua.LValue]int // wrong type
		strdict   map[string]lua.LValue
		keys      []lua.LValue
	}
	tt := reflect.TypeOf(table{})
	for _, c := range []struct {
		err  error
		want string
	}{
		{sameFields(tt, tableFields), "has 5 fields, want 6"},
		{sameFields(tt, []string{"Metatable", "array", "dictx", "strdict", "keys"}), "field 2 is dict, want dictx"},
		{func() error { _, err := exactField(tt, "k2i", reflect.TypeOf(0)); return err }(), "has no field k2i"},
		{func() error {
			_, err := exactField(tt, "dict", reflect.TypeOf(map[lua.LValue]lua.LValue(nil)))
			return err
		}(), "table.dict is a map[lua.LValue]int, want map[lua.LValue]lua.LValue"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", c.err, c.want)
		}
	}
}

// SetTableParts and SetStringKey make the table RawSet calls make: same pairs order, same length, also
// after deleting and setting keys again.
func TestTableParts(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	plain := L.CreateTable(0, 0)
	for i, k := range []string{"b", "a", "c"} {
		plain.RawSetString(k, lua.LNumber(i))
	}
	plain.RawSetString("a", lua.LNil)
	plain.RawSetInt(1, lua.LTrue)
	plain.RawSetInt(2, lua.LFalse)
	plain.RawSetH(lua.LTrue, lua.LString("t"))

	built := L.CreateTable(0, 0)
	keys := []lua.LValue{lua.LString("b"), lua.LString("a"), lua.LString("c"), lua.LTrue}
	SetTableParts(built, TableParts{
		Array:   []lua.LValue{lua.LTrue, lua.LFalse},
		Strdict: map[string]lua.LValue{"b": lua.LNumber(0), "c": lua.LNumber(2)},
		Dict:    map[lua.LValue]lua.LValue{lua.LTrue: lua.LString("t")},
		Keys:    keys,
		K2i:     map[lua.LValue]int{keys[0]: 0, keys[1]: 1, keys[2]: 2, keys[3]: 3},
	})
	for _, tb := range []*lua.LTable{plain, built} {
		SetStringKey(tb, lua.LString("a"), lua.LNumber(9)) // revived in its old place
		SetStringKey(tb, lua.LString("d"), lua.LNumber(4))
		SetStringKey(tb, lua.LString("b"), lua.LNil)
	}
	dump := func(tb *lua.LTable) string {
		var sb strings.Builder
		for k, v := tb.Next(lua.LNil); k != lua.LNil; k, v = tb.Next(k) {
			sb.WriteString(k.String() + "=" + v.String() + " ")
		}
		return sb.String() + "#" + strconv.Itoa(tb.Len())
	}
	if dump(plain) != dump(built) {
		t.Errorf("RawSet: %s\nparts:  %s", dump(plain), dump(built))
	}
	if want := "1=true 2=false a=9 c=2 true=t d=4 #2"; dump(built) != want {
		t.Errorf("got %s, want %s", dump(built), want)
	}
	if len(TableKeys(built)) != 5 || len(TableStrdict(built)) != 3 || len(TableDict(built)) != 1 {
		t.Errorf("parts: keys %d strdict %d dict %d", len(TableKeys(built)), len(TableStrdict(built)), len(TableDict(built)))
	}
}

// A coroutine that returned can be reused; one that is suspended or was made by coroutine.wrap cannot.
func TestThreadReusable(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`
done = coroutine.create(function() end) coroutine.resume(done)
waiting = coroutine.create(function() coroutine.yield() end) coroutine.resume(waiting)
wrapped = coroutine.wrap(function() end) wrapped()`); err != nil {
		t.Fatal(err)
	}
	done, waiting := L.GetGlobal("done").(*lua.LState), L.GetGlobal("waiting").(*lua.LState)
	wrapped := L.GetGlobal("wrapped").(*lua.LFunction).Upvalues[0].Value().(*lua.LState)
	if !ThreadReusable(done) || ThreadReusable(waiting) || ThreadReusable(wrapped) || !IsWrapped(wrapped) || IsWrapped(done) {
		t.Fatalf("reusable: done %v, waiting %v, wrapped %v", ThreadReusable(done), ThreadReusable(waiting), ThreadReusable(wrapped))
	}
	th := ReuseThread(done)
	if th == done || !ThreadReusable(th) {
		t.Fatal("the new thread does not own the stack")
	}
	if ThreadReusable(done) {
		t.Fatal("a thread whose parts were lent can lend them again")
	}
}

func TestIsObject(t *testing.T) {
	var nilTable *lua.LTable
	var nilFn *lua.LFunction
	var nilUD *lua.LUserData
	L := lua.NewState()
	defer L.Close()
	for _, c := range []struct {
		v    lua.LValue
		want bool
	}{
		{L.NewTable(), true}, {L.NewFunction(func(*lua.LState) int { return 0 }), true}, {L.NewUserData(), true},
		{nilTable, false}, {nilFn, false}, {nilUD, false}, {nil, false},
		{lua.LNil, false}, {lua.LTrue, false}, {lua.LNumber(1), false}, {lua.LString("s"), false},
	} {
		if got := IsObject(c.v); got != c.want {
			t.Errorf("IsObject(%#v) = %v, want %v", c.v, got, c.want)
		}
	}
}

func TestReserveArray(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	tb := L.CreateTable(0, 0)
	tb.RawSetInt(1, lua.LString("a"))
	tb.RawSetInt(2, lua.LString("b"))
	ReserveArray(tb, 100_000)
	if a := TableArray(tb); len(a) != 2 || cap(a) != 100_000 || a[0] != lua.LString("a") || a[1] != lua.LString("b") {
		t.Fatalf("after ReserveArray: len %d cap %d %v", len(a), cap(a), a[:min(len(a), 2)])
	}
	// gopher-lua's fill up to a far key now appends in place.
	before := &TableArray(tb)[:1][0]
	tb.RawSetInt(100_000, lua.LTrue)
	a := TableArray(tb)
	if len(a) != 100_000 || &a[0] != before || a[99_999] != lua.LTrue || a[50_000] != lua.LNil || tb.Len() != 100_000 {
		t.Fatalf("far key: len %d, moved %v", len(a), &a[0] != before)
	}
	ReserveArray(tb, 10) // never shrinks
	if cap(TableArray(tb)) != 100_000 {
		t.Fatal("ReserveArray shrank the array")
	}
}
