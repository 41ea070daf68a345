// Package gcpolicy sets the Go garbage collector's policy for a node process.
//
// A node's heap is mostly the state of the processes it keeps warm, and a hostile or merely busy process
// allocates fast (a string rebuilt in a loop, an array filled to a far key). With Go's default GOGC=100
// the collector then runs almost without pause, and every other request pays for it in mark assists: in
// six runs of node's TestHostileProcesses on 2 cores, the worst dry-run of the neighbour process while
// another was attacked was 38-124 ms at GOGC=100, 16-53 ms at 200. A larger GOGC spaces the cycles out;
// a soft memory limit at a share of the machine's (or container's) memory makes the collector work harder
// only when memory runs short, so the larger GOGC does not take the node out of memory where the default
// would not have.
package gcpolicy

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// Percent is the GOGC the node runs with unless the GOGC environment variable says otherwise.
const Percent = 200

// Ratio is the share of the container's memory limit (or, without one, of the machine's memory) the soft
// memory limit is set to, unless GOMEMLIMIT (or automemlimit's AUTOMEMLIMIT) says otherwise.
const Ratio = 0.9

// Apply sets the policy for this process, leaving alone what the GOGC and GOMEMLIMIT environment variables
// set, and logs what it chose.
func Apply(log *slog.Logger) {
	gogc := os.Getenv("GOGC")
	if gogc == "" {
		debug.SetGCPercent(Percent)
		gogc = strconv.Itoa(Percent)
	}
	limit, err := memlimit.Set(
		memlimit.WithProvider(memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)),
		memlimit.WithRatio(Ratio),
		memlimit.WithLogger(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		log.Warn("no soft memory limit: the machine's memory is unknown", "err", err)
	}
	log.Debug("garbage collector", "gogc", gogc, "memory_limit", limit)
}
