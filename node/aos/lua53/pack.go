package lua53

import (
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// string.pack, string.unpack and string.packsize, with Lua 5.3's format language. Native order is
// little-endian, native alignment 8, int 4 bytes, long/lua_Integer/size_t 8 bytes. Integers travel
// through float64, so packed values beyond 2^53 lose their low bits.

const (
	maxIntSize  = 16      // i[n]/I[n] accept 1..16 bytes, like 5.3
	nativeAlign = 8       // what '!' without a number selects
	maxPackSize = 1 << 30 // largest result string.pack builds (5.3 would only fail for lack of memory)
)

type packKind uint8

const (
	kInt       packKind = iota // signed integer
	kUint                      // unsigned integer
	kFloat                     // size 4 or 8
	kChar                      // fixed-size string cN
	kString                    // length-prefixed string s[N]
	kZstr                      // zero-terminated string
	kPadding                   // x
	kPaddAlign                 // X
	kNop                       // spaces and settings
)

type packFormat struct {
	L        *lua.LState
	fmt      string
	pos      int
	little   bool
	maxAlign int
}

func openPack(L *lua.LState) {
	s, ok := L.GetGlobal("string").(*lua.LTable)
	if !ok {
		return
	}
	s.RawSetString("pack", L.NewFunction(strPack))
	s.RawSetString("unpack", L.NewFunction(strUnpack))
	s.RawSetString("packsize", L.NewFunction(strPackSize))
}

func newPackFormat(L *lua.LState) *packFormat {
	return &packFormat{L: L, fmt: checkString(L, 1), little: true, maxAlign: 1}
}

func (h *packFormat) more() bool { return h.pos < len(h.fmt) }

// number reads an optional decimal size, def when absent.
func (h *packFormat) number(def int) int {
	if !h.more() || !isDigit(h.fmt[h.pos]) {
		return def
	}
	n := 0
	for h.more() && isDigit(h.fmt[h.pos]) && n <= (math.MaxInt32-9)/10 {
		n = n*10 + int(h.fmt[h.pos]-'0')
		h.pos++
	}
	return n
}

func (h *packFormat) limitedNumber(def int) int {
	n := h.number(def)
	if n > maxIntSize || n <= 0 {
		h.L.RaiseError("integral size (%d) out of limits [1,%d]", n, maxIntSize)
	}
	return n
}

// option reads one format item and returns its kind and size in bytes.
func (h *packFormat) option() (packKind, int) {
	c := h.fmt[h.pos]
	h.pos++
	switch c {
	case 'b':
		return kInt, 1
	case 'B':
		return kUint, 1
	case 'h':
		return kInt, 2
	case 'H':
		return kUint, 2
	case 'i':
		return kInt, h.limitedNumber(4)
	case 'I':
		return kUint, h.limitedNumber(4)
	case 'l', 'j':
		return kInt, 8
	case 'L', 'J', 'T':
		return kUint, 8
	case 'f':
		return kFloat, 4
	case 'd', 'n':
		return kFloat, 8
	case 's':
		return kString, h.limitedNumber(8)
	case 'c':
		n := h.number(-1)
		if n == -1 {
			h.L.RaiseError("missing size for format option 'c'")
		}
		return kChar, n
	case 'z':
		return kZstr, 0
	case 'x':
		return kPadding, 1
	case 'X':
		return kPaddAlign, 0
	case ' ':
	case '<':
		h.little = true
	case '>':
		h.little = false
	case '=':
		h.little = true
	case '!':
		h.maxAlign = h.limitedNumber(nativeAlign)
	default:
		h.L.RaiseError("invalid format option '%c'", c)
	}
	return kNop, 0
}

// details reads the next item and computes the padding that aligns it at offset total.
func (h *packFormat) details(total int) (kind packKind, size, pad int) {
	kind, size = h.option()
	align := size
	if kind == kPaddAlign {
		if !h.more() {
			h.L.ArgError(1, "invalid next option for option 'X'")
		}
		var next packKind
		next, align = h.option()
		if next == kChar || align == 0 {
			h.L.ArgError(1, "invalid next option for option 'X'")
		}
	}
	if align <= 1 || kind == kChar {
		return kind, size, 0
	}
	if align > h.maxAlign {
		align = h.maxAlign
	}
	if align&(align-1) != 0 {
		h.L.ArgError(1, "format asks for alignment not power of 2")
	}
	return kind, size, (align - total&(align-1)) & (align - 1)
}

// putInt appends size bytes of v, sign-extending past 8 bytes.
func putInt(b []byte, v uint64, little bool, size int, neg bool) []byte {
	var buf [maxIntSize]byte
	for i := 0; i < size; i++ {
		var c byte
		switch {
		case i < 8:
			c = byte(v >> (8 * i))
		case neg:
			c = 0xff
		}
		if little {
			buf[i] = c
		} else {
			buf[size-1-i] = c
		}
	}
	return append(b, buf[:size]...)
}

func strPack(L *lua.LState) int {
	h := newPackFormat(L)
	var b []byte
	arg := 1
	for h.more() {
		kind, size, pad := h.details(len(b))
		b = append(b, make([]byte, pad)...)
		arg++
		switch kind {
		case kInt:
			n := checkInteger(L, arg)
			if size < 8 {
				lim := int64(1) << (size*8 - 1)
				if n < -lim || n >= lim {
					L.ArgError(arg, "integer overflow")
				}
			}
			b = putInt(b, uint64(n), h.little, size, n < 0)
		case kUint:
			n := checkInteger(L, arg)
			if size < 8 && uint64(n) >= uint64(1)<<(size*8) {
				L.ArgError(arg, "unsigned overflow")
			}
			b = putInt(b, uint64(n), h.little, size, false)
		case kFloat:
			f := checkNumber(L, arg)
			var bits uint64
			if size == 4 {
				bits = uint64(math.Float32bits(float32(f)))
			} else {
				bits = math.Float64bits(f)
			}
			b = putInt(b, bits, h.little, size, false)
		case kChar:
			s := checkString(L, arg)
			if len(s) > size {
				L.ArgError(arg, "string longer than given size")
			}
			if len(b)+size > maxPackSize {
				L.RaiseError("format result too large")
			}
			b = append(b, s...)
			b = append(b, make([]byte, size-len(s))...)
		case kString:
			s := checkString(L, arg)
			if size < 8 && uint64(len(s)) >= uint64(1)<<(size*8) {
				L.ArgError(arg, "string length does not fit in given size")
			}
			b = putInt(b, uint64(len(s)), h.little, size, false)
			b = append(b, s...)
		case kZstr:
			s := checkString(L, arg)
			if strings.IndexByte(s, 0) >= 0 {
				L.ArgError(arg, "string contains zeros")
			}
			b = append(b, s...)
			b = append(b, 0)
		case kPadding:
			b = append(b, 0)
			arg--
		default:
			arg--
		}
		if len(b) > maxPackSize {
			L.RaiseError("format result too large")
		}
	}
	L.Push(lua.LString(b))
	return 1
}

func strPackSize(L *lua.LState) int {
	h := newPackFormat(L)
	total := 0
	for h.more() {
		kind, size, pad := h.details(total)
		if kind == kString || kind == kZstr {
			L.ArgError(1, "variable-length format")
		}
		size += pad
		if total > math.MaxInt32-size {
			L.ArgError(1, "format result too large")
		}
		total += size
	}
	L.Push(lua.LNumber(total))
	return 1
}

// getInt reads size bytes; integers wider than 8 bytes must be sign or zero extensions.
func getInt(L *lua.LState, s string, little bool, size int, signed bool) int64 {
	var v uint64
	limit := size
	if limit > 8 {
		limit = 8
	}
	for i := limit - 1; i >= 0; i-- {
		c := s[size-1-i]
		if little {
			c = s[i]
		}
		v = v<<8 | uint64(c)
	}
	if size < 8 && signed {
		mask := uint64(1) << (size*8 - 1)
		v = (v ^ mask) - mask // sign-extend
	} else if size > 8 {
		var ext byte
		if signed && int64(v) < 0 {
			ext = 0xff
		}
		for i := 8; i < size; i++ {
			c := s[size-1-i]
			if little {
				c = s[i]
			}
			if c != ext {
				L.RaiseError("%d-byte integer does not fit into Lua Integer", size)
			}
		}
	}
	return int64(v)
}

func strUnpack(L *lua.LState) int {
	h := newPackFormat(L)
	data := checkString(L, 2)
	p := posRelative(optInteger(L, 3, 1), len(data)) - 1
	if p < 0 || p > int64(len(data)) {
		L.ArgError(3, "initial position out of string")
	}
	pos := int(p)
	n := 0
	for h.more() {
		kind, size, pad := h.details(pos)
		if pad+size > len(data)-pos {
			L.ArgError(2, "data string too short")
		}
		pos += pad
		switch kind {
		case kInt, kUint:
			L.Push(lua.LNumber(float64(getInt(L, data[pos:], h.little, size, kind == kInt))))
			n++
		case kFloat:
			bits := uint64(getInt(L, data[pos:], h.little, size, false))
			if size == 4 {
				L.Push(lua.LNumber(math.Float32frombits(uint32(bits))))
			} else {
				L.Push(lua.LNumber(math.Float64frombits(bits)))
			}
			n++
		case kChar:
			L.Push(lua.LString(data[pos : pos+size]))
			n++
		case kString:
			l := uint64(getInt(L, data[pos:], h.little, size, false))
			if l > uint64(len(data)-pos-size) {
				L.ArgError(2, "data string too short")
			}
			L.Push(lua.LString(data[pos+size : pos+size+int(l)]))
			n++
			pos += int(l)
		case kZstr:
			end := strings.IndexByte(data[pos:], 0)
			if end < 0 {
				L.ArgError(2, "unfinished string for format 'z'")
			}
			L.Push(lua.LString(data[pos : pos+end]))
			n++
			pos += end + 1
		}
		pos += size
	}
	L.Push(lua.LNumber(pos + 1))
	return n + 1
}
