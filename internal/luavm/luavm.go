// Package luavm is the one place that reaches into gopher-lua's unexported state: the main loop of a
// thread, its call-frame stack and its data stack (registry), which aonode needs to bound what a process
// can do to the node (nested Go-level calls, stack growth) and to read the instruction being executed;
// and the parts of tables, globals, coroutines and prototypes that node/aos, node/luaclone and
// node/snapshot build, copy and serialize (parts.go). It also names what a compiled state depends on
// (build.go: the gopher-lua module, the bytecode format) and the Go functions a runtime installs
// (builtins.go: a registry by stable name, so that nothing is ever restored by code address).
//
// Every offset is resolved once, by name and type, from the gopher-lua build this binary links; Check
// reports the first mismatch. Callers must refuse to run processes when Check fails: a wrong offset
// would corrupt memory, and silently running without the bounds would let one process crash the node.
package luavm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// FramesPerSegment is gopher-lua's call-stack segment size (lua.FramesPerSegment).
const FramesPerSegment = lua.FramesPerSegment

// LoopFunc is a thread's main loop: gopher-lua calls it with the frame it must run until (nil for a
// coroutine's first resume), for every Go-level entry into Lua code (Call, PCall, Resume, metamethods).
// The frame is opaque here.
type LoopFunc func(L *lua.LState, baseframe unsafe.Pointer)

var layout struct {
	err error

	// LState
	mainLoop, stack, reg, currentFrame uintptr
	uvcache, hasErrorFunc              uintptr
	// Upvalue
	uvNext, uvIndex uintptr
	// *autoGrowingCallFrameStack
	segments, segIdx, segSp uintptr
	segmentSize             uintptr // bytes of one segment
	// *registry
	regArray, regTop, regGrowBy, regMaxSize uintptr
	// callFrame
	cfFn, cfPc, cfLocalBase, cfParent uintptr
	cfBase, cfNArgs, cfTailCall       uintptr
	cfReturnBase                      uintptr
	cfSize                            uintptr

	// LTable
	tArray, tKeys, tDict, tStrdict, tK2i uintptr

	// the main loop gopher-lua runs a thread with while it has a context
	loopWithContext LoopFunc
	// the interface table of the auto-growing call stack
	growingStack unsafe.Pointer
}

func init() {
	layout.err = resolve()
	if layout.err == nil {
		layout.err = resolveParts()
	}
}

// Check reports whether this gopher-lua build has the layout aonode was written against, naming the first
// difference. It is the one layout check: aonode refuses to start, and the runtime to make a state, when
// it fails (nothing falls back to a slower or partial path).
func Check() error { return layout.err }

