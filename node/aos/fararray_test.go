package aos

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/aonode/aonode/internal/luavm"
)

// TestFarKeyGrowsTheArrayOnce: an assignment far past the end of an array part grows it in one allocation
// of the size it needs (gopher-lua alone doubles its way there, leaving up to twice the room and every
// smaller array as garbage), with the same charge and the same result.
func TestFarKeyGrowsTheArrayOnce(t *testing.T) {
	cases := []struct {
		name, code string
		want       string
		wantCap    int
	}{
		{"a far key", "Far = {} Far[1] = 1 Far[200000] = 2 return #Far .. ' ' .. tostring(Far[199999])", "200000 nil", 200_000},
		{"rawset", "Far = {1, 2, 3} rawset(Far, 50000, 'x') return #Far", "50000", -1},
		{"a near key keeps gopher-lua's growth", "Far = {} for i = 1, 100 do Far[i] = i end return #Far", "100", -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := lpBoot(t, Options{})
			r := p.mustEval(c.code)
			if r.Output.Data != c.want {
				t.Fatalf("output %q, want %q", r.Output.Data, c.want)
			}
			a := luavm.TableArray(p.L.GetGlobal("Far").(*lua.LTable))
			if c.wantCap > 0 && cap(a) != c.wantCap {
				t.Fatalf("array part: len %d cap %d, want cap %d", len(a), cap(a), c.wantCap)
			}
		})
	}
}
