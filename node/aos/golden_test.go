package aos

// The golden differential suite: the scenarios in testdata/golden/*.yaml were run through the real AOS
// process (aos 2.0.0 process.wasm, by scripts/golden/generate.mjs), and what it answered for each message is
// in testdata/golden/*.golden.json. This test feeds the same messages to this runtime and compares every
// result (one case per message) on Messages, Spawns, Assignments, Output and Error, after the normalisations
// listed in testdata/golden/README.md.
//
// It reports two counts, strict and error-text-insensitive, over all cases and over the counted ones (not
// marked version or float_only), and fails when a case listed in testdata/golden/baseline.txt (the cases
// that matched strictly when it was written) no longer matches. Flags:
//
//	-golden.update        rewrite baseline.txt with the cases that match now
//	-golden.report FILE   write a markdown report of every differing case (also env AONODE_GOLDEN_REPORT)

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"gopkg.in/yaml.v3"
)

var (
	goldenUpdate = flag.Bool("golden.update", false, "rewrite testdata/golden/baseline.txt with the cases that match strictly now")
	goldenReport = flag.String("golden.report", "", "write a markdown report of the differing golden cases to this file")
)

const goldenDir = "testdata/golden"

// gsProcess is a scenario's process: the spawn message and ao.env.
type gsProcess struct {
	ID          string  `yaml:"id"`
	Owner       string  `yaml:"owner"`
	From        string  `yaml:"from"`
	ForwardedBy string  `yaml:"forwarded-by"`
	Module      string  `yaml:"module"`
	Scheduler   *string `yaml:"scheduler"`
	Tags        cfTags  `yaml:"tags"`
	Data        string  `yaml:"data"`
	Case        bool    `yaml:"case"` // the spawn's result is a case too
	Version     string  `yaml:"version"`
	FloatOnly   string  `yaml:"float_only"`
}

// gsMessage is one message after the spawn; every one is a case.
type gsMessage struct {
	Name        string  `yaml:"name"`
	ID          string  `yaml:"id"`
	From        string  `yaml:"from"`
	Owner       string  `yaml:"owner"`
	Target      string  `yaml:"target"`
	Anchor      string  `yaml:"anchor"`
	Action      string  `yaml:"action"`
	Eval        *string `yaml:"eval"`
	Data        string  `yaml:"data"`
	Repeat      int     `yaml:"repeat"` // Data is Data repeated this many times (large inputs)
	Tags        cfTags  `yaml:"tags"`
	Timestamp   *int64  `yaml:"timestamp"`
	BlockHeight *int64  `yaml:"block-height"`
	Nonce       *int64  `yaml:"nonce"`
	Epoch       *int64  `yaml:"epoch"`
	Cron        bool    `yaml:"cron"`
	ForwardedBy string  `yaml:"forwarded-by"`
	HashChain   string  `yaml:"hash-chain"`
	Version     string  `yaml:"version"`
	FloatOnly   string  `yaml:"float_only"`
}

type gsScenario struct {
	Name     string      `yaml:"name"`
	Process  gsProcess   `yaml:"process"`
	Messages []gsMessage `yaml:"messages"`
}

// The golden file, as generate.mjs writes it.
type goldenFile struct {
	Loader     string           `json:"loader"`
	WasmSHA256 string           `json:"wasm_sha256"`
	Scenarios  []goldenScenario `json:"scenarios"`
}

type goldenScenario struct {
	Name  string          `json:"name"`
	Env   json.RawMessage `json:"env"`
	Cases []goldenCase    `json:"cases"`
}

type goldenCase struct {
	N      int             `json:"n"`
	Input  json.RawMessage `json:"input"`
	Result json.RawMessage `json:"result"`
}

// gsBuilt is a scenario in this runtime's terms: the env and the messages, the spawn first.
type gsBuilt struct {
	env  Env
	msgs []Message
}

