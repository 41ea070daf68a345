package snapshot

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"math/rand"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/node/aos"
)

const (
	pid   = "PROCESSPROCESSPROCESSPROCESSPROCESSPROCESS1"
	owner = "OWNEROWNEROWNEROWNEROWNEROWNEROWNEROWNEROW1"
	usr   = "USERUSERUSERUSERUSERUSERUSERUSERUSERUSERUS1"
)

var testEnv = aos.Env{Process: aos.ProcessInfo{Id: pid, Owner: owner, Tags: []aos.Tag{{Name: "Type", Value: "Process"}, {Name: "Module", Value: "MOD"}}}, Module: aos.ModuleInfo{Id: "MOD"}}

// testRuntime names the runtime in the tests' snapshots.
const testRuntime = "aos-lua/test"

// opts are the snapshot options of p's runtime.
func opts(p *aos.Process) Options {
	return Options{Runtime: testRuntime, Builtins: p.Runtime().Builtins()}
}

func fresh(tb testing.TB) *aos.Process {
	tb.Helper()
	p, err := aos.New(testEnv, aos.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

// boot is a fresh process that has handled its spawn message.
func boot(tb testing.TB) *aos.Process {
	tb.Helper()
	p := fresh(tb)
	if r := p.Handle(aos.Message{Id: pid, Owner: owner, From: owner, Target: pid, Tags: testEnv.Process.Tags, Timestamp: 1000}); r.Error != "" {
		tb.Fatalf("spawn: %s", r.Error)
	}
	return p
}

func mkMsg(n int, from, data string, tags ...aos.Tag) aos.Message {
	return aos.Message{Id: fmt.Sprintf("M%06d", n), Owner: from, From: from, Target: pid, Data: data, Tags: tags, Timestamp: 2000 + int64(n)*1000, Nonce: int64(n)}
}

func eval(n int, code string) aos.Message {
	return mkMsg(n, owner, code, aos.Tag{Name: "Action", Value: "Eval"})
}

func action(n int, from, act, data string, tags ...aos.Tag) aos.Message {
	return mkMsg(n, from, data, append([]aos.Tag{{Name: "Action", Value: act}}, tags...)...)
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func state(tb testing.TB, p *aos.Process) string {
	tb.Helper()
	b, err := p.StateJSON()
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// restore snapshots p and restores it into a fresh process.
func restore(tb testing.TB, p *aos.Process) (*aos.Process, []byte) {
	tb.Helper()
	data, err := Encode(p.L, opts(p))
	if err != nil {
		tb.Fatalf("Encode: %v", err)
	}
	q := fresh(tb)
	if err := Decode(data, q.L, opts(q)); err != nil {
		tb.Fatalf("Decode: %v", err)
	}
	return q, data
}

// same feeds msgs to both processes and requires identical results and state.
func same(tb testing.TB, a, b *aos.Process, msgs ...aos.Message) {
	tb.Helper()
	for i, m := range msgs {
		ra, rb := mustJSON(tb, a.Handle(m)), mustJSON(tb, b.Handle(m))
		if ra != rb {
			tb.Fatalf("message %d (%s): results differ\noriginal: %s\nrestored: %s", i, m.Data, ra, rb)
		}
	}
	if sa, sb := state(tb, a), state(tb, b); sa != sb {
		tb.Fatalf("states differ\noriginal: %s\nrestored: %s", sa, sb)
	}
}

const richProgram = `local bint = require('.bint')(256)
local json = require('json')
Balance = bint(1000)
Nested = { a = { b = { c = { 1, 2, 3, n = "deep" } } }, list = { "x", "y", nil, "z" } }
Nested.self = Nested
Vec = {}
Vec.__index = Vec
Vec.__add = function (p, q) return setmetatable({ x = p.x + q.x, y = p.y + q.y }, Vec) end
Vec.__tostring = function (v) return "(" .. v.x .. "," .. v.y .. ")" end
function Vec.new(x, y) return setmetatable({ x = x, y = y }, Vec) end
function Vec:len2() return self.x * self.x + self.y * self.y end
Acc = Vec.new(0, 0)
Defaults = setmetatable({}, { __index = function (t, k) return "default:" .. k end })
local count = 0
local history = {}
local function bump(by) count = count + by; history[#history + 1] = count; return count end
Peek = function () return count, #history end
Deleted = { k1 = 1, k2 = 2, k3 = 3 }
Deleted.k2 = nil
Weird = { [1.5] = "f", [true] = "t", [-0.0] = "z", [2^60] = "big" }
Handlers.add("Bump", "Bump", function (m)
  local n = bump(tonumber(m.By) or 1)
  Balance = Balance + bint(m.By or 1)
  Acc = Acc + Vec.new(n, 1)
  m.reply({ Data = tostring(n) .. " " .. tostring(Balance) .. " " .. tostring(Acc) .. " " .. Acc:len2() })
end)
Handlers.add("Peek", "Peek", function (m)
  local c, h = Peek()
  local keys = {}
  for k, v in pairs(Deleted) do keys[#keys + 1] = k .. "=" .. tostring(v) end
  local wk = {}
  for k, v in pairs(Weird) do wk[#wk + 1] = tostring(k) .. ":" .. v end
  print(c .. "/" .. h .. " " .. table.concat(keys, ",") .. " " .. table.concat(wk, ",") .. " " .. Defaults.zz ..
    " " .. json.encode({ c = Nested.a.b.c[3], n = Nested.a.b.c.n }) .. " " .. #Nested.list .. " " .. string.format("%5.2f", 3.14159) .. (" x"):rep(2))
end)
Handlers.add("Readd", "Readd", function (m)
  Deleted.k2 = 22; Deleted.k4 = 4
  local ks = {}
  for k in pairs(Deleted) do ks[#ks + 1] = k end
  print(table.concat(ks, ","))
end)
Handlers.add("Fail", "Fail", function (m) local t = nil; return t.x end)`

func TestRoundTripAOS(t *testing.T) {
	p := boot(t)
	if r := p.Handle(eval(1, richProgram)); r.Error != "" {
		t.Fatalf("eval: %s", r.Error)
	}
	warm := []aos.Message{action(2, usr, "Bump", "", aos.Tag{Name: "By", Value: "3"}), action(3, usr, "Peek", ""), action(4, usr, "Bump", "")}
	for _, m := range warm {
		if r := p.Handle(m); r.Error != "" {
			t.Fatalf("warm-up: %s", r.Error)
		}
	}
	q, data := restore(t, p)
	t.Logf("snapshot: %d bytes", len(data))
	same(t, p, q,
		action(5, usr, "Bump", "", aos.Tag{Name: "By", Value: "7"}),
		action(6, usr, "Peek", ""),
		action(7, usr, "Readd", ""),
		action(8, usr, "Fail", ""),
		eval(9, `print(Peek()) ; print(tostring(Acc + Vec.new(1,1))) ; print(#Handlers.list)`),
		eval(10, `error("boom")`),
		action(11, usr, "Bump", ""),
		action(12, usr, "Unknown", "hello"),
		eval(13, `print(require('.bint')(256)(5) * Balance)`),
	)
}

// TestErrorsReportSameLines checks that debug info survives: runtime errors
// name the same chunk and line.
func TestErrorsReportSameLines(t *testing.T) {
	p := boot(t)
	if r := p.Handle(eval(1, "Handlers.add('E', 'E', function (m)\n  local x = nil\n  return x.field\nend)\nfunction Thrower()\n  error('thrown here')\nend")); r.Error != "" {
		t.Fatal(r.Error)
	}
	q, _ := restore(t, p)
	ra := p.Handle(action(2, usr, "E", ""))
	rb := q.Handle(action(2, usr, "E", ""))
	if ra.Error == "" || mustJSON(t, ra) != mustJSON(t, rb) {
		t.Fatalf("errors differ:\n%+v\n%+v", ra, rb)
	}
	same(t, p, q, eval(3, "Thrower()"), eval(4, "local ok, e = pcall(Thrower) print(e)"))
}

func TestDeterministicBytes(t *testing.T) {
	p := boot(t)
	if r := p.Handle(eval(1, richProgram)); r.Error != "" {
		t.Fatal(r.Error)
	}
	p.Handle(action(2, usr, "Bump", ""))
	a, err := Encode(p.L, opts(p))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(p.L, opts(p))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two encodings of the same state differ")
	}
	q := fresh(t)
	if err := Decode(a, q.L, opts(q)); err != nil {
		t.Fatal(err)
	}
	c, err := Encode(q.L, opts(q))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, c) {
		t.Fatalf("encoding after restore differs (%d vs %d bytes)", len(a), len(c))
	}
	// Note: two independently built processes driven the same way do NOT
	// encode identically: the runtime's string metatable is gopher-lua's
	// original string module table, filled from a Go map (random order per
	// VM; aos.orderGlobals sorts only the copy in _G.string). Restoring
	// carries the snapshot's order over, as checked above.
}

// AppendEncode after a caller's prefix gives the prefix untouched followed by the very bytes Encode gives,
// whatever room the buffer has.
func TestAppendEncode(t *testing.T) {
	p := boot(t)
	if r := p.Handle(eval(1, richProgram)); r.Error != "" {
		t.Fatal(r.Error)
	}
	want, err := Encode(p.L, opts(p))
	if err != nil {
		t.Fatal(err)
	}
	for _, room := range []int{0, 10, len(want) + 64} {
		prefix := []byte("caller's header")
		dst := append(make([]byte, 0, len(prefix)+room), prefix...)
		got, err := AppendEncode(dst, p.L, opts(p))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:len(prefix)], prefix) || !bytes.Equal(got[len(prefix):], want) {
			t.Fatalf("room %d: appended snapshot differs from Encode's", room)
		}
		q := fresh(t)
		if err := Decode(got[len(prefix):], q.L, opts(q)); err != nil {
			t.Fatalf("room %d: %v", room, err)
		}
	}
}

