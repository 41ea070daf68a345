package lua53

import "testing"

// The expected messages are what Lua 5.3.6 says for load(src, "aos") (checked with lua5.3).
func TestGotoAndLabelErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"goto nowhere", `[string "aos"]:1: no visible label 'nowhere' for <goto> at line 1`},
		{"x = 1\ngoto nowhere\ny = 2\n", `[string "aos"]:4: no visible label 'nowhere' for <goto> at line 2`},
		{"break", `[string "aos"]:1: <break> at line 1 not inside a loop`},
		{"local function f()\n  break\nend\nreturn 1", `[string "aos"]:4: <break> at line 2 not inside a loop`},
		{"x = 1\n\nbreak\n\n", `[string "aos"]:5: <break> at line 3 not inside a loop`},
		{"goto l\nlocal x = 1\n::l::\nprint(x)", `[string "aos"]:4: <goto l> at line 1 jumps into the scope of local 'x'`},
		{"::a:: ::a::", `[string "aos"]:1: label 'a' already defined on line 1`},
		{"repeat goto cont; local x = 1 ::cont:: until x", `[string "aos"]:1: <goto cont> at line 1 jumps into the scope of local 'x'`},
		{"local function f() goto out end ::out::", `[string "aos"]:1: no visible label 'out' for <goto> at line 1`},
		{"while true do local function g() break end end", `[string "aos"]:1: <break> at line 1 not inside a loop`},
		{"if x then goto a end\nlocal y\n::a::\nreturn y", `[string "aos"]:4: <goto a> at line 1 jumps into the scope of local 'y'`},
		{"goto a; do ::a:: end", `[string "aos"]:1: no visible label 'a' for <goto> at line 1`},
		{"local x\n::b::\ngoto b\n::b::", `[string "aos"]:4: label 'b' already defined on line 2`},
		{"break break", `[string "aos"]:1: <break> at line 1 not inside a loop`},
		{"goto b\nbreak", `[string "aos"]:2: no visible label 'b' for <goto> at line 1`},
		{"for i = 1, 2 do local a ::x:: end goto x", `[string "aos"]:1: no visible label 'x' for <goto> at line 1`},
		{"local t = {}\nfunction t:m()\n  goto self\nend", `[string "aos"]:4: no visible label 'self' for <goto> at line 3`},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			out, err := Translate(c.src, `[string "aos"]`)
			if err == nil {
				t.Fatalf("no error; output %q", out)
			}
			if err.Error() != c.want {
				t.Fatalf("got  %q\nwant %q", err, c.want)
			}
		})
	}
}

// Programs Lua 5.3 accepts: a label at the end of its block is outside the scope of the block's locals,
// a label may repeat in an inner block, and a goto leaves blocks to a label of an enclosing one.
func TestGotoAndLabelsAccepted(t *testing.T) {
	checkValues(t, []valueCase{
		{"label at the end of the block", "local n = 0\ngoto l\nlocal x = 1\nn = x\n::l::", nil},
		{"label then no-op statements", "goto l\nlocal x = 1\n::l::\n;;", nil},
		{"label at the end of a do block", "do goto l\nlocal x = 1\n::l:: end return 2", []any{2}},
		{"same label in an inner block", "local n = 0\n::a::\ndo n = n + 1 ::a:: end\nreturn n", []any{1}},
		{"goto in repeat before until", "local n = 0\nrepeat local x = 1 n = n + x goto cont ::cont:: until n > 2\nreturn n", []any{3}},
		{"backward goto in a block", "local n = 0\ndo local x ::a:: n = n + 1 if n < 3 then goto a end end\nreturn n", []any{3}},
		{"goto out of nested blocks", "local n = 0\n::top::\ndo do n = n + 1 if n < 4 then goto top end end end\nreturn n", []any{4}},
		{"break in a loop inside a function in a loop", "local n = 0\nwhile true do local f = function () while true do break end return 1 end n = n + f() break end\nreturn n", []any{1}},
	})
}
