package aos

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/node/aos/lua53"
)

// The `.chance` module and math.random, as real AOS has them: chance is a Mersenne Twister (MT19937) with
// seed(s), random() (a float in [0, 1) from one 32-bit draw) and integer(min, max) (both included). On a
// process's first message the runtime seeds it with the number made of the message's Block-Height followed
// by the sum of the bytes of its Owner, Module and Id, and replaces math.random with a function of it
// (process.lua), so the same process draws the same numbers as on AOS. math.randomseed has no effect on
// math.random then, as in AOS (it seeds the C library's generator, which nothing uses).
//
// The generator's state is the process's: a string of its 624 words and the index of the next one, in the
// registry, so forks and snapshots carry it. Errors carry the positions of the AOS module's lines.

const (
	regChanceMT  = "__aonode_chance_mt"  // the 624 words, little-endian
	regChanceIdx = "__aonode_chance_idx" // the index of the next word; mtN+1: never seeded

	mtN, mtM            = 624, 397
	mtMatrixA           = 0x9908b0df
	mtUpper, mtLower    = 0x80000000, 0x7fffffff
	chanceChunk         = `[string ".chance"]`
	chanceLineSeed      = 17  // seed's s & 0xffffffff
	chanceLineInteger   = 163 // integer's assert
	chanceLineArith     = 165 // integer's arithmetic
	mtDefaultSeed       = 5489
	chanceMemoryPerWord = 4
)

func openChance(L *lua.LState) int {
	t := L.CreateTable(0, 3)
	t.RawSetString("seed", L.NewFunction(chanceSeed))
	t.RawSetString("random", L.NewFunction(chanceRandom))
	t.RawSetString("integer", L.NewFunction(chanceInteger))
	L.Push(t)
	return 1
}

func chanceFail(L *lua.LState, line int, msg string) {
	L.Error(lua.LString(chanceChunk+":"+itoa(line)+": "+msg), 0)
}

func itoa(n int) string { return lua.LNumber(n).String() }

// seedArg is `s & 0xffffffff` of AOS's seed, with its errors.
func seedArg(L *lua.LState) uint32 {
	v := L.Get(1)
	var f float64
	switch x := v.(type) {
	case lua.LNumber:
		f = float64(x)
	case lua.LString:
		n, ok := lua53.StringToNumber(string(x))
		if !ok {
			chanceFail(L, chanceLineSeed, "attempt to perform bitwise operation on a string value (local 's')")
		}
		f = n
	default:
		chanceFail(L, chanceLineSeed, "attempt to perform bitwise operation on a "+v.Type().String()+" value (local 's')")
	}
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		chanceFail(L, chanceLineSeed, "number (local 's') has no integer representation")
	}
	return uint32(int64(f))
}

func chanceSeed(L *lua.LState) int {
	seedMT(L, seedArg(L))
	return 0
}

// seedMT is init_genrand.
func seedMT(L *lua.LState, s uint32) {
	var mt [mtN]uint32
	mt[0] = s
	for i := 1; i < mtN; i++ {
		mt[i] = 1812433253*(mt[i-1]^(mt[i-1]>>30)) + uint32(i)
	}
	storeMT(L, &mt, mtN)
}