func TestUnserializable(t *testing.T) {
	for name, code := range map[string]string{
		"suspended coroutine": `Co = coroutine.create(function () coroutine.yield(1) end); coroutine.resume(Co)`,
		"fresh coroutine":     `Co = coroutine.create(function () end)`,
		"wrap closure":        `W = coroutine.wrap(function () coroutine.yield(1) end)`,
	} {
		t.Run(name, func(t *testing.T) {
			p := boot(t)
			if r := p.Handle(eval(1, code)); r.Error != "" {
				t.Fatal(r.Error)
			}
			if _, err := Encode(p.L, opts(p)); !errors.Is(err, ErrUnserializable) {
				t.Fatalf("Encode: %v, want ErrUnserializable", err)
			}
		})
	}
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("u", L.NewUserData())
	if _, err := Encode(L, Options{}); !errors.Is(err, ErrUnserializable) {
		t.Fatalf("userdata: %v", err)
	}
	// A Go closure with no path that captures Go state.
	L2 := lua.NewState()
	defer L2.Close()
	x := 0
	L2.SetGlobal("t", L2.NewTable())
	L2.GetGlobal("t").(*lua.LTable).RawSet(L2.NewTable(), L2.NewFunction(func(*lua.LState) int { x++; return 0 }))
	if _, err := Encode(L2, Options{}); !errors.Is(err, ErrUnserializable) {
		t.Fatalf("Go closure: %v", err)
	}
}

