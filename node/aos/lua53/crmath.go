package lua53

import (
	"math"
	"math/big"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// The transcendental functions as the wasm's C library (musl) computes them: correctly rounded, which
// musl's exp, log, log2 and pow are but for results within a few thousandths of a unit in the last place
// of a rounding boundary, and its sin, cos and tan nearly so. Go's math package is up to about one unit
// off (math.Exp(1.5) is 4.4816890703380654, musl's 4.4816890703380645), which a process sees in
// comparisons, %.17g and json.encode. Each is computed in big.Float at workPrec bits and rounded once.
// The special values (zeros, infinities, NaN, results out of range) are math's, which follow C99 as musl
// does.

const workPrec = 200

// Charge is told the work of a call that computes in big.Float, in instruction-equivalents (node/aos
// sets it to its meter's charge), so the compute limit bounds a loop of them in time too.
var Charge = func(*lua.LState, int64) {}

// costTranscendental is what one correctly rounded call costs, measured against the instruction rate
// (a call is 20-40 µs, BenchmarkCorrectlyRounded; an instruction about 25 ns).
const costTranscendental = 1500

var constants = sync.OnceValues(func() (ln2, halfPi *big.Float) {
	// ln 2 = 2 atanh(1/3); pi/2 = 8 atan(1/5) - 2 atan(1/239) (Machin), at the reduction precision.
	third := new(big.Float).SetPrec(reducePrec).Quo(big.NewFloat(1).SetPrec(reducePrec), big.NewFloat(3).SetPrec(reducePrec))
	ln2 = atanhSeries(third, reducePrec)
	ln2.Mul(ln2, big.NewFloat(2))
	a := atanSeries(new(big.Float).SetPrec(reducePrec).Quo(big.NewFloat(1).SetPrec(reducePrec), big.NewFloat(5).SetPrec(reducePrec)), reducePrec)
	b := atanSeries(new(big.Float).SetPrec(reducePrec).Quo(big.NewFloat(1).SetPrec(reducePrec), big.NewFloat(239).SetPrec(reducePrec)), reducePrec)
	halfPi = new(big.Float).SetPrec(reducePrec).Mul(a, big.NewFloat(8))
	halfPi.Sub(halfPi, new(big.Float).SetPrec(reducePrec).Mul(b, big.NewFloat(2)))
	return ln2, halfPi
})

// reducePrec holds pi/2 and ln 2 to reduce any float64 argument (up to 2^1024) and keep workPrec bits.
const reducePrec = 1400

// atanhSeries is s + s^3/3 + s^5/5 + ... for |s| < 1/2, at prec bits.
func atanhSeries(s *big.Float, prec uint) *big.Float {
	return oddSeries(s, prec, false)
}

// atanSeries is s - s^3/3 + s^5/5 - ... for |s| < 1/2, at prec bits.
func atanSeries(s *big.Float, prec uint) *big.Float {
	return oddSeries(s, prec, true)
}

func oddSeries(s *big.Float, prec uint, alternate bool) *big.Float {
	sum := new(big.Float).SetPrec(prec).Set(s)
	s2 := new(big.Float).SetPrec(prec).Mul(s, s)
	pow := new(big.Float).SetPrec(prec).Set(s)
	term := new(big.Float).SetPrec(prec)
	for n := int64(3); ; n += 2 {
		pow.Mul(pow, s2)
		term.Quo(pow, new(big.Float).SetInt64(n))
		if term.Sign() == 0 || term.MantExp(nil)-sum.MantExp(nil) < -int(prec)-8 {
			return sum
		}
		if alternate && (n/2)%2 == 1 {
			sum.Sub(sum, term)
		} else {
			sum.Add(sum, term)
		}
	}
}

// bigExp is e^z for |z| below about 1100.
func bigExp(z *big.Float) *big.Float {
	ln2, _ := constants()
	q, _ := new(big.Float).SetPrec(workPrec).Quo(z, ln2).Float64()
	k := math.Round(q)
	r := new(big.Float).SetPrec(workPrec+64).Mul(ln2, big.NewFloat(k))
	r.Sub(z, r).SetPrec(workPrec) // |r| <= ln2/2
	sum := new(big.Float).SetPrec(workPrec).SetInt64(1)
	term := new(big.Float).SetPrec(workPrec).SetInt64(1)
	for n := int64(1); ; n++ {
		term.Mul(term, r)
		term.Quo(term, new(big.Float).SetInt64(n))
		if term.Sign() == 0 || term.MantExp(nil) < -workPrec-8 {
			break
		}
		sum.Add(sum, term)
	}
	return sum.SetMantExp(sum, int(k))
}

// bigLog is ln x for a finite x > 0.
func bigLog(x float64) *big.Float {
	ln2, _ := constants()
	m, e := math.Frexp(x) // x = m 2^e, m in [0.5, 1)
	if m < math.Sqrt2/2 {
		m, e = m*2, e-1
	}
	// ln m = 2 atanh((m-1)/(m+1)), |(m-1)/(m+1)| <= 0.172
	bm := new(big.Float).SetPrec(workPrec).SetFloat64(m)
	num := new(big.Float).SetPrec(workPrec).Sub(bm, big.NewFloat(1))
	den := new(big.Float).SetPrec(workPrec).Add(bm, big.NewFloat(1))
	s := atanhSeries(num.Quo(num, den), workPrec)
	s.Mul(s, big.NewFloat(2))
	return s.Add(s, new(big.Float).SetPrec(workPrec).Mul(ln2, big.NewFloat(float64(e))))
}

func round(f *big.Float) float64 {
	v, _ := f.Float64()
	return v
}

// Exp is e^x, correctly rounded.
func Exp(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x > 710 || x < -746 || x == 0 {
		return math.Exp(x)
	}
	return round(bigExp(new(big.Float).SetPrec(workPrec).SetFloat64(x)))
}

// Log is ln x, correctly rounded.
func Log(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) || x == 1 {
		return math.Log(x)
	}
	return round(bigLog(x))
}

