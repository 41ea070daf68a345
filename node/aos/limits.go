package aos

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
	"github.com/aonode/aonode/node/aos/lua53"
	"github.com/aonode/aonode/node/aos/strlib"
)

// Limits on one evaluation. See Options for what each one means.
const (
	// DefaultComputeLimit is Options.ComputeLimit when it is 0: 250 million Lua VM instructions per
	// message. A typical AOS message costs about 1,500 (the runtime's own work included: a kv Set, a token
	// Transfer, an Eval that installs a blueprint), so this is some 100,000 times that. Instructions are
	// not equally expensive: on a 2-vCPU machine gopher-lua runs 30-60 million a second of loops and calls
	// but 10-20 million of table- and string-building code (see BenchmarkInstructionRate), so the budget is
	// roughly 5-25 s of work: enough for any handler that is usable at all on this VM, and short enough
	// that a message that loops forever costs the node seconds, not minutes.
	DefaultComputeLimit int64 = 250_000_000
	// DefaultMemoryLimit is Options.MemoryLimit when it is 0: 512 MiB of process state as the runtime
	// accounts it (memory.go), about what the same state takes in a Lua 5.3 (AOS processes on the reference
	// network have at most 1 GiB of wasm memory); the Go heap it takes is 2-4 times that.
	DefaultMemoryLimit int64 = 512 << 20
	// DefaultTimeout is Options.Timeout when it is 0 or negative. The wall clock is not deterministic, so
	// it must never be what stops a message that the compute limit allows: five minutes is several times
	// the slowest run of a full compute budget, even on a loaded machine. It remains a safety net for work
	// the instruction count does not see (a Go builtin that runs long), which it stops at the next
	// instruction.
	DefaultTimeout = 5 * time.Minute
)

// LimitError is the error of an evaluation stopped by one of its limits; Result.Error is its text.
type LimitError struct {
	Kind  string // "compute", "memory" or "time"
	Limit string // the limit, with its unit
}

func (e *LimitError) Error() string { return e.Kind + " limit exceeded: " + e.Limit }

/* ---- the meter: a context.Context counting VM instructions ---- */

// meter is the context.Context a Process's Lua states run under while a message is evaluated. gopher-lua
// (mainLoopWithContext) calls Done once before every VM instruction; Done counts the call and, once the
// message's instruction budget is spent, closes the channel it returns, so the VM raises an error at that
// instruction and at every later one: a pcall in the handler catches the first error, but the next
// instruction it runs raises again, so nothing can swallow the limit. The memory and wall-clock limits
// close the same channel from the watcher goroutine.
//
// There is one meter per Process, reused by every message (start resets it), and every coroutine the
// process creates runs under it too (see the coroutine builtins), so a coroutine made by one message and
// resumed by a later one is charged to the later one.
type meter struct {
	// VM goroutine only.
	left    int64 // Done calls left before the budget is spent (math.MaxInt64 when unlimited)
	initial int64 // left at the start of the message
	budget  int64 // instructions allowed this message; < 0 unlimited
	isSpent bool  // the budget ran out this message

	memLimit int64 // bytes of state; < 0 unlimited (see memory.go)
	mem      *memAccount
	L        *lua.LState // the process's main state, which memory walks start from
	walked   bool        // this message measured the state already
	// refused: an allocation was refused since the last walk. Its error unwinds frames, whose garbage the
	// next over-limit allocation (after a pcall caught the error, say) measures away, as Lua's emergency
	// collection does on a failed allocation.
	refused bool
	// stackMarks is the stack size charged to this message per thread (see chargeStack).
	stackMarks map[*lua.LState]int64

	spare *lua.LState // a coroutine that died, whose parts the next coroutine.create may reuse

	g      *lua.Global // the process's Lua state: Done checks the running thread's stacks
	ticks  uint32      // Done calls, for the periodic stack check
	cCalls int         // nested main loops (see stack.go)
	// loops is how many main loops each thread runs nested now: 1 while it runs its own code, more inside
	// a metamethod or a Go builtin's call back into Lua, where it cannot yield (see threadLoops).
	loops map[*lua.LState]int

	translated *lua.ApiError // the last error translated to Lua 5.3's wording (errors.go)

	watched watchEntry // the watcher's entry for the message (guarded by watch's lock)

	mu     sync.Mutex
	ch     chan struct{} // closed when the message must stop; a new one after each stop
	gen    uint64        // message generation, so a late watcher stop cannot hit the next message
	err    error         // why ch was closed, nil while open
	closed bool
}

