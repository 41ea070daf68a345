package aos

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The debug library a process can use: getinfo (Utils.curry reads a function's nparams from it), getlocal,
// setlocal, getupvalue, setupvalue, upvaluejoin, getmetatable, setmetatable, getuservalue, setuservalue,
// gethook and debug, with Lua 5.3's results. Not here: sethook (gopher-lua has no hooks: a hook that never
// runs would be a lie), getregistry (the registry holds the runtime's own state) and upvalueid. traceback is
// installed with the error texts (it is not part of this file).

func installDebug(L *lua.LState, dbg *lua.LTable) {
	for _, f := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{"debug", dbgDebug}, {"gethook", dbgGethook}, {"getinfo", dbgGetinfo}, {"getlocal", dbgGetlocal},
		{"getmetatable", dbgGetmetatable}, {"getupvalue", dbgGetupvalue}, {"getuservalue", dbgGetuservalue},
		{"setlocal", dbgSetlocal}, {"setmetatable", dbgSetmetatable}, {"setupvalue", dbgSetupvalue},
		{"setuservalue", dbgSetuservalue}, {"upvaluejoin", dbgUpvaluejoin},
	} {
		dbg.RawSetString(f.name, L.NewFunction(f.fn))
	}
}

// dbgDebug is the interactive console; standard input is empty, so it ends at once.
func dbgDebug(L *lua.LState) int { return 0 }

// dbgGethook: no hook is ever set.
func dbgGethook(L *lua.LState) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(""))
	L.Push(lua.LNumber(0))
	return 3
}

// threadArg is the optional thread first argument of the debug functions, and where the others start.
func threadArg(L *lua.LState) (*lua.LState, int) {
	if th, ok := L.Get(1).(*lua.LState); ok {
		return th, 1
	}
	return L, 0
}

// dbgGetinfo is debug.getinfo([thread,] f [, what]) with Lua 5.3's fields: S (source, short_src,
// linedefined, lastlinedefined, what), l (currentline), u (nups, nparams, isvararg), n (name, namewhat),
// t (istailcall), f (func) and L (activelines). f is a function or a stack level (0 is getinfo itself);
// a level with no function gives nil.
func dbgGetinfo(L *lua.LState) int {
	th, base := threadArg(L)
	what := L.OptString(base+2, "flnStu")
	if strings.TrimLeft(what, "SlunftL") != "" {
		L.ArgError(base+2, "invalid option")
	}
	var fn *lua.LFunction
	var frame *lua.Debug
	switch v := L.Get(base + 1).(type) {
	case *lua.LFunction:
		fn = v
	case lua.LNumber:
		level := int(checkInt(L, base+1))
		if th != L {
			level-- // another thread's level 0 is its top function, not getinfo
		}
		d, ok := th.GetStack(level)
		if !ok || level < 0 {
			L.Push(lua.LNil)
			return 1
		}
		if f, err := th.GetInfo("f", d, lua.LNil); err == nil {
			fn, _ = f.(*lua.LFunction)
		}
		frame = d
	default:
		L.ArgError(base+1, "function or level expected")
	}
	if fn == nil {
		L.Push(lua.LNil)
		return 1
	}
	t := L.CreateTable(0, 13)
	for _, c := range what {
		switch c {
		case 'S':
			src, what, first, last := "=[C]", "C", -1, -1
			if !fn.IsG {
				src, first, last = fn.Proto.SourceName, fn.Proto.LineDefined, fn.Proto.LastLineDefined
				what = "Lua"
				if first == 0 {
					what = "main"
				}
			}
			short := shortSource(src)
			if !fn.IsG {
				// Chunks are compiled under the name Lua shows them by (luaO_chunkid's form, see errors.go):
				// their source is the name that form was made from.
				src, short = chunkSource(src), src
			}
			t.RawSetString("source", lua.LString(src))
			t.RawSetString("short_src", lua.LString(short))
			t.RawSetString("linedefined", lua.LNumber(first))
			t.RawSetString("lastlinedefined", lua.LNumber(last))
			t.RawSetString("what", lua.LString(what))
		case 'l':
			line := -1
			if frame != nil && !fn.IsG {
				d := *frame
				if _, err := th.GetInfo("l", &d, lua.LNil); err == nil && d.CurrentLine > 0 {
					line = d.CurrentLine
				}
			}
			t.RawSetString("currentline", lua.LNumber(line))
		case 'u':
			t.RawSetString("nups", lua.LNumber(len(fn.Upvalues)))
			if fn.IsG {
				t.RawSetString("nparams", lua.LNumber(0))
				t.RawSetString("isvararg", lua.LTrue)
			} else {
				t.RawSetString("nparams", lua.LNumber(fn.Proto.NumParameters))
				t.RawSetString("isvararg", lua.LBool(fn.Proto.IsVarArg != 0))
			}
		case 'n':
			name, namewhat := "", ""
			if frame != nil {
				d := *frame
				if _, err := th.GetInfo("n", &d, lua.LNil); err == nil && d.Name != "" && d.Name != "?" {
					name, namewhat = d.Name, "local"
					if L.G.Global.RawGetString(name) == fn {
						namewhat = "global"
					}
				}
			}
			if name != "" {
				t.RawSetString("name", lua.LString(name))
			}
			t.RawSetString("namewhat", lua.LString(namewhat))
		case 't':
			t.RawSetString("istailcall", lua.LFalse)
		case 'f':
			t.RawSetString("func", fn)
		case 'L':
			if !fn.IsG {
				lines := L.CreateTable(0, len(fn.Proto.DbgSourcePositions))
				for _, line := range fn.Proto.DbgSourcePositions {
					lines.RawSetInt(line, lua.LTrue)
				}
				t.RawSetString("activelines", lines)
			}
		}
	}
	L.Push(t)
	return 1
}

