package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// rawStore writes a store file by hand with fill, as an older (or newer) aonode left it.
func rawStore(t *testing.T, fill func(tx *bolt.Tx) error) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fill); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func rawVersion(t *testing.T, path string) string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	db.View(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bMeta); m != nil {
			v = string(m.Get([]byte(keyStorageVersion.k)))
		}
		return nil
	})
	return v
}

// version1 is a store as aonode wrote it before storage versions: every bucket of its time, no version key,
// no status or process index (the oldest ones had none), push records in meta.
func version1(tx *bolt.Tx) error {
	for _, name := range []string{"processes", "logs", "msgindex", "items", "results", "uploads", "uploadindex",
		"meta", "monitors", "crons", "snapshots", "tasks", "task-items", "tasks-failed"} {
		if _, err := tx.CreateBucket([]byte(name)); err != nil {
			return err
		}
	}
	for i, st := range []string{UploadPending, UploadPosted, UploadConfirmed} {
		id := "item-" + st
		if err := putJSON(tx.Bucket(bUploads), be64(uint64(i+1)), Upload{Seq: uint64(i + 1), ItemID: id, Status: st}); err != nil {
			return err
		}
		if err := tx.Bucket(oldItems).Put([]byte(id), []byte("raw "+st)); err != nil {
			return err
		}
		if err := tx.Bucket(oldUploadIdx).Put([]byte(id), be64(uint64(i+1))); err != nil {
			return err
		}
	}
	// P1's schedule: its spawn, then message M1 (also scheduled by P2, at nonce 4) in assignment A1.
	logs, err := tx.Bucket(bLogs).CreateBucket([]byte("P1"))
	if err != nil {
		return err
	}
	for _, e := range []Entry{{Process: "P1", Nonce: 0, AssignmentID: "A0", MessageID: "P1"}, {Process: "P1", Nonce: 1, AssignmentID: "A1", MessageID: "M1", Local: true}} {
		if err := putJSON(logs, be64(uint64(e.Nonce)), e); err != nil {
			return err
		}
	}
	for k, v := range map[string][]byte{
		"P1|P1": be64(0), "a:A0": append([]byte("P1|"), be64(0)...),
		"P1|M1": be64(1), "a:A1": append([]byte("P1|"), be64(1)...), "P2|M1": be64(4),
	} {
		if err := tx.Bucket(oldMsgIndex).Put([]byte(k), v); err != nil {
			return err
		}
	}
	for k, v := range map[string]string{"M1": "raw M1", "A1": "raw A1", "A0": "raw A0"} {
		if err := tx.Bucket(oldItems).Put([]byte(k), []byte(v)); err != nil {
			return err
		}
	}
	for i, pid := range []string{"P1", "P2"} {
		if err := putJSON(tx.Bucket(bProcesses), []byte(pid), Process{ID: pid, Owner: "O", Timestamp: int64(100 + i)}); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bMeta)
	for k, v := range map[string]string{"push/P1/M/m0": "ITEM0", "push/P1/M/s1": "ITEM1", "gateway-height": "42", "su-floor/P1": "7"} {
		if err := meta.Put([]byte(k), []byte(v)); err != nil {
			return err
		}
	}
	return nil
}

