package su

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/internal/fixture"
	"github.com/aonode/aonode/node/store"
)

func edSigner(t *testing.T) *bundler.Ed25519Key {
	t.Helper()
	b, err := bundler.GenerateEd25519JWK()
	if err != nil {
		t.Fatal(err)
	}
	k, err := bundler.NewEd25519Key(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func edSU(t *testing.T) (*Service, *store.DB, *atomic.Int64) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "su.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var groups atomic.Int64
	s := New(Config{Signer: edSigner(t), Store: db, Heights: fixture.Height(7), OnScheduled: func() { groups.Add(1) }})
	return s, db, &groups
}

func aoItem(t *testing.T, k bundler.Signer, target string, tags ...bundler.Tag) *bundler.Item {
	t.Helper()
	it, err := k.Sign([]byte("d"), target, "", append(tags, bundler.Tag{Name: "Data-Protocol", Value: "ao"}))
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// Many clients writing to one process at once: the SU signs their assignments one after another and writes
// them in groups. Every message is scheduled once (a retry racing its first post gets the same entry), the
// nonces have no gap, the hash chain holds, every assignment verifies, and fewer writes than messages were made.
func TestConcurrentWritesToOneProcess(t *testing.T) {
	s, _, groups := edSU(t)
	ctx := context.Background()
	user := edSigner(t)
	p := aoItem(t, user, "", bundler.Tag{Name: "Type", Value: "Process"}, bundler.Tag{Name: "Module", Value: "m"}, bundler.Tag{Name: "Scheduler", Value: s.Address()})
	if _, err := s.Write(ctx, p); err != nil {
		t.Fatal(err)
	}
	const clients, each = 16, 20
	nonceOf := sync.Map{}
	var wg sync.WaitGroup
	errs := make(chan error, clients*each*2)
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				m := aoItem(t, user, p.ID, bundler.Tag{Name: "Type", Value: "Message"}, bundler.Tag{Name: "N", Value: string(rune('a'+c)) + string(rune('a'+i))})
				var first, retry *store.Entry
				var ferr, rerr error
				var both sync.WaitGroup
				both.Go(func() { first, ferr = s.Write(ctx, m) })
				both.Go(func() { retry, rerr = s.Write(ctx, m) })
				both.Wait()
				if ferr != nil || rerr != nil {
					errs <- fmt.Errorf("write %s: %v / %v", m.ID, ferr, rerr)
					continue
				}
				if first.Nonce != retry.Nonce || first.AssignmentID != retry.AssignmentID {
					errs <- fmt.Errorf("%s: the retry got nonce %d, the first %d", m.ID, retry.Nonce, first.Nonce)
				}
				nonceOf.Store(m.ID, first.Nonce)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	entries, err := s.Load(ctx, p.ID, 0, -1, 0)
	if err != nil || len(entries) != clients*each+1 {
		t.Fatalf("%d entries: %v", len(entries), err)
	}
	pidBytes, _ := base64.RawURLEncoding.DecodeString(p.ID)
	h := sha256.Sum256(pidBytes)
	chain := base64.RawURLEncoding.EncodeToString(h[:])
	for i, e := range entries {
		if e.Nonce != int64(i) || e.HashChain != chain {
			t.Fatalf("entry %d: nonce %d chain %s, want %s", i, e.Nonce, e.HashChain, chain)
		}
		if _, err := bundler.Parse(e.Assignment.Raw); err != nil || e.Assignment.OwnerAddress() != s.Address() {
			t.Fatalf("assignment %d: %v", i, err)
		}
		if n, ok := nonceOf.Load(e.MessageID); i > 0 && (!ok || n.(int64) != e.Nonce) {
			t.Fatalf("entry %d holds %s, acknowledged at %v", i, e.MessageID, n)
		}
		a, _ := base64.RawURLEncoding.DecodeString(e.AssignmentID)
		c, _ := base64.RawURLEncoding.DecodeString(e.HashChain)
		next := sha256.Sum256(append(a, c...))
		chain = base64.RawURLEncoding.EncodeToString(next[:])
	}
	if g := groups.Load(); g >= clients*each+1 {
		t.Fatalf("%d writes for %d entries: nothing was grouped", g, clients*each+1)
	}
	t.Logf("%d entries in %d writes", clients*each+1, groups.Load())
}

// A write the store refuses fails the client's message, and the SU goes on from the store's head: here
// another writer took the nonce the SU's pipeline meant to use next.
func TestPipelineRecoversFromAFailedWrite(t *testing.T) {
	s, db, _ := edSU(t)
	ctx := context.Background()
	user := edSigner(t)
	p := aoItem(t, user, "", bundler.Tag{Name: "Type", Value: "Process"}, bundler.Tag{Name: "Module", Value: "m"}, bundler.Tag{Name: "Scheduler", Value: s.Address()})
	if _, err := s.Write(ctx, p); err != nil {
		t.Fatal(err)
	}
	m1 := aoItem(t, user, p.ID, bundler.Tag{Name: "Type", Value: "Message"})
	e1, err := s.Write(ctx, m1)
	if err != nil {
		t.Fatal(err)
	}
	// Nonce 2 written behind the SU's back.
	other := aoItem(t, user, p.ID, bundler.Tag{Name: "Type", Value: "Message"}, bundler.Tag{Name: "Other", Value: "1"})
	asg := aoItem(t, s.wallet, "", bundler.Tag{Name: "Type", Value: "Assignment"})
	if err := db.Append(ctx, store.NewEntry{Entry: store.Entry{Process: p.ID, Nonce: 2, Timestamp: e1.Timestamp + 1, HashChain: e1.HashChain, AssignmentID: asg.ID, MessageID: other.ID}, AssignmentRaw: asg.Raw}); err != nil {
		t.Fatal(err)
	}
	m2 := aoItem(t, user, p.ID, bundler.Tag{Name: "Type", Value: "Message"}, bundler.Tag{Name: "N", Value: "2"})
	if _, err := s.Write(ctx, m2); err == nil {
		t.Fatal("a write on a stale head must fail")
	}
	e3, err := s.Write(ctx, m2)
	if err != nil || e3.Nonce != 3 {
		t.Fatalf("the next write: %+v %v, want nonce 3", e3, err)
	}
	if es, _ := db.Entries(ctx, p.ID, 0, -1, 0); len(es) != 4 {
		t.Fatalf("%d entries, want 4", len(es))
	}
}

// Groups of several processes written at once share the store's transactions: one process's entry the store
// refuses fails only that process's group, never another's that shared its transaction.
func TestConcurrentGroupsIsolateAFailedOne(t *testing.T) {
	_, db, _ := edSU(t)
	ctx := context.Background()
	key := edSigner(t)
	entry := func(pid string, nonce int64) store.NewEntry {
		asg := aoItem(t, key, "", bundler.Tag{Name: "Type", Value: "Assignment"}, bundler.Tag{Name: "P", Value: pid})
		return store.NewEntry{Entry: store.Entry{Process: pid, Nonce: nonce, AssignmentID: asg.ID, MessageID: asg.ID}, AssignmentRaw: asg.Raw}
	}
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		pid := bundler.B64(sha256.New().Sum([]byte{byte(i)})[:32])
		e := entry(pid, 0)
		if i%2 == 1 {
			e = entry(pid, 5) // out of order: the store refuses it
		}
		wg.Go(func() { errs[i] = db.AppendTaken(ctx, func() []store.NewEntry { return []store.NewEntry{e} }) })
	}
	wg.Wait()
	for i, err := range errs {
		if (err == nil) != (i%2 == 0) {
			t.Fatalf("group %d: %v", i, err)
		}
	}
}

// storeHeights is the node's height source as the SU meets it: every read also writes the height through the
// store's committer (the node keeps the last one for when the gateway is down), while the SU holds the
// process's lock to sign.
type storeHeights struct{ db *store.DB }

func (h storeHeights) Height(ctx context.Context) (int64, error) {
	return 7, h.db.SetMeta(ctx, store.GatewayHeight(), "7")
}

// The committer takes a process's queue while a signer of that process may hold its lock and wait on the
// committer for another write: taking the queue must not need that lock (it did once: every client hung).
func TestSignerWritingThroughTheCommitterDoesNotStall(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "su.db"))
	if err != nil {
		t.Fatal(err)
	}
	stuck := false
	t.Cleanup(func() {
		if !stuck { // a stuck committer would hold Close too
			db.Close()
		}
	})
	s := New(Config{Signer: edSigner(t), Store: db, Heights: storeHeights{db}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	user := edSigner(t)
	p := aoItem(t, user, "", bundler.Tag{Name: "Type", Value: "Process"}, bundler.Tag{Name: "Module", Value: "m"}, bundler.Tag{Name: "Scheduler", Value: s.Address()})
	if _, err := s.Write(ctx, p); err != nil {
		t.Fatal(err)
	}
	const clients, each = 16, 25
	done := make(chan error, clients)
	for c := range clients {
		go func() {
			for i := range each {
				m := aoItem(t, user, p.ID, bundler.Tag{Name: "Type", Value: "Message"}, bundler.Tag{Name: "N", Value: fmt.Sprintf("%d-%d", c, i)})
				if _, err := s.Write(ctx, m); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range clients {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			stuck = true
			t.Fatal("the clients are stuck: the SU and the store's committer wait on each other")
		}
	}
	if es, err := db.Entries(ctx, p.ID, 0, -1, 0); err != nil || len(es) != clients*each+1 {
		t.Fatalf("%d entries: %v", len(es), err)
	}
}
