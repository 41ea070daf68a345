package aos

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// hostileAttack is one entry of testdata/hostile.yaml.
type hostileAttack struct {
	Name           string  `yaml:"name"`
	Code           string  `yaml:"code"`
	Error          string  `yaml:"error"`
	Output         *string `yaml:"output"`
	OutputContains string  `yaml:"output_contains"`
	SameEverywhere bool    `yaml:"same_everywhere"`
	HostFile       string  `yaml:"host_file"`
	ComputeLimit   int64   `yaml:"compute_limit"`
	MemoryLimit    int64   `yaml:"memory_limit"`
}

func loadHostile(t *testing.T) []hostileAttack {
	t.Helper()
	raw, err := os.ReadFile("testdata/hostile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var attacks []hostileAttack
	if err := yaml.Unmarshal(raw, &attacks); err != nil {
		t.Fatal(err)
	}
	return attacks
}

// short cuts long texts for failure messages.
func short(s string) string {
	if len(s) > 300 {
		return fmt.Sprintf("%q... (%d bytes)", s[:300], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// goAddress is what a Go heap address looks like in gopher-lua's own tostring.
var goAddress = regexp.MustCompile(`0x[0-9a-f]{9,}`)

// TestHostile runs every attack in two independent VMs and in a dry-run copy of a third: each must end
// the same way everywhere, as the attack's entry says, and never with a Go runtime error.
func TestHostile(t *testing.T) {
	for _, a := range loadHostile(t) {
		t.Run(a.Name, func(t *testing.T) {
			opts := Options{ComputeLimit: 20_000_000, MemoryLimit: a.MemoryLimit}
			if a.ComputeLimit != 0 {
				opts.ComputeLimit = a.ComputeLimit
			}
			if a.HostFile != "" {
				// The file a host-reading require would find.
				if err := os.WriteFile(a.HostFile, []byte("return 'read from the host'"), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Remove(a.HostFile) })
			}
			var got []Result
			for i := 0; i < 2; i++ {
				p := lpBoot(t, opts)
				got = append(got, p.eval(a.Code))
			}
			p := lpBoot(t, opts)
			f, err := p.Fork()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p.Process = f
			got = append(got, p.eval(a.Code))
			r := got[0]
			for i, o := range got[1:] {
				if o.Error != r.Error || o.Output.Data != r.Output.Data || o.GasUsed != r.GasUsed {
					t.Fatalf("run %d differs:\n  %s %s gas %d\nvs %s %s gas %d", i+2, short(o.Error), short(o.Output.Data), o.GasUsed, short(r.Error), short(r.Output.Data), r.GasUsed)
				}
			}
			for _, bad := range []string{"runtime error", "goroutine", "nil pointer", "index out of range"} {
				if strings.Contains(r.Error, bad) || strings.Contains(r.Output.Data, bad) {
					t.Fatalf("a Go failure reached the process: %s %s", short(r.Error), short(r.Output.Data))
				}
			}
			if goAddress.MatchString(r.Error + r.Output.Data) {
				t.Fatalf("a heap address reached the process: %s %s", short(r.Error), short(r.Output.Data))
			}
			switch {
			case a.Error != "":
				if !strings.Contains(r.Error, a.Error) {
					t.Fatalf("Error %s, want it to contain %q (output %s)", short(r.Error), a.Error, short(r.Output.Data))
				}
			case a.Output != nil:
				if r.Error != "" || r.Output.Data != *a.Output {
					t.Fatalf("got Error %s Output %s, want Output %q", short(r.Error), short(r.Output.Data), *a.Output)
				}
			case a.OutputContains != "":
				if r.Error != "" || !strings.Contains(r.Output.Data, a.OutputContains) {
					t.Fatalf("got Error %s Output %s, want Output containing %q", short(r.Error), short(r.Output.Data), a.OutputContains)
				}
			case !a.SameEverywhere:
				t.Fatal("the attack expects nothing")
			}
		})
	}
}
