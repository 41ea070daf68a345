package lua53

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// HelperTable is the global Translate's output calls for the 5.3 operators.
const HelperTable = "__lua53"

// Open installs what translated code needs at run time: the __lua53 operator helpers, math.type,
// math.tointeger, math.ult, math.maxinteger, math.mininteger, the utf8 library, string.pack,
// string.unpack, string.packsize, table.move and rawlen. Existing gopher-lua functions are left alone,
// except math.log, which gains 5.3's base argument.
func Open(L *lua.LState) {
	h := L.NewTable()
	setFuncs(L, h, []namedFunc{
		{"idiv", opIdiv},
		{"band", bitwise("__band", func(a, b int64) int64 { return a & b })},
		{"bor", bitwise("__bor", func(a, b int64) int64 { return a | b })},
		{"bxor", bitwise("__bxor", func(a, b int64) int64 { return a ^ b })},
		{"shl", bitwise("__shl", shiftLeft)},
		{"shr", bitwise("__shr", shiftRight)},
		{"bnot", opBnot},
		{"pow", opPow},
	})
	L.SetGlobal(HelperTable, h)
	openMath(L)
	openUTF8(L)
	openPack(L)
	openTable(L)
}

type namedFunc struct {
	name string
	fn   lua.LGFunction
}

// setFuncs installs functions in a fixed order: a table's pairs() order follows insertion, and every
// node must build identical states.
func setFuncs(L *lua.LState, t *lua.LTable, funcs []namedFunc) {
	for _, f := range funcs {
		t.RawSetString(f.name, L.NewFunction(f.fn))
	}
}

// two63 is 2^63, the float64 that math.maxinteger (2^63-1) rounds to.
const two63 = 9223372036854775808.0

// floatToInt is Lua 5.3's exact float-to-integer conversion on gopher-lua's numbers. 2^63 is accepted
// and read as math.maxinteger, because that is how math.maxinteger (and any integer result near it) is
// stored; otherwise values outside [-2^63, 2^63) and non-integral values have no integer form.
func floatToInt(f float64) (int64, bool) {
	if f != math.Floor(f) || f < -two63 || f > two63 { // also rejects NaN and infinities
		return 0, false
	}
	if f == two63 {
		return math.MaxInt64, true
	}
	return int64(f), true
}

// ToNumber converts an operand as 5.3 arithmetic does: numbers, and strings that read as numbers.
func ToNumber(v lua.LValue) (float64, bool) { return toNumber(v) }

func toNumber(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		return str2number(string(x))
	}
	return 0, false
}

func toInteger(v lua.LValue) (int64, bool) {
	f, ok := toNumber(v)
	if !ok {
		return 0, false
	}
	return floatToInt(f)
}

// callMeta calls the first operand's metamethod for event, else the second's, as Lua 5.3 does for
// arithmetic and bitwise events; ok is false when neither has one.
func callMeta(L *lua.LState, event string, a, b lua.LValue) (lua.LValue, bool) {
	tm := L.GetMetaField(a, event)
	if tm == lua.LNil {
		tm = L.GetMetaField(b, event)
	}
	if tm == lua.LNil {
		return nil, false
	}
	L.Push(tm)
	L.Push(a)
	L.Push(b)
	L.Call(2, 1)
	r := L.Get(-1)
	L.Pop(1)
	return r, true
}

// blame picks the operand an operator error names: the first one that is not a number, like Lua.
func blame(a, b lua.LValue) lua.LValue {
	if _, ok := toNumber(a); !ok {
		return a
	}
	return b
}

func bitwise(event string, op func(a, b int64) int64) lua.LGFunction {
	return func(L *lua.LState) int {
		a, b := L.Get(1), L.Get(2)
		return bitwiseOn(L, event, a, b, op)
	}
}

