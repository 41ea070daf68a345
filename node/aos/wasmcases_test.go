package aos

import (
	"strings"
	"testing"
)

// Cases whose expected values were recorded from the real AOS process (aos 2.0.0's process.wasm, run by
// @permaweb/ao-loader 0.0.49 with the same Eval sources, one process per case list, in order): the
// behaviour aonode must reproduce. An Eval's Output.data is compared; "error: " starts the expectation of
// an Eval that fails, and the rest must be in its Error; "has: " starts text the Output.data must contain
// (an error message whose wording and position, Lua 5.3's, are the error texts' business, not the
// library's).

type wasmCase struct{ code, want string }

// runWasmCases evaluates the cases in order in one freshly spawned process (later cases may depend on
// earlier ones, as they did in the wasm).
func runWasmCases(t *testing.T, cases []wasmCase) {
	t.Helper()
	p := boot(t)
	for _, c := range cases {
		r := p.Handle(msg(owner, c.code, Tag{"Action", "Eval"}))
		if want, ok := strings.CutPrefix(c.want, "error: "); ok {
			if r.Error == "" || !strings.Contains(r.Error, want) {
				t.Errorf("%s\n  error %q\n  want an error with %q", c.code, r.Error, want)
			}
			continue
		}
		if r.Error != "" {
			t.Errorf("%s\n  error %q\n  want %q", c.code, r.Error, c.want)
			continue
		}
		if want, ok := strings.CutPrefix(c.want, "has: "); ok {
			if !strings.Contains(r.Output.Data, want) {
				t.Errorf("%s\n  = %q\n  want it to contain %q", c.code, r.Output.Data, want)
			}
			continue
		}
		if r.Output.Data != c.want {
			t.Errorf("%s\n  = %q\n  want %q", c.code, r.Output.Data, c.want)
		}
	}
}
