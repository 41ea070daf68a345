package strlib

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// string.find, string.match, string.gmatch and string.gsub.

// specials are the bytes that make a pattern more than plain text.
const specials = "^$*+?.([%-"

func (l *lib) find(L *lua.LState) int  { return l.findAux(L, true) }
func (l *lib) match(L *lua.LState) int { return l.findAux(L, false) }

func (l *lib) findAux(L *lua.LState, find bool) int {
	fname := "match"
	if find {
		fname = "find"
	}
	s := checkString(L, 1, fname)
	p := checkString(L, 2, fname)
	init := posrelat(l.optInteger(L, 3, fname, 1), len(s))
	if init < 1 {
		init = 1
	} else if init > int64(len(s))+1 { // starts after the end: nothing to find
		L.Push(lua.LNil)
		return 1
	}
	if find && (lua.LVAsBool(L.Get(4)) || !strings.ContainsAny(p, specials)) {
		// A plain search.
		l.charge(L, int64(len(s)-int(init)+1+len(p))/scanBytesPerInstr)
		if i := strings.Index(s[init-1:], p); i >= 0 {
			start := int(init) + i
			L.Push(lua.LNumber(start))
			L.Push(lua.LNumber(start + len(p) - 1))
			return 2
		}
		L.Push(lua.LNil)
		return 1
	}
	m := newMatcher(l, L, s, p)
	pstart := 0
	anchor := len(p) > 0 && p[0] == '^'
	if anchor {
		pstart = 1
	}
	for s1 := int(init) - 1; ; s1++ {
		m.reset()
		if e := m.match(s1, pstart); e >= 0 {
			m.flush()
			if find {
				L.Push(lua.LNumber(s1 + 1))
				L.Push(lua.LNumber(e))
				return 2 + m.pushCaptures(-1, -1)
			}
			return m.pushCaptures(s1, e)
		}
		if anchor || s1 >= len(s) {
			break
		}
	}
	m.flush()
	L.Push(lua.LNil)
	return 1
}

// gmatch returns an iterator over the matches of the pattern. As in 5.3, a '^' at the start of the
// pattern is an ordinary character here (an anchor would stop the iteration), and an empty match
// right where the previous match ended is skipped.
func (l *lib) gmatch(L *lua.LState) int {
	s := checkString(L, 1, "gmatch")
	p := checkString(L, 2, "gmatch")
	st := &gmatchState{m: newMatcher(l, L, s, p), last: -1}
	L.Push(L.NewFunction(st.next))
	return 1
}

type gmatchState struct {
	m    *matcher
	pos  int // where the next search starts
	last int // where the last match ended, -1 before the first
}

func (g *gmatchState) next(L *lua.LState) int {
	m := g.m
	m.L = L // the iterator may run in another coroutine than the one that made it
	for src := g.pos; src <= len(m.src); src++ {
		m.reset()
		if e := m.match(src, 0); e >= 0 && e != g.last {
			g.pos, g.last = e, e
			m.tick(matchSteps)
			m.flush()
			return m.pushCaptures(src, e)
		}
	}
	g.pos = len(m.src) + 1 // exhausted: a later call finds nothing at once
	m.flush()
	return 0
}

// gsub is string.gsub(s, pattern, repl [, n]).
func (l *lib) gsub(L *lua.LState) int {
	src := checkString(L, 1, "gsub")
	p := checkString(L, 2, "gsub")
	repl := L.Get(3)
	switch repl.(type) {
	case lua.LNumber, lua.LString, *lua.LFunction, *lua.LTable:
	default:
		argError(L, 3, "gsub", "string/function/table expected")
	}
	maxN := l.optInteger(L, 4, "gsub", int64(len(src))+1)
	var replStr string
	if _, isTable := repl.(*lua.LTable); !isTable {
		if _, isFunc := repl.(*lua.LFunction); !isFunc {
			replStr = checkString(L, 3, "gsub")
		}
	}
	anchor := len(p) > 0 && p[0] == '^'
	pstart := 0
	if anchor {
		pstart = 1
	}
	m := newMatcher(l, L, src, p)
	b := newBuffer(l, L, "string.gsub", len(src))
	s, last := 0, -1
	var n int64
	for n < maxN {
		m.reset()
		if e := m.match(s, pstart); e >= 0 && e != last {
			n++
			m.tick(matchSteps)
			l.addValue(m, &b, s, e, repl, replStr)
			s, last = e, e
		} else if s < len(src) {
			b.addByte(src[s])
			s++
		} else {
			break
		}
		if anchor {
			break
		}
	}
	b.addString(src[s:])
	m.flush()
	L.Push(lua.LString(b.done()))
	L.Push(lua.LNumber(n))
	return 2
}

// addValue appends the replacement of the match src[s:e].
func (l *lib) addValue(m *matcher, b *buffer, s, e int, repl lua.LValue, replStr string) {
	L := m.L
	var v lua.LValue
	switch r := repl.(type) {
	case *lua.LFunction:
		L.Push(r)
		n := m.pushCaptures(s, e)
		L.Call(n, 1)
		v = L.Get(-1)
		L.Pop(1)
	case *lua.LTable:
		v = L.GetTable(r, m.captureValue(0, s, e))
	default:
		l.addReplacement(m, b, s, e, replStr)
		return
	}
	switch x := v.(type) {
	case lua.LString:
		b.addString(string(x))
	case lua.LNumber:
		b.addString(NumberToString(float64(x)))
	case *lua.LNilType:
		b.addString(m.src[s:e]) // keep the original text
	case lua.LBool:
		if !x {
			b.addString(m.src[s:e])
			return
		}
		m.error("invalid replacement value (a boolean)")
	default:
		m.error("invalid replacement value (a " + v.Type().String() + ")")
	}
}

// addReplacement appends the replacement string r for the match src[s:e]: %0 is the whole match,
// %1-%9 the captures, %% a '%'.
func (l *lib) addReplacement(m *matcher, b *buffer, s, e int, r string) {
	m.tick(len(r) >> 4)
	for {
		i := strings.IndexByte(r, '%')
		if i < 0 {
			b.addString(r)
			return
		}
		b.addString(r[:i])
		var c byte // '\0' past the end, as in C
		if i+1 < len(r) {
			c = r[i+1]
		}
		r = r[min(i+2, len(r)):]
		switch {
		case c == '%':
			b.addByte('%')
		case c == '0':
			b.addString(m.src[s:e])
		case isDigit(c):
			switch v := m.captureValue(int(c-'1'), s, e).(type) {
			case lua.LString:
				b.addString(string(v))
			case lua.LNumber:
				b.addString(NumberToString(float64(v)))
			}
		default:
			m.error("invalid use of '%' in replacement string")
		}
	}
}
