package aos

import (
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/node/aos/lua53"
)

// The `.bint` module: fixed-width two's complement integers, as AOS code uses them for token balances:
//
//	local bint = require('.bint')(256)
//	Balances[to] = tostring(bint(Balances[to] or "0") + bint(msg.Quantity))
//
// require('.bint') (or 'bint') gives newmodule(bits [, wordbits]) (bits defaults to 256, wordbits to 32),
// which returns the bint class for that width, the same table for the same arguments. The class is
// callable (bint(x) is bint.new(x)) and is the metatable of its values, so methods work too (x:tobase(16)).
//
// A value is a plain Lua table holding the number's bits as little-endian words of wordbits bits each
// (x[1] is the lowest word), with the class as metatable: the layout the reference pure-Lua bint uses, so
// #x, x[i], pairs and json.encode see what they would there. Being a table, it is copied exactly by the
// process's state snapshots and forks. The arithmetic is done in Go with math/big; every function is a
// stateless Go function whose class, width and word size are upvalues.
//
// Semantics follow Lua 5.3 integers: results wrap around at bits (two's complement); // and % round
// toward minus infinity; / and ^ are float operations; a bint mixed with a Lua number or a numeric string
// converts it when it is integral (decimal, 0x hex or 0b binary for strings) and otherwise falls back to
// float arithmetic; integer division by zero raises "attempt to divide by zero". tostring gives the signed
// decimal. gopher-lua is Lua 5.1: comparing a bint with a Lua number by < or <= raises a Lua error there,
// use bint.lt/bint.le (or convert first); == between a bint and a number is false, use bint.eq.

// regBint is the registry key of the newmodule function, shared by the '.bint' and 'bint' names.
const regBint = "__aonode_bint"

// maxBintBits bounds the width a process may ask for: every operation allocates a few values of it.
const maxBintBits = 1 << 16

func openBint(L *lua.LState) int {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if fn, ok := reg.RawGetString(regBint).(*lua.LFunction); ok {
		L.Push(fn)
		return 1
	}
	fn := L.NewClosure(bintNewModule, L.NewTable()) // upvalue: memo of classes by bits*64+wordbits
	reg.RawSetString(regBint, fn)
	L.Push(fn)
	return 1
}

// bintFuncs are the class's functions, set in this order (a fixed order keeps the class table's layout,
// and so pairs over it, the same in every VM).
var bintFuncs = []struct {
	name string
	fn   lua.LGFunction
}{
	{"zero", bZero}, {"one", bOne}, {"fromuinteger", bFromUInteger}, {"frominteger", bFromInteger},
	{"frombase", bFromBase}, {"fromstring", bFromString}, {"fromle", bFromLE}, {"frombe", bFromBE},
	{"new", bNew}, {"tobint", bToBint}, {"parse", bParse}, {"touinteger", bToUInteger},
	{"tointeger", bToInteger}, {"tonumber", bToNumber}, {"tobase", bToBase}, {"tole", bToLE}, {"tobe", bToBE},
	{"iszero", bIsZero}, {"isone", bIsOne}, {"isminusone", bIsMinusOne}, {"isbint", bIsBint},
	{"isintegral", bIsIntegral}, {"isnumeric", bIsNumeric}, {"type", bType}, {"isneg", bIsNeg},
	{"ispos", bIsPos}, {"iseven", bIsEven}, {"isodd", bIsOdd}, {"maxinteger", bMaxInteger},
	{"mininteger", bMinInteger}, {"inc", bInc}, {"dec", bDec}, {"abs", bAbs}, {"floor", bFloor},
	{"ceil", bCeil}, {"bwrap", bBwrap}, {"brol", bBrol}, {"bror", bBror}, {"trunc", bTrunc},
	{"max", bMax}, {"min", bMin}, {"__add", bAdd}, {"__sub", bSub}, {"__mul", bMul}, {"__eq", bRawEq},
	{"eq", bEq}, {"udivmod", bUDivMod}, {"udiv", bUDiv}, {"umod", bUMod}, {"tdivmod", bTDivMod},
	{"tdiv", bTDiv}, {"tmod", bTMod}, {"idivmod", bIDivMod}, {"__idiv", bIDiv}, {"__div", bDiv},
	{"__mod", bMod}, {"ipow", bIPow}, {"upowmod", bUPowMod}, {"__pow", bPow}, {"__shl", bShl},
	{"__shr", bShr}, {"__band", bBand}, {"__bor", bBor}, {"__bxor", bBxor}, {"__bnot", bBnot},
	{"__unm", bUnm}, {"ult", bULt}, {"ule", bULe}, {"__lt", bLt}, {"__le", bLe},
	{"__tostring", bToString},
	// in-place variants: they change self and return it
	{"_inc", bInplaceInc}, {"_dec", bInplaceDec}, {"_abs", bInplaceAbs}, {"_unm", bInplaceUnm},
	{"_bnot", bInplaceBnot}, {"_shlone", bInplaceShlOne}, {"_shrone", bInplaceShrOne}, {"_add", bInplaceAdd},
	{"_sub", bInplaceSub}, {"_band", bInplaceBand}, {"_bor", bInplaceBor}, {"_bxor", bInplaceBxor},
	{"_assign", bInplaceAssign}, {"_shlwords", bShlWords}, {"_shrwords", bShrWords},
}

func bintNewModule(L *lua.LState) int {
	memo := L.Get(lua.UpvalueIndex(1)).(*lua.LTable)
	bits := intArg(L, 1, 256)
	wbits := intArg(L, 2, 32)
	key := lua.LNumber(bits*64 + wbits)
	if cls, ok := memo.RawGet(key).(*lua.LTable); ok {
		L.Push(cls)
		return 1
	}
	switch {
	case wbits <= 0 || bits%wbits != 0:
		bintFail(L, "bitsize is not multiple of word bitsize")
	case 2*wbits > 64:
		bintFail(L, "word bitsize must be half of the lua integer bitsize")
	case bits < 64:
		bintFail(L, "bitsize must be >= 64")
	case wbits < 8:
		bintFail(L, "wordbits must be at least 8")
	case bits%8 != 0:
		bintFail(L, "bitsize must be multiple of 8")
	case bits > maxBintBits:
		bintFail(L, "bitsize must be at most "+strconv.Itoa(maxBintBits))
	}
	cls := L.NewTable()
	cls.RawSetString("__index", cls)
	cls.RawSetString("bits", lua.LNumber(bits))
	up := []lua.LValue{cls, lua.LNumber(bits), lua.LNumber(wbits)}
	for _, f := range bintFuncs {
		cls.RawSetString(f.name, L.NewClosure(f.fn, up...))
	}
	mt := L.NewTable()
	mt.RawSetString("__call", L.NewClosure(bCall, up...))
	cls.Metatable = mt
	memo.RawSet(key, cls)
	L.Push(cls)
	return 1
}

