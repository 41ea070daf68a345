package snapshot

import (
	"fmt"
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua keeps what decides a table's iteration order (the array part,
// including nil holes, and the hash keys in insertion order, deleted keys
// included), the per-type metatables and a proto's derived string-constant
// list in unexported fields. They are reached through offsets looked up by
// name and checked by type at start-up; if the layout differs (another
// gopher-lua version), Encode and Decode fail instead of guessing.

var (
	offArray, offKeys, offDict, offStrdict, offK2i uintptr
	offBuiltinMts                                  uintptr
	offStringConstants                             uintptr
	layoutErr                                      error
)

func init() { layoutErr = resolveLayout() }

func offsetOf(t reflect.Type, name string, want reflect.Type) (uintptr, error) {
	f, ok := t.FieldByName(name)
	if !ok {
		return 0, fmt.Errorf("gopher-lua %s has no field %q", t, name)
	}
	if f.Type != want {
		return 0, fmt.Errorf("gopher-lua %s.%s is %s, want %s", t, name, f.Type, want)
	}
	return f.Offset, nil
}

func resolveLayout() (err error) {
	lvs := reflect.TypeOf([]lua.LValue(nil))
	tt := reflect.TypeOf(lua.LTable{})
	if tt.NumField() != 6 {
		return fmt.Errorf("gopher-lua LTable has %d fields, want 6", tt.NumField())
	}
	if offArray, err = offsetOf(tt, "array", lvs); err != nil {
		return err
	}
	if offKeys, err = offsetOf(tt, "keys", lvs); err != nil {
		return err
	}
	if offDict, err = offsetOf(tt, "dict", reflect.TypeOf(map[lua.LValue]lua.LValue(nil))); err != nil {
		return err
	}
	if offStrdict, err = offsetOf(tt, "strdict", reflect.TypeOf(map[string]lua.LValue(nil))); err != nil {
		return err
	}
	if offK2i, err = offsetOf(tt, "k2i", reflect.TypeOf(map[lua.LValue]int(nil))); err != nil {
		return err
	}
	if offBuiltinMts, err = offsetOf(reflect.TypeOf(lua.Global{}), "builtinMts", reflect.TypeOf(map[int]lua.LValue(nil))); err != nil {
		return err
	}
	pt := reflect.TypeOf(lua.FunctionProto{})
	if pt.NumField() != 15 {
		return fmt.Errorf("gopher-lua FunctionProto has %d fields, want 15", pt.NumField())
	}
	if offStringConstants, err = offsetOf(pt, "stringConstants", reflect.TypeOf([]string(nil))); err != nil {
		return err
	}
	return nil
}

func arrayOf(t *lua.LTable) []lua.LValue {
	return *(*[]lua.LValue)(unsafe.Add(unsafe.Pointer(t), offArray))
}

// keysOf returns the hash keys in insertion order, deleted keys included.
func keysOf(t *lua.LTable) []lua.LValue {
	return *(*[]lua.LValue)(unsafe.Add(unsafe.Pointer(t), offKeys))
}

// setParts installs consistent parts into a table that was just reset.
func setParts(t *lua.LTable, array []lua.LValue, strdict map[string]lua.LValue, dict map[lua.LValue]lua.LValue, keys []lua.LValue, k2i map[lua.LValue]int) {
	p := unsafe.Pointer(t)
	*(*[]lua.LValue)(unsafe.Add(p, offArray)) = array
	*(*map[string]lua.LValue)(unsafe.Add(p, offStrdict)) = strdict
	*(*map[lua.LValue]lua.LValue)(unsafe.Add(p, offDict)) = dict
	*(*[]lua.LValue)(unsafe.Add(p, offKeys)) = keys
	*(*map[lua.LValue]int)(unsafe.Add(p, offK2i)) = k2i
}

func builtinMts(g *lua.Global) map[int]lua.LValue {
	return *(*map[int]lua.LValue)(unsafe.Add(unsafe.Pointer(g), offBuiltinMts))
}

func setStringConstants(p *lua.FunctionProto, s []string) {
	*(*[]string)(unsafe.Add(unsafe.Pointer(p), offStringConstants)) = s
}

// makeGFunction builds a Go func value for the top-level function whose
// code starts at pc (a func value is a pointer to a word holding the code
// pointer; top-level functions capture nothing).
func makeGFunction(pc uintptr) lua.LGFunction {
	fv := &struct{ pc uintptr }{pc}
	return *(*lua.LGFunction)(unsafe.Pointer(&fv))
}
