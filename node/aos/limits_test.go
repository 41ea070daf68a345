package aos

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	lpPid   = "LIMITSPROCESSLIMITSPROCESSLIMITSPROCESS0001"
	lpOwner = "LIMITSOWNERLIMITSOWNERLIMITSOWNERLIMITSOWN1"
	lpUser  = "LIMITSUSERLIMITSUSERLIMITSUSERLIMITSUSER001"
)

var lpEnv = Env{Process: ProcessInfo{Id: lpPid, Owner: lpOwner, Tags: []Tag{{"Type", "Process"}, {"Module", "MOD"}}}, Module: ModuleInfo{Id: "MOD", Owner: lpOwner}}

// lpProc is a test process: it numbers its messages and stamps them with increasing timestamps.
type lpProc struct {
	*Process
	t testing.TB
	n int
}

func lpBoot(t testing.TB, opts Options) *lpProc {
	t.Helper()
	p, err := New(lpEnv, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	lp := &lpProc{Process: p, t: t}
	r := p.Handle(Message{Id: lpPid, Owner: lpOwner, From: lpOwner, Target: lpPid, Tags: lpEnv.Process.Tags, Timestamp: 1_000})
	if r.Error != "" {
		t.Fatalf("spawn: %s", r.Error)
	}
	return lp
}

func (p *lpProc) msg(from, data string, tags ...Tag) Message {
	p.n++
	return Message{Id: fmt.Sprintf("MSG%040d", p.n), Owner: from, From: from, Target: lpPid, Data: data, Tags: tags,
		Nonce: int64(p.n), Timestamp: int64(1_000_000 + p.n*1000), BlockHeight: int64(100 + p.n)}
}

func (p *lpProc) eval(code string) Result {
	return p.Handle(p.msg(lpOwner, code, Tag{"Action", "Eval"}))
}

func (p *lpProc) mustEval(code string) Result {
	p.t.Helper()
	r := p.eval(code)
	if r.Error != "" {
		p.t.Fatalf("eval %q: %s", code, r.Error)
	}
	return r
}

func (p *lpProc) state() string {
	p.t.Helper()
	st, err := p.StateJSON()
	if err != nil {
		p.t.Fatal(err)
	}
	return string(st)
}

// heapBytes is the Go heap in use (for logging how far a message got).
func heapBytes() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

func TestLimits(t *testing.T) {
	const compute = 5_000_000
	small := Options{ComputeLimit: compute}
	mem := Options{ComputeLimit: -1, MemoryLimit: 64 << 20}
	computeErr := fmt.Sprintf("compute limit exceeded: %d instructions", compute)
	memErr := "not enough memory"
	cases := []struct {
		name string
		opts Options
		code string
		want string // substring of Result.Error
	}{
		{"infinite loop", small, `while true do end`, computeErr},
		{"infinite tail recursion", small, `local function f(n) return f(n + 1) end return f(1)`, computeErr},
		{"infinite recursion", small, `local function f(n) return 1 + f(n + 1) end return f(1)`, "stack overflow"},
		{"busy loop in pcall", small, `local ok = pcall(function() while true do end end) Swallowed = true return ok`, computeErr},
		{"pcall in a loop", small, `while true do pcall(function() while true do end end) end`, computeErr},
		{"xpcall with a spinning handler", small, `xpcall(function() while true do end end, function() while true do end end) Swallowed = true`, computeErr},
		// Raising an error is expensive in gopher-lua (a Go panic): a small budget keeps this case short.
		{"errors in a loop", Options{ComputeLimit: 200_000}, `for i = 1, 1e9 do local ok, e = pcall(error, "x") end`, "compute limit exceeded: 200000 instructions"},
		// Builtins that do much more than an instruction's work are charged for it, so the compute limit
		// bounds their loops in time too.
		{"string.rep in a loop", small, `while true do local s = string.rep("x", 1e6) end`, computeErr},
		{"table.concat in a loop", small, `local t = {} for i = 1, 1000 do t[i] = "0123456789" end while true do local s = table.concat(t) end`, computeErr},
		{"coroutines in a loop", small, `while true do coroutine.create(function() end) end`, computeErr},
		{"table.sort comparator spin", small, `local t = {3, 2, 1} table.sort(t, function(a, b) while true do end end)`, computeErr},
		{"coroutine spinning", small, `local co = coroutine.create(function() while true do end end) local ok, e = coroutine.resume(co) Swallowed = e`, computeErr},
		{"coroutine.wrap yielding forever", small, `local g = coroutine.wrap(function() while true do coroutine.yield(1) end end) while true do g() end`, computeErr},
		{"memory: growing table of strings", mem, `local t = {} while true do t[#t+1] = string.rep('x', 1e6) end`, memErr},
		{"memory: doubling a string", mem, `local s = 'x' while true do s = s .. s end`, memErr},
		{"memory: growing table", mem, `local hog = {} local i = 0 while true do i = i + 1 hog[i] = {i, i, i, tostring(i)} end`, memErr},
		{"string.rep huge", Options{}, `return string.rep('x', 1e12)`, "resulting string too large"}, // Lua 5.3's limit: 2^31-1 bytes
		{"string.rep over the memory limit", Options{}, `return string.rep('x', 1e9)`, memErr},
		{"string.rep huge with separator", Options{MemoryLimit: 16 << 20}, `return string.rep('ab', 6e6, ',')`, memErr},
		{"table.concat huge", Options{MemoryLimit: 64 << 20}, `local s = string.rep('x', 1e6) local t = {} for i = 1, 100 do t[i] = s end return table.concat(t)`, memErr},
		{"wall clock", Options{ComputeLimit: -1, MemoryLimit: -1, Timeout: 300 * time.Millisecond}, `while true do end`, "time limit exceeded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := lpBoot(t, tc.opts)
			p.mustEval(`Keep = "before"; Count = 1`)
			runtime.GC()
			heap0 := heapBytes()
			peak := heap0
			done := make(chan struct{})
			var sampled sync.WaitGroup
			sampled.Add(1)
			go func() { // the peak heap, to log how far past its limit a message got
				defer sampled.Done()
				for {
					select {
					case <-done:
						return
					case <-time.After(2 * time.Millisecond):
						peak = max(peak, heapBytes())
					}
				}
			}()
			start := time.Now()
			r := p.eval(tc.code)
			took := time.Since(start)
			close(done)
			sampled.Wait()
			if !strings.Contains(r.Error, tc.want) {
				t.Fatalf("Error %q does not contain %q", r.Error, tc.want)
			}
			if len(r.Messages)+len(r.Spawns)+len(r.Assignments) != 0 {
				t.Fatalf("a stopped message sent something: %+v", r)
			}
			if took > 10*time.Second {
				t.Fatalf("took %s", took)
			}
			t.Logf("stopped after %s, %d instructions, heap grew by up to %d MiB: %s", took.Round(time.Millisecond), r.GasUsed, (peak-heap0)>>20, r.Error)
			if strings.HasPrefix(tc.want, "compute") && r.GasUsed != tc.opts.ComputeLimit {
				t.Fatalf("GasUsed %d, want the limit %d", r.GasUsed, tc.opts.ComputeLimit)
			}
			// The process goes on, with the state from before.
			p.mustEval(`Hog = nil; Count = Count + 1; After = Keep .. "!"`)
			st := p.state()
			for _, want := range []string{`"Keep":"before"`, `"After":"before!"`, `"Count":2`} {
				if !strings.Contains(st, want) {
					t.Fatalf("state lacks %s: %.500s", want, st)
				}
			}
			if strings.Contains(st, `"Swallowed"`) {
				t.Fatal("code after a stopped pcall ran")
			}
		})
	}
}

