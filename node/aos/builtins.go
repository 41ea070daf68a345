package aos

import (
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/node/aos/lua53"
)

// regClock is the registry key of the current message's timestamp (ms) the builtins read. Values live in
// Lua (not Go closures) so a forked VM carries its own copy.
const regClock = "__aonode_clock"

// installBuiltins removes what a deterministic process must not have (files, wall clock, unseeded random)
// and adds what AOS code expects from Lua 5.3 that gopher-lua (5.1) lacks.
func installBuiltins(L *lua.LState, env Env) {
	g := L.G.Global
	tbl := g.RawGetString("table").(*lua.LTable)
	tbl.RawSetString("unpack", g.RawGetString("unpack"))
	// Nothing that reaches the host (files, the node's stderr: gopher-lua's _printregs dumps the VM's
	// registers there) and none of Lua 5.1's globals that Lua 5.3, and so real AOS, does not have.
	for _, name := range []string{"dofile", "loadfile", "collectgarbage", "_printregs", "_GOPHER_LUA_VERSION",
		"loadstring", "unpack", "getfenv", "setfenv", "module", "newproxy"} {
		g.RawSetString(name, lua.LNil)
	}
	for lib, names := range map[string][]string{"string": {"gfind"}, "table": {"getn", "maxn"}, "math": {"mod"}} {
		for _, name := range names {
			g.RawGetString(lib).(*lua.LTable).RawSetString(name, lua.LNil)
		}
	}
	installPackage(L)
	g.RawSetString("tostring", L.NewFunction(baseTostring))
	// Every chunk of user code is Lua 5.3 source: load translates it first.
	g.RawSetString("load", L.NewFunction(luaLoad))
	tbl.RawSetString("pack", L.NewFunction(tablePack))

	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	reg.RawSetString(regClock, lua.LNumber(0))

	// math.random is AOS's until the process's first message seeds chance and replaces it (chance.go).
	m := g.RawGetString("math").(*lua.LTable)
	m.RawSetString("random", L.NewFunction(unseededRandom))
	m.RawSetString("randomseed", L.NewFunction(mathRandomSeed))

	os := L.NewTable()
	os.RawSetString("time", L.NewFunction(osTime))
	os.RawSetString("clock", L.NewFunction(osClock))
	os.RawSetString("date", L.NewFunction(osDate53))
	g.RawSetString("os", os)
	installLimitBuiltins(L)
	installBaseBuiltins(L)
	installErrorBuiltins(L)
	installStdlib(L)
}

func setClock(L *lua.LState, ms int64) {
	L.Get(lua.RegistryIndex).(*lua.LTable).RawSetString(regClock, lua.LNumber(ms))
}

func clockMs(L *lua.LState) int64 {
	return int64(lua.LVAsNumber(L.Get(lua.RegistryIndex).(*lua.LTable).RawGetString(regClock)))
}

// luaLoad is Lua 5.3's load(chunk [, chunkname [, mode [, env]]]) for source text: a string chunk is named by
// itself unless a name is given, a function chunk "=(load)"; messages show the name as Lua 5.3 does
// (lua53.ChunkID).
func luaLoad(L *lua.LState) int {
	chunk := L.CheckAny(1)
	var src, name string
	switch c := chunk.(type) {
	case lua.LString, lua.LNumber:
		src = lua.LVAsString(c)
		name = L.OptString(2, src)
	case *lua.LFunction:
		name = L.OptString(2, "=(load)")
		var b strings.Builder
		for {
			L.Push(c)
			L.Call(0, 1)
			piece := L.Get(-1)
			L.Pop(1)
			s, ok := piece.(lua.LString)
			if !ok || s == "" {
				break
			}
			b.WriteString(string(s))
		}
		src = b.String()
	default:
		L.ArgError(1, "string or function expected")
	}
	// Every chunk here is text (there are no binary chunks: string.dump makes none), which a mode without
	// 't' refuses, as lua_load does.
	if mode := L.OptString(3, "bt"); !strings.Contains(mode, "t") {
		L.Push(lua.LNil)
		L.Push(lua.LString("attempt to load a text chunk (mode is '" + mode + "')"))
		return 2
	}
	id := lua53.ChunkID(name)
	code, err := lua53.Translate(src, id)
	var proto *lua.FunctionProto
	if err == nil {
		proto, err = compileChunk(code, id)
	}
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	fn := L.NewFunctionFromProto(proto)
	if env, ok := L.Get(4).(*lua.LTable); ok {
		fn.Env = env
	}
	L.Push(fn)
	return 1
}

func tablePack(L *lua.LState) int {
	n := L.GetTop()
	t := L.CreateTable(n, 1)
	for i := 1; i <= n; i++ {
		t.RawSetInt(i, L.Get(i))
	}
	t.RawSetString("n", lua.LNumber(n))
	L.Push(t)
	return 1
}

// osTime is the message's timestamp in seconds (or the time of a date table), never the wall clock.
func osTime(L *lua.LState) int {
	if t, ok := L.Get(1).(*lua.LTable); ok {
		get := func(k string, def int) int {
			if v, ok := t.RawGetString(k).(lua.LNumber); ok {
				return int(v)
			}
			return def
		}
		tm := time.Date(get("year", 1970), time.Month(get("month", 1)), get("day", 1), get("hour", 12), get("min", 0), get("sec", 0), 0, time.UTC)
		L.Push(lua.LNumber(tm.Unix()))
		return 1
	}
	L.Push(lua.LNumber(clockMs(L) / 1000))
	return 1
}

func osClock(L *lua.LState) int {
	L.Push(lua.LNumber(0))
	return 1
}