func resolve() error {
	st := reflect.TypeOf(lua.LState{})
	field := func(t reflect.Type, name string, kind reflect.Kind) (uintptr, error) {
		f, ok := t.FieldByName(name)
		if !ok {
			return 0, fmt.Errorf("gopher-lua %s has no field %s", t.Name(), name)
		}
		if f.Type.Kind() != kind {
			return 0, fmt.Errorf("gopher-lua %s.%s is a %s, want %s", t.Name(), name, f.Type.Kind(), kind)
		}
		return f.Offset, nil
	}
	var err error
	must := func(off *uintptr, t reflect.Type, name string, kind reflect.Kind) {
		if err != nil {
			return
		}
		*off, err = field(t, name, kind)
	}
	must(&layout.mainLoop, st, "mainLoop", reflect.Func)
	must(&layout.stack, st, "stack", reflect.Interface)
	must(&layout.reg, st, "reg", reflect.Pointer)
	must(&layout.currentFrame, st, "currentFrame", reflect.Pointer)
	must(&layout.uvcache, st, "uvcache", reflect.Pointer)
	must(&layout.hasErrorFunc, st, "hasErrorFunc", reflect.Bool)
	if err != nil {
		return err
	}
	if f, _ := st.FieldByName("uvcache"); f.Type != reflect.TypeOf((*lua.Upvalue)(nil)) {
		return errors.New("gopher-lua LState.uvcache is not an *Upvalue")
	}
	uvt := reflect.TypeOf(lua.Upvalue{})
	must(&layout.uvNext, uvt, "next", reflect.Pointer)
	must(&layout.uvIndex, uvt, "index", reflect.Int)
	if err != nil {
		return err
	}
	if f, _ := uvt.FieldByName("next"); f.Type != reflect.TypeOf((*lua.Upvalue)(nil)) {
		return errors.New("gopher-lua Upvalue.next is not an *Upvalue")
	}
	if f, _ := st.FieldByName("mainLoop"); f.Type.NumIn() != 2 || f.Type.In(0) != reflect.TypeOf((*lua.LState)(nil)) ||
		f.Type.In(1).Kind() != reflect.Pointer || f.Type.NumOut() != 0 {
		return errors.New("gopher-lua LState.mainLoop has an unexpected signature")
	}
	cf, _ := st.FieldByName("currentFrame")
	cft := cf.Type.Elem()
	if f, _ := st.FieldByName("mainLoop"); f.Type.In(1).Elem() != cft {
		return errors.New("gopher-lua main loop does not take a *callFrame")
	}
	must(&layout.cfFn, cft, "Fn", reflect.Pointer)
	must(&layout.cfPc, cft, "Pc", reflect.Int)
	must(&layout.cfLocalBase, cft, "LocalBase", reflect.Int)
	must(&layout.cfParent, cft, "Parent", reflect.Pointer)
	must(&layout.cfBase, cft, "Base", reflect.Int)
	must(&layout.cfNArgs, cft, "NArgs", reflect.Int)
	must(&layout.cfTailCall, cft, "TailCall", reflect.Int)
	must(&layout.cfReturnBase, cft, "ReturnBase", reflect.Int)
	layout.cfSize = cft.Size()
	if f, _ := cft.FieldByName("Parent"); err == nil && f.Type != cf.Type {
		err = errors.New("gopher-lua callFrame.Parent is not a *callFrame")
	}
	if f, _ := cft.FieldByName("Fn"); err == nil && f.Type != reflect.TypeOf((*lua.LFunction)(nil)) {
		err = errors.New("gopher-lua callFrame.Fn is not a *LFunction")
	}

	rf, _ := st.FieldByName("reg")
	rt := rf.Type.Elem()
	must(&layout.regArray, rt, "array", reflect.Slice)
	must(&layout.regTop, rt, "top", reflect.Int)
	must(&layout.regGrowBy, rt, "growBy", reflect.Int)
	must(&layout.regMaxSize, rt, "maxSize", reflect.Int)
	if err != nil {
		return err
	}
	if f, _ := rt.FieldByName("array"); f.Type.Elem() != reflect.TypeOf((*lua.LValue)(nil)).Elem() {
		return errors.New("gopher-lua registry.array is not a []LValue")
	}

	// The auto-growing call stack (Options.MinimizeStackMemory), the one aonode's states use.
	L := lua.NewState(lua.Options{SkipOpenLibs: true, MinimizeStackMemory: true, CallStackSize: 16})
	defer L.Close()
	sv := reflect.ValueOf(L).Elem().FieldByIndex(mustIndex(st, "stack"))
	if sv.IsNil() || sv.Elem().Kind() != reflect.Pointer {
		return errors.New("gopher-lua call stack is not a pointer")
	}
	gt := sv.Elem().Type().Elem()
	must(&layout.segments, gt, "segments", reflect.Slice)
	must(&layout.segIdx, gt, "segIdx", reflect.Uint16)
	must(&layout.segSp, gt, "segSp", reflect.Uint8)
	if err != nil {
		return err
	}
	sf, _ := gt.FieldByName("segments")
	seg := sf.Type.Elem()
	if seg.Kind() != reflect.Pointer || seg.Elem().Kind() != reflect.Struct || seg.Elem().NumField() != 1 ||
		seg.Elem().Field(0).Type.Kind() != reflect.Array || seg.Elem().Field(0).Type.Len() != FramesPerSegment ||
		seg.Elem().Field(0).Type.Elem() != cft {
		return errors.New("gopher-lua call stack segments have an unexpected layout")
	}
	layout.segmentSize = seg.Elem().Size()
	layout.growingStack = (*iface)(at(L, layout.stack)).tab

	tt := reflect.TypeOf(lua.LTable{})
	must(&layout.tArray, tt, "array", reflect.Slice)
	must(&layout.tKeys, tt, "keys", reflect.Slice)
	must(&layout.tDict, tt, "dict", reflect.Map)
	must(&layout.tStrdict, tt, "strdict", reflect.Map)
	must(&layout.tK2i, tt, "k2i", reflect.Map)
	if err == nil {
		for name, want := range map[string]any{"dict": map[lua.LValue]lua.LValue(nil), "strdict": map[string]lua.LValue(nil), "k2i": map[lua.LValue]int(nil)} {
			if f, _ := tt.FieldByName(name); f.Type != reflect.TypeOf(want) {
				err = fmt.Errorf("gopher-lua LTable.%s has type %s", name, f.Type)
			}
		}
	}
	if err != nil {
		return err
	}
	for _, name := range []string{"array", "keys"} {
		if f, _ := tt.FieldByName(name); f.Type.Elem() != reflect.TypeOf((*lua.LValue)(nil)).Elem() {
			return fmt.Errorf("gopher-lua LTable.%s is not a []LValue", name)
		}
	}

	if err := checkInstructions(); err != nil {
		return err
	}

	L.SetContext(context.Background())
	layout.loopWithContext = loopOf(L)
	L.RemoveContext()
	if layout.loopWithContext == nil {
		return errors.New("gopher-lua has no main loop with context")
	}
	return nil
}

