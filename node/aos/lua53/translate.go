// Package lua53 lets Lua 5.3 code run on gopher-lua (a Lua 5.1 VM with float64 numbers).
//
// Translate rewrites 5.3 source into 5.1 source, turning the operators 5.1 lacks (//, &, |, ~, <<, >>,
// unary ~) into calls to helpers in the global table __lua53, and literals gopher-lua reads differently
// (\x, \z and \u{} escapes, hex floats, hex integers that wrap) into equivalent ones. Every token keeps
// its source line, so error positions and tracebacks point at the user's code. Open installs the
// helpers and the 5.3 library additions (math.type and friends, utf8, string.pack, table.move).
//
// Numbers stay float64: see README.md in this directory for every remaining difference from Lua 5.3.
package lua53

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Translate converts Lua 5.3 source to Lua 5.1 source that gopher-lua compiles to the same behaviour
// (given Open). Source that needs no change is returned as is. Syntax errors are reported like Lua
// does: "<chunkName>:<line>: <message> near '<token>'".
func Translate(src, chunkName string) (string, error) {
	lx := newLexer(src, chunkName)
	ed := &editor{lx: lx, edits: map[int]*tokEdit{}}
	if err := parse(lx, chunkName, ed); err != nil {
		return "", err
	}
	if !lx.changed && len(ed.edits) == 0 {
		return src, nil
	}
	return ed.String(), nil
}

// Load translates src and compiles it in L under chunkName; the state needs Open before the result
// runs.
func Load(L *lua.LState, src, chunkName string) (*lua.LFunction, error) {
	out, err := Translate(src, chunkName)
	if err != nil {
		return nil, err
	}
	return L.Load(strings.NewReader(out), chunkName)
}