// gWithoutIdentityTags drops From and Owner tags, as the reference CU does (they come from the signature).
func gWithoutIdentityTags(ts []Tag) []Tag {
	out := make([]Tag, 0, len(ts))
	for _, t := range ts {
		if t.Name != "From" && t.Name != "Owner" {
			out = append(out, t)
		}
	}
	return out
}

// build makes the env and messages exactly as generate.mjs does (see testdata/golden/README.md).
func (sc *gsScenario) build() gsBuilt {
	p := sc.Process
	pid, owner, module := or(p.ID, cfProcessID), or(p.Owner, cfOwner), or(p.Module, cfModule)
	ptags := []Tag{{"Data-Protocol", "ao"}, {"Variant", "ao.TN.1"}, {"Type", "Process"}, {"Module", module}}
	sched := cfScheduler
	if p.Scheduler != nil {
		sched = *p.Scheduler
	}
	if sched != "" {
		ptags = append(ptags, Tag{"Scheduler", sched})
	}
	ptags = append(ptags, p.Tags...)
	b := gsBuilt{env: Env{
		Process: ProcessInfo{Id: pid, Owner: owner, Tags: ptags},
		Module:  ModuleInfo{Id: module, Owner: owner, Tags: []Tag{{"Data-Protocol", "ao"}, {"Type", "Module"}}},
	}}
	b.msgs = append(b.msgs, Message{
		Id: pid, Owner: owner, From: or(p.From, owner), Target: pid, Tags: gWithoutIdentityTags(ptags), Data: p.Data,
		ForwardedBy: p.ForwardedBy, Timestamp: cfBaseTime, BlockHeight: 1000, HashChain: "HASH_CHAIN_0",
	})
	for i, m := range sc.Messages {
		n := int64(i + 1)
		from := or(m.From, owner)
		var tags []Tag
		data := m.Data
		if m.Repeat > 0 {
			data = strings.Repeat(m.Data, m.Repeat)
		}
		if m.Eval != nil {
			tags = append(tags, Tag{"Action", "Eval"})
			data = *m.Eval
		} else if m.Action != "" {
			tags = append(tags, Tag{"Action", m.Action})
		}
		tags = gWithoutIdentityTags(append(tags, m.Tags...))
		msg := Message{
			Id: or(m.ID, fmt.Sprintf("MSG_%d", n)), Owner: or(m.Owner, from), From: from, Target: or(m.Target, pid),
			Anchor: m.Anchor, Tags: tags, Data: data, ForwardedBy: m.ForwardedBy, Nonce: n,
			Timestamp: cfBaseTime + 1000*n, BlockHeight: 1000 + n, HashChain: or(m.HashChain, fmt.Sprintf("HASH_CHAIN_%d", n)),
			Cron: m.Cron,
		}
		for _, f := range []struct {
			v   *int64
			dst *int64
		}{{m.Epoch, &msg.Epoch}, {m.Nonce, &msg.Nonce}, {m.Timestamp, &msg.Timestamp}, {m.BlockHeight, &msg.BlockHeight}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		b.msgs = append(b.msgs, msg)
	}
	return b
}

// gWasmInput is the message in the form the generator gave the wasm (and recorded in the golden file).
func gWasmInput(m Message) map[string]any {
	out := map[string]any{
		"Tags": m.Tags, "Data": m.Data, "Epoch": m.Epoch, "Nonce": m.Nonce, "Timestamp": m.Timestamp,
		"Block-Height": m.BlockHeight, "Cron": m.Cron,
	}
	if m.Tags == nil {
		out["Tags"] = []Tag{}
	}
	for k, v := range map[string]string{"Id": m.Id, "Owner": m.Owner, "From": m.From, "Target": m.Target,
		"Anchor": m.Anchor, "Forwarded-By": m.ForwardedBy, "Hash-Chain": m.HashChain} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// gCanonical re-encodes JSON with sorted keys, keeping numbers as written.
func gCanonical(raw []byte) (string, error) {
	v, err := gDecodeJSON(raw)
	if err != nil {
		return "", err
	}
	out, err := json.Marshal(v)
	return string(out), err
}

func gDecodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

func gMustCanonical(t *testing.T, what string, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	s, err := gCanonical(raw)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return s
}

// gsCase is one compared message.
type gsCase struct {
	ID        string // file/scenario/n
	Label     string // the message's name in the scenario, "spawn" for the spawn
	Version   string
	FloatOnly string
	Input     Message
	Want      json.RawMessage // the wasm's result
	Got       Result
	// spawnInInbox: this runtime's Inbox still starts with the spawn message (aos 2.0.4 keeps it there,
	// aos 2.0.0 does not), so its prompt's Inbox count is one more than the wasm's for the same messages.
	spawnInInbox bool

	gsOutcome
}

func (c *gsCase) counted() bool { return c.Version == "" && c.FloatOnly == "" }

func loadScenarios(t *testing.T, path string) []gsScenario {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var scs []gsScenario
	if err := dec.Decode(&scs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return scs
}

func loadGolden(t *testing.T, path string) goldenFile {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it: see scripts/golden/README.md)", err)
	}
	var g goldenFile
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return g
}

// runGolden runs every scenario through this runtime and returns its cases, in file and message order.
func runGolden(t *testing.T) []*gsCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden scenarios in %s: %v", goldenDir, err)
	}
	sort.Strings(files)
	goldens, _ := filepath.Glob(filepath.Join(goldenDir, "*.golden.json"))
	if len(goldens) != len(files) {
		t.Fatalf("%d scenario files but %d golden files in %s: regenerate (scripts/golden/README.md)", len(files), len(goldens), goldenDir)
	}
	var cases []*gsCase
	for _, file := range files {
		base := strings.TrimSuffix(filepath.Base(file), ".yaml")
		scs := loadScenarios(t, file)
		g := loadGolden(t, filepath.Join(goldenDir, base+".golden.json"))
		if len(g.Scenarios) != len(scs) {
			t.Fatalf("%s: %d scenarios, its golden file has %d: regenerate", file, len(scs), len(g.Scenarios))
		}
		for i := range scs {
			cases = append(cases, runScenario(t, base, &scs[i], &g.Scenarios[i])...)
		}
	}
	return cases
}

