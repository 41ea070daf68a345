package aos

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/node/aos/strlib"
)

// Object identities. Lua shows a table, function, coroutine or userdata by its address ("table:
// 0x55d0c8a2b4f0"); gopher-lua's is the Go heap address, which differs on every run, every node and after
// every restart, so a result that printed one was not reproducible. Here an object is shown by a number
// the process gives it the first time it is shown (1, 2, 3... in the order the process asks), kept in the
// process's own state (the registry), so the same messages show the same text on every CU, on every
// replay, after a snapshot and in a dry-run's copy. The map holds objects that were shown; the memory
// accounting counts it, and it drops objects nothing else reaches (see memory.go) whenever it measures
// the state, which nothing in the process can observe.
const (
	regIDs    = "__aonode_ids"    // object -> its number
	regNextID = "__aonode_nextid" // the last number given
)

func objectID(L *lua.LState, v lua.LValue) int64 {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	ids, ok := reg.RawGetString(regIDs).(*lua.LTable)
	if !ok {
		ids = L.NewTable()
		reg.RawSetString(regIDs, ids)
	}
	if id, ok := ids.RawGet(v).(lua.LNumber); ok {
		return int64(id)
	}
	next := int64(lua.LVAsNumber(reg.RawGetString(regNextID))) + 1
	reg.RawSetString(regNextID, lua.LNumber(next))
	ids.RawSet(v, lua.LNumber(next))
	return next
}

// objectText is how Lua 5.3 shows a value that has no __tostring: by its type (or its metatable's __name)
// and, for objects, its identity.
func objectText(L *lua.LState, v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return strlib.NumberToString(float64(x))
	case lua.LBool, *lua.LNilType:
		return v.String()
	}
	kind := v.Type().String()
	if mt, ok := L.GetMetatable(v).(*lua.LTable); ok {
		if name, ok := mt.RawGetString("__name").(lua.LString); ok {
			kind = string(name)
		}
	}
	return fmt.Sprintf("%s: 0x%08x", kind, objectID(L, v))
}

// toStringMeta is Lua 5.3's luaL_tolstring: __tostring when the value has one (it must give a string),
// else objectText.
func toStringMeta(L *lua.LState, v lua.LValue) string {
	if fn := L.GetMetaField(v, "__tostring"); fn != lua.LNil {
		L.Push(fn)
		L.Push(v)
		L.Call(1, 1)
		r := L.Get(-1)
		L.Pop(1)
		s, ok := r.(lua.LString)
		if !ok {
			if n, isNum := r.(lua.LNumber); isNum {
				return strlib.NumberToString(float64(n))
			}
			L.RaiseError("'__tostring' must return a string")
		}
		return string(s)
	}
	return objectText(L, v)
}

// baseTostring is tostring.
func baseTostring(L *lua.LState) int {
	if L.GetTop() < 1 {
		L.ArgError(1, "value expected")
	}
	L.Push(lua.LString(toStringMeta(L, L.Get(1))))
	return 1
}
