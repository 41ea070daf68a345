package cu

import (
	"context"
	"testing"

	"github.com/aonode/aonode/node/progress"
)

func TestRebuildIsTrackedAndStatusReported(t *testing.T) {
	e := newEnv(t)
	e.cu.setSnapshots(SnapshotOptions{}) // no snapshots: a restart replays everything
	pid := e.spawnKV()
	e.sets(pid, 4)
	st, err := e.cu.Status(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.Nonce != 1 || !st.Loaded || st.SnapshotNonce != -1 || st.Checkpoint != nil {
		// Only the Eval was read; the Sets are scheduled but not evaluated.
		t.Fatalf("status before the restart: %+v", st)
	}

	e.restart()
	tr := progress.New()
	e.cu.setProgress(tr)
	e.cu.trackMin = 3
	if st, err = e.cu.Status(context.Background(), pid); err != nil || st.Loaded || st.Nonce != 1 {
		t.Fatalf("status of a process not loaded: %+v, %v (want the stored results' nonce 1)", st, err)
	}
	if _, err := e.cu.Load(context.Background(), pid); err != nil {
		t.Fatal(err)
	}
	ended := tr.Ended()
	if len(ended) != 1 {
		t.Fatalf("ended jobs %+v, want the rebuild", ended)
	}
	if j := ended[0]; j.Kind != "evaluate" || j.Subject != pid || j.Phase != "evaluating" || j.Done != 6 || j.Total != 6 || j.Unit != "messages" {
		t.Fatalf("rebuild job %+v, want 6/6 messages", j)
	}
	if st, err = e.cu.Status(context.Background(), pid); err != nil || !st.Loaded || st.Nonce != 5 || st.SinceSnapshot != 6 {
		t.Fatalf("status after the rebuild: %+v, %v", st, err)
	}

	// A short catch-up is not tracked.
	e.sets(pid, 1)
	if _, err := e.cu.Load(context.Background(), pid); err != nil {
		t.Fatal(err)
	}
	if n := len(tr.Ended()); n != 1 {
		t.Fatalf("%d jobs after a one-message catch-up, want still 1", n)
	}
}

func TestStatusReportsSnapshotAndCheckpoint(t *testing.T) {
	e := newEnv(t)
	e.cu.setSnapshots(SnapshotOptions{Messages: 2, CheckpointMessages: 3})
	pid := e.spawnKV()
	e.sets(pid, 3)
	if _, err := e.cu.Load(context.Background(), pid); err != nil {
		t.Fatal(err)
	}
	st, err := e.cu.Status(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.Nonce != 4 || st.SnapshotNonce < 2 || st.Checkpoint == nil || st.Checkpoint.Nonce != 2 || len(st.Checkpoint.Item) != 43 {
		t.Fatalf("status %+v (checkpoint %+v)", st, st.Checkpoint)
	}
	if _, err := e.db.UploadStatus(context.Background(), st.Checkpoint.Item); err != nil {
		t.Fatalf("the reported checkpoint is not queued: %v", err)
	}
}
