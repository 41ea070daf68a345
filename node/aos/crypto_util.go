package aos

import (
	"reflect"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// crypto.utils: the queue, stream, array and hex helpers of AOS's crypto module (crypto.utils.bit is the
// bit32 library). A stream is a function giving the next byte, then nil; a queue is a table of functions
// (push, pop, size, getHead, getTail, reset) over one shared state; an array is a table of bytes from 1.
// Every function here is a top-level Go function whose state is in Lua values (its upvalues or a table),
// so process snapshots and forks carry it.

const (
	cryptoChunkHex   = `[string ".crypto.util.hex"]`
	cryptoChunkArray = `[string ".crypto.util.array"]`
	hexLineInvalid   = 71
	arrayLineXOR     = 331
)

func cryptoFail(L *lua.LState, chunk string, line int, msg string) {
	L.Error(lua.LString(chunk+":"+strconv.Itoa(line)+": "+msg), 0)
}

/* ---- queue ---- */

// A queue's state is one table: its items at the integer keys tail..head-1, and "head" and "tail".
var (
	kHead = lua.LString("head")
	kTail = lua.LString("tail")
)

func newQueueState(L *lua.LState) *lua.LTable {
	st := L.CreateTable(0, 2)
	st.RawSetH(kHead, lua.LNumber(0))
	st.RawSetH(kTail, lua.LNumber(0))
	return st
}

func queueCounter(st *lua.LTable, k lua.LString) int {
	return int(lua.LVAsNumber(st.RawGetH(k)))
}

// newQueue is Queue(): the table of functions over a new state.
func newQueue(L *lua.LState) *lua.LTable {
	st := newQueueState(L)
	q := L.CreateTable(0, 6)
	for _, f := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{"push", queuePush}, {"pop", queuePop}, {"size", queueSize}, {"getHead", queueGetHead},
		{"getTail", queueGetTail}, {"reset", queueReset},
	} {
		q.RawSetString(f.name, L.NewClosure(f.fn, st))
	}
	return q
}

func queueNew(L *lua.LState) int {
	L.Push(newQueue(L))
	return 1
}

func upState(L *lua.LState) *lua.LTable { return L.Get(lua.UpvalueIndex(1)).(*lua.LTable) }

// queuePush adds a value (nil too: it ends what pop gives there, as in AOS).
func queuePush(L *lua.LState) int {
	st := upState(L)
	head := queueCounter(st, kHead)
	st.RawSet(lua.LNumber(head), L.Get(1))
	st.RawSetH(kHead, lua.LNumber(head+1))
	return 0
}

func queuePop(L *lua.LState) int {
	st := upState(L)
	tail, head := queueCounter(st, kTail), queueCounter(st, kHead)
	if tail >= head {
		L.Push(lua.LNil)
		return 1
	}
	v := st.RawGet(lua.LNumber(tail))
	st.RawSet(lua.LNumber(tail), lua.LNil)
	st.RawSetH(kTail, lua.LNumber(tail+1))
	L.Push(v)
	return 1
}

func queueSize(L *lua.LState) int {
	st := upState(L)
	L.Push(lua.LNumber(queueCounter(st, kHead) - queueCounter(st, kTail)))
	return 1
}

func queueGetHead(L *lua.LState) int {
	L.Push(lua.LNumber(queueCounter(upState(L), kHead)))
	return 1
}

func queueGetTail(L *lua.LState) int {
	L.Push(lua.LNumber(queueCounter(upState(L), kTail)))
	return 1
}

func queueReset(L *lua.LState) int {
	st := upState(L)
	head, tail := queueCounter(st, kHead), queueCounter(st, kTail)
	for i := tail; i < head; i++ {
		st.RawSet(lua.LNumber(i), lua.LNil)
	}
	st.RawSetH(kHead, lua.LNumber(0))
	st.RawSetH(kTail, lua.LNumber(0))
	return 0
}

