package aos

import (
	"sync"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
	"github.com/aonode/aonode/node/aos/strlib"
)

// Deterministic memory accounting.
//
// The memory limit bounds a process's whole state, counted in the process's own terms, never from the Go
// heap (which the whole node shares, and whose size depends on when the garbage collector runs): the same
// messages hit the limit at the same instruction on every CU and every replay.
//
// Two numbers, kept with the process (and in its snapshots), describe its memory:
//   - exact: the size of everything the process can reach, measured by a walk of its state;
//   - since: what it allocated since that walk (strings built, tables and closures made, entries added,
//     stack grown), charged before each allocation happens.
//
// exact+since is an upper bound of the live state. An allocation that would take it past the limit first
// measures the state again (the garbage no longer counts), when that is affordable: the process
// allocated at least a quarter of its state since the last walk, or this message has not walked yet, so
// walking costs at most a few times what allocating did. If the state is still too big, or a walk is
// not affordable, the allocation does not happen: the process gets Lua's own out-of-memory error, "not
// enough memory", raised where the allocation was (real AOS raises the same error when its wasm memory
// is full; pcall catches it, as in Lua). The first over-limit allocation after a refusal walks in any
// case, as Lua collects on a failed allocation: the error unwound frames, so a caught error (AOS's own
// handler pcall among them) frees what the failed code held. Walks are charged to the compute budget like
// instructions.
//
// Sizes follow Lua 5.3's own layout, so the limit means about what it means to real AOS: a string is 24
// bytes and its length (for every place that holds it: two copies of a string built apart are two
// strings in the Go heap, and a snapshot cannot tell them from one string held twice), a table 56 bytes and 32 per
// entry, a closure 32 and 8 per upvalue, an upvalue 40, a coroutine 200 plus its stacks, a function
// prototype its code and constants (the runtime's own code, shared by every process, is not counted).
// The Go heap a process uses is some 2-4 times its accounted size.
const (
	sizeString   = 24
	sizeTable    = 56
	sizeEntry    = 32
	sizeArraySet = 16 // an entry added by a table constructor's list part
	sizeClosure  = 32
	sizeUpvalue  = 40
	sizeThread   = 200
	sizeFrame    = 64
	sizeSlot     = 16
	sizeProto    = 120
	sizeUserData = 40
	sizeNumber   = 24 // a number turned into a string: at most this long

	// minWalkGain: allocations below this since the last walk never justify another one within a message.
	minWalkGain = 1 << 20
	// walkCostPerObject is what a walk charges to the compute budget per object it visits, besides one
	// per table slot (array slot or hash key) it looks at.
	walkCostPerObject = 2
)

// memAccount is a process's memory state.
type memAccount struct {
	exact, since int64
}

// MemoryState is what the process's memory accounting carries from message to message (see memory.go):
// snapshots keep it, so a restored process hits its limit exactly where the original would.
type MemoryState struct {
	Exact int64 // the size of the state at the last measurement
	Since int64 // what it allocated since
}

// MemoryState returns the process's memory accounting state.
func (p *Process) MemoryState() MemoryState {
	return MemoryState{Exact: p.mem.exact, Since: p.mem.since}
}

// SetMemoryState sets it (a process restored from a snapshot).
func (p *Process) SetMemoryState(s MemoryState) { p.mem = memAccount{exact: s.Exact, since: s.Since} }

// errNoMemory is Lua's out-of-memory error text.
const errNoMemory = "not enough memory"

// allocate charges n bytes the running message is about to allocate. It reports false when the
// allocation would take the state past the limit: the caller raises errNoMemory instead of allocating.
func (m *meter) allocate(n int64) bool {
	if m.memLimit < 0 || m.mem == nil || n <= 0 {
		return true
	}
	a := m.mem
	a.since += n
	if a.exact+a.since <= m.memLimit {
		return true
	}
	if m.isSpent {
		return false
	}
	if (a.since-n >= a.exact/4+minWalkGain || !m.walked || m.refused) && m.L != nil {
		m.walked, m.refused = true, false
		pending := n
		size, work := measure(m.L)
		a.exact, a.since = size, pending
		if m.charge(work) {
			return false
		}
		if a.exact+a.since <= m.memLimit {
			return true
		}
	}
	a.since -= n // refused: not allocated
	m.refused = true
	return false
}

