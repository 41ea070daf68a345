package aos

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The io library as a process sees it in real AOS: no file can be opened (the wasm's file system has none
// to give: io.open answers nil, "<name>: No error information", 0), standard input is empty, and what is
// written to standard output or error goes nowhere the process or its result can see. Here the three
// standard files are tables (not userdata, which process snapshots cannot hold) sharing one metatable with
// the file methods; io.type recognises them by it. They cannot be closed, as in Lua.

// Registry keys of the file metatable and of the default input and output files.
const (
	regFileMeta = "__aonode_filemeta"
	regIOInput  = "__aonode_ioinput"
	regIOOutput = "__aonode_iooutput"
)

// errNoClose is Lua's answer to closing a standard file.
const errNoClose = "cannot close standard file"

func newIOLib(L *lua.LState) *lua.LTable {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	methods := L.CreateTable(0, 7)
	for _, f := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{"close", fileClose}, {"flush", fileFlush}, {"lines", fileLines}, {"read", fileRead},
		{"seek", fileSeek}, {"setvbuf", fileSetvbuf}, {"write", fileWrite},
	} {
		methods.RawSetString(f.name, L.NewFunction(f.fn))
	}
	mt := L.CreateTable(0, 3)
	mt.RawSetString("__index", methods)
	mt.RawSetString("__name", lua.LString("FILE*"))
	mt.RawSetString("__tostring", L.NewFunction(fileToString))
	reg.RawSetString(regFileMeta, mt)

	io := L.CreateTable(0, 14)
	for _, name := range []string{"stdin", "stdout", "stderr"} {
		f := L.CreateTable(0, 0)
		L.SetMetatable(f, mt)
		io.RawSetString(name, f)
	}
	reg.RawSetString(regIOInput, io.RawGetString("stdin"))
	reg.RawSetString(regIOOutput, io.RawGetString("stdout"))
	for _, f := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{"close", ioClose}, {"flush", ioFlush}, {"input", ioInput}, {"lines", ioLines}, {"open", ioOpen},
		{"output", ioOutput}, {"popen", ioPopen}, {"read", ioRead}, {"tmpfile", ioTmpfile}, {"type", ioType},
		{"write", ioWrite},
	} {
		io.RawSetString(f.name, L.NewFunction(f.fn))
	}
	return io
}

func isFile(L *lua.LState, v lua.LValue) bool {
	t, ok := v.(*lua.LTable)
	return ok && t.Metatable == L.Get(lua.RegistryIndex).(*lua.LTable).RawGetString(regFileMeta)
}

// checkFile is the file a method was called on.
func checkFile(L *lua.LState, n int) *lua.LTable {
	v := L.Get(n)
	if !isFile(L, v) {
		L.ArgError(n, "FILE* expected, got "+v.Type().String())
	}
	return v.(*lua.LTable)
}

// noFile is the triple a failed open gives: nil, the message, the error number.
func noFile(L *lua.LState, name string) int {
	L.Push(lua.LNil)
	if name == "" {
		L.Push(lua.LString(noFileText))
	} else {
		L.Push(lua.LString(name + ": " + noFileText))
	}
	L.Push(lua.LNumber(0))
	return 3
}

// checkMode is io.open's mode check: r, w or a, then an optional '+', then any 'b's.
func checkMode(mode string) bool {
	if mode == "" || strings.IndexByte("rwa", mode[0]) < 0 {
		return false
	}
	mode = mode[1:]
	mode = strings.TrimPrefix(mode, "+")
	return strings.Trim(mode, "b") == ""
}

func ioOpen(L *lua.LState) int {
	name := L.CheckString(1)
	if !checkMode(L.OptString(2, "r")) {
		L.ArgError(2, "invalid mode")
	}
	return noFile(L, name)
}

func ioTmpfile(L *lua.LState) int { return noFile(L, "") }

func ioPopen(L *lua.LState) int {
	L.CheckString(1)
	L.RaiseError("'popen' not supported")
	return 0
}

