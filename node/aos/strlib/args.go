package strlib

import (
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// Argument checks with Lua 5.3's coercions and error messages (lauxlib's luaL_check* family).

// raise raises msg as a Lua error with the position of the calling Lua code, as luaL_error does; a
// function called straight from Go (pcall(string.rep)) has none.
func raise(L *lua.LState, msg string) {
	if dbg, ok := L.GetStack(1); ok {
		if fn, err := L.GetInfo("f", dbg, lua.LNil); err == nil {
			if f, ok := fn.(*lua.LFunction); ok && f.IsG {
				L.Error(lua.LString(msg), 0)
			}
		}
	}
	L.RaiseError("%s", msg)
}

// argError raises 5.3's "bad argument #arg to 'name' (msg)". name is the function's name at the
// call site when the call site gives one, else "string.<fname>", as 5.3 finds it in the loaded
// libraries; in a method call (s:rep()) the receiver is not counted, as in 5.3.
func argError(L *lua.LState, arg int, fname, msg string) {
	name, method := callName(L)
	if name == "" {
		name = "string." + fname
	} else if method {
		arg--
		if arg == 0 {
			raise(L, "calling '"+name+"' on bad self ("+msg+")")
		}
	}
	raise(L, "bad argument #"+itoa(int64(arg))+" to '"+name+"' ("+msg+")")
}

// typeError is argError for a value of the wrong type.
func typeError(L *lua.LState, arg int, fname, want string) {
	argError(L, arg, fname, want+" expected, got "+typeName(L, arg))
}

// typeName is 5.3's name of argument arg's type for errors: "no value" past the last argument, the
// metatable's __name when it is a string.
func typeName(L *lua.LState, arg int) string {
	if arg > L.GetTop() {
		return "no value"
	}
	v := L.Get(arg)
	if mt, ok := L.GetMetatable(v).(*lua.LTable); ok {
		if n, ok := mt.RawGetString("__name").(lua.LString); ok {
			return string(n)
		}
	}
	return v.Type().String()
}

// callName is the name the calling Lua code called the running function by ("" when it has none: a
// call from Go, or through an expression), and whether the call was a method call (obj:name(...)).
// gopher-lua records each call's name but not whether it used ':'; the call instruction's function
// register tells: a method call loads it with OP_SELF. Only error paths use this.
func callName(L *lua.LState) (string, bool) {
	dbg, ok := L.GetStack(0)
	if !ok {
		return "", false
	}
	if _, err := L.GetInfo("n", dbg, lua.LNil); err != nil {
		return "", false
	}
	name := dbg.Name
	if name == "" || name == "?" || name == "(anonymous)" || name == "main chunk" || name == "corountine" || strings.HasPrefix(name, "<") {
		return "", false
	}
	caller, ok := L.GetStack(1)
	if !ok {
		return name, false
	}
	fv, err := L.GetInfo("f", caller, lua.LNil)
	fn, isFn := fv.(*lua.LFunction)
	if err != nil || !isFn || fn.IsG || fn.Proto == nil {
		return name, false
	}
	pc, ok := framePC(caller)
	if !ok || pc < 0 || pc >= len(fn.Proto.Code) {
		return name, false
	}
	return name, loadedBySelf(fn.Proto.Code, pc)
}

// framePC is the index of the instruction a Lua frame is executing (the call), from gopher-lua's
// unexported frame (internal/luavm).
func framePC(dbg *lua.Debug) (int, bool) { return luavm.FramePC(dbg) }

// loadedBySelf reports whether the function register of the OP_CALL at pc was last written by an
// OP_SELF: the nearest earlier instruction whose A operand is that register and that writes it.
func loadedBySelf(code []uint32, pc int) bool {
	opcode := func(i uint32) int { return int(i >> 26) }
	argA := func(i uint32) int { return int(i>>18) & 0xff }
	a := argA(code[pc])
	for i := pc - 1; i >= 0; i-- {
		if argA(code[i]) != a {
			continue
		}
		switch opcode(code[i]) {
		case lua.OP_SELF:
			return true
		case lua.OP_JMP, lua.OP_EQ, lua.OP_LT, lua.OP_LE, lua.OP_TEST, lua.OP_SETTABLE, lua.OP_SETGLOBAL,
			lua.OP_SETUPVAL, lua.OP_SETLIST, lua.OP_RETURN, lua.OP_CLOSE, lua.OP_SETTABLEKS:
			continue // these read register A, they do not load it
		}
		return false
	}
	return false
}

// two63 is 2^63, the float64 math.maxinteger (2^63-1) rounds to.
const two63 = 9223372036854775808.0

// FloatToInteger is 5.3's exact float-to-integer conversion on gopher-lua's numbers: integral values
// in [-2^63, 2^63]; 2^63 is read as math.maxinteger, since that is how math.maxinteger is stored.
func FloatToInteger(f float64) (int64, bool) {
	if f != math.Floor(f) || f < -two63 || f > two63 { // also NaN and infinities
		return 0, false
	}
	if f == two63 {
		return math.MaxInt64, true
	}
	return int64(f), true
}

// checkString is luaL_checklstring: a string, or a number converted as tostring does.
func checkString(L *lua.LState, arg int, fname string) string {
	switch v := L.Get(arg).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return NumberToString(float64(v))
	}
	typeError(L, arg, fname, "string")
	return ""
}

