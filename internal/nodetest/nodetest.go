// Package nodetest is what tests that run aonode need around it: free addresses, the aonode binary built and
// run as a process (started until ready, killed or stopped), AO items signed and posted, answers read, and
// waiting for a condition. It imports nothing of the node, so the node's own tests can use it too.
package nodetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
)

// FreeAddr returns a 127.0.0.1 address with a port no one listens on right now. The port is below the range
// the kernel takes local ports of outgoing connections from: a port from that range (what listening on :0
// gives) can be taken by any connection made before the node binds it, which failed a node's start with
// "address already in use" under CI's parallel tests.
func FreeAddr(t testing.TB) string {
	t.Helper()
	low := ephemeralLow()
	for range 1000 {
		addr := "127.0.0.1:" + strconv.Itoa(freePortFrom+rand.IntN(low-freePortFrom))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	t.Fatalf("no free port in [%d, %d)", freePortFrom, low)
	return ""
}

// freePortFrom is the lowest port FreeAddr gives (well above the services a test machine runs).
const freePortFrom = 20000

// ephemeralLow is the first port of the kernel's range for outgoing connections (32768 when it cannot be
// read).
func ephemeralLow() int {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > freePortFrom+1000 {
				return n
			}
		}
	}
	return 32768
}

// NeedRedis skips t without a Redis on 127.0.0.1:6379, and under -short (fails when AONODE_REQUIRE_REDIS=1).
func NeedRedis(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping a test that needs Redis")
	}
	c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second)
	if err != nil {
		if os.Getenv("AONODE_REQUIRE_REDIS") == "1" {
			t.Fatalf("no Redis on 127.0.0.1:6379: %v", err)
		}
		t.Skip("no Redis on 127.0.0.1:6379 (./scripts/test.sh starts one)")
	}
	c.Close()
}

// waitLimit is how long Eventually waits, and Start for a node to be ready: generous, for a loaded machine.
const waitLimit = 90 * time.Second

// Eventually calls fn every 100 ms until it reports true, failing t when it has not after 90 seconds.
func Eventually(t testing.TB, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		if fn() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// Get returns the status and body of GET url; a request that cannot be made fails t.
func Get(t testing.TB, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// ItemType is the content type of a raw data item posted to an MU or SU.
const ItemType = "application/octet-stream"

// Post posts body to url and returns the answer's status and body. It does not fail a test, so that it can
// be used from other goroutines and against a node that may be down (the error then says so).
func Post(ctx context.Context, url, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body) // the status is the answer; a body cut short is still one
	return res.StatusCode, b, nil
}

// Signed is an AO item signed by s: a Message to target, or a Process when target is empty (its Module and
// Scheduler are the caller's to add). Data-Protocol and Type follow the given tags.
func Signed(t testing.TB, s bundler.Signer, data, target string, tags ...bundler.Tag) *bundler.Item {
	t.Helper()
	typ := "Message"
	if target == "" {
		typ = "Process"
	}
	tags = append(tags, bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Type", Value: typ})
	it, err := s.Sign([]byte(data), target, "", tags)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// Build returns the aonode binary to run: $AONODE_BIN when set (a prebuilt one), else one built for t.
func Build(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("AONODE_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "aonode")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/aonode/aonode/cmd/aonode").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// Info is what a started node wrote to node-info.json.
type Info struct {
	Module    string `json:"module"`
	Scheduler string `json:"scheduler"`
	MUAddress string `json:"mu_address"`
}

// Proc is a running aonode process.
type Proc struct {
	Info Info
	cmd  *exec.Cmd
	logs LockedBuffer
	done chan struct{} // closed when the process has exited
}

// Start runs bin with args and waits until it wrote node-info.json into dataDir, which it does once it serves.
// A node that is not ready within 90 seconds fails t with its logs. The process is killed when t ends, unless
// it was stopped before.
func Start(t testing.TB, bin, dataDir string, args ...string) *Proc {
	t.Helper()
	infoFile := filepath.Join(dataDir, "node-info.json")
	os.Remove(infoFile) // a previous run's
	p := &Proc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.logs, &p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Kill)
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(infoFile); err == nil && json.Unmarshal(b, &p.Info) == nil {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("aonode %s exited before it was ready:\n%s", strings.Join(args, " "), p.Logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
	p.Kill()
	t.Fatalf("aonode %s did not start:\n%s", strings.Join(args, " "), p.Logs())
	return nil
}

// Kill ends the process with SIGKILL and waits for it to exit.
func (p *Proc) Kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop asks the process to shut down (SIGTERM) and waits for it, killing it after grace.
func (p *Proc) Stop(grace time.Duration) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill()
	}
}

// Logs is what the process wrote to stdout and stderr so far.
func (p *Proc) Logs() string { return p.logs.String() }

// LockedBuffer is a bytes.Buffer that goroutines may write while a test reads it: a process's output, which
// exec's copying goroutines write, or a log sink.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
