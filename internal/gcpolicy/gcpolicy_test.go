package gcpolicy

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	cases := []struct {
		name, gogc, gomemlimit string
		wantPercent            int
		wantLimit              func(int64) bool
	}{
		{"defaults", "", "", Percent, func(l int64) bool { return l > 0 && l < math.MaxInt64 }},
		// The runtime reads these variables itself at start; Apply only leaves them alone.
		{"the environment's GOGC and GOMEMLIMIT stand", "150", "1GiB", 100, func(l int64) bool { return l == math.MaxInt64 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			t.Setenv("GOGC", c.gogc)
			t.Setenv("GOMEMLIMIT", c.gomemlimit)
			Apply(slog.New(slog.DiscardHandler))
			if got := debug.SetGCPercent(100); got != c.wantPercent {
				t.Errorf("GOGC %d, want %d", got, c.wantPercent)
			}
			if got := debug.SetMemoryLimit(-1); !c.wantLimit(got) {
				t.Errorf("memory limit %d", got)
			}
		})
	}
}