// chargeAlloc is allocate for a Go builtin, which raises the out-of-memory error when it is refused.
func chargeAlloc(L *lua.LState, n int64) {
	if m, ok := L.Context().(*meter); ok && !m.allocate(n) {
		noMemory(L)
	}
}

// noMemory raises Lua's out-of-memory error, which has no position.
func noMemory(L *lua.LState) {
	L.Error(lua.LString(errNoMemory), 0)
}

// onInstruction is called by Done before every instruction: it gives concatenated numbers Lua 5.3's text
// and, while memory is accounted, charges the instruction.
func (m *meter) onInstruction(th *lua.LState) {
	inst, proto, base, ok := luavm.Instruction(th)
	if !ok {
		return
	}
	if luavm.Op(inst) == lua.OP_CONCAT {
		concatNumbers(th, base+luavm.B(inst), base+luavm.C(inst))
	}
	if m.memLimit >= 0 {
		m.chargeInstruction(th, inst, proto, base)
	}
}

// concatNumbers turns the numbers among the operands of a concatenation (registers from..to) into their
// text as Lua 5.3 writes it (strlib.NumberToString), where gopher-lua would use Go's shortest form
// ("0.30000000000000004" for 0.1 + 0.2, where Lua writes "0.3"). The operands of a concatenation are
// always fresh temporaries (gopher-lua's compiler copies every operand into consecutive new registers), so
// rewriting them changes nothing else; when an operand is neither a string nor a number, a __concat
// metamethod decides and gets them unchanged.
func concatNumbers(th *lua.LState, from, to int) {
	numbers := false
	for r := from; r <= to; r++ {
		switch luavm.Register(th, r).(type) {
		case lua.LString:
		case lua.LNumber:
			numbers = true
		default:
			return
		}
	}
	if !numbers {
		return
	}
	for r := from; r <= to; r++ {
		if n, ok := luavm.Register(th, r).(lua.LNumber); ok {
			luavm.SetRegister(th, r, lua.LString(strlib.NumberToString(float64(n))))
		}
	}
}

// chargeInstruction charges what the instruction about to run allocates, and the work of the few
// instructions whose cost is not constant.
func (m *meter) chargeInstruction(th *lua.LState, inst uint32, proto *lua.FunctionProto, base int) {
	var n int64
	switch luavm.Op(inst) {
	case lua.OP_CONCAT:
		n = sizeString
		for r := luavm.B(inst); r <= luavm.C(inst); r++ {
			switch v := luavm.Register(th, base+r).(type) {
			case lua.LString:
				n += int64(len(v))
			case lua.LNumber:
				n += sizeNumber
			}
		}
		// Copying the operands is work in proportion to their length.
		if m.charge(n / costBytes) {
			return
		}
	case lua.OP_NEWTABLE:
		n = sizeTable + sizeArraySet*int64(luavm.B(inst)) + sizeEntry*int64(luavm.C(inst))
	case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
		n = sizeEntry
		t, _ := luavm.Register(th, base+luavm.A(inst)).(*lua.LTable)
		if t == nil {
			break
		}
		k := luavm.RK(th, proto, base, luavm.B(inst))
		if kn, ok := k.(lua.LNumber); ok {
			n = m.arrayGrowth(t, float64(kn))
			if n >= sizeArraySet*reserveFrom {
				// A far key: the array part grows to it in one allocation (the charge is the same).
				if !m.allocate(n) {
					noMemory(th)
				}
				luavm.ReserveArray(t, int(kn))
				n = 0
			}
		}
		m.charge(compactBeforeInsert(t, k, luavm.RK(th, proto, base, luavm.C(inst))))
	case lua.OP_SETGLOBAL:
		// Whether the key is new is not known before the instruction runs: count it as new (the next
		// walk forgets what was an overwrite).
		n = sizeEntry
	case lua.OP_SETLIST:
		count := luavm.B(inst)
		if count == 0 {
			top, _ := luavm.Slots(th)
			count = top - (base + luavm.A(inst)) - 1
		}
		n = sizeArraySet * int64(max(count, 0))
	case lua.OP_CLOSURE:
		if bx := luavm.Bx(inst); bx < len(proto.FunctionPrototypes) {
			n = sizeClosure + (8+sizeUpvalue)*int64(proto.FunctionPrototypes[bx].NumUpvalues)
		}
	case lua.OP_LEN:
		// gopher-lua finds a table's length by walking back over the nils that end its array part.
		if t, ok := luavm.RK(th, proto, base, luavm.B(inst)).(*lua.LTable); ok {
			m.charge(int64(trailingNils(t)) / costScan)
		}
		return
	default:
		return
	}
	if !m.allocate(n) {
		noMemory(th)
	}
}