// A process whose live state fills its memory limit cannot allocate any more, as a real AOS process whose
// wasm memory is full: what later messages can do depends on what the state leaves free, the same way at
// the same place on every run.
func TestMemoryFull(t *testing.T) {
	var results [2][]Result
	for run := range results {
		p := lpBoot(t, Options{MemoryLimit: 8 << 20})
		results[run] = append(results[run],
			p.eval(`Hog = {} local i = 0 while true do i = i + 1 Hog[i] = {i, i, i, tostring(i)} end`),
			p.eval(`Hog = nil`),
			p.eval(`return #Inbox`))
	}
	if !strings.Contains(results[0][0].Error, "not enough memory") {
		t.Fatalf("filling the state: %q", results[0][0].Error)
	}
	for i := range results[0] {
		a, b := results[0][i], results[1][i]
		if a.Error != b.Error || a.GasUsed != b.GasUsed || a.Output.Data != b.Output.Data {
			t.Fatalf("message %d differs between runs: %q/%d vs %q/%d", i, a.Error, a.GasUsed, b.Error, b.GasUsed)
		}
	}
}

// A limit stop keeps what the message printed before it.
func TestLimitKeepsOutput(t *testing.T) {
	p := lpBoot(t, Options{ComputeLimit: 1_000_000})
	r := p.eval(`print("before the loop") while true do end`)
	if !strings.Contains(r.Error, "compute limit exceeded") {
		t.Fatalf("Error %q", r.Error)
	}
	if !strings.Contains(r.Output.Data, "before the loop") {
		t.Fatalf("Output %+v", r.Output)
	}
}

