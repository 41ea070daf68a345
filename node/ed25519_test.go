package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node/config"
)

func ed25519Node(c *config.Config) { c.Wallet.Type = bundler.KeyEd25519 }

// signedBy reads a stored item and checks its signature again (Parse, not ParseStored).
func signedBy(t *testing.T, n *testNode, id string) *bundler.Item {
	t.Helper()
	raw, err := n.DB.Item(context.Background(), id)
	if err != nil {
		t.Fatalf("item %s: %v", id, err)
	}
	it, err := bundler.Parse(raw)
	if err != nil {
		t.Fatalf("item %s does not verify: %v", id, err)
	}
	return it
}

// A node whose keys are ed25519 runs the tutorial (spawn, Eval, Set, result, dry-run) for a client signing with
// an ed25519 key too: its assignments, pushed messages and records are type-2 items, verifiable by anyone, its
// scheduler address is base64url(sha256(key)), and the gateway finds its Scheduler-Location by that address.
func TestEd25519NodeTutorial(t *testing.T) {
	dir := t.TempDir()
	n := startNodeWith(t, dir, ed25519Node)
	defer n.Close()
	user, _, err := bundler.LoadOrCreateSigner(filepath.Join(dir, "user-ed25519.json"), bundler.KeyEd25519)
	if err != nil {
		t.Fatal(err)
	}
	n.user = user

	key, err := bundler.DecodeB64(n.Wallet.Owner())
	if err != nil || len(key) != 32 {
		t.Fatalf("node key %q is not a 32-byte ed25519 key: %v", n.Wallet.Owner(), err)
	}
	h := sha256.Sum256(key)
	if n.info.Scheduler != bundler.B64(h[:]) || n.Wallet.SignatureType() != bundler.SigEd25519 || n.MUKey.SignatureType() != bundler.SigEd25519 {
		t.Fatalf("scheduler %s, want %s (types %d, %d)", n.info.Scheduler, bundler.B64(h[:]), n.Wallet.SignatureType(), n.MUKey.SignatureType())
	}
	if n.L1 == nil || n.L1.SignatureType() != bundler.SigArweave || n.L1.Address() == n.Wallet.Address() {
		t.Fatalf("an ed25519 node needs an RSA wallet of its own for bundle transactions: %v", n.L1)
	}

	p, status, out := n.post("", "", tg("Name", "kv"))
	if status != http.StatusAccepted {
		t.Fatalf("spawn: %d %v", status, out)
	}
	ev, status, _ := n.post(kvStore, p.ID, tg("Action", "Eval"))
	if status != http.StatusAccepted {
		t.Fatalf("eval: %d", status)
	}
	if r := n.result(p.ID, ev.ID); r["Error"] != nil {
		t.Fatalf("eval: %v", r["Error"])
	}
	set, _, _ := n.post("", p.ID, tg("Action", "Set"), tg("Key", "k"), tg("Value", "v"))
	r := n.result(p.ID, set.ID)
	ms := messages(r)
	if r["Error"] != nil || len(ms) != 1 || ms[0]["Data"] != "Value stored!" || ms[0]["Target"] != user.Address() {
		t.Fatalf("Set: %v %v", r["Error"], ms)
	}
	bad, _, _ := n.post("", p.ID, tg("Action", "Set"), tg("Key", "nope"))
	if r := n.result(p.ID, bad.ID); !strings.Contains(fmt.Sprint(r["Error"]), "Value is required!") {
		t.Fatalf("bad Set: %v", r["Error"])
	}
	if ms := messages(n.dryrun(p.ID, tg("Action", "Get"), tg("Key", "k"))); len(ms) != 1 || tagOf(ms[0], "Value") != "v" {
		t.Fatalf("dry-run Get: %v", ms)
	}
	// A Ping makes the process send itself a Pong, which the MU signs (ed25519) and the SU schedules.
	n.post("x", p.ID, tg("Action", "Ping"))
	nodetest.Eventually(t, "the pong", func() bool {
		ms := messages(n.dryrun(p.ID, tg("Action", "Get"), tg("Key", "pong-1")))
		return len(ms) == 1 && tagOf(ms[0], "Value") == "pong x from "+p.ID
	})

	ctx := context.Background()
	es, err := n.DB.Entries(ctx, p.ID, 0, -1, 0)
	if err != nil || len(es) != 6 {
		t.Fatalf("%d entries (want spawn, eval, 2 sets, ping, pong): %v", len(es), err)
	}
	for _, e := range es {
		a := signedBy(t, n, e.AssignmentID)
		if a.SignatureType != bundler.SigEd25519 || a.OwnerAddress() != n.info.Scheduler {
			t.Fatalf("assignment %d: type %d signed by %s", e.Nonce, a.SignatureType, a.OwnerAddress())
		}
		m := signedBy(t, n, e.MessageID)
		if m.SignatureType != bundler.SigEd25519 {
			t.Fatalf("message %d is type %d", e.Nonce, m.SignatureType)
		}
		if act, _ := m.Tag("Action"); act == "Pong" && m.OwnerAddress() != n.info.MUAddress {
			t.Fatalf("the pong is signed by %s, not the MU %s", m.OwnerAddress(), n.info.MUAddress)
		}
	}
	if mod := signedBy(t, n, n.info.Module); mod.SignatureType != bundler.SigEd25519 {
		t.Fatalf("module record is type %d", mod.SignatureType)
	}

	// The records reach the gateway in a bundle (paid by the RSA wallet) and are found by the owner address.
	n.flushUploads()
	rem := newRemote(n.Gateway, "someone else", "")
	url, err := rem.LocateScheduler(ctx, n.info.Scheduler)
	if err != nil || url != n.cfg.SU.PublicURL {
		t.Fatalf("Scheduler-Location of %s: %q %v", n.info.Scheduler, url, err)
	}
	tx, err := n.Gateway.Tx(ctx, set.ID)
	if err != nil || tx.Owner.Address != user.Address() || tx.Owner.Key != user.Owner() {
		t.Fatalf("the Set on the gateway: %+v %v", tx.Owner, err)
	}
	txs, _, err := n.Gateway.Transactions(ctx, gateway.TxQuery{Owners: []string{n.info.Scheduler}, Tags: []gateway.TagFilter{{Name: "Type", Values: []string{"Assignment"}}}})
	if err != nil || len(txs) != 6 {
		t.Fatalf("the gateway lists %d assignments by the scheduler's address: %v", len(txs), err)
	}

	// Restart: the same keys come back, and the process goes on.
	module, sched := n.info.Module, n.info.Scheduler
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n2 := startNodeWith(t, dir, ed25519Node)
	defer n2.Close()
	n2.user = user
	if n2.info.Scheduler != sched || n2.info.Module != module {
		t.Fatalf("after restart: scheduler %s module %s, want %s %s", n2.info.Scheduler, n2.info.Module, sched, module)
	}
	again, _, _ := n2.post("", p.ID, tg("Action", "Set"), tg("Key", "k2"), tg("Value", "v2"))
	if r := n2.result(p.ID, again.ID); r["Error"] != nil {
		t.Fatalf("Set after restart: %v", r["Error"])
	}
}

// Two ed25519 nodes of one deployment (one shared ed25519 MU key) talk across: a Ping and its Pong.
func TestEd25519Mesh(t *testing.T) {
	muKey := filepath.Join(t.TempDir(), "mu-ed25519.json")
	if _, _, err := bundler.LoadOrCreateSigner(muKey, bundler.KeyEd25519); err != nil {
		t.Fatal(err)
	}
	ns := startMesh(t, 2, func(_ int, c *config.Config) {
		ed25519Node(c)
		c.MU.Wallet = muKey
		c.Upload.MaxAge = 50 * time.Millisecond
	})
	a, b := ns[0].meshProcess("A", ""), ns[1].meshProcess("B", "")
	ns[0].eval(a, fmt.Sprintf(`Send({ Target = %q, Action = "Ping" })`, b))
	settled(t, ns[1], b, "ping from "+a)
	settled(t, ns[0], a, "pong from "+b)
}