func newMeter(g *lua.Global) *meter {
	return &meter{g: g, ch: make(chan struct{}), budget: -1, memLimit: -1, left: math.MaxInt64}
}

// Done is called by the VM once per instruction. It must stay tiny: it is the hot path.
func (m *meter) Done() <-chan struct{} {
	m.left--
	if m.left == 0 {
		m.spent()
	}
	m.onInstruction(m.g.CurrentThread)
	if m.ticks++; m.ticks&(stackCheckEvery-1) == 0 {
		th := m.g.CurrentThread
		checkStack(th)
		m.chargeStack(th)
		if m.ticks&(yieldEvery-1) == 0 {
			// A long evaluation lets the node's other goroutines (requests for other processes) have the
			// processor every few hundred microseconds, instead of at Go's 10 ms preemption.
			runtime.Gosched()
		}
	}
	return m.ch
}

// yieldEvery is how many instructions an evaluation runs between two yields of the processor (a power of
// two, a multiple of stackCheckEvery).
const yieldEvery = 1 << 13

// charge counts n instructions' worth of work done outside the VM loop; it reports whether the budget
// is spent.
func (m *meter) charge(n int64) bool {
	if m.isSpent {
		return true
	}
	if n < m.left {
		m.left -= n
		return false
	}
	m.spent()
	return true
}

func (m *meter) spent() {
	m.left, m.isSpent = math.MaxInt64, true // never again this message
	m.stop(m.gen, &LimitError{Kind: "compute", Limit: fmt.Sprintf("%d instructions", m.budget)})
}

// Err is why the message was stopped, or nil.
func (m *meter) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *meter) Deadline() (time.Time, bool) { return time.Time{}, false }
func (m *meter) Value(any) any               { return nil }

// stop closes the channel of message gen (if it is still the current one) with err.
func (m *meter) stop(gen uint64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen != m.gen || m.closed {
		return
	}
	m.err, m.closed = err, true
	close(m.ch)
}

// start arms the meter for a new message.
func (m *meter) start(computeLimit, memLimit int64, timeout time.Duration) {
	m.mu.Lock()
	m.gen++
	if m.closed {
		m.ch = make(chan struct{})
		m.closed, m.err = false, nil
	}
	gen := m.gen
	m.mu.Unlock()
	m.cCalls = cCallsAtStart
	m.ticks = 0 // the stack checks fall on the same instructions on every run
	m.budget, m.memLimit = computeLimit, memLimit
	m.walked, m.refused, m.stackMarks = false, false, nil
	if computeLimit < 0 {
		m.initial = math.MaxInt64
	} else {
		// Done call number budget+1 is the first one refused.
		m.initial = computeLimit + 1
	}
	m.left, m.isSpent = m.initial, false
	watchAdd(m, watchEntry{gen: gen, timeout: timeout, deadline: time.Now().Add(timeout)})
}

// finish disarms the meter and returns the instructions the message executed.
func (m *meter) finish() int64 {
	watchRemove(m)
	if m.isSpent {
		return m.budget
	}
	return m.initial - m.left
}

