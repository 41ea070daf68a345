package aos

import (
	"math"
	"math/bits"

	lua "github.com/yuin/gopher-lua"
)

// Lua 5.3's table.insert and table.remove (gopher-lua's accept any position and argument count), and
// setmetatable, which in 5.3 takes only a table (gopher-lua's would set the metatable of a whole type, such
// as every number's). Like 5.3 they go through __index, __newindex and __len when the table has a
// metatable; shifting elements is charged to the compute limit.

func installTableLib(L *lua.LState) {
	tbl := L.G.Global.RawGetString("table").(*lua.LTable)
	tbl.RawSetString("insert", L.NewFunction(tableInsert))
	tbl.RawSetString("remove", L.NewFunction(tableRemove))
	tbl.RawSetString("sort", L.NewFunction(tableSort))
	L.G.Global.RawSetString("setmetatable", L.NewFunction(baseSetMetatable))
}

// seqLen is #t as 5.3's table functions read it: __len when the metatable has it (an integer), else the
// border gopher-lua finds.
func seqLen(L *lua.LState, t *lua.LTable) int64 {
	if t.Metatable != lua.LNil {
		if mm := L.GetMetaField(t, "__len"); mm != lua.LNil {
			L.Push(mm)
			L.Push(t)
			L.Call(1, 1)
			v := L.Get(-1)
			L.Pop(1)
			n, ok := v.(lua.LNumber)
			if !ok || float64(n) != float64(int64(n)) {
				L.RaiseError("object length is not an integer")
			}
			return int64(n)
		}
	}
	return int64(t.Len())
}

func seqGet(L *lua.LState, t *lua.LTable, i int64) lua.LValue {
	if t.Metatable == lua.LNil {
		return t.RawGet(lua.LNumber(i))
	}
	return L.GetTable(t, lua.LNumber(i))
}

func seqSet(L *lua.LState, t *lua.LTable, i int64, v lua.LValue) {
	if t.Metatable == lua.LNil {
		t.RawSet(lua.LNumber(i), v)
		return
	}
	L.SetTable(t, lua.LNumber(i), v)
}

// shiftCost is the compute charge for moving n elements.
func shiftCost(n int64) int64 { return n / 8 }

// tableInsert is table.insert(t, [pos,] value): pos must be in [1, #t+1]; the elements from pos on move up.
func tableInsert(L *lua.LState) int {
	t := L.CheckTable(1)
	e := seqLen(L, t) + 1 // the first empty slot
	switch L.GetTop() {
	case 2:
		seqSet(L, t, e, L.Get(2))
	case 3:
		pos := checkInt(L, 2)
		if pos < 1 || pos > e {
			L.ArgError(2, "position out of bounds")
		}
		charge(L, shiftCost(e-pos))
		for i := e; i > pos; i-- {
			seqSet(L, t, i, seqGet(L, t, i-1))
		}
		seqSet(L, t, pos, L.Get(3))
	default:
		L.RaiseError("wrong number of arguments to 'insert'")
	}
	return 0
}

// tableRemove is table.remove(t [, pos]): pos defaults to #t and must be in [1, #t+1] when given otherwise;
// the elements after it move down and the last slot is cleared.
func tableRemove(L *lua.LState) int {
	t := L.CheckTable(1)
	size := seqLen(L, t)
	pos := optIntArg(L, 2, size)
	if pos != size && (pos < 1 || pos > size+1) {
		L.ArgError(1, "position out of bounds")
	}
	L.Push(seqGet(L, t, pos))
	charge(L, shiftCost(size-pos))
	for ; pos < size; pos++ {
		seqSet(L, t, pos, seqGet(L, t, pos+1))
	}
	seqSet(L, t, pos, lua.LNil)
	return 1
}

// baseSetMetatable is 5.3's setmetatable(t, mt): t a table, mt nil or a table, and no change to a
// metatable protected by __metatable.
func baseSetMetatable(L *lua.LState) int {
	t := L.CheckTable(1)
	switch L.Get(2).(type) {
	case *lua.LNilType, *lua.LTable:
		if L.GetTop() < 2 { // no value is not nil
			L.ArgError(2, "nil or table expected")
		}
	default:
		L.ArgError(2, "nil or table expected")
	}
	if L.GetMetaField(t, "__metatable") != lua.LNil {
		L.RaiseError("cannot change a protected metatable")
	}
	L.SetMetatable(t, L.Get(2))
	L.SetTop(1)
	return 1
}

