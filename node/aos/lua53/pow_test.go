package lua53

import (
	"math"
	"math/big"
	"testing"
)

// exactPow is x^n for n >= 0 with every bit (n small enough), rounded once to the nearest float64.
func exactPow(x float64, n int) float64 {
	r := new(big.Float).SetPrec(20000).SetInt64(1)
	b := new(big.Float).SetPrec(20000).SetFloat64(x)
	for i := 0; i < n; i++ {
		r.Mul(r, b)
	}
	f, _ := r.Float64()
	return f
}

// Pow is correctly rounded for integral exponents (checked against the exact power), where math.Pow is
// not, and is math.Pow for the special values and for other exponents.
func TestPowCorrectlyRounded(t *testing.T) {
	goOff := 0
	for _, x := range []float64{10, 3, 7, 1.1, 0.1, 2.5, 1.0001, -3, -0.7, 123456789, 0xdeadbeefcafe, 1e-5} {
		for n := 1; n <= 80; n++ {
			want := exactPow(x, n)
			if math.IsInf(want, 0) || want == 0 {
				continue
			}
			if got := Pow(x, float64(n)); got != want {
				t.Errorf("Pow(%v, %d) = %v, want %v", x, n, got, want)
			}
			if math.Pow(x, float64(n)) != want {
				goOff++
			}
		}
	}
	if goOff == 0 {
		t.Fatal("math.Pow matched every exact power: the test no longer shows what Pow is for")
	}
	for _, c := range [][3]float64{{10, -5, 1e-5}, {2, -1074, 5e-324}, {2, 1023, 8.98846567431158e307}, {-2, 3, -8}, {-2, 2, 4}} {
		if got := Pow(c[0], c[1]); got != c[2] {
			t.Errorf("Pow(%v, %v) = %v, want %v", c[0], c[1], got, c[2])
		}
	}
	for _, c := range [][2]float64{{0, -1}, {0, 0}, {math.Copysign(0, -1), -3}, {math.Inf(1), -2}, {math.Inf(-1), 3}, {math.NaN(), 0}, {1, math.NaN()},
		{-8, 1.0 / 3}, {2, 0.5}, {10, 400}, {10, -400}, {0.5, 1e10}, {-1, math.Inf(1)}, {2, 1 << 40}} {
		got, want := Pow(c[0], c[1]), math.Pow(c[0], c[1])
		if !(got == want && math.Signbit(got) == math.Signbit(want)) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("Pow(%v, %v) = %v, want math.Pow's %v", c[0], c[1], got, want)
		}
	}
}