// compactBeforeInsert drops t's deleted hash keys when k is about to be inserted as a new key (v not
// nil, no __newindex in the way) and they outnumber its live keys: gopher-lua keeps every key a table ever
// had, so a table whose keys come and go (pending replies, sessions) would grow without end and its
// traversals slow down; Lua drops them when it rehashes, which also happens only on an insertion. It
// returns the work done, in instructions.
func compactBeforeInsert(t *lua.LTable, k, v lua.LValue) int64 {
	if v == nil || v == lua.LNil || k == nil || k == lua.LNil {
		return 0
	}
	listed, live := luavm.HashCounts(t)
	if listed <= 2*live+16 {
		return 0
	}
	if n, ok := k.(lua.LNumber); ok {
		if f := float64(n); f == float64(int64(f)) && f >= 1 && f < float64(lua.MaxArrayIndex) {
			return 0 // the array part
		}
	}
	if mt, ok := t.Metatable.(*lua.LTable); ok && mt.RawGetString("__newindex") != lua.LNil {
		return 0
	}
	if t.RawGetH(k) != lua.LNil {
		return 0 // not new
	}
	luavm.CompactKeys(t)
	return int64(listed) / costScan
}

// costScan is how many array slots or hash keys gopher-lua skips for the work of one instruction (a slot
// costs about as much as an instruction: a comparison of interface values). costFill is how many nil
// slots it appends to an array part for the work of one instruction.
const (
	costScan = 1
	costFill = 4
)

// arrayGrowth is what setting integer key k of t allocates: gopher-lua keeps keys 1..MaxArrayIndex in its
// array part and fills every missing key before k with nil, so one assignment can allocate a large array.
func (m *meter) arrayGrowth(t *lua.LTable, k float64) int64 {
	n := int64(len(luavm.TableArray(t)))
	if k != float64(int64(k)) || k < 1 || k >= float64(lua.MaxArrayIndex) || int64(k) <= n {
		return sizeEntry
	}
	gap := int64(k) - n
	m.charge(gap / costFill)
	return sizeArraySet * gap
}

// reserveFrom is the gap, in array slots, from which an assignment past the end of an array part grows it in
// one allocation rather than gopher-lua's appends.
const reserveFrom = 1024

// trailingNils is how many nils end t's array part.
func trailingNils(t *lua.LTable) int {
	a := luavm.TableArray(t)
	i := len(a)
	for i > 0 {
		if _, isNil := a[i-1].(*lua.LNilType); !isNil {
			break
		}
		i--
	}
	return len(a) - i
}

