// Package strlib is Lua 5.3.6's string library for gopher-lua, written to be exact and bounded.
//
// gopher-lua implements Lua 5.1's string library: its patterns, string.format and number formatting
// differ from 5.3, and its matcher backtracks without limit (recursing in Go), so one call can run for
// minutes while the VM counts it as a single instruction. This package replaces find, match, gmatch,
// gsub, format, rep, byte, char, sub, upper, lower, reverse and len with 5.3's semantics and error
// messages, and makes every call's work visible to the runtime through Hooks: Charge is called with
// instruction-equivalents of work (pattern matching steps, bytes built) and Alloc before a large result
// is built. The charges are functions of the arguments only, never of time, so a limit stops a call at
// the same point on every run. The matcher recurses at most MaxCCalls (200, as 5.3) levels deep.
//
// Numbers are float64 (gopher-lua's only number type); NumberToString and StringToNumber are 5.3's
// conversions under that rule and are exported for the rest of the runtime.
package strlib

import (
	lua "github.com/yuin/gopher-lua"
)

// Hooks connect the library to the runtime's limits. Both functions must raise a Lua error (for
// example with L.RaiseError) to stop the call; they return normally to let it go on. A nil function
// does nothing.
type Hooks struct {
	// Charge counts n instruction-equivalents of work done by the library (n > 0). The library calls
	// it in chunks, at points fixed by the arguments, so the same call stops at the same point.
	Charge func(L *lua.LState, n int64)
	// Alloc is called before the library builds a string of size bytes (what names the function, e.g.
	// "string.rep"). It is called for results that may be large, not for every small string.
	Alloc func(L *lua.LState, what string, size int64)
	// ToString converts a value that is not a string or a number to text for %s in string.format and
	// for replacement captures, after the __tostring metamethod was tried. Nil: "nil", "true",
	// "false", or "<type>: <address>" as gopher-lua prints it (__name in the metatable names the type).
	ToString func(L *lua.LState, v lua.LValue) string
}

// lib is one installation of the library: the hooks its functions report to.
type lib struct {
	h Hooks
}

// Open installs the library into the global string table (which gopher-lua also uses as the string
// metatable's __index, so method calls such as ("x"):upper() use it too). string.pack, unpack,
// packsize and the utf8 functions (from node/aos/lua53), if present, keep their behaviour but are
// charged by the work their arguments and results show (see wrap.go); string.dump is left alone; gfind
// (a Lua 5.0 name gopher-lua keeps) is removed, as 5.3 has no such function. Call it once per state.
func Open(L *lua.LState, h Hooks) {
	l := &lib{h: h}
	str, ok := L.GetGlobal("string").(*lua.LTable)
	if !ok {
		str = L.NewTable()
		L.SetGlobal("string", str)
	}
	// A fixed order: a table's pairs() order follows insertion, and every node must build identical
	// states.
	for _, f := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{"byte", l.byte_}, {"char", l.char}, {"find", l.find}, {"format", l.format}, {"gmatch", l.gmatch},
		{"gsub", l.gsub}, {"len", l.len_}, {"lower", l.lower}, {"match", l.match}, {"rep", l.rep},
		{"reverse", l.reverse}, {"sub", l.sub}, {"upper", l.upper},
	} {
		str.RawSetString(f.name, L.NewFunction(f.fn))
	}
	str.RawSetString("gfind", lua.LNil)
	l.wrapOthers(L, str)
}

// charge reports n instruction-equivalents of work.
func (l *lib) charge(L *lua.LState, n int64) {
	if n > 0 && l.h.Charge != nil {
		l.h.Charge(L, n)
	}
}

// alloc reports a result of size bytes about to be built.
func (l *lib) alloc(L *lua.LState, what string, size int64) {
	if l.h.Alloc != nil {
		l.h.Alloc(L, what, size)
	}
}

// Costs of library work in VM instructions. A VM instruction costs 20-60 ns of CPU on the reference
// machine; these make a charged instruction of library work cost about as much (measured with
// BenchmarkCost, in CPU time: 30-65 ns per charged instruction for each kind of work).
const (
	// stepsPerInstr pattern-matching steps (one pattern item tried at one subject position, or one
	// subject byte tested by a repetition; a set [...] counts two, and one more per 16 bytes of its
	// text) cost one instruction.
	stepsPerInstr = 8
	// matchSteps is the extra steps a match found by gmatch or gsub costs: its captures become Lua
	// values, and its replacement is looked up or called.
	matchSteps = 16
	// balanceBytesPerStep subject bytes scanned by %b cost one step.
	balanceBytesPerStep = 4
	// chunkSteps is how many steps the matcher counts between two Charge calls.
	chunkSteps = 1 << 12
	// copyBytesPerInstr bytes copied (rep, gsub's output, format) cost one instruction.
	copyBytesPerInstr = 64
	// mapBytesPerInstr bytes transformed one by one (upper, lower, reverse, %q) cost one instruction.
	mapBytesPerInstr = 32
	// scanBytesPerInstr bytes searched by a plain find cost one instruction.
	scanBytesPerInstr = 64
	// valuesPerInstr values pushed by byte cost one instruction (char costs one per value too).
	valuesPerInstr = 1
	// allocReport is the size from which a result is reported to Alloc before it is built.
	allocReport = 1 << 16
)
