package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, path
}

func queueItems(t *testing.T, d *DB, n int) []uint64 {
	t.Helper()
	ctx := context.Background()
	var seqs []uint64
	for i := range n {
		id := fmt.Sprintf("item-%02d", i)
		if err := d.PutItem(ctx, id, []byte(id+"-bytes"), true); err != nil {
			t.Fatal(err)
		}
		u, err := d.UploadStatus(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, u.Seq)
	}
	return seqs
}

func TestUploadLifecycle(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	peekAgrees(t, d, 10) // nothing queued
	seqs := queueItems(t, d, 6)
	// Queuing the same item again is a no-op.
	if err := d.PutItem(ctx, "item-00", []byte("item-00-bytes"), true); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want map[string]int
	}{
		{"queued", func() error { return nil }, map[string]int{UploadPending: 6, UploadPosted: 0, UploadConfirmed: 0}},
		{"failed post keeps them pending", func() error { return d.MarkUploads(ctx, seqs[:3], "", errors.New("503")) },
			map[string]int{UploadPending: 6, UploadPosted: 0, UploadConfirmed: 0}},
		{"posted", func() error { return d.MarkUploads(ctx, seqs[:4], "bundle-a", nil) },
			map[string]int{UploadPending: 2, UploadPosted: 4, UploadConfirmed: 0}},
		{"confirmed", func() error { return d.ConfirmUploads(ctx, seqs[:2], 77) },
			map[string]int{UploadPending: 2, UploadPosted: 2, UploadConfirmed: 2}},
		{"requeued", func() error { return d.RequeueUploads(ctx, seqs[2:4], "lost") },
			map[string]int{UploadPending: 4, UploadPosted: 0, UploadConfirmed: 2}},
		{"confirming a pending row does nothing", func() error { return d.ConfirmUploads(ctx, seqs[2:3], 78) },
			map[string]int{UploadPending: 4, UploadPosted: 0, UploadConfirmed: 2}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, err := d.UploadCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range s.want {
			if got[k] != v {
				t.Fatalf("%s: counts %v, want %v", s.name, got, s.want)
			}
		}
	}
	u, _ := d.UploadStatus(ctx, "item-00")
	if u.Status != UploadConfirmed || u.BundleID != "bundle-a" || u.BlockHeight != 77 || u.Attempts != 2 || u.Size != len("item-00-bytes") {
		t.Fatalf("item-00: %+v", u)
	}
	u, _ = d.UploadStatus(ctx, "item-02")
	if u.Status != UploadPending || u.Reposts != 1 || u.BundleID != "" || u.LastErr != "lost" {
		t.Fatalf("item-02: %+v", u)
	}
	// Pending rows come back in queue order, with their bytes.
	ups, raws, err := d.PendingUploads(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, u := range ups {
		ids = append(ids, u.ItemID)
		if string(raws[i]) != u.ItemID+"-bytes" {
			t.Fatalf("bytes of %s: %q", u.ItemID, raws[i])
		}
	}
	if fmt.Sprint(ids) != "[item-02 item-03 item-04 item-05]" {
		t.Fatalf("pending order %v", ids)
	}
	// The peek agrees with them (rows queued, failed, requeued), also for a row indexed before sizes were.
	for _, max := range []int{1, 3, 10} {
		peekAgrees(t, d, max)
	}
	err = d.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bUploadPending).Put(be64(seqs[3]), nil) })
	if err != nil {
		t.Fatal(err)
	}
	peekAgrees(t, d, 10)
	list, err := d.ListUploads(ctx, UploadConfirmed, 0, 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("confirmed list %v %v", list, err)
	}
	list, _ = d.ListUploads(ctx, "", seqs[3], 10)
	if len(list) != 2 || list[0].Seq != seqs[4] {
		t.Fatalf("list after %d: %+v", seqs[3], list)
	}
	if _, err := d.UploadStatus(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown item: %v", err)
	}
}

// A store written before the status indexes existed (and before storage versions) gets them rebuilt when
// opened.
func TestUploadIndexesRebuiltOnOpen(t *testing.T) {
	ctx := context.Background()
	d, path := openTemp(t)
	seqs := queueItems(t, d, 3)
	if err := d.MarkUploads(ctx, seqs[:1], "b", nil); err != nil {
		t.Fatal(err)
	}
	err := d.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bMeta).Delete([]byte(keyStorageVersion.k)); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bUploadPending); err != nil {
			return err
		}
		return tx.DeleteBucket(bUploadPosted)
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	d2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	got, _ := d2.UploadCounts(ctx)
	if got[UploadPending] != 2 || got[UploadPosted] != 1 {
		t.Fatalf("counts after reopen %v", got)
	}
	peekAgrees(t, d2, 10)
}

// peekAgrees checks PeekUploads against the rows and items PendingUploads reads.
func peekAgrees(t *testing.T, d *DB, max int) {
	t.Helper()
	ctx := context.Background()
	ups, raws, err := d.PendingUploads(ctx, max)
	if err != nil {
		t.Fatal(err)
	}
	n, size, oldest, err := d.PeekUploads(ctx, max)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, r := range raws {
		want += len(r)
	}
	if n != len(ups) || size != want || len(ups) > 0 && oldest != ups[0].Queued || len(ups) == 0 && oldest != 0 {
		t.Fatalf("peek of %d: %d items, %d bytes, oldest %d; the queue holds %d, %d bytes, oldest %+v", max, n, size, oldest, len(ups), want, ups)
	}
}
