package aos

import (
	"math"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/node/aos/lua53"
)

// The `json` module, with the behaviour of the one real AOS loads (the ao build's json.lua, "0.2.0"):
//
//   - encode: a table whose [1] is set, or that is empty, is an array: every key must be a number
//     ("invalid table: mixed or invalid key types") and there must be #t of them ("invalid table: sparse
//     array"); any other table is an object whose keys must all be strings, and whose function values are
//     left out. Numbers are written as string.format("%.14g") writes them, and NaN or an infinity is an
//     error; strings escape only '"', '\' and the control characters; a table met again inside itself is
//     "circular reference"; functions, threads and userdata are "unexpected type".
//   - decode: lenient where that json.lua is (a comma may end an array or object: [1,2,] is {1, 2}),
//     numbers read by Lua's tonumber (0x10 is 16), the last of two equal keys wins, and every error names
//     its line and column ("unexpected character '' at line 1 col 6").
//
// Errors carry the position of the error call in that json.lua, `[string "json"]:LINE:`, as the wasm shows
// them. The keys of an encoded object are written in byte order: AO leaves the order free (Lua's pairs
// order), and a fixed one keeps results the same on every node.
//
// Work is charged to the message's limits: the values built or written (compute) and the strings and
// tables made (memory). Nesting deeper than jsonMaxDepth is an error: both directions recurse on the Go
// stack.

// jsonChunk is the name errors of the module carry.
const jsonChunk = `[string "json"]`

// The lines of the wasm's json module at which each error is raised.
const (
	jsonLineCircular   = 65
	jsonLineArrayKeys  = 83
	jsonLineSparse     = 91
	jsonLineObjectKeys = 111
	jsonLineNumber     = 149
	jsonLineType       = 183
	jsonLineDecode     = 261
	jsonLineCodepoint  = 293
	jsonLineArgument   = 597
)

// jsonMaxDepth bounds the nesting json.encode follows and json.decode accepts: both recurse on the Go
// stack, which must never overflow.
const jsonMaxDepth = 10_000

// jsonChargeEvery is how much work (values, and bytes / costBytes) the module does between two charges to
// the compute limit.
const jsonChargeEvery = 4096

func openJSON(L *lua.LState) int {
	t := L.CreateTable(0, 3)
	t.RawSetString("_version", lua.LString("0.2.0"))
	t.RawSetString("encode", L.NewFunction(jsonEncode))
	t.RawSetString("decode", L.NewFunction(jsonDecode))
	L.Push(t)
	return 1
}

// jsonFail raises msg as the json module raises it: with the position of its error call and no other.
func jsonFail(L *lua.LState, line int, msg string) {
	L.Error(lua.LString(jsonText(line, msg)), 0)
}

func jsonText(line int, msg string) string { return jsonChunk + ":" + strconv.Itoa(line) + ": " + msg }

// jsonTooDeep is the error of nesting past jsonMaxDepth (a limit of this runtime: it has no position in the
// module).
func jsonTooDeep(L *lua.LState, fn string) {
	L.Error(lua.LString("json."+fn+": nested too deep (more than "+strconv.Itoa(jsonMaxDepth)+" levels)"), 0)
}

/* ---- encode ---- */

func jsonEncode(L *lua.LState) int {
	e := jsonEncoder{L: L, stack: map[*lua.LTable]bool{}, metered: true}
	e.value(L.Get(1), 0)
	e.flush()
	chargeAlloc(L, sizeString+int64(len(e.buf)))
	L.Push(lua.LString(e.buf))
	return 1
}

// encodeJSON is json.encode for Go code that runs outside the process's Lua code (reading its outbox):
// the module's error text is returned, and nothing is charged.
func encodeJSON(L *lua.LState, v lua.LValue) (out []byte, err error) {
	e := jsonEncoder{L: L, stack: map[*lua.LTable]bool{}}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(jsonFailure)
			if !ok {
				panic(r)
			}
			out, err = nil, f
		}
	}()
	e.value(v, 0)
	return e.buf, nil
}

// jsonFailure is the panic an unmetered encoder raises instead of a Lua error.
type jsonFailure string

func (f jsonFailure) Error() string { return string(f) }

type jsonEncoder struct {
	L       *lua.LState
	buf     []byte
	stack   map[*lua.LTable]bool // the tables being encoded: one met again is a cycle
	metered bool                 // Lua called it: its work is charged, its errors are Lua errors
	charged int                  // bytes of buf already charged
	work    int                  // values written since the last charge
}

