package aos

import (
	"encoding/binary"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// crypto.cipher.issac (AOS's spelling) and crypto.random: Bob Jenkins' ISAAC generator as AOS's module
// runs it, with one generator per process: seedIsaac(seed [, flag]) (the seed's first 256 bytes, used
// only when flag is true), getRandom() (the next 32-bit result, in the order they are generated; nil
// before any seeding), getRandomChar() (32..126), random([min [, max [, seed]]]) (seeded with seed, or
// reseeded with nothing but a draw of math.random, then getRandom() % (max - min + 1) + min), and
// encrypt/decrypt(msg, key), a Vigenère over the printable bytes with the generator seeded by the key.
// The state lives in the registry.

const regIsaac = "__aonode_isaac" // a table: mm and rsl (256 words each, as strings), cnt, a, b, c

const isaacGolden = 0x9e3779b9

type isaacState struct {
	mm, rsl  [256]uint32
	cnt      int
	a, b, c  uint32
	unseeded bool
	dirty    bool // mm, rsl or a, b, c changed: store writes them
}

func loadIsaac(L *lua.LState) (*isaacState, *lua.LTable) {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	t, ok := reg.RawGetString(regIsaac).(*lua.LTable)
	st := &isaacState{unseeded: true}
	if !ok {
		t = L.CreateTable(0, 6)
		reg.RawSetString(regIsaac, t)
		return st, t
	}
	mm, ok1 := t.RawGetString("mm").(lua.LString)
	rsl, ok2 := t.RawGetString("rsl").(lua.LString)
	if !ok1 || !ok2 || len(mm) != 1024 || len(rsl) != 1024 {
		return st, t
	}
	st.unseeded = false
	for i := 0; i < 256; i++ {
		st.mm[i] = binary.LittleEndian.Uint32([]byte(mm[4*i:]))
		st.rsl[i] = binary.LittleEndian.Uint32([]byte(rsl[4*i:]))
	}
	st.cnt = int(lua.LVAsNumber(t.RawGetString("cnt")))
	st.a = uint32(lua.LVAsNumber(t.RawGetString("a")))
	st.b = uint32(lua.LVAsNumber(t.RawGetString("b")))
	st.c = uint32(lua.LVAsNumber(t.RawGetString("c")))
	return st, t
}

func (st *isaacState) store(L *lua.LState, t *lua.LTable) {
	t.RawSetString("cnt", lua.LNumber(st.cnt))
	if !st.dirty {
		return
	}
	chargeAlloc(L, 2*(sizeString+1024))
	mm, rsl := make([]byte, 1024), make([]byte, 1024)
	for i := 0; i < 256; i++ {
		binary.LittleEndian.PutUint32(mm[4*i:], st.mm[i])
		binary.LittleEndian.PutUint32(rsl[4*i:], st.rsl[i])
	}
	t.RawSetString("mm", lua.LString(mm))
	t.RawSetString("rsl", lua.LString(rsl))
	t.RawSetString("a", lua.LNumber(st.a))
	t.RawSetString("b", lua.LNumber(st.b))
	t.RawSetString("c", lua.LNumber(st.c))
}

// generate makes the next 256 results.
func (st *isaacState) generate() {
	st.c++
	st.b += st.c
	for i := 0; i < 256; i++ {
		x := st.mm[i]
		switch i % 4 {
		case 0:
			st.a ^= st.a << 13
		case 1:
			st.a ^= st.a >> 6
		case 2:
			st.a ^= st.a << 2
		case 3:
			st.a ^= st.a >> 16
		}
		st.a += st.mm[(i+128)%256]
		y := st.mm[(x>>2)%256] + st.a + st.b
		st.mm[i] = y
		st.b = st.mm[(y>>10)%256] + x
		st.rsl[i] = st.b
	}
	st.cnt = 0
	st.dirty = true
}

func isaacMix(a *[8]uint32) {
	a[0] ^= a[1] << 11
	a[3] += a[0]
	a[1] += a[2]
	a[1] ^= a[2] >> 2
	a[4] += a[1]
	a[2] += a[3]
	a[2] ^= a[3] << 8
	a[5] += a[2]
	a[3] += a[4]
	a[3] ^= a[4] >> 16
	a[6] += a[3]
	a[4] += a[5]
	a[4] ^= a[5] << 10
	a[7] += a[4]
	a[5] += a[6]
	a[5] ^= a[6] >> 4
	a[0] += a[5]
	a[6] += a[7]
	a[6] ^= a[7] << 8
	a[1] += a[6]
	a[7] += a[0]
	a[7] ^= a[0] >> 9
	a[2] += a[7]
	a[0] += a[1]
}

// seed is seedIsaac: the results hold the seed's bytes, then the state is initialised from them (when
// useSeed) and the first results generated.
func (st *isaacState) seed(s string, useSeed bool) {
	*st = isaacState{}
	for i := 0; i < 256; i++ {
		if i < len(s) {
			st.rsl[i] = uint32(s[i])
		}
	}
	var a [8]uint32
	for i := range a {
		a[i] = isaacGolden
	}
	for i := 0; i < 4; i++ {
		isaacMix(&a)
	}
	for i := 0; i < 256; i += 8 {
		if useSeed {
			for j := 0; j < 8; j++ {
				a[j] += st.rsl[i+j]
			}
		}
		isaacMix(&a)
		copy(st.mm[i:i+8], a[:])
	}
	if useSeed {
		for i := 0; i < 256; i += 8 {
			for j := 0; j < 8; j++ {
				a[j] += st.mm[i+j]
			}
			isaacMix(&a)
			copy(st.mm[i:i+8], a[:])
		}
	}
	st.generate()
}

// next is getRandom: ok is false before any seeding (AOS's gives nil).
func (st *isaacState) next() (uint32, bool) {
	if st.unseeded {
		return 0, false
	}
	r := st.rsl[st.cnt]
	st.cnt++
	if st.cnt > 255 {
		st.generate()
	}
	return r, true
}

func isaacSeed(L *lua.LState) int {
	st, t := loadIsaac(L)
	st.seed(luaStringArg(L, 1), lua.LVAsBool(L.Get(2)))
	charge(L, 64)
	st.store(L, t)
	return 0
}

func isaacGetRandom(L *lua.LState) int {
	st, t := loadIsaac(L)
	r, ok := st.next()
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	st.store(L, t)
	L.Push(lua.LNumber(r))
	return 1
}

// randomChar is getRandomChar's value.
func randomChar(L *lua.LState, st *isaacState) uint32 {
	r, ok := st.next()
	if !ok {
		cryptoFail(L, `[string ".crypto.cipher.issac"]`, 183, "attempt to perform arithmetic on a nil value")
	}
	return r%95 + 32
}

func isaacGetRandomChar(L *lua.LState) int {
	st, t := loadIsaac(L)
	c := randomChar(L, st)
	st.store(L, t)
	L.Push(lua.LNumber(c))
	return 1
}

// isaacRandom is random([min [, max [, seed]]]).
func isaacRandom(L *lua.LState) int {
	lo, hi := 0.0, math.Pow(2, 31)-1
	if v := L.Get(1); lua.LVAsBool(v) {
		lo = float64(L.CheckNumber(1))
	}
	if v := L.Get(2); lua.LVAsBool(v) {
		hi = float64(L.CheckNumber(2))
	}
	st, t := loadIsaac(L)
	if s := L.Get(3); lua.LVAsBool(s) {
		st.seed(luaStringArg(L, 3), true)
	} else {
		// AOS reseeds with a draw of math.random that the seed's flag then leaves unused.
		L.Push(L.GetField(L.GetGlobal("math"), "random"))
		L.Push(lua.LNumber(math.Pow(2, 31) - 1))
		L.Call(1, 1)
		text := L.ToStringMeta(L.Get(-1)).String()
		L.Pop(1)
		st.seed(text, false)
	}
	charge(L, 64)
	r, _ := st.next()
	st.store(L, t)
	span := hi - lo + 1
	L.Push(lua.LNumber(float64(r) - math.Floor(float64(r)/span)*span + lo))
	return 1
}

// caesar shifts ch by shift (back when decrypting) within [start, start+modulo), as AOS's does.
func caesar(decrypt bool, ch, shift, modulo, start int) int {
	if decrypt {
		shift = -shift
	}
	n := ch - start + shift
	si := 1
	if n < 0 {
		si, n = -1, -n
	}
	n = (n % modulo) * si
	if n < 0 {
		n += modulo
	}
	return start + n
}

func isaacCipher(L *lua.LState, decrypt bool) (string, []lua.LValue) {
	msg := luaStringArg(L, 1)
	st, t := loadIsaac(L)
	st.seed(luaStringArg(L, 2), true)
	charge(L, 64+int64(len(msg))/8)
	var b strings.Builder
	chars := make([]lua.LValue, len(msg))
	for i := 0; i < len(msg); i++ {
		c := byte(caesar(decrypt, int(msg[i]), int(randomChar(L, st)), 95, 32))
		b.WriteByte(c)
		chars[i] = lua.LString(string(c))
	}
	st.store(L, t)
	return b.String(), chars
}

func isaacEncrypt(L *lua.LState) int {
	s, chars := isaacCipher(L, false)
	res := L.CreateTable(0, 3)
	res.RawSetString("asBytes", L.NewClosure(returnUpvalue, valuesTable(L, chars)))
	res.RawSetString("asString", L.NewClosure(digestString, lua.LString(s)))
	res.RawSetString("asHex", L.NewClosure(digestHex, lua.LString(s)))
	L.Push(res)
	return 1
}

func isaacDecrypt(L *lua.LState) int {
	s, _ := isaacCipher(L, true)
	L.Push(lua.LString(s))
	return 1
}
