package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/gateway/embedded"
	"github.com/aonode/aonode/internal/arlocaltest"
	"github.com/aonode/aonode/internal/fixture"
	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/progress"
	"github.com/aonode/aonode/node/recovery"
	"github.com/aonode/aonode/node/store"
)

// kvStore is the tutorial's key-value store with Ping, which makes the process message itself, and Pong.
const kvStore = fixture.KVStore + `
Pongs = Pongs or 0
Handlers.add("Ping", Handlers.utils.hasMatchingTag("Action", "Ping"), function (msg)
  ao.send({ Target = ao.id, Action = "Pong", Data = "pong " .. msg.Data })
end)
Handlers.add("Pong", Handlers.utils.hasMatchingTag("Action", "Pong"), function (msg)
  Pongs = Pongs + 1
  Store["pong-" .. Pongs] = msg.Data .. " from " .. msg.From
end)`

// gatewayKinds are the gateways recovery must work against: aonode's embedded gateway run as a separate
// service (fed with L1 bundles, or used as a bundler service), the node's own embedded gateway (fed in
// process), and a real arlocal (which loses item anchors, so
// some items come back from their bundles). Each returns the config edit that points a node at it.
func gatewayKinds(t *testing.T) map[string]func(t *testing.T) func(*config.Config) {
	embeddedGW := func(t *testing.T) string {
		g, err := embedded.Open(filepath.Join(t.TempDir(), "gw.db"), embedded.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(g.Handler())
		t.Cleanup(func() { srv.Close(); g.Close() })
		return srv.URL
	}
	return map[string]func(t *testing.T) func(*config.Config){
		"embedded": func(t *testing.T) func(*config.Config) {
			url := embeddedGW(t)
			return func(c *config.Config) { c.Gateway.Embedded, c.Gateway.URL = false, url }
		},
		"embedded-as-bundler": func(t *testing.T) func(*config.Config) {
			url := embeddedGW(t)
			return func(c *config.Config) {
				c.Gateway.Embedded, c.Gateway.URL = false, url
				c.Upload.Mode, c.Upload.BundlerURL = "bundler", url
			}
		},
		// The node's own embedded gateway, fed in process, whose file outlives the node's data directory:
		// gateway.db there is a link to a file kept elsewhere, and the recovering node reads that file through
		// a gateway of its own (the first node's data dir is gone).
		"in-process": func(t *testing.T) func(*config.Config) {
			keep := filepath.Join(t.TempDir(), "gateway.db")
			first, url := "", ""
			return func(c *config.Config) {
				if first == "" || first == c.DataDir {
					first = c.DataDir
					link := filepath.Join(c.DataDir, "gateway.db")
					if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
						t.Fatal(err)
					}
					os.Remove(link) // a retried start
					if err := os.Symlink(keep, link); err != nil {
						t.Fatal(err)
					}
					return
				}
				if url == "" {
					g, err := embedded.Open(keep, embedded.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
					if err != nil {
						t.Fatal(err)
					}
					srv := httptest.NewServer(g.Handler())
					t.Cleanup(func() { srv.Close(); g.Close() })
					url = srv.URL
				}
				c.Gateway.Embedded, c.Gateway.URL = false, url
			}
		},
		"arlocal": func(t *testing.T) func(*config.Config) {
			url := arlocaltest.Start(t).URL()
			return func(c *config.Config) { c.Gateway.Embedded, c.Gateway.URL, c.Gateway.Arlocal = false, url, true }
		},
	}
}

// recorded is what clients saw from the original node: every result byte for byte, the results page and the
// state.
type recorded struct {
	pid     string
	ids     []string
	results map[string][]byte
	page    []byte
	state   []byte
}

func (n *testNode) record(pid string, ids []string) recorded {
	n.t.Helper()
	r := recorded{pid: pid, ids: ids, results: map[string][]byte{}}
	for _, id := range ids {
		status, b := nodetest.Get(n.t, fmt.Sprintf("%s/result/%s?process-id=%s", n.url("cu"), id, pid))
		if status != http.StatusOK {
			n.t.Fatalf("result %s: %d %s", id, status, b)
		}
		r.results[id] = b
	}
	_, r.page = nodetest.Get(n.t, fmt.Sprintf("%s/results/%s?sort=ASC&limit=1000", n.url("cu"), pid))
	_, r.state = nodetest.Get(n.t, fmt.Sprintf("%s/state/%s", n.url("cu"), pid))
	return r
}

func (r recorded) compare(t *testing.T, n *testNode) {
	t.Helper()
	got := n.record(r.pid, r.ids)
	for _, id := range r.ids {
		if !bytes.Equal(got.results[id], r.results[id]) {
			t.Fatalf("result of %s differs after recovery:\n got %s\nwant %s", id, got.results[id], r.results[id])
		}
	}
	if !bytes.Equal(got.page, r.page) {
		t.Fatalf("results page differs:\n got %s\nwant %s", got.page, r.page)
	}
	if !bytes.Equal(got.state, r.state) {
		t.Fatalf("state differs:\n got %s\nwant %s", got.state, r.state)
	}
}

// TestRecoverFromGateway runs with every gateway kind and both node key types: an ed25519 node's assignments
// and checkpoints are type-2 items, which recovery rebuilds from the gateway's fields and verifies by type.
func TestRecoverFromGateway(t *testing.T) {
	for name, gw := range gatewayKinds(t) {
		for _, keyType := range []string{bundler.KeyRSA, bundler.KeyEd25519} {
			t.Run(name+"/"+keyType, func(t *testing.T) { recoverFromGateway(t, gw, keyType) })
		}
	}
}

func recoverFromGateway(t *testing.T, gw func(t *testing.T) func(*config.Config), keyType string) {
	point := gw(t)
	walletPath := filepath.Join(t.TempDir(), "node-wallet.json") // kept outside the data directory
	userDir := t.TempDir()
	external := func(c *config.Config) {
		point(c)
		c.Wallet.Path, c.Wallet.Type = walletPath, keyType
		c.Upload.MaxAge = 50 * time.Millisecond
		// Checkpoints after nonces 3 and 7: the recovered node starts from the one at 7.
		c.CU.SnapshotMessages, c.CU.CheckpointMessages, c.CU.SnapshotCostRatio = 4, 4, 0
	}
	dir1 := filepath.Join(t.TempDir(), "data")
	n1 := startNodeWith(t, dir1, external)
	n1.user = mustWallet(t, filepath.Join(userDir, "user.json"))

	p, status, _ := n1.post("", "", tg("Name", "kv"))
	if status != http.StatusAccepted {
		t.Fatalf("spawn: %d", status)
	}
	ids := []string{p.ID}
	send := func(data string, anchor string, tags ...bundler.Tag) string {
		tags = append(tags, tg("Data-Protocol", "ao"), tg("Variant", "ao.TN.1"), tg("Type", "Message"))
		it, err := n1.user.Sign([]byte(data), p.ID, anchor, tags)
		if err != nil {
			t.Fatal(err)
		}
		if status, out := n1.do("POST", n1.url("mu"), it.Raw); status != http.StatusAccepted {
			t.Fatalf("post: %d %v", status, out)
		}
		ids = append(ids, it.ID)
		return it.ID
	}
	send(kvStore, "", tg("Action", "Eval"))
	for i := range 4 {
		// Anchored messages: arlocal drops item anchors, so these must come back from their bundle.
		anchor := ""
		if i%2 == 0 {
			anchor = fmt.Sprintf("anchor-%025d", i)
		}
		send("", anchor, tg("Action", "Set"), tg("Key", fmt.Sprintf("k%d", i)), tg("Value", fmt.Sprintf("v%d", i)))
	}
	bad := send("", "", tg("Action", "Set"), tg("Key", "nope"))
	send("one", "", tg("Action", "Ping"))
	send("two", "", tg("Action", "Ping"))
	if r := n1.result(p.ID, bad); !strings.Contains(fmt.Sprint(r["Error"]), "Value is required!") {
		t.Fatalf("bad Set: %v", r["Error"])
	}
	// The pongs arrive through the MU crank as messages signed by the node.
	nodetest.Eventually(t, "both pongs", func() bool {
		ms := messages(n1.dryrun(p.ID, tg("Action", "Get"), tg("Key", "pong-2")))
		return len(ms) == 1 && tagOf(ms[0], "Value") != ""
	})
	_, page := n1.do("GET", n1.url("su")+"/"+p.ID+"?process-id="+p.ID+"&limit=100", nil)
	for _, e := range page["edges"].([]any) {
		id := e.(map[string]any)["node"].(map[string]any)["message"].(map[string]any)["id"].(string)
		if !contains(ids, id) {
			ids = append(ids, id) // the pongs
		}
	}
	if len(ids) != 11 {
		t.Fatalf("%d scheduled messages, want 11", len(ids))
	}
	want := n1.record(p.ID, ids)

	ctx := context.Background()
	n1.flushUploads()
	if c, _ := n1.DB.UploadCounts(ctx); c[store.UploadPending] != 0 {
		t.Fatalf("uploads still pending: %v", c)
	}
	st, b := nodetest.Get(t, n1.url("admin")+"/uploads/"+ids[1])
	if st != http.StatusOK || !strings.Contains(string(b), `"bundle_id"`) {
		t.Fatalf("upload status of %s: %d %s", ids[1], st, b)
	}
	// Posted items are confirmed once the gateway has them in a block.
	if err := n1.Worker.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if _, b := nodetest.Get(t, n1.url("admin")+"/uploads/"+ids[1]); !strings.Contains(string(b), `"status":"confirmed"`) {
		t.Fatalf("upload of %s not confirmed: %s", ids[1], b)
	}
	_, metrics := nodetest.Get(t, n1.url("admin")+"/metrics")
	for _, want := range []string{`aonode_upload_queue_items{status="confirmed"}`, `aonode_upload_items_posted_total`,
		`aonode_http_requests_total{code="202",method="POST",route="/",unit="mu"}`} {
		if !strings.Contains(string(metrics), want) {
			t.Fatalf("metrics lack %s:\n%s", want, metrics)
		}
	}
	if err := n1.Close(); err != nil {
		t.Fatal(err)
	}
	// Lose the disk.
	if err := os.RemoveAll(dir1); err != nil {
		t.Fatal(err)
	}

	n2 := startNodeWith(t, filepath.Join(t.TempDir(), "data"), external)
	defer n2.Close()
	n2.user = n1.user
	// The first request for the unknown process recovers it from the gateway; its state comes from the
	// newest checkpoint plus the messages after it, and the older results from a replay on demand.
	if status, b := nodetest.Get(t, n2.url("cu")+"/state/"+p.ID); status != http.StatusOK || !bytes.Equal(b, want.state) {
		t.Fatalf("state after recovery: %d\n got %s\nwant %s", status, b, want.state)
	}
	if st := n2.CU.Stats(); st.CheckpointRestores != 1 || st.Evaluated != 3 {
		t.Fatalf("recovered node did not start from the checkpoint at nonce 7: %+v", st)
	}
	// The recovery was followed: its last phase wrote the 11 entries it verified.
	var rec *progress.Status
	for _, j := range n2.Progress.Ended() {
		if j.Kind == "recover" && j.Subject == p.ID {
			rec = &j
		}
	}
	if rec == nil || rec.Phase != "verifying and writing" || rec.Done != 11 || rec.Total != 11 {
		t.Fatalf("recovery progress %+v, want 11/11 assignments verified and written", rec)
	}
	want.compare(t, n2)
	if _, err := n2.DB.GetProcess(ctx, p.ID); err != nil {
		t.Fatalf("process not restored: %v", err)
	}
	// The recovered node keeps scheduling the process: the chain goes on from the recovered head.
	next, status, out := n2.post("", p.ID, tg("Action", "Set"), tg("Key", "after"), tg("Value", "recovery"))
	if status != http.StatusAccepted {
		t.Fatalf("post after recovery: %d %v", status, out)
	}
	if r := n2.result(p.ID, next.ID); r["Error"] != nil {
		t.Fatalf("result after recovery: %v", r["Error"])
	}
	ms := messages(n2.dryrun(p.ID, tg("Action", "Get"), tg("Key", "k2")))
	if len(ms) != 1 || tagOf(ms[0], "Value") != "v2" {
		t.Fatalf("Get k2 after recovery: %v", ms)
	}
	e, err := n2.DB.EntryByID(ctx, p.ID, next.ID)
	if err != nil || e.Nonce != 11 {
		t.Fatalf("new message nonce: %v %v", e, err)
	}
	if a := signedBy(t, n2, e.AssignmentID); a.SignatureType != n2.Wallet.SignatureType() || a.OwnerAddress() != n2.info.Scheduler {
		t.Fatalf("assignment after recovery: type %d by %s", a.SignatureType, a.OwnerAddress())
	}
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func mustWallet(t *testing.T, path string) *bundler.Wallet {
	w, _, err := bundler.LoadOrCreateWallet(path)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// A node with another wallet can still recover and evaluate the process (read-only: it cannot sign as the
// process's scheduler), and recovery refuses what it cannot verify.
func TestRecoverReadOnlyAndRefusals(t *testing.T) {
	point := gatewayKinds(t)["embedded"](t)
	ext := func(c *config.Config) {
		point(c)
		c.Upload.MaxAge = 10 * time.Millisecond
	}
	n1 := startNodeWith(t, filepath.Join(t.TempDir(), "a"), ext)
	p, _, _ := n1.post("", "")
	ev, _, _ := n1.post("X = 41 + 1; print(X)", p.ID, tg("Action", "Eval"))
	want := n1.record(p.ID, []string{p.ID, ev.ID})
	n1.flushUploads()
	n1.Close()

	n2 := startNodeWith(t, filepath.Join(t.TempDir(), "b"), ext) // a different wallet
	defer n2.Close()
	ctx := context.Background()
	rep, err := n2.Recover(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != 2 || rep.Scheduler != n1.info.Scheduler {
		t.Fatalf("report %+v", rep)
	}
	want.compare(t, n2)
	if _, err := n2.Recover(ctx, p.ID); !errors.Is(err, recovery.ErrExists) {
		t.Fatalf("second recovery: %v", err)
	}
	_, status, out := n2.post("Y = 1", p.ID, tg("Action", "Eval"))
	if status == http.StatusAccepted {
		t.Fatalf("a node that is not the scheduler accepted a message for a recovered process: %v", out)
	}
	cases := map[string]string{
		"not an id":       "xyz",
		"unknown process": bundler.B64(bytes.Repeat([]byte{9}, 32)),
		"not a process":   n1.info.Module,
	}
	for name, id := range cases {
		if _, err := n2.Recover(ctx, id); err == nil {
			t.Fatalf("%s: recovered", name)
		}
		if _, err := n2.DB.GetProcess(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: something was stored", name)
		}
	}
	// The CU answers 404 for a process the gateway does not have either.
	if status, b := nodetest.Get(t, n2.url("cu")+"/state/"+cases["unknown process"]); status != http.StatusNotFound {
		t.Fatalf("state of unknown process: %d %s", status, b)
	}
}

func TestUploadsEndpoint(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	p, _, _ := n.post("", "")
	cases := []struct {
		query  string
		status int
		has    string
	}{
		{"/uploads", 200, `"item_id":"` + p.ID + `"`},
		{"/uploads?status=pending&limit=5", 200, `"counts"`},
		{"/uploads?status=confirmed&after=0&limit=1000", 200, `"uploads"`},
		{"/uploads/" + p.ID, 200, `"item_id":"` + p.ID + `"`},
		{"/uploads/" + bundler.B64(make([]byte, 32)), 404, "no upload for item"},
		{"/uploads?status=lost", 400, "status must be"},
		{"/uploads?limit=0", 400, "limit must be"},
		{"/uploads?limit=abc", 400, "limit must be"},
		{"/uploads?after=-1", 400, "after must be"},
		{"/healthz", 200, `"status":"ok"`},
		{"/readyz", 200, `"status":"ready"`},
		{"/no/such/route", 404, "no route"},
	}
	for _, c := range cases {
		status, b := nodetest.Get(t, n.url("admin")+c.query)
		if status != c.status || !strings.Contains(string(b), c.has) {
			t.Fatalf("%s: %d %s", c.query, status, b)
		}
	}
	for id, want := range map[string]struct {
		status int
		has    string
	}{
		"xyz": {400, "not a 43-character"}, p.ID: {409, "already held"}, bundler.B64(make([]byte, 32)): {404, "not found on the gateway"},
	} {
		status, out := n.do("POST", n.url("admin")+"/recover/"+id, nil)
		if status != want.status || !strings.Contains(fmt.Sprint(out["error"]), want.has) {
			t.Fatalf("recover %s: %d %v", id, status, out)
		}
	}
	// The unit ports do not serve the admin endpoints.
	if status, b := nodetest.Get(t, n.url("su")+"/uploads"); status == http.StatusOK || strings.Contains(string(b), "counts") {
		t.Fatalf("uploads on the SU port: %d %s", status, b)
	}
	if status, _ := nodetest.Get(t, n.url("mu")+"/metrics"); status == http.StatusOK {
		t.Fatalf("metrics on the MU port: %d", status)
	}
}

// flushUploads posts the whole upload queue now. A post can fail and be retried, as the worker does (arlocal
// sometimes leaves a bundle's items unindexed, which fails the post so the items go out again).
func (n *testNode) flushUploads() {
	n.t.Helper()
	var err error
	for range 10 {
		if err = n.Worker.Flush(context.Background()); err == nil {
			if c, _ := n.DB.UploadCounts(context.Background()); c[store.UploadPending] == 0 {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	n.t.Fatalf("upload queue not flushed: %v", err)
}

// A CU whose gateway was down when it first met a process asks again soon once the gateway is back (the
// wait after a failure starts at a second and doubles), not after the longest wait.
func TestRecoverRetriesSoonAfterAnOutage(t *testing.T) {
	g, err := embedded.Open(filepath.Join(t.TempDir(), "gw.db"), embedded.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var down atomic.Bool
	inner := g.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ext := func(c *config.Config) {
		c.Gateway.Embedded, c.Gateway.URL = false, srv.URL
		c.Upload.MaxAge = 10 * time.Millisecond
	}
	n1 := startNodeWith(t, filepath.Join(t.TempDir(), "a"), ext)
	p, _, _ := n1.post("", "")
	n1.flushUploads()
	n1.Close()

	n2 := startNodeWith(t, filepath.Join(t.TempDir(), "b"), ext)
	defer n2.Close()
	down.Store(true)
	if status, b := nodetest.Get(t, n2.url("cu")+"/state/"+p.ID); status == http.StatusOK {
		t.Fatalf("state while the gateway is down: %d %s", status, b)
	}
	down.Store(false)
	start := time.Now()
	nodetest.Eventually(t, "recovery once the gateway is back", func() bool {
		status, _ := nodetest.Get(t, n2.url("cu")+"/state/"+p.ID)
		return status == http.StatusOK
	})
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("recovered %s after the gateway came back", took)
	}
}