func TestDeadCoroutine(t *testing.T) {
	p := boot(t)
	if r := p.Handle(eval(1, `Co = coroutine.create(function () return 1 end); coroutine.resume(Co)`)); r.Error != "" {
		t.Fatal(r.Error)
	}
	q, _ := restore(t, p)
	same(t, p, q, eval(2, `print(coroutine.status(Co), coroutine.resume(Co))`))
}

func TestCorruption(t *testing.T) {
	p := boot(t)
	if r := p.Handle(eval(1, richProgram)); r.Error != "" {
		t.Fatal(r.Error)
	}
	data, err := Encode(p.L, opts(p))
	if err != nil {
		t.Fatal(err)
	}
	q := fresh(t)
	before := state(t, q)
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		bad := append([]byte(nil), data...)
		bad[rng.Intn(len(bad))] ^= byte(1 + rng.Intn(255))
		if err := Decode(bad, q.L, opts(q)); err == nil {
			t.Fatalf("flipped byte accepted")
		}
	}
	for _, n := range []int{0, 1, 6, 7, 20, len(data) / 2, len(data) - 9, len(data) - 1} {
		if err := Decode(data[:n], q.L, opts(q)); err == nil {
			t.Fatalf("truncation to %d accepted", n)
		}
	}
	if after := state(t, q); after != before {
		t.Fatal("failed Decode changed the state")
	}
	// Corrupt bodies with a valid checksum reach the parser.
	body := data[:len(data)-8]
	for i := 0; i < 300; i++ {
		bad := append([]byte(nil), body...)
		for j := 0; j <= rng.Intn(3); j++ {
			bad[len(magic)+1+rng.Intn(len(bad)-len(magic)-1)] = byte(rng.Intn(256))
		}
		if rng.Intn(4) == 0 {
			bad = bad[:len(magic)+1+rng.Intn(len(bad)-len(magic)-1)]
		}
		_ = Decode(reseal(bad), fresh(t).L, opts(p)) // must not panic; may succeed on a harmless change
	}
}