func runScenario(t *testing.T, file string, sc *gsScenario, g *goldenScenario) []*gsCase {
	t.Helper()
	where := file + "/" + sc.Name
	if sc.Name == "" || g.Name != sc.Name {
		t.Fatalf("%s: scenario %q, golden has %q: regenerate", file, sc.Name, g.Name)
	}
	b := sc.build()
	if got, want := gMustCanonical(t, where+" env", b.env), gMustCanonicalRaw(t, where, g.Env); got != want {
		t.Fatalf("%s: the env differs from the golden one (scenario changed? regenerate):\n  built  %s\n  golden %s", where, got, want)
	}
	if len(g.Cases) != len(b.msgs) {
		t.Fatalf("%s: %d messages, golden has %d: regenerate", where, len(b.msgs), len(g.Cases))
	}
	p, err := New(b.env, Options{})
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	defer func() { p.Close() }()
	var kept []Message // the messages whose state p holds
	var out []*gsCase
	for n, m := range b.msgs {
		gc := g.Cases[n]
		if got, want := gMustCanonical(t, where+" input", gWasmInput(m)), gMustCanonicalRaw(t, where, gc.Input); gc.N != n || got != want {
			t.Fatalf("%s/%d: the message differs from the golden input (scenario changed? regenerate):\n  built  %s\n  golden %s", where, n, got, want)
		}
		r := p.Handle(m)
		c := &gsCase{ID: fmt.Sprintf("%s/%d", where, n), Input: m, Want: gc.Result, Got: r,
			spawnInInbox: spawnInInbox(p, b.env.Process.Id)}
		if r.Error != "" {
			// A failed message leaves no state, as aonode's CU (node/cu/revert.go) and the reference CU
			// handle it: the process is rebuilt from the messages that did not fail.
			p.Close()
			if p, err = New(b.env, Options{}); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			for _, km := range kept {
				p.Handle(km)
			}
		} else {
			kept = append(kept, m)
		}
		if n == 0 {
			if !sc.Process.Case {
				continue
			}
			c.Label, c.Version, c.FloatOnly = "spawn", sc.Process.Version, sc.Process.FloatOnly
		} else {
			sm := sc.Messages[n-1]
			c.Label, c.Version, c.FloatOnly = sm.Name, sm.Version, sm.FloatOnly
		}
		out = append(out, c)
	}
	return out
}