func TestHeavyMessageUnderTheLimit(t *testing.T) {
	p := lpBoot(t, Options{ComputeLimit: 50_000_000})
	r := p.mustEval(`local t = {} for i = 1, 200000 do t[i] = tostring(i) end
local s = 0 for i = 1, #t do s = s + #t[i] end
local co = coroutine.wrap(function() for i = 1, 1000 do coroutine.yield(i) end end)
for i = 1, 1000 do s = s + co() end
Big = string.rep("y", 1e6) .. table.concat(t, ",", 1, 1000)
Sum = s`)
	if r.GasUsed < 1_000_000 || r.GasUsed > 50_000_000 {
		t.Fatalf("GasUsed %d", r.GasUsed)
	}
	if !strings.Contains(p.state(), `"Sum":1589395`) {
		t.Fatalf("state: %.300s", p.state())
	}
}

// The instruction count of a message is a property of the message and the state, not of the run: the same
// program counts the same instructions every time, and a limit of exactly that many lets it finish while
// one less stops it.
func TestInstructionCountDeterministic(t *testing.T) {
	const prog = `local t = {} for i = 1, 5000 do t[#t + 1] = { k = "k" .. i, v = i * 3 } end
table.sort(t, function(a, b) return a.k < b.k end)
local m = {} for _, e in ipairs(t) do m[e.k] = e.v end
local n = 0 for k, v in pairs(m) do n = n + v end
local ok = pcall(function() error("x") end)
local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
coroutine.resume(co, 1) coroutine.resume(co, 5)
Out = json.encode({ n = n, r = math.random(1000), s = string.format("%05d", n % 100000) })`
	counts := map[int64]int{}
	var used int64
	for i := 0; i < 3; i++ {
		r := lpBoot(t, Options{}).mustEval(prog)
		counts[r.GasUsed]++
		used = r.GasUsed
	}
	if len(counts) != 1 || used == 0 {
		t.Fatalf("instruction counts differ between runs: %v", counts)
	}
	if r := lpBoot(t, Options{ComputeLimit: used}).eval(prog); r.Error != "" || r.GasUsed != used {
		t.Fatalf("limit = count: %q, GasUsed %d, want %d", r.Error, r.GasUsed, used)
	}
	if r := lpBoot(t, Options{ComputeLimit: used - 1}).eval(prog); !strings.Contains(r.Error, fmt.Sprintf("compute limit exceeded: %d instructions", used-1)) {
		t.Fatalf("limit = count - 1: %q", r.Error)
	}
	// A fork counts the same.
	p := lpBoot(t, Options{})
	f, err := p.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fp := &lpProc{Process: f, t: t}
	if r := fp.mustEval(prog); r.GasUsed != used {
		t.Fatalf("fork counted %d, want %d", r.GasUsed, used)
	}
}

// A fork has its own meter: a dry run on a fork and a message on the process run at the same time, each
// within its own budget, and a fork stopped by its limit leaves the process alone.
func TestForkHasItsOwnBudget(t *testing.T) {
	p := lpBoot(t, Options{ComputeLimit: 3_000_000})
	p.mustEval(`Busy = function() local s = 0 for i = 1, 500000 do s = s + i end return s end`)
	f, err := p.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.meter == p.meter {
		t.Fatal("fork shares the meter")
	}
	fp := &lpProc{Process: f, t: t, n: 1000}
	var wg sync.WaitGroup
	errs := make([]string, 2)
	for i, q := range []*lpProc{p, fp} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 3; j++ {
				if r := q.eval(`Last = Busy()`); r.Error != "" {
					errs[i] = r.Error
				}
			}
		}()
	}
	wg.Wait()
	if errs[0] != "" || errs[1] != "" {
		t.Fatalf("errors: %q", errs)
	}
	if r := fp.eval(`while true do end`); !strings.Contains(r.Error, "compute limit exceeded") {
		t.Fatalf("fork: %q", r.Error)
	}
	p.mustEval(`Last = Busy() + 1`)
	if !strings.Contains(p.state(), `"Last":125000250001`) {
		t.Fatalf("state %.300s", p.state())
	}
}

