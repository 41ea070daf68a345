package explorer

import "testing"

func TestANSI(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"plain text is escaped", `<b>"x" & y</b>`, "&lt;b&gt;&#34;x&#34; &amp; y&lt;/b&gt;"},
		{"a colour and a reset", "\x1b[32mok\x1b[0m done", `<span class="ansi-fg2">ok</span> done`},
		{"bright colour and bold", "\x1b[1;91merr\x1b[0m", `<span class="ansi-fg9 ansi-bold">err</span>`},
		{"the style changes mid-text", "\x1b[31ma\x1b[34mb\x1b[39mc", `<span class="ansi-fg1">a</span><span class="ansi-fg4">b</span>c`},
		{"bold off keeps the colour", "\x1b[1;33mx\x1b[22my", `<span class="ansi-fg3 ansi-bold">x</span><span class="ansi-fg3">y</span>`},
		{"unclosed styles are closed", "\x1b[4mu", `<span class="ansi-underline">u</span>`},
		{"256 colours", "\x1b[38;5;196mr\x1b[m", `<span style="color:rgb(255,0,0)">r</span>`},
		{"256 colours below 16 are the palette", "\x1b[38;5;3my", `<span class="ansi-fg3">y</span>`},
		{"grey ramp", "\x1b[48;5;232mg", `<span style="background-color:rgb(8,8,8)">g</span>`},
		{"truecolour", "\x1b[38;2;1;2;3mt", `<span style="color:rgb(1,2,3)">t</span>`},
		{"bad truecolour is ignored", "\x1b[38;2;1;999;3mt", `t`},
		{"cursor movement is dropped", "a\x1b[2Kb\x1b[1Ac", "abc"},
		{"a cut-off sequence is dropped", "a\x1b[3", "a"},
		{"a lone escape is dropped", "a\x1bZb", "ab"},
		{"an escape at the end", "a\x1b", "a"},
		{"escaped text inside a span", "\x1b[36m<tag>\x1b[0m", `<span class="ansi-fg6">&lt;tag&gt;</span>`},
	} {
		if got := string(ANSI(c.in)); got != c.want {
			t.Errorf("%s: ANSI(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}