func mustIndex(t reflect.Type, name string) []int {
	f, _ := t.FieldByName(name)
	return f.Index
}

func at(L *lua.LState, off uintptr) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(L), off) }

func loopOf(L *lua.LState) LoopFunc { return *(*LoopFunc)(at(L, layout.mainLoop)) }

// LoopWithContext is the main loop gopher-lua gives a thread that has a context (SetContext).
func LoopWithContext() LoopFunc { return layout.loopWithContext }

// SetLoop makes f the thread's main loop. gopher-lua replaces it on every SetContext and RemoveContext.
func SetLoop(L *lua.LState, f LoopFunc) { *(*LoopFunc)(at(L, layout.mainLoop)) = f }

type iface struct{ tab, data unsafe.Pointer }

// callStack is the thread's auto-growing call stack (nil when it has a fixed one).
func callStack(L *lua.LState) unsafe.Pointer {
	i := (*iface)(at(L, layout.stack))
	if i.tab != layout.growingStack {
		return nil
	}
	return i.data
}

// Frames is the number of call frames in use, and the number the stack can hold before it must grow.
func Frames(L *lua.LState) (used, capacity int) {
	cs := callStack(L)
	if cs == nil {
		return 0, 0
	}
	segs := *(*[]unsafe.Pointer)(unsafe.Add(cs, layout.segments))
	idx := *(*uint16)(unsafe.Add(cs, layout.segIdx))
	sp := *(*uint8)(unsafe.Add(cs, layout.segSp))
	return int(idx)*FramesPerSegment + int(sp), len(segs) * FramesPerSegment
}

// MaxFrames is the most frames an auto-growing call stack can index (its segment index is 16 bits).
const MaxFrames = (1<<16 - 1) * FramesPerSegment

// GrowFrames lets the call stack hold at least n frames (up to MaxFrames). The frames themselves stay
// where they are (segments are separate allocations): only the index of segments is reallocated.
func GrowFrames(L *lua.LState, n int) {
	cs := callStack(L)
	if cs == nil {
		return
	}
	n = min(n, MaxFrames)
	p := (*[]unsafe.Pointer)(unsafe.Add(cs, layout.segments))
	want := (n + FramesPerSegment - 1) / FramesPerSegment
	if want <= len(*p) {
		return
	}
	grown := make([]unsafe.Pointer, want)
	copy(grown, *p)
	*p = grown
}

// registry returns the thread's data stack.
func registry(L *lua.LState) unsafe.Pointer { return *(*unsafe.Pointer)(at(L, layout.reg)) }

// Slots is the thread's data stack: slots in use, and allocated.
func Slots(L *lua.LState) (top, capacity int) {
	r := registry(L)
	if r == nil {
		return 0, 0
	}
	return *(*int)(unsafe.Add(r, layout.regTop)), cap(*(*[]lua.LValue)(unsafe.Add(r, layout.regArray)))
}

// SetSlotGrowth sets how many slots the data stack adds when it must grow (gopher-lua adds a fixed step;
// raising it as the stack grows makes growth geometric instead of quadratic).
func SetSlotGrowth(L *lua.LState, step int) {
	if r := registry(L); r != nil {
		*(*int)(unsafe.Add(r, layout.regGrowBy)) = step
	}
}

