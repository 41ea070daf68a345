package luaclone

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// proc is a process VM built the way a node would build one: the standard
// libraries plus Go builtins, some of which capture per-VM Go state.
type proc struct {
	L   *lua.LState
	out *bytes.Buffer // written by print / ext.emit of THIS VM
}

type point struct{ x, y int }

type secret struct{ handle int }

type shared struct{ n int }

// testBuiltins names the top-level Go functions of the test states, as a runtime registers its own.
var testBuiltins = luavm.NewBuiltins()

func init() {
	for name, fn := range map[string]lua.LGFunction{"goCounter": goCounter, "extUpper": extUpper, "newPoint": newPoint,
		"pointX": pointX, "pointMove": pointMove, "pointString": pointString} {
		if err := testBuiltins.Register(name, fn); err != nil {
			panic(err)
		}
	}
	RegisterUserData(&secret{}, func(any) (any, error) {
		return nil, errors.New("secret handles cannot be copied")
	})
	// Points are mutable Go values: copy them instead of sharing.
	RegisterUserData(&point{}, func(v any) (any, error) {
		p := *v.(*point)
		return &p, nil
	})
}

// newProc creates a process VM; prelude (Lua) runs last, like an AO bootstrap.
func newProc(prelude string) (*proc, error) {
	L := lua.NewState()
	p := &proc{L: L, out: new(bytes.Buffer)}

	// print writes to the per-VM buffer (a Go closure over p).
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		parts := make([]string, 0, L.GetTop())
		for i := 1; i <= L.GetTop(); i++ {
			parts = append(parts, L.ToStringMeta(L.Get(i)).String())
		}
		p.out.WriteString(strings.Join(parts, "\t") + "\n")
		return 0
	}))
	// A Go closure whose Lua-visible state lives in its upvalue.
	L.SetGlobal("gocounter", L.NewClosure(goCounter, lua.LNumber(0)))

	// A Go module, as if preloaded by the host: package.loaded.ext.
	ext := L.NewTable()
	ext.RawSetString("emit", L.NewFunction(func(L *lua.LState) int {
		p.out.WriteString("emit:" + L.CheckString(1) + "\n")
		return 0
	}))
	ext.RawSetString("upper", L.NewFunction(extUpper))
	ext.RawSetString("version", lua.LString("1.0"))
	L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable).RawSetString("ext", ext)

	// A userdata type whose metatable lives in the registry.
	mt := L.NewTypeMetatable("point")
	L.SetField(mt, "__index", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"x": pointX, "move": pointMove,
	}))
	L.SetField(mt, "__tostring", L.NewFunction(pointString))
	L.SetGlobal("newpoint", L.NewFunction(newPoint))

	// Per-VM context userdata at a fixed path, and a builtin that checks it.
	ctx := L.NewUserData()
	ctx.Value = p
	L.SetGlobal("vmctx", ctx)
	L.SetGlobal("isminectx", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LBool(L.CheckUserData(1).Value == p))
		return 1
	}))
	// Userdata whose Value type is registered as not copyable, and one whose
	// type is not registered at all (copied shallowly).
	L.SetGlobal("newsecret", L.NewFunction(func(L *lua.LState) int {
		ud := L.NewUserData()
		ud.Value = &secret{handle: 1}
		L.Push(ud)
		return 1
	}))
	L.SetGlobal("newshared", L.NewFunction(func(L *lua.LState) int {
		ud := L.NewUserData()
		ud.Value = &shared{n: 1}
		L.Push(ud)
		return 1
	}))
	// A builtin that makes a new Go closure at run time (no counterpart in a fresh VM).
	L.SetGlobal("mkgoclosure", L.NewFunction(func(L *lua.LState) int {
		n := 0
		L.Push(L.NewFunction(func(L *lua.LState) int { n++; L.Push(lua.LNumber(n)); return 1 }))
		return 1
	}))
	// A builtin that makes a new top-level Go function at run time.
	L.SetGlobal("mkgofunc", L.NewFunction(func(L *lua.LState) int {
		L.Push(L.NewClosure(goCounter, lua.LNumber(100)))
		return 1
	}))
	// A module loaded lazily by require: its functions are created on first
	// require, so a fresh VM has no counterpart for them.
	L.PreloadModule("lazy", func(L *lua.LState) int {
		L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"hi": func(L *lua.LState) int { L.Push(lua.LString("hi from " + fmt.Sprintf("%p", p))); return 1 },
		}))
		return 1
	})
	L.PreloadModule("lazystateless", func(L *lua.LState) int {
		L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{"upper": extUpper}))
		return 1
	})

	if prelude != "" {
		if err := L.DoString(prelude); err != nil {
			L.Close()
			return nil, err
		}
	}
	return p, nil
}

