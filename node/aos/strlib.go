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
	hooks := strlib.Hooks{Charge: charge, Alloc: strAlloc, ToString: objectText}
	strlib.Open(L, hooks)
	L.SetGlobal("tonumber", L.NewFunction(strlib.Tonumber(hooks)))
}

// strAlloc charges a string of size bytes the library is about to build (Lua's out-of-memory error when
// it does not fit).
func strAlloc(L *lua.LState, _ string, size int64) {
	chargeAlloc(L, sizeString+min(size, 1<<53))
}
