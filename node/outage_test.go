package node

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aonode/aonode/gateway"
	"github.com/aonode/aonode/internal/arlocaltest"
	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/store"
)

// TestArlocalOutageLosesNothing stops arlocal while messages keep arriving and restarts the node during the
// outage: every acknowledged message and assignment still reaches arlocal, once, and is confirmed.
func TestArlocalOutageLosesNothing(t *testing.T) {
	a := arlocaltest.Start(t)
	dir := t.TempDir()
	ext := func(c *config.Config) {
		c.Gateway.Embedded, c.Gateway.URL, c.Gateway.Arlocal = false, a.URL(), true
		c.Gateway.Timeout = 2 * time.Second
		c.Upload.MaxAge, c.Upload.Interval = 50*time.Millisecond, 50*time.Millisecond
		c.Upload.MaxBackoff, c.Upload.ConfirmInterval = 500*time.Millisecond, 200*time.Millisecond
	}
	n := startNodeWith(t, dir, ext)
	p, status, _ := n.post("", "")
	if status != http.StatusAccepted {
		t.Fatalf("spawn: %d", status)
	}
	acked := []string{p.ID}
	sendSome := func(n *testNode, k int, round string) {
		for i := range k {
			it, status, out := n.post(fmt.Sprintf("X = '%s-%d'", round, i), p.ID, tg("Action", "Eval"))
			if status != http.StatusAccepted {
				t.Fatalf("%s message %d: %d %v", round, i, status, out)
			}
			acked = append(acked, it.ID)
		}
	}
	sendSome(n, 5, "before")
	ctx := context.Background()
	// Let the first bundles land, so the harness's stop (which mines a block to make arlocal's restart exact)
	// does not race a node mining in the same second.
	nodetest.Eventually(t, "the first uploads", func() bool {
		c, _ := n.DB.UploadCounts(ctx)
		return c[store.UploadPending] == 0
	})
	a.Stop()
	sendSome(n, 5, "outage")
	nodetest.Eventually(t, "a failed upload during the outage", func() bool {
		c, _ := n.DB.UploadCounts(ctx)
		return c[store.UploadPending] > 0
	})
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	// The node comes back while the gateway is still down, and keeps taking messages.
	n = startNodeWith(t, dir, ext)
	defer n.Close()
	sendSome(n, 5, "restarted")
	a.Restart(t)
	sendSome(n, 5, "after")

	nodetest.Eventually(t, "every upload confirmed", func() bool {
		c, _ := n.DB.UploadCounts(ctx)
		return c[store.UploadPending] == 0 && c[store.UploadPosted] == 0 && c[store.UploadConfirmed] > 0
	})
	gw := gateway.NewClient(a.URL())
	for _, id := range acked {
		e, err := n.DB.EntryByID(ctx, p.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range []string{id, e.AssignmentID} {
			u, err := n.DB.UploadStatus(ctx, item)
			if err != nil || u.Status != store.UploadConfirmed || u.BundleID == "" {
				t.Fatalf("upload of %s: %+v %v", item, u, err)
			}
			if _, err := gw.Tx(ctx, item); err != nil {
				t.Fatalf("%s is not on arlocal: %v", item, err)
			}
		}
	}
	// Exactly one assignment per nonce on the gateway: nothing was uploaded twice into a different order.
	seen := map[string]bool{}
	err := gw.AllTransactions(ctx, gateway.TxQuery{
		Tags: []gateway.TagFilter{{Name: "Type", Values: []string{"Assignment"}}, {Name: "Process", Values: []string{p.ID}}},
		Sort: gateway.SortHeightAsc,
	}, func(tx gateway.Tx) error {
		if seen[tx.ID] {
			return fmt.Errorf("assignment %s listed twice", tx.ID)
		}
		seen[tx.ID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(acked) {
		t.Fatalf("%d assignments on arlocal, %d acknowledged", len(seen), len(acked))
	}
}

func TestArlocalAutoMine(t *testing.T) {
	a := arlocaltest.Start(t)
	n := startNodeWith(t, t.TempDir(), func(c *config.Config) {
		c.Gateway.Embedded, c.Gateway.URL, c.Gateway.Arlocal = false, a.URL(), true
		c.Gateway.AutoMine = 200 * time.Millisecond
	})
	defer n.Close()
	gw := gateway.NewClient(a.URL())
	ctx := context.Background()
	start, err := gw.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nodetest.Eventually(t, "arlocal to mine blocks on its own", func() bool {
		info, err := gw.Info(ctx)
		return err == nil && info.Height >= start.Height+3
	})
}
