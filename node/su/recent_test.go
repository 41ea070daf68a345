package su

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/internal/fixture"
	"github.com/aonode/aonode/node/store"
)

// What Load hands over from the items the SU kept must be what it reads back from the store: the same
// assignment and message, field for field, whoever signed them (an RSA or ed25519 node; a client's item as the
// MU parsed it, or an item the MU signed itself).
func TestLoadHandsOverWhatTheStoreHolds(t *testing.T) {
	ctx := context.Background()
	rsaNode, user := wallets(t)
	jwk, err := bundler.GenerateEd25519JWK()
	if err != nil {
		t.Fatal(err)
	}
	edKey, err := bundler.NewEd25519Key(jwk)
	if err != nil {
		t.Fatal(err)
	}
	for name, node := range map[string]bundler.Signer{"rsa": rsaNode, "ed25519": edKey} {
		t.Run(name, func(t *testing.T) {
			db, err := store.Open(filepath.Join(t.TempDir(), "su.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			s := New(Config{Signer: node, Store: db, Heights: fixture.Height(9)})
			parsed := func(it *bundler.Item) *bundler.Item { // as the MU hands a client's POST to the SU
				p, err := bundler.Parse(it.Raw)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			spawn := parsed(spawnItem(t, s))
			pid := spawn.ID
			ao := []bundler.Tag{{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Message"}}
			items := []*bundler.Item{spawn, parsed(msgItem(t, pid))}
			for _, c := range []struct {
				data   []byte
				anchor string
				tags   []bundler.Tag
			}{{nil, "", nil}, {[]byte("reply"), strings.Repeat("r", 32), []bundler.Tag{{Name: "Action", Value: "Reply"}}}} {
				it, err := edKey.Sign(c.data, pid, c.anchor, append(append([]bundler.Tag{}, ao...), c.tags...))
				if err != nil {
					t.Fatal(err)
				}
				items = append(items, it) // as the MU pushes what a process sent, signed by its own key
				it, err = user.Sign(c.data, pid, c.anchor, append(append([]bundler.Tag{}, ao...), c.tags...))
				if err != nil {
					t.Fatal(err)
				}
				items = append(items, it)
			}
			for _, it := range items {
				if _, err := s.Write(ctx, it); err != nil {
					t.Fatal(err)
				}
			}
			if s.recent.c.Len() != len(items) {
				t.Fatalf("%d entries kept for the CU, want %d", s.recent.c.Len(), len(items))
			}
			got, err := s.Load(ctx, pid, 0, -1, 100)
			if err != nil || len(got) != len(items) {
				t.Fatalf("load: %d entries, %v", len(got), err)
			}
			if s.recent.c.Len() != 0 {
				t.Fatalf("%d kept entries were not taken by Load", s.recent.c.Len())
			}
			again, err := s.Load(ctx, pid, 0, -1, 100) // read from the store now
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], again[i]) {
					t.Fatalf("entry %d handed over:\n%+v\n%+v\nread back:\n%+v\n%+v", i, got[i].Assignment, got[i].Message, again[i].Assignment, again[i].Message)
				}
			}
		})
	}
}

// Items kept for an entry are handed over only for that entry: a nonce whose write failed is signed again,
// with another assignment.
func TestRecentOnlyForItsEntry(t *testing.T) {
	r := newRecent()
	asg, msg := &bundler.Item{ID: "a1"}, &bundler.Item{ID: "m1", Raw: []byte("m")}
	e := store.Entry{Process: "p", Nonce: 3, AssignmentID: "a1", MessageID: "m1"}
	r.offer(e, asg, msg)
	other := e
	other.AssignmentID = "a2"
	if _, ok := r.take(other); ok {
		t.Fatal("items handed over for another assignment at the same nonce")
	}
	r.offer(e, asg, msg)
	if sc, ok := r.take(e); !ok || sc.Assignment != asg || sc.Message != msg {
		t.Fatal("items not handed over for their entry")
	}
	if _, ok := r.take(e); ok {
		t.Fatal("items handed over twice")
	}
	r.offer(e, asg, nil)
	big := &bundler.Item{ID: "m1", Raw: make([]byte, recentMaxSize+1)}
	r.offer(e, asg, big)
	if r.c.Len() != 0 {
		t.Fatal("kept a message not held here, or one too large")
	}
}