// Log2 is log2 x, correctly rounded (exact for powers of two).
func Log2(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return math.Log2(x)
	}
	if m, e := math.Frexp(x); m == 0.5 {
		return float64(e - 1)
	}
	ln2, _ := constants()
	return round(new(big.Float).SetPrec(workPrec).Quo(bigLog(x), ln2))
}

// Log10 is log10 x, correctly rounded.
func Log10(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) || x == 1 {
		return math.Log10(x)
	}
	return round(new(big.Float).SetPrec(workPrec).Quo(bigLog(x), bigLog(10)))
}

// powFrac is x^y for an exponent that is not an integer, correctly rounded: e^(y ln x).
func powFrac(x, y float64) float64 {
	if !(x > 0) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) || x == 1 {
		return math.Pow(x, y)
	}
	z := new(big.Float).SetPrec(workPrec).Mul(bigLog(x), new(big.Float).SetPrec(workPrec).SetFloat64(y))
	if zf, _ := z.Float64(); zf > 710 || zf < -746 {
		return math.Pow(x, y)
	}
	return round(bigExp(z))
}

// reduce is x = k pi/2 + r with |r| <= pi/4: r at workPrec bits and k mod 4.
func reduce(x float64) (*big.Float, int) {
	_, halfPi := constants()
	bx := new(big.Float).SetPrec(reducePrec).SetFloat64(x)
	q := new(big.Float).SetPrec(reducePrec).Quo(bx, halfPi)
	q.Add(q, big.NewFloat(0.5))
	k, _ := q.Int(nil) // truncates toward zero: floor for q >= 0
	if q.Sign() < 0 && !q.IsInt() {
		k.Sub(k, big.NewInt(1))
	}
	r := new(big.Float).SetPrec(reducePrec).SetInt(k)
	r.Mul(r, halfPi)
	r.Sub(bx, r)
	quad := int(new(big.Int).And(k, big.NewInt(3)).Int64())
	return new(big.Float).SetPrec(workPrec).Set(r), quad
}

// sinCos is sin r and cos r for |r| <= pi/4 (Taylor series).
func sinCos(r *big.Float) (sin, cos *big.Float) {
	sin = new(big.Float).SetPrec(workPrec).Set(r)
	cos = new(big.Float).SetPrec(workPrec).SetInt64(1)
	r2 := new(big.Float).SetPrec(workPrec).Mul(r, r)
	term := new(big.Float).SetPrec(workPrec).Set(r) // r^n/n!, n odd for sin
	cterm := new(big.Float).SetPrec(workPrec).SetInt64(1)
	for n := int64(2); n < 200; n += 2 {
		cterm.Mul(cterm, r2)
		cterm.Quo(cterm, new(big.Float).SetInt64(n*(n-1)))
		term.Mul(term, r2)
		term.Quo(term, new(big.Float).SetInt64(n*(n+1)))
		if (n/2)%2 == 1 {
			cos.Sub(cos, cterm)
			sin.Sub(sin, term)
		} else {
			cos.Add(cos, cterm)
			sin.Add(sin, term)
		}
		if cterm.Sign() == 0 || cterm.MantExp(nil) < -workPrec-8 {
			break
		}
	}
	return sin, cos
}

func trig(x float64) (sin, cos *big.Float) {
	r, quad := reduce(x)
	s, c := sinCos(r)
	switch quad {
	case 1:
		s, c = c, s.Neg(s)
	case 2:
		s, c = s.Neg(s), c.Neg(c)
	case 3:
		s, c = c.Neg(c), s
	}
	return s, c
}

// Sin is sin x, correctly rounded.
func Sin(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return math.Sin(x)
	}
	s, _ := trig(x)
	return round(s)
}

// Cos is cos x, correctly rounded.
func Cos(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return math.Cos(x)
	}
	_, c := trig(x)
	return round(c)
}

