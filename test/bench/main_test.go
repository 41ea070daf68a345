package bench

import (
	"log/slog"
	"os"
	"testing"

	"github.com/aonode/aonode/internal/gcpolicy"
)

// TestMain measures the node with the garbage collector's policy the aonode binary runs with.
func TestMain(m *testing.M) {
	gcpolicy.Apply(slog.Default())
	os.Exit(m.Run())
}