func reseal(body []byte) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), body...), crc64.Checksum(body, crcTable))
}

func FuzzDecode(f *testing.F) {
	p := boot(f)
	p.Handle(eval(1, `X = { 1, 2, a = { b = "c" } }; local n = 0; function Inc() n = n + 1 return n end; setmetatable(X, { __index = X.a })`))
	data, err := Encode(p.L, opts(p))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data, false)
	f.Add(data[:len(data)-8], true)
	f.Add([]byte("AOSNAP\x01"), true)
	// One target VM for all inputs (building one per input is too slow under
	// fuzzing instrumentation): a failed Decode leaves it unchanged, a
	// successful one replaces its state, either way it stays a valid target.
	q := fresh(f)
	f.Fuzz(func(t *testing.T, b []byte, seal bool) {
		if seal {
			b = reseal(b)
		}
		_ = Decode(b, q.L, opts(q))
	})
}

/* ---- property test: random programs ---- */

// genProgram writes a random small AOS program: counters, tables, closures
// sharing locals, metatables with __index/__add, deletions and re-inserts.
// Every handler prints something derived from the state, in pairs order.
func genProgram(rng *rand.Rand) string {
	var b strings.Builder
	nv := 2 + rng.Intn(3)
	b.WriteString("local mk = {}\n")
	for i := 0; i < nv; i++ {
		fmt.Fprintf(&b, "local s%d = %d\nlocal t%d = {}\n", i, rng.Intn(10), i)
	}
	b.WriteString("local Num = {}\nNum.__index = Num\nNum.__add = function (a, c) return setmetatable({ v = a.v + (type(c) == 'table' and c.v or c) }, Num) end\n")
	b.WriteString("Num.__tostring = function (a) return 'N' .. a.v end\nfunction Num.get(a) return a.v end\n")
	b.WriteString("Base = setmetatable({}, { __index = function (t, k) return #tostring(k) end })\nG = { n = setmetatable({ v = 0 }, Num), log = {} }\n")
	nh := 2 + rng.Intn(4)
	for h := 0; h < nh; h++ {
		fmt.Fprintf(&b, "Handlers.add('H%d', 'H%d', function (m)\n  local by = tonumber(m.By) or 1\n", h, h)
		for k := 0; k < 1+rng.Intn(4); k++ {
			i := rng.Intn(nv)
			switch rng.Intn(8) {
			case 0:
				fmt.Fprintf(&b, "  s%d = s%d + by\n", i, i)
			case 1:
				fmt.Fprintf(&b, "  t%d['k' .. (s%d %% 7)] = s%d\n", i, i, i)
			case 2:
				fmt.Fprintf(&b, "  t%d['k' .. (by %% 7)] = nil\n", i)
			case 3:
				fmt.Fprintf(&b, "  t%d[#t%d + 1] = s%d * by\n", i, i, i)
			case 4:
				b.WriteString("  G.n = G.n + by\n")
			case 5:
				fmt.Fprintf(&b, "  mk[#mk + 1] = function () s%d = s%d * 2 return s%d end\n", i, i, i)
			case 6:
				b.WriteString("  if #mk > 0 then G.log[#G.log + 1] = mk[#mk]() end\n")
			case 7:
				fmt.Fprintf(&b, "  G['f' .. (s%d %% 5)] = { s%d, Base['x' .. by], t%d }\n", i, i, i)
			}
		}
		b.WriteString("  local out = {}\n")
		for i := 0; i < nv; i++ {
			fmt.Fprintf(&b, "  out[#out + 1] = s%d\n  for k, v in pairs(t%d) do out[#out + 1] = tostring(k) .. '=' .. tostring(v) end\n", i, i)
		}
		b.WriteString("  for k, v in pairs(G) do out[#out + 1] = k end\n  out[#out + 1] = tostring(G.n) .. ':' .. G.n:get() .. ':' .. #G.log\n")
		b.WriteString("  print(table.concat(out, ' '))\n  m.reply({ Data = tostring(G.n) })\nend)\n")
	}
	return b.String()
}

