package snapshot

import (
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// makeGFunction builds a Go func value for the top-level function whose
// code starts at pc (a func value is a pointer to a word holding the code
// pointer; top-level functions capture nothing).
func makeGFunction(pc uintptr) lua.LGFunction {
	fv := &struct{ pc uintptr }{pc}
	return *(*lua.LGFunction)(unsafe.Pointer(&fv))
}
