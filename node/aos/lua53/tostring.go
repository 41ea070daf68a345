package lua53

import (
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// NumberText is Lua 5.3's tostring of a number under gopher-lua's one number type: a value that is
// integral and within the int64 range prints as an integer ("5", "-3", "1000000000000000"), as 5.3
// prints integers; every other value prints with "%.14g" as 5.3 prints floats ("3.1415926535898",
// "0.1", "1e+100", "9.2233720368548e+18", "inf", "-inf"). Go's %.14g is C's for finite values.
//
// NaN prints "-nan" whatever its sign bit: real AOS (5.3 on wasm) prints "-nan" for the NaN its
// arithmetic produces (0/0, inf-inf, math.sqrt(-1)), and the sign of a NaN that Go's arithmetic produces
// depends on the processor; one spelling keeps the output the same on every node.
func NumberText(f float64) string {
	switch {
	case f == math.Trunc(f) && f >= -two63 && f < two63:
		return strconv.FormatInt(int64(f), 10)
	case math.IsNaN(f):
		return "-nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

// checkString is luaL_checklstring: a string, or a number as tostring writes it (gopher-lua's CheckString
// writes a number in Go's shortest form: 1/3 would be 18 characters, not 16).
func checkString(L *lua.LState, n int) string {
	if v, ok := L.Get(n).(lua.LNumber); ok {
		return NumberText(float64(v))
	}
	return L.CheckString(n)
}
