package bench

import (
	"context"
	"testing"

	"github.com/aonode/aonode/node/cu"
)

// TestHarness runs the cold-start benchmark's path on a small process (so CI keeps the benchmarks honest):
// the state a CU starts from the snapshot is the state a full replay reaches.
func TestHarness(t *testing.T) {
	ctx := context.Background()
	sched := newSynth(t)
	pid := sched.add("harness", 2001, 500) // 500 keys overwritten in turn
	dir := t.TempDir()
	build, db := newCU(t, dir, sched, cu.SnapshotOptions{Messages: 1 << 62})
	if _, err := build.Load(ctx, pid); err != nil {
		t.Fatal(err)
	}
	build.SnapshotAll(ctx)
	checkSet(t, db, pid, 2001)
	db.Close()
	states := map[string]string{}
	for how, o := range map[string]cu.SnapshotOptions{"replay": noSnapshots, "snapshot": {Messages: 1 << 62}} {
		c, db := newCU(t, dir, sched, o)
		st, nonce, _, _, err := c.State(ctx, pid)
		if err != nil || nonce != 2001 {
			t.Fatalf("%s: %d %v", how, nonce, err)
		}
		if got := c.Stats(); (how == "snapshot") != (got.SnapshotRestores == 1) || how == "snapshot" && got.Evaluated != 0 {
			t.Fatalf("%s: %+v", how, got)
		}
		states[how] = string(st)
		db.Close()
	}
	if states["replay"] != states["snapshot"] {
		t.Fatal("the snapshot-started state differs from the replayed one")
	}
}