// A store without a version is version 1 and is migrated step by step to the current version: its indexes
// are rebuilt, its push records moved, its other meta values kept.
func TestOpenMigratesVersion1(t *testing.T) {
	ctx := context.Background()
	path := rawStore(t, version1)
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ups, raws, err := d.PendingUploads(ctx, 10)
	if err != nil || len(ups) != 1 || ups[0].ItemID != "item-pending" || string(raws[0]) != "raw pending" {
		t.Fatalf("pending after migration: %+v %v", ups, err)
	}
	posted, err := d.PostedUploads(ctx, 10)
	if err != nil || len(posted) != 1 || posted[0].ItemID != "item-posted" {
		t.Fatalf("posted after migration: %+v %v", posted, err)
	}
	if n, err := d.ProcessCount(ctx); err != nil || n != 2 {
		t.Fatalf("process count %d %v", n, err)
	}
	page, err := d.Processes(ctx, "", 10, 0, nil)
	if err != nil || len(page.Rows) != 2 || page.Rows[0].ID != "P2" {
		t.Fatalf("processes: %+v %v", page, err)
	}
	for entry, want := range map[string]string{"m0": "ITEM0", "s1": "ITEM1"} {
		if got, err := d.Push(ctx, "P1", "M", entry); err != nil || got != want {
			t.Fatalf("push %s: %q %v", entry, got, err)
		}
	}
	if v, err := d.Meta(ctx, GatewayHeight()); err != nil || v != "42" {
		t.Fatalf("gateway height: %q %v", v, err)
	}
	if v, err := d.Meta(ctx, SUWatermark("P1")); err != nil || v != "7" {
		t.Fatalf("watermark: %q %v", v, err)
	}
	for _, id := range []string{"M1", "A1"} {
		if e, err := d.EntryByID(ctx, "P1", id); err != nil || e.Nonce != 1 || e.MessageID != "M1" {
			t.Fatalf("entry of %s after migration: %+v %v", id, e, err)
		}
	}
	if _, err := d.EntryByID(ctx, "P1", "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if raw, err := d.Item(ctx, "M1"); err != nil || string(raw) != "raw M1" {
		t.Fatalf("item after migration: %q %v", raw, err)
	}
	if u, err := d.UploadStatus(ctx, "item-posted"); err != nil || u.Status != UploadPosted || u.Seq != 2 {
		t.Fatalf("upload status after migration: %+v %v", u, err)
	}
	d.Close()
	if v := rawVersion(t, path); v != "4" {
		t.Fatalf("version after migration: %q", v)
	}
	db, _ := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get([]byte("push/P1/M/m0")); v != nil {
			t.Errorf("push record left in meta: %q", v)
		}
		return nil
	})
	db.Close()
	// Opening again migrates nothing and changes nothing.
	d, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got, err := d.Push(ctx, "P1", "M", "m0"); err != nil || got != "ITEM0" {
		t.Fatalf("push after reopen: %q %v", got, err)
	}
}

// Each step alone, on the store the step before it leaves.
func TestMigrationSteps(t *testing.T) {
	now := time.UnixMilli(5_000_000)
	check := map[int]func(t *testing.T, tx *bolt.Tx){
		2: func(t *testing.T, tx *bolt.Tx) {
			if n := tx.Bucket(bUploadPending).Stats().KeyN; n != 1 {
				t.Errorf("pending index has %d rows", n)
			}
			if n := tx.Bucket(bUploadPosted).Stats().KeyN; n != 1 {
				t.Errorf("posted index has %d rows", n)
			}
			if n := tx.Bucket(bProcIndex).Sequence(); n != 2 {
				t.Errorf("process index counts %d", n)
			}
		},
		4: func(t *testing.T, tx *bolt.Tx) {
			for _, old := range [][]byte{oldItems, oldMsgIndex, oldUploadIdx} {
				if tx.Bucket(old) != nil {
					t.Errorf("bucket %s left", old)
				}
			}
			want := map[string]record{
				"M1":           {held: true, raw: []byte("raw M1"), slots: []slot{{"P1", 1}, {"P2", 4}}},
				"A1":           {held: true, raw: []byte("raw A1"), slots: []slot{{"P1", 1}}},
				"P1":           {slots: []slot{{"P1", 0}}},
				"item-pending": {held: true, raw: []byte("raw pending"), upload: 1},
			}
			for id, w := range want {
				r, found, err := getRecord(tx.Bucket(bRecords), id)
				slices.SortFunc(r.slots, func(a, b slot) int { return strings.Compare(a.pid, b.pid) })
				if err != nil || !found || r.held != w.held || string(r.raw) != string(w.raw) || r.upload != w.upload || !slices.Equal(r.slots, w.slots) {
					t.Errorf("record %s: %+v %v %v, want %+v", id, r, found, err, w)
				}
			}
			if n := tx.Bucket(bRecords).Stats().KeyN; n != 7 {
				t.Errorf("%d records, want 7 (3 uploads, P1, A0, A1, M1)", n)
			}
		},
		3: func(t *testing.T, tx *bolt.Tx) {
			if v := tx.Bucket(bPushes).Get([]byte("P1/M/s1")); string(v) != string(append(be64(uint64(now.UnixMilli())), "ITEM1"...)) {
				t.Errorf("moved record: %q", v)
			}
			if n := tx.Bucket(bPushesByTime).Stats().KeyN; n != 2 {
				t.Errorf("time index has %d entries", n)
			}
			c := tx.Bucket(bMeta).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if strings.HasPrefix(string(k), "push/") {
					t.Errorf("left in meta: %s", k)
				}
			}
		},
	}
	if len(check) != len(migrations) || migrations[len(migrations)-1].to != StorageVersion {
		t.Fatalf("every step needs a check here, and the last step must reach StorageVersion %d", StorageVersion)
	}
	for i, m := range migrations {
		if m.to != i+2 {
			t.Fatalf("step %d goes to version %d: steps must be consecutive from 2", i, m.to)
		}
		t.Run(m.what, func(t *testing.T) {
			path := rawStore(t, func(tx *bolt.Tx) error {
				if err := version1(tx); err != nil {
					return err
				}
				for _, b := range allBuckets {
					if _, err := tx.CreateBucketIfNotExists(b); err != nil {
						return err
					}
				}
				for _, before := range migrations[:i] {
					if err := before.up(tx, now); err != nil {
						return err
					}
				}
				return m.up(tx, now)
			})
			db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.View(func(tx *bolt.Tx) error { check[m.to](t, tx); return nil })
		})
	}
}

