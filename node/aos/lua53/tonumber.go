package lua53

import (
	"math"
	"strings"
)

// StringToNumber is Lua 5.3's conversion of a string to a number (tonumber(s) without a base): surrounding
// whitespace, an optional sign, a decimal or hex integer (hex integers wrap) or float, and no "inf" or
// "nan" spellings. An integer numeral gives an integer, so "-0" is 0, not the float -0.0.
func StringToNumber(s string) (float64, bool) {
	f, ok := str2number(s)
	if ok && f == 0 && math.Signbit(f) && isIntegerNumeral(s) {
		f = 0
	}
	return f, ok
}

// isIntegerNumeral: s (a valid numeral) has no fraction and no exponent.
func isIntegerNumeral(s string) bool {
	s = strings.Trim(s, " \t\n\r\v\f")
	s = strings.TrimLeft(s, "+-")
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return !strings.ContainsAny(s[2:], ".pP")
	}
	return !strings.ContainsAny(s, ".eE")
}
