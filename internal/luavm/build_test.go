package luavm

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The gopher-lua version is the one go.mod requires.
func TestModuleVersion(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`github.com/yuin/gopher-lua (v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod requires no gopher-lua")
	}
	if want := "github.com/yuin/gopher-lua@" + string(m[1]); ModuleVersion() != want {
		t.Errorf("ModuleVersion %q, want %q", ModuleVersion(), want)
	}
}

// The bytecode format is named and stable within a build.
func TestBytecodeFormat(t *testing.T) {
	f := BytecodeFormat()
	if !strings.HasPrefix(f, "gopher-lua-bytecode/1-") || strings.Contains(f, "unknown") || len(f) != len("gopher-lua-bytecode/1-")+12 {
		t.Fatalf("bytecode format %q", f)
	}
	if BytecodeFormat() != f {
		t.Fatal("bytecode format changed within a build")
	}
}
