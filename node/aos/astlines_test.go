package aos

import "testing"

// An error inside a statement that follows a block on the same line names the called function, as Lua
// does, not a local of the block that ended (the block's end used to be placed by line).
func TestScopeEndsByStatement(t *testing.T) {
	p := lpBoot(t, Options{})
	cases := []struct{ code, want string }{
		{"local function f() do local y = 1 end local s = tostring() end local ok, e = pcall(f) return e",
			`[string "aos"]:1: bad argument #1 to 'tostring' (value expected)`},
		{"local function f() do for i = 1, 3 do local x = i end end local s = tostring() end local ok, e = pcall(f) return e",
			`[string "aos"]:1: bad argument #1 to 'tostring' (value expected)`},
		{"local function f() if true then local y = 1 end return math.floor({}) end local ok, e = pcall(f) return e",
			`[string "aos"]:1: bad argument #1 to 'floor' (number expected, got table)`},
		{"local function f() while false do local y = 1 end local t = nil return t.x end local ok, e = pcall(f) return e",
			`[string "aos"]:1: attempt to index a nil value (local 't')`},
		{"local function f()\n do\n local y = 1\n end\n local s = tostring()\n end local ok, e = pcall(f) return e",
			`[string "aos"]:5: bad argument #1 to 'tostring' (value expected)`},
	}
	for _, tc := range cases {
		if r := p.eval(tc.code); r.Error != "" || r.Output.Data != tc.want {
			t.Errorf("%q: %q (error %q), want %q", tc.code, r.Output.Data, r.Error, tc.want)
		}
	}
}