func intArg(L *lua.LState, i, def int) int {
	v := L.Get(i)
	if v == lua.LNil {
		return def
	}
	n, ok := v.(lua.LNumber)
	if !ok || float64(n) != math.Trunc(float64(n)) || math.Abs(float64(n)) > 1<<30 {
		L.ArgError(i, "integer expected")
	}
	return int(n)
}

// bintFail raises msg as AOS's bint does: the assert (or error) at that line of aos's bint.lua, whose
// position real AOS reports as [string ".bint"]:<2n-1> (its .bint chunk counts two line breaks per line of
// the file: measured on five of these lines in the golden suite, modules.yaml; the others follow the rule).
func bintFail(L *lua.LState, msg string) {
	if n, ok := bintAssertLine[msg]; ok {
		bintFailAt(L, n, msg)
	}
	L.Error(lua.LString(msg), 0)
}

// bintFailAt raises msg at line n of aos's bint.lua (aos 2.0.0), positioned as real AOS reports it.
func bintFailAt(L *lua.LState, n int, msg string) {
	L.Error(lua.LString(`[string ".bint"]:`+strconv.Itoa(2*n-1)+": "+msg), 0)
}

// bintAssertLine is the line of aos's process/bint.lua (aos 2.0.0) that raises each message.
var bintAssertLine = map[string]int{
	"bitsize is not multiple of word bitsize":              143,
	"word bitsize must be half of the lua integer bitsize": 144,
	"bitsize must be >= 64":                                145,
	"wordbits must be at least 8":                          146,
	"bitsize must be multiple of 8":                        147,
	"value cannot be represented by a bint":                394,
	"value has no integer representation":                  498,
	"value has not integer representation":                 612,
	"attempt to divide by zero":                            1192,
	"division overflow":                                    1297,
}

/* ---- the class a function belongs to ---- */

type bconst struct{ mod, half, max *big.Int } // 2^bits, 2^(bits-1), 2^bits-1

var bconsts sync.Map // bits -> *bconst (immutable)

type bclass struct {
	L     *lua.LState
	cls   *lua.LTable
	bits  int
	wbits int
	n     int // words
	*bconst
}

func classOf(L *lua.LState) *bclass {
	cls := L.Get(lua.UpvalueIndex(1)).(*lua.LTable)
	bits := int(L.Get(lua.UpvalueIndex(2)).(lua.LNumber))
	wbits := int(L.Get(lua.UpvalueIndex(3)).(lua.LNumber))
	c, ok := bconsts.Load(bits)
	if !ok {
		one := big.NewInt(1)
		k := &bconst{mod: new(big.Int).Lsh(one, uint(bits)), half: new(big.Int).Lsh(one, uint(bits-1))}
		k.max = new(big.Int).Sub(k.mod, one)
		c, _ = bconsts.LoadOrStore(bits, k)
	}
	return &bclass{L: L, cls: cls, bits: bits, wbits: wbits, n: bits / wbits, bconst: c.(*bconst)}
}

func (c *bclass) isBint(v lua.LValue) (*lua.LTable, bool) {
	t, ok := v.(*lua.LTable)
	if !ok || t.Metatable != lua.LValue(c.cls) {
		return nil, false
	}
	return t, true
}

// words reads a bint's value, as an unsigned integer in [0, 2^bits).
func (c *bclass) words(t *lua.LTable) *big.Int {
	limbs := make([]uint64, (c.bits+63)/64)
	wmask := uint64(1)<<uint(c.wbits) - 1
	for i := 0; i < c.n; i++ {
		var w uint64
		if v, ok := t.RawGetInt(i + 1).(lua.LNumber); ok && v > 0 {
			w = uint64(v) & wmask
		}
		off := i * c.wbits
		limbs[off/64] |= w << uint(off%64)
		if off%64+c.wbits > 64 {
			limbs[off/64+1] |= w >> uint(64-off%64)
		}
	}
	b := make([]byte, len(limbs)*8)
	for i, l := range limbs {
		binary.BigEndian.PutUint64(b[len(b)-8*(i+1):], l)
	}
	return new(big.Int).SetBytes(b)
}

// wrap reduces any integer to [0, 2^bits).
func (c *bclass) wrap(v *big.Int) *big.Int {
	if v.Sign() >= 0 && v.Cmp(c.mod) < 0 {
		return v
	}
	return new(big.Int).Mod(v, c.mod) // Euclidean: non-negative
}

// store writes u (in [0, 2^bits)) into t's words.
func (c *bclass) store(t *lua.LTable, u *big.Int) {
	b := u.FillBytes(make([]byte, (c.bits+63)/64*8))
	limbs := make([]uint64, len(b)/8)
	for i := range limbs {
		limbs[i] = binary.BigEndian.Uint64(b[len(b)-8*(i+1):])
	}
	wmask := uint64(1)<<uint(c.wbits) - 1
	for i := 0; i < c.n; i++ {
		off := i * c.wbits
		w := limbs[off/64] >> uint(off%64)
		if off%64+c.wbits > 64 {
			w |= limbs[off/64+1] << uint(64-off%64)
		}
		t.RawSetInt(i+1, lua.LNumber(w&wmask))
	}
}

// make is a new bint holding v (wrapped).
func (c *bclass) make(v *big.Int) *lua.LTable {
	t := c.L.CreateTable(c.n, 0)
	c.store(t, c.wrap(v))
	t.Metatable = c.cls
	return t
}

func (c *bclass) push(v *big.Int) int {
	c.L.Push(c.make(v))
	return 1
}

func (c *bclass) signed(u *big.Int) *big.Int {
	if u.Cmp(c.half) >= 0 {
		return new(big.Int).Sub(u, c.mod)
	}
	return u
}

