package node

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/runtime"
	"github.com/aonode/aonode/node/runtime/aoslua"
)

// startSeeded starts a node whose node and user wallets are the fixed test keys in testdata (no RSA-4096
// generation per test).
func startSeeded(t *testing.T, edit func(*config.Config)) *testNode {
	t.Helper()
	dir := t.TempDir()
	for from, to := range map[string]string{"fuzz-node-wallet.json": "wallet.json", "fuzz-user-wallet.json": "user.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n := startNodeWith(t, dir, edit)
	t.Cleanup(func() { n.Close() })
	return n
}

// signed is an AO item from the test user (a Process when target is empty, without Module or Scheduler).
func (n *testNode) signed(data, target string, tags ...bundler.Tag) *bundler.Item {
	n.t.Helper()
	typ := "Message"
	if target == "" {
		typ = "Process"
	}
	tags = append(tags, tg("Data-Protocol", "ao"), tg("Variant", "ao.TN.1"), tg("Type", typ))
	it, err := n.user.Sign([]byte(data), target, "", tags)
	if err != nil {
		n.t.Fatal(err)
	}
	return it
}

// stored says whether the node holds anything of the item: as an item, or as a process.
func (n *testNode) stored(id string) bool {
	ctx := context.Background()
	if _, err := n.DB.Item(ctx, id); err == nil {
		return true
	}
	_, err := n.DB.GetProcess(ctx, id)
	return err == nil
}

// A spawn naming a module this node's CU cannot run is refused up front, naming the module, and nothing is
// stored; a spawn of a runnable module (held here, or only on the gateway) is scheduled and evaluated.
func TestSpawnChecksModule(t *testing.T) {
	n := startSeeded(t, nil)
	ctx := context.Background()
	// A message item: it exists, but it is not a module.
	p, status, _ := n.post("", "")
	if status != http.StatusAccepted {
		t.Fatalf("valid spawn: %d", status)
	}
	msg, status, _ := n.post("x", p.ID, tg("Action", "Eval"))
	if status != http.StatusAccepted {
		t.Fatalf("message: %d", status)
	}
	// Modules only the gateway holds: one this CU runs, one it does not.
	gwModule := func(tags ...bundler.Tag) string {
		it, err := n.Wallet.Sign([]byte("-- a module"), "", "", append([]bundler.Tag{
			tg("Data-Protocol", "ao"), tg("Variant", "ao.TN.1"), tg("Type", "Module"),
			tg("Input-Encoding", "JSON-1"), tg("Output-Encoding", "JSON-1"),
		}, tags...))
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.Post(n.url("gateway")+"/tx/arweave", "application/octet-stream", strings.NewReader(string(it.Raw)))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode/100 != 2 {
			t.Fatalf("post module to the gateway: %d", res.StatusCode)
		}
		if _, err := n.DB.Item(ctx, it.ID); err == nil {
			t.Fatal("the gateway-only module is in the node's store")
		}
		return it.ID
	}
	rt, err := aoslua.Current()
	if err != nil {
		t.Fatal(err)
	}
	var current []bundler.Tag
	for _, t := range runtime.ModuleTags(rt, rt.DefaultLimits()) {
		current = append(current, tg(t.Name, t.Value))
	}
	wasm := gwModule(tg("Module-Format", "wasm64-unknown-emscripten-draft_2024_02_15"))
	lua := gwModule(current...)
	unpinned := gwModule(tg("Module-Format", "aos-lua"))
	retired := gwModule(retag(current, "Runtime-Version", "aos-lua/0")...)
	greedy := gwModule(retag(current, "Compute-Limit", "9000000000000")...)
	missing := bundler.B64(make([]byte, 32))
	for _, tc := range []struct {
		name, module string
		status       int
		want         string
	}{
		{"unknown", missing, http.StatusBadRequest, "module " + missing + " not found"},
		{"not an id", "nope", http.StatusBadRequest, `Module "nope"`},
		{"a message", msg.ID, http.StatusUnprocessableEntity, "module " + msg.ID},
		{"another format", wasm, http.StatusUnprocessableEntity, "wasm64"},
		{"no runtime version", unpinned, http.StatusUnprocessableEntity, "module " + unpinned + " names no Runtime-Version; this CU runs " + rt.Version().Name},
		{"a retired runtime", retired, http.StatusUnprocessableEntity, "names runtime aos-lua/0, which this CU does not have"},
		{"limits above the CU's", greedy, http.StatusUnprocessableEntity, "asks Compute-Limit 9000000000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, unit := range []string{"mu", "su"} {
				it := n.signed("", "", tg("Module", tc.module), tg("Scheduler", n.info.Scheduler))
				status, out := n.do("POST", n.url(unit), it.Raw)
				if status != tc.status || !strings.Contains(fmt.Sprint(out["error"]), tc.want) {
					t.Fatalf("%s: %d %v, want %d naming %q", unit, status, out, tc.status, tc.want)
				}
				if n.stored(it.ID) {
					t.Fatalf("%s: refused spawn %s was stored", unit, it.ID)
				}
			}
		})
	}
	it := n.signed("", "", tg("Module", lua), tg("Scheduler", n.info.Scheduler))
	if status, out := n.do("POST", n.url("mu"), it.Raw); status != http.StatusAccepted {
		t.Fatalf("spawn of a module the gateway holds: %d %v", status, out)
	}
	if r := n.result(it.ID, it.ID); r["error"] != nil {
		t.Fatalf("spawn result: %v", r)
	}
}

