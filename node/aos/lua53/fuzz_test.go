package lua53

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	luaparse "github.com/yuin/gopher-lua/parse"
)

// luaLines counts line breaks the way Lua and gopher-lua do: "\r\n" and "\n\r" are one.
func luaLines(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\n' || c == '\r' {
			if i+1 < len(s) && (s[i+1] == '\n' || s[i+1] == '\r') && s[i+1] != c {
				i++
			}
			n++
		}
	}
	return n
}

func gopherParses(src string) error {
	_, err := luaparse.Parse(strings.NewReader(src), "fuzz")
	return err
}

// FuzzTranslate: Translate never panics; its errors are Lua-formatted; whatever it accepts comes out
// as source gopher-lua parses, with the same number of lines, and translating that output again changes
// nothing. In particular every input gopher-lua parses and Lua 5.3 accepts translates to source
// gopher-lua parses.
func FuzzTranslate(f *testing.F) {
	seeds := []string{
		"return 1 + 2 // 3 * 4", "x = a | b & c ~ d", "x = 1 << 2 + 1 >> ~y", "return - 2 ^ 2, 2 ^ 3 ^ 2",
		`return "a" .. 1 // 1`, "return not a == b", "x = \"\\u{48}\\u{20AC}\\x41\\z\n  b\"",
		"--[==[ c ]] ]==] x = [=[ ]] ]=]", "for i = 1, 3 do if i then goto continue end ::continue:: end",
		"f()\n(g)()", "while x do break; y() end", "x = 0xffffffffffffffff + 0x1p4 + 0010 + 1e999",
		"local function f(...) return ... end", "x = {1, [2] = 3; y = 4,}", "a.b:c\"s\"{1}[[x]]",
		"--[=x\nx\v=\f1", "repeat local x = 1 until x", "return", "x = f\n\"a\\z\n b\"",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	if files, err := filepath.Glob("../lua/*.lua"); err == nil {
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(string(b))
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		out, err := Translate(src, "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz:") {
				t.Fatalf("error not Lua-formatted: %q", err)
			}
			return
		}
		if luaLines(out) != luaLines(src) {
			t.Fatalf("line count %d -> %d\n--- in\n%q\n--- out\n%q", luaLines(src), luaLines(out), src, out)
		}
		if perr := gopherParses(out); perr != nil {
			t.Fatalf("output does not parse: %v\n--- in\n%q\n--- out\n%q", perr, src, out)
		}
		// The output is plain Lua 5.1, hence also 5.3 that needs no rewrite.
		if out2, err := Translate(out, "fuzz"); err != nil || out2 != out {
			t.Fatalf("translation not idempotent: %v\n--- out\n%q\n--- again\n%q", err, out, out2)
		}
	})
}
