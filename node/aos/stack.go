package aos

import (
	"context"
	"unsafe"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// Stack bounds. gopher-lua runs Lua-to-Lua calls in one Go loop, but every Go-level entry into Lua code
// (pcall, xpcall, coroutine.resume, a metamethod, a Go builtin calling a Lua function) runs a nested main
// loop on the Go stack. Nothing in gopher-lua bounds that nesting below the Go runtime's own 1 GB stack
// limit, which is a fatal error no recover catches: a process could kill the node with `local function
// f() pcall(f) end`. Lua 5.3 bounds the same nesting with LUAI_MAXCCALLS and raises "C stack overflow";
// the runtime does the same, with the same bound, counted per evaluation across every coroutine.
//
// Lua-to-Lua recursion costs no Go stack, so it is allowed as deep as real AOS allows it (Lua 5.3's
// stack of LUAI_MAXSTACK slots holds some 200,000 simple frames): call stacks start small and grow on
// demand, and data stacks grow geometrically (gopher-lua grows them by a fixed step, which makes deep
// recursion quadratic).
const (
	maxCCalls = 200 // LUAI_MAXCCALLS
	// cCallsAtStart is the count a message starts with: real AOS runs a handler 4 levels deeper in nested
	// calls than this runtime does, so user code reaches the bound after as many nested pcalls as there.
	cCallsAtStart = 4

	// maxFrames is the deepest call stack of one thread. The stack is checked every stackCheckEvery
	// instructions and at every nested main loop; stackMargin frames are kept free for what can be
	// pushed between two checks (a call per instruction, Go builtins calling Go builtins with at most a
	// register file of arguments) and for the error handling that follows an overflow.
	maxFrames       = 200_000
	stackMargin     = 1024
	stackCheckEvery = 16 // a power of two

	// maxSlots is the largest data stack of one thread (LUAI_MAXSTACK).
	maxSlots = 1_000_000
	// minSlotGrowth is the smallest growth step of a data stack.
	minSlotGrowth = 64
)

// arm sets the thread to run under the meter ctx, with the nested-call bound.
func arm(th *lua.LState, ctx context.Context) {
	th.SetContext(ctx)
	if _, ok := ctx.(*meter); ok {
		luavm.SetLoop(th, boundedLoop)
	}
}

// boundedLoop is every metered thread's main loop: gopher-lua's, counted.
func boundedLoop(L *lua.LState, base unsafe.Pointer) {
	m, _ := L.Context().(*meter)
	if m == nil {
		luavm.LoopWithContext()(L, base)
		return
	}
	if m.cCalls >= maxCCalls {
		// The frame of the function being entered is already pushed: the error belongs to its caller,
		// as Lua 5.3 raises it before the call. The frame has not run an instruction, which gopher-lua's
		// error path cannot describe (it indexes the line of instruction pc-1): mark it as started.
		luavm.MarkStarted(L)
		L.Error(lua.LString("C stack overflow"), 2)
	}
	m.cCalls++
	if m.loops == nil {
		m.loops = map[*lua.LState]int{}
	}
	m.loops[L]++
	defer func() {
		m.cCalls--
		if m.loops[L]--; m.loops[L] == 0 {
			delete(m.loops, L)
		}
		if r := recover(); r != nil {
			// The error leaves this loop: the frames that raised it are still on the stack, so this is
			// where it gets Lua 5.3's wording (errors.go).
			if e, ok := r.(*lua.ApiError); ok {
				translateRaised(L, m, e)
			}
			panic(r)
		}
	}()

	checkStack(L)
	luavm.LoopWithContext()(L, base)
}

// checkStack grows the thread's call stack ahead of need, raises "stack overflow" past maxFrames, and
// keeps its data stack growing geometrically.
func checkStack(L *lua.LState) {
	used, capacity := luavm.Frames(L)
	if used+stackMargin > capacity {
		if used+stackMargin > maxFrames {
			L.RaiseError("stack overflow")
		}
		luavm.GrowFrames(L, min(max(2*capacity, used+2*stackMargin), maxFrames))
	}
	if _, slots := luavm.Slots(L); luavm.SlotGrowth(L) < slots {
		luavm.SetSlotGrowth(L, max(slots, minSlotGrowth))
	}
}

// threadLoops is how many main loops L runs nested now (0 outside any metered loop). A yield can only
// leave the outermost: gopher-lua resumes a thread in that loop, and a yield out of a nested one (a
// metamethod, a Go builtin calling back into Lua) leaves the Go call below it unfinished.
func threadLoops(L *lua.LState) int {
	if m, ok := L.Context().(*meter); ok {
		return m.loops[L]
	}
	return 0
}