// chunkSource is the chunk name a compiled chunk's shown name (shortSource's form) was made from: the text
// inside [string "..."], or a name given as "=name". A name shortened with "..." keeps its visible part.
func chunkSource(shown string) string {
	if inner, ok := strings.CutPrefix(shown, `[string "`); ok {
		if inner, ok = strings.CutSuffix(inner, `"]`); ok {
			return inner
		}
	}
	return "=" + shown
}

// shortSource is Lua 5.3's luaO_chunkid: how a chunk name is shown in messages (LUA_IDSIZE 60).
func shortSource(src string) string {
	const idSize = 60
	switch {
	case strings.HasPrefix(src, "="):
		return truncate(src[1:], idSize-1)
	case strings.HasPrefix(src, "@"):
		if len(src)-1 <= idSize-1 {
			return src[1:]
		}
		return "..." + src[len(src)-(idSize-1-3):]
	}
	const room = idSize - len(`[string "..."]`) - 1
	line, _, multi := strings.Cut(src, "\n")
	if !multi && len(src) < room {
		return `[string "` + src + `"]`
	}
	return `[string "` + truncate(line, room) + `..."]`
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// levelFrame is the frame of a stack level given to getlocal or setlocal.
func levelFrame(L, th *lua.LState, n int) *lua.Debug {
	level := int(checkInt(L, n))
	if th != L {
		level--
	}
	d, ok := th.GetStack(level)
	if !ok || level < 0 {
		L.ArgError(n, "level out of range")
	}
	return d
}

// dbgGetlocal: for a function, the name of its n-th parameter; for a level, the name and value of the
// n-th local active there.
func dbgGetlocal(L *lua.LState) int {
	th, base := threadArg(L)
	n := int(checkInt(L, base+2))
	if fn, ok := L.Get(base + 1).(*lua.LFunction); ok {
		if !fn.IsG && n >= 1 && n <= int(fn.Proto.NumParameters) && n <= len(fn.Proto.DbgLocals) {
			L.Push(lua.LString(fn.Proto.DbgLocals[n-1].Name))
			return 1
		}
		L.Push(lua.LNil)
		return 1
	}
	d := levelFrame(L, th, base+1)
	name, v := th.GetLocal(d, n)
	if name == "" {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(name))
	L.Push(v)
	return 2
}

func dbgSetlocal(L *lua.LState) int {
	th, base := threadArg(L)
	d := levelFrame(L, th, base+1)
	n := int(checkInt(L, base+2))
	v := L.CheckAny(base + 3)
	if name := th.SetLocal(d, n, v); name != "" {
		L.Push(lua.LString(name))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

func dbgGetmetatable(L *lua.LState) int {
	L.CheckAny(1)
	L.Push(L.GetMetatable(L.Get(1)))
	return 1
}

func dbgSetmetatable(L *lua.LState) int {
	v := L.Get(1)
	switch L.Get(2).(type) {
	case *lua.LNilType, *lua.LTable:
	default:
		L.ArgError(2, "nil or table expected")
	}
	L.SetMetatable(v, L.Get(2))
	L.SetTop(1)
	return 1
}

// upvalueArg is the function and upvalue index of getupvalue and setupvalue; ok is false when the index
// is out of range.
func upvalueArg(L *lua.LState) (fn *lua.LFunction, i int, ok bool) {
	fn = L.CheckFunction(1)
	n := int(checkInt(L, 2))
	return fn, n - 1, n >= 1 && n <= len(fn.Upvalues)
}

// upvalueName is the name 5.3 gives an upvalue: its name for a Lua function, "" for a Go one.
func upvalueName(fn *lua.LFunction, i int) string {
	if fn.IsG || i >= len(fn.Proto.DbgUpvalues) {
		return ""
	}
	return fn.Proto.DbgUpvalues[i]
}

func dbgGetupvalue(L *lua.LState) int {
	fn, i, ok := upvalueArg(L)
	if !ok {
		return 0
	}
	L.Push(lua.LString(upvalueName(fn, i)))
	L.Push(fn.Upvalues[i].Value())
	return 2
}

func dbgSetupvalue(L *lua.LState) int {
	v := L.CheckAny(3)
	fn, i, ok := upvalueArg(L)
	if !ok {
		return 0
	}
	fn.Upvalues[i].SetValue(v)
	L.Push(lua.LString(upvalueName(fn, i)))
	return 1
}

// dbgUpvaluejoin makes upvalue n1 of the Lua function f1 refer to upvalue n2 of f2.
func dbgUpvaluejoin(L *lua.LState) int {
	arg := func(fi, ni int) (*lua.LFunction, int) {
		fn := L.CheckFunction(fi)
		n := int(checkInt(L, ni))
		if fn.IsG {
			L.ArgError(fi, "Lua function expected")
		}
		if n < 1 || n > len(fn.Upvalues) {
			L.ArgError(ni, "invalid upvalue index")
		}
		return fn, n - 1
	}
	f1, i1 := arg(1, 2)
	f2, i2 := arg(3, 4)
	f1.Upvalues[i1] = f2.Upvalues[i2]
	return 0
}

// dbgGetuservalue: processes have no full userdata, so there is no user value.
func dbgGetuservalue(L *lua.LState) int {
	L.Push(lua.LNil)
	return 1
}

func dbgSetuservalue(L *lua.LState) int {
	L.ArgError(1, "userdata expected, got "+L.Get(1).Type().String())
	return 0
}
