package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func restoreEntries(pid string, n int) []NewEntry {
	out := make([]NewEntry, n)
	for i := range out {
		e := Entry{Process: pid, Nonce: int64(i), Timestamp: int64(100 + i), AssignmentID: fmt.Sprintf("asg-%03d", (i*37)%n), MessageID: fmt.Sprintf("msg-%03d", (i*53)%n), Local: true}
		out[i] = NewEntry{Entry: e, AssignmentRaw: []byte("a" + e.AssignmentID), MessageRaw: []byte("m" + e.MessageID)}
	}
	out[0].Entry.MessageID = pid
	out[0].MessageRaw = []byte("spawn")
	out[0].Process = &Process{ID: pid, Owner: "o", Scheduler: "s", Timestamp: 100}
	return out
}

// A restore writes its indexes and items in key order at the end; what it leaves must be what appending
// the entries one by one leaves.
func TestRestoreWritesEverythingAppendWould(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	const n = 101
	entries := restoreEntries("p", n)
	entries[5].Uploads = []string{entries[5].Entry.MessageID}
	if err := db.Restore(ctx, entries); err != nil {
		t.Fatal(err)
	}
	for _, ne := range entries {
		e := ne.Entry
		for _, id := range []string{e.MessageID, e.AssignmentID} {
			got, err := db.EntryByID(ctx, "p", id)
			if err != nil || got.Nonce != e.Nonce {
				t.Fatalf("EntryByID(%s) = %+v, %v; want nonce %d", id, got, err, e.Nonce)
			}
		}
		if raw, err := db.Item(ctx, e.MessageID); err != nil || string(raw) != string(ne.MessageRaw) {
			t.Fatalf("item %s: %q %v", e.MessageID, raw, err)
		}
		if raw, err := db.Item(ctx, e.AssignmentID); err != nil || string(raw) != string(ne.AssignmentRaw) {
			t.Fatalf("item %s: %q %v", e.AssignmentID, raw, err)
		}
	}
	if u, err := db.UploadStatus(ctx, entries[5].Entry.MessageID); err != nil || u.Size != len(entries[5].MessageRaw) {
		t.Fatalf("upload of a restored item: %+v %v (its size must be the stored item's)", u, err)
	}
	if h, err := db.Head(ctx, "p"); err != nil || h.Nonce != n-1 {
		t.Fatalf("head %+v %v", h, err)
	}

	// A message scheduled twice in one restore is refused, and nothing is written.
	dup := restoreEntries("q", 10)
	dup[7].Entry.MessageID = dup[3].Entry.MessageID
	if err := db.Restore(ctx, dup); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("restore with a duplicate message: %v", err)
	}
	if _, err := db.GetProcess(ctx, "q"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused restore left the process: %v", err)
	}
}
