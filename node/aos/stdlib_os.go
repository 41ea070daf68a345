package aos

import (
	lua "github.com/yuin/gopher-lua"
)

// The os functions besides time, clock and date (builtins.go), as real AOS answers them: a process has no
// environment variables, no files to remove or rename, no shell, no locale but "C", and cannot exit. The
// error numbers are the wasm's (WASI's ENOENT 44, ENOSYS 52).

func installOS(L *lua.LState, os *lua.LTable) {
	for _, f := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{"difftime", osDifftime}, {"execute", osExecute}, {"exit", osExit}, {"getenv", osGetenv},
		{"remove", osRemove}, {"rename", osRename}, {"setlocale", osSetlocale}, {"tmpname", osTmpname},
	} {
		os.RawSetString(f.name, L.NewFunction(f.fn))
	}
}

func osDifftime(L *lua.LState) int {
	a, b := checkInt(L, 1), checkInt(L, 2)
	L.Push(lua.LNumber(float64(a) - float64(b)))
	return 1
}

// osExecute: there is no shell (os.execute() is false); a command fails as the wasm's system() does.
func osExecute(L *lua.LState) int {
	if L.Get(1) == lua.LNil {
		L.Push(lua.LFalse)
		return 1
	}
	L.CheckString(1)
	L.Push(lua.LNil)
	L.Push(lua.LString("Function not implemented"))
	L.Push(lua.LNumber(52))
	return 3
}

// osExit: the wasm's exit ends the whole module, which the node cannot do to a process; it is an error.
func osExit(L *lua.LState) int {
	switch v := L.Get(1); v.(type) {
	case *lua.LNilType, lua.LBool:
	default:
		checkInt(L, 1)
	}
	L.RaiseError("os.exit: a process cannot exit")
	return 0
}

func osGetenv(L *lua.LState) int {
	L.CheckString(1)
	L.Push(lua.LNil)
	return 1
}

func osRemove(L *lua.LState) int {
	name := L.CheckString(1)
	L.Push(lua.LNil)
	L.Push(lua.LString(name + ": No such file or directory"))
	L.Push(lua.LNumber(44))
	return 3
}

func osRename(L *lua.LState) int {
	L.CheckString(1)
	L.CheckString(2)
	L.Push(lua.LNil)
	L.Push(lua.LString("No such file or directory"))
	L.Push(lua.LNumber(44))
	return 3
}

// osSetlocale: the "C" locale is the only one; asking for it (or querying) gives "C", any other nil.
func osSetlocale(L *lua.LState) int {
	category := L.OptString(2, "all")
	switch category {
	case "all", "collate", "ctype", "monetary", "numeric", "time":
	default:
		L.ArgError(2, "invalid option '"+category+"'")
	}
	switch v := L.Get(1); {
	case v == lua.LNil:
		L.Push(lua.LString("C"))
	default:
		switch L.CheckString(1) {
		case "", "C", "POSIX":
			L.Push(lua.LString("C"))
		default:
			L.Push(lua.LNil)
		}
	}
	return 1
}

// osTmpname: a process has no files to name; Lua's own error when no name can be made.
func osTmpname(L *lua.LState) int {
	L.RaiseError("unable to generate a unique filename")
	return 0
}
