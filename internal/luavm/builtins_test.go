package luavm

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func fa(*lua.LState) int { return 0 }
func fb(*lua.LState) int { return 1 }

func TestBuiltinsRegister(t *testing.T) {
	b := NewBuiltins()
	if err := b.Register("a", fa); err != nil {
		t.Fatal(err)
	}
	if err := b.Register("a", fa); err != nil {
		t.Fatalf("registering the same again: %v", err)
	}
	if err := b.Register("a2", fa); err == nil {
		t.Fatal("the same code under two names")
	}
	if err := b.Register("a", fb); err == nil {
		t.Fatal("two codes under one name")
	}
	n := 0
	closure := func(*lua.LState) int { n++; return n }
	if err := b.Register("closure", closure); err != nil {
		t.Fatal(err)
	}
	if name, ok := b.Name(fa); !ok || name != "a" {
		t.Fatalf("Name(fa) = %q, %v", name, ok)
	}
	if _, ok := b.Name(fb); ok {
		t.Fatal("an unregistered function has a name")
	}
	if fn, rebuildable, ok := b.Lookup("a"); !ok || !rebuildable || !SameCode(fn, fa) {
		t.Fatal("a top-level function is not rebuildable from its name")
	}
	if _, rebuildable, ok := b.Lookup("closure"); !ok || rebuildable {
		t.Fatal("a Go closure is rebuildable from its name")
	}
	var nilReg *Builtins
	if _, ok := nilReg.Name(fa); ok {
		t.Fatal("a nil registry names a function")
	}
}

// Names come from where a function is in the state, in sorted order: two states holding the same
// functions at the same places, built in another order, give the same names.
func TestRegisterReachableOrder(t *testing.T) {
	build := func(reverse bool) *Builtins {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		lib := L.NewTable()
		set := []func(){
			func() { L.SetGlobal("lib", lib) },
			func() { lib.RawSetString("b", L.NewFunction(fb)) },
			func() { lib.RawSetString("a", L.NewFunction(fa)) },
			func() { L.SetGlobal("alias", L.NewFunction(fb)) }, // fb again, at a shorter path
		}
		if reverse {
			for i := len(set) - 1; i >= 0; i-- {
				set[i]()
			}
		} else {
			for _, f := range set {
				f()
			}
		}
		b := NewBuiltins()
		if err := b.RegisterReachable("x:", L); err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, b := range []*Builtins{build(false), build(true)} {
		na, _ := b.Name(fa)
		nb, _ := b.Name(fb)
		if na != "x:_G/lib/a" || nb != "x:_G/alias" {
			t.Errorf("names %q %q", na, nb)
		}
	}
}
