package runtime

import (
	"strings"
	"testing"
)

// fake is a runtime that runs nothing: Resolve only reads versions and limits.
type fake struct{ v Version }

func (f fake) Version() Version                  { return f.v }
func (f fake) Stamp() Stamp                      { return Stamp{Runtime: f.v.Name, Digest: f.v.Digest} }
func (f fake) Source() []byte                    { return nil }
func (f fake) DefaultLimits() Limits             { return Limits{Compute: 1000, Memory: 1 << 20} }
func (f fake) New(Env, Limits) (Instance, error) { return nil, nil }

func TestResolve(t *testing.T) {
	cur := fake{Version{Format: "aos-lua", Name: "aos-lua/2", Digest: "d2"}}
	old := fake{Version{Format: "aos-lua", Name: "aos-lua/1", Digest: "d1"}}
	set, err := NewSet(cur, old)
	if err != nil {
		t.Fatal(err)
	}
	tags := func(kv ...string) []Tag {
		var out []Tag
		for i := 0; i < len(kv); i += 2 {
			out = append(out, Tag{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	pin := func(name, digest string, more ...string) []Tag {
		return tags(append([]string{TagFormat, "aos-lua", TagVersion, name, TagDigest, digest}, more...)...)
	}
	caps := Limits{Compute: 5000, Memory: 4 << 20}
	for _, c := range []struct {
		name   string
		tags   []Tag
		want   string // runtime name, or the refusal's words
		limits Limits
	}{
		{"current", pin("aos-lua/2", "d2"), "aos-lua/2", Limits{1000, 1 << 20}},
		{"kept earlier release", pin("aos-lua/1", "d1"), "aos-lua/1", Limits{1000, 1 << 20}},
		{"limits from the module", pin("aos-lua/2", "d2", TagComputeLimit, "4000", TagMemoryLimit, "2-mb"), "aos-lua/2", Limits{4000, 2 << 20}},
		{"memory in bytes", pin("aos-lua/2", "d2", TagMemoryLimit, "4096"), "aos-lua/2", Limits{1000, 4096}},
		{"another format", tags(TagFormat, "wasm64-unknown-emscripten-draft_2024_02_15"), `has Module-Format "wasm64-unknown-emscripten-draft_2024_02_15"`, Limits{}},
		{"no format", pin("aos-lua/2", "d2")[1:], "names no Module-Format", Limits{}},
		{"no version", tags(TagFormat, "aos-lua", TagDigest, "d2"), "names no Runtime-Version", Limits{}},
		{"two versions", append(pin("aos-lua/2", "d2"), Tag{Name: TagVersion, Value: "aos-lua/1"}), "has 2 Runtime-Version tags; a module names exactly one", Limits{}},
		{"no digest", tags(TagFormat, "aos-lua", TagVersion, "aos-lua/2"), "names no Runtime-Digest", Limits{}},
		{"unknown version", pin("aos-lua/0", "d0"), "names runtime aos-lua/0, which this CU does not have", Limits{}},
		{"another build", pin("aos-lua/2", "dX"), "names runtime aos-lua/2 with digest dX, but this CU's aos-lua/2 has digest d2", Limits{}},
		{"compute above the cap", pin("aos-lua/2", "d2", TagComputeLimit, "5001"), "asks Compute-Limit 5001, more than the 5000", Limits{}},
		{"memory above the cap", pin("aos-lua/2", "d2", TagMemoryLimit, "1-gb"), "asks Memory-Limit 1-gb, more than the 4-mb", Limits{}},
		{"bad compute", pin("aos-lua/2", "d2", TagComputeLimit, "lots"), `has Compute-Limit "lots"`, Limits{}},
		{"bad memory unit", pin("aos-lua/2", "d2", TagMemoryLimit, "1-pb"), `unknown unit "pb"`, Limits{}},
		{"two compute limits", pin("aos-lua/2", "d2", TagComputeLimit, "1", TagComputeLimit, "2"), "has 2 Compute-Limit tags", Limits{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt, lim, err := set.Resolve("MOD", c.tags, caps)
			if c.limits == (Limits{}) {
				if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "module MOD ") ||
					!strings.Contains(err.Error(), "this CU runs aos-lua/2 (digest d2), aos-lua/1 (digest d1)") {
					t.Fatalf("error %v, want a refusal naming the module, %q and the runtimes", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rt.Version().Name != c.want || lim != c.limits {
				t.Fatalf("got %s %+v, want %s %+v", rt.Version().Name, lim, c.want, c.limits)
			}
		})
	}
	// A zero cap is the runtime's default.
	if _, _, err := set.Resolve("MOD", pin("aos-lua/2", "d2", TagComputeLimit, "1001"), Limits{}); err == nil {
		t.Fatal("a module above the default limit accepted by a CU without caps")
	}
}

func TestNewSet(t *testing.T) {
	a := fake{Version{Format: "aos-lua", Name: "aos-lua/1", Digest: "d1"}}
	if _, err := NewSet(); err == nil {
		t.Error("an empty set")
	}
	if _, err := NewSet(a, a); err == nil {
		t.Error("one version twice")
	}
	if _, err := NewSet(fake{Version{Name: "x"}}); err == nil {
		t.Error("an incomplete version")
	}
}

func TestMemorySizes(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int64
		text string
	}{{"1-gb", 1 << 30, "1-gb"}, {"512-MB", 512 << 20, "512-mb"}, {"1536-kb", 1536 << 10, "1536-kb"}, {"100", 100, "100-b"}, {"2-tb", 2 << 40, "2-tb"}} {
		n, err := ParseMemory(c.in)
		if err != nil || n != c.n {
			t.Errorf("ParseMemory(%q) = %d, %v", c.in, n, err)
		}
		if got := FormatMemory(n); got != c.text {
			t.Errorf("FormatMemory(%d) = %q, want %q", n, got, c.text)
		}
		if back, _ := ParseMemory(FormatMemory(n)); back != n {
			t.Errorf("FormatMemory(%d) reads back as %d", n, back)
		}
	}
	for _, bad := range []string{"", "-1", "0-gb", "1-xb", "x-gb", "9999999999999-tb"} {
		if _, err := ParseMemory(bad); err == nil {
			t.Errorf("ParseMemory(%q) accepted", bad)
		}
	}
}

func TestStampDiffers(t *testing.T) {
	s := Stamp{"a", "b", "c", "d"}
	for _, c := range []struct {
		alt  Stamp
		want string
	}{{Stamp{"x", "b", "c", "d"}, "runtime"}, {Stamp{"a", "x", "c", "d"}, "runtime digest"}, {Stamp{"a", "b", "x", "d"}, "gopher-lua"}, {Stamp{"a", "b", "c", "x"}, "bytecode format"}} {
		if d := c.alt.Differs(s); !strings.HasPrefix(d, c.want+" ") {
			t.Errorf("Differs %q, want it to name the %s", d, c.want)
		}
	}
	if s.Differs(s) != "" {
		t.Error("a stamp differs from itself")
	}
}
