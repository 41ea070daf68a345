package su

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/internal/fixture"
	"github.com/aonode/aonode/node/store"
)

var (
	walletsOnce sync.Once
	suWallet    *bundler.Wallet
	userWallet  *bundler.Wallet
)

func wallets(t *testing.T) (*bundler.Wallet, *bundler.Wallet) {
	walletsOnce.Do(func() {
		for _, w := range []**bundler.Wallet{&suWallet, &userWallet} {
			jwk, err := bundler.GenerateJWK()
			if err != nil {
				t.Fatal(err)
			}
			if *w, err = bundler.NewWallet(jwk); err != nil {
				t.Fatal(err)
			}
		}
	})
	return suWallet, userWallet
}

func newSU(t *testing.T) (*Service, *store.DB) {
	sw, _ := wallets(t)
	db, err := store.Open(filepath.Join(t.TempDir(), "su.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return New(Config{Signer: sw, Store: db, Heights: fixture.Height(1234)}), db
}

func sign(t *testing.T, w *bundler.Wallet, target string, tags ...bundler.Tag) *bundler.Item {
	it, err := w.Sign([]byte("data"), target, "", tags)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func spawnItem(t *testing.T, s *Service) *bundler.Item {
	_, uw := wallets(t)
	return sign(t, uw, "", bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Type", Value: "Process"},
		bundler.Tag{Name: "Module", Value: "mod"}, bundler.Tag{Name: "Scheduler", Value: s.Address()})
}

func msgItem(t *testing.T, pid string) *bundler.Item {
	_, uw := wallets(t)
	return sign(t, uw, pid, bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Type", Value: "Message"})
}

func TestScheduleOrdersAndChains(t *testing.T) {
	s, db := newSU(t)
	ctx := context.Background()
	p := spawnItem(t, s)
	e0, err := s.Write(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if e0.Nonce != 0 || e0.MessageID != p.ID {
		t.Fatalf("spawn entry %+v", e0)
	}
	var ids []string
	for i := 0; i < 5; i++ {
		m := msgItem(t, p.ID)
		ids = append(ids, m.ID)
		if _, err := s.Write(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := s.Load(ctx, p.ID, 0, -1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 6 {
		t.Fatalf("%d entries", len(entries))
	}
	pidBytes, _ := base64.RawURLEncoding.DecodeString(p.ID)
	h := sha256.Sum256(pidBytes)
	wantChain := base64.RawURLEncoding.EncodeToString(h[:])
	var prevTs int64
	for i, e := range entries {
		if e.Nonce != int64(i) {
			t.Fatalf("entry %d has nonce %d", i, e.Nonce)
		}
		if e.Timestamp <= prevTs {
			t.Fatalf("timestamps must increase strictly: %d after %d", e.Timestamp, prevTs)
		}
		prevTs = e.Timestamp
		if e.HashChain != wantChain {
			t.Fatalf("nonce %d: hash chain %s, want %s", i, e.HashChain, wantChain)
		}
		a, _ := base64.RawURLEncoding.DecodeString(e.AssignmentID)
		c, _ := base64.RawURLEncoding.DecodeString(e.HashChain)
		next := sha256.Sum256(append(a, c...))
		wantChain = base64.RawURLEncoding.EncodeToString(next[:])
		// The assignment is a signed item with the reference tag order.
		want := []string{"Process", p.ID, "Epoch", "0", "Nonce", strconv.Itoa(i), "Hash-Chain", e.HashChain,
			"Block-Height", "000000001234", "Timestamp", strconv.FormatInt(e.Timestamp, 10), "Data-Protocol", "ao",
			"Type", "Assignment", "Variant", "ao.TN.1", "Message", e.MessageID}
		if len(e.Assignment.Tags)*2 != len(want) {
			t.Fatalf("assignment tags %v", e.Assignment.Tags)
		}
		for j, tg := range e.Assignment.Tags {
			if tg.Name != want[2*j] || tg.Value != want[2*j+1] {
				t.Fatalf("assignment tag %d = %v, want %s=%s", j, tg, want[2*j], want[2*j+1])
			}
		}
		if e.Assignment.OwnerAddress() != s.Address() {
			t.Fatal("assignment not signed by the SU")
		}
		if i > 0 && e.Message.ID != ids[i-1] {
			t.Fatalf("nonce %d carries %s, want %s", i, e.Message.ID, ids[i-1])
		}
	}
	// Every message and assignment is queued for upload exactly once.
	counts, err := db.UploadCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.UploadPending] != 12 {
		t.Fatalf("upload queue %v, want 12 pending", counts)
	}
	// Lookup by message id and by assignment id give the same entry.
	byMsg, err := s.Lookup(ctx, p.ID, ids[2])
	if err != nil {
		t.Fatal(err)
	}
	byAsg, err := s.Lookup(ctx, p.ID, byMsg.AssignmentID)
	if err != nil || byAsg.Nonce != 3 || byMsg.Nonce != 3 {
		t.Fatalf("lookup: %v %+v %+v", err, byMsg.Entry, byAsg)
	}
}

func TestWriteRefusesBadItems(t *testing.T) {
	s, _ := newSU(t)
	ctx := context.Background()
	_, uw := wallets(t)
	p := spawnItem(t, s)
	if _, err := s.Write(ctx, p); err != nil {
		t.Fatal(err)
	}
	dup := msgItem(t, p.ID)
	if _, err := s.Write(ctx, dup); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		item *bundler.Item
		want string
	}{
		{"no Data-Protocol", sign(t, uw, p.ID, bundler.Tag{Name: "Type", Value: "Message"}), "Data-Protocol"},
		{"no Type", sign(t, uw, p.ID, bundler.Tag{Name: "Data-Protocol", Value: "ao"}), "Type tag"},
		{"bad Type", sign(t, uw, p.ID, bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Type", Value: "Assignment"}), "Unsupported"},
		{"unknown process", msgItem(t, bundler.B64(make([]byte, 32))), "not scheduled"},
		{"no target", sign(t, uw, "", bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Type", Value: "Message"}), "target"},
		{"process without Module", sign(t, uw, "", bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Type", Value: "Process"}, bundler.Tag{Name: "Scheduler", Value: s.Address()}), "Module"},
		{"process for another scheduler", sign(t, uw, "", bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Type", Value: "Process"}, bundler.Tag{Name: "Module", Value: "m"}, bundler.Tag{Name: "Scheduler", Value: "someone-else"}), "scheduler"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Write(ctx, tc.item)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("want a client error, got %v", err)
			}
			if !contains(ce.Msg, tc.want) {
				t.Fatalf("error %q does not mention %q", ce.Msg, tc.want)
			}
		})
	}
	es, _ := s.Entries(ctx, p.ID, 0, -1, 0)
	if len(es) != 2 {
		t.Fatalf("refused items must leave nothing behind: %d entries", len(es))
	}
	// Duplicates are idempotent: the same entry comes back and nothing new is scheduled.
	for name, it := range map[string]*bundler.Item{"message": dup, "spawn": p} {
		e, err := s.Write(ctx, it)
		if err != nil || e.MessageID != it.ID || e.AssignmentID != es[map[string]int{"message": 1, "spawn": 0}[name]].AssignmentID {
			t.Fatalf("duplicate %s: %+v %v", name, e, err)
		}
	}
	if es, _ := s.Entries(ctx, p.ID, 0, -1, 0); len(es) != 2 {
		t.Fatalf("duplicates were scheduled again: %d entries", len(es))
	}
}

func TestAssign(t *testing.T) {
	s, _ := newSU(t)
	ctx := context.Background()
	a, b := spawnItem(t, s), spawnItem(t, s)
	for _, p := range []*bundler.Item{a, b} {
		if _, err := s.Write(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	m := msgItem(t, a.ID)
	if _, err := s.Write(ctx, m); err != nil {
		t.Fatal(err)
	}
	e, err := s.Assign(ctx, b.ID, m.ID, false, []string{"x", "y"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Nonce != 1 || e.MessageID != m.ID || !e.Local {
		t.Fatalf("assignment entry %+v", e)
	}
	sc, err := s.Lookup(ctx, b.ID, e.AssignmentID)
	if err != nil || sc.Message.ID != m.ID {
		t.Fatalf("lookup assignment: %v", err)
	}
	var excl []string
	for _, tg := range sc.Assignment.Tags {
		if tg.Name == "Exclude" {
			excl = append(excl, tg.Value)
		}
	}
	if len(excl) != 2 {
		t.Fatalf("Exclude tags %v", excl)
	}
	// Assigning the same message again is idempotent: the same assignment comes back.
	if again, err := s.Assign(ctx, b.ID, m.ID, false, nil); err != nil || again.AssignmentID != e.AssignmentID {
		t.Fatalf("repeated assign: %+v %v", again, err)
	}
	for _, bad := range []struct{ pid, msg string }{{b.ID, "short"}, {"nope", m.ID}, {b.ID, bundler.B64(make([]byte, 32))}} {
		if _, err := s.Assign(ctx, bad.pid, bad.msg, false, nil); err == nil {
			t.Fatalf("assign %s to %s must fail", bad.msg, bad.pid)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

type fakeTxs map[string]*bundler.Item

func (f fakeTxs) Fetch(_ context.Context, id string) (*bundler.Item, error) {
	if it, ok := f[id]; ok {
		return it, nil
	}
	return nil, store.ErrNotFound
}

// Tags that are not valid UTF-8 are refused where items enter: written, spawned, or assigned from the chain.
func TestInvalidUTF8Refused(t *testing.T) {
	s, _ := newSU(t)
	ctx := context.Background()
	_, uw := wallets(t)
	p := spawnItem(t, s)
	if _, err := s.Write(ctx, p); err != nil {
		t.Fatal(err)
	}
	ao := []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Message"}}
	bad := sign(t, uw, p.ID, append(ao, bundler.Tag{Name: "K", Value: "a\xffb"})...)
	if _, err := s.Write(ctx, bad); !errors.Is(err, bundler.ErrInvalidItem) || !contains(err.Error(), "UTF-8") {
		t.Fatalf("message: %v", err)
	}
	badSpawn := sign(t, uw, "", bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Type", Value: "Process"},
		bundler.Tag{Name: "Module", Value: "mod"}, bundler.Tag{Name: "Scheduler", Value: s.Address()}, bundler.Tag{Name: "N\xc0", Value: "v"})
	if _, err := s.Write(ctx, badSpawn); !errors.Is(err, bundler.ErrInvalidItem) {
		t.Fatalf("spawn: %v", err)
	}
	onChain := sign(t, uw, "", bundler.Tag{Name: "Note", Value: "\xfe"})
	good := sign(t, uw, "", bundler.Tag{Name: "Note", Value: "fine"})
	s.txs = fakeTxs{onChain.ID: onChain, good.ID: good}
	var ce *Error
	if _, err := s.Assign(ctx, p.ID, onChain.ID, true, nil); !errors.As(err, &ce) || !contains(ce.Msg, "UTF-8") {
		t.Fatalf("assign: %v", err)
	}
	if _, err := s.Assign(ctx, p.ID, good.ID, true, nil); err != nil {
		t.Fatalf("assign of a valid on-chain message: %v", err)
	}
	if es, _ := s.Entries(ctx, p.ID, 0, -1, 0); len(es) != 2 {
		t.Fatalf("%d entries, want the spawn and the valid assignment", len(es))
	}
}

// With a module check set, a spawn it refuses is not scheduled, and its refusal reaches the caller as is.
func TestSpawnModuleCheck(t *testing.T) {
	s, db := newSU(t)
	ctx := context.Background()
	s.checkModule = func(_ context.Context, id string) error {
		if id != "mod" {
			return &Error{Status: 422, Msg: "module " + id + " is not runnable"}
		}
		return nil
	}
	_, uw := wallets(t)
	bad := sign(t, uw, "", bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Type", Value: "Process"},
		bundler.Tag{Name: "Module", Value: "other"}, bundler.Tag{Name: "Scheduler", Value: s.Address()})
	var ce *Error
	if _, err := s.Write(ctx, bad); !errors.As(err, &ce) || ce.HTTPStatus() != 422 || !contains(ce.Msg, "other") {
		t.Fatalf("refused spawn: %v", err)
	}
	if _, err := db.GetProcess(ctx, bad.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused spawn stored: %v", err)
	}
	if _, err := s.Write(ctx, spawnItem(t, s)); err != nil {
		t.Fatalf("valid spawn: %v", err)
	}
}
