package aos

import (
	"math"
	"math/bits"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// The VM counts one instruction for a call of a Go builtin, whatever it does. Builtins whose work or
// allocation grows with their arguments are charged for it before they run, from their arguments alone,
// so the charge is as deterministic as the instruction count: the compute limit bounds them in time and
// the memory limit bounds what they build. The string library, json, table.concat, string.rep and
// string.format charge inside (they know their sizes exactly); the builtins below are wrapped.
//
// A charge is in instructions (see charge) and bytes (see chargeAlloc).

// chargeArgs is a wrapper's pre-charge: the instructions and bytes a call with these arguments may take.
type chargeArgs func(L *lua.LState) (work, bytes int64)

// chargedBuiltins are the builtins wrapped, by library ("" for globals) and name.
var chargedBuiltins = []struct {
	lib, name string
	cost      chargeArgs
}{
	{"", "select", func(L *lua.LState) (int64, int64) {
		// select(n, ...) copies the values after the n-th.
		return int64(L.GetTop()) / costScan, 0
	}},
	{"", "tonumber", func(L *lua.LState) (int64, int64) { return strLen(L, 1) / costBytes, 0 }},
	{"", "rawset", func(L *lua.LState) (int64, int64) {
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			return 0, 0
		}
		work, bytes := keyCost(t, L.Get(2))
		return work + compactBeforeInsert(t, L.Get(2), L.Get(3)), bytes
	}},
	{"table", "insert", func(L *lua.LState) (int64, int64) {
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			return 0, 0
		}
		n := int64(len(luavm.TableArray(t)))
		work := n / costScan // the length, and the shift of the elements after pos
		if L.GetTop() >= 3 {
			if k, ok := L.Get(2).(lua.LNumber); ok {
				w, b := keyCost(t, k)
				return work + w, b
			}
		}
		return work, sizeArraySet
	}},
	{"table", "remove", func(L *lua.LState) (int64, int64) {
		if t, ok := L.Get(1).(*lua.LTable); ok {
			return int64(len(luavm.TableArray(t))) / costScan, 0
		}
		return 0, 0
	}},
	{"table", "move", func(L *lua.LState) (int64, int64) {
		f, e := numArg(L, 2), numArg(L, 3)
		n := e - f + 1
		if !(n > 0) {
			return 0, 0
		}
		n = math.Min(n, 1<<40)
		// The destination may be a far key of an array part: count the worst case, an entry per element.
		return int64(n), int64(n) * sizeEntry
	}},
	{"table", "sort", func(L *lua.LState) (int64, int64) {
		// n log n comparisons; a comparator's own instructions are counted as they run.
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			return 0, 0
		}
		n := int64(len(luavm.TableArray(t)))
		return n * int64(bits.Len64(uint64(n))), 0
	}},
	{"table", "unpack", func(L *lua.LState) (int64, int64) {
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			return 0, 0
		}
		i, j := 1.0, float64(len(luavm.TableArray(t)))
		if v, ok := L.Get(2).(lua.LNumber); ok {
			i = float64(v)
		}
		if v, ok := L.Get(3).(lua.LNumber); ok {
			j = float64(v)
		}
		n := j - i + 1
		if !(n > 0) {
			return 0, 0
		}
		n = math.Min(n, 1<<40)
		return int64(n), int64(n) * sizeSlot
	}},
	{"utf8", "char", func(L *lua.LState) (int64, int64) {
		n := int64(L.GetTop())
		return n, sizeString + 4*n
	}},
	{"utf8", "len", func(L *lua.LState) (int64, int64) { return strLen(L, 1) / costScanBytes, 0 }},
	{"utf8", "codepoint", func(L *lua.LState) (int64, int64) {
		n := strLen(L, 1)
		return n / costScanBytes, n * sizeSlot
	}},
	{"utf8", "offset", func(L *lua.LState) (int64, int64) { return strLen(L, 1) / costScanBytes, 0 }},
	{"string", "pack", func(L *lua.LState) (int64, int64) {
		var n int64
		for i := 2; i <= L.GetTop(); i++ {
			n += 16 + strLen(L, i)
		}
		n += 16 * strLen(L, 1) // a format option can pad: at most 16 bytes of alignment per option
		return n / costBytes, sizeString + n
	}},
	{"string", "unpack", func(L *lua.LState) (int64, int64) {
		n := strLen(L, 2)
		return n / costBytes, sizeString + n + sizeSlot*strLen(L, 1)
	}},
	{"coroutine", "create", func(*lua.LState) (int64, int64) { return 0, sizeThread + 64*sizeSlot }},
	{"coroutine", "wrap", func(*lua.LState) (int64, int64) { return 0, sizeThread + 64*sizeSlot + sizeClosure }},
	{"", "load", func(L *lua.LState) (int64, int64) {
		// Compiling is work and code in proportion to the source (a reader function's pieces are charged
		// as its instructions build them).
		n := strLen(L, 1)
		return n / 8, 8 * n
	}},
}

