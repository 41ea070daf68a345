package luavm

import (
	"context"
	"fmt"
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// The parts of gopher-lua's values that aonode reads or builds besides a thread's loop and stacks
// (luavm.go): a table's hash part (its key list keeps deleted keys and decides pairs order), the per-type
// metatables, what a coroutine holds besides its public fields, and a prototype's derived list of string
// constants. node/aos builds tables and reuses dead coroutines through them, node/luaclone copies states
// and node/snapshot serializes them. They are resolved by name and exact type at init, with the rest of
// the layout; Check reports the first difference.

var parts struct {
	// LTable
	tDict, tStrdict, tK2i uintptr
	// Global
	gBuiltinMts uintptr
	// LState
	sStop, sReg, sCurrentFrame, sWrapped, sUvcache, sHasErrorFunc, sCtxCancelFn uintptr
	// registry (a thread's data stack): the thread it raises its overflow errors on
	regHandler uintptr
	// FunctionProto
	pStringConstants uintptr
	// Debug: the frame it describes
	dFrame uintptr
}

// stateFields are LState's fields, in order: ReuseThread copies a whole LState, which is only right while
// every field is one it knows about.
var stateFields = []string{"G", "Parent", "Env", "Panic", "Dead", "Options", "stop", "reg", "stack", "alloc",
	"currentFrame", "wrapped", "uvcache", "hasErrorFunc", "mainLoop", "ctx", "ctxCancelFn"}

// tableFields are LTable's fields, in order: SetTableParts sets every part but the metatable.
var tableFields = []string{"Metatable", "array", "dict", "strdict", "keys", "k2i"}

// exactField is the offset of t's field name, which must have exactly type want.
func exactField(t reflect.Type, name string, want reflect.Type) (uintptr, error) {
	f, ok := t.FieldByName(name)
	if !ok {
		return 0, fmt.Errorf("gopher-lua %s has no field %s", t.Name(), name)
	}
	if f.Type != want {
		return 0, fmt.Errorf("gopher-lua %s.%s is a %s, want %s", t.Name(), name, f.Type, want)
	}
	return f.Offset, nil
}

// sameFields reports the first difference between t's fields and names (in order).
func sameFields(t reflect.Type, names []string) error {
	if t.NumField() != len(names) {
		return fmt.Errorf("gopher-lua %s has %d fields, want %d", t.Name(), t.NumField(), len(names))
	}
	for i, n := range names {
		if got := t.Field(i).Name; got != n {
			return fmt.Errorf("gopher-lua %s field %d is %s, want %s", t.Name(), i, got, n)
		}
	}
	return nil
}

func resolveParts() error {
	var err error
	must := func(off *uintptr, t reflect.Type, name string, want reflect.Type) {
		if err == nil {
			*off, err = exactField(t, name, want)
		}
	}
	lv := reflect.TypeOf((*lua.LValue)(nil)).Elem()
	tt := reflect.TypeOf(lua.LTable{})
	if err := sameFields(tt, tableFields); err != nil {
		return err
	}
	must(&parts.tDict, tt, "dict", reflect.MapOf(lv, lv))
	must(&parts.tStrdict, tt, "strdict", reflect.TypeOf(map[string]lua.LValue(nil)))
	must(&parts.tK2i, tt, "k2i", reflect.TypeOf(map[lua.LValue]int(nil)))
	var dummy uintptr
	must(&dummy, tt, "array", reflect.TypeOf([]lua.LValue(nil)))
	must(&dummy, tt, "keys", reflect.TypeOf([]lua.LValue(nil)))

	must(&parts.gBuiltinMts, reflect.TypeOf(lua.Global{}), "builtinMts", reflect.TypeOf(map[int]lua.LValue(nil)))

	st := reflect.TypeOf(lua.LState{})
	if err == nil {
		err = sameFields(st, stateFields)
	}
	must(&parts.sStop, st, "stop", reflect.TypeOf(int32(0)))
	must(&parts.sWrapped, st, "wrapped", reflect.TypeOf(false))
	must(&parts.sHasErrorFunc, st, "hasErrorFunc", reflect.TypeOf(false))
	must(&parts.sCtxCancelFn, st, "ctxCancelFn", reflect.TypeOf(context.CancelFunc(nil)))
	must(&parts.sUvcache, st, "uvcache", reflect.TypeOf((*lua.Upvalue)(nil)))
	if err != nil {
		return err
	}
	cf, _ := st.FieldByName("currentFrame")
	parts.sCurrentFrame = cf.Offset // its type is checked in luavm.go
	rf, _ := st.FieldByName("reg")
	parts.sReg = rf.Offset
	h, ok := rf.Type.Elem().FieldByName("handler")
	if !ok || h.Type.Kind() != reflect.Interface || h.Type.NumMethod() != 1 || !reflect.PointerTo(st).Implements(h.Type) {
		return fmt.Errorf("gopher-lua registry.handler is not an interface LState implements")
	}
	parts.regHandler = h.Offset

	pt := reflect.TypeOf(lua.FunctionProto{})
	if pt.NumField() != 15 {
		return fmt.Errorf("gopher-lua FunctionProto has %d fields, want 15", pt.NumField())
	}
	must(&parts.pStringConstants, pt, "stringConstants", reflect.TypeOf([]string(nil)))
	if err != nil {
		return err
	}
	df, ok := reflect.TypeOf(lua.Debug{}).FieldByName("frame")
	if !ok || df.Type != cf.Type {
		return fmt.Errorf("gopher-lua Debug.frame is not a %s", cf.Type)
	}
	parts.dFrame = df.Offset
	return nil
}

func field(p unsafe.Pointer, off uintptr) unsafe.Pointer { return unsafe.Add(p, off) }

// TableDict is the table's hash part for keys other than strings: a view, do not keep it.
func TableDict(t *lua.LTable) map[lua.LValue]lua.LValue {
	return *(*map[lua.LValue]lua.LValue)(field(unsafe.Pointer(t), parts.tDict))
}

// TableStrdict is the table's hash part for string keys: a view, do not keep it.
func TableStrdict(t *lua.LTable) map[string]lua.LValue {
	return *(*map[string]lua.LValue)(field(unsafe.Pointer(t), parts.tStrdict))
}

// TableParts are the parts of a table besides its metatable, as gopher-lua keeps them: Keys lists every
// hash key once, in insertion order, deleted keys included (K2i maps each to its index); every live string
// key is in Strdict and every other live key in Dict; deleted keys are in Keys and K2i only. Keys and K2i
// are both nil or both not.
type TableParts struct {
	Array   []lua.LValue
	Strdict map[string]lua.LValue
	Dict    map[lua.LValue]lua.LValue
	Keys    []lua.LValue
	K2i     map[lua.LValue]int
}

// SetTableParts gives t exactly these parts (consistent as TableParts says): the table the same
// RawSetInt/RawSetH calls would have made, without their per-key allocations and map growth.
func SetTableParts(t *lua.LTable, p TableParts) {
	b := unsafe.Pointer(t)
	*(*[]lua.LValue)(field(b, layout.tArray)) = p.Array
	*(*map[string]lua.LValue)(field(b, parts.tStrdict)) = p.Strdict
	*(*map[lua.LValue]lua.LValue)(field(b, parts.tDict)) = p.Dict
	*(*[]lua.LValue)(field(b, layout.tKeys)) = p.Keys
	*(*map[lua.LValue]int)(field(b, parts.tK2i)) = p.K2i
}

// SetStringKey is t.RawSetString(string(key), v) for a key already boxed as an LString: gopher-lua boxes
// the key again, twice, when the field is new.
func SetStringKey(t *lua.LTable, key, v lua.LValue) {
	b := unsafe.Pointer(t)
	sd := (*map[string]lua.LValue)(field(b, parts.tStrdict))
	keys := (*[]lua.LValue)(field(b, layout.tKeys))
	k2i := (*map[lua.LValue]int)(field(b, parts.tK2i))
	k := string(key.(lua.LString))
	if *sd == nil || *keys == nil || *k2i == nil {
		t.RawSetString(k, v)
		return
	}
	if v == lua.LNil {
		delete(*sd, k) // the key keeps its place, as in gopher-lua
		return
	}
	(*sd)[k] = v
	if _, ok := (*k2i)[key]; !ok {
		(*k2i)[key] = len(*keys)
		*keys = append(*keys, key)
	}
}

// IsObject reports whether v is a non-nil table, function or userdata: what a walk of a state's object graph
// visits (a typed nil, a nil *LTable or *LFunction held in an LValue, is not).
func IsObject(v lua.LValue) bool {
	switch x := v.(type) {
	case *lua.LTable:
		return x != nil
	case *lua.LFunction:
		return x != nil
	case *lua.LUserData:
		return x != nil
	}
	return false
}

// BuiltinMetatables are the metatables of the types other than tables and userdata (strings, ...), by
// lua.LValueType: a view, do not change it (L.SetMetatable does).
func BuiltinMetatables(g *lua.Global) map[int]lua.LValue {
	return *(*map[int]lua.LValue)(field(unsafe.Pointer(g), parts.gBuiltinMts))
}

// IsWrapped reports whether the coroutine was made by coroutine.wrap.
func IsWrapped(th *lua.LState) bool {
	return *(*bool)(field(unsafe.Pointer(th), parts.sWrapped))
}

// SetStringConstants sets the prototype's list of string constants, which gopher-lua derives from
// Constants when it compiles (a decoded prototype must have it too).
func SetStringConstants(p *lua.FunctionProto, s []string) {
	*(*[]string)(field(unsafe.Pointer(p), parts.pStringConstants)) = s
}

// stackHandler is the handler word of th's data stack: the thread it raises stack overflows on.
func stackHandler(th *lua.LState) *iface {
	reg := *(*unsafe.Pointer)(field(unsafe.Pointer(th), parts.sReg))
	if reg == nil {
		return nil
	}
	return (*iface)(field(reg, parts.regHandler))
}

// ThreadReusable reports whether nothing can reach the Go-level parts of the dead coroutine th through
// it any more, as far as its unexported state tells: no call frame left (it returned, or failed in its
// base frame), no open upvalue pointing into its data stack, not a coroutine.wrap coroutine, not stopped,
// no error handler or context cancel function set, and its data stack still its own.
func ThreadReusable(th *lua.LState) bool {
	p := unsafe.Pointer(th)
	if *(*unsafe.Pointer)(field(p, parts.sCurrentFrame)) != nil ||
		*(*unsafe.Pointer)(field(p, parts.sUvcache)) != nil ||
		*(*bool)(field(p, parts.sWrapped)) ||
		*(*int32)(field(p, parts.sStop)) != 0 ||
		*(*bool)(field(p, parts.sHasErrorFunc)) ||
		*(*context.CancelFunc)(field(p, parts.sCtxCancelFn)) != nil {
		return false
	}
	h := stackHandler(th)
	return h != nil && h.data == p
}

// ReuseThread is a new LState holding the Go-level parts (data stack, call stack, number allocator) of
// old, a dead coroutine ThreadReusable accepts, which must never be used again. Its stack overflows are
// raised on the new thread. The caller sets the public fields as gopher-lua's NewThread does.
func ReuseThread(old *lua.LState) *lua.LState {
	th := new(lua.LState)
	*th = *old
	stackHandler(th).data = unsafe.Pointer(th)
	return th
}

// FramePC is the index of the instruction the Lua frame dbg describes is executing (a call, for a frame
// below the current one: gopher-lua's Pc is the next instruction's index), or false when dbg describes no
// frame.
func FramePC(dbg *lua.Debug) (int, bool) {
	cf := *(*unsafe.Pointer)(field(unsafe.Pointer(dbg), parts.dFrame))
	if cf == nil {
		return 0, false
	}
	return *(*int)(unsafe.Add(cf, layout.cfPc)) - 1, true
}
