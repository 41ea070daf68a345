package aos

import (
	"encoding/base64"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/node/aos/lua53"
)

// The `.base64` module as AOS has it (lbase64 1.5.3): encode(s [, encoder [, usecaching]]),
// decode(s [, decoder [, usecaching]]), makeencoder([c62 [, c63 [, pad]]]) (code 0..64 -> byte) and
// makedecoder (byte -> code). Decoding is lenient the way that module is: bytes outside the alphabet are
// dropped first, the padding is read from the end, and a '=' elsewhere counts as code 64. Errors carry the
// module's line positions, as the wasm shows them. Work is charged to the message's limits.

const base64Chunk = `[string ".base64"]`

// Lines of the wasm's base64 module at which each error is raised.
const (
	b64LineMakeEncoder = 123
	b64LineLength      = 163
	b64LineByte3       = 171 // str:byte(i, i+2) on a table
	b64LineCharCached  = 183
	b64LineChar        = 191
	b64LineByte2       = 203
	b64LineChar2       = 207
	b64LineByte1       = 211
	b64LineChar1       = 213
	b64LinePattern     = 243
	b64LineGsub        = 247
	b64LineCached      = 265
	b64LineDecode      = 281
	b64LinePad1        = 297
	b64LinePad2        = 305
)

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func openBase64(L *lua.LState) int {
	t := L.CreateTable(0, 4)
	t.RawSetString("makeencoder", L.NewFunction(b64MakeEncoder))
	t.RawSetString("makedecoder", L.NewFunction(b64MakeDecoder))
	t.RawSetString("encode", L.NewFunction(b64Encode))
	t.RawSetString("decode", L.NewFunction(b64Decode))
	L.Push(t)
	return 1
}

func b64Fail(L *lua.LState, line int, msg string) {
	L.Error(lua.LString(base64Chunk+":"+strconv.Itoa(line)+": "+msg), 0)
}

// alphabetBytes are the 65 byte codes of makeencoder(c62, c63, pad) (each the first byte of its string),
// nil where a string is empty.
func alphabetBytes(L *lua.LState, c62, c63, pad lua.LValue) [65]lua.LValue {
	var out [65]lua.LValue
	for i := 0; i < 62; i++ {
		out[i] = lua.LNumber(b64Alphabet[i])
	}
	for i, v := range []lua.LValue{c62, c63, pad} {
		def := []string{"+", "/", "="}[i]
		if !lua.LVAsBool(v) {
			v = lua.LString(def)
		}
		switch x := v.(type) {
		case lua.LString:
			if x == "" {
				out[62+i] = lua.LNil
			} else {
				out[62+i] = lua.LNumber(x[0])
			}
		case *lua.LTable:
			b64Fail(L, b64LineMakeEncoder, "attempt to call a nil value (method 'byte')")
		default:
			b64Fail(L, b64LineMakeEncoder, "attempt to index a "+v.Type().String()+" value (local 'char')")
		}
	}
	return out
}

// b64MakeEncoder's table is built in the order the module builds it: codes 1..64, then 0.
func b64MakeEncoder(L *lua.LState) int {
	codes := alphabetBytes(L, L.Get(1), L.Get(2), L.Get(3))
	t := L.CreateTable(64, 1)
	for i := 1; i <= 64; i++ {
		t.RawSetInt(i, codes[i])
	}
	t.RawSet(lua.LNumber(0), codes[0])
	L.Push(t)
	return 1
}

func b64MakeDecoder(L *lua.LState) int {
	codes := alphabetBytes(L, L.Get(1), L.Get(2), L.Get(3))
	t := L.CreateTable(0, 65)
	for _, i := range append(seq(1, 64), 0) {
		if codes[i] != lua.LNil {
			t.RawSet(codes[i], lua.LNumber(i))
		}
	}
	L.Push(t)
	return 1
}

