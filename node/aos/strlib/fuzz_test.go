package strlib

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// fuzzBudget is the instructions one call may charge before the fuzz hook stops it.
const fuzzBudget = 20_000

var errBudget = errors.New("fuzz budget spent")

// fuzzState is a state whose Charge hook stops a call past fuzzBudget.
type fuzzState struct {
	L       *lua.LState
	charged int64
	str     *lua.LTable
}

func newFuzzState() *fuzzState {
	fs := &fuzzState{L: lua.NewState()}
	Open(fs.L, Hooks{Charge: func(L *lua.LState, n int64) {
		fs.charged += n
		if fs.charged > fuzzBudget {
			L.RaiseError("%s", errBudget.Error())
		}
	}})
	fs.str = fs.L.GetGlobal("string").(*lua.LTable)
	return fs
}

// call runs string.<name>(args...) and returns its results, or its error message; it fails the test
// on a Go panic inside the library (gopher-lua turns those into ApiErrorPanic) and on work charged
// past the budget by more than one chunk.
func (fs *fuzzState) call(t *testing.T, name string, args ...lua.LValue) ([]lua.LValue, string) {
	t.Helper()
	L := fs.L
	fs.charged = 0
	top := L.GetTop()
	err := L.CallByParam(lua.P{Fn: fs.str.RawGetString(name), NRet: lua.MultRet, Protect: true}, args...)
	if fs.charged > fuzzBudget+chunkSteps/stepsPerInstr+1 {
		t.Fatalf("%s charged %d past the budget", name, fs.charged)
	}
	if err != nil {
		var ae *lua.ApiError
		if !errors.As(err, &ae) || ae.Type == lua.ApiErrorPanic {
			t.Fatalf("%s%q: Go panic: %v", name, args, err)
		}
		L.SetTop(top)
		return nil, lua.LVAsString(ae.Object)
	}
	res := make([]lua.LValue, 0, L.GetTop()-top)
	for i := top + 1; i <= L.GetTop(); i++ {
		res = append(res, L.Get(i))
	}
	L.SetTop(top)
	return res, ""
}

// FuzzPattern runs find, match, gmatch and gsub on arbitrary subjects and patterns and checks them
// against each other: no Go panic, the work stays within the budget (every call stops where its
// charges say), a bounded Go stack (the fuzz binary's stack limit is lowered, so unbounded recursion
// crashes it), and consistent results: match returns find's captures, gsub with "%0" gives the subject
// back, and gsub counts the matches gmatch iterates over.
func FuzzPattern(f *testing.F) {
	for _, seed := range []struct {
		s, p string
		init int64
	}{
		{strings.Repeat("a", 40), strings.Repeat("a*", 25) + "b", 1},
		{strings.Repeat("a", 30), strings.Repeat("(a*)", 20) + "b", 1},
		{strings.Repeat("a", 300), strings.Repeat("a?", 300), 1},
		{strings.Repeat("a", 300), strings.Repeat("a-", 199) + "$", 1},
		{"a", strings.Repeat("(", 1000) + "a" + strings.Repeat(")", 1000), 1},
		{"f(a(b)c)d((", "%b()", 1},
		{"THE (quick) fox", "%f[%a]%a+", -5},
		{"hello world", "(o)(r)()", 0},
		{"abab", "(ab)%1", 2},
		{"key = value", "^(%w+)%s*=%s*(%w+)$", 1},
		{"x", "[%", 1},
		{"x", "[^]x]", 1},
		{"x", "%", 1},
		{"x", "(()", 1},
		{"x", "%f", 1},
		{"x", "%b", 1},
		{"\x00\xff", "[\x00-\xff]+", 1},
		{"aaa", "a-", 10},
		{"", "", 1},
		{"a.b", "[.%a]+", -1},
		{"aaa", "()a()%2", 1},
		{"aa", "(a)%0", 1},
	} {
		f.Add(seed.s, seed.p, seed.init, "<%0>")
	}
	prev := debug.SetMaxStack(64 << 20)
	defer debug.SetMaxStack(prev)
	f.Fuzz(func(t *testing.T, s, p string, init int64, repl string) {
		if len(s) > 1000 || len(p) > 1000 || len(repl) > 100 {
			return
		}
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(30 * time.Second): // ms of work at most: the budget did not stop it
				panic(fmt.Sprintf("no end: %q %q %d %q", s, p, init, repl))
			}
		}()
		fs := newFuzzState()
		defer fs.L.Close()
		ls, lp := lua.LString(s), lua.LString(p)
		found, ferr := fs.call(t, "find", ls, lp, lua.LNumber(init))
		matched, merr := fs.call(t, "match", ls, lp, lua.LNumber(init))
		if ferr == "" && merr == "" && len(found) >= 2 {
			start, end := int(found[0].(lua.LNumber)), int(found[1].(lua.LNumber))
			want := found[2:]
			if len(want) == 0 {
				want = []lua.LValue{lua.LString(s[start-1 : end])}
			}
			if len(want) != len(matched) {
				t.Fatalf("find%q -> %v, match -> %v", []string{s, p}, found, matched)
			}
			for i := range want {
				if want[i] != matched[i] {
					t.Fatalf("find%q -> %v, match -> %v", []string{s, p}, found, matched)
				}
			}
		}
		if ferr == "" && merr == "" && (len(found) == 1) != (len(matched) == 1 && matched[0] == lua.LNil) {
			t.Fatalf("find%q -> %v, match -> %v", []string{s, p}, found, matched)
		}
		same, serr := fs.call(t, "gsub", ls, lp, lua.LString("%0"))
		if serr == "" && same[0] != ls {
			t.Fatalf("gsub(%q, %q, '%%0') = %q", s, p, same[0])
		}
		fs.call(t, "gsub", ls, lp, lua.LString(repl))
		if serr == "" && !strings.HasPrefix(p, "^") {
			res, err := fs.call(t, "gmatch", ls, lp)
			if err != "" {
				t.Fatalf("gmatch: %s", err)
			}
			n, complete := 0, false
			fs.charged = 0 // one budget for the whole iteration
			for ; n < 10000; n++ {
				top := fs.L.GetTop()
				if err := fs.L.CallByParam(lua.P{Fn: res[0], NRet: 1, Protect: true}); err != nil {
					var ae *lua.ApiError
					if !errors.As(err, &ae) || ae.Type == lua.ApiErrorPanic {
						t.Fatalf("gmatch(%q, %q): Go panic: %v", s, p, err)
					}
					break // the budget
				}
				v := fs.L.Get(-1)
				fs.L.SetTop(top)
				if v == lua.LNil {
					complete = true
					break
				}
			}
			if complete && lua.LNumber(n) != same[1] {
				t.Fatalf("gsub(%q, %q) counts %v matches, gmatch %d", s, p, same[1], n)
			}
		}
		// The same call charges the same on a fresh state: the work is a function of the arguments.
		fs2 := newFuzzState()
		defer fs2.L.Close()
		fs2.call(t, "find", ls, lp, lua.LNumber(init))
		fs.call(t, "find", ls, lp, lua.LNumber(init))
		if fs.charged != fs2.charged {
			t.Fatalf("find%q charged %d then %d", []string{s, p}, fs.charged, fs2.charged)
		}
	})
}