// SlotGrowth is the current growth step of the data stack.
func SlotGrowth(L *lua.LState) int {
	if r := registry(L); r == nil {
		return 0
	} else {
		return *(*int)(unsafe.Add(r, layout.regGrowBy))
	}
}

// Register returns slot i of the thread's data stack (absolute index), or nil past its top.
func Register(L *lua.LState, i int) lua.LValue {
	r := registry(L)
	if r == nil || i < 0 || i >= *(*int)(unsafe.Add(r, layout.regTop)) {
		return nil
	}
	return (*(*[]lua.LValue)(unsafe.Add(r, layout.regArray)))[i]
}

// Instruction is the instruction the thread's current Lua frame is executing (gopher-lua advances the
// program counter before it runs an instruction), its function's prototype and the frame's first
// register. ok is false when the current frame is a Go function or there is none.
func Instruction(L *lua.LState) (inst uint32, proto *lua.FunctionProto, localBase int, ok bool) {
	cf := *(*unsafe.Pointer)(at(L, layout.currentFrame))
	if cf == nil {
		return 0, nil, 0, false
	}
	fn := *(**lua.LFunction)(unsafe.Add(cf, layout.cfFn))
	if fn == nil || fn.IsG || fn.Proto == nil {
		return 0, nil, 0, false
	}
	pc := *(*int)(unsafe.Add(cf, layout.cfPc)) - 1
	if pc < 0 || pc >= len(fn.Proto.Code) {
		return 0, nil, 0, false
	}
	return fn.Proto.Code[pc], fn.Proto, *(*int)(unsafe.Add(cf, layout.cfLocalBase)), true
}

// MarkStarted makes the thread's current Lua frame look as if it had run its first instruction, so that an
// error raised before it runs can be located: gopher-lua's error path reads the line of instruction pc-1
// of every frame.
func MarkStarted(L *lua.LState) {
	cf := *(*unsafe.Pointer)(at(L, layout.currentFrame))
	if cf == nil {
		return
	}
	fn := *(**lua.LFunction)(unsafe.Add(cf, layout.cfFn))
	if fn == nil || fn.IsG || fn.Proto == nil || len(fn.Proto.Code) == 0 {
		return
	}
	if pc := (*int)(unsafe.Add(cf, layout.cfPc)); *pc == 0 {
		*pc = 1
	}
}

// Stack is the thread's data stack up to its top (a view: do not keep it).
func Stack(L *lua.LState) []lua.LValue {
	r := registry(L)
	if r == nil {
		return nil
	}
	top := *(*int)(unsafe.Add(r, layout.regTop))
	arr := *(*[]lua.LValue)(unsafe.Add(r, layout.regArray))
	return arr[:min(top, len(arr))]
}

// EachFrameFunction calls fn with the function of every call frame in use on the thread's call stack.
func EachFrameFunction(L *lua.LState, fn func(*lua.LFunction)) {
	cs := callStack(L)
	if cs == nil {
		return
	}
	used, _ := Frames(L)
	segs := *(*[]unsafe.Pointer)(unsafe.Add(cs, layout.segments))
	for i := 0; i < used; i++ {
		seg := segs[i/FramesPerSegment]
		if seg == nil {
			return
		}
		cf := unsafe.Add(seg, uintptr(i%FramesPerSegment)*layout.cfSize)
		if f := *(**lua.LFunction)(unsafe.Add(cf, layout.cfFn)); f != nil {
			fn(f)
		}
	}
}

// Opcodes and argument fields of gopher-lua's instructions (its opcode.go: 6-bit opcode, then A (8 bits),
// C (9) and B (9); Bx is the low 18 bits).
func Op(inst uint32) int { return int(inst >> 26) }
func A(inst uint32) int  { return int(inst>>18) & 0xff }
func B(inst uint32) int  { return int(inst & 0x1ff) }
func C(inst uint32) int  { return int(inst>>9) & 0x1ff }
func Bx(inst uint32) int { return int(inst & 0x3ffff) }

// SBx is the signed Bx of a jump.
func SBx(inst uint32) int { return Bx(inst) - 0x3ffff>>1 }