// queueOf is a stream of the given bytes: the pop function of a new queue holding them.
func queueOf(L *lua.LState, vals []lua.LValue) *lua.LFunction {
	st := newQueueState(L)
	for i, v := range vals {
		st.RawSet(lua.LNumber(i), v)
	}
	st.RawSetH(kHead, lua.LNumber(len(vals)))
	return L.NewClosure(queuePop, st)
}

func bytesQueue(L *lua.LState, b []byte) *lua.LFunction {
	vals := make([]lua.LValue, len(b))
	for i, c := range b {
		vals[i] = lua.LNumber(c)
	}
	chargeAlloc(L, sizeTable+sizeEntry*int64(len(b)))
	return queueOf(L, vals)
}

/* ---- streams ---- */

// streamOfString is Stream.fromString(s): upvalues s and the index of the last byte given.
func streamOfString(L *lua.LState, s string) *lua.LFunction {
	return L.NewClosure(stringStream, lua.LString(s), lua.LNumber(0))
}

func stringStream(L *lua.LState) int {
	s := string(L.Get(lua.UpvalueIndex(1)).(lua.LString))
	i := int(L.Get(lua.UpvalueIndex(2)).(lua.LNumber)) + 1
	L.Replace(lua.UpvalueIndex(2), lua.LNumber(i))
	if i > len(s) {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(s[i-1]))
	return 1
}

// readStream calls stream until it gives nil and returns what it gave. The streams made here are read
// directly.
func readStream(L *lua.LState, stream lua.LValue) []lua.LValue {
	var out []lua.LValue
	if fn, ok := stream.(*lua.LFunction); ok && len(fn.Upvalues) == 2 && isGo(fn, stringStream) {
		s := string(fn.Upvalues[0].Value().(lua.LString))
		i := int(fn.Upvalues[1].Value().(lua.LNumber))
		for ; i < len(s); i++ {
			out = append(out, lua.LNumber(s[i]))
		}
		fn.Upvalues[1].SetValue(lua.LNumber(len(s) + 1))
		charge(L, int64(len(out))/8)
		return out
	}
	for n := 0; ; n++ {
		L.Push(stream)
		L.Call(0, 1)
		v := L.Get(-1)
		L.Pop(1)
		if v == lua.LNil {
			return out
		}
		out = append(out, v)
		if n&255 == 255 { // a Go function as the stream runs no instructions: charge its calls
			charge(L, 256*callCost)
			chargeAlloc(L, 256*sizeEntry)
		}
	}
}

// streamBytes is readStream as bytes (each value taken modulo 256, as the digests' byte arithmetic keeps
// only the low bits).
func streamBytes(L *lua.LState, stream lua.LValue) []byte {
	vals := readStream(L, stream)
	b := make([]byte, len(vals))
	for i, v := range vals {
		n, ok := v.(lua.LNumber)
		if !ok {
			L.RaiseError("stream gave a %s, not a byte", v.Type().String())
		}
		b[i] = byte(int64(n))
	}
	return b
}

func streamFromString(L *lua.LState) int {
	L.Push(streamOfString(L, luaStringArg(L, 1)))
	return 1
}

