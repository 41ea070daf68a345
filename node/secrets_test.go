package node

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aonode/aonode/internal/nodetest"
)

// The node wallet's private parts never appear in a response or a log line, whatever is asked.
func TestWalletNeverLeaks(t *testing.T) {
	logs := &nodetest.LockedBuffer{}
	testLogSink = logs
	defer func() { testLogSink = nil }()
	dir := t.TempDir()
	n := startNode(t, dir)
	defer n.Close()
	raw, err := os.ReadFile(filepath.Join(dir, "wallet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var jwk map[string]string
	if err := json.Unmarshal(raw, &jwk); err != nil {
		t.Fatal(err)
	}
	p, _, _ := n.post("", "")
	ev, _, _ := n.post("print(ao.id); error('boom')", p.ID, tg("Action", "Eval"))
	var bodies []string
	for _, u := range []string{
		n.url("su") + "/", n.url("su") + "/" + p.ID + "?process-id=" + p.ID, n.url("admin") + "/uploads",
		n.url("cu") + "/", n.url("cu") + "/result/" + ev.ID + "?process-id=" + p.ID, n.url("cu") + "/state/" + p.ID,
		n.url("cu") + "/results/" + p.ID, n.url("mu") + "/", n.url("admin") + "/metrics", n.url("gateway") + "/info",
		n.url("su") + "/no-such-thing", n.url("cu") + "/state/" + strings.Repeat("x", 43),
	} {
		_, b := nodetest.Get(t, u)
		bodies = append(bodies, string(b))
	}
	n.Close()
	all := strings.Join(bodies, "\n") + logs.String()
	for _, field := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		v := jwk[field]
		if len(v) < 32 {
			t.Fatalf("wallet has no %q", field)
		}
		if strings.Contains(all, v[:32]) {
			t.Fatalf("private key field %q appears in a response or log", field)
		}
	}
	if !strings.Contains(logs.String(), "wallet") {
		t.Fatalf("the log sink saw nothing: %q", logs.String())
	}
}
