package aos

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
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
	// gopher-lua makes the string table its own metatable (string.__index == string); Lua 5.3's string
	// metatable is a table of its own holding only __index, and the string table has no __index.
	if str, ok := L.GetGlobal("string").(*lua.LTable); ok {
		mt := L.CreateTable(0, 1)
		mt.RawSetString("__index", str)
		luavm.BuiltinMetatables(L.G)[int(lua.LTString)] = mt
		str.RawSetString("__index", lua.LNil)
	}
}

// strAlloc charges a string of size bytes the library is about to build (Lua's out-of-memory error when
// it does not fit).
func strAlloc(L *lua.LState, _ string, size int64) {
	chargeAlloc(L, sizeString+min(size, 1<<53))
}