func bitwiseOn(L *lua.LState, event string, a, b lua.LValue, op func(a, b int64) int64) int {
	x, okx := toInteger(a)
	y, oky := toInteger(b)
	if okx && oky {
		L.Push(lua.LNumber(float64(op(x, y))))
		return 1
	}
	if r, ok := callMeta(L, event, a, b); ok {
		L.Push(r)
		return 1
	}
	_, na := toNumber(a)
	_, nb := toNumber(b)
	if na && nb {
		L.RaiseError("number has no integer representation")
	}
	L.RaiseError("attempt to perform bitwise operation on a %s value", blame(a, b).Type().String())
	return 0
}

// opBnot is unary ~; like Lua 5.3 it passes the operand twice to __bnot.
func opBnot(L *lua.LState) int {
	a := L.Get(1)
	return bitwiseOn(L, "__bnot", a, a, func(x, _ int64) int64 { return ^x })
}

// shiftLeft is Lua 5.3's shift: logical, negative counts shift the other way, and counts of 64 or
// more in either direction give 0.
func shiftLeft(x, n int64) int64 {
	switch {
	case n <= -64 || n >= 64:
		return 0
	case n < 0:
		return int64(uint64(x) >> uint(-n))
	}
	return int64(uint64(x) << uint(n))
}

func shiftRight(x, n int64) int64 {
	if n == math.MinInt64 { // -n overflows; any count this large shifts everything out
		return 0
	}
	return shiftLeft(x, -n)
}

// opIdiv is //. Two integral numbers divide as 5.3 integers (floor, error on zero); anything else,
// strings included (5.3 converts them to floats), divides as floats and floors.
func opIdiv(L *lua.LState) int {
	a, b := L.Get(1), L.Get(2)
	if x, ok := a.(lua.LNumber); ok {
		if y, ok := b.(lua.LNumber); ok {
			xi, okx := floatToInt(float64(x))
			yi, oky := floatToInt(float64(y))
			if okx && oky {
				if yi == 0 {
					L.RaiseError("attempt to divide by zero")
				}
				L.Push(lua.LNumber(float64(floorDiv(xi, yi))))
				return 1
			}
		}
	}
	x, okx := toNumber(a)
	y, oky := toNumber(b)
	if okx && oky {
		L.Push(lua.LNumber(math.Floor(x / y)))
		return 1
	}
	return arithMeta(L, "__idiv", a, b)
}

// arithMeta is an arithmetic operator on operands that are not numbers: the operands' metamethod for
// event, or Lua's error naming the operand that is not a number.
func arithMeta(L *lua.LState, event string, a, b lua.LValue) int {
	if r, ok := callMeta(L, event, a, b); ok {
		L.Push(r)
		return 1
	}
	L.RaiseError("attempt to perform arithmetic on a %s value", blame(a, b).Type().String())
	return 0
}

// floorDiv rounds toward negative infinity; Go's / truncates, and MinInt64 / -1 wraps as in Lua.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// CheckInteger is luaL_checkinteger: a number or numeric string with an exact integer value.
func CheckInteger(L *lua.LState, n int) int64 { return checkInteger(L, n) }

func checkInteger(L *lua.LState, n int) int64 {
	v := L.Get(n)
	if i, ok := toInteger(v); ok {
		return i
	}
	if _, ok := toNumber(v); ok {
		L.ArgError(n, "number has no integer representation")
	}
	L.TypeError(n, lua.LTNumber)
	return 0
}

func optInteger(L *lua.LState, n int, def int64) int64 {
	if L.Get(n) == lua.LNil {
		return def
	}
	return checkInteger(L, n)
}

func checkNumber(L *lua.LState, n int) float64 {
	if f, ok := toNumber(L.Get(n)); ok {
		return f
	}
	L.TypeError(n, lua.LTNumber)
	return 0
}

// interrupted lets long Go loops honour the state's context (the node's instruction meter counts
// Done calls), so one library call cannot run unbounded.
func interrupted(L *lua.LState) {
	ctx := L.Context()
	if ctx == nil {
		return
	}
	select {
	case <-ctx.Done():
		msg := "interrupted"
		if err := ctx.Err(); err != nil {
			msg = err.Error()
		}
		L.RaiseError("%s", msg)
	default:
	}
}
