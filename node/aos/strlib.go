package aos

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/node/aos/strlib"
)

// installStringLib replaces gopher-lua's string library (Lua 5.1's, unbounded: its matcher backtracks
// without limit in Go) with Lua 5.3's from node/aos/strlib, which charges its work (matching steps,
// bytes built) to the message's compute budget and refuses a result larger than the memory limit
// before building it; also 5.3's tonumber. The string table is the string metatable's __index, so
// method calls ("x"):upper() use it too.
func installStringLib(L *lua.LState) {
	hooks := strlib.Hooks{Charge: charge, Alloc: strAlloc}
	strlib.Open(L, hooks)
	L.SetGlobal("tonumber", L.NewFunction(strlib.Tonumber(hooks)))
}

// strAlloc refuses a string of size bytes when it is larger than the memory limit.
func strAlloc(L *lua.LState, what string, size int64) {
	if size > allocLimit(L) || size >= 1<<62 {
		tooBig(L, what, float64(size))
	}
}