// chargeStack charges the growth of the running thread's stacks past what this message already charged
// for it (called with the stack checks).
func (m *meter) chargeStack(th *lua.LState) {
	if m.memLimit < 0 || m.mem == nil {
		return
	}
	frames, _ := luavm.Frames(th)
	slots, _ := luavm.Slots(th)
	size := int64(frames)*sizeFrame + int64(slots)*sizeSlot
	if m.stackMarks == nil {
		m.stackMarks = map[*lua.LState]int64{}
	}
	if mark := m.stackMarks[th]; size > mark {
		if !m.allocate(size - mark) {
			noMemory(th)
		}
		m.stackMarks[th] = size
	}
}

/* ---- measuring a state ---- */

// runtimeProtos are the prototypes of every compiled runtime's code, shared by every process: not
// counted. Compile adds a runtime's (a copy of the set, so that readers need no lock).
var runtimeProtos struct {
	mu  sync.Mutex
	set atomic.Pointer[map[*lua.FunctionProto]bool]
}

// shareProtos adds the prototypes of a compiled runtime to runtimeProtos.
func shareProtos(rt *compiledRT) {
	runtimeProtos.mu.Lock()
	defer runtimeProtos.mu.Unlock()
	set := map[*lua.FunctionProto]bool{}
	if cur := runtimeProtos.set.Load(); cur != nil {
		for p := range *cur {
			set[p] = true
		}
	}
	var add func(p *lua.FunctionProto)
	add = func(p *lua.FunctionProto) {
		if p == nil || set[p] {
			return
		}
		set[p] = true
		for _, c := range p.FunctionPrototypes {
			add(c)
		}
	}
	for _, p := range rt.chunks {
		add(p)
	}
	add(rt.boot)
	runtimeProtos.set.Store(&set)
}

func sharedProtos() map[*lua.FunctionProto]bool {
	if set := runtimeProtos.set.Load(); set != nil {
		return *set
	}
	return nil
}

// measure walks everything the process can reach and returns its accounted size and the work it did, in
// instructions (see walkCostPerObject). Objects kept only by the identity map (identity.go) are not reached: their entries
// are dropped, as a weak table would drop them. The walk uses an explicit stack: no state is too deep.
func measure(L *lua.LState) (size, objects int64) {
	w := walker{
		tables:  map[*lua.LTable]bool{},
		funcs:   map[*lua.LFunction]bool{},
		upvals:  map[*lua.Upvalue]bool{},
		protos:  map[*lua.FunctionProto]bool{},
		threads: map[*lua.LState]bool{},
		udata:   map[*lua.LUserData]bool{},
		shared:  sharedProtos(),
	}
	reg := L.G.Registry
	ids, _ := reg.RawGetString(regIDs).(*lua.LTable)
	if ids != nil {
		w.tables[ids] = true // walked last, weakly
	}
	w.push(L.G.Global)
	w.push(reg)
	w.push(L.G.MainThread)
	w.push(L.G.CurrentThread)
	w.push(L)
	w.run()
	for _, k := range w.deadKeys {
		if w.seen(k) {
			w.size += sizeEntry
			w.slots++
		}
	}
	if ids != nil {
		size := int64(sizeTable)
		var dead []lua.LValue
		ids.ForEach(func(k, v lua.LValue) {
			if w.seen(k) {
				size += sizeEntry
			} else {
				dead = append(dead, k)
			}
		})
		for _, k := range dead {
			ids.RawSet(k, lua.LNil)
		}
		w.size += size
	}
	return w.size, w.objects*walkCostPerObject + w.slots
}

type walker struct {
	stack   []lua.LValue
	tables  map[*lua.LTable]bool
	funcs   map[*lua.LFunction]bool
	upvals  map[*lua.Upvalue]bool
	protos  map[*lua.FunctionProto]bool
	threads map[*lua.LState]bool
	udata   map[*lua.LUserData]bool
	shared  map[*lua.FunctionProto]bool
	size    int64
	objects int64
	slots   int64
	// deadKeys are the deleted object keys met in tables' key lists: counted after the walk, if seen.
	deadKeys []lua.LValue
}