// checkInstructions compiles a chunk whose instructions are known and decodes them as Op/A/B/C say.
func checkInstructions() error {
	chunk, err := parse.Parse(strings.NewReader("local a, b = ... local t = {1, 2, 3, x = 1} local s = a .. b"), "check")
	if err != nil {
		return fmt.Errorf("compile check chunk: %w", err)
	}
	proto, err := lua.Compile(chunk, "check")
	if err != nil {
		return fmt.Errorf("compile check chunk: %w", err)
	}
	var newTable, concat bool
	for _, inst := range proto.Code {
		switch Op(inst) {
		case lua.OP_NEWTABLE:
			newTable = B(inst) == 3 && C(inst) == 1
		case lua.OP_CONCAT:
			concat = C(inst) == B(inst)+1
		}
	}
	if !newTable || !concat {
		return errors.New("gopher-lua instructions are not encoded as expected")
	}
	return nil
}

// TableArray is the table's array part (keys 1..n, nil where a key has no value): a view, do not keep it.
func TableArray(t *lua.LTable) []lua.LValue {
	return *(*[]lua.LValue)(unsafe.Add(unsafe.Pointer(t), layout.tArray))
}

// ReserveArray makes room in t's array part for n elements in all, in one allocation, keeping its length
// and elements: gopher-lua fills the keys up to a far integer key one append at a time, a doubling chain
// of copies (and the garbage of every smaller array) where one allocation does.
func ReserveArray(t *lua.LTable, n int) {
	a := (*[]lua.LValue)(unsafe.Add(unsafe.Pointer(t), layout.tArray))
	if cap(*a) >= n {
		return
	}
	grown := make([]lua.LValue, len(*a), n)
	copy(grown, *a)
	*a = grown
}

// TableKeys is the table's list of hash keys in insertion order, deleted ones included (gopher-lua never
// removes a key from it): a view, do not keep it.
func TableKeys(t *lua.LTable) []lua.LValue {
	return *(*[]lua.LValue)(unsafe.Add(unsafe.Pointer(t), layout.tKeys))
}

// RK is operand x of an instruction whose argument is a register or a constant (gopher-lua sets bit 8 for
// constants).
func RK(L *lua.LState, proto *lua.FunctionProto, localBase, x int) lua.LValue {
	if x&0x100 != 0 {
		if k := x & 0xff; k < len(proto.Constants) {
			return proto.Constants[k]
		}
		return nil
	}
	return Register(L, localBase+x)
}

// SetRegister sets slot i of the thread's data stack (absolute index) below its top.
func SetRegister(L *lua.LState, i int, v lua.LValue) {
	r := registry(L)
	if r == nil || i < 0 || i >= *(*int)(unsafe.Add(r, layout.regTop)) {
		return
	}
	(*(*[]lua.LValue)(unsafe.Add(r, layout.regArray)))[i] = v
}

// HasHashKey reports whether k is in the table's hash key list: a key with a value, or one deleted since it
// was last compacted (Lua's dead keys, which a traversal may still pass to next).
func HasHashKey(t *lua.LTable, k lua.LValue) bool {
	k2i := *(*map[lua.LValue]int)(unsafe.Add(unsafe.Pointer(t), layout.tK2i))
	_, ok := k2i[k]
	return ok
}

// HashCounts is how many keys the table's hash part has in its key list (deleted ones included) and how
// many of them have a value.
func HashCounts(t *lua.LTable) (listed, live int) {
	p := unsafe.Pointer(t)
	dict := *(*map[lua.LValue]lua.LValue)(unsafe.Add(p, layout.tDict))
	strdict := *(*map[string]lua.LValue)(unsafe.Add(p, layout.tStrdict))
	return len(TableKeys(t)), len(dict) + len(strdict)
}

// CompactKeys drops the deleted keys from the table's key list and index (gopher-lua never does: a
// table whose keys come and go grows its list and index forever, and next() walks over the dead keys),
// keeping the order of the live ones. Like Lua's rehash, it must only run when a new key is inserted: a
// traversal that holds a deleted key cannot go on after it (nor can it in Lua once the table was rehashed).
func CompactKeys(t *lua.LTable) {
	p := unsafe.Pointer(t)
	keysP := (*[]lua.LValue)(unsafe.Add(p, layout.tKeys))
	k2iP := (*map[lua.LValue]int)(unsafe.Add(p, layout.tK2i))
	_, live := HashCounts(t)
	keys := make([]lua.LValue, 0, live)
	k2i := make(map[lua.LValue]int, live)
	for _, k := range *keysP {
		if t.RawGetH(k) != lua.LNil {
			k2i[k] = len(keys)
			keys = append(keys, k)
		}
	}
	*keysP, *k2iP = keys, k2i
}

