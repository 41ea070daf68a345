package strlib

import (
	lua "github.com/yuin/gopher-lua"
)

// buffer builds a result whose size is not known in advance (gsub, format). Growing past allocReport,
// and then each time it has grown by another quarter, it reports the size it is about to reach to Alloc
// and charges the bytes built so far, so a result that outgrows the memory limit stops while it is
// built (at most a quarter past the limit) and a loop that builds large results pays as it goes; done
// reports the exact final size before the result becomes a Lua string. The points where it reports
// depend only on the bytes appended.
type buffer struct {
	b        []byte
	next     int // the length at which to report next
	reported int // the last size reported
	charged  int // bytes already charged
	l        *lib
	L        *lua.LState
	what     string
}

func newBuffer(l *lib, L *lua.LState, what string, hint int) buffer {
	if hint > allocReport {
		hint = allocReport
	}
	return buffer{b: make([]byte, 0, hint), next: allocReport, l: l, L: L, what: what}
}

// need is called before appending n bytes.
func (b *buffer) need(n int) {
	if len(b.b)+n > b.next {
		b.report(len(b.b) + n)
	}
	if cap(b.b)-len(b.b) < n && n > 4096 { // one exact growth rather than several doublings
		nb := make([]byte, len(b.b), max(len(b.b)+n, 2*cap(b.b)))
		copy(nb, b.b)
		b.b = nb
	}
}

func (b *buffer) report(size int) {
	b.l.alloc(b.L, b.what, int64(size))
	b.reported = size
	b.l.charge(b.L, int64(size-b.charged)/copyBytesPerInstr)
	b.charged = size - (size-b.charged)%copyBytesPerInstr
	b.next = size + size/4
}

func (b *buffer) addString(s string) {
	b.need(len(s))
	b.b = append(b.b, s...)
}

func (b *buffer) addByte(c byte) {
	if len(b.b) >= b.next {
		b.report(len(b.b) + 1)
	}
	b.b = append(b.b, c)
}

// done charges the rest and returns the result.
func (b *buffer) done() string {
	if len(b.b) >= allocReport && len(b.b) > b.reported {
		b.l.alloc(b.L, b.what, int64(len(b.b)))
	}
	b.l.charge(b.L, int64(len(b.b)-b.charged)/copyBytesPerInstr)
	var s string
	if cap(b.b) > 2*len(b.b)+64 {
		s = string(b.b) // a copy, so the string does not pin a mostly unused array
	} else {
		s = bytesToString(b.b)
	}
	b.b = nil
	return s
}
