package aos

import (
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
