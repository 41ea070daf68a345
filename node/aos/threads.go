package aos

import (
	"context"
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
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
// unexported fields: their offsets are looked up by name and type at start-up, as fields.go does for tables,
// and when the layout is not the expected one coroutines are made by gopher-lua as before.

var threadLayout = func() (l struct {
	ok                                         bool
	currentFrame, uvcache, wrapped, stop       uintptr
	hasErrorFunc, ctxCancelFn, reg, regHandler uintptr
}) {
	t := reflect.TypeOf(lua.LState{})
	want := []string{"G", "Parent", "Env", "Panic", "Dead", "Options", "stop", "reg", "stack", "alloc",
		"currentFrame", "wrapped", "uvcache", "hasErrorFunc", "mainLoop", "ctx", "ctxCancelFn"}
	if t.NumField() != len(want) {
		return l
	}
	for i, name := range want {
		if t.Field(i).Name != name {
			return l
		}
	}
	field := func(name string, kind reflect.Kind) (uintptr, bool) {
		f, ok := t.FieldByName(name)
		return f.Offset, ok && f.Type.Kind() == kind
	}
	var ok [9]bool
	l.currentFrame, ok[0] = field("currentFrame", reflect.Pointer)
	l.uvcache, ok[1] = field("uvcache", reflect.Pointer)
	l.wrapped, ok[2] = field("wrapped", reflect.Bool)
	l.stop, ok[3] = field("stop", reflect.Int32)
	l.hasErrorFunc, ok[4] = field("hasErrorFunc", reflect.Bool)
	l.ctxCancelFn, ok[5] = field("ctxCancelFn", reflect.Func)
	l.reg, ok[6] = field("reg", reflect.Pointer)
	if f, found := t.FieldByName("ctxCancelFn"); !found || f.Type != reflect.TypeOf(context.CancelFunc(nil)) {
		ok[5] = false
	}
	if f, found := t.FieldByName("reg"); found && f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
		h, found := f.Type.Elem().FieldByName("handler")
		l.regHandler, ok[7] = h.Offset, found && h.Type.Kind() == reflect.Interface && h.Type.NumMethod() == 1
		ok[8] = ok[7] && reflect.PointerTo(t).Implements(h.Type)
	}
	l.ok = true
	for _, b := range ok {
		l.ok = l.ok && b
	}
	return l
}()

// panicWithTraceback is the Panic of a new LState (gopher-lua's unexported panicWithTraceback).
var panicWithTraceback = func() func(*lua.LState) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	return L.Panic
}()

// iface is the layout of an interface value.
type iface struct{ tab, data unsafe.Pointer }

func fieldPtr(th *lua.LState, off uintptr) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(th), off) }

// regHandler is the handler word of th's data stack: the LState it raises its overflow errors on.
func regHandler(th *lua.LState) *iface {
	reg := *(*unsafe.Pointer)(fieldPtr(th, threadLayout.reg))
	if reg == nil {
		return nil
	}
	return (*iface)(unsafe.Add(reg, threadLayout.regHandler))
}

// lendable reports whether the dead coroutine th may lend its parts to a coroutine made by L.
func lendable(L, th *lua.LState) bool {
	if !threadLayout.ok || !th.Dead || th.Options != L.Options {
		return false
	}
	if *(*unsafe.Pointer)(fieldPtr(th, threadLayout.currentFrame)) != nil || // frames left: it failed deeper
		*(*unsafe.Pointer)(fieldPtr(th, threadLayout.uvcache)) != nil || // open upvalues into its stack
		*(*bool)(fieldPtr(th, threadLayout.wrapped)) ||
		*(*int32)(fieldPtr(th, threadLayout.stop)) != 0 ||
		*(*bool)(fieldPtr(th, threadLayout.hasErrorFunc)) ||
		*(*context.CancelFunc)(fieldPtr(th, threadLayout.ctxCancelFn)) != nil {
		return false
	}
	h := regHandler(th)
	return h != nil && h.data == unsafe.Pointer(th)
}

// newThreadFrom is coroutine.create(fn) run by L, made of the parts of the dead coroutine old (lendable),
// under ctx.
func newThreadFrom(L, old *lua.LState, fn *lua.LFunction, ctx context.Context) *lua.LState {
	th := new(lua.LState)
	*th = *old
	// What NewThread sets up: the creator's globals, environment and options, a new thread's panic.
	th.G, th.Parent, th.Env, th.Panic, th.Dead, th.Options = L.G, nil, L.Env, panicWithTraceback, false, L.Options
	regHandler(th).data = unsafe.Pointer(th) // stack overflows are raised on th, as on a new thread
	th.SetTop(0)                             // an empty data stack, as new
	arm(th, ctx)
	// coroutine.create's start frame: Resume pushes it on a thread that has not started, then refuses to
	// run the thread it is told is running.
	cur := L.G.CurrentThread
	L.G.CurrentThread = th
	L.Resume(th, fn)
	L.G.CurrentThread = cur
	return th
}