func storeMT(L *lua.LState, mt *[mtN]uint32, idx int) {
	chargeAlloc(L, sizeString+mtN*chanceMemoryPerWord)
	b := make([]byte, mtN*4)
	for i, w := range mt {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	reg.RawSetString(regChanceMT, lua.LString(b))
	reg.RawSetString(regChanceIdx, lua.LNumber(idx))
}

// draw is genrand_int32: the next tempered word, after generating the next 624 when they are used up.
func draw(L *lua.LState) uint32 {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	idx := mtN + 1
	if n, ok := reg.RawGetString(regChanceIdx).(lua.LNumber); ok {
		idx = int(n)
	}
	state, _ := reg.RawGetString(regChanceMT).(lua.LString)
	if idx >= mtN || len(state) != mtN*4 {
		if idx > mtN || len(state) != mtN*4 {
			seedMT(L, mtDefaultSeed)
			state = reg.RawGetString(regChanceMT).(lua.LString)
		}
		var mt [mtN]uint32
		for i := range mt {
			mt[i] = binary.LittleEndian.Uint32([]byte(state[4*i : 4*i+4]))
		}
		twist(&mt)
		storeMT(L, &mt, 0)
		state, idx = reg.RawGetString(regChanceMT).(lua.LString), 0
		charge(L, mtN/8)
	}
	y := binary.LittleEndian.Uint32([]byte(state[4*idx : 4*idx+4]))
	reg.RawSetString(regChanceIdx, lua.LNumber(idx+1))
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// twist generates the next 624 words.
func twist(mt *[mtN]uint32) {
	mag := func(y uint32) uint32 { return (y & 1) * mtMatrixA }
	for k := 0; k < mtN; k++ {
		y := mt[k]&mtUpper | mt[(k+1)%mtN]&mtLower
		mt[k] = mt[(k+mtM)%mtN] ^ y>>1 ^ mag(y)
	}
}

func randomFloat(L *lua.LState) float64 { return float64(draw(L)) * (1.0 / 4294967296.0) }

func chanceRandom(L *lua.LState) int {
	L.Push(lua.LNumber(randomFloat(L)))
	return 1
}

func chanceInteger(L *lua.LState) int {
	return chanceIntegerOf(L, L.Get(1), L.Get(2))
}

// chanceIntegerOf is integer(min, max): assert(max >= min), then floor(random() * (max - min + 1) + min),
// with Lua's comparison and arithmetic on the arguments (numeric strings count as numbers in arithmetic;
// two strings compare as strings).
func chanceIntegerOf(L *lua.LState, lo, hi lua.LValue) int {
	ls, lok := lo.(lua.LString)
	hs, hok := hi.(lua.LString)
	ln, lnum := lo.(lua.LNumber)
	hn, hnum := hi.(lua.LNumber)
	switch {
	case lnum && hnum:
		if !(hn >= ln) {
			chanceFail(L, chanceLineInteger, "max must bigger than min")
		}
	case lok && hok:
		if !(hs >= ls) {
			chanceFail(L, chanceLineInteger, "max must bigger than min")
		}
	default:
		chanceFail(L, chanceLineInteger, orderError(lo.Type().String(), hi.Type().String()))
	}
	r := randomFloat(L)
	num := func(v lua.LValue, name string) float64 {
		switch x := v.(type) {
		case lua.LNumber:
			return float64(x)
		case lua.LString:
			if f, ok := lua53.StringToNumber(string(x)); ok {
				return f
			}
		}
		chanceFail(L, chanceLineArith, "attempt to perform arithmetic on a "+v.Type().String()+" value (local '"+name+"')")
		return 0
	}
	hf, lf := num(hi, "max"), num(lo, "min")
	L.Push(lua.LNumber(math.Floor(r*(hf-lf+1) + lf)))
	return 1
}

// chanceMathRandom is the math.random AOS installs once the process is seeded: no argument (or more than
// two) a float, one an integer in [1, m], two an integer in [m, n]. The arguments are counted as # counts
// the table {...}.
func chanceMathRandom(L *lua.LState) int {
	switch argBorder(L) {
	case 0:
		return chanceRandom(L)
	case 1:
		return chanceIntegerOf(L, lua.LNumber(1), L.Get(1))
	case 2:
		return chanceIntegerOf(L, L.Get(1), L.Get(2))
	}
	return chanceRandom(L)
}

// argBorder is #{...} for this call's arguments: Lua's border of a table whose array part holds them.
func argBorder(L *lua.LState) int {
	j := L.GetTop()
	if j == 0 || L.Get(j) != lua.LNil {
		return j
	}
	i := 0 // a binary search for a border in [0, j), as luaH_getn does in the array part
	for j-i > 1 {
		m := (i + j) / 2
		if L.Get(m) == lua.LNil {
			j = m
		} else {
			i = m
		}
	}
	return i
}

// unseededRandom is math.random before the process's first message seeds it: AOS's start-up script
// makes it answer 0.5.
func unseededRandom(L *lua.LState) int {
	L.Push(lua.LNumber(0.5))
	return 1
}

// mathRandomSeed checks its argument and does nothing else: math.random does not use its generator.
func mathRandomSeed(L *lua.LState) int {
	L.CheckNumber(1)
	return 0
}
