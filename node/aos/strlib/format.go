package strlib

import (
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// string.format, with 5.3's directives, limits and errors.

// fmtFlags are the flags a directive may have; 5.3 refuses a run of more than five of them.
const fmtFlags = "-+ #0"

// maxItem bounds what one numeric directive writes: %.99f of 1e308 (309 digits, a point and 99 more).
const maxItem = 512

func (l *lib) format(L *lua.LState) int {
	fs := checkString(L, 1, "format")
	top := L.GetTop()
	arg := 1
	b := newBuffer(l, L, "string.format", len(fs)+16)
	directives := 0
	for i := 0; i < len(fs); {
		if fs[i] != '%' {
			j := strings.IndexByte(fs[i:], '%')
			if j < 0 {
				j = len(fs) - i
			}
			b.addString(fs[i : i+j])
			i += j
			continue
		}
		i++
		if i < len(fs) && fs[i] == '%' {
			b.addByte('%')
			i++
			continue
		}
		if arg++; arg > top {
			argError(L, arg, "format", "no value")
		}
		sp, j := scanFormat(L, fs, i)
		bare := j == i // no flags, width or precision
		var conv byte  // '\0' at the end of the format, as in C
		if j < len(fs) {
			conv = fs[j]
		}
		i = j + 1
		directives++
		switch conv {
		case 'c':
			c := byte(l.checkInteger(L, arg, "format"))
			b.need(maxItem)
			b.b = pad(b.b, sp, "", string([]byte{c}), false)
		case 'd', 'i', 'o', 'u', 'x', 'X':
			n := l.checkInteger(L, arg, "format")
			b.need(maxItem)
			b.b = appendInteger(b.b, n, sp, conv)
		case 'a', 'A':
			f := l.checkNumber(L, arg, "format")
			b.need(maxItem)
			b.b = appendHexFloat(b.b, f, sp, conv == 'A')
		case 'e', 'E', 'f', 'g', 'G':
			f := l.checkNumber(L, arg, "format")
			b.need(maxItem)
			b.b = appendFloat(b.b, f, sp, conv)
		case 'q':
			l.addLiteral(L, &b, arg)
		case 's':
			s := l.toString(L, arg)
			switch {
			case bare:
				b.addString(s)
			case strings.IndexByte(s, 0) >= 0:
				argError(L, arg, "format", "string contains zeros")
			case sp.prec < 0 && len(s) >= 100: // no width can pad it (at most 99)
				b.addString(s)
			default:
				if sp.prec >= 0 && len(s) > sp.prec {
					s = s[:sp.prec]
				}
				b.need(maxItem)
				b.b = pad(b.b, sp, "", s, false)
			}
		default:
			c := string([]byte{conv})
			if conv < ' ' || conv > '~' { // as lua_pushfstring writes an unprintable %c
				c = "<\\" + itoa(int64(conv)) + ">"
			}
			raise(L, "invalid option '%"+c+"' to 'format'")
		}
	}
	l.charge(L, int64(directives))
	L.Push(lua.LString(b.done()))
	return 1
}

// scanFormat reads a directive's flags, width and precision from fs[i:], with 5.3's limits (at most
// five flags, two digits each), and returns it with the index of its conversion letter.
func scanFormat(L *lua.LState, fs string, i int) (spec, int) {
	sp := spec{width: -1, prec: -1}
	start := i
	for ; i < len(fs) && strings.IndexByte(fmtFlags, fs[i]) >= 0; i++ {
		switch fs[i] {
		case '-':
			sp.minus = true
		case '+':
			sp.plus = true
		case ' ':
			sp.space = true
		case '#':
			sp.alt = true
		case '0':
			sp.zero = true
		}
	}
	if i-start > len(fmtFlags) {
		raise(L, "invalid format (repeated flags)")
	}
	digits := func() int {
		n := -1
		for k := 0; k < 2 && i < len(fs) && isDigit(fs[i]); k++ {
			n = max(n, 0)*10 + int(fs[i]-'0')
			i++
		}
		return n
	}
	sp.width = digits()
	if i < len(fs) && fs[i] == '.' {
		i++
		sp.prec = max(digits(), 0)
	}
	if i < len(fs) && isDigit(fs[i]) {
		raise(L, "invalid format (width or precision too long)")
	}
	return sp, i
}

// addLiteral is %q: a string quoted so Lua reads it back, an integer in decimal (the smallest one in
// hex, as 5.3 does), any other number in hex float, nil and booleans as their names.
func (l *lib) addLiteral(L *lua.LState, b *buffer, arg int) {
	switch v := L.Get(arg).(type) {
	case lua.LString:
		l.addQuoted(L, b, string(v))
	case lua.LNumber:
		f := float64(v)
		switch {
		case f == -two63:
			b.addString("0x8000000000000000")
		case f == math.Trunc(f) && f > -two63 && f < two63:
			b.addString(itoa(int64(f)))
		default:
			b.need(maxItem)
			b.b = appendHexFloat(b.b, f, spec{width: -1, prec: -1}, false)
		}
	case *lua.LNilType:
		b.addString("nil")
	case lua.LBool:
		if v {
			b.addString("true")
		} else {
			b.addString("false")
		}
	default:
		argError(L, arg, "format", "value has no literal form")
	}
}

// addQuoted appends s in double quotes: '"', '\\' and newline escaped with a backslash, other control
// characters as \ddd (\d when no digit follows).
func (l *lib) addQuoted(L *lua.LState, b *buffer, s string) {
	size, escapes := len(s)+2, 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; quoteNeeded[c] {
			size += quotedLen(c, i+1 < len(s) && isDigit(s[i+1])) - 1
			escapes++
		}
	}
	l.charge(L, int64((len(s)+2*escapes)/mapBytesPerInstr))
	b.need(size)
	out := append(b.b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !quoteNeeded[c] {
			out = append(out, c)
			continue
		}
		out = append(out, '\\')
		switch n := quotedLen(c, i+1 < len(s) && isDigit(s[i+1])); n {
		case 2:
			if c == '"' || c == '\\' || c == '\n' {
				out = append(out, c)
			} else {
				out = append(out, '0'+c)
			}
		case 3:
			out = append(out, '0'+c/10, '0'+c%10)
		default:
			out = append(out, '0'+c/100, '0'+c/10%10, '0'+c%10)
		}
	}
	b.b = append(out, '"')
}