func (c *bclass) neg(u *big.Int) bool { return u.Cmp(c.half) >= 0 }

/* ---- conversions from Lua values ---- */

// luaNumber is tonumber(v) for numbers and numeric strings.
func luaNumber(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		s := strings.TrimSpace(string(x))
		if s == "" {
			return 0, false
		}
		neg := false
		body := s
		if body[0] == '-' || body[0] == '+' {
			neg, body = body[0] == '-', body[1:]
		}
		if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
			u, err := strconv.ParseUint(body[2:], 16, 64)
			if err != nil {
				return 0, false
			}
			if neg {
				return -float64(u), true
			}
			return float64(u), true
		}
		for _, r := range body {
			if !(r >= '0' && r <= '9' || r == '.' || r == 'e' || r == 'E' || r == '+' || r == '-') {
				return 0, false
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
		return f, true
	}
	return 0, false
}

// luaInteger is the reference bint's tointeger: a number (or numeric string) with an exact int64 value.
// gopher-lua numbers are float64, so math.maxinteger (2^63-1) is stored as 2^63: that value is read as
// math.maxinteger, as the Lua 5.3 layer (package lua53) reads it.
func luaInteger(v lua.LValue) (int64, bool) {
	f, ok := luaNumber(v)
	if !ok || f != math.Trunc(f) || f < -(1<<63) || f > 1<<63 {
		return 0, false
	}
	if f == 1<<63 {
		return math.MaxInt64, true
	}
	return int64(f), true
}

// fromString parses decimal, 0x hexadecimal or 0b binary integers with an optional sign.
func (c *bclass) fromString(s string) (*big.Int, bool) {
	neg := false
	body := s
	if body != "" && (body[0] == '-' || body[0] == '+') {
		neg, body = body[0] == '-', body[1:]
	}
	base := 10
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		base, body = 16, body[2:]
	} else if len(body) > 2 && body[0] == '0' && (body[1] == 'b' || body[1] == 'B') {
		base, body = 2, body[2:]
	}
	return c.parseDigits(body, base, neg)
}

func (c *bclass) parseDigits(body string, base int, neg bool) (*big.Int, bool) {
	if body == "" {
		return nil, false
	}
	for i := 0; i < len(body); i++ {
		ch := body[i]
		var d int
		switch {
		case ch >= '0' && ch <= '9':
			d = int(ch - '0')
		case ch >= 'a' && ch <= 'z':
			d = int(ch-'a') + 10
		case ch >= 'A' && ch <= 'Z':
			d = int(ch-'A') + 10
		default:
			return nil, false
		}
		if d >= base {
			return nil, false
		}
	}
	v, ok := new(big.Int).SetString(body, base)
	if !ok {
		return nil, false
	}
	if neg {
		v.Neg(v)
	}
	return c.wrap(v), true
}

// tobint is the reference tobint(x) without cloning: the value of a bint, integral number or integer
// string, else false.
func (c *bclass) tobint(v lua.LValue) (*big.Int, bool) {
	switch x := v.(type) {
	case *lua.LTable:
		if t, ok := c.isBint(x); ok {
			return c.words(t), true
		}
	case lua.LNumber:
		if i, ok := luaInteger(x); ok {
			return c.wrap(big.NewInt(i)), true
		}
	case lua.LString:
		return c.fromString(string(x))
	}
	return nil, false
}

// must is tobint that raises the reference's "no integer representation" error.
func (c *bclass) must(v lua.LValue) *big.Int {
	u, ok := c.tobint(v)
	if !ok {
		bintFail(c.L, "value has not integer representation")
	}
	return u
}

// mustNew is bint.new's conversion.
func (c *bclass) mustNew(v lua.LValue) *big.Int {
	u, ok := c.tobint(v)
	if !ok {
		bintFail(c.L, "value cannot be represented by a bint")
	}
	return u
}

// number is bint.tonumber(v): a float for bints, tonumber for the rest.
func (c *bclass) number(v lua.LValue) (float64, bool) {
	if t, ok := c.isBint(v); ok {
		f, _ := new(big.Float).SetInt(c.signed(c.words(t))).Float64()
		return f, true
	}
	return luaNumber(v)
}

// arithNumbers is bint.lua's `bint_tonumber(x) <op> bint_tonumber(y)` at line n of bint.lua: a value
// that converts to no number is nil there, and the operation fails on it. idivmod's operands are the
// locals nx and ny, which Lua names (the first that is not a number).
func (c *bclass) arithNumbers(a, b lua.LValue, line int, locals bool) (float64, float64) {
	fa, oka := c.number(a)
	fb, okb := c.number(b)
	if !oka || !okb {
		msg := "attempt to perform arithmetic on a nil value"
		if locals && !oka {
			msg += " (local 'nx')"
		} else if locals {
			msg += " (local 'ny')"
		}
		bintFailAt(c.L, line, msg)
	}
	return fa, fb
}

// compareNumbers is bint.lua's `bint_tonumber(x) < bint_tonumber(y)` (or <=) at line n of bint.lua.
func (c *bclass) compareNumbers(a, b lua.LValue, line int) (float64, float64) {
	fa, oka := c.number(a)
	fb, okb := c.number(b)
	if !oka || !okb {
		t1, t2 := "number", "number"
		if !oka {
			t1 = "nil"
		}
		if !okb {
			t2 = "nil"
		}
		bintFailAt(c.L, line, orderError(t1, t2))
	}
	return fa, fb
}

// absNumber is bint.lua's math_abs(x) (line 902) for a value that is not a bint: math.abs's argument
// check.
func (c *bclass) absNumber(v lua.LValue) float64 {
	f, ok := luaNumber(v)
	if !ok {
		bintFailAt(c.L, 902, "bad argument #1 to 'math_abs' (number expected, got "+typeName(c.L, v)+")")
	}
	return f
}

func (c *bclass) mustInt(v lua.LValue) int64 {
	if t, ok := c.isBint(v); ok {
		return c.toInt64(c.words(t))
	}
	i, ok := luaInteger(v)
	if !ok {
		bintFail(c.L, "value has no integer representation")
	}
	return i
}