func TestPropertyRandomPrograms(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 10
	}
	for seed := 0; seed < seeds; seed++ {
		rng := rand.New(rand.NewSource(int64(seed)))
		prog := genProgram(rng)
		nh := strings.Count(prog, "Handlers.add(")
		n := 8 + rng.Intn(20)
		msgs := []aos.Message{eval(1, prog)}
		for i := 0; i < n; i++ {
			msgs = append(msgs, action(2+i, usr, fmt.Sprintf("H%d", rng.Intn(nh)), "", aos.Tag{Name: "By", Value: fmt.Sprint(rng.Intn(9))}))
		}
		cut := 1 + rng.Intn(len(msgs)-1)
		p := boot(t)
		handled := 0
		for i, m := range msgs[:cut] {
			r := p.Handle(m)
			if i == 0 && r.Error != "" {
				t.Fatalf("seed %d: generated program failed: %s\n%s", seed, r.Error, prog)
			}
			if i > 0 && r.Error == "" && len(r.Messages) == 1 {
				handled++
			}
		}
		if cut > 1 && handled == 0 {
			t.Fatalf("seed %d: no handler ran before the snapshot", seed)
		}
		q, data := restore(t, p)
		again, err := Encode(q.L, opts(q))
		if err != nil || !bytes.Equal(data, again) {
			t.Fatalf("seed %d: re-encoding after restore differs (err %v)", seed, err)
		}
		same(t, p, q, msgs[cut:]...)
		// And a never-snapshotted VM gives the same as well.
		r := boot(t)
		for _, m := range msgs {
			r.Handle(m)
		}
		if state(t, r) != state(t, q) {
			t.Fatalf("seed %d: restored VM diverged from never-snapshotted VM", seed)
		}
	}
}

/* ---- benchmark ---- */

func bigProcess(b *testing.B) *aos.Process {
	p := boot(b)
	if r := p.Handle(eval(1, `KV = {}; for i = 1, 100000 do KV["key" .. i] = "value-" .. i end
Handlers.add("Get", "Get", function (m) m.reply({ Data = KV[m.Key] or "" }) end)`)); r.Error != "" {
		b.Fatal(r.Error)
	}
	return p
}

