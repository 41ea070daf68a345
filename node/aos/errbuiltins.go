package aos

import (
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
	"github.com/aonode/aonode/node/aos/lua53"
)

// Lua 5.3's error, assert, pcall, xpcall and debug.traceback (gopher-lua has 5.1's): error values of any
// type, nil included; positions and levels counted on the 5.3 stack (stack53.go); xpcall passing its extra
// arguments; errors seen, and translated, while their frames are still there.

func installErrorBuiltins(L *lua.LState) {
	initGoFuncs()
	g := L.G.Global
	g.RawSetString("error", L.NewFunction(baseError))
	g.RawSetString("assert", L.NewFunction(baseAssert))
	g.RawSetString("pcall", L.NewClosure(basePcall, L.NewFunction(pcallHandler)))
	g.RawSetString("xpcall", L.NewFunction(baseXpcall))
	g.RawSetString("setmetatable", L.NewFunction(baseSetmetatable))
	g.RawSetString("next", L.NewFunction(baseNext))
	g.RawSetString("pairs", L.NewClosure(basePairs, g.RawGetString("next")))
	dbg := L.CreateTable(0, 1)
	dbg.RawSetString("traceback", L.NewFunction(dbTraceback))
	g.RawSetString("debug", dbg)
	if loaded, ok := L.G.Registry.RawGetString("_LOADED").(*lua.LTable); ok {
		loaded.RawSetString("debug", dbg)
	}
}

// raise raises v as the error, as it is.
func raise(L *lua.LState, v lua.LValue) {
	if s, ok := v.(lua.LString); ok {
		L.Error(s, 0) // level 0: no position added
	}
	L.Error(v, 0)
}

// raiseArgError is luaL_argerror for the Go functions that place their own errors (error, assert): the
// message translateError gives other functions' argument errors.
func raiseArgError(L *lua.LState, n int, extra string) {
	f := luavm.CurrentFrame(L)
	raise(L, lua.LString(callerPosition(f)+argError(L, f, fmt.Sprintf("bad argument #%d to ? (%s)", n, extra))))
}

// baseError is error([message [, level]]): a string message gets the position of the function level levels
// up (1, the default, is error's caller).
func baseError(L *lua.LState) int {
	v := L.Get(1)
	level := 1
	if lv := L.Get(2); lv != lua.LNil {
		n, ok := lua53.ToNumber(lv)
		switch {
		case !ok:
			raiseArgError(L, 2, "number expected, got "+typeName(L, lv))
		case n != float64(int(n)):
			raiseArgError(L, 2, "number has no integer representation")
		}
		level = int(n)
	}
	if s, ok := v.(lua.LString); ok && level > 0 {
		v = lua.LString(where(L, luavm.CurrentFrame(L), level) + string(s))
	}
	raise(L, v)
	return 0
}

// baseAssert is assert(v [, message, ...]): v and the rest when v is true, else error(message) (a missing
// message is "assertion failed!"; a given one, of any type, is the error value).
func baseAssert(L *lua.LState) int {
	if L.GetTop() == 0 {
		raiseArgError(L, 1, "value expected")
	}
	if lua.LVAsBool(L.Get(1)) {
		return L.GetTop()
	}
	var v lua.LValue = lua.LString("assertion failed!")
	if L.GetTop() >= 2 {
		v = L.Get(2)
	}
	if s, ok := v.(lua.LString); ok {
		v = lua.LString(where(L, luavm.CurrentFrame(L), 1) + string(s))
	}
	raise(L, v)
	return 0
}

// basePcall is pcall(f, ...). f runs under an error handler (the upvalue, pcallHandler).
func basePcall(L *lua.LState) int {
	L.CheckAny(1)
	if f, ok := L.Get(1).(*lua.LFunction); ok && !f.IsG && canYieldAcross(L) {
		return pcallInChild(L) // a yield in f can cross this pcall, as in Lua 5.3 (pcall.go)
	}
	return protectedCall(L, L.Get(lua.UpvalueIndex(1)).(*lua.LFunction))
}

// baseXpcall is xpcall(f, msgh, ...): msgh is called with the error, where it happened, and what it
// returns is the error result.
func baseXpcall(L *lua.LState) int {
	msgh := L.CheckFunction(2)
	L.Remove(2)
	return protectedCall(L, L.NewClosure(xpcallHandler, msgh))
}