// toInt64 is the low 64 bits as a Lua 5.3 integer (wrapping, sign from bit 63).
func (c *bclass) toInt64(u *big.Int) int64 {
	return int64(new(big.Int).And(u, mask64).Uint64())
}

var mask64 = new(big.Int).SetUint64(math.MaxUint64)

func pushNum(L *lua.LState, f float64) int {
	L.Push(lua.LNumber(f))
	return 1
}

func pushBool(L *lua.LState, b bool) int {
	L.Push(lua.LBool(b))
	return 1
}

/* ---- constructors ---- */

func bCall(L *lua.LState) int {
	// bint(x) is bint.new(x); the class is argument 1
	L.Remove(1)
	return bNew(L)
}

func (c *bclass) newFrom(v lua.LValue) int {
	return c.push(c.mustNew(v))
}

// bNew is bint.new: a number or string converted, a bint cloned, and any other value that is not nil or
// false returned as it is (bint.lua only asserts that what it has is truthy).
func bNew(L *lua.LState) int {
	c := classOf(L)
	v := L.Get(1)
	switch v.(type) {
	case lua.LNumber, lua.LString:
	default:
		if _, isBint := c.isBint(v); !isBint && lua.LVAsBool(v) {
			L.Push(v)
			return 1
		}
	}
	return c.newFrom(v)
}

func bZero(L *lua.LState) int { return classOf(L).push(new(big.Int)) }
func bOne(L *lua.LState) int  { return classOf(L).push(big.NewInt(1)) }

func bMaxInteger(L *lua.LState) int {
	c := classOf(L)
	return c.push(new(big.Int).Sub(c.half, big.NewInt(1)))
}

func bMinInteger(L *lua.LState) int {
	c := classOf(L)
	return c.push(c.half)
}

func bFromInteger(L *lua.LState) int {
	c := classOf(L)
	i, ok := luaInteger(L.Get(1))
	if !ok {
		return 0 // bint.lua returns nothing here
	}
	return c.push(big.NewInt(i))
}

func bFromUInteger(L *lua.LState) int {
	c := classOf(L)
	i, ok := luaInteger(L.Get(1))
	if !ok {
		return 0 // bint.lua returns nothing here
	}
	return c.push(new(big.Int).SetUint64(uint64(i)))
}

func bFromString(L *lua.LState) int {
	c := classOf(L)
	s, ok := L.Get(1).(lua.LString)
	if !ok {
		return 0 // bint.lua's bare return: no value, not nil
	}
	u, ok := c.fromString(string(s))
	if !ok {
		return 0 // bint.lua's bare return: no value, not nil
	}
	return c.push(u)
}

func bFromBase(L *lua.LState) int {
	c := classOf(L)
	s, ok := L.Get(1).(lua.LString)
	base := 10
	if b, isNum := L.Get(2).(lua.LNumber); isNum {
		base = int(b)
	}
	if !ok || base < 2 || base > 36 {
		return 0 // bint.lua's bare return: no value, not nil
	}
	body := strings.TrimSpace(string(s))
	neg := false
	if body != "" && (body[0] == '-' || body[0] == '+') {
		neg, body = body[0] == '-', body[1:]
	}
	u, ok := c.parseDigits(body, base, neg)
	if !ok {
		return 0 // bint.lua's bare return: no value, not nil
	}
	return c.push(u)
}

// bytesArg is the buffer argument of fromle or frombe, whose assert is at that line of bint.lua.
func (c *bclass) bytesArg(line int) []byte {
	s, ok := c.L.Get(1).(lua.LString)
	if !ok {
		c.L.Error(lua.LString(`[string ".bint"]:`+strconv.Itoa(2*line-1)+": buffer is not a string"), 0)
	}
	return []byte(s)
}

