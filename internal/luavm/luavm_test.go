package luavm

import (
	"fmt"
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
