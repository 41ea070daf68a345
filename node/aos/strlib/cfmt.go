package strlib

import (
	"math"
	"strconv"
)

// C printf conversions as glibc formats them (what Lua 5.3's string.format hands its directives to),
// built on strconv's exact decimal conversions.

// spec is a parsed directive: flags, width and precision (-1 when absent).
type spec struct {
	minus, plus, space, alt, zero bool
	width, prec                   int
}

// pad appends prefix (sign, "0x") and body, padded to the width: with spaces on the left, or on the
// right for '-', or with zeros between prefix and body for '0' when zeroOK.
func pad(b []byte, sp spec, prefix, body string, zeroOK bool) []byte {
	n := sp.width - len(prefix) - len(body)
	switch {
	case n <= 0:
		b = append(b, prefix...)
		b = append(b, body...)
	case sp.minus:
		b = append(b, prefix...)
		b = append(b, body...)
		b = appendRepeat(b, ' ', n)
	case sp.zero && zeroOK:
		b = append(b, prefix...)
		b = appendRepeat(b, '0', n)
		b = append(b, body...)
	default:
		b = appendRepeat(b, ' ', n)
		b = append(b, prefix...)
		b = append(b, body...)
	}
	return b
}

func appendRepeat(b []byte, c byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, c)
	}
	return b
}

// appendInteger is %d, %i, %u, %o, %x and %X of a 64-bit integer (the unsigned ones see its two's
// complement bits, as C's %llx does).
func appendInteger(b []byte, v int64, sp spec, conv byte) []byte {
	var digits, prefix string
	switch conv {
	case 'd', 'i':
		u := uint64(v)
		if v < 0 {
			u = -u
			prefix = "-"
		} else if sp.plus {
			prefix = "+"
		} else if sp.space {
			prefix = " "
		}
		digits = strconv.FormatUint(u, 10)
	case 'u':
		digits = strconv.FormatUint(uint64(v), 10)
	case 'o':
		digits = strconv.FormatUint(uint64(v), 8)
	case 'x':
		digits = strconv.FormatUint(uint64(v), 16)
		if sp.alt && v != 0 {
			prefix = "0x"
		}
	case 'X':
		digits = strconv.FormatUint(uint64(v), 16)
		digits = upperASCII(digits)
		if sp.alt && v != 0 {
			prefix = "0X"
		}
	}
	if sp.prec >= 0 {
		if sp.prec == 0 && v == 0 {
			digits = ""
		}
		if n := sp.prec - len(digits); n > 0 {
			digits = string(appendRepeat(make([]byte, 0, sp.prec), '0', n)) + digits
		}
	}
	if conv == 'o' && sp.alt && (digits == "" || digits[0] != '0') {
		digits = "0" + digits
	}
	return pad(b, sp, prefix, digits, sp.prec < 0)
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// floatSign is the sign C prints before a float: '-' for a set sign bit (and for NaN, which prints
// "-nan", see NumberToString), else '+' or ' ' when the flags ask for one.
func floatSign(f float64, sp spec) string {
	switch {
	case math.Signbit(f) || math.IsNaN(f):
		return "-"
	case sp.plus:
		return "+"
	case sp.space:
		return " "
	}
	return ""
}

// appendFloat is %e, %E, %f, %g and %G.
func appendFloat(b []byte, f float64, sp spec, conv byte) []byte {
	sign := floatSign(f, sp)
	upper := conv == 'E' || conv == 'G'
	if math.IsInf(f, 0) || math.IsNaN(f) {
		body := "inf"
		if math.IsNaN(f) {
			body = "nan"
		}
		if upper {
			body = upperASCII(body)
		}
		return pad(b, sp, sign, body, false)
	}
	f = math.Abs(f)
	prec := sp.prec
	if prec < 0 {
		prec = 6
	}
	var body []byte
	switch conv {
	case 'f':
		body = strconv.AppendFloat(nil, f, 'f', prec, 64)
		if sp.alt && prec == 0 {
			body = append(body, '.')
		}
	case 'e', 'E':
		body = appendExp(nil, f, prec, sp.alt, upper)
	default:
		body = appendG(nil, f, prec, sp.alt, upper)
	}
	return pad(b, sp, sign, string(body), true)
}

// appendExp is C's %.{prec}e of f >= 0 (strconv writes the exponent as C does: a sign and at least
// two digits).
func appendExp(b []byte, f float64, prec int, alt, upper bool) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, f, 'e', prec, 64)
	if alt && prec == 0 { // "1e+00" -> "1.e+00"
		i := start + 1
		b = append(b, 0)
		copy(b[i+1:], b[i:])
		b[i] = '.'
	}
	if upper {
		for i := start; i < len(b); i++ {
			if b[i] == 'e' {
				b[i] = 'E'
			}
		}
	}
	return b
}