func bFromLE(L *lua.LState) int {
	c := classOf(L)
	b := c.bytesArg(357)
	nb := c.bits / 8
	if len(b) > nb {
		b = b[:nb]
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	return c.push(new(big.Int).SetBytes(be))
}

func bFromBE(L *lua.LState) int {
	c := classOf(L)
	b := c.bytesArg(371)
	if nb := c.bits / 8; len(b) > nb {
		b = b[len(b)-nb:]
	}
	return c.push(new(big.Int).SetBytes(b))
}

func bToBint(L *lua.LState) int {
	c := classOf(L)
	v := L.Get(1)
	if _, ok := c.isBint(v); ok && !lua.LVAsBool(L.Get(2)) {
		L.Push(v)
		return 1
	}
	u, ok := c.tobint(v)
	if !ok {
		return 0 // bint.lua returns nothing here
	}
	return c.push(u)
}

func bParse(L *lua.LState) int {
	c := classOf(L)
	v := L.Get(1)
	if _, ok := c.isBint(v); ok && !lua.LVAsBool(L.Get(2)) {
		L.Push(v)
		return 1
	}
	if u, ok := c.tobint(v); ok {
		return c.push(u)
	}
	if f, ok := luaNumber(v); ok {
		return pushNum(L, f)
	}
	L.Push(lua.LNil)
	return 1
}

func bTrunc(L *lua.LState) int {
	c := classOf(L)
	v := L.Get(1)
	if t, ok := c.isBint(v); ok {
		return c.push(c.words(t))
	}
	f, ok := luaNumber(v)
	if !ok {
		return 0 // bint.lua returns nothing here
	}
	i, ok := luaInteger(lua.LNumber(math.Trunc(f)))
	if !ok {
		return 0 // bint.lua returns nothing here
	}
	return c.push(big.NewInt(i))
}

/* ---- conversions to Lua values ---- */

func bToUInteger(L *lua.LState) int { return toInteger(L) }
func bToInteger(L *lua.LState) int  { return toInteger(L) }

// toInteger: for a bint both touinteger and tointeger are its low 64 bits read as a Lua 5.3 integer.
func toInteger(L *lua.LState) int {
	c := classOf(L)
	v := L.Get(1)
	if t, ok := c.isBint(v); ok {
		return pushNum(L, float64(c.toInt64(c.words(t))))
	}
	i, ok := luaInteger(v)
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	return pushNum(L, float64(i))
}

func bToNumber(L *lua.LState) int {
	c := classOf(L)
	f, ok := c.number(L.Get(1))
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	return pushNum(L, f)
}

func (c *bclass) text(u *big.Int, base int, unsigned bool) string {
	if !unsigned && c.neg(u) {
		return "-" + new(big.Int).Sub(c.mod, u).Text(base)
	}
	return u.Text(base)
}

func bToBase(L *lua.LState) int {
	c := classOf(L)
	u, ok := c.tobint(L.Get(1))
	base := 10
	if b, isNum := L.Get(2).(lua.LNumber); isNum {
		base = int(b)
	}
	if !ok || base < 2 || base > 36 {
		return 0 // bint.lua's bare return
	}
	unsigned := base != 10
	if v := L.Get(3); v != lua.LNil {
		unsigned = lua.LVAsBool(v)
	}
	L.Push(lua.LString(c.text(u, base, unsigned)))
	return 1
}

func bToString(L *lua.LState) int {
	c := classOf(L)
	L.Push(lua.LString(c.text(c.must(L.Get(1)), 10, false)))
	return 1
}

func (c *bclass) leBytes(u *big.Int) []byte {
	be := u.FillBytes(make([]byte, c.bits/8))
	le := make([]byte, len(be))
	for i := range be {
		le[len(be)-1-i] = be[i]
	}
	return le
}

func bToLE(L *lua.LState) int {
	c := classOf(L)
	b := c.leBytes(c.must(L.Get(1)))
	if lua.LVAsBool(L.Get(2)) {
		for len(b) > 1 && b[len(b)-1] == 0 {
			b = b[:len(b)-1]
		}
	}
	L.Push(lua.LString(b))
	return 1
}

func bToBE(L *lua.LState) int {
	c := classOf(L)
	b := c.must(L.Get(1)).FillBytes(make([]byte, c.bits/8))
	if lua.LVAsBool(L.Get(2)) {
		for len(b) > 1 && b[0] == 0 {
			b = b[1:]
		}
	}
	L.Push(lua.LString(b))
	return 1
}

/* ---- predicates ---- */

func bIsBint(L *lua.LState) int {
	_, ok := classOf(L).isBint(L.Get(1))
	return pushBool(L, ok)
}

func bIsNumeric(L *lua.LState) int {
	c := classOf(L)
	v := L.Get(1)
	_, isB := c.isBint(v)
	return pushBool(L, isB || v.Type() == lua.LTNumber)
}

func isIntegralNumber(v lua.LValue) bool {
	n, ok := v.(lua.LNumber)
	if !ok {
		return false
	}
	_, ok = luaInteger(n)
	return ok
}

func bIsIntegral(L *lua.LState) int {
	c := classOf(L)
	v := L.Get(1)
	_, isB := c.isBint(v)
	return pushBool(L, isB || isIntegralNumber(v))
}

func bType(L *lua.LState) int {
	c := classOf(L)
	v := L.Get(1)
	_, isB := c.isBint(v)
	switch {
	case isB:
		L.Push(lua.LString("bint"))
	case isIntegralNumber(v):
		L.Push(lua.LString("integer"))
	case v.Type() == lua.LTNumber:
		L.Push(lua.LString("float"))
	default:
		L.Push(lua.LNil)
	}
	return 1
}

// pred runs onBint for a bint and onNum for anything else (numbers, numeric strings).
func pred(L *lua.LState, onBint func(c *bclass, u *big.Int) bool, onNum func(f float64) bool, raw bool) int {
	c := classOf(L)
	v := L.Get(1)
	if t, ok := c.isBint(v); ok {
		return pushBool(L, onBint(c, c.words(t)))
	}
	if raw { // x == n: only a Lua number can be equal
		n, ok := v.(lua.LNumber)
		return pushBool(L, ok && onNum(float64(n)))
	}
	f, ok := luaNumber(v)
	if !ok {
		L.RaiseError("attempt to compare %s with number", v.Type().String())
	}
	return pushBool(L, onNum(f))
}

func bIsZero(L *lua.LState) int {
	return pred(L, func(c *bclass, u *big.Int) bool { return u.Sign() == 0 }, func(f float64) bool { return f == 0 }, true)
}

func bIsOne(L *lua.LState) int {
	return pred(L, func(c *bclass, u *big.Int) bool { return u.Cmp(big.NewInt(1)) == 0 }, func(f float64) bool { return f == 1 }, true)
}

func bIsMinusOne(L *lua.LState) int {
	return pred(L, func(c *bclass, u *big.Int) bool { return u.Cmp(c.max) == 0 }, func(f float64) bool { return f == -1 }, true)
}

func bIsNeg(L *lua.LState) int {
	return pred(L, func(c *bclass, u *big.Int) bool { return c.neg(u) }, func(f float64) bool { return f < 0 }, false)
}

func bIsPos(L *lua.LState) int {
	return pred(L, func(c *bclass, u *big.Int) bool { return u.Sign() != 0 && !c.neg(u) }, func(f float64) bool { return f > 0 }, false)
}

func bIsEven(L *lua.LState) int {
	return pred(L, func(c *bclass, u *big.Int) bool { return u.Bit(0) == 0 }, func(f float64) bool { return math.Mod(math.Abs(f), 2) == 0 }, false)
}

func bIsOdd(L *lua.LState) int {
	return pred(L, func(c *bclass, u *big.Int) bool { return u.Bit(0) == 1 }, func(f float64) bool { return math.Mod(math.Abs(f), 2) == 1 }, false)
}

/* ---- arithmetic ---- */

// arith is a binary operation: on two integers (bints, integral numbers, integer strings) it wraps
// onInt's result; otherwise it computes onFloat on their float values, failing as line of bint.lua does
// on a value that is not a number.
func arith(L *lua.LState, line int, onInt func(c *bclass, x, y *big.Int) *big.Int, onFloat func(x, y float64) float64) int {
	c := classOf(L)
	a, b := L.Get(1), L.Get(2)
	x, okx := c.tobint(a)
	y, oky := c.tobint(b)
	if okx && oky {
		return c.push(onInt(c, x, y))
	}
	return pushNum(L, onFloat(c.arithNumbers(a, b, line, false)))
}

func bAdd(L *lua.LState) int {
	return arith(L, 1046, func(c *bclass, x, y *big.Int) *big.Int { return new(big.Int).Add(x, y) },
		func(x, y float64) float64 { return x + y })
}

func bSub(L *lua.LState) int {
	return arith(L, 1080, func(c *bclass, x, y *big.Int) *big.Int { return new(big.Int).Sub(x, y) },
		func(x, y float64) float64 { return x - y })
}

func bMul(L *lua.LState) int {
	return arith(L, 1115, func(c *bclass, x, y *big.Int) *big.Int { return new(big.Int).Mul(x, y) },
		func(x, y float64) float64 { return x * y })
}

func bDiv(L *lua.LState) int {
	x, y := classOf(L).arithNumbers(L.Get(1), L.Get(2), 1415, false)
	return pushNum(L, x/y)
}

func bPow(L *lua.LState) int {
	x, y := classOf(L).arithNumbers(L.Get(1), L.Get(2), 1494, false)
	return pushNum(L, lua53.Pow(x, y))
}

// floatFloorDivMod is Lua 5.3's // and % on floats.
func floatFloorDivMod(x, y float64) (float64, float64) {
	q := math.Floor(x / y)
	r := math.Mod(x, y)
	if r != 0 && (r < 0) != (y < 0) {
		r += y
	}
	return q, r
}

func (c *bclass) nonZero(y *big.Int) {
	if y.Sign() == 0 {
		bintFail(c.L, "attempt to divide by zero")
	}
}

func (c *bclass) udivmod() (*big.Int, *big.Int) {
	x := c.mustNew(c.L.Get(1))
	y := c.must(c.L.Get(2))
	c.nonZero(y)
	return new(big.Int).QuoRem(x, y, new(big.Int))
}

func bUDivMod(L *lua.LState) int {
	c := classOf(L)
	q, r := c.udivmod()
	c.push(q)
	return 1 + c.push(r)
}

func bUDiv(L *lua.LState) int {
	c := classOf(L)
	q, _ := c.udivmod()
	return c.push(q)
}

func bUMod(L *lua.LState) int {
	c := classOf(L)
	_, r := c.udivmod()
	return c.push(r)
}

// floorDivMod: both integers → floor quotient and remainder (the remainder has the divisor's sign).
// Numbers otherwise, whose conversion fails as __idiv does (line 1406) or as idivmod does (1374, locals).
func (c *bclass) floorDivMod(a, b lua.LValue, line int, locals bool) (q, r lua.LValue) {
	x, okx := c.tobint(a)
	y, oky := c.tobint(b)
	if okx && oky {
		c.nonZero(y)
		sx, sy := c.signed(x), c.signed(y)
		qq, rr := new(big.Int).QuoRem(sx, sy, new(big.Int))
		if rr.Sign() != 0 && rr.Sign() != sy.Sign() {
			qq.Sub(qq, big.NewInt(1))
			rr.Add(rr, sy)
		}
		return c.make(qq), c.make(rr)
	}
	fq, fr := floatFloorDivMod(c.arithNumbers(a, b, line, locals))
	return lua.LNumber(fq), lua.LNumber(fr)
}

func bIDivMod(L *lua.LState) int {
	q, r := classOf(L).floorDivMod(L.Get(1), L.Get(2), 1374, true)
	L.Push(q)
	L.Push(r)
	return 2
}

func bIDiv(L *lua.LState) int {
	q, _ := classOf(L).floorDivMod(L.Get(1), L.Get(2), 1406, false)
	L.Push(q)
	return 1
}

func bMod(L *lua.LState) int {
	_, r := classOf(L).floorDivMod(L.Get(1), L.Get(2), 1374, true)
	L.Push(r)
	return 1
}

// truncDivMod: the quotient rounds toward zero, the remainder has the dividend's sign.
func (c *bclass) truncDivMod(a, b lua.LValue) (q, r lua.LValue) {
	x, okx := c.tobint(a)
	y, oky := c.tobint(b)
	if okx && oky {
		c.nonZero(y)
		if x.Cmp(c.half) == 0 && y.Cmp(c.max) == 0 {
			bintFail(c.L, "division overflow")
		}
		qq, rr := new(big.Int).QuoRem(c.signed(x), c.signed(y), new(big.Int))
		return c.make(qq), c.make(rr)
	}
	// bint.lua takes bint.abs of both first: a value neither a bint nor a number fails there
	fx, fy := c.absNumber(a), c.absNumber(b)
	ax, ay := math.Abs(fx), math.Abs(fy)
	fq, fr := floatFloorDivMod(ax, ay)
	if (fx < 0) != (fy < 0) {
		fq = -fq
	}
	if fx < 0 {
		fr = -fr
	}
	return lua.LNumber(fq), lua.LNumber(fr)
}

func bTDivMod(L *lua.LState) int {
	q, r := classOf(L).truncDivMod(L.Get(1), L.Get(2))
	L.Push(q)
	L.Push(r)
	return 2
}

func bTDiv(L *lua.LState) int {
	q, _ := classOf(L).truncDivMod(L.Get(1), L.Get(2))
	L.Push(q)
	return 1
}

func bTMod(L *lua.LState) int {
	_, r := classOf(L).truncDivMod(L.Get(1), L.Get(2))
	L.Push(r)
	return 1
}

// bIPow is x^y for integers, wrapping; a negative y is read as unsigned (as the reference does).
func bIPow(L *lua.LState) int {
	c := classOf(L)
	y := c.must(L.Get(2))
	x := c.mustNew(L.Get(1))
	return c.push(new(big.Int).Exp(x, y, c.mod))
}

// bUPowMod is x^y mod m on unsigned integers, with the reference's steps: each product wraps at bits
// before it is reduced mod m.
func bUPowMod(L *lua.LState) int {
	c := classOf(L)
	m := c.must(L.Get(3))
	if m.Cmp(big.NewInt(1)) == 0 {
		return c.push(new(big.Int))
	}
	x, y := c.mustNew(L.Get(1)), c.mustNew(L.Get(2))
	c.nonZero(m)
	z := big.NewInt(1)
	x = new(big.Int).Mod(x, m)
	for i := 0; i < y.BitLen(); i++ {
		if y.Bit(i) == 1 {
			z = new(big.Int).Mod(c.wrap(new(big.Int).Mul(z, x)), m)
		}
		x = new(big.Int).Mod(c.wrap(new(big.Int).Mul(x, x)), m)
	}
	return c.push(z)
}

func (c *bclass) shift(x *big.Int, n int64, left bool) *big.Int {
	if n < 0 {
		n, left = -n, !left
	}
	if n >= int64(c.bits) || n < 0 {
		return new(big.Int)
	}
	if left {
		return new(big.Int).Lsh(x, uint(n))
	}
	return new(big.Int).Rsh(x, uint(n))
}

func bShl(L *lua.LState) int {
	c := classOf(L)
	x := c.mustNew(L.Get(1))
	return c.push(c.shift(x, c.mustInt(L.Get(2)), true))
}

func bShr(L *lua.LState) int {
	c := classOf(L)
	x := c.mustNew(L.Get(1))
	return c.push(c.shift(x, c.mustInt(L.Get(2)), false))
}

func bitwise(L *lua.LState, op func(z, x, y *big.Int) *big.Int) int {
	c := classOf(L)
	x := c.mustNew(L.Get(1))
	y := c.must(L.Get(2))
	return c.push(op(new(big.Int), x, y))
}

func bBand(L *lua.LState) int { return bitwise(L, (*big.Int).And) }
func bBor(L *lua.LState) int  { return bitwise(L, (*big.Int).Or) }
func bBxor(L *lua.LState) int { return bitwise(L, (*big.Int).Xor) }

func bBnot(L *lua.LState) int {
	c := classOf(L)
	return c.push(new(big.Int).Sub(c.max, c.must(L.Get(1))))
}

func bUnm(L *lua.LState) int {
	c := classOf(L)
	return c.push(new(big.Int).Neg(c.must(L.Get(1))))
}

func bAbs(L *lua.LState) int {
	c := classOf(L)
	if u, ok := c.tobint(L.Get(1)); ok {
		if c.neg(u) {
			u = new(big.Int).Neg(u)
		}
		return c.push(u)
	}
	return pushNum(L, math.Abs(c.absNumber(L.Get(1))))
}

// incdec is inc and dec: a value that is not a bint has d added with + (bint.lua's `x + 1` at line 850,
// `x - 1` at 873).
func incdec(L *lua.LState, d int64, line int) int {
	c := classOf(L)
	v := L.Get(1)
	if u, ok := c.tobint(v); ok {
		return c.push(new(big.Int).Add(u, big.NewInt(d)))
	}
	f, ok := luaNumber(v)
	if !ok {
		bintFailAt(L, line, "attempt to perform arithmetic on a "+typeName(L, v)+" value (local 'x')")
	}
	return pushNum(L, f+float64(d))
}

func bInc(L *lua.LState) int { return incdec(L, 1, 850) }
func bDec(L *lua.LState) int { return incdec(L, -1, 873) }

// rounded is floor and ceil: a bint is already integral; a number is rounded, then must fit. Another
// value is nil to bint.lua's tonumber, which math.floor (line 912) or math.ceil (921) refuses.
func rounded(L *lua.LState, round func(float64) float64, name string, line int) int {
	c := classOf(L)
	v := L.Get(1)
	if t, ok := c.isBint(v); ok {
		return c.push(c.words(t))
	}
	f, ok := luaNumber(v)
	if !ok {
		bintFailAt(L, line, "bad argument #1 to '"+name+"' (number expected, got nil)")
	}
	return c.newFrom(lua.LNumber(round(f)))
}

func bFloor(L *lua.LState) int { return rounded(L, math.Floor, "math_floor", 912) }
func bCeil(L *lua.LState) int  { return rounded(L, math.Ceil, "math_ceil", 921) }

func bBwrap(L *lua.LState) int {
	c := classOf(L)
	x := c.must(L.Get(1))
	y := float64(L.CheckNumber(2))
	switch {
	case y <= 0:
		return c.push(new(big.Int))
	case y < float64(c.bits):
		mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(y)), big.NewInt(1))
		return c.push(new(big.Int).And(x, mask))
	}
	return c.push(x)
}

