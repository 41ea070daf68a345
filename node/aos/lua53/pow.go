package lua53

import (
	"math"
	"math/big"

	lua "github.com/yuin/gopher-lua"
)

// Pow is x^y as the wasm's C library (musl) computes it: correctly rounded (a fractional exponent as
// e^(y ln x) in crmath.go). Go's math.Pow is up to a few units in the last place off for integral
// exponents (10^33 is 1.0000000000000001e+33 there, so 10^33 ~= 1e33), which a process sees in
// comparisons, %.17g and json.encode. An integral exponent is computed by
// squaring in 128-bit floats and rounded once, which gives the correctly rounded result except when it
// lies within about 2^-95 of a rounding boundary (errors grow as the squarings go); another exponent, and
// the special values (zeros, infinities, NaN, results far out of range), are math.Pow's, which follows
// C99 as musl does. Results near the ends of the range (subnormals, the largest floats) are rounded by
// big.Float's conversion, which handles them.
func Pow(x, y float64) float64 {
	if y != math.Trunc(y) {
		return powFrac(x, y)
	}
	if math.Abs(y) > 1<<31 || x == 0 || math.IsInf(x, 0) || math.IsNaN(x) || y == 0 {
		return math.Pow(x, y)
	}
	if math.Abs(y*math.Log2(math.Abs(x))) > 1100 {
		return math.Pow(x, y) // far out of range (Inf or 0): no rounding to get right
	}
	const prec = 128
	n := int64(math.Abs(y))
	r := new(big.Float).SetPrec(prec).SetInt64(1)
	b := new(big.Float).SetPrec(prec).SetFloat64(x)
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			r.Mul(r, b)
		}
		if n > 1 {
			b.Mul(b, b)
		}
	}
	if y < 0 {
		r.Quo(new(big.Float).SetPrec(prec).SetInt64(1), r)
	}
	f, _ := r.Float64()
	return f
}

// costPowInteger is what a power with an integral exponent costs (a few big.Float products, about 1 µs).
const costPowInteger = 50

// opPow is ^: numbers and numeric strings (5.3 converts them to floats) raised with Pow; otherwise the
// operands' __pow.
func opPow(L *lua.LState) int {
	a, b := L.Get(1), L.Get(2)
	x, okx := toNumber(a)
	y, oky := toNumber(b)
	if okx && oky {
		if y != math.Trunc(y) {
			Charge(L, costTranscendental)
		} else {
			Charge(L, costPowInteger)
		}
		L.Push(lua.LNumber(Pow(x, y)))
		return 1
	}
	return arithMeta(L, "__pow", a, b)
}
