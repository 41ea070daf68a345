package aos

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// Lua 5.3 lets a coroutine yield across pcall: a handler may wrap a Receive in one. gopher-lua's pcall is a
// Go call, which a yield cannot cross. So a pcall that could yield (in a coroutine, from Lua code alone) runs
// its Lua function in a coroutine of its own, its child:
//
//   - the child ends at once (the common case): pcall returns what it ended with, true and its results or
//     false and its error, as a plain pcall would;
//   - the child yields: pcall yields its own coroutine with the same values, and records the child as
//     pending. Resuming the coroutine resumes the child instead (coResumeMetered), with the values; when
//     the child ends, the coroutine itself resumes with pcall's results, right after its call of pcall.
//
// The child is invisible: coroutine.running in it answers the coroutine that called pcall, which
// coroutine.status calls "running"; error levels and tracebacks go on below it into that coroutine's
// frames, through a "[C]: in function 'pcall'" level (stack53.go). Both links live in the registry, so a
// coroutine suspended in a pcall is snapshotted and forked like any suspended coroutine.

// Registry keys of the links: the pcall parent of each live child, and the child each suspended coroutine
// waits on.
const (
	regPcallParent  = "__aonode_pcall_parent"
	regPcallPending = "__aonode_pcall_pending"
)

// costPcallCoroutine is the compute charge of a pcall's child coroutine (a reused thread: some 2 us).
const costPcallCoroutine = 100

// pcallLink is the registry table under key, made when asked to.
func pcallLink(L *lua.LState, key string, make bool) *lua.LTable {
	reg := L.G.Registry
	if t, ok := reg.RawGetString(key).(*lua.LTable); ok {
		return t
	}
	if !make {
		return nil
	}
	t := L.CreateTable(0, 1)
	reg.RawSetString(key, t)
	return t
}

// pcallParent is the coroutine that called the pcall whose child th is, or nil.
func pcallParent(L, th *lua.LState) *lua.LState {
	if t := pcallLink(L, regPcallParent, false); t != nil {
		p, _ := t.RawGet(th).(*lua.LState)
		return p
	}
	return nil
}

// pcallPending is the child the suspended coroutine th waits on, or nil.
func pcallPending(L, th *lua.LState) *lua.LState {
	if t := pcallLink(L, regPcallPending, false); t != nil {
		c, _ := t.RawGet(th).(*lua.LState)
		return c
	}
	return nil
}

// virtualThread is th as Lua 5.3 would see it: a pcall's child is the coroutine that called the pcall.
func virtualThread(L, th *lua.LState) *lua.LState {
	for {
		p := pcallParent(L, th)
		if p == nil {
			return th
		}
		th = p
	}
}

// canYieldAcross reports whether the running coroutine could yield from a pcall called now: it is a
// coroutine, not under a Go-level protected call nor in a nested main loop (a metamethod), and nothing but
// Lua code is between its base and the pcall (a Go builtin calling back into Lua, such as table.sort's
// comparator, cannot be suspended).
func canYieldAcross(L *lua.LState) bool {
	if L == L.G.MainThread || L.Parent == nil || luavm.HasErrorFunc(L) || threadLoops(L) > 1 {
		return false
	}
	if _, metered := L.Context().(*meter); metered {
		// A Go function below a running Lua frame got there by calling back into Lua, which opened a
		// nested main loop, and the meter counts those: one loop means only Lua code is below.
		return true
	}
	f := luavm.CurrentFrame(L) // pcall's own frame
	if !f.Valid() {
		return false
	}
	steps := 0
	defer func() { chargeFrames(L, steps) }() // a pcall under a deep recursion walks far
	for f = f.Parent(); f.Valid(); f = f.Parent() {
		steps++
		if !f.IsLua() {
			return false
		}
	}
	return true
}

// pcallInChild is pcall(f, ...) with f run in a child coroutine; the stack holds f and its arguments.
func pcallInChild(L *lua.LState) int {
	coCreateCharged(L, costPcallCoroutine) // pushes the child, made from the function at 1
	th := L.Get(-1).(*lua.LState)
	L.Pop(1)
	pcallLink(L, regPcallParent, true).RawSet(th, L)
	L.Replace(1, th)
	return pcallStep(L, L, th, coResumeMetered(L))
}

// pcallStep ends a run of the child th of owner's pcall, whose n results (true and values, or false and an
// error) are on top of L's stack: when the child ended they are pcall's results; when it yielded, owner
// waits on it. L is owner itself on the pcall's first run, the resumer afterwards.
func pcallStep(L, owner, th *lua.LState, n int) int {
	if !th.Dead {
		pcallLink(L, regPcallPending, true).RawSet(owner, th)
		if L == owner {
			// Yield with the child's values (without resume's leading true): all that is on the stack.
			for _, v := range takeTop(L, n)[1:] {
				L.Push(v)
			}
			return -1
		}
		return n // the resumer sees owner yield what the child yielded
	}
	unlink(L, regPcallParent, th)
	if p := pcallLink(L, regPcallPending, false); p != nil && p.RawGet(owner) == lua.LValue(th) {
		unlink(L, regPcallPending, owner)
	}
	if L == owner {
		return n // pcall's results
	}
	vals := takeTop(L, n)
	if !luavm.CurrentFrame(owner).Valid() {
		// owner's main function tail-called the pcall (return pcall(f)): gopher-lua dropped that frame when
		// the pcall yielded, so owner ends here, returning pcall's results.
		owner.Dead = true
		L.Push(lua.LTrue)
		for _, v := range vals {
			L.Push(v)
		}
		return len(vals) + 1
	}
	// Resume owner with pcall's results, after its call of pcall.
	L.Push(owner)
	for _, v := range vals {
		L.Push(v)
	}
	return coResumeMetered(L)
}

// takeTop empties L's stack and returns its top n values, bottom first.
func takeTop(L *lua.LState, n int) []lua.LValue {
	vals := make([]lua.LValue, 0, n)
	for i := L.GetTop() - n + 1; i <= L.GetTop(); i++ {
		vals = append(vals, L.Get(i))
	}
	L.SetTop(0)
	return vals
}

// resumePending resumes the child that the suspended coroutine owner waits on, with the arguments of a
// resume of owner (L's stack: owner, then the arguments).
func resumePending(L, owner, th *lua.LState) int {
	L.Replace(1, th)
	return pcallStep(L, owner, th, coResumeMetered(L))
}

// unlink deletes th's entry from the link table key. A link table keeps no deleted keys (no Lua code can
// walk it): an emptied one leaves the registry, another is compacted.
func unlink(L *lua.LState, key string, th *lua.LState) {
	t := pcallLink(L, key, false)
	if t == nil {
		return
	}
	t.RawSet(th, lua.LNil)
	if k, _ := t.Next(lua.LNil); k == lua.LNil {
		L.G.Registry.RawSetString(key, lua.LNil)
		return
	}
	luavm.CompactKeys(t)
}
