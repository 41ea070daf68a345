package aos

import (
	"sort"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua iterates a table in insertion order, but it registers its libraries (base functions, string,
// math, table...) from Go maps, whose order changes from run to run. A process that iterates _G or a library
// with pairs would then see a different order on every node. orderGlobals rebuilds _G and every library table
// with their keys inserted in sorted order, so pairs() over them is the same everywhere. It runs once the Go
// side is installed and before any Lua code is compiled.
func orderGlobals(L *lua.LState) {
	old := L.G.Global
	loaded, _ := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
	strMT, _ := L.GetMetatable(lua.LString("")).(*lua.LTable)
	var oldString lua.LValue = lua.LNil
	if strMT != nil {
		oldString = strMT.RawGetString("__index")
	}
	replaced := map[*lua.LTable]*lua.LTable{}
	old.ForEach(func(k, v lua.LValue) {
		name, ok := k.(lua.LString)
		if t, isTable := v.(*lua.LTable); ok && isTable && t != old {
			nt := sortedCopy(L, t)
			replaced[t] = nt
			if loaded != nil && loaded.RawGetString(string(name)) == t {
				loaded.RawSetString(string(name), nt)
			}
		}
	})
	g := sortedCopy(L, old)
	g.ForEach(func(k, v lua.LValue) {
		if t, ok := v.(*lua.LTable); ok {
			if nt, ok := replaced[t]; ok {
				g.RawSetH(k, nt)
			} else if t == old { // _G and _ENV
				g.RawSetH(k, g)
			}
		}
	})
	g.RawSetString("_G", g)
	if loaded != nil {
		loaded.RawSetString("_G", g)
	}
	// gopher-lua's string metatable is the string library table itself (its __index is itself): the sorted
	// copy takes both roles, so getmetatable("") iterates in order too.
	if strMT != nil {
		if ns := replaced[strMT]; ns != nil {
			ns.RawSetString("__index", ns)
			L.SetMetatable(lua.LString(""), ns)
		} else if s, ok := oldString.(*lua.LTable); ok && replaced[s] != nil {
			strMT.RawSetString("__index", replaced[s])
		}
	}
	L.G.Global, L.Env = g, g
}

// sortedCopy is t with its array part first and its other keys in sorted order (strings, then numbers, then
// the rest by type name, which libraries do not have).
func sortedCopy(L *lua.LState, t *lua.LTable) *lua.LTable {
	n := t.Len()
	out := L.NewTable()
	out.Metatable = t.Metatable
	for i := 1; i <= n; i++ {
		out.RawSetInt(i, t.RawGetInt(i))
	}
	type kv struct {
		k lua.LValue
		v lua.LValue
	}
	var rest []kv
	t.ForEach(func(k, v lua.LValue) {
		if num, ok := k.(lua.LNumber); ok && float64(num) == float64(int(num)) && int(num) >= 1 && int(num) <= n {
			return
		}
		rest = append(rest, kv{k, v})
	})
	sort.SliceStable(rest, func(i, j int) bool {
		a, b := rest[i].k, rest[j].k
		if a.Type() != b.Type() {
			return a.Type().String() < b.Type().String()
		}
		switch x := a.(type) {
		case lua.LString:
			return x < b.(lua.LString)
		case lua.LNumber:
			return x < b.(lua.LNumber)
		}
		return false
	})
	for _, e := range rest {
		out.RawSetH(e.k, e.v)
	}
	return out
}
