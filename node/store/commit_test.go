package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// hold makes the committer busy: the returned func lets its transaction commit. Writes queued meanwhile wait
// for the next commit, together.
func hold(t *testing.T, d *DB) (release func(), done <-chan error) {
	t.Helper()
	entered, gate, errc := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var once sync.Once
	go func() {
		errc <- d.update(func(tx *bolt.Tx) error {
			once.Do(func() { close(entered) })
			<-gate
			return nil
		})
	}()
	<-entered
	return sync.OnceFunc(func() { close(gate) }), errc
}

// queueWrites starts n writes while the committer is held; each puts key "k<i>" (or fails, or panics, as
// fails says) and records the id of the transaction it ran in last.
func queueWrites(t *testing.T, d *DB, n int, fails map[int]string) (txids []int, errs []error, wait func()) {
	t.Helper()
	txids, errs = make([]int, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = d.update(func(tx *bolt.Tx) error {
				txids[i] = tx.ID()
				if err := tx.Bucket(bMeta).Put(fmt.Appendf(nil, "k%d", i), []byte("v")); err != nil {
					return err
				}
				switch fails[i] {
				case "error":
					return fmt.Errorf("write %d refused", i)
				case "panic":
					panic(fmt.Sprintf("write %d panicked", i))
				}
				return nil
			})
		})
	}
	// Every write is queued before the committer is let go (they wait in the queue, not in bbolt).
	eventually(t, func() bool {
		d.commits.mu.Lock()
		defer d.commits.mu.Unlock()
		return len(d.commits.queue) == n
	})
	return txids, errs, wg.Wait
}

func eventually(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("the writes were not all queued")
}

func TestCommitterGroupsQueuedWrites(t *testing.T) {
	cases := []struct {
		name  string
		n     int
		fails map[int]string
		// commits is how many transactions the successful writes ended in (the failing ones run alone after).
		commits int
	}{
		{"one write", 1, nil, 1},
		{"writes queued during a commit share the next", 20, nil, 1},
		{"more than a group holds", maxGroup + 5, nil, 2},
		{"a failing write is left out; the others commit", 10, map[int]string{3: "error"}, 1},
		{"a panicking write is an error; the others commit", 10, map[int]string{0: "panic", 9: "error"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := openTemp(t)
			release, held := hold(t, d)
			txids, errs, wait := queueWrites(t, d, tc.n, tc.fails)
			release()
			wait()
			if err := <-held; err != nil {
				t.Fatal(err)
			}
			ids := map[int]bool{}
			for i := range tc.n {
				key := fmt.Sprintf("k%d", i)
				got, _ := d.Meta(context.Background(), MetaKey{key})
				if fail := tc.fails[i]; fail != "" {
					if errs[i] == nil {
						t.Errorf("write %d (%s): no error", i, fail)
					}
					if got != "" {
						t.Errorf("write %d failed but its put was committed", i)
					}
					continue
				}
				if errs[i] != nil {
					t.Errorf("write %d: %v", i, errs[i])
				}
				if got != "v" {
					t.Errorf("write %d: its put is missing", i)
				}
				ids[txids[i]] = true
			}
			if len(ids) != tc.commits {
				t.Errorf("the successful writes ended in %d transactions, want %d", len(ids), tc.commits)
			}
		})
	}
}

// Close commits what was queued before it, and a write after it is refused as bbolt refuses a closed store.
func TestCommitterClose(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	release, held := hold(t, d)
	_, errs, wait := queueWrites(t, d, 5, nil)
	closed := make(chan error, 1)
	go func() { closed <- d.Close() }()
	release()
	wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d queued before Close: %v", i, err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := d.SetMeta(context.Background(), MetaKey{"late"}, "v"); !errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		t.Fatalf("write after Close: %v, want ErrDatabaseNotOpen", err)
	}
}

// A late write is made up when the transaction that carries it begins: what its writer gathered while the
// commit before ran joins it, a take with nothing to write costs no transaction, and a closed store never
// calls take.
func TestCommitterLateWrites(t *testing.T) {
	ctx := context.Background()
	entry := func(nonce int64) NewEntry {
		id := fmt.Sprintf("m%d", nonce)
		return NewEntry{Entry: Entry{Process: "p", Nonce: nonce, AssignmentID: "a" + id, MessageID: id}, AssignmentRaw: []byte("raw")}
	}
	t.Run("gathers what came while the commit before ran", func(t *testing.T) {
		d, _ := openTemp(t)
		release, held := hold(t, d)
		var mu sync.Mutex
		var pending []NewEntry
		add := func(ne NewEntry) { mu.Lock(); pending = append(pending, ne); mu.Unlock() }
		add(entry(0))
		takes := 0
		errc := make(chan error, 1)
		go func() {
			errc <- d.AppendTaken(ctx, func() []NewEntry {
				mu.Lock()
				defer mu.Unlock()
				takes++
				nes := pending
				pending = nil
				return nes
			})
		}()
		eventually(t, func() bool {
			d.commits.mu.Lock()
			defer d.commits.mu.Unlock()
			return len(d.commits.queue) == 1
		})
		add(entry(1)) // after AppendTaken was called, before its transaction began
		add(entry(2))
		release()
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		es, err := d.Entries(ctx, "p", 0, -1, 0)
		if err != nil || len(es) != 3 || takes != 1 {
			t.Fatalf("%d entries after %d takes (%v), want 3 after 1", len(es), takes, err)
		}
	})
	t.Run("nothing to take, no transaction", func(t *testing.T) {
		d, _ := openTemp(t)
		txs := func() int {
			var n int
			_ = d.db.View(func(tx *bolt.Tx) error { n = tx.ID(); return nil })
			return n
		}
		t0 := txs()
		if err := d.AppendTaken(ctx, func() []NewEntry { return nil }); err != nil {
			t.Fatal(err)
		}
		if txs() != t0 {
			t.Fatalf("an empty take committed a transaction")
		}
	})
	t.Run("a refused entry fails the write, all or none", func(t *testing.T) {
		d, _ := openTemp(t)
		err := d.AppendTaken(ctx, func() []NewEntry { return []NewEntry{entry(0), entry(2)} })
		if err == nil {
			t.Fatal("nonce 2 after 0 was taken")
		}
		if es, _ := d.Entries(ctx, "p", 0, -1, 0); len(es) != 0 {
			t.Fatalf("%d entries of a failed write were kept", len(es))
		}
	})
	t.Run("a closed store does not take", func(t *testing.T) {
		d, _ := openTemp(t)
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		took := false
		err := d.AppendTaken(ctx, func() []NewEntry { took = true; return []NewEntry{entry(0)} })
		if !errors.Is(err, bolterrors.ErrDatabaseNotOpen) || took {
			t.Fatalf("closed store: %v, took %v", err, took)
		}
	})
}