// limits resolves Options to the values the meter uses.
func (o Options) limits() (compute, memory int64, timeout time.Duration) {
	compute, memory, timeout = o.ComputeLimit, o.MemoryLimit, o.Timeout
	if compute == 0 {
		compute = DefaultComputeLimit
	}
	if memory == 0 {
		memory = DefaultMemoryLimit
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return compute, memory, timeout
}

/* ---- the watcher: the wall clock ---- */

// One watcher goroutine, running only while some message is being evaluated, stops every message past
// its wall-clock deadline. The deadline is the only limit that is not deterministic; it is a safety net
// far above what the compute limit allows.

type watchEntry struct {
	gen      uint64
	timeout  time.Duration
	deadline time.Time
}

var watch struct {
	sync.Mutex
	entries map[*meter]*watchEntry
	running bool
}

// watchTick is the sampling period.
const watchTick = 10 * time.Millisecond

func watchAdd(m *meter, e watchEntry) {
	watch.Lock()
	defer watch.Unlock()
	if watch.entries == nil {
		watch.entries = map[*meter]*watchEntry{}
	}
	m.watched = e // the entry lives in the meter: no allocation per message
	watch.entries[m] = &m.watched
	if !watch.running {
		watch.running = true
		go watchLoop()
	}
}

func watchRemove(m *meter) {
	watch.Lock()
	defer watch.Unlock()
	delete(watch.entries, m)
}

type stopReq struct {
	m   *meter
	gen uint64
	err error
}

func watchLoop() {
	t := time.NewTicker(watchTick)
	defer t.Stop()
	idle := 0
	for now := range t.C {
		var stops []stopReq
		watch.Lock()
		if len(watch.entries) == 0 {
			if idle++; idle >= 100 { // a second without work: exit, watchAdd starts a new one
				watch.running = false
				watch.Unlock()
				return
			}
			watch.Unlock()
			continue
		}
		idle = 0
		for m, e := range watch.entries {
			if now.After(e.deadline) {
				stops = append(stops, stopReq{m: m, gen: e.gen, err: &LimitError{Kind: "time", Limit: e.timeout.String() + " wall clock"}})
			}
		}
		watch.Unlock()
		for _, s := range stops {
			s.m.stop(s.gen, s.err)
		}
	}
}

/* ---- builtins that respect the limits ---- */

// Original gopher-lua builtins the limit-aware ones call (the same Go functions in every state).
var orig struct {
	once               sync.Once
	coCreate, coResume lua.LGFunction
	tostring           lua.LGFunction // the tostring prompt's Go version stands for
}

func loadOrig(L *lua.LState) {
	orig.once.Do(func() {
		co := L.GetGlobal("coroutine").(*lua.LTable)
		orig.coCreate = co.RawGetString("create").(*lua.LFunction).GFunction
		orig.coResume = co.RawGetString("resume").(*lua.LFunction).GFunction
		orig.tostring = L.GetGlobal("tostring").(*lua.LFunction).GFunction
	})
}

// installLimitBuiltins replaces the builtins that could escape or blow the limits: coroutine
// create/wrap/resume (a new coroutine must run under the process's meter: gopher-lua would give it a
// child context whose Done the meter never sees, and watch it from a goroutine), table.concat (one call
// could allocate far past the memory limit before any check runs) and the string library (see
// installStringLib).
func installLimitBuiltins(L *lua.LState) {
	loadOrig(L)
	co := L.GetGlobal("coroutine").(*lua.LTable)
	co.RawSetString("create", L.NewFunction(coCreateMetered))
	co.RawSetString("wrap", L.NewFunction(coWrapMetered))
	co.RawSetString("resume", L.NewFunction(coResumeMetered))
	installStringLib(L)
	L.GetGlobal("table").(*lua.LTable).RawSetString("concat", L.NewFunction(tableConcatCapped))
}

// withoutContext runs fn with L's context removed (so gopher-lua's NewThread makes no child context) and
// returns that context.
func withoutContext(L *lua.LState, fn lua.LGFunction) (n int, ctx context.Context) {
	ctx = L.RemoveContext()
	defer func() {
		if ctx != nil {
			arm(L, ctx)
		}
	}()
	return fn(L), ctx
}

func coCreateMetered(L *lua.LState) int { return coCreateCharged(L, costCoroutine) }

// coCreateCharged is coroutine.create, charged cost.
func coCreateCharged(L *lua.LState, cost int64) int {
	charge(L, cost)
	if m, ok := L.Context().(*meter); ok && m.spare != nil {
		fn := L.CheckFunction(1) // before taking the spare: the same error as coroutine.create
		old := m.spare
		m.spare = nil
		if lendable(L, old) {
			L.Push(newThreadFrom(L, old, fn, m))
			return 1
		}
	}
	n, ctx := withoutContext(L, orig.coCreate)
	if th, ok := L.Get(-1).(*lua.LState); ok && ctx != nil {
		arm(th, ctx)
	}
	return n
}

// coWrapMetered is coroutine.wrap: coroutine.create (under the meter) and a function that resumes the
// coroutine and raises its error as Lua 5.3's does (gopher-lua's wrapped coroutines raise it on the
// resumer without it).
func coWrapMetered(L *lua.LState) int {
	coCreateMetered(L)
	th := L.Get(-1)
	L.Push(L.NewClosure(coWrapAux, th))
	return 1
}

// coWrapAux is a coroutine.wrap function: its upvalue is the coroutine. A string error gets the position of
// the wrap function's caller.
func coWrapAux(L *lua.LState) int {
	L.Insert(L.Get(lua.UpvalueIndex(1)), 1)
	n := coResumeMetered(L)
	top := L.GetTop()
	if L.Get(top-n+1) == lua.LTrue {
		return n - 1
	}
	v := L.Get(top)
	if s, ok := v.(lua.LString); ok {
		v = lua.LString(where(L, luavm.CurrentFrame(L), 1) + string(s))
	}
	raise(L, v)
	return 0
}

// coResumeMetered makes sure the coroutine runs under the resumer's meter (a coroutine created before
// the process had one, or by an older message's context).
//
// A coroutine that dies in this resume becomes the meter's spare: the next coroutine.create reuses its
// parts when it can (see threads.go).
func coResumeMetered(L *lua.LState) int {
	th, _ := L.Get(1).(*lua.LState)
	if th == nil {
		L.ArgError(1, "thread expected")
	}
	// Lua 5.3's refusals, in its words: a dead coroutine, and one that is running or resumed another.
	var refused string
	switch {
	case th.Dead:
		refused = "cannot resume dead coroutine"
	case th == L.G.CurrentThread || th == L.G.MainThread || th.Parent != nil:
		refused = "cannot resume non-suspended coroutine"
	}
	if refused != "" {
		L.SetTop(0)
		L.Push(lua.LFalse)
		L.Push(lua.LString(refused))
		return chargeIfFailed(L, 2)
	}
	if c := pcallPending(L, th); c != nil { // suspended in a pcall: its child goes on (pcall.go)
		return resumePending(L, th, c)
	}
	if ctx := L.Context(); ctx != nil && th.Context() != ctx {
		arm(th, ctx)
	}
	n := chargeIfFailed(L, orig.coResume(L))
	if th.Dead { // it died in this resume
		if m, ok := L.Context().(*meter); ok && lendable(L, th) {
			th.SetTop(0) // what is left on its data stack is garbage: let it go
			m.spare = th
		}
	}
	return n
}

// chargeIfFailed charges for a caught error when the n results on top of the stack start with false.
func chargeIfFailed(L *lua.LState, n int) int {
	if n > 0 && L.Get(-n) == lua.LFalse {
		charge(L, costCaughtError)
	}
	return n
}

// tableConcatCapped is Lua 5.3's table.concat, which charges what it reads and builds as it goes: an
// instruction per element (four through __index; 1,024 at a time) and the string's bytes against the
// memory limit (64 KB at a time), so neither a long range nor an __index that answers every key runs
// unbounded. It builds the string directly: gopher-lua's own pushes every element on the VM stack and
// fails with "registry overflow" past about 2,500 elements.
func tableConcatCapped(L *lua.LState) int {
	tbl := L.CheckTable(1)
	sep := L.OptString(2, "")
	i := optIntArg(L, 3, 1)
	var last int64
	if L.Get(4) == lua.LNil {
		last = seqLen(L, tbl)
	} else {
		last = checkInt(L, 4)
	}
	if i > last {
		L.Push(lua.LString(""))
		return 1
	}
	// 5.3 reads t[i] .. t[last] (through __index) and refuses anything but a string or a number, nil
	// included: a range past the sequence is an error, not a shorter string.
	const chargeEvery, allocEvery = 1024, 64 << 10
	// A read through __index costs what a Lua loop's t[i] would: an instruction for the read, more for the
	// metamethod call (a Go __index such as type would otherwise answer every key for free).
	perRead := int64(1)
	if tbl.Metatable != lua.LNil {
		perRead = 4
	}
	var b strings.Builder
	var n, charged, allocated int64
	for k := i; ; k++ {
		if k > i {
			b.WriteString(sep)
		}
		switch v := seqGet(L, tbl, k).(type) {
		case lua.LString:
			b.WriteString(string(v))
		case lua.LNumber:
			b.WriteString(strlib.NumberToString(float64(v)))
		default:
			L.RaiseError("invalid value (%s) at index %d in table for 'concat'", v.Type().String(), k)
		}
		if n += perRead; n-charged >= chargeEvery {
			charge(L, n-charged)
			charged = n
		}
		if grown := int64(b.Len()) - allocated; grown >= allocEvery {
			chargeAlloc(L, grown)
			allocated += grown
		}
		if k == last {
			break
		}
	}
	chargeAlloc(L, sizeString+int64(b.Len())-allocated)
	charge(L, n-charged+int64(b.Len())/costBytes)
	L.Push(lua.LString(b.String()))
	return 1
}

// partialOutput is what a stopped message printed before the stop, found where the runtime keeps it:
// the global HANDLER_PRINT_LOGS list (AOS's name), else the data of the .ao module's outbox Output, else
// the list in the upvalue "printed" of the global print. Best effort: no Lua code runs (the message is past
// its limit), so when the runtime keeps its output elsewhere the Output is empty.
func (p *Process) partialOutput() Output {
	L := p.L
	join := func(t *lua.LTable) string {
		lines := make([]string, 0, t.Len())
		for j := 1; j <= t.Len(); j++ {
			switch v := t.RawGetInt(j).(type) {
			case lua.LString, lua.LNumber:
				lines = append(lines, lua.LVAsString(v))
			}
		}
		return strings.Join(lines, "\n")
	}
	out := func(data string) Output { return Output{Data: data, Print: data != ""} }
	if t, ok := L.G.Global.RawGetString("HANDLER_PRINT_LOGS").(*lua.LTable); ok {
		return out(join(t))
	}
	if loaded, ok := L.G.Registry.RawGetString("_LOADED").(*lua.LTable); ok {
		if ao, ok := loaded.RawGetString(".ao").(*lua.LTable); ok {
			if ob, ok := ao.RawGetString("outbox").(*lua.LTable); ok {
				if o, ok := ob.RawGetString("Output").(*lua.LTable); ok {
					if d, ok := o.RawGetString("data").(lua.LString); ok {
						return out(string(d))
					}
				}
			}
		}
	}
	if fn, ok := L.G.Global.RawGetString("print").(*lua.LFunction); ok && !fn.IsG && fn.Proto != nil {
		for i, name := range fn.Proto.DbgUpvalues {
			if name == "printed" && i < len(fn.Upvalues) {
				if t, ok := fn.Upvalues[i].Value().(*lua.LTable); ok {
					return out(join(t))
				}
			}
		}
	}
	return Output{}
}

/* ---- charges for builtin work ---- */

// The VM counts one instruction per call of a Go builtin, whatever the builtin does. A few builtins do
// work that costs far more than an instruction and that a loop can repeat at will; they are charged
// extra, in instructions, so that the compute limit also bounds them. The charges depend only on the
// arguments and results, so they are as deterministic as the instruction count (GasUsed includes them).
// Measured on the 2-vCPU test machine, an instruction costs 20-60 ns.
const (
	// string.rep, table.concat and string.format: 1 per 128 bytes built (~5 GB/s); table.concat also 1
	// per element it joins.
	costBytes       = 128
	costCoroutine   = 500 // coroutine.create and wrap: a new VM stack (~10 us)
	costCaughtError = 200 // an error caught by pcall, xpcall or coroutine.resume (~4 us: a Go panic)
)

// charge counts n instructions of builtin work against the running message's budget and raises the
// compute limit error when that spends it (the message then stops at its next instruction anyway; the
// error keeps the builtin from doing the work first).
// The 5.3 library's correctly rounded math (node/aos/lua53) charges its big.Float work here.
func init() { lua53.Charge = charge }

func charge(L *lua.LState, n int64) {
	m, ok := L.Context().(*meter)
	if !ok || n <= 0 {
		return
	}
	if m.charge(n) {
		if err := m.Err(); err != nil {
			L.RaiseError("%s", err.Error())
		}
	}
}
