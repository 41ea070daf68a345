package strlib

import (
	lua "github.com/yuin/gopher-lua"
)

// The pattern matcher: Lua 5.3's backtracking matcher over byte strings, with its limits (MaxCaptures
// captures, MaxCCalls nested matching calls, after which it raises "pattern too complex") and a step
// count charged to the runtime, so that exponential backtracking runs into the compute limit instead
// of running for minutes.

const (
	// MaxCaptures is 5.3's LUA_MAXCAPTURES.
	MaxCaptures = 32
	// MaxCCalls is 5.3's MAXCCALLS: how deep the matcher may recurse (one level per capture,
	// repetition or optional item being tried). It bounds the Go stack the matcher uses.
	MaxCCalls = 200

	capUnfinished = -1 // a capture still open
	capPosition   = -2 // a position capture, ()
)

type capture struct {
	init, len int
}

// matcher is the state of one match attempt of pat against src.
type matcher struct {
	src, pat string
	level    int // captures open or closed so far
	depth    int // matching calls that may still nest
	capture  [MaxCaptures]capture
	pending  int // steps not charged yet
	l        *lib
	L        *lua.LState
}

func newMatcher(l *lib, L *lua.LState, src, pat string) *matcher {
	return &matcher{src: src, pat: pat, l: l, L: L}
}

// reset prepares a new attempt.
func (m *matcher) reset() {
	m.level = 0
	m.depth = MaxCCalls
}

// tick counts n steps, charging them a chunk at a time.
func (m *matcher) tick(n int) {
	m.pending += n
	if m.pending >= chunkSteps {
		m.flush()
	}
}

// flush charges the steps counted so far (whole instructions; the remainder stays pending).
func (m *matcher) flush() {
	m.l.charge(m.L, int64(m.pending/stepsPerInstr))
	m.pending %= stepsPerInstr
}

func (m *matcher) error(msg string) {
	raise(m.L, msg)
}

// match matches the pattern from p against the subject from s and returns where the match ends, or
// -1.
func (m *matcher) match(s, p int) int {
	if m.depth == 0 {
		m.error("pattern too complex")
	}
	m.depth--
	s = m.doMatch(s, p)
	m.depth++
	return s
}

func (m *matcher) doMatch(s, p int) int {
	pat, src := m.pat, m.src
	for p < len(pat) {
		m.tick(1)
		switch pat[p] {
		case '(':
			if p+1 < len(pat) && pat[p+1] == ')' {
				return m.startCapture(s, p+2, capPosition)
			}
			return m.startCapture(s, p+1, capUnfinished)
		case ')':
			return m.endCapture(s, p+1)
		case '$':
			if p+1 == len(pat) {
				if s == len(src) {
					return s
				}
				return -1
			}
		case '%':
			if p+1 >= len(pat) {
				break // classEnd reports the malformed pattern
			}
			switch c := pat[p+1]; {
			case c == 'b':
				if s = m.matchBalance(s, p+2); s < 0 {
					return -1
				}
				p += 4
				continue
			case c == 'f':
				p += 2
				if p >= len(pat) || pat[p] != '[' {
					m.error("missing '[' after '%f' in pattern")
				}
				ep := m.classEnd(p)
				m.tick(2 + (ep-p)>>3)
				var prev, cur byte // '\0' before the start and at the end, as in C
				if s > 0 {
					prev = src[s-1]
				}
				if s < len(src) {
					cur = src[s]
				}
				if !m.matchBracket(prev, p, ep-1) && m.matchBracket(cur, p, ep-1) {
					p = ep
					continue
				}
				return -1
			case isDigit(c):
				if s = m.matchCapture(s, c); s < 0 {
					return -1
				}
				p += 2
				continue
			}
		}
		// A single-character class, maybe followed by a repetition.
		ep := m.classEnd(p)
		var rep byte
		if ep < len(pat) {
			rep = pat[ep]
		}
		if !m.singleMatch(s, p, ep) {
			if rep == '*' || rep == '?' || rep == '-' { // it may match zero times
				p = ep + 1
				continue
			}
			return -1
		}
		switch rep {
		case '?':
			if r := m.match(s+1, ep+1); r >= 0 {
				return r
			}
			p = ep + 1
		case '+':
			return m.maxExpand(s+1, p, ep)
		case '*':
			return m.maxExpand(s, p, ep)
		case '-':
			return m.minExpand(s, p, ep)
		default:
			s++
			p = ep
		}
	}
	return s
}