// tableSort is Lua 5.3's table.sort, step for step: its quicksort (median of three, the middle element as
// the pivot, the same swaps and the same comparisons in the same order) reads and writes the table through
// lua_geti/lua_seti, so elements that compare equal end in the order real AOS leaves them, a comparator
// sees the same calls, and an inconsistent one gets "invalid order function for sorting" where Lua raises
// it. (gopher-lua's sorts the array part with Go's sort.Sort: another order for ties, and entries in the
// hash part left out.)
func tableSort(L *lua.LState) int {
	t := L.CheckTable(1)
	n := seqLen(L, t)
	if n <= 1 {
		return 0
	}
	if n >= math.MaxInt32 {
		L.ArgError(1, "array too big")
	}
	s := sorter{L: L, t: t, prepaid: n * int64(bits.Len64(uint64(n)))}
	switch f := L.Get(2).(type) {
	case *lua.LNilType:
	case *lua.LFunction:
		s.fn = f
	default:
		L.TypeError(2, lua.LTFunction)
	}
	s.auxsort(1, n, 0)
	return 0
}

type sorter struct {
	L        *lua.LState
	t        *lua.LTable
	fn       *lua.LFunction // nil: the < operator
	compared int64          // comparisons made
	prepaid  int64          // comparisons the builtin's charge covered (see chargedBuiltins)
}

// sortRandLimit is 5.3's RANLIMIT: intervals at least this long take a randomized pivot once the sort has
// met an imbalanced partition.
const sortRandLimit = 100

func (s *sorter) get(i int64) lua.LValue    { return seqGet(s.L, s.t, i) }
func (s *sorter) set(i int64, v lua.LValue) { seqSet(s.L, s.t, i, v) }

// less is sort_comp(a, b): a < b by the comparator or the < operator. Comparisons beyond what the call's
// charge covered (an adversarial input can make quicksort quadratic) are charged as they are made.
func (s *sorter) less(a, b lua.LValue) bool {
	if s.compared++; s.compared > s.prepaid && s.compared&255 == 0 {
		charge(s.L, 256)
	}
	if s.fn == nil {
		return s.L.LessThan(a, b)
	}
	s.L.Push(s.fn)
	s.L.Push(a)
	s.L.Push(b)
	s.L.Call(2, 1)
	r := lua.LVAsBool(s.L.Get(-1))
	s.L.Pop(1)
	return r
}

func (s *sorter) auxsort(lo, up int64, rnd uint32) {
	for lo < up {
		// Sort a[lo], a[p] and a[up].
		if alo, aup := s.get(lo), s.get(up); s.less(aup, alo) {
			s.set(lo, aup)
			s.set(up, alo)
		}
		if up-lo == 1 {
			return
		}
		var p int64
		if up-lo < sortRandLimit || rnd == 0 {
			p = (lo + up) / 2
		} else {
			r4 := (up - lo) / 4
			p = int64(rnd%uint32(r4*2)) + lo + r4
		}
		if ap, alo := s.get(p), s.get(lo); s.less(ap, alo) {
			s.set(p, alo)
			s.set(lo, ap)
		} else if aup := s.get(up); s.less(aup, ap) {
			s.set(p, aup)
			s.set(up, ap)
		}
		if up-lo == 2 {
			return
		}
		pivot := s.get(p)
		s.set(p, s.get(up-1))
		s.set(up-1, pivot)
		p = s.partition(lo, up, pivot)
		var n int64
		if p-lo < up-p { // recurse into the shorter side, loop on the longer
			s.auxsort(lo, p-1, rnd)
			n, lo = p-lo, p+1
		} else {
			s.auxsort(p+1, up, rnd)
			n, up = up-p, p-1
		}
		if (up-lo)/128 > n {
			// Too imbalanced: Lua re-randomizes from clock() and time(), which no CU may read. A value of
			// the interval alone keeps the sort deterministic (the compute limit bounds an input made to
			// defeat it).
			rnd = uint32(lo)*2654435761 ^ uint32(up)*40503 | 1
		}
	}
}

// partition is 5.3's: a[up-1] holds the pivot P; it returns P's final index.
func (s *sorter) partition(lo, up int64, pivot lua.LValue) int64 {
	i, j := lo, up-1
	for {
		var ai, aj lua.LValue
		for {
			i++
			if ai = s.get(i); !s.less(ai, pivot) {
				break
			}
			if i == up-1 {
				s.L.RaiseError("invalid order function for sorting")
			}
		}
		for {
			j--
			if aj = s.get(j); !s.less(pivot, aj) {
				break
			}
			if j < i {
				s.L.RaiseError("invalid order function for sorting")
			}
		}
		if j < i {
			s.set(up-1, ai)
			s.set(i, pivot)
			return i
		}
		s.set(i, aj)
		s.set(j, ai)
	}
}
