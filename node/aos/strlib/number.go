package strlib

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/node/aos/lua53"
)

// NumberToString is Lua 5.3's tostring of a number: lua53.NumberText, under the name this package's
// callers use.
//
// -0.0 is integral, so it prints "0", as 5.3 prints the integer 0 (5.3's float -0.0 prints "-0.0";
// without an integer subtype the two cannot be told apart, and the integer is the common case: 0*-1,
// -x for x = 0).
func NumberToString(f float64) string { return lua53.NumberText(f) }

// nonFinite is C's spelling of an infinity or NaN (see NumberToString for the NaN's sign).
func nonFinite(f float64, upper bool) string {
	s := "inf"
	switch {
	case math.IsNaN(f):
		s = "-nan"
	case f < 0:
		s = "-inf"
	}
	if upper {
		s = strings.ToUpper(s)
	}
	return s
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c >= '\t' && c <= '\r'
}

func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

// StringToNumber converts a string as Lua 5.3 does (lua_stringtonumber, tonumber(s), and the coercion
// of strings in arithmetic): optional spaces around, an optional sign, then a decimal integer, a hex
// integer (0x10, wrapping modulo 2^64 as 5.3 integers do), or a decimal or hexadecimal float with an
// optional exponent ("1e2", ".5", "5.", "0x1p4", "0x.8"). "inf", "nan" and anything else are not
// numbers. The result is rounded to float64.
func StringToNumber(s string) (float64, bool) {
	s = trimSpace(s)
	body := s
	neg := false
	if body != "" && (body[0] == '-' || body[0] == '+') {
		neg = body[0] == '-'
		body = body[1:]
	}
	if len(body) >= 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		digits := body[2:]
		if digits != "" && allHex(digits) {
			// A hex integer: 5.3 keeps the low 64 bits.
			var u uint64
			for i := 0; i < len(digits); i++ {
				u = u<<4 | uint64(hexValue(digits[i]))
			}
			if neg {
				u = -u
			}
			return float64(int64(u)), true
		}
		return hexFloat(digits, neg)
	}
	return decimalFloat(body, neg)
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if hexValue(s[i]) < 0 {
			return false
		}
	}
	return true
}

func hexValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// mantissa checks digits with at most one '.', and at least one digit.
func mantissa(s string, digit func(byte) bool) bool {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch {
		case digit(s[i]):
			digits++
		case s[i] == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

func exponent(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// parsed finishes a float conversion: strconv's result (an overflow gives an infinity and an underflow
// zero, as strtod does), negated for a leading '-'.
func parsed(text string, neg bool) (float64, bool) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	if neg {
		f = -f
	}
	return f, true
}

func decimalFloat(s string, neg bool) (float64, bool) {
	mant, exp, hasExp := s, "", false
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp, hasExp = s[:i], s[i+1:], true
	}
	if !mantissa(mant, isDigit) || hasExp && !exponent(exp) {
		return 0, false
	}
	return parsed(s, neg)
}

func hexFloat(s string, neg bool) (float64, bool) {
	mant, exp, hasExp := s, "", false
	if i := strings.IndexAny(s, "pP"); i >= 0 {
		mant, exp, hasExp = s[:i], s[i+1:], true
	}
	if !mantissa(mant, func(c byte) bool { return hexValue(c) >= 0 }) || hasExp && !exponent(exp) {
		return 0, false
	}
	if !hasExp {
		s += "p0" // Go requires the binary exponent; C does not
	}
	return parsed("0x"+s, neg)
}

// ParseInteger is tonumber(s, base) of Lua 5.3: optional spaces around, an optional sign, then one or
// more digits of the base (letters for 10 to 35, either case); the value wraps modulo 2^64 as 5.3
// integers do. base must be in [2, 36].
func ParseInteger(s string, base int) (float64, bool) {
	s = trimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d int
		switch {
		case isDigit(c):
			d = int(c - '0')
		case c >= 'a' && c <= 'z':
			d = int(c-'a') + 10
		case c >= 'A' && c <= 'Z':
			d = int(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		n = n*uint64(base) + uint64(d)
	}
	if neg {
		n = -n
	}
	return float64(int64(n)), true
}

// Tonumber is Lua 5.3's tonumber(v [, base]), charging a long string's conversion to h.
func Tonumber(h Hooks) lua.LGFunction {
	return (&lib{h: h}).tonumber
}

func (l *lib) tonumber(L *lua.LState) int {
	if L.Get(2) == lua.LNil {
		if L.GetTop() < 1 {
			raise(L, "bad argument #1 to 'tonumber' (value expected)")
		}
		switch v := L.Get(1).(type) {
		case lua.LNumber:
			L.Push(v)
			return 1
		case lua.LString:
			if f, ok := l.toNumber(L, string(v)); ok {
				L.Push(lua.LNumber(f))
				return 1
			}
		}
		L.Push(lua.LNil)
		return 1
	}
	base := l.checkInteger(L, 2, "tonumber")
	s, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "bad argument #1 to 'tonumber' (string expected, got "+typeName(L, 1)+")")
	}
	if base < 2 || base > 36 {
		raise(L, "bad argument #2 to 'tonumber' (base out of range)")
	}
	l.charge(L, int64(len(s)/scanBytesPerInstr))
	if f, ok := ParseInteger(string(s), int(base)); ok {
		L.Push(lua.LNumber(f))
		return 1
	}
	L.Push(lua.LNil)
	return 1
}
