package aos

import (
	"reflect"
	"strconv"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// The call stack as Lua 5.3 in real AOS would show it to a process: error(msg, level) positions, the levels
// debug.traceback lists. User code runs on the same frames in both (gopher-lua keeps one frame per call and
// replaces a tail-called frame, as Lua 5.3 does), but below it is the runtime, whose frames differ: AOS runs
// a handle under pcall in Handlers.evaluate, under pcall in the coroutine of process.handle. The frames of
// the runtime functions that call user code (boundaries) are shown as AOS's: fixed frames, the same for
// every message, as the wasm shows them. The error handlers pcall and xpcall install are not shown.

// fixedFrame is a frame of AOS's runtime, as Lua 5.3 describes it.
type fixedFrame struct {
	src  string // short source; "[C]" for a C function
	line int    // current line; 0 for a C function
	name string // how a traceback names it
	tail bool   // it was tail called
}

// The runtime frames under user code, from AOS 2.0.0 (process.wasm): its Handlers.evaluate calls a handle
// in pcall from line 555 (the handle's resolver tail-calls the user's function) and a pattern from line 499
// (through utils.matchesSpec, a tail call); its eval handler calls the chunk from line 27; process.handle
// runs Handlers.evaluate in pcall, in a coroutine made at line 693.
var (
	processCoroutine = fixedFrame{src: `[string ".process"]`, line: 695, name: `function <[string ".process"]:693>`}
	cPcall           = fixedFrame{src: "[C]", name: "function 'pcall'"}
	handleTail       = []fixedFrame{cPcall, {src: `[string ".handlers"]`, line: 555, name: "function '.handlers.evaluate'"}, cPcall, processCoroutine}
	patternTail      = []fixedFrame{{src: `[string ".handlers"]`, line: 499, name: "function '.handlers.evaluate'"}, cPcall, processCoroutine}
	evalTail         = append([]fixedFrame{{src: `[string ".eval"]`, line: 27, name: `function <[string ".eval"]:7>`, tail: true}}, handleTail...)
)

type boundaryKind uint8

const (
	notBoundary boundaryKind = iota
	evaluateBoundary
	evalBoundary
	handleBoundary // process.handle: user code it calls (print, Prompt) has nothing of AOS's below it
)

// boundaries are the prototypes of the runtime functions that call user code. Every state shares the
// runtime's compiled prototypes (compiledRuntime), so they are found once.
var boundaries struct {
	once  sync.Once
	kinds map[*lua.FunctionProto]boundaryKind
}

// findBoundaries records the boundary prototypes of a state that just loaded the runtime.
func findBoundaries(L *lua.LState) {
	boundaries.once.Do(func() {
		kinds := map[*lua.FunctionProto]boundaryKind{}
		loaded, _ := L.G.Registry.RawGetString("_LOADED").(*lua.LTable)
		proto := func(v lua.LValue) *lua.FunctionProto {
			if fn, ok := v.(*lua.LFunction); ok && !fn.IsG {
				return fn.Proto
			}
			return nil
		}
		if loaded != nil {
			if h, ok := loaded.RawGetString(".handlers").(*lua.LTable); ok {
				if p := proto(h.RawGetString("evaluate")); p != nil {
					kinds[p] = evaluateBoundary
				}
			}
			if p, ok := loaded.RawGetString(".process").(*lua.LTable); ok {
				if p := proto(p.RawGetString("handle")); p != nil {
					kinds[p] = handleBoundary
				}
			}
			// .eval is the evaluator factory; the function it returns runs the chunk
			if p := proto(loaded.RawGetString(".eval")); p != nil && len(p.FunctionPrototypes) == 1 {
				kinds[p.FunctionPrototypes[0]] = evalBoundary
			}
		}
		boundaries.kinds = kinds
	})
}

func boundaryOf(f luavm.Frame) boundaryKind {
	if !f.IsLua() {
		return notBoundary
	}
	return boundaries.kinds[f.Fn().Proto]
}

// Go functions whose frames are not shown (the error handlers of pcall and xpcall), and those that place
// their errors themselves (error, assert, a coroutine.wrap function).
var (
	hiddenFuncs, selfPositioned map[uintptr]bool
	goFuncsOnce                 sync.Once
)

func goFuncPC(fn lua.LGFunction) uintptr { return reflect.ValueOf(fn).Pointer() }

func initGoFuncs() {
	goFuncsOnce.Do(func() {
		hiddenFuncs = map[uintptr]bool{goFuncPC(pcallHandler): true, goFuncPC(xpcallHandler): true}
		selfPositioned = map[uintptr]bool{goFuncPC(baseError): true, goFuncPC(baseAssert): true,
			goFuncPC(coWrapAux): true}
	})
}

func isHidden(f luavm.Frame) bool {
	fn := f.Fn()
	return fn != nil && fn.IsG && hiddenFuncs[goFuncPC(fn.GFunction)]
}

func isSelfPositioned(fn *lua.LFunction) bool {
	return fn.IsG && selfPositioned[goFuncPC(fn.GFunction)]
}

// vframe is one level of the 5.3 stack: a gopher-lua frame, or a fixed frame of AOS's runtime.
type vframe struct {
	f     luavm.Frame
	fixed *fixedFrame
	tail  bool // shown as tail called although gopher-lua called it (a pattern, see patternTail)
}

// stackWalk visits the 5.3 stack from a frame of thread th outwards (L is the running thread).
type stackWalk struct {
	L, th *lua.LState
	next  luavm.Frame
	fixed []fixedFrame
}

func walkFrom(L, th *lua.LState, f luavm.Frame) *stackWalk { return &stackWalk{L: L, th: th, next: f} }

// visible is f or the first frame below it that is shown.
func visible(f luavm.Frame) luavm.Frame {
	for f.Valid() && isHidden(f) {
		f = f.Parent()
	}
	return f
}

func (w *stackWalk) step() (vframe, bool) {
	if len(w.fixed) > 0 {
		ff := &w.fixed[0]
		w.fixed = w.fixed[1:]
		return vframe{fixed: ff}, true
	}
	f := visible(w.next)
	if !f.Valid() {
		// The bottom of a pcall's child (pcall.go) is not the bottom in Lua 5.3, where the function runs on
		// the coroutine that called pcall: the walk goes on there, through pcall's level. On the pcall's
		// first run that coroutine is inside the pcall (its Go frame); resumed later, that frame is gone
		// (the coroutine yielded from it), and a C level stands for it.
		owner := pcallParent(w.L, w.th)
		if owner == nil {
			return vframe{}, false
		}
		w.th, w.next = owner, luavm.CurrentFrame(owner)
		if w.next.Valid() && isProtectedCall(w.next) {
			return w.step()
		}
		return vframe{fixed: &cPcall}, true
	}
	if boundaryOf(f) != notBoundary {
		return vframe{}, false
	}
	v := vframe{f: f}
	below := visible(f.Parent())
	w.next = below
	switch boundaryOf(below) {
	case evaluateBoundary:
		if f.TailCall() > 0 {
			w.fixed = handleTail
		} else {
			w.fixed, v.tail = patternTail, true
		}
		w.next = luavm.Frame{}
	case evalBoundary:
		w.fixed, w.next = evalTail, luavm.Frame{}
	case handleBoundary:
		w.next = luavm.Frame{}
	}
	return v, true
}

// level is the frame n levels below f (level 0 is f itself), as lua_getstack counts.
func level(L *lua.LState, f luavm.Frame, n int) (vframe, bool) {
	w := walkFrom(L, L, f)
	steps := 0
	defer func() { chargeFrames(L, steps) }()
	for {
		v, ok := w.step()
		if !ok || n == 0 {
			return v, ok
		}
		n--
		steps++
	}
}

// where is luaL_where: "chunk:line: " of the frame n levels below f when it runs Lua code, else "".
func where(L *lua.LState, f luavm.Frame, n int) string {
	v, ok := level(L, f, n)
	if !ok {
		return ""
	}
	if v.fixed != nil {
		if v.fixed.line > 0 {
			return v.fixed.src + ":" + strconv.Itoa(v.fixed.line) + ": "
		}
		return ""
	}
	if v.f.IsLua() {
		return position(v.f)
	}
	return ""
}

// Lua 5.3's traceback shows the first tracebackHead levels and the last tracebackTail of a longer stack.
const (
	tracebackHead = 10
	tracebackTail = 11
)

// traceback is luaL_traceback of the stack from frame f, starting n levels below it.
func traceback(L, th *lua.LState, f luavm.Frame, msg *string, n int) string {
	// First count the levels (to know which are shown), then write those.
	total := 0
	for w := walkFrom(L, th, f); ; total++ {
		if _, ok := w.step(); !ok {
			break
		}
	}
	chargeFrames(L, 2*total)
	var b strings.Builder
	if msg != nil {
		b.WriteString(*msg)
		b.WriteByte('\n')
	}
	b.WriteString("stack traceback:")
	if n < 0 { // lua_getstack has no negative levels
		return b.String()
	}
	skipFrom, skipTo := total, total // levels [skipFrom, skipTo) are shown as "..."
	if total-n > tracebackHead+tracebackTail {
		skipFrom, skipTo = n+tracebackHead, total-tracebackTail
	}
	w := walkFrom(L, th, f)
	for i := 0; i < total; i++ {
		v, _ := w.step()
		switch {
		case i < n:
		case i == skipFrom && skipFrom < skipTo:
			b.WriteString("\n\t...")
		case i > skipFrom && i < skipTo:
		default:
			writeLevel(&b, L, v)
		}
	}
	return b.String()
}

func writeLevel(b *strings.Builder, L *lua.LState, v vframe) {
	b.WriteString("\n\t")
	if v.fixed != nil {
		b.WriteString(v.fixed.src)
		b.WriteByte(':')
		if v.fixed.line > 0 {
			b.WriteString(strconv.Itoa(v.fixed.line))
			b.WriteByte(':')
		}
		b.WriteString(" in ")
		b.WriteString(v.fixed.name)
		if v.fixed.tail {
			b.WriteString("\n\t(...tail calls...)")
		}
		return
	}
	f := v.f
	if f.IsLua() {
		pos := position(f) // "src:line: "
		if pos == "" {
			pos = f.Fn().Proto.SourceName + ": "
		}
		b.WriteString(strings.TrimSuffix(pos, " "))
	} else {
		b.WriteString("[C]:")
	}
	b.WriteString(" in ")
	b.WriteString(funcDescription(L, v))
	if v.tail || f.TailCall() > 0 {
		b.WriteString("\n\t(...tail calls...)")
	}
}

// funcDescription is lauxlib's pushfuncname for a gopher-lua frame.
func funcDescription(L *lua.LState, v vframe) string {
	f := v.f
	if name := globalFuncName(L, f.Fn()); name != "" {
		return "function '" + name + "'"
	}
	if !v.tail {
		steps := 0
		kind, name := frameName(f, &steps)
		chargeSteps(L, steps)
		if kind != "" {
			return kind + " '" + name + "'"
		}
	}
	if f.IsLua() {
		p := f.Fn().Proto
		if p.LineDefined == 0 {
			return "main chunk"
		}
		return "function <" + p.SourceName + ":" + strconv.Itoa(p.LineDefined) + ">"
	}
	return "?"
}