// quotedLen is the length of byte c escaped by %q: a backslash and the byte, or its decimal code (three
// digits when a digit follows, so it reads back the same).
func quotedLen(c byte, digitNext bool) int {
	switch {
	case c == '"' || c == '\\' || c == '\n':
		return 2
	case digitNext || c >= 100:
		return 4
	case c >= 10:
		return 3
	}
	return 2
}

// quoteNeeded marks the bytes %q escapes.
var quoteNeeded = func() (t [256]bool) {
	for c := range t {
		t[c] = c == '"' || c == '\\' || c == '\n' || classes[c]&cCntrl != 0
	}
	return t
}()

// toString is 5.3's luaL_tolstring: __tostring (which must give a string), numbers as tostring
// prints them, strings, nil, booleans, and "<type>: <address>" for the rest (or the ToString hook).
func (l *lib) toString(L *lua.LState, arg int) string {
	v := L.Get(arg)
	if mt, ok := L.GetMetatable(v).(*lua.LTable); ok {
		if mm := mt.RawGetString("__tostring"); mm != lua.LNil {
			L.Push(mm)
			L.Push(v)
			L.Call(1, 1)
			r := L.Get(-1)
			L.Pop(1)
			switch x := r.(type) {
			case lua.LString:
				return string(x)
			case lua.LNumber:
				return NumberToString(float64(x))
			}
			raise(L, "'__tostring' must return a string")
		}
	}
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return NumberToString(float64(x))
	case *lua.LNilType:
		return "nil"
	case lua.LBool:
		if x {
			return "true"
		}
		return "false"
	}
	if l.h.ToString != nil {
		return l.h.ToString(L, v)
	}
	s := v.String()
	if mt, ok := L.GetMetatable(v).(*lua.LTable); ok {
		if name, ok := mt.RawGetString("__name").(lua.LString); ok {
			if i := strings.Index(s, ": "); i >= 0 {
				s = string(name) + s[i:]
			}
		}
	}
	return s
}
