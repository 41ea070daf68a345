package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// deliver queues and finishes one message task of pid's result for source, leaving its push record.
func deliver(t *testing.T, d *DB, pid, source string, index int) {
	t.Helper()
	ctx := context.Background()
	item := fmt.Sprintf("ITEM-%s-%s-%d", pid, source, index)
	nt := NewTask{Task: Task{Kind: TaskMessage, Process: pid, Source: source, Target: "T", ItemID: item, Index: index}, Raw: []byte("x")}
	if err := d.FinishTasks(ctx, TaskBatch{Tasks: []NewTask{nt}}); err != nil {
		t.Fatal(err)
	}
	ts, err := d.Tasks(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.FinishTasks(ctx, TaskBatch{Done: ts[len(ts)-1].Seq}); err != nil {
		t.Fatal(err)
	}
}

func pushCount(t *testing.T, d *DB) (records, index int) {
	t.Helper()
	d.db.View(func(tx *bolt.Tx) error {
		records, index = tx.Bucket(bPushes).Stats().KeyN, tx.Bucket(bPushesByTime).Stats().KeyN
		return nil
	})
	return
}

// Push records are kept for the retention and collected after it by the writes that follow, a bounded
// batch at a time; a collected record reads as not found.
func TestPushRecordsCollected(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	d.pushRetention = time.Hour
	clock := time.UnixMilli(1_000_000_000)
	d.now = func() time.Time { return clock }

	for i := range 100 {
		deliver(t, d, "OLD", "M", i)
	}
	clock = clock.Add(59 * time.Minute)
	deliver(t, d, "NEW", "M", 0)
	if r, x := pushCount(t, d); r != 101 || x != 101 {
		t.Fatalf("within the retention: %d records, %d index entries", r, x)
	}
	clock = clock.Add(2 * time.Minute) // the 100 old records are past the hour, the new one is not
	deliver(t, d, "NEW", "M", 1)
	if r, _ := pushCount(t, d); r != 102-pushCollectBatch {
		t.Fatalf("one write collected %d records (batch %d)", 102-r, pushCollectBatch)
	}
	deliver(t, d, "NEW", "M", 2)
	if r, x := pushCount(t, d); r != 3 || x != 3 {
		t.Fatalf("after two writes: %d records, %d index entries", r, x)
	}
	if _, err := d.Push(ctx, "OLD", "M", "m5"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("collected record: %v", err)
	}
	for i := range 3 {
		if got, err := d.Push(ctx, "NEW", "M", fmt.Sprintf("m%d", i)); err != nil || got != fmt.Sprintf("ITEM-NEW-M-%d", i) {
			t.Fatalf("kept record %d: %q %v", i, got, err)
		}
	}
	// A store that stopped writing is collected on demand.
	clock = clock.Add(2 * time.Hour)
	if n, err := d.CollectPushes(ctx); err != nil || n != 3 {
		t.Fatalf("collected %d %v", n, err)
	}
	if r, x := pushCount(t, d); r != 0 || x != 0 {
		t.Fatalf("left %d records, %d index entries", r, x)
	}
}

// A record written again (a failed push retried and delivered) is kept for the retention from its new
// time: the older time entry does not collect it.
func TestPushRecordRewrittenKeepsNewTime(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	d.pushRetention = time.Hour
	clock := time.UnixMilli(1_000_000_000)
	d.now = func() time.Time { return clock }
	deliver(t, d, "P", "M", 0)
	clock = clock.Add(50 * time.Minute)
	deliver(t, d, "P", "M", 0)
	clock = clock.Add(20 * time.Minute) // the first write is past the hour, the second is not
	if n, err := d.CollectPushes(ctx); err != nil || n != 0 {
		t.Fatalf("collected %d %v", n, err)
	}
	if got, err := d.Push(ctx, "P", "M", "m0"); err != nil || got != "ITEM-P-M-0" {
		t.Fatalf("record: %q %v", got, err)
	}
}
