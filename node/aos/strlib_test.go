package aos

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStringLibHostile runs string library calls that take minutes or blow up on gopher-lua's own
// library: each must stop with the compute limit error (or Lua 5.3's error) quickly, and two fresh
// processes must report the same GasUsed (the charges are deterministic).
func TestStringLibHostile(t *testing.T) {
	const compute = 3_000_000
	computeErr := fmt.Sprintf("compute limit exceeded: %d instructions", compute)
	cases := []struct {
		name, code, want string
	}{
		{"backtracking a* x25", `return string.find(string.rep('a', 40), string.rep('a*', 25) .. 'b')`, computeErr},
		{"backtracking in pcall loop", `while true do pcall(string.find, string.rep('a', 30), string.rep('a*', 12) .. 'b') end`, computeErr},
		{"backtracking captures", `return string.match(string.rep('a', 60), string.rep('(a*)', 30) .. 'b')`, computeErr},
		{"lazy quadratic", `return string.find(string.rep('a', 1e6), '.-b')`, computeErr},
		{"gmatch quadratic", `local n = 0 for x in string.gmatch(string.rep('a', 1e6), 'a-b') do n = n + 1 end return n`, computeErr},
		{"%b on 10 MB", `local s = string.rep('(', 1e7) while true do string.find(s, '%b()') end`, computeErr},
		{"%b gmatch on 10 MB", `local s = string.rep('(', 1e7) for x in s:gmatch('%b()') do end`, computeErr},
		{"gsub on 10 MB in a loop", `local s = string.rep('a', 1e7) while true do s:gsub('a', 'b') end`, computeErr},
		{"gsub with a function", `local s = string.rep('ab', 5e6) while true do s:gsub('a', function(c) return c end) end`, computeErr},
		{"upper on 20 MB", `local s = string.rep('a', 2e7) for i = 1, 200 do local u = s:upper() end`, computeErr},
		{"lower, reverse on 20 MB", `local s = string.rep('A', 2e7) for i = 1, 200 do local u = s:lower():reverse() end`, computeErr},
		{"rep in a loop", `while true do local s = ('x'):rep(1e6, ',') end`, computeErr},
		{"format %q in a loop", `local s = string.rep('\0', 1e6) while true do local q = string.format('%q', s) end`, computeErr},
		{"plain find in a loop", `local s = string.rep('a', 1e7) while true do s:find('b', 1, true) end`, computeErr},
		{"tonumber of 10 MB in a loop", `local s = string.rep(' ', 1e7) .. '1' while true do tonumber(s) end`, computeErr},
		{"numeric string argument of 10 MB", `local s = string.rep(' ', 1e7) .. '1' while true do string.sub('x', s) end`, computeErr},
		{"10 MB set at the end of the subject", `local p = '[' .. string.rep('a', 1e7) .. ']' while true do string.find('', p) end`, computeErr},
		{"10 MB frontier set", `local p = '%f[' .. string.rep('a', 1e7) .. ']' while true do string.find('b', p) end`, computeErr},
		{"byte in a loop", `local s = string.rep('a', 4000) while true do local t = {s:byte(1, -1)} end`, computeErr},
		{"1000-deep captures", `return string.find('a', string.rep('(', 1000) .. 'a' .. string.rep(')', 1000))`, "too many captures"},
		{"deep optional items", `return string.find(string.rep('a', 300), string.rep('a?', 300))`, "pattern too complex"},
		{"deep lazy items", `return string.find(string.rep('a', 300), string.rep('a-', 250) .. '$')`, "pattern too complex"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var gas [2]int64
			for run := range gas {
				p := lpBoot(t, Options{ComputeLimit: compute})
				start := time.Now()
				r := p.eval(tc.code)
				if !strings.Contains(r.Error, tc.want) {
					t.Fatalf("run %d: error %q, want %q", run, r.Error, tc.want)
				}
				if d := time.Since(start); d > 30*time.Second {
					t.Errorf("run %d took %v", run, d)
				}
				gas[run] = r.GasUsed
				// The process goes on: the next message runs normally.
				if r := p.eval(`return ("ok"):upper()`); r.Error != "" || !strings.Contains(r.Output.Data, "OK") {
					t.Fatalf("next message: %+v", r)
				}
			}
			if gas[0] != gas[1] {
				t.Errorf("GasUsed %d then %d", gas[0], gas[1])
			}
			if tc.want == computeErr && gas[0] != compute {
				t.Errorf("GasUsed %d, want the limit %d", gas[0], compute)
			}
		})
	}
}

// TestStringLibMetered checks the library's work is charged: the same loop costs more instructions on
// longer strings, by the same amount on every run.
func TestStringLibMetered(t *testing.T) {
	gasOf := func(code string) int64 {
		t.Helper()
		p := lpBoot(t, Options{})
		r := p.eval(code)
		if r.Error != "" {
			t.Fatalf("%s: %s", code, r.Error)
		}
		return r.GasUsed
	}
	for _, f := range []string{
		`local s = string.rep('a', %d) for i = 1, 10 do s:upper() end`,
		`local s = string.rep('a', %d) for i = 1, 10 do s:gsub('a', 'b') end`,
		`local s = string.rep('a', %d) for i = 1, 10 do s:find('[b]') end`,
		`local s = string.rep('a', %d) for i = 1, 10 do string.format('%%q', s) end`,
	} {
		small, large := gasOf(fmt.Sprintf(f, 1000)), gasOf(fmt.Sprintf(f, 100000))
		if large < small+1000 {
			t.Errorf("%s: %d instructions for 1000 bytes, %d for 100000", f, small, large)
		}
		if again := gasOf(fmt.Sprintf(f, 100000)); again != large {
			t.Errorf("%s: GasUsed %d then %d", f, large, again)
		}
	}
}

// TestStringLibInstalled checks processes use the 5.3 library, also through the string metatable.
func TestStringLibInstalled(t *testing.T) {
	p := lpBoot(t, Options{})
	for code, want := range map[string]string{
		`return ("%5.1f|%q"):format(math.pi, "a\n")`:                         " 3.1|\"a\\\n\"",
		`return (("abc"):gsub("%w", "%0%0"))`:                                "aabbcc",
		`return select(2, pcall(string.gsub, "x", "x", "%2"))`:               "invalid capture index %2",
		`return tostring(string.gfind)`:                                      "nil",
		`return tonumber("0x1p4") + tonumber("  010  ") + tonumber("z", 36)`: "61",
		`return select(2, pcall(string.format, "%d", 1.5))`:                  "bad argument #2 to 'string.format' (number has no integer representation)",
	} {
		r := p.eval(code)
		if r.Error != "" || !strings.Contains(r.Output.Data, want) {
			t.Errorf("%s: %+v, want %q", code, r, want)
		}
	}
}
