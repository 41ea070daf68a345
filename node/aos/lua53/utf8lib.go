package lua53

import (
	lua "github.com/yuin/gopher-lua"
)

// charPattern matches exactly one UTF-8 sequence, as Lua 5.3's utf8.charpattern.
const charPattern = "[\x00-\x7F\xC2-\xF4][\x80-\xBF]*"

const maxUnicode = 0x10FFFF

func openUTF8(L *lua.LState) {
	u := L.NewTable()
	setFuncs(L, u, []namedFunc{
		{"char", utf8Char},
		{"codepoint", utf8Codepoint},
		{"codes", utf8Codes},
		{"len", utf8Len},
		{"offset", utf8Offset},
	})
	u.RawSetString("charpattern", lua.LString(charPattern))
	L.SetGlobal("utf8", u)
	if pkg, ok := L.GetGlobal("package").(*lua.LTable); ok {
		if loaded, ok := pkg.RawGetString("loaded").(*lua.LTable); ok {
			loaded.RawSetString("utf8", u)
		}
	}
}

// utf8Decode decodes one sequence at s[i:] with 5.3's rules: at most four bytes, no overlong forms,
// nothing above U+10FFFF (surrogates pass). size is 0 for an invalid sequence.
func utf8Decode(s string, i int) (code rune, size int) {
	c := s[i]
	var n int // continuation bytes
	switch {
	case c < 0x80:
		return rune(c), 1
	case c&0xE0 == 0xC0:
		n, code = 1, rune(c&0x1F)
	case c&0xF0 == 0xE0:
		n, code = 2, rune(c&0x0F)
	case c&0xF8 == 0xF0:
		n, code = 3, rune(c&0x07)
	default:
		return 0, 0
	}
	for k := 1; k <= n; k++ {
		if i+k >= len(s) || s[i+k]&0xC0 != 0x80 {
			return 0, 0
		}
		code = code<<6 | rune(s[i+k]&0x3F)
	}
	if code > maxUnicode || code <= [...]rune{0, 0x7F, 0x7FF, 0xFFFF}[n] {
		return 0, 0
	}
	return code, n + 1
}

// posRelative turns a possibly negative string position into an absolute one (0 when before start).
func posRelative(pos int64, n int) int64 {
	switch {
	case pos >= 0:
		return pos
	case -pos > int64(n):
		return 0
	}
	return int64(n) + pos + 1
}

func utf8Char(L *lua.LState) int {
	var b []byte
	for i := 1; i <= L.GetTop(); i++ {
		c := checkInteger(L, i)
		if uint64(c) > maxUnicode { // Lua 5.3's bound (5.4 allows up to 2^31)
			L.ArgError(i, "value out of range")
		}
		b = append(b, utf8Encode(uint32(c))...)
	}
	L.Push(lua.LString(b))
	return 1
}

func utf8Codepoint(L *lua.LState) int {
	s := checkString(L, 1)
	i := posRelative(optInteger(L, 2, 1), len(s))
	j := posRelative(optInteger(L, 3, i), len(s))
	if i < 1 {
		L.ArgError(2, "out of range")
	}
	if j > int64(len(s)) {
		L.ArgError(3, "out of range")
	}
	n := 0
	for p := int(i - 1); p < int(j); {
		code, size := utf8Decode(s, p)
		if size == 0 {
			L.RaiseError("invalid UTF-8 code")
		}
		L.Push(lua.LNumber(code))
		n++
		p += size
	}
	return n
}

// utf8Len returns the number of characters in s[i..j], or nil and the position of the first invalid
// byte.
func utf8Len(L *lua.LState) int {
	s := checkString(L, 1)
	i := posRelative(optInteger(L, 2, 1), len(s))
	j := posRelative(optInteger(L, 3, -1), len(s))
	if i < 1 || i-1 > int64(len(s)) {
		L.ArgError(2, "initial position out of string")
	}
	if j-1 >= int64(len(s)) {
		L.ArgError(3, "final position out of string")
	}
	n := 0
	for p := int(i - 1); p < int(j); {
		_, size := utf8Decode(s, p)
		if size == 0 {
			L.Push(lua.LNil)
			L.Push(lua.LNumber(p + 1))
			return 2
		}
		p += size
		n++
	}
	L.Push(lua.LNumber(n))
	return 1
}

func isCont(s string, p int64) bool { return p < int64(len(s)) && s[p]&0xC0 == 0x80 }

// utf8Offset returns the byte position where the n-th character (counting from position i) starts.
func utf8Offset(L *lua.LState) int {
	s := checkString(L, 1)
	n := checkInteger(L, 2)
	def := int64(1)
	if n < 0 {
		def = int64(len(s)) + 1
	}
	p := posRelative(optInteger(L, 3, def), len(s))
	if p < 1 || p-1 > int64(len(s)) {
		L.ArgError(3, "position out of range")
	}
	p-- // zero-based from here
	if n == 0 {
		for p > 0 && isCont(s, p) {
			p--
		}
		L.Push(lua.LNumber(p + 1))
		return 1
	}
	if isCont(s, p) {
		L.RaiseError("initial position is a continuation byte")
	}
	if n < 0 {
		for n < 0 && p > 0 {
			p--
			for p > 0 && isCont(s, p) {
				p--
			}
			n++
		}
	} else {
		n--
		for n > 0 && p < int64(len(s)) {
			p++
			for isCont(s, p) {
				p++
			}
			n--
		}
	}
	if n == 0 {
		L.Push(lua.LNumber(p + 1))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

func utf8Codes(L *lua.LState) int {
	s := checkString(L, 1)
	L.Push(L.NewFunction(utf8CodesNext))
	L.Push(lua.LString(s))
	L.Push(lua.LNumber(0))
	return 3
}

// utf8CodesNext is the iterator: from the byte position of the previous character, skip it and
// decode the next.
func utf8CodesNext(L *lua.LState) int {
	s := checkString(L, 1)
	p := checkInteger(L, 2) - 1
	if p < 0 {
		p = 0
	} else if p < int64(len(s)) {
		p++
		for isCont(s, p) {
			p++
		}
	}
	if p >= int64(len(s)) {
		return 0
	}
	code, size := utf8Decode(s, int(p))
	if size == 0 || isCont(s, p+int64(size)) {
		L.RaiseError("invalid UTF-8 code")
	}
	L.Push(lua.LNumber(p + 1))
	L.Push(lua.LNumber(code))
	return 2
}