func streamToString(L *lua.LState) int {
	vals := readStream(L, L.Get(1))
	var b strings.Builder
	for i, v := range vals {
		c, bad := charArg(v)
		if bad != "" {
			L.RaiseError("bad argument #%d to 'char' (%s)", i+1, bad)
		}
		b.WriteByte(c)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

func streamFromArray(L *lua.LState) int {
	L.Push(queueOf(L, arrayPrefix(L, L.CheckTable(1))))
	return 1
}

func streamToArray(L *lua.LState) int {
	L.Push(valuesTable(L, readStream(L, L.Get(1))))
	return 1
}

func streamFromHex(L *lua.LState) int {
	L.Push(queueOf(L, hexPairs(luaStringArg(L, 1))))
	return 1
}

func streamToHex(L *lua.LState) int {
	L.Push(lua.LString(upperHex(readStream(L, L.Get(1)))))
	return 1
}

/* ---- arrays ---- */

// luaStringArg is a string argument as string.byte and string.len take it (numbers as their text).
func luaStringArg(L *lua.LState, n int) string {
	if s, ok := L.Get(n).(lua.LString); ok {
		return string(s)
	}
	return L.CheckString(n)
}

// arrayPrefix is a[1], a[2], ... up to the first nil (an __index may make that long: every element is
// charged).
func arrayPrefix(L *lua.LState, a *lua.LTable) []lua.LValue {
	var out []lua.LValue
	if a.Metatable == lua.LNil { // its own entries: as many as the table holds
		for i := 1; ; i++ {
			v := a.RawGetInt(i)
			if v == lua.LNil {
				charge(L, int64(i)/8)
				return out
			}
			out = append(out, v)
		}
	}
	for i := 1; ; i++ {
		v := L.GetTable(a, lua.LNumber(i))
		if v == lua.LNil {
			return out
		}
		out = append(out, v)
		if i&255 == 0 {
			charge(L, 256*callCost)
			chargeAlloc(L, 256*sizeEntry)
		}
	}
}

// callCost is the compute charge of a call a library makes to a function it was given (a Go function
// runs no instructions of its own): about what the call costs.
const callCost = 16

// sizedTable is a new table for n entries, charged first (n comes from the caller: it may be anything).
func sizedTable(L *lua.LState, n int) *lua.LTable {
	if n <= 0 {
		return L.CreateTable(0, 0)
	}
	charge(L, int64(n)/8)
	chargeAlloc(L, sizeTable+sizeEntry*int64(n))
	return L.CreateTable(n, 0)
}

// countArg is a count argument, clamped to what a table can hold (the charges stop anything larger).
func countArg(L *lua.LState, n int) int {
	f := float64(L.CheckNumber(n))
	switch {
	case f != f || f < 0:
		return 0
	case f > 1<<40:
		return 1 << 40
	}
	return int(f)
}

func valuesTable(L *lua.LState, vals []lua.LValue) *lua.LTable {
	chargeAlloc(L, sizeTable+sizeEntry*int64(len(vals)))
	t := L.CreateTable(len(vals), 0)
	for i, v := range vals {
		t.RawSetInt(i+1, v)
	}
	return t
}

func bytesTable(L *lua.LState, b []byte) *lua.LTable {
	vals := make([]lua.LValue, len(b))
	for i, c := range b {
		vals[i] = lua.LNumber(c)
	}
	return valuesTable(L, vals)
}

// hexPairs reads hex two digits at a time, as many pairs as #hex/2; a pair that is not two uppercase or
// two lowercase hex digits (the module's table has "%02X" and "%02x") is nil.
func hexPairs(hex string) []lua.LValue {
	upper := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }
	lower := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }
	out := make([]lua.LValue, len(hex)/2)
	for i := range out {
		a, b := hex[2*i], hex[2*i+1]
		if upper(a) && upper(b) || lower(a) && lower(b) {
			v, _ := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
			out[i] = lua.LNumber(v)
		} else {
			out[i] = lua.LNil
		}
	}
	return out
}

// isGo reports whether fn is the Go function f.
func isGo(fn *lua.LFunction, f lua.LGFunction) bool {
	return fn.IsG && reflect.ValueOf(fn.GFunction).Pointer() == reflect.ValueOf(f).Pointer()
}

// upperHex is the two uppercase hex digits of each byte, up to the first value that is not a byte.
func upperHex(vals []lua.LValue) string {
	var b strings.Builder
	for _, v := range vals {
		n, ok := v.(lua.LNumber)
		if !ok || n < 0 || n > 255 || float64(n) != float64(int(n)) {
			break
		}
		b.WriteString(strings.ToUpper(hex2(byte(n))))
	}
	return b.String()
}

func hex2(c byte) string { return string([]byte{hexDigits[c>>4], hexDigits[c&15]}) }

func arraySize(L *lua.LState) int {
	L.Push(lua.LNumber(L.ObjLen(L.CheckAny(1))))
	return 1
}