func goCounter(L *lua.LState) int {
	n := L.Get(lua.UpvalueIndex(1)).(lua.LNumber) + 1
	L.Replace(lua.UpvalueIndex(1), n)
	L.Push(n)
	return 1
}

func extUpper(L *lua.LState) int {
	L.Push(lua.LString(strings.ToUpper(L.CheckString(1))))
	return 1
}

func newPoint(L *lua.LState) int {
	ud := L.NewUserData()
	ud.Value = &point{L.CheckInt(1), L.CheckInt(2)}
	L.SetMetatable(ud, L.GetTypeMetatable("point"))
	L.Push(ud)
	return 1
}

func checkPoint(L *lua.LState) *point { return L.CheckUserData(1).Value.(*point) }

func pointX(L *lua.LState) int { L.Push(lua.LNumber(checkPoint(L).x)); return 1 }

func pointMove(L *lua.LState) int {
	p := checkPoint(L)
	p.x += L.CheckInt(2)
	p.y += L.CheckInt(3)
	return 0
}

func pointString(L *lua.LState) int {
	p := checkPoint(L)
	L.Push(lua.LString(fmt.Sprintf("point(%d,%d)", p.x, p.y)))
	return 1
}

// mustProc builds a source process and runs setup in it.
func mustProc(t testing.TB, prelude, setup string) *proc {
	t.Helper()
	p, err := newProc(prelude)
	if err != nil {
		t.Fatalf("newProc: %v", err)
	}
	t.Cleanup(p.L.Close)
	if setup != "" {
		do(t, p.L, setup)
	}
	return p
}

// cloneProc clones src with a fresh VM built by the same recipe and returns
// the fresh proc (whose L is the clone).
func cloneProc(t testing.TB, src *proc, prelude string) *proc {
	t.Helper()
	dp, err := tryClone(src, prelude, Options{})
	if err != nil {
		t.Fatalf("Clone: %v", err)
	}
	t.Cleanup(dp.L.Close)
	return dp
}

func tryClone(src *proc, prelude string, opts Options) (*proc, error) {
	if opts.Builtins == nil {
		opts.Builtins = testBuiltins
	}
	var dp *proc
	L, err := CloneWithOptions(src.L, func() (*lua.LState, error) {
		p, err := newProc(prelude)
		if err != nil {
			return nil, err
		}
		dp = p
		return p.L, nil
	}, opts)
	if err != nil {
		if dp != nil && !dp.L.IsClosed() {
			return nil, errors.New("dst not closed after failed clone: " + err.Error())
		}
		return nil, err
	}
	if L != dp.L {
		return nil, errors.New("Clone did not return the fresh state")
	}
	return dp, nil
}

func do(t testing.TB, L *lua.LState, code string) {
	t.Helper()
	if err := L.DoString(code); err != nil {
		t.Fatalf("lua error: %v\ncode: %s", err, code)
	}
}

// eval evaluates a Lua expression list and returns the results joined by
// tostring, e.g. "1,true,x".
func eval(t testing.TB, L *lua.LState, expr string) string {
	t.Helper()
	top := L.GetTop()
	if err := L.DoString("return " + expr); err != nil {
		t.Fatalf("lua error: %v\nexpr: %s", err, expr)
	}
	var parts []string
	for i := top + 1; i <= L.GetTop(); i++ {
		parts = append(parts, L.ToStringMeta(L.Get(i)).String())
	}
	L.SetTop(top)
	return strings.Join(parts, ",")
}

/* ---- structural comparison of two VMs ---- */

// dumpState renders everything reachable from L's roots, numbering objects in
// first-visit order and rendering tables from their internal layout (array
// length with holes, hash key order with deleted value keys). Two states with
// the same dump are isomorphic object graphs with the same iteration orders.
// Deleted object keys are not rendered (Clone drops them when unreachable).
func dumpState(L *lua.LState) string {
	d := &dumper{ids: map[any]int{}, main: L}
	var b strings.Builder
	for _, r := range srcRoots(L) {
		b.WriteString(r.name + " = " + d.ref(r.v) + "\n")
	}
	for i := 0; i < len(d.queue); i++ {
		b.WriteString(d.body(d.queue[i]) + "\n")
	}
	return b.String()
}