// Tags that are not valid UTF-8 are refused wherever an item enters (MU, SU), and nothing is stored.
func TestInvalidUTF8TagsRefused(t *testing.T) {
	n := startSeeded(t, nil)
	p, status, _ := n.post("", "")
	if status != http.StatusAccepted {
		t.Fatalf("spawn: %d", status)
	}
	spawnTags := []bundler.Tag{tg("Module", n.info.Module), tg("Scheduler", n.info.Scheduler)}
	for _, tc := range []struct {
		name   string
		target string
		tags   []bundler.Tag
		want   string
	}{
		{"message value", p.ID, []bundler.Tag{tg("Action", "Eval\xff")}, "value is not valid UTF-8"},
		{"message name", p.ID, []bundler.Tag{tg("Act\xc3ion", "Eval")}, "is not valid UTF-8"},
		{"spawn value", "", append([]bundler.Tag{tg("Name", "\xed\xa0\x80")}, spawnTags...), "value is not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, unit := range []string{"mu", "su"} {
				it := n.signed("x", tc.target, tc.tags...)
				status, out := n.do("POST", n.url(unit), it.Raw)
				if status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["error"]), tc.want) {
					t.Fatalf("%s: %d %v, want 400 with %q", unit, status, out, tc.want)
				}
				if n.stored(it.ID) {
					t.Fatalf("%s: refused item stored", unit)
				}
			}
		})
	}
	es, err := n.SU.Entries(context.Background(), p.ID, 0, -1, 0)
	if err != nil || len(es) != 1 {
		t.Fatalf("schedule after refusals: %d entries, %v", len(es), err)
	}
}

// The listeners get the configured HTTP bounds: a body sent at a trickle to the MU is cut off with 408.
func TestListenerBodyTimeout(t *testing.T) {
	n := startSeeded(t, func(c *config.Config) { c.HTTP.BodyTimeout = 300 * time.Millisecond })
	conn, err := net.Dial("tcp", n.cfg.MU.Listen)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n")
	go func() {
		for i := 0; i < 100; i++ {
			time.Sleep(50 * time.Millisecond)
			if _, err := conn.Write([]byte{0}); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout || time.Since(start) > 2*time.Second {
		t.Fatalf("slow body: %d after %v", res.StatusCode, time.Since(start))
	}
}

// retag is tags with the value of name replaced.
func retag(tags []bundler.Tag, name, value string) []bundler.Tag {
	out := append([]bundler.Tag(nil), tags...)
	for i := range out {
		if out[i].Name == name {
			out[i].Value = value
		}
	}
	return out
}

// A client that goes away cancels the work done for it: the context every unit's handlers pass on is the
// request's (the CU stops evaluating between messages when it is done: node/cu).
func TestDisconnectCancelsHandlerContext(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	r := n.engine("test")
	released := make(chan struct{})
	r.GET("/wait", func(c *gin.Context) {
		select {
		case <-c.Done(): // the gin context, as handlers hand it to the units
			close(released)
		case <-time.After(10 * time.Second):
		}
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	client := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := client.Get(srv.URL + "/wait"); err == nil {
		t.Fatal("the request answered")
	}
	select {
	case <-released:
	case <-time.After(2 * time.Second):
		t.Fatal("the handler's context was not cancelled when its client went away")
	}
}