// A new store starts at the current version; a store from a newer aonode, or with a damaged version, is not
// opened, and is left as it was.
func TestOpenVersions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string
		want    string // error text; "" opens
		tooNew  bool
	}{
		{"newer", "99", "version 99, this aonode reads up to 4", true},
		{"current", "4", "", false},
		{"older", "3", "", false},
		{"damaged", "three", `store version "three" is not a version`, false},
		{"zero", "0", `store version "0" is not a version`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := rawStore(t, func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket(bMeta)
				if err != nil {
					return err
				}
				return b.Put([]byte(keyStorageVersion.k), []byte(tc.version))
			})
			d, err := Open(path)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				d.Close()
				return
			}
			if err == nil {
				d.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrStoreTooNew) != tc.tooNew {
				t.Fatalf("error %v", err)
			}
			if v := rawVersion(t, path); v != tc.version {
				t.Fatalf("version changed to %q", v)
			}
		})
	}
	d, path := openTemp(t)
	d.Close()
	if v := rawVersion(t, path); v != "4" {
		t.Fatalf("new store version %q", v)
	}
}

// Open builds a version-3 store's records a chunk per transaction before migrating; a build interrupted
// before its end (records left, no completion mark) is thrown away and made again.
func TestOpenRebuildsInterruptedRecords(t *testing.T) {
	defer func(n int) { recordsChunk = n }(recordsChunk)
	recordsChunk = 2 // 7 ids: four transactions, the last one short
	ctx := context.Background()
	path := rawStore(t, func(tx *bolt.Tx) error {
		if err := version1(tx); err != nil {
			return err
		}
		partial, err := tx.CreateBucket(bRecords)
		if err != nil {
			return err
		}
		return partial.Put([]byte("junk"), []byte("left by an interrupted build"))
	})
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"M1", "A1"} {
		if e, err := d.EntryByID(ctx, "P1", id); err != nil || e.Nonce != 1 {
			t.Fatalf("entry of %s: %+v %v", id, e, err)
		}
	}
	for id, want := range map[string]string{"M1": "raw M1", "A0": "raw A0", "item-confirmed": "raw confirmed"} {
		if raw, err := d.Item(ctx, id); err != nil || string(raw) != want {
			t.Fatalf("item %s: %q %v", id, raw, err)
		}
	}
	if _, err := d.Item(ctx, "junk"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the interrupted build's record is still there: %v", err)
	}
	if u, err := d.UploadStatus(ctx, "item-pending"); err != nil || u.Seq != 1 {
		t.Fatalf("upload status: %+v %v", u, err)
	}
	d.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bRecords).Stats().KeyN; n != 7 {
			t.Errorf("%d records, want 7", n)
		}
		if tx.Bucket(bMeta).Get(keyRecordsBuilt) != nil {
			t.Error("the completion mark is left in meta")
		}
		if tx.Bucket(oldItems) != nil {
			t.Error("the old items bucket is left")
		}
		return nil
	})
}