type dumper struct {
	ids   map[any]int
	queue []any
	main  *lua.LState
}

func (d *dumper) ref(v any) string {
	switch x := v.(type) {
	case nil:
		return "<gonil>"
	case *lua.LNilType:
		return "nil"
	case lua.LBool, lua.LNumber:
		return fmt.Sprint(x)
	case lua.LString:
		return fmt.Sprintf("%q", string(x))
	case *lua.LState:
		if x == d.main {
			return "<main>"
		}
	}
	id, ok := d.ids[v]
	if !ok {
		id = len(d.ids) + 1
		d.ids[v] = id
		d.queue = append(d.queue, v)
	}
	return fmt.Sprintf("#%d", id)
}

func (d *dumper) body(v any) string {
	id := d.ids[v]
	switch x := v.(type) {
	case *lua.LTable:
		var parts []string
		for _, e := range luavm.TableArray(x) {
			parts = append(parts, d.ref(e))
		}
		s := fmt.Sprintf("#%d table mt=%s arr=[%s] hash={", id, d.ref(x.Metatable), strings.Join(parts, " "))
		parts = parts[:0]
		for _, k := range luavm.TableKeys(x) {
			e := x.RawGetH(k)
			if e == lua.LNil {
				switch k.(type) {
				case lua.LString, lua.LNumber, lua.LBool:
					parts = append(parts, d.ref(k)+"=<deleted>")
				}
				continue
			}
			parts = append(parts, d.ref(k)+"="+d.ref(e))
		}
		return s + strings.Join(parts, " ") + "}"
	case *lua.LFunction:
		var kind string
		if x.IsG {
			kind = "go " + luavm.GoName(x.GFunction)
		} else {
			kind = fmt.Sprintf("lua %p", x.Proto)
		}
		env := "nil"
		if x.Env != nil {
			env = d.ref(x.Env)
		}
		var ups []string
		for _, uv := range x.Upvalues {
			ups = append(ups, d.ref(uv))
		}
		return fmt.Sprintf("#%d function %s env=%s upvalues=[%s]", id, kind, env, strings.Join(ups, " "))
	case *lua.Upvalue:
		return fmt.Sprintf("#%d upvalue closed=%v value=%s", id, x.IsClosed(), d.ref(x.Value()))
	case *lua.LUserData:
		env := "nil"
		if x.Env != nil {
			env = d.ref(x.Env)
		}
		return fmt.Sprintf("#%d userdata %T env=%s mt=%s", id, x.Value, env, d.ref(x.Metatable))
	case *lua.LState:
		return fmt.Sprintf("#%d thread dead=%v", id, x.Dead)
	}
	return fmt.Sprintf("#%d %T", id, v)
}

// objectsOf returns every mutable object reachable in L (tables, functions,
// userdata, threads, upvalues).
func objectsOf(L *lua.LState) map[any]bool {
	d := &dumper{ids: map[any]int{}}
	for _, r := range srcRoots(L) {
		d.ref(r.v)
	}
	for i := 0; i < len(d.queue); i++ {
		d.body(d.queue[i])
	}
	out := map[any]bool{}
	for o := range d.ids {
		out[o] = true
	}
	return out
}

// assertSameShape checks that two VMs have isomorphic state and share no
// mutable object.
func assertSameShape(t *testing.T, src, dst *lua.LState) {
	t.Helper()
	ds, dd := dumpState(src), dumpState(dst)
	if ds != dd {
		t.Fatalf("state dumps differ:\n%s", firstDiff(ds, dd))
	}
	so := objectsOf(src)
	var shared []string
	for o := range objectsOf(dst) {
		if so[o] {
			shared = append(shared, fmt.Sprintf("%T %p", o, o))
		}
	}
	sort.Strings(shared)
	if len(shared) > 0 {
		t.Fatalf("%d objects shared between src and clone, e.g. %v", len(shared), shared[0])
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d\nsrc: %s\ndst: %s", i+1, x, y)
		}
	}
	return ""
}
