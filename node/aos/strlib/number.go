package strlib

import (
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
// of strings in arithmetic): lua53.StringToNumber, under the name this package's callers use.
func StringToNumber(s string) (float64, bool) { return lua53.StringToNumber(s) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

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
