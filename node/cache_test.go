package node

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node/config"
)

// Two aonode CUs sharing one Redis: a result evaluated by the first is served by the second, which does not
// even hold the process.
func TestCUsShareResultsThroughRedis(t *testing.T) {
	nodetest.NeedRedis(t)
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
	status, want := nodetest.Get(t, fmt.Sprintf("%s/result/%s?process-id=%s", a.url("cu"), ev.ID, p.ID))
	if status != http.StatusOK {
		t.Fatalf("A: %d %s", status, want)
	}
	status, got := nodetest.Get(t, fmt.Sprintf("%s/result/%s?process-id=%s", b.url("cu"), ev.ID, p.ID))
	if status != http.StatusOK || !bytes.Equal(got, want) {
		t.Fatalf("B: %d %s, want %s", status, got, want)
	}
	// B does not hold the process: anything not cached is still unknown there.
	if status, _ := nodetest.Get(t, fmt.Sprintf("%s/state/%s", b.url("cu"), p.ID)); status != http.StatusNotFound {
		t.Fatalf("B state: %d", status)
	}
}

// Two CUs sharing one Redis and one gateway: B, which never saw the process, recovers its schedule from the
// gateway and starts it from A's snapshot in Redis instead of replaying it (checkpoints off, so only Redis
// can help).
func TestCUsShareSnapshotsThroughRedis(t *testing.T) {
	nodetest.NeedRedis(t)
	point := gatewayKinds(t)["embedded"](t)
	prefix := fmt.Sprintf("aonode-node-snap-%d:", time.Now().UnixNano())
	shared := func(c *config.Config) {
		point(c)
		c.Upload.MaxAge = 10 * time.Millisecond
		c.CU.Cache, c.CU.RedisURL, c.CU.RedisPrefix = "redis", "redis://127.0.0.1:6379/0", prefix
		c.CU.SnapshotMessages, c.CU.SnapshotEvalTime, c.CU.SnapshotCostRatio = 5, 0, 0
		c.CU.CheckpointMessages, c.CU.CheckpointEvalTime = 0, 0
	}
	a := startNodeWith(t, t.TempDir(), shared)
	defer a.Close()
	p, _, _ := a.post("", "")
	a.post("Count = 0; Handlers.add('inc', Handlers.utils.hasMatchingTag('Action', 'Inc'), function () Count = Count + 1 end)", p.ID, tg("Action", "Eval"))
	for range 10 {
		a.post("", p.ID, tg("Action", "Inc")) // nonces 2..11
	}
	status, want := nodetest.Get(t, a.url("cu")+"/state/"+p.ID)
	if status != http.StatusOK || !bytes.Contains(want, []byte(`"Count":10`)) {
		t.Fatalf("A state: %d %s", status, want)
	}
	a.flushUploads()

	b := startNodeWith(t, t.TempDir(), shared)
	defer b.Close()
	status, got := nodetest.Get(t, b.url("cu")+"/state/"+p.ID)
	if status != http.StatusOK || !bytes.Equal(got, want) {
		t.Fatalf("B state: %d\n got %s\nwant %s", status, got, want)
	}
	if st := b.CU.Stats(); st.SnapshotRestores != 1 || st.Evaluated != 2 || st.CheckpointRestores != 0 {
		t.Fatalf("B did not start from A's snapshot at nonce 9: %+v", st)
	}
}
