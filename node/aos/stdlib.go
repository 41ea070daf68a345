package aos

import (
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The parts of Lua 5.3's standard library that real AOS has and gopher-lua (Lua 5.1) lacks or has
// differently: the io, os, debug and bit32 libraries as a process can use them, collectgarbage, dofile,
// loadfile, coroutine.isyieldable and 5.3's coroutine.running, pairs honouring __pairs, _VERSION and _ENV.
//
// Nothing here reaches the host. Where the wasm's answer comes from its virtual machine rather than from the
// host (no file can be opened, no command run, no environment variable set), it is given as the wasm gives
// it; where it would depend on the host or the garbage collector, it is a fixed function of the process's
// own state (see collectgarbage).

// installStdlib adds them to a state's globals; orderGlobals sorts them with the rest afterwards.
func installStdlib(L *lua.LState) {
	g := L.G.Global
	loaded := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
	lib := func(name string, t *lua.LTable) {
		g.RawSetString(name, t)
		loaded.RawSetString(name, t)
	}
	lib("io", newIOLib(L))
	installOS(L, g.RawGetString("os").(*lua.LTable))
	dbg, ok := g.RawGetString("debug").(*lua.LTable)
	if !ok {
		dbg = L.CreateTable(0, 13)
	}
	installDebug(L, dbg)
	lib("debug", dbg)
	lib("bit32", newBit32(L))
	loaded.RawSetString("os", g.RawGetString("os"))

	g.RawSetString("_VERSION", lua.LString("Lua 5.3"))
	// Lua 5.3's _ENV is the chunk's environment upvalue; here it is the globals table under that name, so
	// _ENV.x and _ENV == _G hold (a local _ENV does not change how names resolve). orderGlobals points it
	// at the final globals table.
	g.RawSetString("_ENV", g)
	g.RawSetString("collectgarbage", L.NewFunction(baseCollectGarbage))
	g.RawSetString("dofile", L.NewFunction(baseDofile))
	g.RawSetString("loadfile", L.NewFunction(baseLoadfile))
	installTableLib(L)
	co := g.RawGetString("coroutine").(*lua.LTable)
	co.RawSetString("isyieldable", L.NewFunction(coIsYieldable))
	co.RawSetString("running", L.NewFunction(coRunning))
}

// coIsYieldable: code can yield when it runs in a coroutine (every message runs in one).
func coIsYieldable(L *lua.LState) int {
	L.Push(lua.LBool(L != L.G.MainThread))
	return 1
}

// coRunning is Lua 5.3's coroutine.running: the running coroutine and whether it is the main one.
func coRunning(L *lua.LState) int {
	th := virtualThread(L, L) // a pcall's child answers for the coroutine that called the pcall
	L.Push(th)
	L.Push(lua.LBool(th == L.G.MainThread))
	return 2
}

/* ---- collectgarbage ---- */

// Registry keys of collectgarbage's settings: a process sees the values it set.
const (
	regGCPause   = "__aonode_gcpause"
	regGCStepmul = "__aonode_gcstepmul"
	regGCStopped = "__aonode_gcstopped"
)

// Lua 5.3's defaults (LUAI_GCPAUSE, LUAI_GCMUL).
const gcDefaultPause, gcDefaultStepmul = 200, 200

// baseCollectGarbage is collectgarbage with deterministic answers. "count" is the size of what the process
// can reach, in KB, as the memory limit counts it (memory.go): the same state gives the same number on
// every node, whatever the Go heap does (the wasm answers with its allocator's count, which only its own
// runs reproduce). The walk is charged to the compute limit. A collection frees nothing the process could
// see, so "collect" and "step" do nothing ("step" reports a finished cycle); "stop", "restart",
// "isrunning", "setpause" and "setstepmul" keep and report the process's settings.
func baseCollectGarbage(L *lua.LState) int {
	opt := L.OptString(1, "collect")
	arg := optIntArg(L, 2, 0)
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	setting := func(key string, def float64) lua.LNumber {
		if v, ok := reg.RawGetString(key).(lua.LNumber); ok {
			return v
		}
		return lua.LNumber(def)
	}
	switch opt {
	case "collect", "stop", "restart":
		switch opt {
		case "stop":
			reg.RawSetString(regGCStopped, lua.LTrue)
		case "restart":
			reg.RawSetString(regGCStopped, lua.LNil)
		}
		L.Push(lua.LNumber(0))
	case "count":
		size, objects := measure(L)
		charge(L, objects*walkCostPerObject)
		L.Push(lua.LNumber(float64(size) / 1024))
	case "step":
		// Whether the step ended a collection cycle: Lua's answer depends on its collector's state, which a
		// CU cannot reproduce; false is what a step usually answers (and what real AOS answers in the golden
		// suite).
		L.Push(lua.LFalse)
	case "isrunning":
		L.Push(lua.LBool(reg.RawGetString(regGCStopped) == lua.LNil))
	case "setpause":
		L.Push(setting(regGCPause, gcDefaultPause))
		reg.RawSetString(regGCPause, lua.LNumber(arg))
	case "setstepmul":
		L.Push(setting(regGCStepmul, gcDefaultStepmul))
		reg.RawSetString(regGCStepmul, lua.LNumber(arg))
	default:
		L.ArgError(1, "invalid option '"+opt+"'")
	}
	return 1
}

/* ---- dofile and loadfile: a process has no files ---- */

// noFileText is how the wasm reports a file it cannot open: its file system sets no error number.
const noFileText = "No error information"

// baseDofile: with a name, the error loading it gives (no file exists); without, the chunk on standard
// input, which is empty: it returns nothing.
func baseDofile(L *lua.LState) int {
	if L.Get(1) != lua.LNil {
		L.Error(lua.LString("cannot open "+L.CheckString(1)+": "+noFileText), 0)
	}
	return 0
}

// baseLoadfile: with a name, nil and the error; without, a function for the empty chunk on standard
// input (with env as its environment when given).
func baseLoadfile(L *lua.LState) int {
	if L.Get(1) != lua.LNil {
		L.Push(lua.LNil)
		L.Push(lua.LString("cannot open " + L.CheckString(1) + ": " + noFileText))
		return 2
	}
	fn, err := L.Load(strings.NewReader(""), "=stdin")
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	if env, ok := L.Get(3).(*lua.LTable); ok {
		fn.Env = env
	}
	L.Push(fn)
	return 1
}

/* ---- integer arguments ---- */

// checkInt is luaL_checkinteger: a number (or numeric string) with an exact integer value.
func checkInt(L *lua.LState, n int) int64 {
	f := float64(L.CheckNumber(n))
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		L.ArgError(n, "number has no integer representation")
	}
	return int64(f)
}

// optIntArg is luaL_optinteger.
func optIntArg(L *lua.LState, n int, def int64) int64 {
	if L.Get(n) == lua.LNil {
		return def
	}
	return checkInt(L, n)
}