func (e *jsonEncoder) fail(line int, msg string) {
	if !e.metered {
		panic(jsonFailure(jsonText(line, msg)))
	}
	jsonFail(e.L, line, msg)
}

// flush charges what was written since the last charge: the buffer's growth as memory, and the values
// and bytes as compute.
func (e *jsonEncoder) flush() {
	if !e.metered {
		return
	}
	grown := len(e.buf) - e.charged
	chargeAlloc(e.L, int64(grown))
	charge(e.L, int64(e.work+grown/costBytes))
	e.charged, e.work = len(e.buf), 0
}

func (e *jsonEncoder) value(v lua.LValue, depth int) {
	if e.work++; e.work+(len(e.buf)-e.charged)/costBytes >= jsonChargeEvery {
		e.flush()
	}
	switch x := v.(type) {
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	case lua.LBool:
		e.buf = strconv.AppendBool(e.buf, bool(x))
	case lua.LNumber:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			e.fail(jsonLineNumber, "unexpected number value '"+nonFiniteText(f)+"'")
		}
		e.buf = appendG14(e.buf, f)
	case lua.LString:
		e.buf = appendJSONString(e.buf, string(x))
	case *lua.LTable:
		e.table(x, depth)
	default:
		e.fail(jsonLineType, "unexpected type '"+v.Type().String()+"'")
	}
}

func (e *jsonEncoder) table(t *lua.LTable, depth int) {
	if e.stack[t] {
		e.fail(jsonLineCircular, "circular reference")
	}
	if depth >= jsonMaxDepth {
		if !e.metered {
			panic(jsonFailure("json.encode: nested too deep"))
		}
		jsonTooDeep(e.L, "encode")
	}
	e.stack[t] = true
	if first, _ := t.Next(lua.LNil); first == lua.LNil || t.RawGetInt(1) != lua.LNil {
		// An array: only number keys, as many as #t.
		n := 0
		t.ForEach(func(k, _ lua.LValue) {
			if _, ok := k.(lua.LNumber); !ok {
				e.fail(jsonLineArrayKeys, "invalid table: mixed or invalid key types")
			}
			n++
		})
		size := t.Len()
		if n != size {
			e.fail(jsonLineSparse, "invalid table: sparse array")
		}
		e.work += n
		e.buf = append(e.buf, '[')
		for i := 1; i <= size; i++ {
			if i > 1 {
				e.buf = append(e.buf, ',')
			}
			e.value(t.RawGetInt(i), depth+1)
		}
		e.buf = append(e.buf, ']')
	} else {
		// An object: only string keys; function values are left out.
		var keys []string
		t.ForEach(func(k, _ lua.LValue) {
			s, ok := k.(lua.LString)
			if !ok {
				e.fail(jsonLineObjectKeys, "invalid table: mixed or invalid key types")
			}
			keys = append(keys, string(s))
		})
		e.work += len(keys)
		sort.Strings(keys)
		e.buf = append(e.buf, '{')
		first := true
		for _, k := range keys {
			v := t.RawGetString(k)
			if v.Type() == lua.LTFunction {
				continue
			}
			if !first {
				e.buf = append(e.buf, ',')
			}
			first = false
			e.buf = appendJSONString(e.buf, k)
			e.buf = append(e.buf, ':')
			e.value(v, depth+1)
		}
		e.buf = append(e.buf, '}')
	}
	delete(e.stack, t)
}

// appendG14 writes f as C's "%.14g" does (Go's 'g' format with precision 14 follows the same rules: the
// exponent form when the exponent is below -4 or at least 14, trailing zeros dropped, two exponent digits
// at least).
func appendG14(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, f, 'g', 14, 64)
}

// nonFiniteText is how C Lua prints a number that is not finite.
func nonFiniteText(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.Signbit(f):
		return "-nan"
	}
	return "nan"
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s quoted: '"', '\' and bytes below 32 escaped, every other byte as it is.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 32 && c != '"' && c != '\\' {
			continue
		}
		b = appendEscapedByte(append(b, s[start:i]...), c)
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendEscapedByte writes the JSON escape of an ASCII byte that cannot stand as it is in a string: the short
// forms for '"', '\' and the common controls, \u00XX for the rest (both encoders here write it alike).
func appendEscapedByte(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
}

/* ---- decode ---- */

func jsonDecode(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if !ok {
		jsonFail(L, jsonLineArgument, "expected argument of type string, got "+L.Get(1).Type().String())
	}
	d := jsonDecoder{L: L, s: string(s)}
	v, p := d.parse(d.skipSpace(0), 0)
	if p = d.skipSpace(p); p < len(d.s) {
		d.fail(p, "trailing garbage")
	}
	charge(L, int64(d.work+len(d.s)/costBytes))
	L.Push(v)
	return 1
}