// isPrimitiveKey: a key that is a value, not an object (snapshots and forks keep such a deleted key).
func isPrimitiveKey(k lua.LValue) bool {
	switch k.(type) {
	case lua.LBool, lua.LNumber, lua.LString:
		return true
	}
	return false
}

func (w *walker) seen(v lua.LValue) bool {
	switch x := v.(type) {
	case *lua.LTable:
		return w.tables[x]
	case *lua.LFunction:
		return w.funcs[x]
	case *lua.LState:
		return w.threads[x]
	case *lua.LUserData:
		return w.udata[x]
	}
	return true
}

// push counts a value and queues the objects it holds.
func (w *walker) push(v lua.LValue) {
	switch x := v.(type) {
	case lua.LString:
		w.size += sizeString + int64(len(x))
	case *lua.LTable:
		if x != nil && !w.tables[x] {
			w.tables[x] = true
			w.stack = append(w.stack, x)
		}
	case *lua.LFunction:
		if x != nil && !w.funcs[x] {
			w.funcs[x] = true
			w.stack = append(w.stack, x)
		}
	case *lua.LState:
		if x != nil && !w.threads[x] {
			w.threads[x] = true
			w.stack = append(w.stack, x)
		}
	case *lua.LUserData:
		if x != nil && !w.udata[x] {
			w.udata[x] = true
			w.stack = append(w.stack, x)
		}
	}
}

func (w *walker) proto(p *lua.FunctionProto) {
	for todo := []*lua.FunctionProto{p}; len(todo) > 0; {
		p := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if p == nil || w.protos[p] || w.shared[p] {
			continue
		}
		w.protos[p] = true
		w.objects++
		w.size += sizeProto + 4*int64(len(p.Code)) + sizeSlot*int64(len(p.Constants)) + 4*int64(len(p.DbgSourcePositions))
		for _, c := range p.Constants {
			w.push(c)
		}
		todo = append(todo, p.FunctionPrototypes...)
	}
}

func (w *walker) run() {
	for len(w.stack) > 0 {
		v := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		w.objects++
		switch x := v.(type) {
		case *lua.LTable:
			// The table as gopher-lua holds it: its array part with its holes and every key its hash part
			// ever had (it keeps deleted keys in its key list), as snapshots and forks keep it, except a
			// deleted key that is an object reached through nothing else: they drop it, so it counts only
			// once the walk has seen it elsewhere (a state and its restored copy measure the same).
			array, keys := luavm.TableArray(x), luavm.TableKeys(x)
			counted := int64(0)
			w.push(x.Metatable)
			for _, v := range array {
				w.push(v)
			}
			for _, k := range keys {
				switch v := x.RawGetH(k); {
				case v != lua.LNil:
					w.push(k)
					w.push(v)
					counted++
				case isPrimitiveKey(k):
					counted++
				default:
					w.deadKeys = append(w.deadKeys, k)
				}
			}
			w.size += sizeTable + sizeArraySet*int64(len(array)) + sizeEntry*counted
			w.slots += int64(len(array)) + counted
		case *lua.LFunction:
			w.size += sizeClosure + 8*int64(len(x.Upvalues))
			w.push(x.Env)
			if !x.IsG {
				w.proto(x.Proto)
			}
			for _, uv := range x.Upvalues {
				if uv != nil && !w.upvals[uv] {
					w.upvals[uv] = true
					w.size += sizeUpvalue
					w.push(uv.Value())
				}
			}
		case *lua.LState:
			w.size += sizeThread
			w.push(x.Env)
			if !x.Dead {
				frames, _ := luavm.Frames(x)
				stack := luavm.Stack(x)
				w.size += int64(frames)*sizeFrame + int64(len(stack))*sizeSlot
				for _, v := range stack {
					w.push(v)
				}
				luavm.EachFrameFunction(x, func(f *lua.LFunction) { w.push(f) })
			}
		case *lua.LUserData:
			w.size += sizeUserData
			w.push(x.Metatable)
			w.push(x.Env)
		}
	}
}
