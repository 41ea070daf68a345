package node

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aonode/aonode/node/config"
)

// Two aonode CUs sharing one Redis: a result evaluated by the first is served by the second, which does not
// even hold the process.
func TestCUsShareResultsThroughRedis(t *testing.T) {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second); err != nil {
		if os.Getenv("AONODE_REQUIRE_REDIS") == "1" {
			t.Fatalf("no Redis on 127.0.0.1:6379: %v", err)
		}
		t.Skip("no Redis on 127.0.0.1:6379 (./scripts/test.sh starts one)")
	} else {
		c.Close()
	}
	prefix := fmt.Sprintf("aonode-node-test-%d:", time.Now().UnixNano())
	shared := func(c *config.Config) {
		c.CU.Cache, c.CU.RedisURL, c.CU.RedisPrefix = "redis", "redis://127.0.0.1:6379/0", prefix
		c.CU.Recover = false // B must answer from the cache, not by rebuilding the process
	}
	a := startNodeWith(t, t.TempDir(), shared)
	defer a.Close()
	b := startNodeWith(t, t.TempDir(), shared)
	defer b.Close()
	p, _, _ := a.post("", "")
	ev, _, _ := a.post("print(6 * 7)", p.ID, tg("Action", "Eval"))
	status, want := get(t, fmt.Sprintf("%s/result/%s?process-id=%s", a.url("cu"), ev.ID, p.ID))
	if status != http.StatusOK {
		t.Fatalf("A: %d %s", status, want)
	}
	status, got := get(t, fmt.Sprintf("%s/result/%s?process-id=%s", b.url("cu"), ev.ID, p.ID))
	if status != http.StatusOK || !bytes.Equal(got, want) {
		t.Fatalf("B: %d %s, want %s", status, got, want)
	}
	// B does not hold the process: anything not cached is still unknown there.
	if status, _ := get(t, fmt.Sprintf("%s/state/%s", b.url("cu"), p.ID)); status != http.StatusNotFound {
		t.Fatalf("B state: %d", status)
	}
}
