// Package cluster runs aonode split into its units, as real processes, the way a deployment that outgrew one
// machine runs it: two SU nodes, two CU-only nodes sharing one Redis, one MU-only node, all on one arlocal,
// each started from its ready config under configs/cluster. Clients use only the MU and the CUs.
package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/internal/arlocaltest"
	"github.com/aonode/aonode/node/config"
	"github.com/aonode/aonode/node/store"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// needRedis skips without a Redis on 127.0.0.1:6379 (fails when AONODE_REQUIRE_REDIS=1).
func needRedis(t *testing.T) {
	c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second)
	if err != nil {
		if os.Getenv("AONODE_REQUIRE_REDIS") == "1" {
			t.Fatalf("no Redis on 127.0.0.1:6379: %v", err)
		}
		t.Skip("no Redis on 127.0.0.1:6379")
	}
	c.Close()
}

type proc struct {
	t      *testing.T
	name   string
	bin    string
	cfg    config.Config
	cfgDir string
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	info   struct {
		Module    string `json:"module"`
		Scheduler string `json:"scheduler"`
	}
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
	infoFile := filepath.Join(p.cfg.DataDir, "node-info.json")
	os.Remove(infoFile)
	p.logs = &bytes.Buffer{}
	p.cmd = exec.Command(p.bin, "-config", file, "-log-level", "warn")
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(infoFile); err == nil && json.Unmarshal(b, &p.info) == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stop()
	p.t.Fatalf("%s did not start:\n%s", p.name, p.logs.String())
}

func (p *proc) kill() {
	if p.cmd != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		p.cmd = nil
	}
}

func (p *proc) stop() {
	if p.cmd != nil {
		p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			p.cmd.Process.Kill()
			<-done
		}
		p.cmd = nil
		if p.t.Failed() {
			p.t.Logf("%s logs:\n%s", p.name, p.logs.String())
		}
	}
}

func (p *proc) url(addr string) string { return "http://" + addr }

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func postRaw(t *testing.T, url string, raw []byte, ctype string) (int, []byte) {
	t.Helper()
	res, err := http.Post(url, ctype, bytes.NewReader(raw))
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if fn() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

type client struct {
	t    *testing.T
	user *bundler.Wallet
	mu   string
}

// send signs and posts an item to the MU-only node (retrying while the gateway has not indexed its target's
// spawn yet: the MU answers 400 for a target it cannot locate).
func (c *client) send(data, target string, tags ...bundler.Tag) *bundler.Item {
	c.t.Helper()
	typ := "Message"
	if target == "" {
		typ = "Process"
	}
	tags = append(tags, bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Variant", Value: "ao.TN.1"}, bundler.Tag{Name: "Type", Value: typ})
	it, err := c.user.Sign([]byte(data), target, "", tags)
	if err != nil {
		c.t.Fatal(err)
	}
	eventually(c.t, "the MU-only node takes "+it.ID, func() bool {
		st, _ := postRaw(c.t, c.mu, it.Raw, "application/octet-stream")
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
	return get(t, fmt.Sprintf("%s/result/%s?process-id=%s", cu.url(cu.cfg.CU.Listen), id, pid))
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
	st, b := postRaw(t, fmt.Sprintf("%s/dry-run?process-id=%s", cu.url(cu.cfg.CU.Listen), pid), body, "application/json")
	if st != http.StatusOK {
		return fmt.Sprintf("dry-run: %d %s", st, b)
	}
	return replyData(b)
}

func metric(t *testing.T, p *proc, name string) int64 {
	_, b := get(t, p.url(p.cfg.Admin.Listen)+"/metrics")
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
	needRedis(t)
	arl := arlocaltest.Start(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "aonode")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/aonode/aonode/cmd/aonode").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
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
			c.Admin.Listen = freeAddr(t)
			c.Explorer.Listen = ""
			c.CU.RedisPrefix = prefix
			c.CU.SnapshotMessages, c.CU.SnapshotCostRatio = 5, 0
			c.Upload.MaxAge = 200 * time.Millisecond
		}
	}
	suNode := func(name string) *proc {
		return node(t, bin, "su", name, func(c *config.Config) {
			common(name)(c)
			c.SU.Listen = freeAddr(t)
			c.SU.PublicURL = "http://" + c.SU.Listen
		})
	}
	cuNode := func(name string) *proc {
		return node(t, bin, "cu", name, func(c *config.Config) {
			common(name)(c)
			c.CU.Listen = freeAddr(t)
		})
	}
	su1, su2 := suNode("su1"), suNode("su2")
	cu1, cu2 := cuNode("cu1"), cuNode("cu2")
	mu := node(t, bin, "mu", "mu", func(c *config.Config) {
		common("mu")(c)
		c.MU.Listen = freeAddr(t)
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
	eventually(t, "cu1 answers for the kv store", func() bool {
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
	eventually(t, "the pong from the process on the other SU", func() bool {
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
