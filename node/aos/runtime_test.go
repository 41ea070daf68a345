package aos

import (
	"runtime"
	"testing"
	"time"
	"weak"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// goFunctions lists the Go functions reachable in L.
func goFunctions(L *lua.LState) []*lua.LFunction {
	var out []*lua.LFunction
	seen := map[lua.LValue]bool{}
	var walk func(v lua.LValue)
	walk = func(v lua.LValue) {
		if v == nil || seen[v] {
			return
		}
		switch x := v.(type) {
		case *lua.LTable:
			seen[v] = true
			walk(x.Metatable)
			for _, e := range luavm.TableArray(x) {
				walk(e)
			}
			for _, k := range luavm.TableKeys(x) {
				walk(k)
				walk(x.RawGetH(k))
			}
		case *lua.LFunction:
			seen[v] = true
			if x.IsG {
				out = append(out, x)
			}
			if x.Env != nil {
				walk(x.Env)
			}
			for _, u := range x.Upvalues {
				if u != nil {
					walk(u.Value())
				}
			}
		}
	}
	walk(L.G.Global)
	walk(L.G.Registry)
	for _, mt := range luavm.BuiltinMetatables(L.G) {
		walk(mt)
	}
	return out
}

// Every Go function of a process, those it makes at run time included, has a registered name, and a
// runtime compiled again from the same files names them alike.
func TestBuiltinsRegistered(t *testing.T) {
	rt, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	p := lpBoot(t, Options{})
	p.mustEval(`B = require(".bint")(512); C = B(1) + B(2); U = { utf8.codes("x") }; W = coroutine.wrap(function() end)`)
	again, err := Compile(luaFS)
	if err != nil {
		t.Fatal(err)
	}
	fns := goFunctions(p.L)
	if len(fns) < 150 {
		t.Fatalf("only %d Go functions found", len(fns))
	}
	for _, f := range fns {
		name, ok := rt.Builtins().Name(f.GFunction)
		if !ok {
			t.Errorf("%s is not registered", luavm.GoName(f.GFunction))
			continue
		}
		if other, _ := again.Builtins().Name(f.GFunction); other != name {
			t.Errorf("%s is %q in one compile and %q in another", luavm.GoName(f.GFunction), name, other)
		}
	}
	if n, m := rt.Builtins().Len(), again.Builtins().Len(); n != m {
		t.Errorf("%d builtins, and %d compiled again", n, m)
	}
}

// A process's entry in the runtime registry goes when it is closed, and also when its state is dropped
// without Close (a CU closed with processes loaded): the registry must not keep whole states alive.
func TestStateRuntimeEntryGoes(t *testing.T) {
	held := func(k weak.Pointer[lua.Global]) bool { _, ok := stateRuntimes.Load(k); return ok }
	closed, err := New(Env{Process: ProcessInfo{Id: "closed", Owner: "o"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	kc := weak.Make(closed.L.G)
	if !held(kc) || runtimeOf(closed.L) == nil {
		t.Fatal("a live state has no runtime")
	}
	closed.Close()
	if held(kc) {
		t.Fatal("entry kept after Close")
	}
	kd := func() weak.Pointer[lua.Global] {
		dropped, err := New(Env{Process: ProcessInfo{Id: "dropped", Owner: "o"}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		dropped.Handle(Message{Id: "m", Owner: "o", From: "o", Tags: []Tag{{Name: "Action", Value: "Nothing"}}})
		return weak.Make(dropped.L.G)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for held(kd) {
		if time.Now().After(deadline) {
			t.Fatal("entry of a dropped state still held: the registry keeps the state alive")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
