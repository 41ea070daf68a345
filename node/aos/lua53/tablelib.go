package lua53

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

func openTable(L *lua.LState) {
	if t, ok := L.GetGlobal("table").(*lua.LTable); ok {
		t.RawSetString("move", L.NewFunction(tableMove))
	}
}

// tableMove is table.move(a1, f, e, t [, a2]): a2[t..] = a1[f..e], through __index/__newindex like
// 5.3's lua_geti/lua_seti, copying backwards when the ranges overlap in the same table.
func tableMove(L *lua.LState) int {
	a1 := L.CheckTable(1)
	f, e, t := checkInteger(L, 2), checkInteger(L, 3), checkInteger(L, 4)
	a2 := a1
	if L.GetTop() >= 5 && L.Get(5) != lua.LNil {
		a2 = L.CheckTable(5)
	}
	if e >= f {
		if !(f > 0 || e < math.MaxInt64+f) {
			L.ArgError(3, "too many elements to move")
		}
		n := e - f // elements to move, minus one
		if t > math.MaxInt64-n {
			L.ArgError(4, "destination wrap around")
		}
		move := func(i int64) {
			interrupted(L)
			L.SetTable(a2, lua.LNumber(float64(t+i)), L.GetTable(a1, lua.LNumber(float64(f+i))))
		}
		if t > e || t <= f || a1 != a2 {
			for i := int64(0); i <= n; i++ {
				move(i)
			}
		} else {
			for i := n; i >= 0; i-- {
				move(i)
			}
		}
	}
	L.Push(a2)
	return 1
}