func BenchmarkEncode100k(b *testing.B) {
	p := bigProcess(b)
	var data []byte
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		if data, err = Encode(p.L, opts(p)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "bytes")
}

func BenchmarkDecode100k(b *testing.B) {
	p := bigProcess(b)
	data, err := Encode(p.L, opts(p))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		q, err := aos.New(testEnv, aos.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := Decode(data, q.L, opts(q)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		q.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(data)), "bytes")
}

// TestForkAfterRestore: a restored process can still be forked (luaclone
// pairs its builtins and looks through its closures).
func TestForkAfterRestore(t *testing.T) {
	p := boot(t)
	if r := p.Handle(eval(1, richProgram)); r.Error != "" {
		t.Fatal(r.Error)
	}
	q, _ := restore(t, p)
	f, err := q.Fork()
	if err != nil {
		t.Fatalf("Fork after restore: %v", err)
	}
	defer f.Close()
	m := action(2, usr, "Bump", "", aos.Tag{Name: "By", Value: "2"})
	ra, rf := mustJSON(t, p.Handle(m)), mustJSON(t, f.Handle(m))
	if ra != rf || !strings.Contains(ra, `"Data":"2 1002 (2,1) 5"`) {
		t.Fatalf("fork of restored differs:\n%s\n%s", ra, rf)
	}
}

// A restored VM runs the destination's compiled runtime code, not a copy from the snapshot; the process's own
// functions are restored as new prototypes.
func TestRestoreSharesRuntimeCode(t *testing.T) {
	p := boot(t)
	if r := p.Handle(eval(1, richProgram)); r.Error != "" {
		t.Fatal(r.Error)
	}
	data, err := Encode(p.L, opts(p))
	if err != nil {
		t.Fatal(err)
	}
	q := fresh(t)
	dest := destProtos(q.L)
	if len(dest) < 50 {
		t.Fatalf("only %d runtime prototypes found in a fresh VM", len(dest))
	}
	before := map[*lua.FunctionProto]bool{}
	for _, pr := range dest {
		before[pr] = true
	}
	if err := Decode(data, q.L, opts(q)); err != nil {
		t.Fatal(err)
	}
	shared, own := 0, 0
	for _, pr := range destProtos(q.L) {
		if before[pr] {
			shared++
		} else {
			own++
		}
	}
	if shared < len(dest)*9/10 || own == 0 {
		t.Fatalf("after restore: %d prototypes shared with the fresh VM (of %d), %d of its own", shared, len(dest), own)
	}
	// The source VM's own code (its Eval'd functions) is not shared: the destination got new prototypes for
	// it. (The runtime's prototypes are shared by every VM: node/aos compiles the runtime once.)
	after := map[*lua.FunctionProto]bool{}
	for _, pr := range destProtos(q.L) {
		after[pr] = true
	}
	for _, pr := range destProtos(p.L) {
		if !before[pr] && after[pr] {
			t.Fatal("the destination shares a prototype of the source VM's own code")
		}
	}
	same(t, p, q, action(2, usr, "Bump", "", aos.Tag{Name: "By", Value: "2"}))
}

// Forged prototype graphs (a prototype nested in itself) are fingerprinted without looping and never shared.
func TestFingerprintCycle(t *testing.T) {
	a := &lua.FunctionProto{SourceName: "a"}
	b := &lua.FunctionProto{SourceName: "b", FunctionPrototypes: []*lua.FunctionProto{a}}
	a.FunctionPrototypes = []*lua.FunctionProto{b}
	if _, ok := newFingerprinter().of(a); ok {
		t.Fatal("a cyclic prototype got a fingerprint")
	}
	x, ok1 := newFingerprinter().of(&lua.FunctionProto{SourceName: "x", Code: []uint32{1}})
	y, ok2 := newFingerprinter().of(&lua.FunctionProto{SourceName: "x", Code: []uint32{2}})
	if !ok1 || !ok2 || x == y {
		t.Fatal("different code, same fingerprint")
	}
}
