package aos

import (
	lua "github.com/yuin/gopher-lua"
)

// bit32 is Lua 5.3's compatibility bit library (real AOS is built with it): operations on 32-bit unsigned
// integers. Arguments must have an exact integer value and are taken modulo 2^32; results are in
// [0, 2^32).

const allOnes = 0xFFFFFFFF

func newBit32(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, 12)
	for _, f := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{"arshift", b32Arshift}, {"band", b32Band}, {"bnot", b32Bnot}, {"bor", b32Bor}, {"btest", b32Btest},
		{"bxor", b32Bxor}, {"extract", b32Extract}, {"lrotate", b32Lrotate}, {"lshift", b32Lshift},
		{"replace", b32Replace}, {"rrotate", b32Rrotate}, {"rshift", b32Rshift},
	} {
		t.RawSetString(f.name, L.NewFunction(f.fn))
	}
	return t
}

// unsignedArg is the argument as Lua 5.3's lbitlib reads it: an integer, as unsigned 64 bits.
func unsignedArg(L *lua.LState, n int) uint64 { return uint64(checkInt(L, n)) }

func pushUnsigned(L *lua.LState, r uint64) int {
	L.Push(lua.LNumber(float64(r & allOnes)))
	return 1
}

// fold combines every argument with op, from init.
func fold(L *lua.LState, init uint64, op func(a, b uint64) uint64) uint64 {
	r := init
	for i := 1; i <= L.GetTop(); i++ {
		r = op(r, unsignedArg(L, i))
	}
	return r & allOnes
}

func b32Band(L *lua.LState) int {
	return pushUnsigned(L, fold(L, ^uint64(0), func(a, b uint64) uint64 { return a & b }))
}
func b32Bor(L *lua.LState) int {
	return pushUnsigned(L, fold(L, 0, func(a, b uint64) uint64 { return a | b }))
}
func b32Bxor(L *lua.LState) int {
	return pushUnsigned(L, fold(L, 0, func(a, b uint64) uint64 { return a ^ b }))
}
func b32Btest(L *lua.LState) int {
	L.Push(lua.LBool(fold(L, ^uint64(0), func(a, b uint64) uint64 { return a & b }) != 0))
	return 1
}
func b32Bnot(L *lua.LState) int { return pushUnsigned(L, ^unsignedArg(L, 1)) }

// shift shifts r left by i bits (right when i is negative), logically, within 32 bits.
func shift(r uint64, i int64) uint64 {
	switch {
	case i <= -32 || i >= 32:
		return 0
	case i < 0:
		return (r & allOnes) >> uint(-i)
	}
	return (r << uint(i)) & allOnes
}

func b32Lshift(L *lua.LState) int { return pushUnsigned(L, shift(unsignedArg(L, 1), checkInt(L, 2))) }
func b32Rshift(L *lua.LState) int {
	r, i := unsignedArg(L, 1), checkInt(L, 2)
	if i == -1<<63 {
		return pushUnsigned(L, 0)
	}
	return pushUnsigned(L, shift(r, -i))
}

func b32Arshift(L *lua.LState) int {
	r, i := unsignedArg(L, 1), checkInt(L, 2)
	if i < 0 || r&(1<<31) == 0 {
		if i == -1<<63 {
			return pushUnsigned(L, 0)
		}
		return pushUnsigned(L, shift(r, -i))
	}
	if i >= 32 {
		return pushUnsigned(L, allOnes)
	}
	return pushUnsigned(L, (r>>uint(i))|^(uint64(allOnes)>>uint(i)))
}

func rotate(L *lua.LState, i int64) int {
	r := unsignedArg(L, 1) & allOnes
	n := uint(i & 31)
	if n != 0 {
		r = (r << n) | (r >> (32 - n))
	}
	return pushUnsigned(L, r)
}

func b32Lrotate(L *lua.LState) int { return rotate(L, checkInt(L, 2)) }
func b32Rrotate(L *lua.LState) int { return rotate(L, -checkInt(L, 2)) }

// fieldArgs are extract's and replace's field and width (from argument n), checked as Lua checks them.
func fieldArgs(L *lua.LState, n int) (uint, uint64) {
	f, w := checkInt(L, n), optIntArg(L, n+1, 1)
	if f < 0 {
		L.ArgError(n, "field cannot be negative")
	}
	if w <= 0 {
		L.ArgError(n+1, "width must be positive")
	}
	if f+w > 32 {
		L.RaiseError("trying to access non-existent bits")
	}
	return uint(f), ^((uint64(allOnes) << 1) << uint(w-1))
}

func b32Extract(L *lua.LState) int {
	r := unsignedArg(L, 1)
	f, m := fieldArgs(L, 2)
	return pushUnsigned(L, (r>>f)&m)
}

func b32Replace(L *lua.LState) int {
	r, v := unsignedArg(L, 1)&allOnes, unsignedArg(L, 2)&allOnes
	f, m := fieldArgs(L, 3)
	return pushUnsigned(L, (r & ^(m<<f))|((v&m)<<f))
}