// jsonDecoder reads s; positions are 0-based byte offsets (the Lua module's are 1-based).
type jsonDecoder struct {
	L    *lua.LState
	s    string
	work int // values made since the last charge
}

// fail raises msg at position p, naming its line and column as the module does.
func (d *jsonDecoder) fail(p int, msg string) {
	line, col := 1, 1
	for i := 0; i < p; i++ {
		col++
		if i < len(d.s) && d.s[i] == '\n' {
			line++
			col = 1
		}
	}
	jsonFail(d.L, jsonLineDecode, msg+" at line "+strconv.Itoa(line)+" col "+strconv.Itoa(col))
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isJSONDelim(c byte) bool { return isJSONSpace(c) || c == ']' || c == '}' || c == ',' }

func (d *jsonDecoder) skipSpace(p int) int {
	for p < len(d.s) && isJSONSpace(d.s[p]) {
		p++
	}
	return p
}

// word is the text from p to the next delimiter, and the position after it.
func (d *jsonDecoder) word(p int) (string, int) {
	end := p
	for end < len(d.s) && !isJSONDelim(d.s[end]) {
		end++
	}
	return d.s[p:end], end
}

// made counts one value made, and charges the work done so far now and then.
func (d *jsonDecoder) made() {
	if d.work++; d.work >= jsonChargeEvery {
		charge(d.L, int64(d.work))
		d.work = 0
	}
}

func (d *jsonDecoder) parse(p, depth int) (lua.LValue, int) {
	if p >= len(d.s) {
		d.fail(p, "unexpected character ''")
	}
	d.made()
	switch c := d.s[p]; {
	case c == '"':
		return d.str(p)
	case c == '-' || c >= '0' && c <= '9':
		w, end := d.word(p)
		f, ok := lua53.StringToNumber(w)
		if !ok {
			d.fail(p, "invalid number '"+w+"'")
		}
		return lua.LNumber(f), end
	case c == 't' || c == 'f' || c == 'n':
		w, end := d.word(p)
		switch w {
		case "true":
			return lua.LTrue, end
		case "false":
			return lua.LFalse, end
		case "null":
			return lua.LNil, end
		}
		d.fail(p, "invalid literal '"+w+"'")
	case c == '[' || c == '{':
		if depth >= jsonMaxDepth {
			jsonTooDeep(d.L, "decode")
		}
		if c == '[' {
			return d.array(p, depth+1)
		}
		return d.object(p, depth+1)
	default:
		d.fail(p, "unexpected character '"+d.s[p:p+1]+"'")
	}
	return lua.LNil, p // not reached: fail raises
}

// array reads [v, v, ...] at p; a comma may end it.
func (d *jsonDecoder) array(p, depth int) (lua.LValue, int) {
	var vals []lua.LValue
	p++
	for {
		p = d.skipSpace(p)
		if p < len(d.s) && d.s[p] == ']' {
			p++
			break
		}
		var v lua.LValue
		v, p = d.parse(p, depth)
		vals = append(vals, v)
		p = d.skipSpace(p)
		var c byte
		if p < len(d.s) {
			c = d.s[p]
		}
		p++
		if c == ']' {
			break
		}
		if c != ',' {
			d.fail(p, "expected ']' or ','")
		}
	}
	chargeAlloc(d.L, sizeTable+sizeEntry*int64(len(vals)))
	t := d.L.CreateTable(len(vals), 0)
	for i, v := range vals {
		if v != lua.LNil {
			t.RawSetInt(i+1, v)
		}
	}
	return t, p
}

// object reads {"k": v, ...} at p; a comma may end it, and the last value of a key wins (null removes it).
func (d *jsonDecoder) object(p, depth int) (lua.LValue, int) {
	var keys []string
	vals := map[string]lua.LValue{}
	p++
	for {
		p = d.skipSpace(p)
		if p < len(d.s) && d.s[p] == '}' {
			p++
			break
		}
		if p >= len(d.s) || d.s[p] != '"' {
			d.fail(p, "expected string for key")
		}
		var k, v lua.LValue
		k, p = d.str(p)
		p = d.skipSpace(p)
		if p >= len(d.s) || d.s[p] != ':' {
			d.fail(p, "expected ':' after key")
		}
		v, p = d.parse(d.skipSpace(p+1), depth)
		key := string(k.(lua.LString))
		if _, seen := vals[key]; !seen {
			keys = append(keys, key)
		}
		vals[key] = v
		p = d.skipSpace(p)
		var c byte
		if p < len(d.s) {
			c = d.s[p]
		}
		p++
		if c == '}' {
			break
		}
		if c != ',' {
			d.fail(p, "expected '}' or ','")
		}
	}
	chargeAlloc(d.L, sizeTable+sizeEntry*int64(len(keys)))
	t := d.L.CreateTable(0, len(keys))
	for _, k := range keys { // document order: a table's pairs order follows its insertions
		if v := vals[k]; v != lua.LNil {
			t.RawSetString(k, v)
		}
	}
	return t, p
}

// str reads the string whose opening quote is at p.
func (d *jsonDecoder) str(p int) (lua.LValue, int) {
	var b strings.Builder
	start := p + 1 // the run of plain bytes not yet copied
	for j := p + 1; j < len(d.s); j++ {
		c := d.s[j]
		switch {
		case c < 32:
			d.fail(j, "control character in string")
		case c == '"':
			b.WriteString(d.s[start:j])
			chargeAlloc(d.L, sizeString+int64(b.Len()))
			charge(d.L, int64(j-p)/costBytes)
			return lua.LString(b.String()), j + 1
		case c == '\\':
			b.WriteString(d.s[start:j])
			j++
			var esc byte
			if j < len(d.s) {
				esc = d.s[j]
			}
			if esc == 'u' {
				hex := unicodeEscape(d.s[j+1:])
				if hex == "" {
					d.fail(j-1, "invalid unicode escape in string")
				}
				d.codepoint(&b, hex)
				j += len(hex)
			} else {
				r, ok := jsonEscapes[esc]
				if !ok {
					d.fail(j-1, "invalid escape char '"+d.s[j:min(j+1, len(d.s))]+"' in string")
				}
				b.WriteByte(r)
			}
			start = j + 1
		}
	}
	d.fail(p, "expected closing quote for string")
	return lua.LNil, p // not reached
}

// jsonEscapes are the one-character escapes after '\' and the bytes they stand for.
var jsonEscapes = map[byte]byte{'\\': '\\', '/': '/', '"': '"', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// unicodeEscape is the hex the module reads after "\u" at the start of s: a high surrogate's four digits,
// "\u" and any four digits (10 bytes), else four hex digits, else "" (an invalid escape).
func unicodeEscape(s string) string {
	if len(s) >= 10 && (s[0] == 'd' || s[0] == 'D') && strings.IndexByte("89aAbB", s[1]) >= 0 &&
		isHex(s[2]) && isHex(s[3]) && s[4] == '\\' && s[5] == 'u' && isHex(s[6]) && isHex(s[7]) && isHex(s[8]) && isHex(s[9]) {
		return s[:10]
	}
	if len(s) >= 4 && isHex(s[0]) && isHex(s[1]) && isHex(s[2]) && isHex(s[3]) {
		return s[:4]
	}
	return ""
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// codepoint writes the UTF-8 bytes of the escape hex (see unicodeEscape). The pair's second half is not
// checked to be a low surrogate, and a lone surrogate is written as its 3 bytes, as the module does.
func (d *jsonDecoder) codepoint(b *strings.Builder, hex string) {
	n1, _ := strconv.ParseUint(hex[:4], 16, 32)
	n := n1
	if len(hex) == 10 {
		n2, _ := strconv.ParseUint(hex[6:], 16, 32)
		n = (n1-0xd800)*0x400 + n2 + 0x10000 - 0xdc00
	}
	switch {
	case n <= 0x7f:
		b.WriteByte(byte(n))
	case n <= 0x7ff:
		b.WriteByte(byte(0xc0 | n>>6))
		b.WriteByte(byte(0x80 | n&0x3f))
	case n <= 0xffff:
		b.WriteByte(byte(0xe0 | n>>12))
		b.WriteByte(byte(0x80 | n>>6&0x3f))
		b.WriteByte(byte(0x80 | n&0x3f))
	case n <= 0x10ffff:
		b.WriteByte(byte(0xf0 | n>>18))
		b.WriteByte(byte(0x80 | n>>12&0x3f))
		b.WriteByte(byte(0x80 | n>>6&0x3f))
		b.WriteByte(byte(0x80 | n&0x3f))
	default:
		jsonFail(d.L, jsonLineCodepoint, "invalid unicode codepoint '"+strconv.FormatUint(n, 16)+"'")
	}
}