// A coroutine created by one message and resumed by a later one is charged to the later one.
func TestCoroutineAcrossMessages(t *testing.T) {
	p := lpBoot(t, Options{ComputeLimit: 2_000_000})
	p.mustEval(`Co = coroutine.create(function() coroutine.yield(1) while true do end end) coroutine.resume(Co)`)
	r := p.eval(`return coroutine.resume(Co)`)
	if !strings.Contains(r.Error, "compute limit exceeded") {
		t.Fatalf("Error %q", r.Error)
	}
	p.mustEval(`X = 1`)
}

func TestLimitDefaults(t *testing.T) {
	c, m, to := Options{}.limits()
	if c != DefaultComputeLimit || m != DefaultMemoryLimit || to != DefaultTimeout {
		t.Fatalf("defaults %d %d %s", c, m, to)
	}
	c, m, _ = Options{ComputeLimit: -1, MemoryLimit: -5}.limits()
	if c >= 0 || m >= 0 {
		t.Fatalf("negative must stay unlimited: %d %d", c, m)
	}
	// Unlimited compute still counts.
	p := lpBoot(t, Options{ComputeLimit: -1})
	if r := p.mustEval(`for i = 1, 1000 do end`); r.GasUsed < 1000 {
		t.Fatalf("GasUsed %d", r.GasUsed)
	}
}

/* ---- benchmark ---- */

const lpKV = `Store = Store or {}
Handlers.add("Set", Handlers.utils.hasMatchingTag("Action", "Set"), function (msg)
  assert(type(msg.Key) == 'string', 'Key is required!')
  Store[msg.Key] = msg.Value
  msg.reply({ Data = "Value stored!" })
end)`

// handleWith evaluates m like Handle, but under ctx (nil: no context at all, gopher-lua's plain loop), to
// measure what the meter costs.
func handleWith(p *Process, m Message, ctx context.Context) {
	L := p.L
	setClock(L, m.Timestamp)
	if ctx != nil {
		L.SetContext(ctx)
		defer L.RemoveContext()
	}
	L.Push(p.handle)
	L.Push(p.msgTable(m))
	L.Push(p.envTable().env)
	if err := L.PCall(2, 1, nil); err != nil {
		panic(err)
	}
	L.Pop(1)
}

// BenchmarkHandleKVSet is one Set message on the kv store. Variants: "no-context" is gopher-lua without a
// context (no per-instruction check at all), "timeout-context" what Handle did before the limits (a
// context.WithTimeout), "unlimited" and "default-limits" Handle with the meter.
func BenchmarkHandleKVSet(b *testing.B) {
	variants := []struct {
		name string
		opts Options
		raw  func() (context.Context, context.CancelFunc) // non-nil: bypass Handle
	}{
		{"no-context", Options{}, func() (context.Context, context.CancelFunc) { return nil, func() {} }},
		{"timeout-context", Options{}, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 30*time.Second)
		}},
		{"unlimited", Options{ComputeLimit: -1, MemoryLimit: -1}, nil},
		{"default-limits", Options{}, nil},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			p := lpBoot(b, v.opts)
			p.mustEval(lpKV)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				m := p.msg(lpUser, "", Tag{"Action", "Set"}, Tag{"Key", fmt.Sprintf("k%d", i%100)}, Tag{"Value", "v"})
				if v.raw != nil {
					ctx, cancel := v.raw()
					handleWith(p.Process, m, ctx)
					cancel()
					continue
				}
				if r := p.Handle(m); r.Error != "" {
					b.Fatal(r.Error)
				}
			}
		})
	}
}

// BenchmarkLoop is pure VM work (a numeric loop of a million iterations), where the per-instruction
// check weighs most.
func BenchmarkLoop(b *testing.B) {
	const code = `local s = 0 for i = 1, 1000000 do s = s + i end`
	for _, name := range []string{"no-context", "timeout-context", "meter"} {
		b.Run(name, func(b *testing.B) {
			p := lpBoot(b, Options{})
			fn, err := p.L.LoadString(code)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				switch name {
				case "timeout-context":
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					p.L.SetContext(ctx)
					defer cancel()
				case "meter":
					p.meter.start(DefaultComputeLimit, -1, time.Minute)
					p.L.SetContext(p.meter)
				}
				p.L.Push(fn)
				if err := p.L.PCall(0, 0, nil); err != nil {
					b.Fatal(err)
				}
				p.L.RemoveContext()
				if name == "meter" {
					p.meter.finish()
				}
			}
		})
	}
}

