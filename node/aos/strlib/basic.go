package strlib

import (
	"math"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// string.rep, byte, char, sub, upper, lower, reverse and len.

// maxSize is 5.3's MAXSIZE for string.rep: results must fit in a C int.
const maxSize = math.MaxInt32

func (l *lib) len_(L *lua.LState) int {
	L.Push(lua.LNumber(len(checkString(L, 1, "len"))))
	return 1
}

func (l *lib) sub(L *lua.LState) int {
	s := checkString(L, 1, "sub")
	start := posrelat(l.checkInteger(L, 2, "sub"), len(s))
	end := posrelat(l.optInteger(L, 3, "sub", -1), len(s))
	if start < 1 {
		start = 1
	}
	if end > int64(len(s)) {
		end = int64(len(s))
	}
	if start > end {
		L.Push(lua.LString(""))
		return 1
	}
	L.Push(lua.LString(s[start-1 : end])) // shares s's bytes: nothing is copied
	return 1
}

func (l *lib) byte_(L *lua.LState) int {
	s := checkString(L, 1, "byte")
	posi := posrelat(l.optInteger(L, 2, "byte", 1), len(s))
	pose := posrelat(l.optInteger(L, 3, "byte", posi), len(s))
	if posi < 1 {
		posi = 1
	}
	if pose > int64(len(s)) {
		pose = int64(len(s))
	}
	if posi > pose {
		return 0
	}
	if pose-posi >= math.MaxInt32 {
		raise(L, "string slice too long")
	}
	n := int(pose - posi + 1)
	if n > stackRoom(L) {
		raise(L, "stack overflow (string slice too long)")
	}
	l.charge(L, int64(n/valuesPerInstr))
	for i := posi - 1; i < pose; i++ {
		L.Push(lua.LNumber(s[i]))
	}
	return n
}

func (l *lib) char(L *lua.LState) int {
	n := L.GetTop()
	l.charge(L, int64(n)) // each value is converted and checked
	b := make([]byte, n)
	for i := 1; i <= n; i++ {
		c := l.checkInteger(L, i, "char")
		if uint64(c) > 255 {
			argError(L, i, "char", "value out of range")
		}
		b[i-1] = byte(c)
	}
	L.Push(lua.LString(bytesToString(b)))
	return 1
}

func (l *lib) rep(L *lua.LState) int {
	s := checkString(L, 1, "rep")
	n := l.checkInteger(L, 2, "rep")
	sep := optString(L, 3, "rep", "")
	if n <= 0 || len(s)+len(sep) == 0 {
		L.Push(lua.LString(""))
		return 1
	}
	if int64(len(s)+len(sep)) > maxSize/n {
		raise(L, "resulting string too large")
	}
	total := n*int64(len(s)) + (n-1)*int64(len(sep))
	if total >= allocReport {
		l.alloc(L, "string.rep", total)
	}
	l.charge(L, total/copyBytesPerInstr)
	if sep == "" {
		L.Push(lua.LString(strings.Repeat(s, int(n))))
		return 1
	}
	// (s..sep) n-1 times, by doubling the part already built, then s.
	b := make([]byte, total)
	unit := len(s) + len(sep)
	copy(b, s)
	copy(b[len(s):], sep)
	body := int(n-1) * unit
	for k := unit; k < body; k *= 2 {
		copy(b[k:body], b[:k])
	}
	copy(b[body:], s)
	L.Push(lua.LString(bytesToString(b)))
	return 1
}

// mapBytes is upper, lower and reverse: a new string of s's length built byte by byte.
func (l *lib) mapBytes(L *lua.LState, fname string, f func(dst []byte, s string)) int {
	s := checkString(L, 1, fname)
	if len(s) >= allocReport {
		l.alloc(L, "string."+fname, int64(len(s)))
	}
	l.charge(L, int64(len(s)/mapBytesPerInstr))
	b := make([]byte, len(s))
	f(b, s)
	L.Push(lua.LString(bytesToString(b)))
	return 1
}

func (l *lib) upper(L *lua.LState) int {
	return l.mapBytes(L, "upper", func(dst []byte, s string) {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst[i] = c
		}
	})
}

func (l *lib) lower(L *lua.LState) int {
	return l.mapBytes(L, "lower", func(dst []byte, s string) {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst[i] = c
		}
	})
}

func (l *lib) reverse(L *lua.LState) int {
	return l.mapBytes(L, "reverse", func(dst []byte, s string) {
		for i, j := 0, len(s)-1; j >= 0; i, j = i+1, j-1 {
			dst[i] = s[j]
		}
	})
}

// bytesToString makes a string of b without copying; b must not be changed afterwards.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// stackRoom is how many values a Go function may push: the most the state's data stack can hold
// (gopher-lua raises "registry overflow" past it, 5.3 "stack overflow").
func stackRoom(L *lua.LState) int {
	if n := L.Options.RegistryMaxSize; n > 0 {
		return n
	}
	if n := L.Options.RegistrySize; n > 0 {
		return n
	}
	return lua.RegistrySize
}