func seq(from, to int) []int {
	out := make([]int, 0, to-from+1)
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// charArg is string.char's reading of one argument: a byte, or the error text of "bad argument #k".
func charArg(v lua.LValue) (byte, string) {
	var f float64
	switch x := v.(type) {
	case lua.LNumber:
		f = float64(x)
	case lua.LString:
		n, ok := lua53.StringToNumber(string(x))
		if !ok {
			return 0, "number expected, got string"
		}
		f = n
	default:
		if v == lua.LNil {
			return 0, "number expected, got nil"
		}
		return 0, "number expected, got " + v.Type().String()
	}
	if f != float64(int64(f)) {
		return 0, "number has no integer representation"
	}
	if f < 0 || f > 255 {
		return 0, "value out of range"
	}
	return byte(f), ""
}

func b64Encode(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if !ok {
		if t, isTable := L.Get(1).(*lua.LTable); isTable {
			// #str works on a table; its missing byte method fails where it is first called.
			switch n := t.Len(); {
			case n == 0:
				L.Push(lua.LString(""))
				return 1
			case n >= 3:
				b64Fail(L, b64LineByte3, "attempt to call a nil value (method 'byte')")
			case n == 2:
				b64Fail(L, b64LineByte2, "attempt to call a nil value (method 'byte')")
			default:
				b64Fail(L, b64LineByte1, "attempt to call a nil value (method 'byte')")
			}
		}
		b64Fail(L, b64LineLength, "attempt to get length of a "+L.Get(1).Type().String()+" value (local 'str')")
	}
	charge(L, int64(len(s))/costBytes)
	chargeAlloc(L, sizeString+int64((len(s)+2)/3*4))
	enc, custom := L.Get(2).(*lua.LTable)
	if !custom || !lua.LVAsBool(L.Get(2)) {
		L.Push(lua.LString(base64.StdEncoding.EncodeToString([]byte(s))))
		return 1
	}
	cached := lua.LVAsBool(L.Get(3))
	var b strings.Builder
	b.Grow((len(s) + 2) / 3 * 4)
	write := func(line int, codes ...int) {
		for k, c := range codes {
			ch, bad := charArg(enc.RawGet(lua.LNumber(c)))
			if bad != "" {
				b64Fail(L, line, "bad argument #"+strconv.Itoa(k+1)+" to 'char' ("+bad+")")
			}
			b.WriteByte(ch)
		}
	}
	n := len(s)
	full := n - n%3
	for i := 0; i < full; i += 3 {
		v := int(s[i])<<16 | int(s[i+1])<<8 | int(s[i+2])
		line := b64LineChar
		if cached {
			line = b64LineCharCached
		}
		write(line, v>>18&63, v>>12&63, v>>6&63, v&63)
	}
	switch n % 3 {
	case 2:
		v := int(s[n-2])<<16 | int(s[n-1])<<8
		write(b64LineChar2, v>>18&63, v>>12&63, v>>6&63, 64)
	case 1:
		v := int(s[n-1]) << 16
		write(b64LineChar1, v>>18&63, v>>12&63, 64, 64)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// inClass is Lua's %<cl> class test for byte c (a non-class letter stands for itself).
func inClass(c, cl byte) bool {
	var r bool
	switch cl | 0x20 {
	case 'a':
		r = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	case 'c':
		r = c < 32 || c == 127
	case 'd':
		r = c >= '0' && c <= '9'
	case 'g':
		r = c > 32 && c < 127
	case 'l':
		r = c >= 'a' && c <= 'z'
	case 'p':
		r = c > 32 && c < 127 && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
	case 's':
		r = c == ' ' || c >= '\t' && c <= '\r'
	case 'u':
		r = c >= 'A' && c <= 'Z'
	case 'w':
		r = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	case 'x':
		r = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
	default:
		return cl == c
	}
	if cl >= 'A' && cl <= 'Z' {
		return !r
	}
	return r
}

// digitValue is decoder[c] used in arithmetic: a number (or a numeric string), else the arithmetic error.
func digitValue(L *lua.LState, v lua.LValue, line int, what string) float64 {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x)
	case lua.LString:
		if f, ok := lua53.StringToNumber(string(x)); ok {
			return f
		}
	}
	b64Fail(L, line, "attempt to perform arithmetic on a "+v.Type().String()+" value ("+what+")")
	return 0
}

// luaBytes is s:byte(i, j) (1-based, negative from the end, clamped), as ints.
func luaBytes(s string, i, j int) []int {
	l := len(s)
	rel := func(p int) int {
		switch {
		case p >= 0:
			return p
		case -p > l:
			return 0
		}
		return l + p + 1
	}
	i, j = rel(i), rel(j)
	if i < 1 {
		i = 1
	}
	if j > l {
		j = l
	}
	var out []int
	for k := i; k <= j; k++ {
		out = append(out, int(s[k-1]))
	}
	return out
}

func b64Decode(L *lua.LState) int {
	table := &defaultDecoder
	var s62, s63 lua.LValue = lua.LNumber('+'), lua.LNumber('/')
	if dec := L.Get(2); lua.LVAsBool(dec) {
		dt, ok := dec.(*lua.LTable)
		if !ok {
			b64Fail(L, b64LinePattern, "attempt to index a "+dec.Type().String()+" value (local 'decoder')")
		}
		// The characters of codes 62 and 63 complete the alphabet that survives filtering.
		s62, s63 = lua.LNil, lua.LNil
		dt.ForEach(func(k, v lua.LValue) {
			if n, ok := v.(lua.LNumber); ok && n == 62 {
				s62 = k
			} else if ok && n == 63 {
				s63 = k
			}
		})
		table = new([256]lua.LValue)
		for c := range table {
			table[c] = dt.RawGet(lua.LNumber(c))
		}
	}
	c62, bad := charArg(s62)
	if bad == "" {
		var bad63 string
		var c63 byte
		c63, bad63 = charArg(s63)
		if bad63 != "" {
			bad = bad63
		}
		s62, s63 = lua.LNumber(c62), lua.LNumber(c63)
	}
	if bad != "" {
		b64Fail(L, b64LinePattern, "bad argument #1 to 'char' ("+bad+")")
	}
	var src string
	switch x := L.Get(1).(type) {
	case lua.LString:
		src = string(x)
	case lua.LNumber:
		b64Fail(L, b64LineGsub, "attempt to index a number value (local 'b64')")
	case *lua.LTable:
		b64Fail(L, b64LineGsub, "attempt to call a nil value (method 'gsub')")
	default:
		b64Fail(L, b64LineGsub, "attempt to index a "+L.Get(1).Type().String()+" value (local 'b64')")
	}
	charge(L, int64(len(src))/costBytes)
	keep := func(c byte) bool {
		return inClass(c, 'w') || inClass(c, byte(s62.(lua.LNumber))) || inClass(c, byte(s63.(lua.LNumber))) || c == '='
	}
	var fb strings.Builder
	for i := 0; i < len(src); i++ {
		if keep(src[i]) {
			fb.WriteByte(src[i])
		}
	}
	s := fb.String()
	n := len(s)
	padding := 0
	if strings.HasSuffix(s, "==") {
		padding = 2
	} else if strings.HasSuffix(s, "=") {
		padding = 1
	}
	last := n
	if padding > 0 {
		last = n - 4
	}
	cached := lua.LVAsBool(L.Get(3))
	chargeAlloc(L, sizeString+int64(n/4*3+2))
	out := make([]byte, 0, n/4*3+2)
	bytesOf := func(v float64, count int) {
		u := uint64(int64(v))
		for k := 0; k < count; k++ {
			out = append(out, byte(u>>(16-8*k)))
		}
	}
	for i := 1; i <= last; i += 4 {
		bs := luaBytes(s, i, i+3)
		if cached && len(bs) < 4 {
			b64Fail(L, b64LineCached, "attempt to perform arithmetic on a nil value (local '"+string("abcd"[len(bs)])+"')")
		}
		v := 0.0
		for k, mul := range []float64{0x40000, 0x1000, 0x40, 1} {
			var dv lua.LValue = lua.LNil
			if k < len(bs) {
				dv = table[bs[k]]
			}
			v += digitValue(L, dv, b64LineDecode, "field '?'") * mul
		}
		bytesOf(v, 3)
	}
	tail := func(from, to, count, line int, muls []float64) {
		bs := luaBytes(s, from, to)
		v := 0.0
		for k, mul := range muls {
			var dv lua.LValue = lua.LNil
			if k < len(bs) {
				dv = table[bs[k]]
			}
			v += digitValue(L, dv, line, "field '?'") * mul
		}
		bytesOf(v, count)
	}
	switch padding {
	case 1:
		tail(n-3, n-1, 2, b64LinePad1, []float64{0x40000, 0x1000, 0x40})
	case 2:
		tail(n-3, n-2, 1, b64LinePad2, []float64{0x40000, 0x1000})
	}
	L.Push(lua.LString(out))
	return 1
}

// defaultDecoder is makedecoder()'s table as an array by byte: code numbers, nil elsewhere.
var defaultDecoder = func() (t [256]lua.LValue) {
	for c := range t {
		t[c] = lua.LNil
	}
	for i := 0; i < 62; i++ {
		t[b64Alphabet[i]] = lua.LNumber(i)
	}
	t['+'], t['/'], t['='] = lua.LNumber(62), lua.LNumber(63), lua.LNumber(64)
	return t
}()