// Frame is one call frame of a thread: a view, valid while the frame is on the thread's call stack. The
// zero Frame is no frame.
type Frame struct{ p unsafe.Pointer }

// CurrentFrame is the thread's running frame (the zero Frame when it runs none).
func CurrentFrame(L *lua.LState) Frame { return Frame{*(*unsafe.Pointer)(at(L, layout.currentFrame))} }

// Valid reports whether f is a frame.
func (f Frame) Valid() bool { return f.p != nil }

// Parent is the frame that called f (the zero Frame for a thread's first frame, and for no frame).
func (f Frame) Parent() Frame {
	if f.p == nil {
		return Frame{}
	}
	return Frame{*(*unsafe.Pointer)(unsafe.Add(f.p, layout.cfParent))}
}

// Fn is the frame's function (nil for no frame).
func (f Frame) Fn() *lua.LFunction {
	if f.p == nil {
		return nil
	}
	return *(**lua.LFunction)(unsafe.Add(f.p, layout.cfFn))
}

// Pc is the frame's program counter: gopher-lua advances it before it runs an instruction, so the
// instruction being executed is Pc-1.
func (f Frame) Pc() int { return f.int(layout.cfPc) }

// int reads an int field of the frame (0 for no frame).
func (f Frame) int(off uintptr) int {
	if f.p == nil {
		return 0
	}
	return *(*int)(unsafe.Add(f.p, off))
}

// Base is the register of the frame's function; LocalBase its first register (its first parameter).
func (f Frame) Base() int      { return f.int(layout.cfBase) }
func (f Frame) LocalBase() int { return f.int(layout.cfLocalBase) }

// NArgs is the number of arguments the frame's function was called with.
func (f Frame) NArgs() int { return f.int(layout.cfNArgs) }

// TailCall is the number of tail calls the frame stands for (0: the frame was called, not tail called).
func (f Frame) TailCall() int { return f.int(layout.cfTailCall) }

// TailCalled reports whether the frame, a Go function's, was tail called: its results go where its
// caller's would (the caller's frame is dropped when it returns), not to its own base.
func (f Frame) TailCalled() bool { return f.int(layout.cfReturnBase) != f.int(layout.cfBase) }

// IsLua reports whether the frame runs a Lua function (not a Go one).
func (f Frame) IsLua() bool {
	fn := f.Fn()
	return fn != nil && !fn.IsG && fn.Proto != nil
}

// CloseUpvalues closes the thread's open upvalues of registers idx and above: closures that captured
// locals of frames being unwound keep the values, as Lua closes them when it leaves the frames. gopher-lua
// does this itself when an error unwinds frames, except under a PCall with an error handler.
func CloseUpvalues(L *lua.LState, idx int) {
	head := (**lua.Upvalue)(at(L, layout.uvcache))
	// The list is ordered by register, lowest first.
	link := head
	for uv := *link; uv != nil; uv = *link {
		if *(*int)(unsafe.Add(unsafe.Pointer(uv), layout.uvIndex)) >= idx {
			*link = nil
			for ; uv != nil; uv = *(**lua.Upvalue)(unsafe.Add(unsafe.Pointer(uv), layout.uvNext)) {
				uv.Close()
			}
			return
		}
		link = (**lua.Upvalue)(unsafe.Add(unsafe.Pointer(uv), layout.uvNext))
	}
}

// HasErrorFunc reports whether the thread runs under a PCall with an error handler; gopher-lua then
// leaves the upvalues of the frames an error unwinds open (CloseUpvalues closes them).
func HasErrorFunc(L *lua.LState) bool { return *(*bool)(at(L, layout.hasErrorFunc)) }

// SetHasErrorFunc restores the flag: a PCall clears it when it returns, even inside an outer PCall that
// has an error handler.
func SetHasErrorFunc(L *lua.LState, v bool) { *(*bool)(at(L, layout.hasErrorFunc)) = v }
