package aos

import "testing"

// Constant expressions that fold to -0 give what Lua 5.3 computes: -0 for a float expression, even next
// to the constant 0 in the same function (gopher-lua's constant table merged the two), and 0 for an
// integer one (5.3's integers have no negative zero).
func TestNegativeZeroConstants(t *testing.T) {
	p := lpBoot(t, Options{})
	cases := []struct{ code, want string }{
		{`return require("json").encode({ 0, -0.0 })`, "[0,-0]"},
		{`return require("json").encode({ -0.0, 0 })`, "[-0,0]"},
		{`local a, b = 0, -0.0 return 1/a .. " " .. 1/b`, "inf -inf"},
		{`local a, b = 0, 0.0 * -1 return 1/a .. " " .. 1/b`, "inf -inf"},
		{`local a, b = 0, 0 * -1 return 1/a .. " " .. 1/b`, "inf inf"},
		{`local a, b = 0, -(0) return 1/a .. " " .. 1/b`, "inf inf"},
		{`local b = -0 return 1/b`, "inf"},
		{`local a, b = 0, 0.0 / -1 return 1/a .. " " .. 1/b`, "inf -inf"},
		{`local a, b = 0, -0.0 + 0 return 1/a .. " " .. 1/b`, "inf inf"},
		{`local a, b = 0, 0x0 * -1 return 1/a .. " " .. 1/b`, "inf inf"},
		{`local a, b = 0, -0e0 return 1/a .. " " .. 1/b`, "inf -inf"},
		// Computed, -0 is 0 here (not in 5.3): gopher-lua's VM stores a small integral result from a shared
		// table of numbers, where -0 is 0 (DIFFERENCES.md).
		{`local x = 5 return 1/(x * -0.0) .. " " .. 1/(x - 5)`, "inf inf"},
		{`return string.format("%g %g", 1 - 1, -(1 - 1.0))`, "0 -0"},
	}
	for _, tc := range cases {
		r := p.eval(tc.code)
		if r.Error != "" || r.Output.Data != tc.want {
			t.Errorf("%s: %q (error %q), want %q", tc.code, r.Output.Data, r.Error, tc.want)
		}
	}
}
