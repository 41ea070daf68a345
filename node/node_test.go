package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aonode/aonode/bundler"
	"github.com/aonode/aonode/internal/nodetest"
	"github.com/aonode/aonode/node/config"
)

// testLogSink, when set, receives every node's debug logs (tests that inspect logs set it).
var testLogSink io.Writer

type testNode struct {
	*Node
	t    testing.TB
	info *Info
	cfg  config.Config
	user bundler.Signer
}

func startNode(t testing.TB, dataDir string) *testNode {
	t.Helper()
	return startNodeWith(t, dataDir, nil)
}

// startNodeWith starts a node on free ports; edit adjusts the config first.
func startNodeWith(t testing.TB, dataDir string, edit func(*config.Config)) *testNode {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testLogSink != nil {
		log = slog.New(slog.NewTextHandler(testLogSink, &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	var (
		cfg  config.Config
		n    *Node
		info *Info
	)
	// A free port can be taken by someone else between freeAddr and the node's listen (tests run in
	// parallel packages): try again with new ports.
	for attempt := 0; ; attempt++ {
		cfg = config.Default()
		cfg.DataDir = dataDir
		cfg.MU.Listen, cfg.SU.Listen, cfg.CU.Listen, cfg.Gateway.Listen = nodetest.FreeAddr(t), nodetest.FreeAddr(t), nodetest.FreeAddr(t), nodetest.FreeAddr(t)
		cfg.Admin.Listen, cfg.Explorer.Listen = nodetest.FreeAddr(t), nodetest.FreeAddr(t)
		cfg.SU.PublicURL = "http://" + cfg.SU.Listen
		cfg.MU.MonitorInterval = 200 * time.Millisecond
		if edit != nil {
			edit(&cfg)
		}
		var err error
		n, err = Open(context.Background(), cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		info, err = n.Start(context.Background())
		if err == nil {
			break
		}
		n.Close()
		if attempt < 3 && strings.Contains(err.Error(), "address already in use") {
			continue
		}
		t.Fatal(err)
	}
	uw, _, err := bundler.LoadOrCreateWallet(filepath.Join(dataDir, "user.json"))
	if err != nil {
		t.Fatal(err)
	}
	return &testNode{Node: n, t: t, info: info, cfg: cfg, user: uw}
}

func (n *testNode) url(unit string) string {
	switch unit {
	case "mu":
		return "http://" + n.cfg.MU.Listen
	case "cu":
		return "http://" + n.cfg.CU.Listen
	case "su":
		return "http://" + n.cfg.SU.Listen
	case "admin":
		return "http://" + n.cfg.Admin.Listen
	case "explorer":
		return "http://" + n.cfg.Explorer.Listen
	}
	return "http://" + n.cfg.Gateway.Listen
}

func (n *testNode) post(data, target string, tags ...bundler.Tag) (*bundler.Item, int, map[string]any) {
	n.t.Helper()
	typ := "Message"
	if target == "" {
		typ = "Process"
		tags = append(tags, bundler.Tag{Name: "Module", Value: n.info.Module}, bundler.Tag{Name: "Scheduler", Value: n.info.Scheduler})
	}
	tags = append(tags, bundler.Tag{Name: "Data-Protocol", Value: "ao"}, bundler.Tag{Name: "Variant", Value: "ao.TN.1"}, bundler.Tag{Name: "Type", Value: typ})
	it, err := n.user.Sign([]byte(data), target, "", tags)
	if err != nil {
		n.t.Fatal(err)
	}
	status, body := n.do("POST", n.url("mu"), it.Raw)
	return it, status, body
}

func (n *testNode) do(method, url string, body []byte) (int, map[string]any) {
	n.t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		n.t.Fatalf("%s %s: %d non-JSON body %q", method, url, res.StatusCode, raw)
	}
	return res.StatusCode, out
}

func (n *testNode) result(pid, id string) map[string]any {
	n.t.Helper()
	_, out := n.do("GET", fmt.Sprintf("%s/result/%s?process-id=%s", n.url("cu"), id, pid), nil)
	return out
}

func (n *testNode) dryrun(pid string, tags ...bundler.Tag) map[string]any {
	n.t.Helper()
	body, _ := json.Marshal(map[string]any{"Owner": "reader", "Tags": tags})
	req, _ := http.NewRequest("POST", n.url("cu")+"/dry-run?process-id="+pid, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return out
}

func tg(name, value string) bundler.Tag { return bundler.Tag{Name: name, Value: value} }

func messages(r map[string]any) []map[string]any {
	var out []map[string]any
	ms, _ := r["Messages"].([]any)
	for _, m := range ms {
		out = append(out, m.(map[string]any))
	}
	return out
}

func tagOf(m map[string]any, name string) string {
	tags, _ := m["Tags"].([]any)
	for _, t := range tags {
		tm := t.(map[string]any)
		if tm["name"] == name {
			return tm["value"].(string)
		}
	}
	return ""
}

// TestSpawnFromProcess drives the MU crank: a process spawns a child with ao.spawn, the MU signs and
// schedules the child, boots it, tells the parent, and the child answers the parent.
func TestSpawnFromProcess(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	parent, status, _ := n.post("", "", tg("Name", "parent"))
	if status != http.StatusAccepted {
		t.Fatalf("spawn: %d", status)
	}
	code := `Children = Children or {}
Handlers.add("spawned", Handlers.utils.hasMatchingTag("Action", "Spawned"), function (msg)
  table.insert(Children, msg.Process)
  Send({ Target = msg.Process, Action = "Eval", Data = 'Handlers.add("hi", Handlers.utils.hasMatchingTag("Action", "Hi"), function (m) m.reply({ Data = "hello from child" }) end)' })
  Send({ Target = msg.Process, Action = "Hi" })
end)
Handlers.add("got", Handlers.utils.hasMatchingData("hello from child"), function (msg) Reply = msg.Data end)
Handlers.add("status", Handlers.utils.hasMatchingTag("Action", "Status"), function (msg) msg.reply({ Data = tostring(#Children) .. ":" .. tostring(Reply) }) end)
ao.spawn(ao.env.Module.Id, { Name = "child" })`
	ev, status, _ := n.post(code, parent.ID, tg("Action", "Eval"))
	if status != http.StatusAccepted {
		t.Fatalf("eval: %d", status)
	}
	if r := n.result(parent.ID, ev.ID); r["Error"] != nil {
		t.Fatalf("eval error: %v", r["Error"])
	} else if sp, _ := r["Spawns"].([]any); len(sp) != 1 {
		t.Fatalf("want one spawn, got %v", r["Spawns"])
	}
	nodetest.Eventually(t, "child to answer the parent", func() bool {
		ms := messages(n.dryrun(parent.ID, tg("Action", "Status")))
		return len(ms) == 1 && ms[0]["Data"] == "1:hello from child"
	})
	// The MU took results as the CU evaluated them (node/cu/handoff.go), and /metrics says how many.
	_, metrics := nodetest.Get(t, n.url("admin")+"/metrics")
	if m := regexp.MustCompile(`aonode_cu_results_handed_off_total (\d+)`).FindStringSubmatch(string(metrics)); m == nil || m[1] == "0" {
		t.Fatalf("no result handed to the MU: %v", m)
	}
}

func TestRejectsAndRestart(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir)
	p, _, _ := n.post("", "")
	// Bad bodies never reach the scheduler.
	for name, body := range map[string][]byte{"empty": nil, "garbage": []byte("nope"), "truncated": p.Raw[:600]} {
		status, out := n.do("POST", n.url("mu"), body)
		if status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["error"]), "data item") {
			t.Fatalf("%s: %d %v", name, status, out)
		}
	}
	big := make([]byte, n.cfg.MaxItemSize+1)
	if status, _ := n.do("POST", n.url("mu"), big); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", status)
	}
	ev, _, _ := n.post("Counter = (Counter or 0) + 1", p.ID, tg("Action", "Eval"))
	want := n.result(p.ID, ev.ID)
	_, status, out := n.post("x", bundler.B64(make([]byte, 32)), tg("Action", "Eval"))
	if status != http.StatusBadRequest {
		t.Fatalf("message to an unknown process: %d %v", status, out)
	}
	// SU pages list spawn + eval only.
	_, page := n.do("GET", n.url("su")+"/"+p.ID+"?process-id="+p.ID, nil)
	if edges := page["edges"].([]any); len(edges) != 2 {
		t.Fatalf("SU page has %d edges", len(edges))
	}
	module := n.info.Module
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n2 := startNode(t, dir)
	defer n2.Close()
	if n2.info.Module != module {
		t.Fatalf("module republished: %s != %s", n2.info.Module, module)
	}
	got := n2.result(p.ID, ev.ID)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("result changed across restart:\n%v\n%v", got, want)
	}
	ev2, _, _ := n2.post("Counter = Counter + 1; print(Counter)", p.ID, tg("Action", "Eval"))
	r := n2.result(p.ID, ev2.ID)
	if !strings.Contains(fmt.Sprint(r["Output"]), "2") {
		t.Fatalf("state was not rebuilt: %v", r["Output"])
	}
	counts, _ := n2.DB.UploadCounts(context.Background())
	if counts["pending"]+counts["posted"] == 0 {
		t.Fatalf("nothing queued for upload: %v", counts)
	}
}

// A runaway handler ends with an Error after the configured compute limit; the process and the node go on.
func TestComputeLimitFromConfig(t *testing.T) {
	n := startNodeWith(t, t.TempDir(), func(c *config.Config) { c.CU.ComputeLimit = 5_000_000 })
	defer n.Close()
	p, _, _ := n.post("", "")
	set, _, _ := n.post("X = 1", p.ID, tg("Action", "Eval"))
	if r := n.result(p.ID, set.ID); r["Error"] != nil {
		t.Fatalf("eval: %v", r["Error"])
	}
	loop, _, _ := n.post("while true do X = X + 1 end", p.ID, tg("Action", "Eval"))
	if r := n.result(p.ID, loop.ID); !strings.Contains(fmt.Sprint(r["Error"]), "compute limit exceeded") {
		t.Fatalf("runaway handler: %v", r["Error"])
	}
	after, _, _ := n.post("print(type(X))", p.ID, tg("Action", "Eval"))
	if r := n.result(p.ID, after.ID); r["Error"] != nil || !strings.Contains(fmt.Sprint(r["Output"]), "number") {
		t.Fatalf("after the limit: %v %v", r["Error"], r["Output"])
	}
}