// classEnd is the end of the single-character class starting at p.
func (m *matcher) classEnd(p int) int {
	pat := m.pat
	c := pat[p]
	p++
	switch c {
	case '%':
		if p >= len(pat) {
			m.error("malformed pattern (ends with '%')")
		}
		return p + 1
	case '[':
		start := p
		if p < len(pat) && pat[p] == '^' {
			p++
		}
		// The first character is part of the set even if it is ']'.
		for {
			if p >= len(pat) {
				m.error("malformed pattern (missing ']')")
			}
			c := pat[p]
			p++
			if c == '%' && p < len(pat) {
				p++ // an escaped character, e.g. %]
			}
			if p < len(pat) && pat[p] == ']' {
				m.tick((p - start) >> 4) // a long set is charged even where it is not tested
				return p + 1
			}
		}
	}
	return p
}

// singleMatch reports whether the subject byte at s is in the class pat[p:ep].
func (m *matcher) singleMatch(s, p, ep int) bool {
	if s >= len(m.src) {
		return false
	}
	c := m.src[s]
	switch m.pat[p] {
	case '.':
		m.tick(1)
		return true
	case '%':
		m.tick(1)
		return matchClass(c, m.pat[p+1])
	case '[':
		m.tick(2 + (ep-p)>>4) // a set costs by its length
		return m.matchBracket(c, p, ep-1)
	}
	m.tick(1)
	return m.pat[p] == c
}

// matchBracket reports whether c is in the set pat[p:ec+1] ("[...]", ec at the ']').
func (m *matcher) matchBracket(c byte, p, ec int) bool {
	pat := m.pat
	in := true
	if pat[p+1] == '^' {
		in = false
		p++
	}
	for p++; p < ec; p++ {
		switch {
		case pat[p] == '%':
			p++
			if matchClass(c, pat[p]) {
				return in
			}
		case pat[p+1] == '-' && p+2 < ec:
			p += 2
			if pat[p-2] <= c && c <= pat[p] {
				return in
			}
		case pat[p] == c:
			return in
		}
	}
	return !in
}

// maxExpand matches as many repetitions of the class at p as possible from s, then backs off until
// the rest of the pattern (after ep's repetition sign) matches.
func (m *matcher) maxExpand(s, p, ep int) int {
	i := 0
	for m.singleMatch(s+i, p, ep) {
		i++
	}
	for ; i >= 0; i-- {
		if r := m.match(s+i, ep+1); r >= 0 {
			return r
		}
	}
	return -1
}

// minExpand matches as few repetitions as possible.
func (m *matcher) minExpand(s, p, ep int) int {
	for {
		if r := m.match(s, ep+1); r >= 0 {
			return r
		}
		if !m.singleMatch(s, p, ep) {
			return -1
		}
		s++
	}
}

func (m *matcher) startCapture(s, p, what int) int {
	if m.level >= MaxCaptures {
		m.error("too many captures")
	}
	m.capture[m.level] = capture{init: s, len: what}
	m.level++
	r := m.match(s, p)
	if r < 0 {
		m.level--
	}
	return r
}

func (m *matcher) endCapture(s, p int) int {
	l := m.captureToClose()
	m.capture[l].len = s - m.capture[l].init
	r := m.match(s, p)
	if r < 0 {
		m.capture[l].len = capUnfinished
	}
	return r
}

// captureToClose is the innermost capture still open.
func (m *matcher) captureToClose() int {
	for l := m.level - 1; l >= 0; l-- {
		if m.capture[l].len == capUnfinished {
			return l
		}
	}
	m.error("invalid pattern capture")
	return 0
}

// matchBalance is %bxy at pattern position p: from an x at s to its balancing y.
func (m *matcher) matchBalance(s, p int) int {
	if p+1 >= len(m.pat) {
		m.error("malformed pattern (missing arguments to '%b')")
	}
	src := m.src
	if s >= len(src) || src[s] != m.pat[p] {
		return -1
	}
	open, close := m.pat[p], m.pat[p+1]
	depth := 1
	start := s
	for s++; s < len(src); s++ {
		if (s-start)%(balanceBytesPerStep*chunkSteps) == 0 {
			m.tick(chunkSteps) // a long scan is charged while it runs
		}
		switch src[s] {
		case close:
			if depth--; depth == 0 {
				m.tick((s - start) % (balanceBytesPerStep * chunkSteps) / balanceBytesPerStep)
				return s + 1
			}
		case open:
			depth++
		}
	}
	m.tick((s - start) % (balanceBytesPerStep * chunkSteps) / balanceBytesPerStep)
	return -1
}