// appendG is C's %.{prec}g of f (finite; the sign is the caller's unless f < 0): %e or %f by the
// decimal exponent X of f rounded to P significant digits (%f when P > X >= -4), then trailing zeros
// removed unless alt.
func appendG(b []byte, f float64, prec int, alt, upper bool) []byte {
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	p := prec
	if p == 0 {
		p = 1
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', p-1, 64)
	x := 0 // the exponent after rounding
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] == 'e' {
			x, _ = strconv.Atoi(string(e[i+1:]))
			break
		}
	}
	start := len(b)
	if p > x && x >= -4 {
		b = strconv.AppendFloat(b, f, 'f', p-1-x, 64)
		if alt && p-1-x == 0 {
			b = append(b, '.')
		}
		if !alt {
			b = trimZeros(b, start, len(b))
		}
		return b
	}
	b = appendExp(b, f, p-1, alt, upper)
	if !alt {
		ePos := len(b) - 1
		for b[ePos] != 'e' && b[ePos] != 'E' {
			ePos--
		}
		exp := string(b[ePos:])
		b = trimZeros(b, start, ePos)
		b = append(b, exp...)
	}
	return b
}

// trimZeros cuts b at end and drops the trailing zeros of the fraction in b[start:end], and the point
// if nothing is left after it.
func trimZeros(b []byte, start, end int) []byte {
	b = b[:end]
	dot := -1
	for i := start; i < end; i++ {
		if b[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 {
		return b
	}
	for len(b) > dot+1 && b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if len(b) == dot+1 {
		b = b[:dot]
	}
	return b
}

// appendHexFloat is %a and %A as glibc writes them: "0x1.8p+1"; subnormals keep a leading 0
// ("0x0.0000000000001p-1022"); a precision rounds the 52-bit fraction half to even, and a carry can
// make the leading digit 2 ("%.0a" of 1.5 is "0x2p+0").
func appendHexFloat(b []byte, f float64, sp spec, upper bool) []byte {
	sign := floatSign(f, sp)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		body := "inf"
		if math.IsNaN(f) {
			body = "nan"
		}
		if upper {
			body = upperASCII(body)
		}
		return pad(b, sp, sign, body, false)
	}
	bits := math.Float64bits(f)
	frac := bits & (1<<52 - 1)
	bexp := int(bits>>52) & 0x7ff
	lead, exp := uint64(1), bexp-1023
	switch {
	case bexp == 0 && frac == 0:
		lead, exp = 0, 0
	case bexp == 0:
		lead, exp = 0, -1022
	}
	const nibbles = 13
	var digits []byte
	switch {
	case sp.prec < 0:
		digits = hexDigits(frac, nibbles)
		for len(digits) > 0 && digits[len(digits)-1] == '0' {
			digits = digits[:len(digits)-1]
		}
	case sp.prec < nibbles:
		shift := uint(4 * (nibbles - sp.prec))
		q, r, half := frac>>shift, frac&(1<<shift-1), uint64(1)<<(shift-1)
		odd := q&1 == 1
		if sp.prec == 0 {
			odd = lead&1 == 1
		}
		if r > half || r == half && odd {
			q++
			if q == 1<<uint(4*sp.prec) {
				q = 0
				lead++
			}
		}
		digits = hexDigits(q, sp.prec)
	default:
		digits = hexDigits(frac, nibbles)
		digits = appendRepeat(digits, '0', sp.prec-nibbles)
	}
	body := make([]byte, 0, 24+len(digits))
	body = append(body, byte('0'+lead))
	if len(digits) > 0 || sp.alt {
		body = append(body, '.')
	}
	body = append(body, digits...)
	body = append(body, 'p')
	if exp >= 0 {
		body = append(body, '+')
	}
	body = strconv.AppendInt(body, int64(exp), 10)
	prefix := sign + "0x"
	if upper {
		prefix = sign + "0X"
		body = []byte(upperASCII(string(body)))
	}
	return pad(b, sp, prefix, string(body), true)
}

// hexDigits is v in n lower-case hex digits.
func hexDigits(v uint64, n int) []byte {
	d := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		d[i] = "0123456789abcdef"[v&15]
		v >>= 4
	}
	return d
}