// protectedCall calls the function at index 1 with the values above it, under handler: true and its
// results, or false and the error.
func protectedCall(L *lua.LState, handler *lua.LFunction) int {
	// Calling a value that cannot be called fails in the call, with no position.
	if fn := L.Get(1); fn.Type() != lua.LTFunction && L.GetMetaField(fn, "__call") == lua.LNil {
		msg := lua.LString("attempt to call a " + typeName(L, fn) + " value")
		L.SetTop(0)
		L.Push(lua.LFalse)
		L.Push(msg)
		charge(L, costCaughtError)
		return 2
	}
	outer := luavm.HasErrorFunc(L)
	err := L.PCall(L.GetTop()-1, lua.MultRet, handler)
	luavm.SetHasErrorFunc(L, outer) // PCall clears it, even inside another PCall's handler
	if err != nil {
		charge(L, costCaughtError)
		var v lua.LValue = lua.LString(err.Error())
		if e, ok := err.(*lua.ApiError); ok {
			v = e.Object
		}
		L.Push(lua.LFalse)
		L.Push(v)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// pcallHandler runs on top of the frames that raised an error in a pcall: it translates the error if no
// main loop did (a Go function pcall called directly raised it), and closes the upvalues of the frames that
// are about to be unwound (gopher-lua leaves them open under an error handler).
func pcallHandler(L *lua.LState) int {
	L.Push(caught(L, L.Get(1)))
	return 1
}

// xpcallHandler is pcallHandler, then the message handler (its upvalue) on the error. As in Lua 5.3, an
// error in the message handler is handled by the message handler again, until the nested calls reach the
// C stack bound: then the error is "error in error handling".
func xpcallHandler(L *lua.LState) int {
	v := caught(L, L.Get(1))
	msgh := L.Get(lua.UpvalueIndex(1))
	depth := cCallsAtStart
	if m, ok := L.Context().(*meter); ok {
		depth = m.cCalls
	}
	for ; depth < maxCCalls+maxCCalls/8; depth++ {
		L.Push(msgh)
		L.Push(v)
		err := L.PCall(1, 1, L.NewFunction(pcallHandler))
		luavm.SetHasErrorFunc(L, true) // still under xpcall's handler
		if err == nil {
			return 1
		}
		charge(L, costCaughtError)
		if e, ok := err.(*lua.ApiError); ok {
			v = e.Object
		} else {
			v = lua.LString(err.Error())
		}
	}
	L.Push(lua.LString("error in error handling"))
	return 1
}

// caught is the handlers' common part.
func caught(L *lua.LState, v lua.LValue) lua.LValue {
	failed := luavm.CurrentFrame(L).Parent() // the frame that raised the error
	translated := false
	f := failed
	for ; f.Valid() && !isProtectedCall(f); f = f.Parent() {
		// an error raised in or under a Lua frame passed through a main loop, which translated it
		translated = translated || f.IsLua()
	}
	if f.Valid() {
		luavm.CloseUpvalues(L, f.LocalBase())
	}
	if !translated {
		v = translateError(L, failed, v)
	}
	return v
}

var pcallPC, xpcallPC uintptr

func isProtectedCall(f luavm.Frame) bool {
	fn := f.Fn()
	if fn == nil || !fn.IsG {
		return false
	}
	pc := goFuncPC(fn.GFunction)
	return pc == pcallPC || pc == xpcallPC
}

func init() {
	pcallPC, xpcallPC = goFuncPC(basePcall), goFuncPC(baseXpcall)
}

// dbTraceback is debug.traceback([thread,] [message [, level]]).
func dbTraceback(L *lua.LState) int {
	th, arg := L, 0
	if co, ok := L.Get(1).(*lua.LState); ok {
		th, arg = co, 1
	}
	mv := L.Get(arg + 1)
	var msg *string
	switch m := mv.(type) {
	case lua.LString:
		s := string(m)
		msg = &s
	case lua.LNumber:
		s := m.String()
		msg = &s
	case *lua.LNilType:
	default:
		L.Push(mv) // a message that is not a string is returned untouched
		return 1
	}
	level := 0
	if th == L {
		level = 1
	}
	if L.GetTop() >= arg+2 && L.Get(arg+2) != lua.LNil {
		level = L.CheckInt(arg + 2)
	}
	L.Push(lua.LString(traceback(L, th, luavm.CurrentFrame(th), msg, level)))
	return 1
}

// baseSetmetatable is Lua 5.3's setmetatable(t, mt): t must be a table, mt nil or a table.
func baseSetmetatable(L *lua.LState) int {
	t := L.CheckTable(1)
	mt := L.Get(2)
	if mt.Type() != lua.LTNil && mt.Type() != lua.LTTable || L.GetTop() < 2 {
		L.ArgError(2, "nil or table expected")
	}
	if L.GetMetaField(t, "__metatable") != lua.LNil {
		L.RaiseError("cannot change a protected metatable")
	}
	L.SetMetatable(t, mt)
	L.SetTop(1)
	return 1
}

// baseNext is next(t [, k]). A k that t does not hold (and did not hold when a traversal passed it) is
// "invalid key to 'next'", as in Lua: gopher-lua's would go on from its first hash key.
func baseNext(L *lua.LState) int {
	t := L.CheckTable(1)
	k := L.Get(2)
	if k != lua.LNil && !nextKeyValid(t, k) {
		L.Error(lua.LString("invalid key to 'next'"), 0) // raised inside luaH_next, a C function: no position
	}
	key, v := t.Next(k)
	if key == lua.LNil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(key)
	L.Push(v)
	return 2
}

// nextKeyValid: k is an index of t's array part or one of its hash keys.
func nextKeyValid(t *lua.LTable, k lua.LValue) bool {
	if n, ok := k.(lua.LNumber); ok {
		if f := float64(n); f == math.Trunc(f) && f >= 1 && f <= float64(len(luavm.TableArray(t))) {
			return true
		}
	}
	return luavm.HasHashKey(t, k)
}

// basePairs is Lua 5.3's pairs(v): v's __pairs metamethod when it has one, else next (the upvalue), v, nil.
func basePairs(L *lua.LState) int { return pairsMeta(L, "__pairs", lua.LNil) }

// pairsMeta is 5.3's pairsmeta, behind pairs and ipairs: v (any value) is given to its metamethod event
// when it has one, which answers the three values; else they are the iterator (the caller's upvalue), v
// and init.
func pairsMeta(L *lua.LState, event string, init lua.LValue) int {
	v := L.CheckAny(1)
	if mm := L.GetMetaField(v, event); mm != lua.LNil {
		L.Push(mm)
		L.Push(v)
		L.Call(1, 3)
		return 3
	}
	L.Push(L.Get(lua.UpvalueIndex(1)))
	L.Push(v)
	L.Push(init)
	return 3
}
