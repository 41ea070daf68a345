package strlib

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/node/aos/lua53"
)

// The golden test: testdata/cases.txt holds Lua expressions; testdata/golden.txt holds what real Lua
// 5.3.6 gives for each (made by testdata/golden.lua under lua5.3, see -update); the test evaluates each
// expression with this package on gopher-lua and compares.

var update = flag.Bool("update", false, "regenerate testdata/golden.txt with lua5.3")

// helpersLua is the helper golden.lua defines for the cases, in Lua that both dialects run.
const helpersLua = `function all(it)
  local r = {}
  while true do
    local t = {it()}
    if t[1] == nil then break end
    r[#r + 1] = t
  end
  return r
end`

// newTestState is a gopher-lua state with the library installed (and 5.3's tonumber, and math.type
// and friends from lua53), counting charges.
func newTestState(t testing.TB, charged *int64) *lua.LState {
	t.Helper()
	L := lua.NewState()
	lua53.Open(L)
	h := Hooks{Charge: func(L *lua.LState, n int64) {
		if charged != nil {
			*charged += n
		}
	}}
	Open(L, h)
	L.SetGlobal("tonumber", L.NewFunction(Tonumber(h)))
	if err := L.DoString(helpersLua); err != nil {
		t.Fatal(err)
	}
	return L
}

// position is the "chunk:line: " prefix of an error message.
var position = regexp.MustCompile(`^[^\n]*?:\d+: `)

// serialize writes values as golden.lua's ser does.
func serialize(v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return quote(string(x))
	case lua.LNumber:
		f := float64(x)
		switch {
		case math.IsNaN(f):
			return "nan"
		case math.IsInf(f, 1):
			return "inf"
		case math.IsInf(f, -1):
			return "-inf"
		case f == math.Floor(f) && f >= -two63 && f < two63:
			return strconv.FormatInt(int64(f), 10)
		}
		return strconv.FormatFloat(f, 'e', 16, 64)
	case *lua.LTable:
		parts := []string{}
		for i := 1; i <= x.Len(); i++ {
			parts = append(parts, serialize(x.RawGetInt(i)))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *lua.LNilType:
		return "nil"
	case lua.LBool:
		return strconv.FormatBool(bool(x))
	}
	return v.Type().String()
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 32 || c > 126 || c == '"' || c == '\\' {
			fmt.Fprintf(&b, "\\%03d", c)
		} else {
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// evalCase runs one expression list and returns its result as golden.lua writes it.
func evalCase(t testing.TB, L *lua.LState, expr string) string {
	code, err := lua53.Translate("return "+expr, "case")
	if err != nil {
		return "compile error: " + err.Error()
	}
	fn, err := L.LoadString(code)
	if err != nil {
		return "compile error: " + err.Error()
	}
	top := L.GetTop()
	L.Push(fn)
	if err := L.PCall(0, lua.MultRet, nil); err != nil {
		msg := err.Error()
		if ae, ok := err.(*lua.ApiError); ok {
			msg = lua.LVAsString(ae.Object)
		}
		return "err " + quote(position.ReplaceAllString(msg, ""))
	}
	parts := []string{}
	for i := top + 1; i <= L.GetTop(); i++ {
		parts = append(parts, serialize(L.Get(i)))
	}
	L.SetTop(top)
	return "ok " + strings.Join(parts, ", ")
}

func TestGolden(t *testing.T) {
	if *update {
		regenerate(t)
	}
	data, err := os.ReadFile("testdata/golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	L := newTestState(t, nil)
	defer L.Close()
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		expr, want, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("bad golden line %q", sc.Text())
		}
		n++
		if got := evalCase(t, L, expr); got != want {
			t.Errorf("%s\n got: %s\nwant: %s", expr, got, want)
		}
	}
	if n < 500 {
		t.Fatalf("only %d golden cases", n)
	}
}

// regenerate runs testdata/golden.lua under lua5.3 over testdata/cases.txt.
func regenerate(t *testing.T) {
	cases, err := os.Open("testdata/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer cases.Close()
	cmd := exec.Command("lua5.3", "testdata/golden.lua")
	cmd.Stdin = cases
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("lua5.3 testdata/golden.lua: %v", err)
	}
	if err := os.WriteFile("testdata/golden.txt", out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
