package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// restamp rewrites the stamp of a snapshot made with opts and seals it again.
func restamp(t *testing.T, data []byte, st Stamp) []byte {
	t.Helper()
	old, err := ReadStamp(data)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(st Stamp) []byte {
		var b []byte
		for _, s := range []string{st.Runtime, st.LuaVM, st.Bytecode} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		return b
	}
	head := len(magic) + 1
	oldStamp := enc(old)
	if !bytes.Equal(data[head:head+len(oldStamp)], oldStamp) {
		t.Fatal("stamp not where expected")
	}
	body := append(append(append([]byte(nil), data[:head]...), enc(st)...), data[head+len(oldStamp):len(data)-8]...)
	return reseal(body)
}

// A snapshot names what made it, and a snapshot with any of it altered is refused as stale, naming what
// differs, before anything of the state is touched.
func TestStampRefused(t *testing.T) {
	p := boot(t)
	if r := p.Handle(eval(1, richProgram)); r.Error != "" {
		t.Fatal(r.Error)
	}
	data, err := Encode(p.L, opts(p))
	if err != nil {
		t.Fatal(err)
	}
	st, err := ReadStamp(data)
	if err != nil {
		t.Fatal(err)
	}
	if st != StampOf(testRuntime) || st.LuaVM != luavm.ModuleVersion() || st.Bytecode != luavm.BytecodeFormat() {
		t.Fatalf("stamp %+v", st)
	}
	if same := restamp(t, data, st); !bytes.Equal(same, data) {
		t.Fatal("restamping with the same stamp changed the snapshot")
	}
	for _, c := range []struct {
		field string
		alter func(*Stamp)
	}{
		{"runtime", func(s *Stamp) { s.Runtime = "aos-lua/0 0123" }},
		{"gopher-lua", func(s *Stamp) { s.LuaVM = "github.com/yuin/gopher-lua@v1.1.3" }},
		{"bytecode format", func(s *Stamp) { s.Bytecode = "gopher-lua-bytecode/1-000000000000" }},
	} {
		t.Run(c.field, func(t *testing.T) {
			alt := st
			c.alter(&alt)
			q := fresh(t)
			before := state(t, q)
			err := Decode(restamp(t, data, alt), q.L, opts(q))
			if !errors.Is(err, ErrStale) || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("Decode: %v, want ErrStale naming the %s", err, c.field)
			}
			if state(t, q) != before {
				t.Fatal("a refused snapshot changed the state")
			}
		})
	}
	// The same snapshot read by another runtime.
	q := fresh(t)
	if err := Decode(data, q.L, Options{Runtime: "aos-lua/2", Builtins: q.Runtime().Builtins()}); !errors.Is(err, ErrStale) {
		t.Fatalf("Decode by another runtime: %v", err)
	}
	// A snapshot of the previous format (no stamp, Go functions by address).
	old := append([]byte(nil), data[:len(data)-8]...)
	old[len(magic)] = 1
	if err := Decode(reseal(old), q.L, opts(q)); !errors.Is(err, ErrStale) {
		t.Fatalf("Decode of a version 1 snapshot: %v", err)
	}
	if err := Decode(data, q.L, opts(q)); err != nil {
		t.Fatalf("the unaltered snapshot: %v", err)
	}
}

// Go functions are written by their registered names, never by code address: a snapshot holds the names,
// a Go function made at run time (a .bint class method) is made again from its name, and one the runtime
// did not register cannot be snapshotted.
func TestGoFunctionsByName(t *testing.T) {
	p := boot(t)
	if r := p.Handle(eval(1, `local b = require(".bint")(128)
Add = b.__add
Codes = utf8.codes("héllo")
Hidden = setmetatable({}, { __index = { f = b.fromuinteger } })`)); r.Error != "" {
		t.Fatal(r.Error)
	}
	data, err := Encode(p.L, opts(p))
	if err != nil {
		t.Fatal(err)
	}
	b := p.Runtime().Builtins()
	add, ok := b.Name(p.L.GetGlobal("Add").(*lua.LFunction).GFunction)
	if !ok || !bytes.Contains(data, []byte(add)) {
		t.Fatalf("the snapshot does not name the bint method (%q)", add)
	}
	if fn, rebuildable, ok := b.Lookup(add); !ok || !rebuildable || !luavm.SameCode(fn, p.L.GetGlobal("Add").(*lua.LFunction).GFunction) {
		t.Fatalf("%s is not a rebuildable builtin", add)
	}
	q, _ := restore(t, p)
	same(t, p, q, eval(2, `local b = require(".bint")(128)
local s = {} for _, c in Codes, "héllo", 0 do s[#s + 1] = c end
print(tostring(Add(b(40), b(2))), table.concat(s, ","), tostring(Hidden.f(7)))`))

	// A Go function no runtime registered.
	p.L.SetGlobal("Foreign", p.L.NewFunction(foreign))
	if _, err := Encode(p.L, opts(p)); !errors.Is(err, ErrUnserializable) || !strings.Contains(err.Error(), "not a registered builtin") {
		t.Fatalf("Encode with an unregistered Go function: %v", err)
	}
	// A snapshot naming a builtin the destination runtime does not have.
	r := fresh(t)
	if err := Decode(data, r.L, Options{Runtime: testRuntime, Builtins: luavm.NewBuiltins()}); !errors.Is(err, ErrUnserializable) {
		t.Fatalf("Decode without the builtins: %v", err)
	}
}

func foreign(*lua.LState) int { return 0 }
