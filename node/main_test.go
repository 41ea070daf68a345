package node

import (
	"log/slog"
	"os"
	"testing"

	"github.com/aonode/aonode/internal/gcpolicy"
)

// TestMain runs the nodes of these tests with the garbage collector's policy the aonode binary sets: the
// latency TestHostileProcesses measures depends on it.
func TestMain(m *testing.M) {
	gcpolicy.Apply(slog.Default())
	os.Exit(m.Run())
}
