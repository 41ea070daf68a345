package node

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/store"
)

// TestUploadsReachEmbeddedGatewayInProcess: with the default config the upload worker hands its bundles to
// the node's embedded gateway directly: no chunk is posted, and every item is served and confirmed as
// before.
func TestUploadsReachEmbeddedGatewayInProcess(t *testing.T) {
	n := startNode(t, filepath.Join(t.TempDir(), "data"))
	defer n.Close()
	if n.GW == nil {
		t.Fatal("the default config has no embedded gateway")
	}
	p, status, _ := n.post("", "", tg("Name", "inproc"))
	if status != http.StatusAccepted {
		t.Fatalf("spawn: %d", status)
	}
	ev, status, _ := n.post(kvStore, p.ID, tg("Action", "Eval"))
	if status != http.StatusAccepted {
		t.Fatalf("eval: %d", status)
	}
	if r := n.result(p.ID, ev.ID); r["Error"] != nil {
		t.Fatalf("eval: %v", r["Error"])
	}
	n.flushUploads()

	st := n.GW.Stats()
	if st.Chunks != 0 || st.Submits == 0 {
		t.Fatalf("uploads reached the gateway as %+v, want Submits and no chunks", st)
	}
	ctx := context.Background()
	es, err := n.DB.Entries(ctx, p.ID, 0, -1, 0)
	if err != nil || len(es) != 2 {
		t.Fatalf("%d entries: %v", len(es), err)
	}
	ids := []string{n.info.Module}
	for _, e := range es {
		ids = append(ids, e.MessageID, e.AssignmentID)
	}
	for _, id := range ids {
		it := signedBy(t, n, id)
		// The gateway's HTTP API serves what went in process: the item's payload, and its record.
		status, body := nodetest.Get(t, n.url("gateway")+"/raw/"+id)
		if status != http.StatusOK || !bytes.Equal(body, it.Data) {
			t.Errorf("GET /raw/%s: %d, %d bytes, want %d", id, status, len(body), len(it.Data))
		}
		tx, err := n.Gateway.Tx(ctx, id)
		if err != nil || tx.BundledIn == "" || tx.Block == nil || tx.Owner.Address != it.OwnerAddress() {
			t.Errorf("gateway record of %s: %+v %v", id, tx, err)
		}
	}
	if err := n.Worker.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := n.DB.UploadCounts(ctx); c[store.UploadConfirmed] == 0 || c[store.UploadPosted] != 0 || c[store.UploadPending] != 0 {
		t.Fatalf("upload counts after Confirm: %v", c)
	}
	if n.GW.Stats().Chunks != 0 {
		t.Error("a chunk was posted")
	}
}

// TestURLIsEmbedded: the in-process poster is used only when the gateway URL is the node's own embedded
// gateway; any other URL keeps the HTTP upload.
func TestURLIsEmbedded(t *testing.T) {
	cases := []struct {
		listen, url string
		want        bool
	}{
		{":4000", "http://127.0.0.1:4000", true},
		{":4000", "http://localhost:4000/", true},
		{"127.0.0.1:4000", "http://127.0.0.1:4000", true},
		{"0.0.0.0:4000", "http://[::1]:4000", true},
		{"10.0.0.5:4000", "http://10.0.0.5:4000", true},
		{":4000", "http://127.0.0.1:4001", false},
		{":4000", "https://arweave.net", false},
		{":4000", "http://gw.example:4000", false},
		{":4000", "http://10.0.0.5:4000", false},
		{":4000", "::", false},
	}
	for _, c := range cases {
		got := urlIsEmbedded(config.GatewayConfig{Embedded: true, Listen: c.listen, URL: c.url})
		if got != c.want {
			t.Errorf("listen %q url %q: %v, want %v", c.listen, c.url, got, c.want)
		}
	}
}

// TestUploadsOverHTTPToAnotherURL: an embedded gateway reached through another URL (a proxy in front of it)
// still receives the node's bundles, over HTTP in chunks as before.
func TestUploadsOverHTTPToAnotherURL(t *testing.T) {
	n := startNodeWith(t, filepath.Join(t.TempDir(), "data"), func(c *config.Config) {
		target, err := url.Parse("http://" + c.Gateway.Listen)
		if err != nil {
			t.Fatal(err)
		}
		proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
		t.Cleanup(proxy.Close)
		c.Gateway.URL = proxy.URL
	})
	defer n.Close()
	p, status, _ := n.post("", "", tg("Name", "proxied"))
	if status != http.StatusAccepted {
		t.Fatalf("spawn: %d", status)
	}
	n.flushUploads()
	if st := n.GW.Stats(); st.Chunks == 0 || st.Submits != 0 {
		t.Fatalf("uploads reached the gateway as %+v, want chunks and no Submit", st)
	}
	if tx, err := n.Gateway.Tx(context.Background(), p.ID); err != nil || tx.BundledIn == "" {
		t.Fatalf("spawn on the gateway: %+v %v", tx, err)
	}
}
