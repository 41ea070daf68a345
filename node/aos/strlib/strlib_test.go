package strlib

import (
	"math"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestNumberToString(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		// As Lua 5.3 prints the integer or float of that value.
		{5, "5"}, {-3, "-3"}, {0, "0"}, {1000000000000000, "1000000000000000"},
		{-9223372036854775808, "-9223372036854775808"}, {9007199254740993, "9007199254740992"},
		{math.Pi, "3.1415926535898"}, {0.1, "0.1"}, {1.5, "1.5"}, {-1.5, "-1.5"}, {1.0 / 3, "0.33333333333333"},
		{1e100, "1e+100"}, {1e-5, "1e-05"}, {123456.789, "123456.789"}, {0.1 + 0.2, "0.3"},
		{100000000000000.5, "1e+14"}, {2.5e-300, "2.5e-300"}, {5e-324, "4.9406564584125e-324"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"},
		// aonode's float-only rule: integral values outside int64 are floats; -0.0 is the integer 0;
		// every NaN prints as the NaN of 5.3's arithmetic on x86 and wasm.
		{9223372036854775808, "9.2233720368548e+18"}, {1e300, "1e+300"},
		{math.Copysign(0, -1), "0"}, {math.NaN(), "-nan"}, {-math.NaN(), "-nan"},
	} {
		if got := NumberToString(tc.f); got != tc.want {
			t.Errorf("NumberToString(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestStringToNumber(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want float64
		ok   bool
	}{
		{"10", 10, true}, {" \t10\n ", 10, true}, {"0x10", 16, true}, {"-0x10", -16, true}, {"0x1p4", 16, true},
		{"0x.8", 0.5, true}, {"0xA.8P1", 21, true}, {"1e2", 100, true}, {"1E-2", 0.01, true}, {".5", 0.5, true},
		{"5.", 5, true}, {"+5", 5, true}, {"0010", 10, true}, {"1e400", math.Inf(1), true}, {"-1e400", math.Inf(-1), true},
		{"1e-400", 0, true}, {"0xffffffffffffffff", -1, true}, {"0x10000000000000000", 0, true},
		{"9223372036854775808", 9223372036854775808, true},
		{"", 0, false}, {" ", 0, false}, {"0x", 0, false}, {"1e", 0, false}, {"1e+", 0, false}, {".", 0, false},
		{"inf", 0, false}, {"nan", 0, false}, {"-inf", 0, false}, {"infinity", 0, false}, {"1 2", 0, false},
		{"1_000", 0, false}, {"0x1_0", 0, false}, {"--5", 0, false}, {"- 5", 0, false}, {"5\x00", 0, false},
		{"0x1p", 0, false}, {"0xg", 0, false}, {"1.2.3", 0, false}, {"e5", 0, false}, {"0b101", 0, false},
	} {
		got, ok := StringToNumber(tc.s)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("StringToNumber(%q) = %v, %v; want %v, %v", tc.s, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseInteger(t *testing.T) {
	for _, tc := range []struct {
		s    string
		base int
		want float64
		ok   bool
	}{
		{"ff", 16, 255, true}, {" -FF ", 16, -255, true}, {"+11", 2, 3, true}, {"zz", 36, 1295, true}, {"777", 8, 511, true},
		{"ffffffffffffffff", 16, -1, true}, {"12", 2, 0, false}, {"", 10, 0, false}, {"-", 10, 0, false},
		{"1.5", 10, 0, false}, {"0x10", 16, 0, false}, {"1 0", 10, 0, false},
	} {
		got, ok := ParseInteger(tc.s, tc.base)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("ParseInteger(%q, %d) = %v, %v; want %v, %v", tc.s, tc.base, got, ok, tc.want, tc.ok)
		}
	}
}

// TestFloatOnly covers where the library follows aonode's float-only numbers rather than 5.3's two
// number types (the golden cases leave these out: lua5.3 cannot give them).
func TestFloatOnly(t *testing.T) {
	L := newTestState(t, nil)
	defer L.Close()
	L.SetGlobal("negzero", lua.LNumber(math.Copysign(0, -1)))
	L.SetGlobal("nan", lua.LNumber(math.NaN()))
	L.SetGlobal("negnan", lua.LNumber(-math.NaN()))
	for _, tc := range []struct{ expr, want string }{
		{`string.format("%d", 9007199254740993)`, `ok "9007199254740992"`}, // 2^53+1 is not a float64
		{`string.format("%s|%s", 1e15, 2^53)`, `ok "1000000000000000|9007199254740992"`},
		{`string.format("%q|%q", 1.0, 2^63)`, `ok "1|0x1p+63"`},
		{`string.format("%d", math.maxinteger)`, `ok "9223372036854775807"`}, // 2^63 stands for maxinteger
		{`string.sub("hello", 2^63)`, `ok ""`},
		{`string.format("%g|%a|%f|%e|%s", negzero, negzero, negzero, negzero, negzero)`, `ok "-0|-0x0p+0|-0.000000|-0.000000e+00|0"`},
		{`string.format("%f|%g|%a|%q|%s|%5.1f|%+f|%E", nan, nan, nan, nan, nan, nan, nan, negnan)`, `ok "-nan|-nan|-nan|-nan|-nan| -nan|-nan|-NAN"`},
		{`string.rep("", 1e18)`, `ok ""`}, // 5.3 loops 10^18 times
		{`string.rep("", 1e18, "")`, `ok ""`},
	} {
		if got := evalCase(t, L, tc.expr); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// TestAllocHook checks large results are announced to Alloc before they are built, and that an Alloc
// that raises stops the call.
func TestAllocHook(t *testing.T) {
	type call struct {
		what string
		size int64
	}
	var calls []call
	limit := int64(1 << 20)
	L := lua.NewState()
	defer L.Close()
	Open(L, Hooks{Alloc: func(L *lua.LState, what string, size int64) {
		calls = append(calls, call{what, size})
		if size > limit {
			L.RaiseError("too big: %s %d", what, size)
		}
	}})
	for _, tc := range []struct {
		code   string
		want   []call // the calls, in order
		errSub string
	}{
		{`local s = string.rep("ab", 100)`, nil, ""}, // small: not announced
		{`local s = string.rep("ab", 100000, ",")`, []call{{"string.rep", 299999}}, ""},
		{`local s = string.rep("x", 2000000)`, []call{{"string.rep", 2000000}}, "too big: string.rep 2000000"},
		{`local s = string.upper(string.rep("x", 70000))`, []call{{"string.rep", 70000}, {"string.upper", 70000}}, ""},
		{`local s = string.format("%s%s", string.rep("x", 70000), "y")`, []call{{"string.rep", 70000}, {"string.format", 70000}, {"string.format", 70001}}, ""},
		{`local s = string.format("%q", string.rep("\0", 600000))`, []call{{"string.rep", 600000}, {"string.format", 1200002}}, "too big: string.format 1200002"},
	} {
		calls = nil
		err := L.DoString(tc.code)
		if tc.errSub == "" && err != nil || tc.errSub != "" && (err == nil || !strings.Contains(err.Error(), tc.errSub)) {
			t.Errorf("%s: error %v, want %q", tc.code, err, tc.errSub)
		}
		if len(calls) != len(tc.want) {
			t.Errorf("%s: Alloc calls %v, want %v", tc.code, calls, tc.want)
			continue
		}
		for i := range calls {
			if calls[i] != tc.want[i] {
				t.Errorf("%s: Alloc calls %v, want %v", tc.code, calls, tc.want)
				break
			}
		}
	}
	// gsub building 2 MB: announced while it grows, each size larger than the last, stopped past the
	// limit before the result exists.
	calls = nil
	err := L.DoString(`local s = string.gsub(string.rep("a", 1000000), "a", "bb")`)
	if err == nil || !strings.Contains(err.Error(), "too big: string.gsub") {
		t.Fatalf("gsub: %v", err)
	}
	for i := 2; i < len(calls); i++ {
		if calls[i].what != "string.gsub" || calls[i].size <= calls[i-1].size {
			t.Fatalf("gsub Alloc calls %v", calls)
		}
	}
	if last := calls[len(calls)-1].size; last > limit+limit/4+1 || last <= limit {
		t.Fatalf("gsub stopped at %d for a limit of %d: %v", last, limit, calls)
	}
}

// TestChargeHook checks the work is charged as the arguments say, the same on every run, and that a
// Charge that raises stops a runaway match.
func TestChargeHook(t *testing.T) {
	var charged int64
	L := newTestState(t, &charged)
	defer L.Close()
	costOf := func(code string) int64 {
		t.Helper()
		charged = 0
		if err := L.DoString(code); err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		return charged
	}
	for _, code := range []string{
		`string.find(string.rep("a", 20), string.rep("a*", 5) .. "b")`,
		`string.gsub(string.rep("hello world ", 1000), "%w+", "%0%0")`,
		`for w in string.gmatch(string.rep("a b ", 1000), "%a") do end`,
		`string.upper(string.rep("x", 100000))`,
	} {
		a, b := costOf(code), costOf(code)
		if a != b || a < 100 {
			t.Errorf("%s charged %d then %d", code, a, b)
		}
	}
	if small, large := costOf(`string.find(string.rep("a", 1000), ".-b")`), costOf(`string.find(string.rep("a", 2000), ".-b")`); large < 3*small {
		t.Errorf("a quadratic search charged %d for 1000 bytes and %d for 2000", small, large)
	}

	stop := lua.NewState()
	defer stop.Close()
	total := int64(0)
	Open(stop, Hooks{Charge: func(L *lua.LState, n int64) {
		if total += n; total > 1_000_000 {
			L.RaiseError("compute limit")
		}
	}})
	err := stop.DoString(`string.find(string.rep("a", 40), string.rep("a*", 25) .. "b")`)
	if err == nil || !strings.Contains(err.Error(), "compute limit") {
		t.Fatalf("runaway match: %v", err)
	}
	if total > 1_000_000+chunkSteps/stepsPerInstr {
		t.Fatalf("charged %d past the limit", total)
	}
}

// TestStringMetatable checks method calls reach the library.
func TestStringMetatable(t *testing.T) {
	L := newTestState(t, nil)
	defer L.Close()
	if got := evalCase(t, L, `("%5.1f"):format(1.25), ("a,b"):gsub(",", "%%"), ("x"):rep(3, "-")`); got != `ok "  1.2", "a%b", "x-x-x"` {
		t.Fatalf("got %s", got)
	}
	if got := evalCase(t, L, `string.gfind`); got != "ok nil" {
		t.Fatalf("string.gfind: %s", got)
	}
}

// TestWrappedCharges checks string.pack, unpack and the utf8 functions (lua53's) are charged by their
// work and behave as before.
func TestWrappedCharges(t *testing.T) {
	var charged int64
	L := newTestState(t, &charged)
	defer L.Close()
	for _, tc := range []struct {
		code string
		min  int64 // at least this many instructions
	}{
		{`assert(#string.pack("c1000000", "") == 1000000)`, 1000000 / copyBytesPerInstr},
		{`assert(select("#", string.unpack(string.rep("b", 200), string.rep("x", 200))) == 201)`, 200 / valuesPerInstr},
		{`assert(#string.unpack("s4", string.pack("s4", string.rep("x", 100000))) == 100000)`, 100000 / copyBytesPerInstr},
		{`assert(string.packsize(string.rep("i4", 10000)) == 40000)`, 20000 / mapBytesPerInstr},
		{`assert(utf8.len(string.rep("\226\130\172", 100000)) == 100000)`, 300000 / mapBytesPerInstr},
		{`assert(utf8.len(string.rep("a", 100000), 50001) == 50000)`, 50000 / mapBytesPerInstr},
		{`assert(select("#", utf8.codepoint(string.rep("a", 1000), 1, -1)) == 1000)`, 1000 / valuesPerInstr},
		{`assert(#utf8.char(unpack((function() local t = {} for i = 1, 1000 do t[i] = 0x20AC end return t end)())) == 3000)`, 1000 / valuesPerInstr},
		{`assert(utf8.offset(string.rep("a", 100000), 80000) == 80000)`, 80000 / 8},
	} {
		charged = 0
		if err := L.DoString(tc.code); err != nil {
			t.Errorf("%s: %v", tc.code, err)
			continue
		}
		if charged < tc.min {
			t.Errorf("%s: charged %d, want at least %d", tc.code, charged, tc.min)
		}
	}
}
