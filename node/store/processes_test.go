package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func spawnRows(t *testing.T, db *DB, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		pid := fmt.Sprintf("proc-%02d", i)
		owner := []string{"alice", "bob"}[i%2]
		p := &Process{ID: pid, Owner: owner, Scheduler: "su", Timestamp: int64(1000 + i), Name: fmt.Sprintf("name-%d", i%3)}
		err := db.Append(context.Background(), NewEntry{
			Entry:   Entry{Process: pid, Nonce: 0, Timestamp: p.Timestamp, AssignmentID: "a-" + pid, MessageID: pid},
			Process: p, AssignmentRaw: []byte("assignment"), MessageRaw: []byte("spawn"),
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, pid)
	}
	return ids
}

func TestProcessesNewestFirstInPages(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := spawnRows(t, db, 7)
	want := slices.Clone(ids)
	slices.Reverse(want)

	var got []string
	from := ""
	for pages := 0; ; pages++ {
		page, err := db.Processes(ctx, from, 3, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rows {
			got = append(got, r.ID)
		}
		if page.Next == "" {
			if pages != 2 {
				t.Fatalf("%d pages of 3 for 7 processes", pages+1)
			}
			break
		}
		from = page.Next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages gave %v, want %v", got, want)
	}
	if n, err := db.ProcessCount(ctx); err != nil || n != 7 {
		t.Fatalf("count %d, %v", n, err)
	}

	// A search looks at no more than scan rows per page and says where to go on.
	bob := func(r ProcessRow) bool { return r.Owner == "bob" }
	page, err := db.Processes(ctx, "", 10, 4, bob)
	if err != nil {
		t.Fatal(err)
	}
	if page.Scanned != 4 || len(page.Rows) != 2 || page.Rows[0].ID != "proc-05" || page.Rows[1].ID != "proc-03" || page.Next == "" {
		t.Fatalf("first search page %+v", page)
	}
	page, err = db.Processes(ctx, page.Next, 10, 4, bob)
	if err != nil || len(page.Rows) != 1 || page.Rows[0].ID != "proc-01" || page.Next != "" || page.Scanned != 3 {
		t.Fatalf("second search page %+v, %v", page, err)
	}
	if r := page.Rows[0]; r.Name != "name-1" || r.Timestamp != 1001 {
		t.Fatalf("row %+v", r)
	}

	for _, bad := range []string{"x", "12", ".pid", "abc.pid"} {
		if _, err := db.Processes(ctx, bad, 3, 0, nil); err == nil || !strings.Contains(err.Error(), "bad cursor") {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}

	// A store written before the index existed (and before storage versions) gets it on open.
	db.Close()
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bMeta).Delete([]byte(keyStorageVersion.k)); err != nil {
			return err
		}
		return tx.DeleteBucket(bProcIndex)
	})
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err = db.Processes(ctx, "", 100, 0, nil)
	if err != nil || len(page.Rows) != 7 || page.Rows[0].ID != "proc-06" {
		t.Fatalf("after the rebuild: %+v, %v", page, err)
	}
	if n, _ := db.ProcessCount(ctx); n != 7 {
		t.Fatalf("count after the rebuild %d", n)
	}
}

// GetProcess hands each caller its own copy (what one changes, the next does not see), and a process asked
// for before its spawn is written is found once it is.
func TestGetProcessCopies(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	if _, err := d.GetProcess(ctx, "p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before the spawn: %v", err)
	}
	timedSchedule(t, d, "p", 100)
	for i := range 3 {
		p, err := d.GetProcess(ctx, "p")
		if err != nil || p.ID != "p" || p.Scheduler != "su" || p.Timestamp != 100 {
			t.Fatalf("read %d: %+v %v", i, p, err)
		}
		p.Scheduler, p.Timestamp = "changed by a caller", 0
	}
}