func arrayFromString(L *lua.LState) int {
	L.Push(bytesTable(L, []byte(luaStringArg(L, 1))))
	return 1
}

func arrayToString(L *lua.LState) int {
	vals := arrayPrefix(L, L.CheckTable(1))
	var b strings.Builder
	for _, v := range vals {
		c, bad := charArg(v)
		if bad != "" {
			L.RaiseError("bad argument #1 to 'char' (%s)", bad)
		}
		b.WriteByte(c)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

func arrayFromStream(L *lua.LState) int {
	L.Push(valuesTable(L, readStream(L, L.Get(1))))
	return 1
}

// queueCall calls queue[method] with the arguments.
func queueCall(L *lua.LState, queue lua.LValue, method string, args ...lua.LValue) lua.LValue {
	L.Push(L.GetField(queue, method))
	for _, a := range args {
		L.Push(a)
	}
	L.Call(len(args), 1)
	v := L.Get(-1)
	L.Pop(1)
	return v
}

func arrayReadFromQueue(L *lua.LState) int {
	q := L.Get(1)
	n := countArg(L, 2)
	out := sizedTable(L, n)
	charge(L, int64(n)*callCost)
	for i := 1; i <= n; i++ {
		out.RawSetInt(i, queueCall(L, q, "pop"))
	}
	L.Push(out)
	return 1
}

func arrayWriteToQueue(L *lua.LState) int {
	q := L.Get(1)
	a := L.CheckTable(2)
	n := L.ObjLen(a)
	charge(L, int64(n)*callCost)
	for i := 1; i <= n; i++ {
		queueCall(L, q, "push", L.GetTable(a, lua.LNumber(i)))
	}
	return 0
}

func arrayToStream(L *lua.LState) int { return streamFromArray(L) }

func arrayFromHex(L *lua.LState) int {
	vals := hexPairs(luaStringArg(L, 1))
	t := L.CreateTable(len(vals), 0)
	for i, v := range vals {
		if v != lua.LNil {
			t.RawSetInt(i+1, v)
		}
	}
	L.Push(t)
	return 1
}

func arrayToHex(L *lua.LState) int {
	L.Push(lua.LString(upperHex(arrayPrefix(L, L.CheckTable(1)))))
	return 1
}

func arrayConcat(L *lua.LState) int {
	a, b := arrayPrefix(L, L.CheckTable(1)), arrayPrefix(L, L.CheckTable(2))
	L.Push(valuesTable(L, append(a, b...)))
	return 1
}

func arrayTruncate(L *lua.LState) int {
	a := L.CheckTable(1)
	n := countArg(L, 2)
	out := sizedTable(L, n)
	for i := 1; i <= n; i++ {
		if v := L.GetTable(a, lua.LNumber(i)); v != lua.LNil {
			out.RawSetInt(i, v)
		}
	}
	L.Push(out)
	return 1
}

// arrayXOR is XOR over a's entries (pairs order): each with b's entry at the same key, both 32-bit
// numbers (bit32.bxor's check).
func arrayXOR(L *lua.LState) int {
	a, b := L.CheckTable(1), L.CheckTable(2)
	out := L.CreateTable(a.Len(), 0)
	a.ForEach(func(k, v lua.LValue) {
		x, ok1 := v.(lua.LNumber)
		y, ok2 := L.GetTable(b, k).(lua.LNumber)
		if !ok1 || !ok2 {
			arg, bad := 1, v
			if ok1 {
				arg, bad = 2, L.GetTable(b, k)
			}
			cryptoFail(L, cryptoChunkArray, arrayLineXOR, "bad argument #"+strconv.Itoa(arg)+" to 'XOR' (number expected, got "+typeNameOf(bad)+")")
		}
		out.RawSet(k, lua.LNumber(float64((uint64(int64(x))^uint64(int64(y)))&allOnes)))
	})
	L.Push(out)
	return 1
}

// typeNameOf is the type a "number expected, got ..." message names (no value is "nil" there).
func typeNameOf(v lua.LValue) string { return v.Type().String() }

func arraySubstitute(L *lua.LState) int {
	in, sbox := L.CheckTable(1), L.CheckTable(2)
	out := L.CreateTable(in.Len(), 0)
	in.ForEach(func(k, v lua.LValue) { out.RawSet(k, L.GetTable(sbox, v)) })
	L.Push(out)
	return 1
}

func arrayPermute(L *lua.LState) int {
	in, pbox := L.CheckTable(1), L.CheckTable(2)
	out := L.CreateTable(pbox.Len(), 0)
	pbox.ForEach(func(k, v lua.LValue) { out.RawSet(k, L.GetTable(in, v)) })
	L.Push(out)
	return 1
}

func arrayCopy(L *lua.LState) int {
	in := L.CheckTable(1)
	out := L.CreateTable(in.Len(), 0)
	in.ForEach(func(k, v lua.LValue) { out.RawSet(k, v) })
	L.Push(out)
	return 1
}

// arraySlice is slice(input, start, stop): from start to stop (negative from the end; defaults the whole
// array), nil elements included through table.insert's rules.
func arraySlice(L *lua.LState) int {
	in := L.CheckTable(1)
	n := L.ObjLen(in)
	bound := func(i int, def int) int {
		if L.Get(i) == lua.LNil {
			return def
		}
		v := int(max(min(float64(L.CheckNumber(i)), 1<<40), -(1 << 40)))
		if v < 0 {
			v = n + v + 1
		}
		return v
	}
	start, stop := bound(2, 1), bound(3, n)
	out := sizedTable(L, min(max(stop-start+1, 0), 1<<40))
	for i := start; i <= stop; i++ {
		if v := L.GetTable(in, lua.LNumber(i)); v != lua.LNil {
			out.Append(v)
		}
	}
	L.Push(out)
	return 1
}

/* ---- hex ---- */

// hexStringToHex is stringToHex(s [, ln [, sep]]): lowercase hex; with ln, a newline after every ln bytes
// and sep between the others.
func hexStringToHex(L *lua.LState) int {
	s := luaStringArg(L, 1)
	var b strings.Builder
	if L.Get(2) == lua.LNil || L.Get(2) == lua.LFalse {
		for i := 0; i < len(s); i++ {
			b.WriteString(hex2(s[i]))
		}
		L.Push(lua.LString(b.String()))
		return 1
	}
	ln := int(L.CheckNumber(2))
	sep := L.OptString(3, "")
	for i := 0; i < len(s); i++ {
		b.WriteString(hex2(s[i]))
		if i == len(s)-1 {
			break
		}
		if ln != 0 && (i+1)%ln == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteString(sep)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// hexHexToString is hexToString(hs [, unsafe]): whitespace removed, then an error for anything but
// letters and digits or an odd length (unless unsafe); each pair of hex digits becomes its byte, anything
// else stays.
func hexHexToString(L *lua.LState) int {
	hs := luaStringArg(L, 1)
	if !lua.LVAsBool(L.Get(2)) {
		hs = strings.Map(func(r rune) rune {
			if r == ' ' || r >= '\t' && r <= '\r' {
				return -1
			}
			return r
		}, hs)
		for i := 0; i < len(hs); i++ {
			if !inClass(hs[i], 'w') {
				cryptoFail(L, cryptoChunkHex, hexLineInvalid, "invalid hex string")
			}
		}
		if len(hs)%2 != 0 {
			cryptoFail(L, cryptoChunkHex, hexLineInvalid, "invalid hex string")
		}
	}
	var b strings.Builder
	for i := 0; i < len(hs); {
		if i+1 < len(hs) && isHex(hs[i]) && isHex(hs[i+1]) {
			v, _ := strconv.ParseUint(hs[i:i+2], 16, 8)
			b.WriteByte(byte(v))
			i += 2
			continue
		}
		b.WriteByte(hs[i])
		i++
	}
	L.Push(lua.LString(b.String()))
	return 1
}