func ioType(L *lua.LState) int {
	v := L.CheckAny(1)
	if isFile(L, v) {
		L.Push(lua.LString("file"))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

// ioDefault is io.input and io.output: the default file, set first when a file or a name is given (a
// name cannot be opened).
func ioDefault(L *lua.LState, key string) int {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	switch v := L.Get(1); {
	case v == lua.LNil:
	case isFile(L, v):
		reg.RawSetString(key, v)
	default:
		L.RaiseError("cannot open file '%s' (%s)", L.CheckString(1), noFileText)
	}
	L.Push(reg.RawGetString(key))
	return 1
}

func ioInput(L *lua.LState) int  { return ioDefault(L, regIOInput) }
func ioOutput(L *lua.LState) int { return ioDefault(L, regIOOutput) }

// callOnDefault calls method on the default file key with the arguments of this call.
func callOnDefault(L *lua.LState, key string, method lua.LGFunction) int {
	f := L.Get(lua.RegistryIndex).(*lua.LTable).RawGetString(key)
	L.Insert(f, 1)
	return method(L)
}

func ioClose(L *lua.LState) int {
	if L.Get(1) == lua.LNil {
		L.SetTop(0)
		return callOnDefault(L, regIOOutput, fileClose)
	}
	return fileClose(L)
}

func ioFlush(L *lua.LState) int { return callOnDefault(L, regIOOutput, fileFlush) }
func ioRead(L *lua.LState) int  { return callOnDefault(L, regIOInput, fileRead) }
func ioWrite(L *lua.LState) int { return callOnDefault(L, regIOOutput, fileWrite) }

func ioLines(L *lua.LState) int {
	if L.Get(1) == lua.LNil {
		return callOnDefault(L, regIOInput, fileLines)
	}
	L.RaiseError("cannot open file '%s' (%s)", L.CheckString(1), noFileText)
	return 0
}

func fileClose(L *lua.LState) int {
	checkFile(L, 1)
	L.Push(lua.LNil)
	L.Push(lua.LString(errNoClose))
	return 2
}

func fileFlush(L *lua.LState) int {
	checkFile(L, 1)
	L.Push(lua.LTrue)
	return 1
}

// fileWrite writes nothing anywhere: the arguments are checked, the file returned.
func fileWrite(L *lua.LState) int {
	f := checkFile(L, 1)
	for i := 2; i <= L.GetTop(); i++ {
		switch L.Get(i).(type) {
		case lua.LString, lua.LNumber:
		default:
			L.CheckString(i)
		}
	}
	L.Push(f)
	return 1
}

// readFormats checks read's formats ("n", "l", "L", "a", with an optional '*', or a count), from n on.
func readFormats(L *lua.LState, from int) []lua.LValue {
	var out []lua.LValue
	for i := from; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case lua.LNumber:
			out = append(out, v)
		default:
			s := strings.TrimPrefix(L.CheckString(i), "*")
			if s == "" || strings.IndexByte("nlLa", s[0]) < 0 {
				L.ArgError(i, "invalid format")
			}
			out = append(out, lua.LString(s[:1]))
		}
	}
	if len(out) == 0 {
		out = append(out, lua.LString("l"))
	}
	return out
}

// readEmpty is what reading the formats gives at the end of a file: "" for "a", nil for the rest, and
// nothing after the first nil.
func readEmpty(L *lua.LState, formats []lua.LValue) int {
	for i, f := range formats {
		if f == lua.LString("a") {
			L.Push(lua.LString(""))
			continue
		}
		L.Push(lua.LNil)
		return i + 1
	}
	return len(formats)
}

func fileRead(L *lua.LState) int {
	checkFile(L, 1)
	return readEmpty(L, readFormats(L, 2))
}

// fileLines gives an iterator over an empty file: it ends at once.
func fileLines(L *lua.LState) int {
	checkFile(L, 1)
	readFormats(L, 2)
	L.Push(L.NewFunction(linesEnd))
	return 1
}

func linesEnd(L *lua.LState) int {
	L.Push(lua.LNil)
	return 1
}

// fileSeek: the standard files are not seekable.
func fileSeek(L *lua.LState) int {
	checkFile(L, 1)
	whence := L.OptString(2, "cur")
	if whence != "set" && whence != "cur" && whence != "end" {
		L.ArgError(2, "invalid option '"+whence+"'")
	}
	optIntArg(L, 3, 0)
	L.Push(lua.LNil)
	L.Push(lua.LString("Illegal seek"))
	L.Push(lua.LNumber(70))
	return 3
}

func fileSetvbuf(L *lua.LState) int {
	checkFile(L, 1)
	mode := L.CheckString(2)
	if mode != "no" && mode != "full" && mode != "line" {
		L.ArgError(2, "invalid option '"+mode+"'")
	}
	optIntArg(L, 3, 0)
	L.Push(lua.LTrue)
	return 1
}

func fileToString(L *lua.LState) int {
	f := checkFile(L, 1)
	L.Push(lua.LString(fmt.Sprintf("file (0x%08x)", objectID(L, f))))
	return 1
}