// Tan is tan x, correctly rounded.
func Tan(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return math.Tan(x)
	}
	s, c := trig(x)
	return round(s.Quo(s, c))
}

// math.exp, math.sin, math.cos and math.tan: top-level functions (snapshots name Go functions by their
// code, which closures of one literal share), each charged as a correctly rounded call.
func mathExp(L *lua.LState) int { return mathCall(L, Exp) }
func mathSin(L *lua.LState) int { return mathCall(L, Sin) }
func mathCos(L *lua.LState) int { return mathCall(L, Cos) }
func mathTan(L *lua.LState) int { return mathCall(L, Tan) }

func mathCall(L *lua.LState, f func(float64) float64) int {
	x := checkNumber(L, 1)
	Charge(L, costTranscendental)
	L.Push(lua.LNumber(f(x)))
	return 1
}

// bigAtan is atan t at workPrec bits: for |t| > 1 as ±pi/2 - atan(1/t), then halved arguments
// (atan t = 2 atan(t / (1 + sqrt(1 + t^2)))) until |t| < 2^-12, then the series.
func bigAtan(t *big.Float) *big.Float {
	_, halfPi := constants()
	t = new(big.Float).SetPrec(workPrec).Set(t)
	if t.Sign() == 0 {
		return t
	}
	abs := new(big.Float).Abs(t)
	if abs.Cmp(big.NewFloat(1)) > 0 {
		inv := new(big.Float).SetPrec(workPrec).Quo(big.NewFloat(1), t)
		r := new(big.Float).SetPrec(workPrec).Set(halfPi)
		if t.Sign() < 0 {
			r.Neg(r)
		}
		return r.Sub(r, bigAtan(inv))
	}
	doublings := 0
	one := big.NewFloat(1)
	for t.MantExp(nil) > -12 {
		d := new(big.Float).SetPrec(workPrec).Mul(t, t)
		d.Add(d, one)
		d.Sqrt(d)
		d.Add(d, one)
		t.Quo(t, d)
		doublings++
	}
	r := atanSeries(t, workPrec)
	return r.SetMantExp(r, doublings)
}

// Atan2 is the angle of (x, y) as the C library's atan2 computes it, which is not correctly rounded: it
// takes the arctangent of the quotient y/x rounded to a float64 (correctly rounded here) and, left of the
// y axis, subtracts it from pi with the low part of pi kept apart; a quotient beyond 2^60 gives pi/2 and
// one below 2^-60 left of the axis gives pi. (Measured against the wasm in generated-lib.yaml: a
// correctly rounded atan2 missed a third of the cases this matches.) The axes, zeros, infinities and NaN
// are math's, which follow C99 as the library does.
func Atan2(y, x float64) float64 {
	if y == 0 || x == 0 || math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
		return math.Atan2(y, x)
	}
	_, ey := math.Frexp(y)
	_, ex := math.Frexp(x)
	var z float64
	switch k := ey - ex; {
	case k > 60:
		z = halfPiHi + 0.5*piLo
	case x < 0 && k < -60:
		z = 0
	default:
		z = round(bigAtan(new(big.Float).SetPrec(workPrec).SetFloat64(math.Abs(y / x))))
	}
	switch {
	case x > 0 && y > 0:
		return z
	case x > 0:
		return -z
	case y > 0:
		return piHi - (z - piLo)
	default:
		return (z - piLo) - piHi
	}
}

// pi and pi/2 as a float64 and the low part of pi, variables so that the sums above are float64 sums, as
// in C (Go would add constants exactly).
var piHi, halfPiHi, piLo = 3.1415926535897931160e+00, 1.5707963267948965580e+00, 1.2246467991473531772e-16

// Asin and Acos are arcsine and arccosine, correctly rounded: atan2 of x and sqrt(1 - x^2).
func Asin(x float64) float64 {
	if !(x > -1 && x < 1) || x == 0 {
		return math.Asin(x)
	}
	return round(asinAcos(x, true))
}

func Acos(x float64) float64 {
	if !(x > -1 && x < 1) {
		return math.Acos(x)
	}
	return round(asinAcos(x, false))
}

func asinAcos(x float64, sin bool) *big.Float {
	_, halfPi := constants()
	bx := new(big.Float).SetPrec(workPrec).SetFloat64(x)
	c := new(big.Float).SetPrec(workPrec).Mul(bx, bx)
	c.Sub(big.NewFloat(1), c)
	c.Sqrt(c) // cos of the angle, > 0
	if sin {
		return bigAtan(c.Quo(bx, c))
	}
	if x == 0 {
		return new(big.Float).SetPrec(workPrec).Set(halfPi)
	}
	r := bigAtan(c.Quo(c, bx))
	if x < 0 {
		pi := new(big.Float).SetPrec(workPrec).Mul(halfPi, big.NewFloat(2))
		r.Add(r, pi)
	}
	return r
}

func mathAsin(L *lua.LState) int { return mathCall(L, Asin) }
func mathAcos(L *lua.LState) int { return mathCall(L, Acos) }
