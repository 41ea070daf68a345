// Package crash kills a real aonode process with SIGKILL at random moments under a stream of messages and
// checks what survives: every acknowledged message exactly once, nonces without gaps or reuse, a valid hash
// chain, and an intact upload queue; a message whose answer was lost is either fully in or fully out.
package crash

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/node/store"
	"github.com/aonode/aonode/node/su"
)

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type nodeProc struct {
	cmd  *exec.Cmd
	info struct {
		Module    string `json:"module"`
		Scheduler string `json:"scheduler"`
	}
	mu string
}

// start runs the binary on dir and waits until it wrote node-info.json (it is then ready).
func start(t *testing.T, bin, dir string, addrs []string) *nodeProc {
	t.Helper()
	os.Remove(filepath.Join(dir, "node-info.json"))
	cmd := exec.Command(bin, "-data-dir", dir, "-mu", addrs[0], "-su", addrs[1], "-cu", addrs[2], "-gateway-listen", addrs[3], "-admin", addrs[4], "-explorer", "off", "-log-level", "warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &nodeProc{cmd: cmd, mu: "http://" + addrs[0]}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dir, "node-info.json")); err == nil && json.Unmarshal(b, &p.info) == nil {
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("aonode did not start:\n%s", logs.String())
	return nil
}

func (p *nodeProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

func post(ctx context.Context, url string, raw []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

func TestKill9UnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real aonode")
	}
	bin := os.Getenv("AONODE_BIN") // a prebuilt binary, else build one
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "aonode")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/aonode/aonode/cmd/aonode").CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
	}
	dir := t.TempDir()
	addrs := []string{freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)}
	jwk, _ := bundler.GenerateJWK()
	user, _ := bundler.NewWallet(jwk)

	n := start(t, bin, dir, addrs)
	spawn, err := user.Sign(nil, "", "", []bundler.Tag{
		{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Process"},
		{Name: "Module", Value: n.info.Module}, {Name: "Scheduler", Value: n.info.Scheduler},
	})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := post(context.Background(), n.mu, spawn.Raw); err != nil || st != http.StatusAccepted {
		t.Fatalf("spawn: %d %v", st, err)
	}
	pid := spawn.ID

	// Pre-sign the stream in parallel (RSA-4096 signing would otherwise be the bottleneck, not the node).
	const total = 300
	msgs := make([]*bundler.Item, total)
	var sg sync.WaitGroup
	for w := range 4 {
		sg.Add(1)
		go func() {
			defer sg.Done()
			for i := w; i < total; i += 4 {
				it, err := user.Sign([]byte(fmt.Sprintf("N = %d", i)), pid, "", []bundler.Tag{
					{Name: "Data-Protocol", Value: "ao"}, {Name: "Type", Value: "Message"}, {Name: "Action", Value: "Eval"},
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
					st, err := post(ctx, n.mu, it.Raw)
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
		time.Sleep(time.Duration(200+rng.IntN(600)) * time.Millisecond)
		n.kill() // mid-stream: some requests are in flight
		cancel()
		wg.Wait()
		t0 := time.Now()
		n = start(t, bin, dir, addrs)
		http.DefaultClient.CloseIdleConnections() // connections to the killed process are dead
		t.Logf("round %d: %d sent, restart took %s", round, next, time.Since(t0))
	}
	t0 := time.Now()
	defer func() { t.Logf("retries and checks took %s", time.Since(t0)) }()
	// Retry what was never acknowledged: a retry of something that did get in is answered as a duplicate.
	retried := 0
	for _, it := range msgs[:next] {
		if !acked[it.ID] {
			retried++
			if st, err := post(context.Background(), n.mu, it.Raw); err != nil || st != http.StatusAccepted {
				t.Fatalf("retry %s: %d %v", it.ID, st, err)
			}
			acked[it.ID] = true
		}
	}
	t.Logf("retried %d unacknowledged messages in %s", retried, time.Since(t0))
	n.kill()

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
	t.Logf("%d messages sent over 6 kills, %d scheduled (nonce 0 is the spawn)", next, len(es)-1)
	if es[0].MessageID != pid {
		t.Fatalf("nonce 0 is not the spawn")
	}
}