func TestFormatCap(t *testing.T) {
	// string.format sizes its result before building it: a result past the memory limit is refused with
	// Lua's out-of-memory error, before it is built.
	p := lpBoot(t, Options{MemoryLimit: 4 << 20})
	base := p.MemoryState().Exact
	if base <= 0 || base > 2<<20 {
		t.Fatalf("a fresh process accounts for %d bytes", base)
	}
	p.mustEval(`assert(string.format("%5.2f|%d|%q|%%|%-10s", 1.5, 3, "x", "y") == " 1.50|3|\"x\"|%|y         ")
assert(#string.format("%99d", 1) == 99)
assert(not pcall(string.format, "%900000d", 1)) -- Lua 5.3 allows two digits of width
assert(#string.format("%s%s", string.rep("a", 400000), string.rep("b", 400000)) == 800000)`)
	for _, bad := range []string{
		`local s = string.rep("\0001", 1000000) Big = string.format("%q", s)`,
		`local s = string.rep("a", 1200000) Big = string.format("%s%s%s", s, s, s)`,
	} {
		r := p.eval(bad)
		if !strings.Contains(r.Error, "not enough memory") {
			t.Errorf("%s: %q", bad, r.Error)
		}
	}
	if st := p.state(); strings.Contains(st, `"Big"`) {
		t.Fatal("a refused string was built")
	}
}

// BenchmarkInstructionRate reports how many VM instructions a second Handle runs for a few kinds of Lua
// code (the ground for DefaultComputeLimit and DefaultTimeout): instructions are not equally expensive.
func BenchmarkInstructionRate(b *testing.B) {
	for _, c := range []struct{ name, code string }{
		{"numeric-loop", `local s = 0 for i = 1, 1000000 do s = s + i end`},
		{"calls", `local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end X = fib(22)`},
		{"tables", `local t = {} for i = 1, 50000 do t[#t + 1] = { id = i, name = "n" .. i } end table.sort(t, function(a, b) return a.name < b.name end)`},
		{"strings", `local s = {} for i = 1, 50000 do s[#s + 1] = string.format("%d:%s", i, tostring(i * 2)):upper() end X = #table.concat(s, ",")`},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := lpBoot(b, Options{ComputeLimit: -1})
			var instr int64
			for b.Loop() {
				instr += p.mustEval(c.code).GasUsed
			}
			b.ReportMetric(float64(instr)/b.Elapsed().Seconds()/1e6, "Minstr/s")
			b.ReportMetric(float64(instr)/float64(b.N), "instr/op")
		})
	}
}

// A caught out-of-memory error frees what the failed code held, as Lua's collection on a failed allocation
// does: the process goes on allocating in the same message (before, every later allocation of the message
// was refused, so the handler's own error report failed and the error escaped bare). The same on every
// run.
func TestCaughtOutOfMemoryFrees(t *testing.T) {
	var got [2][]Result
	for run := range got {
		p := lpBoot(t, Options{ComputeLimit: -1, MemoryLimit: 32 << 20})
		got[run] = append(got[run],
			p.eval(`local ok, e = pcall(function() local t = {} while true do t[#t+1] = {} end end)
				local after = {} for i = 1, 10000 do after[i] = { i } end
				return tostring(ok) .. " " .. e .. " " .. #after`),
			p.eval(`local function f(t) return f({ t, {} }) end f({})`),
			p.eval(`Keep = {} while true do Keep[#Keep+1] = {} end`))
	}
	r := got[0]
	if r[0].Error != "" || r[0].Output.Data != "false not enough memory 10000" {
		t.Fatalf("caught: %q %q", r[0].Error, r[0].Output.Data)
	}
	// An uncaught one reaches AOS's handler pcall, which reports it as any handler error.
	for _, res := range r[1:] {
		if !strings.HasSuffix(res.Error, `[string ".handlers"]:559: not enough memory`) {
			t.Fatalf("uncaught: %q", res.Error)
		}
	}
	for i := range r {
		if a, b := got[0][i], got[1][i]; a.Error != b.Error || a.GasUsed != b.GasUsed || a.Output.Data != b.Output.Data {
			t.Fatalf("message %d differs between runs: %q/%d vs %q/%d", i, a.Error, a.GasUsed, b.Error, b.GasUsed)
		}
	}
}