// optString is luaL_optlstring.
func optString(L *lua.LState, arg int, fname, def string) string {
	if L.Get(arg) == lua.LNil {
		return def
	}
	return checkString(L, arg, fname)
}

// toNumber is StringToNumber charged by the length of s (a numeral can be any length).
func (l *lib) toNumber(L *lua.LState, s string) (float64, bool) {
	l.charge(L, int64(len(s)/scanBytesPerInstr))
	return StringToNumber(s)
}

// checkNumber is luaL_checknumber: a number, or a string that reads as one.
func (l *lib) checkNumber(L *lua.LState, arg int, fname string) float64 {
	switch v := L.Get(arg).(type) {
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		if f, ok := l.toNumber(L, string(v)); ok {
			return f
		}
	}
	typeError(L, arg, fname, "number")
	return 0
}

// checkInteger is luaL_checkinteger: a number (or numeric string) with an exact integer value.
func (l *lib) checkInteger(L *lua.LState, arg int, fname string) int64 {
	var f float64
	switch v := L.Get(arg).(type) {
	case lua.LNumber:
		f = float64(v)
	case lua.LString:
		var ok bool
		if f, ok = l.toNumber(L, string(v)); !ok {
			typeError(L, arg, fname, "number")
		}
	default:
		typeError(L, arg, fname, "number")
	}
	n, ok := FloatToInteger(f)
	if !ok {
		argError(L, arg, fname, "number has no integer representation")
	}
	return n
}

// optInteger is luaL_optinteger.
func (l *lib) optInteger(L *lua.LState, arg int, fname string, def int64) int64 {
	if L.Get(arg) == lua.LNil {
		return def
	}
	return l.checkInteger(L, arg, fname)
}

// posrelat turns a 5.3 string position (negative counts from the end) into one from the start; a
// position before the start becomes 0.
func posrelat(pos int64, n int) int64 {
	if pos >= 0 {
		return pos
	}
	if -pos > int64(n) {
		return 0
	}
	return int64(n) + pos + 1
}

// itoa formats an integer without allocating through fmt.
func itoa(n int64) string {
	if n >= 0 && n < 10 {
		return string(rune('0' + n))
	}
	var b [20]byte
	i := len(b)
	u := uint64(n)
	if n < 0 {
		u = uint64(-n)
	}
	for u >= 10 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	i--
	b[i] = byte('0' + u)
	if n < 0 {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
