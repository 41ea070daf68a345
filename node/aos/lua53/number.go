package lua53

import (
	"math"
	"strconv"
	"strings"
)

// literal is a Lua 5.3 numeral converted to the float64 gopher-lua stores.
type literal struct {
	value      float64
	gopherSafe bool   // gopher-lua reads the source text to the same value
	emit       string // text to emit instead when !gopherSafe
}

// parseLiteral converts an unsigned numeral as Lua 5.3 does, then decides whether gopher-lua reads the
// same text to the same float64. Hex integers wrap modulo 2^64 like 5.3 integers do; every value is
// then rounded to float64, so integers beyond 2^53 lose their low bits exactly as gopher-lua's own
// integers do.
func parseLiteral(text string) (literal, bool) {
	if len(text) >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') {
		return parseHex(text)
	}
	return parseDecimal(text)
}

func parseHex(text string) (literal, bool) {
	body := text[2:]
	if body != "" && strings.Trim(body, "0123456789abcdefABCDEF") == "" {
		var u uint64
		wrapped := false
		for i := 0; i < len(body); i++ {
			wrapped = wrapped || u>>60 != 0
			u = u<<4 | uint64(hexVal(body[i])) // wraps like Lua 5.3's hex integers
		}
		v := float64(int64(u))
		// gopher-lua parses 0x... with strconv.ParseInt, which fails rather than wraps past MaxInt64.
		safe := !wrapped && u <= math.MaxInt64
		return literal{value: v, gopherSafe: safe, emit: formatNumber(v)}, true
	}
	mant, exp, hasExp := body, "", false
	if i := strings.IndexAny(body, "pP"); i >= 0 {
		mant, exp, hasExp = body[:i], body[i+1:], true
	}
	if !validMantissa(mant, isXDigit) || hasExp && !validExponent(exp) {
		return literal{}, false
	}
	if !hasExp {
		body += "p0" // Go requires the exponent in hex floats; Lua does not
	}
	v, err := strconv.ParseFloat("0x"+body, 64)
	if err != nil && !math.IsInf(v, 0) {
		return literal{}, false
	}
	return literal{value: v, emit: formatNumber(v)}, true
}

func parseDecimal(text string) (literal, bool) {
	mant, exp, hasExp := text, "", false
	if i := strings.IndexAny(text, "eE"); i >= 0 {
		mant, exp, hasExp = text[:i], text[i+1:], true
	}
	if !validMantissa(mant, isDigit) || hasExp && !validExponent(exp) {
		return literal{}, false
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil && !math.IsInf(v, 0) {
		return literal{}, false
	}
	if math.IsInf(v, 0) {
		// Lua reads an overflowing numeral as HUGE_VAL; gopher-lua rejects it.
		return literal{value: v, emit: formatNumber(v)}, true
	}
	// gopher-lua drops one leading zero and hands the rest to strconv.ParseInt with base 0, which
	// reads "010" as octal; strip the zeros so "0010" stays ten.
	intPart := mant
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart = mant[:i]
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		stripped := strings.TrimLeft(intPart, "0")
		if stripped == "" {
			stripped = "0"
		}
		return literal{value: v, emit: stripped + text[len(intPart):]}, true
	}
	return literal{value: v, gopherSafe: true}, true
}

// validMantissa accepts digits with at most one '.', and at least one digit.
func validMantissa(s string, digit func(byte) bool) bool {
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

func validExponent(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// formatNumber renders v so gopher-lua's lexer and strconv read back exactly v; negative values and
// infinities are parenthesized because they are expressions there, not numerals.
func formatNumber(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "(1/0)"
	case math.IsInf(v, -1):
		return "(-1/0)"
	case v < 0:
		return "(" + strconv.FormatFloat(v, 'g', -1, 64) + ")"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// str2number converts a string operand the way Lua 5.3 coerces strings in arithmetic and bitwise
// operations: surrounding whitespace, an optional sign, decimal or hex (hex integers wrap), and no
// "inf"/"nan" spellings.
func str2number(s string) (float64, bool) {
	s = strings.Trim(s, " \t\n\r\v\f")
	if strings.ContainsAny(s, "nN_") {
		return 0, false
	}
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || !(isDigit(s[0]) || s[0] == '.') {
		return 0, false
	}
	lit, ok := parseLiteral(s)
	if !ok {
		return 0, false
	}
	if neg {
		return -lit.value, true
	}
	return lit.value, true
}
