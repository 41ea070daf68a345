package node

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/gateway/embedded"
	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/store"
)

// embeddedGatewayService runs aonode's embedded gateway as a service of its own, which several test nodes share
// as their Arweave.
func embeddedGatewayService(t *testing.T) string {
	t.Helper()
	g, err := embedded.Open(filepath.Join(t.TempDir(), "gw.db"), embedded.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(func() { srv.Close(); g.Close() })
	return srv.URL
}

// startMesh starts n nodes of one deployment: one gateway, one MU wallet (created up front), a data directory
// each. edit adjusts node i's config.
func startMesh(t *testing.T, n int, edit func(i int, c *config.Config)) []*testNode {
	t.Helper()
	gw := embeddedGatewayService(t)
	muWallet := filepath.Join(t.TempDir(), "mu-wallet.json")
	mustWallet(t, muWallet)
	nodes := make([]*testNode, n)
	for i := range n {
		nodes[i] = startNodeWith(t, t.TempDir(), func(c *config.Config) {
			c.Gateway.Embedded, c.Gateway.URL = false, gw
			c.MU.Wallet = muWallet
			c.Upload.MaxAge = 100 * time.Millisecond
			if edit != nil {
				edit(i, c)
			}
		})
		nd := nodes[i]
		t.Cleanup(func() { nd.Close() })
	}
	return nodes
}

// meshCode records what reaches a process: pings (answered with a pong), pongs, and hops of a chain (passed to
// Next, or recorded at its end).
const meshCode = `Hops = Hops or {}
Handlers.add("ping", Handlers.utils.hasMatchingTag("Action", "Ping"), function (msg)
  table.insert(Hops, "ping from " .. msg.From)
  msg.reply({ Action = "Pong", Data = "pong" })
end)
Handlers.add("pong", Handlers.utils.hasMatchingTag("Action", "Pong"), function (msg)
  table.insert(Hops, msg.Data .. " from " .. msg.From)
end)
Handlers.add("hop", Handlers.utils.hasMatchingTag("Action", "Hop"), function (msg)
  local trail = msg.Data .. " > " .. Me .. " (From " .. msg.From .. ")"
  if Next then ao.send({ Target = Next, Action = "Hop", Data = trail }) else table.insert(Hops, trail) end
end)
Handlers.add("hello", Handlers.utils.hasMatchingTag("Action", "Hello"), function (msg)
  table.insert(Hops, "hello from " .. msg.From)
end)
Handlers.add("status", Handlers.utils.hasMatchingTag("Action", "Status"), function (msg)
  msg.reply({ Data = table.concat(Hops, "|") })
end)`

// meshProcess spawns a process on n running meshCode, named me; next is where hops go on ("": the chain ends).
func (n *testNode) meshProcess(me, next string) string {
	n.t.Helper()
	p, status, out := n.post("", "")
	if status != http.StatusAccepted {
		n.t.Fatalf("spawn: %d %v", status, out)
	}
	code := meshCode + fmt.Sprintf("\nMe = %q", me)
	if next != "" {
		code += fmt.Sprintf("\nNext = %q", next)
	}
	n.eval(p.ID, code)
	return p.ID
}

func (n *testNode) eval(pid, code string) string {
	n.t.Helper()
	ev, status, out := n.post(code, pid, tg("Action", "Eval"))
	if status != http.StatusAccepted {
		n.t.Fatalf("eval: %d %v", status, out)
	}
	if r := n.result(pid, ev.ID); r["Error"] != nil {
		n.t.Fatalf("eval error: %v", r["Error"])
	}
	return ev.ID
}

// hops is what a meshCode process recorded.
func (n *testNode) hops(pid string) string {
	ms := messages(n.dryrun(pid, tg("Action", "Status")))
	if len(ms) != 1 {
		return ""
	}
	s, _ := ms[0]["Data"].(string)
	return s
}

// settled waits for a process's record to read want, then checks it stays so (nothing arrives twice).
func settled(t *testing.T, n *testNode, pid, want string) {
	t.Helper()
	nodetest.Eventually(t, "hops of "+pid+" to read "+want, func() bool { return n.hops(pid) == want })
	time.Sleep(time.Second)
	if got := n.hops(pid); got != want {
		t.Fatalf("hops of %s changed after settling: %q, want %q", pid, got, want)
	}
}

// Two nodes, one process each: a Ping from A reaches B, and B's Pong (pushed by B's node, which A's MU did not
// deliver to) reaches A. Both see the other process as msg.From: the shared MU wallet signs the pushes and both
// processes trust it through the Authority their SU named.
func TestMeshPingPong(t *testing.T) {
	ns := startMesh(t, 2, nil)
	if ns[0].MU.Address() != ns[1].MU.Address() || ns[0].info.MUAddress != ns[0].MU.Address() {
		t.Fatalf("nodes of one deployment push as one MU: %s, %s (info %s)", ns[0].MU.Address(), ns[1].MU.Address(), ns[0].info.MUAddress)
	}
	if ns[0].MU.Address() == ns[0].SU.Address() {
		t.Fatal("the MU must not sign with the SU's wallet")
	}
	a, b := ns[0].meshProcess("A", ""), ns[1].meshProcess("B", "")
	ns[0].eval(a, fmt.Sprintf(`Send({ Target = %q, Action = "Ping" })`, b))
	settled(t, ns[1], b, "ping from "+a)
	settled(t, ns[0], a, "pong from "+b)

	// B's node scheduled the Ping once, signed by the deployment's MU.
	es, err := ns[1].DB.Entries(context.Background(), b, 0, -1, 0)
	if err != nil {
		t.Fatal(err)
	}
	pings := 0
	for _, e := range es {
		raw, err := ns[1].DB.Item(context.Background(), e.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		it, err := bundler.ParseStored(raw)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := it.Tag("Action"); v == "Ping" {
			pings++
			if it.OwnerAddress() != ns[0].MU.Address() {
				t.Fatalf("the Ping was signed by %s, want the MU %s", it.OwnerAddress(), ns[0].MU.Address())
			}
		}
	}
	if pings != 1 {
		t.Fatalf("B's schedule holds %d Pings", pings)
	}
	for i, n := range ns {
		if c, err := n.DB.TaskCounts(context.Background()); err != nil || c["failed"] != 0 {
			t.Fatalf("node %d: failed tasks %v %v", i, c, err)
		}
	}
}

// A chain across three nodes: A (node 0) -> B (node 1) -> C (node 2) -> A, each hop From the process before.
func TestMeshThreeHopChain(t *testing.T) {
	ns := startMesh(t, 3, nil)
	a := ns[0].meshProcess("A", "")
	c := ns[2].meshProcess("C", a)
	b := ns[1].meshProcess("B", c)
	ns[0].eval(a, fmt.Sprintf(`Send({ Target = %q, Action = "Hop", Data = "start" })`, b))
	want := fmt.Sprintf("start > B (From %s) > C (From %s) > A (From %s)", a, b, c)
	settled(t, ns[0], a, want)
}

// A message to a process spawned 10 ms earlier on another node, which the gateway cannot know yet: the push is
// retried until the process is indexed, then delivered once, never taken for a message to a wallet.
func TestMeshMessageToFreshProcess(t *testing.T) {
	ns := startMesh(t, 2, func(i int, c *config.Config) {
		if i == 1 {
			c.Upload.MaxAge = 2 * time.Second // the new process reaches the gateway late
		}
	})
	a := ns[0].meshProcess("A", "")
	code := meshCode + "\nMe = \"D\""
	d, status, out := ns[1].post(code, "", tg("On-Boot", "Data"))
	if status != http.StatusAccepted {
		t.Fatalf("spawn: %d %v", status, out)
	}
	time.Sleep(10 * time.Millisecond)
	before := ns[0].MU.Stats()
	ns[0].eval(a, fmt.Sprintf(`Send({ Target = %q, Action = "Hello" })`, d.ID))
	settled(t, ns[1], d.ID, "hello from "+a)
	after := ns[0].MU.Stats()
	if after.Retries == before.Retries {
		t.Fatalf("the push was not retried (stats %+v): the process was indexed before it was tried", after)
	}
	if after.ToWallets != before.ToWallets || after.Failed != 0 {
		t.Fatalf("a push to a process not indexed yet went to a wallet or failed: %+v", after)
	}
}

// A target nobody knows is retried, then given up after mu.push_lifetime: listed by the admin API with its
// reason, counted on /metrics, its message uploaded (it can still be assigned); an operator can queue it again.
// The queue survives a restart with the same signed item.
func TestPushToUnknownTarget(t *testing.T) {
	dir := t.TempDir()
	edit := func(c *config.Config) { c.MU.PushLifetime, c.MU.PushMaxBackoff = 3*time.Second, 200*time.Millisecond }
	n := startNodeWith(t, dir, edit)
	a := n.meshProcess("A", "")
	var id [32]byte
	rand.Read(id[:])
	ghost := bundler.B64(id[:])
	n.eval(a, fmt.Sprintf(`Send({ Target = %q, Action = "Hello" })`, ghost))

	pending := func(n *testNode) []store.Task {
		var out struct{ Tasks []store.Task }
		status, b := nodetest.Get(t, n.url("admin")+"/pushes?status=pending")
		if status != http.StatusOK || json.Unmarshal(b, &out) != nil {
			t.Fatalf("pending pushes: %d %s", status, b)
		}
		return out.Tasks
	}
	var first store.Task
	nodetest.Eventually(t, "a retried push to the unknown target", func() bool {
		for _, tk := range pending(n) {
			if tk.Target == ghost && tk.Attempts > 0 {
				first = tk
				return true
			}
		}
		return false
	})
	if !strings.Contains(first.LastError, "unknown") {
		t.Fatalf("retry reason %q", first.LastError)
	}
	// A restart keeps the task and its signed item: what is sent after it is the same item.
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = startNodeWith(t, dir, edit)
	defer n.Close()
	var again store.Task
	for _, tk := range pending(n) {
		if tk.Seq == first.Seq {
			again = tk
		}
	}
	if again.ItemID != first.ItemID || again.ItemID == "" {
		t.Fatalf("after a restart the push is %+v, want task %d with item %s", again, first.Seq, first.ItemID)
	}

	var failed struct {
		Tasks  []store.Task
		Counts map[string]int
	}
	nodetest.Eventually(t, "the push to be given up", func() bool {
		_, b := nodetest.Get(t, n.url("admin")+"/pushes?status=failed")
		return json.Unmarshal(b, &failed) == nil && len(failed.Tasks) == 1
	})
	ft := failed.Tasks[0]
	if ft.Target != ghost || ft.ItemID != first.ItemID || ft.Failed == 0 || !strings.Contains(ft.LastError, "unknown") || failed.Counts["failed"] != 1 {
		t.Fatalf("failed push %+v, counts %v", ft, failed.Counts)
	}
	if _, err := n.DB.UploadStatus(context.Background(), ft.ItemID); err != nil {
		t.Fatalf("a given-up message is uploaded: %v", err)
	}
	_, metrics := nodetest.Get(t, n.url("admin")+"/metrics")
	for _, want := range []string{`aonode_mu_tasks{kind="failed"} 1`, "aonode_mu_tasks_failed_total 1", "aonode_mu_task_retries_total"} {
		if !strings.Contains(string(metrics), want) {
			t.Fatalf("metrics lack %q:\n%s", want, metrics)
		}
	}
	// Bad requests are refused with the reason, and change nothing.
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/pushes?status=done", 400}, {"GET", "/pushes?limit=0", 400}, {"GET", "/pushes?after=x", 400},
		{"GET", "/pushes/abc", 400}, {"GET", "/pushes/0", 400}, {"GET", "/pushes/99999", 404},
		{"POST", "/pushes/99999/retry", 404}, {"POST", fmt.Sprintf("/pushes/%d/retry", first.Seq+1000), 404},
	} {
		if status, _ := n.do(c.method, n.url("admin")+c.path, nil); status != c.status {
			t.Fatalf("%s %s: %d, want %d", c.method, c.path, status, c.status)
		}
	}
	if status, body := n.do("GET", fmt.Sprintf("%s/pushes/%d", n.url("admin"), ft.Seq), nil); status != 200 || body["status"] != "failed" {
		t.Fatalf("failed task: %d %v", status, body)
	}
	// An operator queues it again: it is tried anew (the same item) and, still unknown, given up again.
	status, body := n.do("POST", fmt.Sprintf("%s/pushes/%d/retry", n.url("admin"), ft.Seq), nil)
	if status != 200 || body["status"] != "pending" || body["item"] != ft.ItemID {
		t.Fatalf("retry: %d %v", status, body)
	}
	nodetest.Eventually(t, "the requeued push to be given up again", func() bool {
		_, b := nodetest.Get(t, n.url("admin")+"/pushes?status=failed")
		return json.Unmarshal(b, &failed) == nil && len(failed.Tasks) == 1 && failed.Tasks[0].Seq != ft.Seq
	})
}

// The MU has a wallet of its own in the data directory by default, and every spawn the SU schedules names it
// as an Authority (in the spawn's assignment), which the process sees.
func TestMUIdentity(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir)
	defer n.Close()
	if _, err := os.Stat(filepath.Join(dir, "mu-wallet.json")); err != nil {
		t.Fatalf("default MU wallet: %v", err)
	}
	if n.MU.Address() == n.SU.Address() || n.info.MUAddress != n.MU.Address() {
		t.Fatalf("MU %s, SU %s, info %s", n.MU.Address(), n.SU.Address(), n.info.MUAddress)
	}
	p, _, _ := n.post("", "")
	sc, err := n.SU.Lookup(context.Background(), p.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := sc.Assignment.Tag("Authority"); v != n.MU.Address() {
		t.Fatalf("spawn assignment names Authority %q, want the MU %s", v, n.MU.Address())
	}
	ev, _, _ := n.post("return table.concat(ao.authorities, ',')", p.ID, tg("Action", "Eval"))
	if out := fmt.Sprint(n.result(p.ID, ev.ID)["Output"]); !strings.Contains(out, n.MU.Address()) {
		t.Fatalf("ao.authorities lacks the MU: %s", out)
	}
}
