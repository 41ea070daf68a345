package lua53

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// run translates src, runs it in a fresh state with Open, and returns what the chunk returned, or the
// Lua error message (without traceback).
func run(t *testing.T, src string) ([]lua.LValue, error) {
	t.Helper()
	out, err := Translate(src, "test")
	if err != nil {
		return nil, err
	}
	L := lua.NewState()
	defer L.Close()
	Open(L)
	fn, err := L.Load(strings.NewReader(out), "test")
	if err != nil {
		t.Fatalf("gopher-lua rejects the translation: %v\n--- source\n%s\n--- translation\n%s", err, src, out)
	}
	L.Push(fn)
	if err := L.PCall(0, lua.MultRet, nil); err != nil {
		var api *lua.ApiError
		if errors.As(err, &api) {
			return nil, errors.New(api.Object.String())
		}
		return nil, err
	}
	vals := make([]lua.LValue, L.GetTop())
	for i := range vals {
		vals[i] = L.Get(i + 1)
	}
	return vals, nil
}

// sameValue compares a Lua value with a Go expectation: nil, bool, string, int or float64 (NaN
// matches NaN).
func sameValue(got lua.LValue, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == lua.LNil
	case bool:
		return got == lua.LBool(w)
	case string:
		s, ok := got.(lua.LString)
		return ok && string(s) == w
	case int:
		n, ok := got.(lua.LNumber)
		return ok && float64(n) == float64(w)
	case float64:
		n, ok := got.(lua.LNumber)
		return ok && (float64(n) == w || math.IsNaN(w) && math.IsNaN(float64(n)))
	}
	panic(fmt.Sprintf("unsupported expectation %T", want))
}

func render(vals []lua.LValue) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		if s, ok := v.(lua.LString); ok {
			parts[i] = fmt.Sprintf("%q", string(s))
		} else {
			parts[i] = v.String()
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// valueCase is a chunk and the values Lua 5.3 returns for it (an integer-valued float is given as the
// number, since gopher-lua has one number type).
type valueCase struct {
	name string
	src  string
	want []any
}

func checkValues(t *testing.T, cases []valueCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := run(t, c.src)
			if err != nil {
				t.Fatalf("error: %v\n%s", err, c.src)
			}
			ok := len(got) == len(c.want)
			for i := 0; ok && i < len(got); i++ {
				ok = sameValue(got[i], c.want[i])
			}
			if !ok {
				t.Fatalf("got %s, want %v\n%s", render(got), c.want, c.src)
			}
		})
	}
}

// errorCase is a chunk that must fail at run time with a message containing want.
type errorCase struct {
	name, src, want string
}

func checkErrors(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := run(t, c.src)
			if err == nil {
				t.Fatalf("no error, got %s\n%s", render(got), c.src)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

var inf = math.Inf(1)