func (c *bclass) rotate(left bool) int {
	v := c.L.Get(1)
	x := c.must(v)
	y := c.mustInt(c.L.Get(2))
	if y == 0 {
		if _, ok := c.isBint(v); ok {
			c.L.Push(v)
			return 1
		}
		return c.push(x)
	}
	if y < 0 {
		y, left = -y, !left
	}
	a := c.shift(x, y, left)
	b := c.shift(x, int64(c.bits)-y, !left)
	return c.push(new(big.Int).Or(c.wrap(a), c.wrap(b)))
}

func bBrol(L *lua.LState) int { return classOf(L).rotate(true) }
func bBror(L *lua.LState) int { return classOf(L).rotate(false) }

func minmax(L *lua.LState, wantMax bool) int {
	c := classOf(L)
	a, b := L.Get(1), L.Get(2)
	x, okx := c.tobint(a)
	y, oky := c.tobint(b)
	if okx && oky {
		cmp := c.signed(x).Cmp(c.signed(y))
		if (wantMax && cmp > 0) || (!wantMax && cmp < 0) {
			return c.push(x)
		}
		return c.push(y)
	}
	// bint.lua: bint_parse(math_max(x, y)), math.max keeping x unless x < y (math.min: unless y < x)
	pick := a
	if (wantMax && c.lessThan(a, b)) || (!wantMax && c.lessThan(b, a)) {
		pick = b
	}
	if u, ok := c.tobint(pick); ok {
		return c.push(u)
	}
	if f, ok := luaNumber(pick); ok {
		return pushNum(L, f)
	}
	L.Push(lua.LNil)
	return 1
}

