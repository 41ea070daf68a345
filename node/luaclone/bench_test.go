package luaclone

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// benchState: ~10k table entries (a 4k-entry balance map, a 4k-entry array,
// 500 small records with 4 fields each) and 100 closures over shared
// upvalues, plus the standard library and the test builtins.
const benchState = `
	Balances = {}
	for i = 1, 4000 do Balances["addr-" .. i] = i * 3 end
	for i = 1, 4000, 7 do Balances["addr-" .. i] = nil end
	Log = {}
	for i = 1, 4000 do Log[i] = "entry " .. i end
	Records = {}
	for i = 1, 500 do Records[i] = {id = i, owner = "addr-" .. i, tags = Log, ok = i % 2 == 0} end
	Handlers = {list = {}}
	local total = 0
	for i = 1, 50 do
		local hits = 0
		Handlers.list[#Handlers.list + 1] = {
			name = "h" .. i,
			match = function(m) return m.Action == "A" .. i end,
			run = function(m) hits = hits + 1; total = total + 1; return hits, total end,
		}
	end`

func BenchmarkClone(b *testing.B) {
	src := mustProc(b, "", benchState)
	fresh := func() (*lua.LState, error) {
		p, err := newProc("")
		if err != nil {
			return nil, err
		}
		return p.L, nil
	}
	b.ReportAllocs()
	for b.Loop() {
		dst, err := Clone(src.L, fresh)
		if err != nil {
			b.Fatal(err)
		}
		dst.Close()
	}
}

// BenchmarkFresh is the part of BenchmarkClone spent in fresh() (a new VM
// with the standard library and builtins), for comparison.
func BenchmarkFresh(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		p, err := newProc("")
		if err != nil {
			b.Fatal(err)
		}
		p.L.Close()
	}
}

func TestBenchStateClones(t *testing.T) {
	src := mustProc(t, "", benchState)
	dst := cloneProc(t, src, "")
	assertSameShape(t, src.L, dst.L)
	const probe = `(select(2, Handlers.list[3].run({}))), (select(2, Handlers.list[4].run({}))), Balances["addr-2"], Balances["addr-8"], #Log, Records[10].tags == Log`
	if got, want := eval(t, dst.L, probe), "1,2,6,nil,4000,true"; got != want {
		t.Errorf("clone: %s = %s, want %s", probe, got, want)
	}
	if got, want := eval(t, src.L, probe), "1,2,6,nil,4000,true"; got != want {
		t.Errorf("src: %s = %s, want %s", probe, got, want)
	}
}

// BenchmarkBuildByLua runs the Lua code that builds the benchmark state in a
// fresh VM: roughly what replaying the history that built it would cost at best.
func BenchmarkBuildByLua(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		p, err := newProc("")
		if err != nil {
			b.Fatal(err)
		}
		if err := p.L.DoString(benchState); err != nil {
			b.Fatal(err)
		}
		p.L.Close()
	}
}
