// Package crash kills real aonode processes with SIGKILL at random moments under a stream of messages and
// checks what survives: every acknowledged message exactly once, nonces without gaps or reuse, a valid hash
// chain, and an intact upload queue; a message whose answer was lost is either fully in or fully out. Every
// message also makes its process send one to a process on a second node, which answers back: every such push
// is delivered exactly once both ways, whichever node was killed in between.
package crash

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/gateway/embedded"
	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

// nodeProc is a running node with the URLs of its MU and admin API.
type nodeProc struct {
	*nodetest.Proc
	mu, admin string
}

// start runs the binary on dir and waits until it is ready.
func start(t *testing.T, bin, dir string, addrs []string, extra ...string) *nodeProc {
	t.Helper()
	args := append([]string{"-data-dir", dir, "-mu", addrs[0], "-su", addrs[1], "-su-url", "http://" + addrs[1], "-cu", addrs[2], "-admin", addrs[4], "-explorer", "off", "-log-level", "warn"}, extra...)
	return &nodeProc{Proc: nodetest.Start(t, bin, dir, args...), mu: "http://" + addrs[0], admin: "http://" + addrs[4]}
}

func mustPost(t *testing.T, url string, it *bundler.Item) {
	t.Helper()
	if st, b, err := nodetest.Post(context.Background(), url, nodetest.ItemType, it.Raw); err != nil || st != http.StatusAccepted {
		t.Fatalf("post %s: %d %s %v", it.ID, st, b, err)
	}
}

// spawnWith spawns a process on n and loads code into it.
func spawnWith(t *testing.T, n *nodeProc, user *bundler.Wallet, code string) string {
	t.Helper()
	spawn := nodetest.Signed(t, user, "", "", bundler.Tag{Name: "Module", Value: n.Info.Module}, bundler.Tag{Name: "Scheduler", Value: n.Info.Scheduler})
	mustPost(t, n.mu, spawn)
	mustPost(t, n.mu, nodetest.Signed(t, user, code, spawn.ID, bundler.Tag{Name: "Action", Value: "Eval"}))
	return spawn.ID
}

// queued reads a node's crank queue counts (admin API).
func queued(n *nodeProc) (map[string]int, error) {
	res, err := http.Get(n.admin + "/pushes")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out struct{ Counts map[string]int }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, err
	}
	return out.Counts, nil
}

// idle reports whether a node's crank queue is empty; a failed task is an error.
func idle(n *nodeProc) (bool, error) {
	counts, err := queued(n)
	if err != nil {
		return false, err
	}
	if counts["failed"] != 0 {
		return false, fmt.Errorf("failed tasks: %v", counts)
	}
	for _, c := range counts {
		if c != 0 {
			return false, nil
		}
	}
	return true, nil
}

// relay is A's code: every Relay goes on to B; B's code answers every Got with an Ack.
const relay = `Handlers.add("relay", Handlers.utils.hasMatchingTag("Action", "Relay"), function (msg)
  ao.send({ Target = B, Action = "Got", Data = msg.Data })
end)`

const ack = `Handlers.add("got", Handlers.utils.hasMatchingTag("Action", "Got"), function (msg)
  msg.reply({ Action = "Ack", Data = msg.Data })
end)`

