package luavm

import (
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
