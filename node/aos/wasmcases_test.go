package aos

import (
	"strconv"
	"strings"
	"testing"
)

// Cases whose expected values were recorded from the real AOS process (aos 2.0.0's process.wasm, run by
// @permaweb/ao-loader 0.0.49 with the same Eval sources, one process per case list, in order): the
// behaviour aonode must reproduce. wasmProcess builds the process and its messages as that driver did. An
// Eval's Output.data is compared; "error: " starts the expectation of an Eval that fails, and the rest must
// be in its Error; "has: " starts text the Output.data must contain (an error message whose wording and
// position, Lua 5.3's, are the error texts' business, not the library's).

type wasmCase struct{ code, want string }

// wasmProcess is a process spawned as the driver spawned its: Id AOS_PROCESS, owner OWNER_WALLET, module
// AOS_MODULE, the spawn at Block-Height 1000; it returns the process and a function making its n-th Eval.
func wasmProcess(t *testing.T) (*Process, func(code string) Message) {
	t.Helper()
	const (
		id, own, mod = "AOS_PROCESS", "OWNER_WALLET", "AOS_MODULE"
	)
	tags := []Tag{{"Data-Protocol", "ao"}, {"Variant", "ao.TN.1"}, {"Type", "Process"}, {"Module", mod}, {"Scheduler", "SCHEDULER_WALLET"}}
	env := Env{Process: ProcessInfo{Id: id, Owner: own, Tags: tags},
		Module: ModuleInfo{Id: mod, Owner: own, Tags: []Tag{{"Data-Protocol", "ao"}, {"Type", "Module"}}}}
	p, err := New(env, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	n := 0
	mk := func(msgID, data string, tags []Tag) Message {
		m := Message{Id: msgID, Owner: own, From: own, Target: id, Data: data, Tags: tags, BlockHeight: int64(1000 + n),
			Timestamp: int64(1700000000000 + 1000*n), Nonce: int64(n), HashChain: "HASH_CHAIN_" + strconv.Itoa(n)}
		n++
		return m
	}
	if r := p.Handle(mk(id, "", tags)); r.Error != "" {
		t.Fatalf("spawn: %s", r.Error)
	}
	return p, func(code string) Message { return mk("MSG_"+strconv.Itoa(n), code, []Tag{{"Action", "Eval"}}) }
}

// runWasmCases evaluates the cases in order in one such process (later cases may depend on earlier ones,
// as they did in the wasm).
func runWasmCases(t *testing.T, cases []wasmCase) {
	t.Helper()
	p, eval := wasmProcess(t)
	for _, c := range cases {
		r := p.Handle(eval(c.code))
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
