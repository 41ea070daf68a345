package lua53

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// openMath adds Lua 5.3's integer-related math functions. gopher-lua has only float64 numbers, so an
// "integer" is any integral value that converts to int64 (see floatToInt): math.type(3.0) is
// "integer" here, and math.maxinteger is 2^63 rather than 2^63-1.
func openMath(L *lua.LState) {
	m, ok := L.GetGlobal("math").(*lua.LTable)
	if !ok {
		return
	}
	m.RawSetString("type", L.NewFunction(mathType))
	m.RawSetString("tointeger", L.NewFunction(mathToInteger))
	m.RawSetString("ult", L.NewFunction(mathUlt))
	m.RawSetString("maxinteger", lua.LNumber(float64(math.MaxInt64)))
	m.RawSetString("mininteger", lua.LNumber(float64(math.MinInt64)))
	// gopher-lua's math.huge is the largest finite float; Lua's is infinity (HUGE_VAL).
	m.RawSetString("huge", lua.LNumber(math.Inf(1)))
	// gopher-lua's math.log ignores 5.2's base argument.
	m.RawSetString("log", L.NewFunction(mathLog))
	// correctly rounded, as the wasm's C library (crmath.go)
	// 5.3's math.atan takes an optional x (atan2); gopher-lua's, 5.1's, ignored it.
	m.RawSetString("atan", L.NewFunction(mathAtan))
	m.RawSetString("asin", L.NewFunction(mathAsin))
	m.RawSetString("acos", L.NewFunction(mathAcos))
	m.RawSetString("exp", L.NewFunction(mathExp))
	m.RawSetString("sin", L.NewFunction(mathSin))
	m.RawSetString("cos", L.NewFunction(mathCos))
	m.RawSetString("tan", L.NewFunction(mathTan))
	m.RawSetString("max", L.NewFunction(mathMax))
	m.RawSetString("min", L.NewFunction(mathMin))
	m.RawSetString("fmod", L.NewFunction(mathFmod))
	L.SetGlobal("rawlen", L.NewFunction(baseRawLen))
}

// mathLog is math.log(x [, base]); bases 2 and 10 use the exact functions, as 5.3 does.
func mathLog(L *lua.LState) int {
	x := checkNumber(L, 1)
	var r float64
	switch {
	case L.Get(2) == lua.LNil:
		Charge(L, costTranscendental)
		r = Log(x)
	default:
		switch b := checkNumber(L, 2); b {
		case 2:
			Charge(L, costTranscendental)
			r = Log2(x)
		case 10:
			Charge(L, costTranscendental)
			r = Log10(x)
		default:
			// two logs, each rounded, divided in float64: as C's log(x)/log(b)
			Charge(L, 2*costTranscendental)
			r = Log(x) / Log(b)
		}
	}
	L.Push(lua.LNumber(r))
	return 1
}

// mathMax and mathMin are 5.3's: they compare their arguments with the < operator and return one of them
// as it is, so strings compare as strings, a string and a number do not compare, and math.max("x") is
// "x" (gopher-lua's convert every argument to a number).
func mathMax(L *lua.LState) int {
	return mathPick(L, func(best, v lua.LValue) bool { return L.LessThan(best, v) })
}
func mathMin(L *lua.LState) int {
	return mathPick(L, func(best, v lua.LValue) bool { return L.LessThan(v, best) })
}

func mathPick(L *lua.LState, better func(best, v lua.LValue) bool) int {
	n := L.GetTop()
	if n < 1 {
		L.ArgError(1, "value expected")
	}
	best := L.Get(1)
	for i := 2; i <= n; i++ {
		if v := L.Get(i); better(best, v) {
			best = v
		}
	}
	L.Push(best)
	return 1
}

// mathFmod is 5.3's math.fmod: two integers divide as integers, where a zero divisor is an error (with
// float-only numbers, two integral values are taken as integers, as everywhere in this runtime); any other
// pair is C's fmod.
func mathFmod(L *lua.LState) int {
	a, aok := L.Get(1).(lua.LNumber)
	b, bok := L.Get(2).(lua.LNumber)
	if aok && bok {
		if _, ok := floatToInt(float64(a)); ok {
			if d, ok := floatToInt(float64(b)); ok {
				switch d {
				case 0:
					L.ArgError(2, "zero")
				case -1:
					L.Push(lua.LNumber(0))
					return 1
				}
			}
		}
	}
	L.Push(lua.LNumber(math.Mod(checkNumber(L, 1), checkNumber(L, 2))))
	return 1
}

// baseRawLen is Lua 5.2's rawlen, missing from gopher-lua.
func baseRawLen(L *lua.LState) int {
	switch v := L.Get(1).(type) {
	case *lua.LTable:
		L.Push(lua.LNumber(v.Len()))
	case lua.LString:
		L.Push(lua.LNumber(len(v)))
	default:
		L.ArgError(1, "table or string expected")
	}
	return 1
}

func mathType(L *lua.LState) int {
	n, ok := L.CheckAny(1).(lua.LNumber)
	switch {
	case !ok:
		L.Push(lua.LNil)
	case isInteger(float64(n)):
		L.Push(lua.LString("integer"))
	default:
		L.Push(lua.LString("float"))
	}
	return 1
}

func isInteger(f float64) bool {
	_, ok := floatToInt(f)
	return ok
}

// mathToInteger follows 5.3, where numeric strings convert too.
func mathToInteger(L *lua.LState) int {
	L.CheckAny(1)
	if i, ok := toInteger(L.Get(1)); ok {
		L.Push(lua.LNumber(float64(i)))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

func mathUlt(L *lua.LState) int {
	a, b := checkInteger(L, 1), checkInteger(L, 2)
	L.Push(lua.LBool(uint64(a) < uint64(b)))
	return 1
}

// mathAtan is math.atan(y [, x]): the angle of (x, y), x defaulting to 1.
func mathAtan(L *lua.LState) int {
	y := checkNumber(L, 1)
	x := 1.0
	if L.Get(2) != lua.LNil {
		x = checkNumber(L, 2)
	}
	Charge(L, costTranscendental)
	L.Push(lua.LNumber(Atan2(y, x)))
	return 1
}