// spawnInInbox reports whether Inbox[1] is the process's spawn message (read only: nothing is changed).
func spawnInInbox(p *Process, pid string) bool {
	inbox, ok := p.L.G.Global.RawGetString("Inbox").(*lua.LTable)
	if !ok {
		return false
	}
	first, ok := inbox.RawGetInt(1).(*lua.LTable)
	return ok && first.RawGetString("Id") == lua.LString(pid)
}

func gMustCanonicalRaw(t *testing.T, where string, raw json.RawMessage) string {
	t.Helper()
	s, err := gCanonical(raw)
	if err != nil {
		t.Fatalf("%s: golden JSON: %v", where, err)
	}
	return s
}

func readBaseline(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(goldenDir, "baseline.txt"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			ids = append(ids, line)
		}
	}
	return ids
}

func writeBaseline(t *testing.T, ids []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# Golden cases that match aos 2.0.0 strictly (see README.md). Written by\n")
	b.WriteString("# go test ./node/aos -run TestGolden -golden.update; a case listed here must keep matching.\n")
	for _, id := range ids {
		b.WriteString(id + "\n")
	}
	if err := os.WriteFile(filepath.Join(goldenDir, "baseline.txt"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGolden(t *testing.T) {
	cases := runGolden(t)
	seen := map[string]bool{}
	var strict []string
	var st goldenStats
	for _, c := range cases {
		if seen[c.ID] {
			t.Fatalf("case %s repeated", c.ID)
		}
		seen[c.ID] = true
		c.compare()
		st.add(c)
		if c.strict {
			strict = append(strict, c.ID)
			if !c.counted() {
				t.Errorf("%s is marked (version %q, float_only %q) but matches aos 2.0.0: remove the mark", c.ID, c.Version, c.FloatOnly)
			}
		}
	}
	sort.Strings(strict)
	t.Log(st.summary())

	if path := reportPath(); path != "" {
		if err := os.WriteFile(path, []byte(goldenMarkdown(cases, st)), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("report written to %s", path)
	}
	if *goldenUpdate {
		writeBaseline(t, strict)
		t.Logf("baseline rewritten: %d cases", len(strict))
		return
	}
	byID := map[string]*gsCase{}
	for _, c := range cases {
		byID[c.ID] = c
	}
	baseline := readBaseline(t)
	inBaseline := map[string]bool{}
	for _, id := range baseline {
		inBaseline[id] = true
		c, ok := byID[id]
		switch {
		case !ok:
			t.Errorf("%s: in baseline.txt but no such case (renamed or removed? run with -golden.update)", id)
		case !c.strict:
			t.Errorf("%s: matched aos 2.0.0 in the baseline, no longer does:\n%s", id, c.describe())
		}
	}
	var newly []string
	for _, id := range strict {
		if !inBaseline[id] {
			newly = append(newly, id)
		}
	}
	if len(newly) > 0 {
		shown := newly
		if len(shown) > 10 {
			shown = append(shown[:10:10], "...")
		}
		t.Logf("%d cases match now that are not in baseline.txt (record them with -golden.update): %s", len(newly), strings.Join(shown, " "))
	}
}

func reportPath() string {
	if *goldenReport != "" {
		return *goldenReport
	}
	return os.Getenv("AONODE_GOLDEN_REPORT")
}
