package cu

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The CU reaches processes only through node/runtime: none of its files imports the Lua VM, the AOS
// runtime's package or the packages that reach into a Lua state.
func TestCUNeverTouchesALuaState(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{"github.com/yuin/gopher-lua", "github.com/aonode/aonode/node/aos",
		"github.com/aonode/aonode/node/snapshot", "github.com/aonode/aonode/node/luaclone", "github.com/aonode/aonode/internal/luavm"}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range ast.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d files checked", checked)
	}
}