// lessThan is p < q as math.max and math.min compare values: numbers and strings by value, a bint by
// bint.__lt (line 1692 of bint.lua), other values not at all (raised inside math.max, so no position).
func (c *bclass) lessThan(p, q lua.LValue) bool {
	if np, ok := p.(lua.LNumber); ok {
		if nq, ok := q.(lua.LNumber); ok {
			return np < nq
		}
	}
	if sp, ok := p.(lua.LString); ok {
		if sq, ok := q.(lua.LString); ok {
			return sp < sq
		}
	}
	_, pb := c.isBint(p)
	_, qb := c.isBint(q)
	if pb || qb {
		x, okx := c.tobint(p)
		y, oky := c.tobint(q)
		if okx && oky {
			return c.signed(x).Cmp(c.signed(y)) < 0
		}
		fp, fq := c.compareNumbers(p, q, 1692)
		return fp < fq
	}
	c.L.Error(lua.LString(orderError(typeName(c.L, p), typeName(c.L, q))), 0)
	return false
}

func bMax(L *lua.LState) int { return minmax(L, true) }
func bMin(L *lua.LState) int { return minmax(L, false) }

/* ---- comparisons ---- */

func bRawEq(L *lua.LState) int {
	c := classOf(L)
	x, okx := c.tobint(L.Get(1))
	y, oky := c.tobint(L.Get(2))
	return pushBool(L, okx && oky && x.Cmp(y) == 0)
}

