package luaclone

import (
	"fmt"
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua keeps the parts of its state that decide iteration order and
// array/hash placement in unexported fields:
//
//	LTable.array   []LValue            the array part, including nil holes and trailing nils
//	LTable.keys    []LValue            hash keys in first-insertion order, INCLUDING deleted keys
//	                                   (next() skips them; re-setting a deleted key revives it in
//	                                   its old position)
//	Global.builtinMts map[int]LValue   metatables of non-table, non-userdata types (string, ...)
//	LState.wrapped bool                a coroutine created by coroutine.wrap
//
// None of this is visible through the public API (Next only shows live entries
// and cannot tell an array slot from a numeric hash key), so Clone reads these
// fields through offsets that are looked up by name and checked by type at
// start-up. The only fields ever written are the five table fields, and only
// on a table Clone has just reset (setTable), producing exactly the state
// that gopher-lua's own RawSetInt/RawSetH calls would produce (checked by the
// tests), just without the per-key allocations and map growth. If the layout
// ever changes (new gopher-lua version), layoutErr is set and Clone fails
// with ErrNotCloneable instead of guessing.

var (
	offTableArray   uintptr
	offTableKeys    uintptr
	offTableDict    uintptr
	offTableStrdict uintptr
	offTableK2i     uintptr
	offGlobalMts    uintptr
	offStateWrapped uintptr
	layoutErr       error
)

func init() {
	layoutErr = resolveLayout()
}

func fieldOffset(t reflect.Type, name string, want reflect.Type) (uintptr, error) {
	f, ok := t.FieldByName(name)
	if !ok {
		return 0, fmt.Errorf("gopher-lua %s has no field %q", t, name)
	}
	if f.Type != want {
		return 0, fmt.Errorf("gopher-lua %s.%s has type %s, want %s", t, name, f.Type, want)
	}
	return f.Offset, nil
}

func resolveLayout() error {
	lvSlice := reflect.TypeOf([]lua.LValue(nil))
	var err error
	tt := reflect.TypeOf(lua.LTable{})
	if offTableArray, err = fieldOffset(tt, "array", lvSlice); err != nil {
		return err
	}
	if offTableKeys, err = fieldOffset(tt, "keys", lvSlice); err != nil {
		return err
	}
	if offTableDict, err = fieldOffset(tt, "dict", reflect.TypeOf(map[lua.LValue]lua.LValue(nil))); err != nil {
		return err
	}
	if offTableStrdict, err = fieldOffset(tt, "strdict", reflect.TypeOf(map[string]lua.LValue(nil))); err != nil {
		return err
	}
	if offTableK2i, err = fieldOffset(tt, "k2i", reflect.TypeOf(map[lua.LValue]int(nil))); err != nil {
		return err
	}
	if n := tt.NumField(); n != 6 {
		return fmt.Errorf("gopher-lua LTable has %d fields, want 6", n)
	}
	if offGlobalMts, err = fieldOffset(reflect.TypeOf(lua.Global{}), "builtinMts", reflect.TypeOf(map[int]lua.LValue(nil))); err != nil {
		return err
	}
	if offStateWrapped, err = fieldOffset(reflect.TypeOf(lua.LState{}), "wrapped", reflect.TypeOf(false)); err != nil {
		return err
	}
	return nil
}

// tableArray returns tb's array part (shared, do not modify).
func tableArray(tb *lua.LTable) []lua.LValue {
	return *(*[]lua.LValue)(unsafe.Add(unsafe.Pointer(tb), offTableArray))
}

// tableKeys returns tb's hash-key order list, including deleted keys (shared, do not modify).
func tableKeys(tb *lua.LTable) []lua.LValue {
	return *(*[]lua.LValue)(unsafe.Add(unsafe.Pointer(tb), offTableKeys))
}

// setTable makes tb a table with exactly the given parts. tb must have been
// reset (*tb = lua.LTable{...}) and the parts must be consistent the way
// gopher-lua keeps them: keys lists every hash key once (k2i maps each to its
// index), every live string key is in strdict and every other live key in
// dict, deleted keys are in keys/k2i only; keys and k2i are both nil or both
// non-nil.
func setTable(tb *lua.LTable, array []lua.LValue, strdict map[string]lua.LValue, dict map[lua.LValue]lua.LValue, keys []lua.LValue, k2i map[lua.LValue]int) {
	p := unsafe.Pointer(tb)
	*(*[]lua.LValue)(unsafe.Add(p, offTableArray)) = array
	*(*map[string]lua.LValue)(unsafe.Add(p, offTableStrdict)) = strdict
	*(*map[lua.LValue]lua.LValue)(unsafe.Add(p, offTableDict)) = dict
	*(*[]lua.LValue)(unsafe.Add(p, offTableKeys)) = keys
	*(*map[lua.LValue]int)(unsafe.Add(p, offTableK2i)) = k2i
}

// builtinMetatables returns the per-type metatables (shared, do not modify).
func builtinMetatables(g *lua.Global) map[int]lua.LValue {
	return *(*map[int]lua.LValue)(unsafe.Add(unsafe.Pointer(g), offGlobalMts))
}

// isWrapped reports whether th was created by coroutine.wrap.
func isWrapped(th *lua.LState) bool {
	return *(*bool)(unsafe.Add(unsafe.Pointer(th), offStateWrapped))
}
