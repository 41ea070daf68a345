package aos

import (
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

// goAddress is what a Go heap address looks like in gopher-lua's own tostring.
var goAddress = regexp.MustCompile(`0x[0-9a-f]{9,}`)

// TestHostile runs every attack in two independent VMs and in a dry-run copy of a third: each must end
// the same way everywhere, as the attack's entry says, and never with a Go runtime error.
func TestHostile(t *testing.T) {
	opts := Options{ComputeLimit: 20_000_000}
	for _, a := range loadHostile(t) {
		t.Run(a.Name, func(t *testing.T) {
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
					t.Fatalf("run %d differs:\n  %q %q gas %d\nvs %q %q gas %d", i+2, o.Error, o.Output.Data, o.GasUsed, r.Error, r.Output.Data, r.GasUsed)
				}
			}
			for _, bad := range []string{"runtime error", "goroutine", "nil pointer", "index out of range"} {
				if strings.Contains(r.Error, bad) || strings.Contains(r.Output.Data, bad) {
					t.Fatalf("a Go failure reached the process: %q %q", r.Error, r.Output.Data)
				}
			}
			if goAddress.MatchString(r.Error + r.Output.Data) {
				t.Fatalf("a heap address reached the process: %q %q", r.Error, r.Output.Data)
			}
			switch {
			case a.Error != "":
				if !strings.Contains(r.Error, a.Error) {
					t.Fatalf("Error %q, want it to contain %q (output %q)", r.Error, a.Error, r.Output.Data)
				}
			case a.Output != nil:
				if r.Error != "" || r.Output.Data != *a.Output {
					t.Fatalf("got Error %q Output %q, want Output %q", r.Error, r.Output.Data, *a.Output)
				}
			case a.OutputContains != "":
				if r.Error != "" || !strings.Contains(r.Output.Data, a.OutputContains) {
					t.Fatalf("got Error %q Output %q, want Output containing %q", r.Error, r.Output.Data, a.OutputContains)
				}
			case !a.SameEverywhere:
				t.Fatal("the attack expects nothing")
			}
		})
	}
}