// matchCapture is a back-reference %1-%9: the text of that capture again at s.
func (m *matcher) matchCapture(s int, digit byte) int {
	l := m.checkCapture(digit)
	c := m.capture[l]
	n := c.len
	m.tick(1 + max(n, 0)>>6)
	if n >= 0 && len(m.src)-s >= n && m.src[c.init:c.init+n] == m.src[s:s+n] {
		return s + n
	}
	return -1 // a position capture never matches, as in 5.3
}

func (m *matcher) checkCapture(digit byte) int {
	l := int(digit) - '1'
	if l < 0 || l >= m.level || m.capture[l].len == capUnfinished {
		m.error("invalid capture index %" + itoa(int64(l+1)))
	}
	return l
}

// captureValue is capture i of a match of src[s:e]: its text, or its position for (); capture 0 is
// the whole match when the pattern has no captures.
func (m *matcher) captureValue(i, s, e int) lua.LValue {
	if i >= m.level {
		if i != 0 {
			m.error("invalid capture index %" + itoa(int64(i+1)))
		}
		return lua.LString(m.src[s:e])
	}
	c := m.capture[i]
	switch c.len {
	case capUnfinished:
		m.error("unfinished capture")
	case capPosition:
		return lua.LNumber(c.init + 1)
	}
	return lua.LString(m.src[c.init : c.init+c.len])
}

// pushCaptures pushes the captures of a match of src[s:e] (the whole match when there are none and
// s >= 0) and returns how many.
func (m *matcher) pushCaptures(s, e int) int {
	n := m.level
	if n == 0 && s >= 0 {
		n = 1
	}
	for i := 0; i < n; i++ {
		m.L.Push(m.captureValue(i, s, e))
	}
	return n
}

// Character classes in the C locale.
const (
	cAlpha = 1 << iota
	cCntrl
	cDigit
	cGraph
	cLower
	cPunct
	cSpace
	cUpper
	cXdigit
	cZero   // the byte 0 (%z)
	cNegate // in classMask: the complement
)

var classes = func() (t [256]uint16) {
	for c := 0; c < 256; c++ {
		var f uint16
		lower, upper, digit := c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9'
		if lower || upper {
			f |= cAlpha
		}
		if lower {
			f |= cLower
		}
		if upper {
			f |= cUpper
		}
		if digit {
			f |= cDigit
		}
		if c < 32 || c == 127 {
			f |= cCntrl
		}
		if c > 32 && c < 127 {
			f |= cGraph
			if !lower && !upper && !digit {
				f |= cPunct
			}
		}
		if c == ' ' || c >= '\t' && c <= '\r' {
			f |= cSpace
		}
		if digit || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' {
			f |= cXdigit
		}
		if c == 0 {
			f |= cZero
		}
		t[c] = f
	}
	return t
}()

// classMask maps a class letter (%a, %D, ...) to its bits in classes, with cNegate for the upper-case
// letters (the complements); 0 for any other character, which stands for itself.
var classMask = func() (t [256]uint16) {
	for _, e := range []struct {
		letter byte
		mask   uint16
	}{
		{'a', cAlpha}, {'c', cCntrl}, {'d', cDigit}, {'g', cGraph}, {'l', cLower}, {'p', cPunct},
		{'s', cSpace}, {'u', cUpper}, {'w', cAlpha | cDigit}, {'x', cXdigit}, {'z', cZero}, // %z: deprecated in 5.2, still in 5.3
	} {
		t[e.letter] = e.mask
		t[e.letter-'a'+'A'] = e.mask | cNegate
	}
	return t
}()

// matchClass reports whether c is in the class %cl; an upper-case class letter is the complement.
// Any other cl stands for itself.
func matchClass(c, cl byte) bool {
	m := classMask[cl]
	if m == 0 {
		return cl == c
	}
	return (classes[c]&m != 0) != (m&cNegate != 0)
}