func bEq(L *lua.LState) int {
	c := classOf(L)
	a, b := L.Get(1), L.Get(2)
	x, okx := c.tobint(a)
	y, oky := c.tobint(b)
	if okx && oky {
		return pushBool(L, x.Cmp(y) == 0)
	}
	return pushBool(L, a == b)
}

func compare(L *lua.LState, orEqual bool) int {
	c := classOf(L)
	a, b := L.Get(1), L.Get(2)
	x, okx := c.tobint(a)
	y, oky := c.tobint(b)
	if okx && oky {
		cmp := c.signed(x).Cmp(c.signed(y))
		return pushBool(L, cmp < 0 || (orEqual && cmp == 0))
	}
	line := 1692 // __lt
	if orEqual {
		line = 1715 // __le
	}
	fa, fb := c.compareNumbers(a, b, line)
	return pushBool(L, fa < fb || (orEqual && fa == fb))
}

func bLt(L *lua.LState) int { return compare(L, false) }
func bLe(L *lua.LState) int { return compare(L, true) }

func ucompare(L *lua.LState, orEqual bool) int {
	c := classOf(L)
	cmp := c.must(L.Get(1)).Cmp(c.must(L.Get(2)))
	return pushBool(L, cmp < 0 || (orEqual && cmp == 0))
}

func bULt(L *lua.LState) int { return ucompare(L, false) }
func bULe(L *lua.LState) int { return ucompare(L, true) }

/* ---- in place ---- */

// inplace applies op to self (argument 1, a bint) and returns self.
func inplace(L *lua.LState, op func(c *bclass, x *big.Int) *big.Int) int {
	c := classOf(L)
	t, ok := c.isBint(L.Get(1))
	if !ok {
		L.ArgError(1, "bint expected")
	}
	c.store(t, c.wrap(op(c, c.words(t))))
	L.Push(t)
	return 1
}

func bInplaceInc(L *lua.LState) int {
	return inplace(L, func(c *bclass, x *big.Int) *big.Int { return x.Add(x, big.NewInt(1)) })
}

func bInplaceDec(L *lua.LState) int {
	return inplace(L, func(c *bclass, x *big.Int) *big.Int { return x.Sub(x, big.NewInt(1)) })
}

func bInplaceAbs(L *lua.LState) int {
	return inplace(L, func(c *bclass, x *big.Int) *big.Int {
		if c.neg(x) {
			return x.Neg(x)
		}
		return x
	})
}

func bInplaceUnm(L *lua.LState) int {
	return inplace(L, func(c *bclass, x *big.Int) *big.Int { return x.Neg(x) })
}

func bInplaceBnot(L *lua.LState) int {
	return inplace(L, func(c *bclass, x *big.Int) *big.Int { return x.Sub(c.max, x) })
}

func bInplaceShlOne(L *lua.LState) int {
	return inplace(L, func(c *bclass, x *big.Int) *big.Int { return x.Lsh(x, 1) })
}

func bInplaceShrOne(L *lua.LState) int {
	return inplace(L, func(c *bclass, x *big.Int) *big.Int { return x.Rsh(x, 1) })
}

func inplace2(L *lua.LState, op func(z, x, y *big.Int) *big.Int) int {
	return inplace(L, func(c *bclass, x *big.Int) *big.Int { return op(x, x, c.must(L.Get(2))) })
}

func bInplaceAdd(L *lua.LState) int  { return inplace2(L, (*big.Int).Add) }
func bInplaceSub(L *lua.LState) int  { return inplace2(L, (*big.Int).Sub) }
func bInplaceBand(L *lua.LState) int { return inplace2(L, (*big.Int).And) }
func bInplaceBor(L *lua.LState) int  { return inplace2(L, (*big.Int).Or) }
func bInplaceBxor(L *lua.LState) int { return inplace2(L, (*big.Int).Xor) }

// bShlWords is bint:_shlwords(n), an in-place shift left by n words that bint.lua keeps for its own use,
// done as its loops do it on any table (so an n out of range leaves what they leave: words past the
// size for a large n, nils for a negative one).
func bShlWords(L *lua.LState) int {
	c := classOf(L)
	t := L.CheckTable(1)
	n := L.CheckInt(2)
	size := c.n
	charge(L, int64(max(0, size-n)+max(0, n)))
	if n > size {
		chargeAlloc(L, int64(n-size)*sizeEntry)
	}
	for i := size; i >= n+1; i-- {
		t.RawSetInt(i, t.RawGetInt(i-n))
	}
	for i := 1; i <= n; i++ {
		t.RawSetInt(i, lua.LNumber(0))
	}
	L.Push(t)
	return 1
}

// bShrWords is bint:_shrwords(n), the in-place shift right by n words, as bint.lua's loops do it.
func bShrWords(L *lua.LState) int {
	c := classOf(L)
	t := L.CheckTable(1)
	n := L.CheckInt(2)
	size := c.n
	if n < size {
		charge(L, int64(size+max(0, -n)))
		for i := 1; i <= size-n; i++ {
			t.RawSetInt(i, t.RawGetInt(i+n))
		}
		for i := size - n + 1; i <= size; i++ {
			t.RawSetInt(i, lua.LNumber(0))
		}
	} else {
		charge(L, int64(size))
		for i := 1; i <= size; i++ {
			t.RawSetInt(i, lua.LNumber(0))
		}
	}
	L.Push(t)
	return 1
}

func bInplaceAssign(L *lua.LState) int {
	return inplace(L, func(c *bclass, x *big.Int) *big.Int { return c.must(L.Get(2)) })
}