func TestKill9UnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real aonode")
	}
	bin := nodetest.Build(t)
	// Two nodes of one deployment (one MU wallet) on a gateway of their own that no kill touches.
	g, err := embedded.Open(filepath.Join(t.TempDir(), "gw.db"), embedded.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(g.Handler())
	defer func() { gw.Close(); g.Close() }()
	shared := []string{"-gateway-url", gw.URL, "-mu-wallet", filepath.Join(t.TempDir(), "mu-wallet.json")}
	if _, _, err := bundler.LoadOrCreateWallet(shared[3]); err != nil {
		t.Fatal(err)
	}
	dir, dirY := t.TempDir(), t.TempDir()
	free := nodetest.FreeAddr
	addrs := []string{free(t), free(t), free(t), "", free(t)}
	addrsY := []string{free(t), free(t), free(t), "", free(t)}
	jwk, _ := bundler.GenerateJWK()
	user, _ := bundler.NewWallet(jwk)

	n := start(t, bin, dir, addrs, shared...)
	y := start(t, bin, dirY, addrsY, shared...)
	b := spawnWith(t, y, user, ack)
	pid := spawnWith(t, n, user, relay+fmt.Sprintf("\nB = %q", b))

	// Pre-sign the stream in parallel (RSA-4096 signing would otherwise be the bottleneck, not the node).
	const total = 300
	msgs := make([]*bundler.Item, total)
	var sg sync.WaitGroup
	for w := range 4 {
		sg.Add(1)
		go func() {
			defer sg.Done()
			for i := w; i < total; i += 4 {
				it, err := user.Sign([]byte(strconv.Itoa(i)), pid, "", []bundler.Tag{
					{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Message"}, {Name: "Action", Value: "Relay"},
				})
				if err != nil {
					panic(err)
				}
				msgs[i] = it
			}
		}()
	}
	sg.Wait()
	var mu sync.Mutex
	acked := map[string]bool{}
	tried := map[string]bool{}
	next := 0
	rng := rand.New(rand.NewPCG(1, 2))

	for round := 0; round < 6 && next < total; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					mu.Lock()
					if next >= total {
						mu.Unlock()
						return
					}
					it := msgs[next]
					next++
					tried[it.ID] = true
					mu.Unlock()
					st, _, err := nodetest.Post(ctx, n.mu, nodetest.ItemType, it.Raw)
					if err != nil {
						return // the node is down: this worker waits for the next round
					}
					if st == http.StatusAccepted {
						mu.Lock()
						acked[it.ID] = true
						mu.Unlock()
					}
				}
			}()
		}
		// Every other round the second node dies too, while its pushes back are under way.
		killY := round%2 == 1
		if killY {
			time.Sleep(time.Duration(100+rng.IntN(300)) * time.Millisecond)
			y.Kill()
		}
		time.Sleep(time.Duration(200+rng.IntN(600)) * time.Millisecond)
		n.Kill() // mid-stream: some requests are in flight
		cancel()
		wg.Wait()
		t0 := time.Now()
		n = start(t, bin, dir, addrs, shared...)
		if killY {
			y = start(t, bin, dirY, addrsY, shared...)
		}
		http.DefaultClient.CloseIdleConnections() // connections to the killed process are dead
		left, _ := queued(n)
		t.Logf("round %d: %d sent, restart took %s (second node killed too: %v), crank tasks left by the kill: %v", round, next, time.Since(t0), killY, left)
	}
	t0 := time.Now()
	defer func() { t.Logf("retries and checks took %s", time.Since(t0)) }()
	// Retry what was never acknowledged: a retry of something that did get in is answered as a duplicate.
	retried := 0
	for _, it := range msgs[:next] {
		if !acked[it.ID] {
			retried++
			if st, b, err := nodetest.Post(context.Background(), n.mu, nodetest.ItemType, it.Raw); err != nil || st != http.StatusAccepted {
				t.Fatalf("retry %s: %d %s %v", it.ID, st, b, err)
			}
			acked[it.ID] = true
		}
	}
	t.Logf("retried %d unacknowledged messages in %s", retried, time.Since(t0))
	// Both cranks drain: every relay pushed to B and every answer pushed back.
	deadline := time.Now().Add(3 * time.Minute)
	for quiet := 0; quiet < 3; {
		if time.Now().After(deadline) {
			t.Fatal("the crank queues did not drain")
		}
		okN, err := idle(n)
		if err != nil {
			t.Fatal(err)
		}
		okY, err := idle(y)
		if err != nil {
			t.Fatal(err)
		}
		if okN && okY {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("crank queues drained %s after the last message", time.Since(t0))
	muAddr := n.Info.MUAddress
	n.Kill()
	y.Kill()

	db, err := store.Open(filepath.Join(dir, "aonode.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	es, err := db.Entries(ctx, pid, 0, -1, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	acks := map[string]int{}
	var head *store.Head
	for i, e := range es {
		if e.Nonce != int64(i) {
			t.Fatalf("entry %d has nonce %d: gap or reuse", i, e.Nonce)
		}
		want, err := su.HashChain(pid, head)
		if err != nil || e.HashChain != want {
			t.Fatalf("nonce %d: hash chain %s, want %s", e.Nonce, e.HashChain, want)
		}
		head = &store.Head{Nonce: e.Nonce, HashChain: e.HashChain, AssignmentID: e.AssignmentID, Timestamp: e.Timestamp}
		seen[e.MessageID]++
		// Fully in: the message, its assignment and both upload rows.
		for _, id := range []string{e.MessageID, e.AssignmentID} {
			raw, err := db.Item(ctx, id)
			if err != nil {
				t.Fatalf("nonce %d: item %s missing", e.Nonce, id)
			}
			if _, err := bundler.Parse(raw); err != nil {
				t.Fatalf("nonce %d: item %s corrupt: %v", e.Nonce, id, err)
			}
			if _, err := db.UploadStatus(ctx, id); err != nil {
				t.Fatalf("nonce %d: item %s not in the upload queue: %v", e.Nonce, id, err)
			}
		}
		if it := pushed(t, db, e.MessageID, "Ack", b, muAddr); it != nil {
			acks[string(it.Data)]++
		}
	}
	for id := range acked {
		if seen[id] != 1 {
			t.Fatalf("acknowledged message %s scheduled %d times", id, seen[id])
		}
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("message %s scheduled %d times", id, k)
		}
	}
	// Fully out: a message that was never scheduled left no item behind.
	for id := range tried {
		if seen[id] == 0 {
			if _, err := db.Item(ctx, id); err == nil {
				t.Fatalf("unscheduled message %s left its item behind", id)
			}
		}
	}
	if es[0].MessageID != pid {
		t.Fatalf("nonce 0 is not the spawn")
	}

	// Every relayed message reached B exactly once, and B's answer came back exactly once.
	dbY, err := store.Open(filepath.Join(dirY, "aonode.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer dbY.Close()
	esY, err := dbY.Entries(ctx, b, 0, -1, 0)
	if err != nil {
		t.Fatal(err)
	}
	gots := map[string]int{}
	for _, e := range esY {
		if it := pushed(t, dbY, e.MessageID, "Got", pid, muAddr); it != nil {
			gots[string(it.Data)]++
		}
	}
	for i := range next {
		k := strconv.Itoa(i)
		if gots[k] != 1 || acks[k] != 1 {
			t.Fatalf("relay %d reached B %d times and came back %d times, want once each", i, gots[k], acks[k])
		}
	}
	if len(gots) != next || len(acks) != next {
		t.Fatalf("%d relays reached B and %d came back, want %d", len(gots), len(acks), next)
	}
	t.Logf("%d messages sent over 6 kills (3 of the second node too), %d scheduled (nonce 0 is the spawn), each pushed to B and back exactly once", next, len(es)-1)
}

// pushed returns the stored message when it is a push with the given Action from process from, signed by
// the MU; nil for any other message. A push of that Action from anyone else fails the test.
func pushed(t *testing.T, db *store.DB, id, action, from, mu string) *bundler.Item {
	t.Helper()
	raw, err := db.Item(context.Background(), id)
	if err != nil {
		t.Fatalf("item %s: %v", id, err)
	}
	it, err := bundler.ParseStored(raw)
	if err != nil {
		t.Fatalf("item %s: %v", id, err)
	}
	if a, _ := it.Tag("Action"); a != action {
		return nil
	}
	if fp, _ := it.Tag("From-Process"); fp != from || it.OwnerAddress() != mu {
		t.Fatalf("%s %s: From-Process %s signed by %s, want %s signed by the MU %s", action, id, fp, it.OwnerAddress(), from, mu)
	}
	return it
}
