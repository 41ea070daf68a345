package aos

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Recorded Evals: testdata/wasmevals/<name>.json are what the real AOS process answered to the Lua sources
// in <name>.in.json, run in order in one process by scripts/golden/evals.mjs (see scripts/golden/README.md).
// TestWasmEvals runs the same sources in the same order in a process spawned the same way (wasmProcess)
// and compares each Output.data, or, for an Eval that failed there, the Error.

type wasmEval struct {
	Code  string  `json:"code"`
	Data  *string `json:"data"`
	Error *string `json:"error"`
}

func TestWasmEvals(t *testing.T) {
	files, err := filepath.Glob("testdata/wasmevals/*.in.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded Evals: %v", err)
	}
	for _, in := range files {
		name := strings.TrimSuffix(filepath.Base(in), ".in.json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata/wasmevals", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var evals []wasmEval
			if err := json.Unmarshal(raw, &evals); err != nil {
				t.Fatal(err)
			}
			var sources []string
			if raw, err := os.ReadFile(in); err != nil || json.Unmarshal(raw, &sources) != nil || len(sources) != len(evals) {
				t.Fatalf("%s and its recording do not match: regenerate the recording", in)
			}
			p, eval := wasmProcess(t)
			for i, e := range evals {
				if e.Code != sources[i] {
					t.Fatalf("Eval %d changed since it was recorded: regenerate the recording", i)
				}
				r := p.Handle(eval(e.Code))
				got, want := r.Output.Data, ""
				switch {
				case e.Error != nil:
					got, want = r.Error, *e.Error
				case e.Data != nil:
					want = *e.Data
					if r.Error != "" {
						got = "error: " + r.Error
					}
				}
				if got != want {
					t.Errorf("Eval %d: %s\n  aonode: %q\n  wasm:   %q", i, e.Code, got, want)
				}
			}
		})
	}
}
