// Package cluster runs aonode split into its units, as real processes, the way a deployment that outgrew one
// machine runs it: two SU nodes, two CU-only nodes sharing one Redis, one MU-only node, all on one arlocal,
// each started from its ready config under configs/cluster. Clients use only the MU and the CUs.
package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/internal/arlocaltest"
	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/store"
)

// proc is one node of the cluster: its config, and the process while it runs.
type proc struct {
	t      *testing.T
	name   string
	bin    string
	cfg    config.Config
	cfgDir string
	run    *nodetest.Proc // nil when stopped or killed
	info   nodetest.Info  // of the last start
}

// node writes a config for role (its ready config with this test's ports, gateway, Redis prefix and data dir)
// and starts the binary with it.
func node(t *testing.T, bin, role, name string, edit func(c *config.Config)) *proc {
	t.Helper()
	c, err := config.Load(filepath.Join("..", "..", "configs", "cluster", role+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	edit(&c)
	p := &proc{t: t, name: name, bin: bin, cfg: c, cfgDir: t.TempDir()}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *proc) start() {
	p.t.Helper()
	b, err := yaml.Marshal(p.cfg)
	if err != nil {
		p.t.Fatal(err)
	}
	file := filepath.Join(p.cfgDir, "aonode.yaml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.run = nodetest.Start(p.t, p.bin, p.cfg.DataDir, "-config", file, "-log-level", "warn")
	p.info = p.run.Info
}

func (p *proc) kill() {
	if p.run != nil {
		p.run.Kill()
		p.run = nil
	}
}

func (p *proc) stop() {
	if p.run != nil {
		p.run.Stop(15 * time.Second)
		if p.t.Failed() {
			p.t.Logf("%s logs:\n%s", p.name, p.run.Logs())
		}
		p.run = nil
	}
}

func (p *proc) url(addr string) string { return "http://" + addr }

type client struct {
	t    *testing.T
	user *bundler.Wallet
	mu   string
}

// send signs and posts an item to the MU-only node (retrying while the gateway has not indexed its target's
// spawn yet: the MU answers 400 for a target it cannot locate).
func (c *client) send(data, target string, tags ...bundler.Tag) *bundler.Item {
	c.t.Helper()
	it := nodetest.Signed(c.t, c.user, data, target, append(tags, bundler.Tag{Name: "Variant", Value: "ao.TN.1"})...)
	nodetest.Eventually(c.t, "the MU-only node takes "+it.ID, func() bool {
		st, _, _ := nodetest.Post(context.Background(), c.mu, nodetest.ItemType, it.Raw)
		return st == http.StatusAccepted
	})
	return it
}

func (c *client) spawn(su *proc, code string) string {
	c.t.Helper()
	p := c.send("", "", bundler.Tag{Name: "Module", Value: su.info.Module}, bundler.Tag{Name: "Scheduler", Value: su.info.Scheduler})
	c.send(code, p.ID, bundler.Tag{Name: "Action", Value: "Eval"})
	return p.ID
}

func result(t *testing.T, cu *proc, pid, id string) (int, []byte) {
	return nodetest.Get(t, fmt.Sprintf("%s/result/%s?process-id=%s", cu.url(cu.cfg.CU.Listen), id, pid))
}

// replyData is the Data of the single message a result or dry-run sent ("" otherwise).
func replyData(body []byte) string {
	var r struct {
		Messages []struct{ Data string }
		Error    any
	}
	if json.Unmarshal(body, &r) != nil || len(r.Messages) != 1 {
		return ""
	}
	return r.Messages[0].Data
}

func dryrun(t *testing.T, cu *proc, pid string, tags ...bundler.Tag) string {
	body, _ := json.Marshal(map[string]any{"Owner": "reader", "Tags": tags})
	st, b, err := nodetest.Post(context.Background(), fmt.Sprintf("%s/dry-run?process-id=%s", cu.url(cu.cfg.CU.Listen), pid), "application/json", body)
	if err != nil || st != http.StatusOK {
		return fmt.Sprintf("dry-run: %d %s %v", st, b, err)
	}
	return replyData(b)
}

func metric(t *testing.T, p *proc, name string) int64 {
	_, b := nodetest.Get(t, p.url(p.cfg.Admin.Listen)+"/metrics")
	m := regexp.MustCompile(`(?m)^` + name + ` (\d+)`).FindSubmatch(b)
	if m == nil {
		return -1
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

const kvCode = `Store = Store or {}
Handlers.add("set", Handlers.utils.hasMatchingTag("Action", "Set"), function (msg)
  Store[msg.Tags.Key] = msg.Data
  Handlers.utils.reply("set " .. msg.Tags.Key)(msg)
end)
Handlers.add("get", Handlers.utils.hasMatchingTag("Action", "Get"), function (msg)
  msg.reply({ Data = Store[msg.Tags.Key] or "none" })
end)`

// A pinger sends Ping to Peer and records who answered Pong; a ponger answers every Ping.
const pingCode = `Pongs = Pongs or {}
Handlers.add("go", Handlers.utils.hasMatchingTag("Action", "Go"), function (msg)
  ao.send({ Target = msg.Tags.Peer, Action = "Ping", Data = msg.Data })
end)
Handlers.add("pong", Handlers.utils.hasMatchingTag("Action", "Pong"), function (msg)
  table.insert(Pongs, msg.Data .. " from " .. msg.From)
end)
Handlers.add("ping", Handlers.utils.hasMatchingTag("Action", "Ping"), function (msg)
  msg.reply({ Action = "Pong", Data = msg.Data })
end)
Handlers.add("pongs", Handlers.utils.hasMatchingTag("Action", "Pongs"), function (msg)
  msg.reply({ Data = table.concat(Pongs, "|") })
end)`

func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts arlocal and five aonode processes")
	}
	nodetest.NeedRedis(t)
	arl := arlocaltest.Start(t)
	dir := t.TempDir()
	bin := nodetest.Build(t)
	muWallet := filepath.Join(dir, "mu-wallet.json")
	if _, _, err := bundler.LoadOrCreateWallet(muWallet); err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("aonode-cluster-test-%d:", time.Now().UnixNano())
	common := func(name string) func(c *config.Config) {
		return func(c *config.Config) {
			c.DataDir = filepath.Join(dir, name)
			c.Wallet = config.WalletConfig{}
			c.MU.Wallet = muWallet
			c.Gateway.URL = arl.URL()
			c.Admin.Listen = nodetest.FreeAddr(t)
			c.Explorer.Listen = ""
			c.CU.RedisPrefix = prefix
			c.CU.SnapshotMessages, c.CU.SnapshotCostRatio = 5, 0
			c.Upload.MaxAge = 200 * time.Millisecond
		}
	}
	suNode := func(name string) *proc {
		return node(t, bin, "su", name, func(c *config.Config) {
			common(name)(c)
			c.SU.Listen = nodetest.FreeAddr(t)
			c.SU.PublicURL = "http://" + c.SU.Listen
		})
	}
	cuNode := func(name string) *proc {
		return node(t, bin, "cu", name, func(c *config.Config) {
			common(name)(c)
			c.CU.Listen = nodetest.FreeAddr(t)
		})
	}
	su1, su2 := suNode("su1"), suNode("su2")
	cu1, cu2 := cuNode("cu1"), cuNode("cu2")
	mu := node(t, bin, "mu", "mu", func(c *config.Config) {
		common("mu")(c)
		c.MU.Listen = nodetest.FreeAddr(t)
	})
	user, _, err := bundler.LoadOrCreateWallet(filepath.Join(dir, "user.json"))
	if err != nil {
		t.Fatal(err)
	}
	cl := &client{t: t, user: user, mu: mu.url(mu.cfg.MU.Listen)}

	// The tutorial, through the MU-only node: a kv store on SU 1, read on a CU-only node.
	kv := cl.spawn(su1, kvCode)
	set := cl.send("1", kv, bundler.Tag{Name: "Action", Value: "Set"}, bundler.Tag{Name: "Key", Value: "a"})
	var body []byte
	nodetest.Eventually(t, "cu1 answers for the kv store", func() bool {
		var st int
		st, body = result(t, cu1, kv, set.ID)
		return st == http.StatusOK
	})
	if replyData(body) != "set a" {
		t.Fatalf("Set result on cu1: %s", body)
	}
	if got := dryrun(t, cu1, kv, bundler.Tag{Name: "Action", Value: "Get"}, bundler.Tag{Name: "Key", Value: "a"}); got != "1" {
		t.Fatalf("dry-run Get on cu1: %q", got)
	}

	// Across SUs: a pinger on SU 1 pings a ponger on SU 2; the pong comes back, from the ponger.
	ponger := cl.spawn(su2, pingCode)
	pinger := cl.spawn(su1, pingCode)
	cl.send("hello", pinger, bundler.Tag{Name: "Action", Value: "Go"}, bundler.Tag{Name: "Peer", Value: ponger})
	nodetest.Eventually(t, "the pong from the process on the other SU", func() bool {
		return dryrun(t, cu2, pinger, bundler.Tag{Name: "Action", Value: "Pongs"}) == "hello from "+ponger
	})

	// A stream of Sets; cu1 reads along and is killed halfway; cu2, which never evaluated the kv store,
	// carries on from the snapshots in the shared Redis.
	const n = 40
	ids := make([]string, n)
	for i := range n {
		it := cl.send(strconv.Itoa(i), kv, bundler.Tag{Name: "Action", Value: "Set"}, bundler.Tag{Name: "Key", Value: "k" + strconv.Itoa(i)})
		ids[i] = it.ID
		if i < n/2 {
			if st, b := result(t, cu1, kv, it.ID); st != http.StatusOK || replyData(b) != "set k"+strconv.Itoa(i) {
				t.Fatalf("cu1, message %d: %d %s", i, st, b)
			}
		}
		if i == n/2 {
			cu1.kill()
		}
	}
	evaluatedBefore := metric(t, cu2, "aonode_cu_evaluations_total")
	if got := dryrun(t, cu2, kv, bundler.Tag{Name: "Action", Value: "Get"}, bundler.Tag{Name: "Key", Value: fmt.Sprintf("k%d", n-1)}); got != strconv.Itoa(n-1) {
		t.Fatalf("dry-run on cu2 after cu1 died: %q", got)
	}
	for i, id := range ids {
		if st, b := result(t, cu2, kv, id); st != http.StatusOK || replyData(b) != "set k"+strconv.Itoa(i) {
			t.Fatalf("cu2, message %d: %d %s", i, st, b)
		}
	}
	if r := metric(t, cu2, "aonode_cu_snapshot_restores_total"); r < 1 {
		t.Fatalf("cu2 did not start the kv store from a shared snapshot (restores %d)", r)
	}
	if ev := metric(t, cu2, "aonode_cu_evaluations_total") - evaluatedBefore; ev >= n {
		t.Fatalf("cu2 evaluated %d messages: it replayed instead of starting from the shared snapshot", ev)
	}

	// cu1 comes back and agrees; then every CU's own evaluations are compared entry by entry.
	cu1.start()
	for i, id := range ids {
		if st, b := result(t, cu1, kv, id); st != http.StatusOK || replyData(b) != "set k"+strconv.Itoa(i) {
			t.Fatalf("cu1 after restart, message %d: %d %s", i, st, b)
		}
	}
	if got := dryrun(t, cu1, kv, bundler.Tag{Name: "Action", Value: "Get"}, bundler.Tag{Name: "Key", Value: "k0"}); got != "0" {
		t.Fatalf("dry-run on cu1 after restart: %q", got)
	}
	for _, p := range []*proc{cu1, cu2, su1} {
		p.stop()
	}
	stored := func(p *proc) map[int64][]byte {
		db, err := store.Open(filepath.Join(p.cfg.DataDir, "aonode.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		out := map[int64][]byte{}
		for nonce := int64(0); nonce <= n+3; nonce++ {
			if raw, err := db.Result(context.Background(), kv, nonce); err == nil {
				out[nonce] = raw
			}
		}
		return out
	}
	ref := stored(su1)
	if len(ref) < n {
		t.Fatalf("SU 1's node evaluated %d of the kv store's messages", len(ref))
	}
	compared := 0
	for _, p := range []*proc{cu1, cu2} {
		for nonce, raw := range stored(p) {
			if !bytes.Equal(raw, ref[nonce]) {
				t.Fatalf("%s's result at nonce %d differs from SU 1's node:\n%s\n%s", p.name, nonce, raw, ref[nonce])
			}
			compared++
		}
	}
	if compared == 0 {
		t.Fatal("the CU-only nodes evaluated nothing themselves")
	}
	t.Logf("results compared across nodes: %d", compared)
}
