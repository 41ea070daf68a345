package luaclone

import (
	"errors"
	"strings"
	"testing"

	"github.com/aonode/aonode/internal/luavm"
)

// A Go function made at run time, with no counterpart in the fresh state, is made again only from its
// registered name: with a registry that does not name it, the state is not cloneable.
func TestRuntimeGoFunctionNeedsRegistration(t *testing.T) {
	src := mustProc(t, "", `c100 = mkgofunc(); c100()`)
	if _, err := tryClone(src, "", Options{Builtins: luavm.NewBuiltins()}); !errors.Is(err, ErrNotCloneable) ||
		!strings.Contains(err.Error(), "goCounter") {
		t.Fatalf("clone without the registration: %v", err)
	}
	dst := cloneProc(t, src, "")
	if got := eval(t, dst.L, `c100()`); got != "102" {
		t.Fatalf("c100() = %s", got)
	}
}
