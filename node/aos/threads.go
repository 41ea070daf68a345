package aos

import (
	"context"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// The runtime runs every message in a new coroutine. gopher-lua's coroutine.create makes a whole new
// LState for it (NewThread), and with it a new Global of two preallocated tables that the thread drops at
// once for its creator's: some 10 KB and a dozen allocations per message, a third of what a message
// allocated. Here a coroutine that ran to its end lends its Go-level parts (its data stack, call stack and
// number allocator) to the next coroutine the process creates: the new coroutine is a new LState, a
// distinct value to Lua like any new coroutine, set up exactly as coroutine.create sets one up, and only
// the dead coroutine's internals, which gopher-lua never uses again once a coroutine is dead, are reused.
//
// A coroutine's parts are lent only when nothing can reach them any more through the dead coroutine:
// it returned normally or failed in its base frame (its call stack is empty), none of its upvalues is still
// open (they would point into its data stack), it is no coroutine.wrap coroutine, and it died in the resume
// that gets it (so a dead coroutine whose parts were already lent never lends them again). node/luaclone and
// node/snapshot read nothing of a dead coroutine but Dead, Env and wrapped. The parts are gopher-lua's
// unexported fields, reached through internal/luavm (whose layout check New requires).

// panicWithTraceback is the Panic of a new LState (gopher-lua's unexported panicWithTraceback).
var panicWithTraceback = func() func(*lua.LState) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	return L.Panic
}()

// lendable reports whether the dead coroutine th may lend its parts to a coroutine made by L.
func lendable(L, th *lua.LState) bool {
	return th.Dead && th.Options == L.Options && luavm.ThreadReusable(th)
}

// newThreadFrom is coroutine.create(fn) run by L, made of the parts of the dead coroutine old (lendable),
// under ctx.
func newThreadFrom(L, old *lua.LState, fn *lua.LFunction, ctx context.Context) *lua.LState {
	th := luavm.ReuseThread(old) // its stack overflows are raised on th, as on a new thread
	// What NewThread sets up: the creator's globals, environment and options, a new thread's panic.
	th.G, th.Parent, th.Env, th.Panic, th.Dead, th.Options = L.G, nil, L.Env, panicWithTraceback, false, L.Options
	th.SetTop(0) // an empty data stack, as new
	arm(th, ctx)
	// coroutine.create's start frame: Resume pushes it on a thread that has not started, then refuses to
	// run the thread it is told is running.
	cur := L.G.CurrentThread
	L.G.CurrentThread = th
	L.Resume(th, fn)
	L.G.CurrentThread = cur
	return th
}