// costScanBytes is how many bytes a scanning builtin (utf8) reads for the work of one instruction.
const costScanBytes = 16

func strLen(L *lua.LState, i int) int64 {
	if s, ok := L.Get(i).(lua.LString); ok {
		return int64(len(s))
	}
	return 0
}

func numArg(L *lua.LState, i int) float64 {
	if v, ok := L.Get(i).(lua.LNumber); ok {
		return float64(v)
	}
	return math.NaN()
}

// keyCost is setting key k of t: an entry, or the array part grown up to an integer key (as arrayGrowth).
func keyCost(t *lua.LTable, k lua.LValue) (work, bytes int64) {
	n, ok := k.(lua.LNumber)
	if !ok {
		return 0, sizeEntry
	}
	f := float64(n)
	have := int64(len(luavm.TableArray(t)))
	if f != float64(int64(f)) || f < 1 || f >= float64(lua.MaxArrayIndex) || int64(f) <= have {
		return 0, sizeEntry
	}
	gap := int64(f) - have
	return gap / costFill, sizeArraySet * gap
}

// installCharged wraps the builtins of chargedBuiltins present in L (after every library is installed).
// A wrapper is one stateless Go function with the wrapped builtin and its entry's index as upvalues, so
// snapshots and forks carry it like any builtin.
func installCharged(L *lua.LState) {
	for i, b := range chargedBuiltins {
		lib := L.G.Global
		if b.lib != "" {
			t, ok := L.G.Global.RawGetString(b.lib).(*lua.LTable)
			if !ok {
				continue
			}
			lib = t
		}
		inner, ok := lib.RawGetString(b.name).(*lua.LFunction)
		if !ok {
			continue
		}
		lib.RawSetString(b.name, L.NewClosure(chargedCall, inner, lua.LNumber(i)))
	}
}

// chargedCall charges its entry's cost, then calls the wrapped builtin with the same arguments and
// returns its results.
func chargedCall(L *lua.LState) int {
	inner, _ := L.Get(lua.UpvalueIndex(1)).(*lua.LFunction)
	idx, _ := L.Get(lua.UpvalueIndex(2)).(lua.LNumber)
	if inner == nil || int(idx) < 0 || int(idx) >= len(chargedBuiltins) {
		L.RaiseError("charged builtin without its function")
	}
	if m, ok := L.Context().(*meter); ok {
		work, bytes := chargedBuiltins[int(idx)].cost(L)
		if work > 0 {
			charge(L, work)
		}
		if bytes > 0 && !m.allocate(bytes) {
			noMemory(L)
		}
	}
	if inner.IsG && len(inner.Upvalues) == 0 {
		return inner.GFunction(L)
	}
	top := L.GetTop()
	L.Push(inner)
	for i := 1; i <= top; i++ {
		L.Push(L.Get(i))
	}
	L.Call(top, lua.MultRet)
	return L.GetTop() - top
}
