package lua53

import "testing"

// The expected ids are what Lua 5.3.6 shows in an error raised by load("error('x')", source).
func TestChunkID(t *testing.T) {
	cases := []struct{ source, want string }{
		{"aos", "[string \"aos\"]"},
		{"=aos", "aos"},
		{"@file.lua", "file.lua"},
		{"return +", "[string \"return +\"]"},
		{"a\nb", "[string \"a...\"]"},
		{"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "[string \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]"},
		{"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "[string \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"]"},
		{"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", "[string \"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy...\"]"},
		{"=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"},
		{"=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"},
		{"@fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
		{"@ggggggggggggggggggggggggggggggggggggggggggggggggggggggggggEND", "...gggggggggggggggggggggggggggggggggggggggggggggggggggggEND"},
		{"@ggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggEND", "...gggggggggggggggggggggggggggggggggggggggggggggggggggggEND"},
		{"", "[string \"\"]"},
		{"\nabc", "[string \"...\"]"},
		{"=", ""},
		{"@", ""},
	}
	for _, c := range cases {
		if got := ChunkID(c.source); got != c.want {
			t.Errorf("ChunkID(%q) = %q, want %q", c.source, got, c.want)
		}
	}
}
